//! A table's primary key: taking it from a `Key` parameter or from a whole item with
//! DynamoDB's exact errors (schema match, types, empty values, the 2048/1024-byte limits),
//! checking secondary-index key attributes on writes, and building the storage key
//! `table id ‖ hash prefix ‖ enc(pk) ‖ enc(sk)` (layout in `engine/FORMAT.md`).

use crate::catalog::{ScalarType, TableDef};
use crate::model::keycodec::{encode_key_value, hash_prefix};
use crate::model::{AttributeValue, Item};
use crate::wire::{ApiError, ApiResult};

/// Largest partition key value, in bytes (S: UTF-8, B: raw; N is never length-checked).
pub const MAX_HASH_KEY_BYTES: usize = 2048;
/// Largest sort key value, in bytes.
pub const MAX_RANGE_KEY_BYTES: usize = 1024;

const SCHEMA_MISMATCH: &str = "The provided key element does not match the schema";

/// The error DynamoDB gives when a `Key` does not match the table's key schema.
pub fn schema_mismatch() -> ApiError {
    ApiError::validation(SCHEMA_MISMATCH)
}

/// A validated primary key: its attributes and the bytes it is stored under.
#[derive(Debug, Clone, PartialEq)]
pub struct PrimaryKey {
    /// The key attributes only (name → value), as they appear in an item.
    pub attrs: Item,
    /// `table id (8 BE) ‖ hash_prefix(enc(pk)) (8 BE) ‖ enc(pk) ‖ enc(sk)`.
    pub storage: Vec<u8>,
}

fn matches_type(kind: ScalarType, v: &AttributeValue) -> bool {
    matches!(
        (kind, v),
        (ScalarType::S, AttributeValue::S(_))
            | (ScalarType::N, AttributeValue::N(_))
            | (ScalarType::B, AttributeValue::B(_))
    )
}

/// The declared type of a key attribute (an attribute definition always exists for one;
/// S is only a fallback for a corrupt catalog entry).
fn declared(def: &TableDef, name: &str) -> ScalarType {
    def.attribute_type(name).unwrap_or(ScalarType::S)
}

/// "… cannot contain an empty string value. Key: X" for empty S/B key values.
fn check_not_empty(name: &str, v: &AttributeValue) -> ApiResult<()> {
    let kind = match v {
        AttributeValue::S(s) if s.is_empty() => "string",
        AttributeValue::B(b) if b.is_empty() => "binary",
        _ => return Ok(()),
    };
    Err(ApiError::validation(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
    )))
}

fn check_size(v: &AttributeValue, is_hash: bool) -> ApiResult<()> {
    let len = match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        _ => return Ok(()),
    };
    if is_hash && len > MAX_HASH_KEY_BYTES {
        // (sic) DynamoDB prints no space before the number.
        return Err(ApiError::invalid_parameter(format!(
            "Size of hashkey has exceeded the maximum size limit of{MAX_HASH_KEY_BYTES} bytes"
        )));
    }
    if !is_hash && len > MAX_RANGE_KEY_BYTES {
        return Err(ApiError::invalid_parameter(format!(
            "Aggregated size of all range keys has exceeded the size limit of {MAX_RANGE_KEY_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The key named by a `Key` parameter (GetItem, UpdateItem, DeleteItem, ...): exactly the
/// key attributes with their declared types, else "The provided key element does not
/// match the schema"; then empty values and sizes.
pub fn key_from_param(def: &TableDef, key: &Item) -> ApiResult<PrimaryKey> {
    let names: Vec<&str> = def.keys.names().collect();
    if key.len() != names.len() {
        return Err(schema_mismatch());
    }
    for name in &names {
        match key.get(*name) {
            Some(v) if matches_type(declared(def, name), v) => {}
            _ => return Err(schema_mismatch()),
        }
    }
    finish(def, key)
}

/// The key of an item being written (PutItem): every key attribute present ("Missing the
/// key X in the item") with its declared type ("Type mismatch for key X expected: S
/// actual: N"), then empty values and sizes. Index key attributes are checked too.
pub fn key_from_item(def: &TableDef, item: &Item) -> ApiResult<PrimaryKey> {
    for name in def.keys.names() {
        let Some(v) = item.get(name) else {
            return Err(ApiError::invalid_parameter(format!(
                "Missing the key {name} in the item"
            )));
        };
        let kind = declared(def, name);
        if !matches_type(kind, v) {
            return Err(ApiError::invalid_parameter(format!(
                "Type mismatch for key {name} expected: {} actual: {}",
                kind.as_str(),
                v.type_name()
            )));
        }
    }
    let key = finish(def, item)?;
    check_index_keys(def, item, IndexContext::Item)?;
    Ok(key)
}

/// Empty-value and size checks in key-schema order, then the storage key.
fn finish(def: &TableDef, source: &Item) -> ApiResult<PrimaryKey> {
    let mut attrs = Item::new();
    for (i, name) in def.keys.names().enumerate() {
        let Some(v) = source.get(name) else {
            return Err(schema_mismatch());
        };
        check_not_empty(name, v)?;
        check_size(v, i == 0)?;
        attrs.insert(name.to_string(), v.clone());
    }
    let storage = storage_key_of(def, &attrs).ok_or_else(schema_mismatch)?;
    Ok(PrimaryKey { attrs, storage })
}

/// The storage key of an item or key map that is already known to hold the key.
pub fn storage_key_of(def: &TableDef, attrs: &Item) -> Option<Vec<u8>> {
    let hash = attrs.get(&def.keys.hash)?;
    let range = match &def.keys.range {
        Some(r) => Some(attrs.get(r)?),
        None => None,
    };
    storage_key(def.id, hash, range)
}

/// `table_id ‖ hash_prefix(enc(pk)) ‖ enc(pk) ‖ enc(sk)`; `None` if a value is not S/N/B.
pub fn storage_key(
    table_id: u64,
    hash: &AttributeValue,
    range: Option<&AttributeValue>,
) -> Option<Vec<u8>> {
    let mut pk = Vec::new();
    if !encode_key_value(hash, &mut pk) {
        return None;
    }
    let mut out = Vec::with_capacity(16 + pk.len() + 16);
    out.extend_from_slice(&table_id.to_be_bytes());
    out.extend_from_slice(&hash_prefix(&pk).to_be_bytes());
    out.extend_from_slice(&pk);
    if let Some(r) = range {
        if !encode_key_value(r, &mut out) {
            return None;
        }
    }
    Some(out)
}

/// The first storage key of one partition and the first key past it (Query's range).
pub fn partition_range(table_id: u64, hash: &AttributeValue) -> Option<(Vec<u8>, Vec<u8>)> {
    let start = storage_key(table_id, hash, None)?;
    let end = prefix_end(&start);
    Some((start, end))
}

/// The first storage key of a table and the first key past it (Scan's range).
pub fn table_range(table_id: u64) -> (Vec<u8>, Vec<u8>) {
    let start = table_id.to_be_bytes().to_vec();
    let end = prefix_end(&start);
    (start, end)
}

/// The smallest byte string greater than every string starting with `prefix`.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return end;
        }
    }
    // All 0xFF: nothing sorts after the prefix but longer 0xFF strings; use the max key.
    vec![0xFF; prefix.len() + 1]
}

/// Where an index key value came from; decides the empty-value message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexContext {
    /// A whole item supplied by the caller (PutItem, BatchWriteItem, Put actions).
    Item,
    /// An item produced by an UpdateExpression or AttributeUpdates.
    Update,
}

/// Checks the secondary-index key attributes an item carries: each must have its
/// declared type and must not be an empty S/B. Indexes are checked in name order
/// (dynoxide observed DynamoDB reporting the alphabetically first index).
pub fn check_index_keys(def: &TableDef, item: &Item, ctx: IndexContext) -> ApiResult<()> {
    let mut indexes: Vec<_> = def.gsis.iter().chain(def.lsis.iter()).collect();
    indexes.sort_by(|a, b| a.name.cmp(&b.name));
    for ix in &indexes {
        for name in ix.keys.names() {
            let Some(v) = item.get(name) else { continue };
            let kind = declared(def, name);
            if !matches_type(kind, v) {
                return Err(match ctx {
                    IndexContext::Item => ApiError::invalid_parameter(format!(
                        "Type mismatch for Index Key {name} Expected: {} Actual: {} IndexName: {}",
                        kind.as_str(),
                        v.type_name(),
                        ix.name
                    )),
                    IndexContext::Update => ApiError::validation(
                        "The update expression attempted to update the secondary index key to unsupported type",
                    ),
                });
            }
        }
    }
    for ix in &indexes {
        for name in ix.keys.names() {
            let empty = match item.get(name) {
                Some(AttributeValue::S(s)) => s.is_empty(),
                Some(AttributeValue::B(b)) => b.is_empty(),
                _ => false,
            };
            if !empty {
                continue;
            }
            return Err(ApiError::validation(match ctx {
                IndexContext::Item => format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {name}",
                    ix.name
                ),
                IndexContext::Update => "One or more parameter values are not valid. The update expression attempted to update a secondary index key to a value that is not supported. The AttributeValue for a key attribute cannot contain an empty string value.".to_string(),
            }));
        }
    }
    // Index keys obey the key size limits: 2048 bytes for a partition key, 1024 for a
    // sort key. A write gets the base-key messages (DynamoDB words the sort-key one as
    // "all range keys"); an update gets the text the API reference lists for it.
    for ix in &indexes {
        let parts = (ix.keys.hash.iter().map(|n| (n.as_str(), true)))
            .chain(ix.keys.range.iter().map(|n| (n.as_str(), false)));
        for (name, is_hash) in parts {
            let Some(v) = item.get(name) else { continue };
            if let Err(e) = check_size(v, is_hash) {
                return Err(match ctx {
                    IndexContext::Item => e,
                    IndexContext::Update => ApiError::validation(
                        "The update expression attempted to update the secondary index key beyond allowed size limits",
                    ),
                });
            }
        }
    }
    for ix in &indexes {
        check_aggregate_sizes(ix, item)?;
    }
    Ok(())
}

/// A multi-attribute GSI key's partition (sort) attributes may hold at most 2048 (1024)
/// bytes together — S/B by length, N by DynamoDB's number size — counted over the ones the
/// item carries, whether or not it is in the index; the message names those
/// (DynamoDB Local's rule and text; engine/docs/multi-attribute-keys.md).
fn check_aggregate_sizes(ix: &crate::catalog::IndexDef, item: &Item) -> ApiResult<()> {
    let parts = [
        ("HASH", &ix.keys.hash, MAX_HASH_KEY_BYTES),
        ("RANGE", &ix.keys.range, MAX_RANGE_KEY_BYTES),
    ];
    for (kind, names, limit) in parts {
        if names.len() < 2 {
            continue;
        }
        let present: Vec<(&str, usize)> = names
            .iter()
            .filter_map(|n| {
                let size = match item.get(n)? {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::B(b) => b.len(),
                    AttributeValue::N(x) => crate::model::size::number_size(x),
                    _ => return None,
                };
                Some((n.as_str(), size))
            })
            .collect();
        let size: usize = present.iter().map(|(_, s)| s).sum();
        if size > limit {
            let names: Vec<&str> = present.iter().map(|(n, _)| *n).collect();
            return Err(ApiError::validation(format!(
                "Aggregate size for {kind} key attributes {} of index {} has exceeded limit {limit} bytes, with actual size {size} bytes",
                names.join(", "),
                ix.name
            )));
        }
    }
    Ok(())
}

/// Whether `name` is one of the table's primary key attributes.
pub fn is_key_attribute(def: &TableDef, name: &str) -> bool {
    def.keys.names().any(|k| k == name)
}

#[cfg(test)]
pub(crate) mod tests;
