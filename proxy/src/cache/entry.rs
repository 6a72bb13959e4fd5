//! [`Entry`]: one cached answer and the byte layout it owns. An item entry is the exact
//! GetItem answer `{"Item":<canonical item JSON>}` (served as is on a plain hit), an
//! absent item is `{}`, a page is a Query or Scan answer; [`Entry::item_json`] is the one
//! place that knows where the item sits inside the bytes.

use std::time::Instant;

use bytes::Bytes;
use daxlite_engine::model::value::item_to_json_bytes;
use daxlite_engine::model::Item;
use serde_json::Value;

use super::coherence::Scope;
use super::keys::decode_attrs;

/// What an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// `{"Item":{...}}`
    Present,
    /// `{}`: the item does not exist.
    Absent,
    /// A Query or Scan answer without ConsumedCapacity.
    Page,
}

/// A present item's bytes: this prefix, the item's JSON, this suffix.
const ITEM_PREFIX: &[u8] = b"{\"Item\":";
const ITEM_SUFFIX: &[u8] = b"}";

#[derive(Debug, Clone)]
pub struct Entry {
    pub body: Bytes,
    pub kind: EntryKind,
    /// The table's epoch when the fill started.
    pub epoch: u64,
    /// The write generation of `scope` when the fill started (pages, coherent mode).
    pub generation: u64,
    /// Which generation a page depends on (items: unused).
    pub scope: Scope,
    /// When the entry was made (freshness, with `serve_stale_on_error`).
    pub filled: Instant,
}

impl Entry {
    /// "The item does not exist", filled under `epoch`.
    pub fn absent(epoch: u64) -> Entry {
        Entry {
            body: Bytes::from_static(b"{}"),
            kind: EntryKind::Absent,
            epoch,
            generation: 0,
            scope: Scope::Table,
            filled: Instant::now(),
        }
    }

    /// `{"Item":<canonical item>}`, filled under `epoch`.
    pub fn present(item: &Item, epoch: u64) -> Entry {
        let json = item_to_json_bytes(item);
        let mut out = Vec::with_capacity(ITEM_PREFIX.len() + json.len() + ITEM_SUFFIX.len());
        out.extend_from_slice(ITEM_PREFIX);
        out.extend_from_slice(&json);
        out.extend_from_slice(ITEM_SUFFIX);
        Entry {
            body: Bytes::from(out),
            kind: EntryKind::Present,
            epoch,
            generation: 0,
            scope: Scope::Table,
            filled: Instant::now(),
        }
    }

    /// A Query or Scan page filled under `epoch` and `scope`'s `generation`.
    pub fn page(body: Bytes, epoch: u64, generation: u64, scope: Scope) -> Entry {
        Entry {
            body,
            kind: EntryKind::Page,
            epoch,
            generation,
            scope,
            filled: Instant::now(),
        }
    }

    /// The entry for a GetItem answer without projection or capacity (`{"Item":...}` or
    /// `{}`); `None` when the answer is not one.
    pub fn from_get_answer(body: &[u8], epoch: u64) -> Option<Entry> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let obj = v.as_object()?;
        match obj.get("Item") {
            None => Some(Entry::absent(epoch)),
            Some(item) => Some(Entry::present(&decode_attrs(item)?, epoch)),
        }
    }

    /// The canonical item JSON of a present entry; `None` for absent items and pages.
    pub fn item_json(&self) -> Option<&[u8]> {
        if self.kind != EntryKind::Present {
            return None;
        }
        self.body
            .strip_prefix(ITEM_PREFIX)?
            .strip_suffix(ITEM_SUFFIX)
    }

    /// The item of a present entry, decoded (for projections).
    pub fn item(&self) -> Option<Item> {
        decode_attrs(&serde_json::from_slice::<Value>(self.item_json()?).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_entry_is_the_get_answer_and_knows_where_its_item_is() {
        let answer = br#"{"Item":{"pk":{"S":"a"},"n":{"N":"1"}}}"#;
        let e = Entry::from_get_answer(answer, 3).unwrap_or_else(|| Entry::absent(0));
        assert_eq!(e.kind, EntryKind::Present);
        assert_eq!(e.epoch, 3);
        let item = e
            .item_json()
            .map(|b| String::from_utf8_lossy(b).into_owned());
        assert!(item
            .as_deref()
            .is_some_and(|i| i.starts_with('{') && i.ends_with('}')));
        assert_eq!(
            format!("{{\"Item\":{}}}", item.unwrap_or_default()).as_bytes(),
            &e.body[..]
        );
        assert!(e.item().is_some_and(|i| i.len() == 2));
        let none =
            Entry::from_get_answer(b"{}", 1).unwrap_or_else(|| Entry::present(&Item::new(), 0));
        assert_eq!(none.kind, EntryKind::Absent);
        assert_eq!(none.item_json(), None);
        assert_eq!(&none.body[..], b"{}");
    }
}
