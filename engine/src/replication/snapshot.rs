//! The re-seed of a replica that fell behind: when a shipper's position lies before the
//! records its table's stream has trimmed (retention or the size cap), the changes in
//! between are gone, so it ships the table's current state instead — every item this
//! region wrote last, with its version, and every deletion it made (the tombstones kept
//! in `item_versions`), read in key order in pages. The peer applies them like any
//! shipped change: last writer wins, so what it has newer stays, and a deletion it missed
//! is made. Items another region wrote last are that region's shippers' to send.

use redb::TableError;
use serde_json::Value;

use super::{Change, VERSIONS};
use crate::catalog::{ScalarType, TableDef};
use crate::ctx::Ctx;
use crate::keys::table_range;
use crate::model::keycodec::{decode_b, decode_n, decode_s};
use crate::model::value::item_to_json_bytes;
use crate::model::{AttributeValue, Item};
use crate::storage::{internal, items};
use crate::streams::store::{self, stream_key};
use crate::wire::ApiResult;

/// One page of [`read`].
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The stream's label and last sequence number when the page was read: a shipper
    /// that re-seeds continues from there.
    pub head: (String, u64),
    /// This region's items and deletions, as changes (sequence number 0).
    pub changes: Vec<Change>,
    /// The storage key to continue after; None: this was the last page.
    pub next: Option<Vec<u8>>,
}

/// The key attributes a storage key encodes (`keys::storage_key`: table id, hash
/// prefix, partition key, sort key), decoded with the table's declared key types.
fn key_attrs(def: &TableDef, storage: &[u8]) -> Option<Item> {
    let mut rest = storage.get(16..)?;
    let mut attrs = Item::new();
    let names = std::iter::once(def.keys.hash.as_str()).chain(def.keys.range.as_deref());
    for name in names {
        let (value, used) = match def.attribute_type(name)? {
            ScalarType::S => decode_s(rest).map(|(s, n)| (AttributeValue::S(s), n))?,
            ScalarType::N => decode_n(rest).map(|(v, n)| (AttributeValue::N(v), n))?,
            ScalarType::B => decode_b(rest).map(|(b, n)| (AttributeValue::B(b), n))?,
        };
        attrs.insert(name.to_string(), value);
        rest = rest.get(used..)?;
    }
    rest.is_empty().then_some(attrs)
}

fn json(item: &Item) -> Value {
    serde_json::from_slice(&item_to_json_bytes(item)).unwrap_or(Value::Null)
}

/// Up to `limit` of `table`'s items and deletions this region made last, after storage
/// key `after` (None: from the start). `None`: no such table, or it has no stream.
pub fn read(
    ctx: &Ctx,
    table: &str,
    after: Option<&[u8]>,
    limit: usize,
) -> ApiResult<Option<Snapshot>> {
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let Some(def) = ctx.visible_table(&txn, table, now)? else {
        return Ok(None);
    };
    let Some(spec) = &def.stream else {
        return Ok(None);
    };
    let stream = stream_key(def.id, &spec.label);
    // At least what was trimmed: a position there is never behind the stream again.
    let trimmed = store::load(&txn, &stream)?.map_or(0, |m| m.trimmed_through);
    let head_seq = store::last_seq(&txn, &stream, 0..=u64::MAX)?
        .unwrap_or(0)
        .max(trimmed);
    let head = (spec.label.clone(), head_seq);
    let versions = match txn.open_table(VERSIONS) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => {
            return Ok(Some(Snapshot {
                head,
                changes: Vec::new(),
                next: None,
            }))
        }
        Err(e) => return Err(internal(e)),
    };
    let (start, end) = table_range(def.id);
    let from = after.map_or(start.clone(), <[u8]>::to_vec);
    let mut changes = Vec::new();
    let mut next = None;
    // Pages are `limit` entries examined (another region's are skipped but counted).
    let mut examined = 0;
    let mut last: Option<Vec<u8>> = None;
    for entry in versions
        .range(from.as_slice()..end.as_slice())
        .map_err(internal)?
    {
        let (k, v) = entry.map_err(internal)?;
        let key = k.value();
        if after == Some(key) {
            continue;
        }
        if examined == limit {
            next = last.take();
            break;
        }
        examined += 1;
        last = Some(key.to_vec());
        // This region's own versions only (their region part is empty).
        let Ok(clock) = <[u8; 8]>::try_from(v.value()).map(u64::from_be_bytes) else {
            continue;
        };
        let new = items::get(&txn, key)?.map(|s| s.item()).transpose()?;
        let keys: Item = match &new {
            Some(item) => def
                .keys
                .names()
                .filter_map(|n| Some((n.to_string(), item.get(n)?.clone())))
                .collect(),
            None => match key_attrs(&def, key) {
                Some(k) => k,
                None => continue,
            },
        };
        changes.push(Change {
            seq: 0,
            at_ms: now,
            keys: json(&keys),
            new: new.as_ref().map(json),
            clock,
            from: None,
        });
    }
    Ok(Some(Snapshot {
        head,
        changes,
        next,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::storage_key;
    use crate::model::Number;
    use proptest::prelude::*;

    fn number(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}")))
    }

    proptest! {
        /// A storage key decodes to the key attributes it was made from, for every key
        /// type (deletions are shipped with these).
        #[test]
        fn storage_keys_decode_to_their_attributes(
            s in "\\PC{1,20}",
            bytes in proptest::collection::vec(any::<u8>(), 1..20),
            n in prop_oneof![Just("0".to_string()), "-?[1-9][0-9]{0,10}(\\.[0-9]{1,5})?(e-?[1-9][0-9]?)?"],
            which in 0..3usize,
        ) {
            let (hash, hash_type) = match which {
                0 => (AttributeValue::S(s.clone()), ScalarType::S),
                1 => (AttributeValue::B(bytes.clone()), ScalarType::B),
                _ => (number(&n), ScalarType::N),
            };
            for range in [None, Some((number(&n), ScalarType::N)), Some((AttributeValue::B(bytes.clone()), ScalarType::B))] {
                let def = TableDef::plain("t", ("pk", hash_type), range.as_ref().map(|(_, t)| ("sk", *t)));
                let key = storage_key(def.id, &hash, range.as_ref().map(|(v, _)| v))
                    .ok_or_else(|| TestCaseError::fail("no storage key"))?;
                let mut expected = Item::new();
                expected.insert("pk".into(), hash.clone());
                if let Some((v, _)) = &range {
                    expected.insert("sk".into(), v.clone());
                }
                prop_assert_eq!(key_attrs(&def, &key), Some(expected));
            }
        }
    }
}
