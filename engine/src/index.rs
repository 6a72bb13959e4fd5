//! Secondary-index entries (GSIs and LSIs) in the `index_entries` redb table: the entry
//! key of an item in an index, the projection stored under it, maintenance from the one
//! write hook (`write::on_write`), GSI backfill and drop, and per-index statistics
//! (ItemCount / IndexSizeBytes). Layout in `engine/FORMAT.md`.
//!
//! Entry key: `table id (8 BE) ‖ index tag (8 BE) ‖ hash prefix (8 BE) ‖ enc(pk₁) ‖ … ‖
//! enc(pkₙ) ‖ enc(sk₁) ‖ … ‖ enc(skₘ) ‖ enc(base pk) ‖ enc(base sk)?` — the index key is
//! the tuple of its attributes' order-preserving, self-delimiting encodings (n = 1, m ≤ 1
//! for an LSI or a single-attribute GSI, byte for byte the format before multi-attribute
//! keys) — so one index partition is one contiguous range ordered by the tuple of sort
//! values, then base key (Query), and one index is one contiguous range ordered by hash
//! prefix (Scan, parallel-scan segments).

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use sha2::{Digest, Sha256};

use crate::catalog::{IndexDef, ProjectionType, ScalarType, Stats, TableDef};
use crate::images::Images;
use crate::model::keycodec::{encode_key_value, hash_prefix};
use crate::model::{AttributeValue, Item};
use crate::storage::items::Stored;
use crate::storage::{layout_u64, INDEX_ENTRIES, ITEMS, STATS};
use crate::wire::ApiResult;

/// A stable 64-bit tag for an index name (first 8 bytes of its SHA-256). Entries of a
/// deleted index are dropped in the same commit, so a re-created index never sees them.
pub fn index_tag(name: &str) -> u64 {
    let digest = Sha256::digest(name.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(b)
}

/// `table id ‖ index tag`: the first bytes of every entry (and the index's stats key).
pub fn index_prefix(table_id: u64, name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&table_id.to_be_bytes());
    out.extend_from_slice(&index_tag(name).to_be_bytes());
    out
}

/// The smallest byte string greater than every string starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return end;
        }
    }
    vec![0xFF; prefix.len() + 1]
}

fn typed(def: &TableDef, name: &str, v: &AttributeValue) -> bool {
    matches!(
        (def.attribute_type(name), v),
        (Some(ScalarType::S), AttributeValue::S(_))
            | (Some(ScalarType::N), AttributeValue::N(_))
            | (Some(ScalarType::B), AttributeValue::B(_))
    )
}

/// `index prefix ‖ hash prefix ‖ enc(pk₁) ‖ … ‖ enc(pkₙ)`: the start of one index
/// partition. `hash` holds the partition-key values in KeySchema order (one for an LSI
/// or a single-attribute GSI); the hash prefix is taken over all of their encodings.
pub fn partition_prefix(def: &TableDef, ix: &IndexDef, hash: &[AttributeValue]) -> Option<Vec<u8>> {
    prefix_of(def, ix, hash.iter())
}

fn prefix_of<'a>(
    def: &TableDef,
    ix: &IndexDef,
    hash: impl Iterator<Item = &'a AttributeValue>,
) -> Option<Vec<u8>> {
    let mut pk = Vec::new();
    for v in hash {
        if !encode_key_value(v, &mut pk) {
            return None;
        }
    }
    let mut out = index_prefix(def.id, &ix.name);
    out.extend_from_slice(&hash_prefix(&pk).to_be_bytes());
    out.extend_from_slice(&pk);
    Some(out)
}

/// The entry key of `item` (or of a key map holding base and index key attributes) in
/// `ix`; `None` when the item is not in the index (sparse: an index key attribute is
/// missing or not of its declared type — any one of them, for a multi-attribute key).
pub fn entry_key(def: &TableDef, ix: &IndexDef, item: &Item) -> Option<Vec<u8>> {
    let typed_value = |name: &String| item.get(name).filter(|v| typed(def, name, v));
    if !ix
        .keys
        .names()
        .all(|n| item.get(n).is_some_and(|v| typed(def, n, v)))
    {
        return None;
    }
    let hash = ix.keys.hash.iter().filter_map(typed_value);
    let mut out = prefix_of(def, ix, hash)?;
    for name in &ix.keys.range {
        if !encode_key_value(typed_value(name)?, &mut out) {
            return None;
        }
    }
    for name in def.keys.names() {
        if !encode_key_value(item.get(name)?, &mut out) {
            return None;
        }
    }
    Some(out)
}

/// The names every entry of `ix` carries: the table's key, then the index's key.
pub fn key_names<'a>(def: &'a TableDef, ix: &'a IndexDef) -> Vec<&'a str> {
    let mut names: Vec<&str> = def.keys.names().collect();
    for n in ix.keys.names() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

/// The attributes of `item` that `ix` projects (KEYS_ONLY, INCLUDE, ALL).
pub fn project(def: &TableDef, ix: &IndexDef, item: &Item) -> Item {
    if ix.projection.kind == ProjectionType::All {
        return item.clone();
    }
    let keys = key_names(def, ix);
    item.iter()
        .filter(|(k, _)| {
            keys.contains(&k.as_str())
                || (ix.projection.kind == ProjectionType::Include
                    && ix.projection.non_key.iter().any(|n| n == *k))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Every index of the table, GSIs first.
pub fn all(def: &TableDef) -> impl Iterator<Item = &IndexDef> {
    def.gsis.iter().chain(def.lsis.iter())
}

/// Keeps every index of `def` in step with one item change; runs inside `on_write`
/// *before* the item itself is replaced (the old image is read from storage when the
/// write did not already have it).
pub fn maintain(txn: &WriteTransaction, def: &TableDef, images: &Images<'_>) -> ApiResult<()> {
    if def.gsis.is_empty() && def.lsis.is_empty() {
        return Ok(());
    }
    let old = images.old_item()?;
    let new = images.new_item()?;
    let mut deltas = Vec::new();
    {
        let mut table = txn.open_table(INDEX_ENTRIES)?;
        for ix in all(def) {
            let (mut count, mut bytes) = (0i64, 0i64);
            if let Some(k) = old.and_then(|i| entry_key(def, ix, i)) {
                if let Some(v) = table.remove(k.as_slice())? {
                    count -= 1;
                    bytes -= Stored(v.value().to_vec()).size() as i64;
                }
            }
            if let Some(item) = new {
                if let Some(k) = entry_key(def, ix, item) {
                    let value = Stored::encode(&project(def, ix, item));
                    table.insert(k.as_slice(), value.0.as_slice())?;
                    count += 1;
                    bytes += value.size() as i64;
                }
            }
            if count != 0 || bytes != 0 {
                deltas.push((index_prefix(def.id, &ix.name), count, bytes));
            }
        }
    }
    for (k, count, bytes) in deltas {
        add_stats(txn, &k, count, bytes)?;
    }
    Ok(())
}

/// Whether a backfill may index `item`: DynamoDB skips items whose index key value is
/// empty or over the key size limits (2048 bytes for a partition key, 1024 for a sort
/// key) rather than failing the index; wrong types are skipped by `entry_key`.
fn backfillable(ix: &IndexDef, item: &Item) -> bool {
    let parts =
        (ix.keys.hash.iter().map(|n| (n, true))).chain(ix.keys.range.iter().map(|n| (n, false)));
    for (name, is_hash) in parts {
        let len = match item.get(name) {
            Some(AttributeValue::S(s)) => s.len(),
            Some(AttributeValue::B(b)) => b.len(),
            _ => continue,
        };
        let max = if is_hash {
            crate::keys::MAX_HASH_KEY_BYTES
        } else {
            crate::keys::MAX_RANGE_KEY_BYTES
        };
        if len == 0 || len > max {
            return false;
        }
    }
    true
}

/// Fills a new index from the table's items (UpdateTable's GSI Create), skipping the
/// items DynamoDB's backfill skips (see [`backfillable`]).
pub fn backfill(txn: &WriteTransaction, def: &TableDef, ix: &IndexDef) -> ApiResult<()> {
    let (start, end) = crate::keys::table_range(def.id);
    let (mut count, mut bytes) = (0i64, 0i64);
    {
        let source = txn.open_table(ITEMS)?;
        let mut target = txn.open_table(INDEX_ENTRIES)?;
        for entry in source.range(start.as_slice()..end.as_slice())? {
            let (_, v) = entry?;
            let item = Stored(v.value().to_vec()).item()?;
            if !backfillable(ix, &item) {
                continue;
            }
            if let Some(k) = entry_key(def, ix, &item) {
                let value = Stored::encode(&project(def, ix, &item));
                target.insert(k.as_slice(), value.0.as_slice())?;
                count += 1;
                bytes += value.size() as i64;
            }
        }
    }
    add_stats(txn, &index_prefix(def.id, &ix.name), count, bytes)
}

/// Removes one index's entries and statistics (GSI Delete).
pub fn drop_index(txn: &WriteTransaction, table_id: u64, name: &str) -> ApiResult<()> {
    let prefix = index_prefix(table_id, name);
    let end = prefix_end(&prefix);
    let mut table = txn.open_table(INDEX_ENTRIES)?;
    table.retain_in(prefix.as_slice()..end.as_slice(), |_, _| false)?;
    let mut stats = txn.open_table(STATS)?;
    stats.remove(prefix.as_slice())?;
    Ok(())
}

/// Removes every index entry and index statistic of a table (DeleteTable).
pub fn drop_table(txn: &WriteTransaction, table_id: u64) -> ApiResult<()> {
    let start = table_id.to_be_bytes();
    let end = prefix_end(&start);
    let mut table = txn.open_table(INDEX_ENTRIES)?;
    table.retain_in(start.as_slice()..end.as_slice(), |_, _| false)?;
    let mut stats = txn.open_table(STATS)?;
    stats.retain_in(start.as_slice()..end.as_slice(), |k, _| k.len() <= 8)?;
    Ok(())
}

fn decode_stats(bytes: &[u8]) -> Stats {
    Stats {
        items: layout_u64(bytes),
        bytes: layout_u64(bytes.get(8..).unwrap_or_default()),
    }
}

fn add_stats(txn: &WriteTransaction, key: &[u8], items: i64, bytes: i64) -> ApiResult<()> {
    let mut table = txn.open_table(STATS)?;
    let current = table
        .get(key)?
        .map(|v| decode_stats(v.value()))
        .unwrap_or_default();
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&((current.items as i64 + items).max(0) as u64).to_be_bytes());
    buf[8..].copy_from_slice(&((current.bytes as i64 + bytes).max(0) as u64).to_be_bytes());
    table.insert(key, buf.as_slice())?;
    Ok(())
}

/// ItemCount and IndexSizeBytes of one index.
pub fn stats(txn: &ReadTransaction, table_id: u64, name: &str) -> ApiResult<Stats> {
    let table = txn.open_table(STATS)?;
    let value = table.get(index_prefix(table_id, name).as_slice())?;
    Ok(value.map(|v| decode_stats(v.value())).unwrap_or_default())
}

#[cfg(test)]
mod tests;
