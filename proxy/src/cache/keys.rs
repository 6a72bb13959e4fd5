//! Cache keys. An item key is the table name and the canonical primary-key bytes (the
//! engine's order-preserving key encoding, so `{"N":"1.50"}` and `{"N":"1.5"}` are one
//! key); a page key is the canonicalised whole Query/Scan request. Also: which keys a
//! write touches.

use std::hash::{Hash, Hasher};

use bytes::Bytes;
use daxlite_engine::model::keycodec::encode_key_value;
use daxlite_engine::model::value::{decode_item, Deferred};
use daxlite_engine::model::{AttributeValue, Item};
use serde_json::Value;

use super::schema::{KeyAttr, TableSchema};

/// What one cache entry is stored under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// `table ‖ 0 ‖ encoded hash key ‖ encoded range key`.
    Item(Bytes),
    /// `Q`/`S` ‖ the canonical request JSON.
    Page(Bytes),
}

impl CacheKey {
    pub fn len(&self) -> usize {
        match self {
            CacheKey::Item(b) | CacheKey::Page(b) => b.len(),
        }
    }
}

/// A stable 64-bit hash for striping (not DoS-sensitive: stripes only decide locking).
pub fn hash64(parts: &[&[u8]]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

fn encode_attr(attr: &KeyAttr, v: &AttributeValue, out: &mut Vec<u8>) -> Option<()> {
    let ok = match (attr.ty.as_str(), v) {
        ("S", AttributeValue::S(s)) => !s.is_empty() && s.len() <= 2048,
        ("N", AttributeValue::N(_)) => true,
        ("B", AttributeValue::B(b)) => !b.is_empty() && b.len() <= 2048,
        _ => false,
    };
    (ok && encode_key_value(v, out)).then_some(())
}

/// The item key for a table and a decoded item or key: `None` when the attributes do
/// not form a valid key of the schema (the upstream then answers the error).
pub fn item_key(table: &str, schema: &TableSchema, attrs: &Item, exact: bool) -> Option<Bytes> {
    let expected = 1 + usize::from(schema.range.is_some());
    if exact && attrs.len() != expected {
        return None;
    }
    let mut out = Vec::with_capacity(table.len() + 32);
    out.extend_from_slice(table.as_bytes());
    out.push(0);
    encode_attr(&schema.hash, attrs.get(&schema.hash.name)?, &mut out)?;
    if let Some(r) = &schema.range {
        encode_attr(r, attrs.get(&r.name)?, &mut out)?;
    }
    Some(Bytes::from(out))
}

/// The partition of a table and a decoded item or key: `table ‖ 0 ‖ encoded hash key`
/// (the prefix of every item key of the partition).
pub fn partition_key(table: &str, schema: &TableSchema, attrs: &Item) -> Option<Bytes> {
    let mut out = Vec::with_capacity(table.len() + 16);
    out.extend_from_slice(table.as_bytes());
    out.push(0);
    encode_attr(&schema.hash, attrs.get(&schema.hash.name)?, &mut out)?;
    Some(Bytes::from(out))
}

/// Decodes an attribute map (`Key`, `Item`) from request JSON; `None` on any error.
pub fn decode_attrs(v: &Value) -> Option<Item> {
    let mut deferred = Deferred::new();
    let item = decode_item(v, &mut deferred).ok()?;
    deferred.into_result().ok()?;
    Some(item)
}

/// The key of a `Key` parameter (exactly the key attributes).
pub fn key_param(table: &str, schema: &TableSchema, key: &Value) -> Option<Bytes> {
    item_key(table, schema, &decode_attrs(key)?, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> TableSchema {
        TableSchema {
            hash: KeyAttr {
                name: "pk".into(),
                ty: "S".into(),
            },
            range: Some(KeyAttr {
                name: "n".into(),
                ty: "N".into(),
            }),
            gsis: vec![],
            lsis: vec![],
        }
    }

    #[test]
    fn equal_numbers_make_one_key_and_bad_keys_none() {
        let s = schema();
        let a = key_param("t", &s, &json!({"pk": {"S": "a"}, "n": {"N": "1.50"}}));
        let b = key_param("t", &s, &json!({"n": {"N": "1.5"}, "pk": {"S": "a"}}));
        assert!(a.is_some());
        assert_eq!(a, b);
        assert!(key_param("t", &s, &json!({"pk": {"S": "a"}})).is_none());
        assert!(key_param("t", &s, &json!({"pk": {"N": "1"}, "n": {"N": "1"}})).is_none());
        assert!(key_param("t", &s, &json!({"pk": {"S": ""}, "n": {"N": "1"}})).is_none());
        assert!(key_param(
            "t",
            &s,
            &json!({"pk": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "y"}})
        )
        .is_none());
        let item = decode_attrs(&json!({"pk": {"S": "a"}, "n": {"N": "1.5"}, "x": {"S": "y"}}));
        let from_item = item.and_then(|i| item_key("t", &s, &i, false));
        assert_eq!(from_item, a);
    }
}
