//! DynamoDB Streams inside the engine: [`record`] turns one item change into a stream
//! record in the same storage transaction as the change (called once, from
//! `write::on_write`); `store` keeps streams, shards and records in redb; `maintain`
//! rolls shards over and trims records past retention (run by the background task).

pub mod maintain;
pub mod store;

use redb::WriteTransaction;
use serde_json::Value;

use crate::catalog::TableDef;
use crate::images::Images;
use crate::model::size::item_size;
use crate::model::Item;
use crate::storage::items::Stored;
use crate::wire::ApiResult;
use store::StoredRecord;

/// Who asked for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A caller of the API (every ordinary write).
    Caller,
    /// DynamoDB itself, deleting an expired item (Time to Live).
    TimeToLive,
    /// Another region of the table's replica group (global tables, `replication`).
    Replica,
}

/// When and by whom a write is made: what its stream record says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub at_ms: i64,
    pub by: Actor,
    /// A replicated change: its version (clock and the region that accepted it).
    pub replica: Option<crate::replication::Version>,
}

impl Origin {
    pub fn caller(at_ms: i64) -> Origin {
        Origin {
            at_ms,
            by: Actor::Caller,
            replica: None,
        }
    }

    pub fn time_to_live(at_ms: i64) -> Origin {
        Origin {
            at_ms,
            by: Actor::TimeToLive,
            replica: None,
        }
    }
}

/// INSERT, MODIFY or REMOVE.
pub(crate) fn event_name(old: bool, new: bool) -> Option<&'static str> {
    match (old, new) {
        (false, true) => Some("INSERT"),
        (true, true) => Some("MODIFY"),
        (true, false) => Some("REMOVE"),
        (false, false) => None,
    }
}

/// One item change as its stream record shows it: the event name, the item's key
/// attributes, and the items before and after.
pub(crate) struct Captured<'a> {
    pub name: &'static str,
    pub keys: Item,
    pub old: Option<&'a Item>,
    pub new: Option<&'a Item>,
}

/// Captures one item change. Must run before the item itself is stored or removed: the
/// old image is read from storage. `None`: the write changes nothing (no record, as on
/// DynamoDB).
pub(crate) fn capture<'i>(
    table: &TableDef,
    images: &'i Images<'_>,
) -> ApiResult<Option<Captured<'i>>> {
    let old = images.old_stored()?;
    let new = images.new_stored();
    if old.map(Stored::json) == new.map(Stored::json) {
        return Ok(None);
    }
    let Some(name) = event_name(old.is_some(), new.is_some()) else {
        return Ok(None);
    };
    let old = images.old_item()?;
    let new = images.new_item()?;
    let keys: Item = new
        .or(old)
        .map(|item| {
            table
                .keys
                .names()
                .filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone())))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(Captured {
        name,
        keys,
        old,
        new,
    }))
}

/// Appends the stream record of one item change, if the table has a stream and the write
/// changes something. Must run before the item itself is stored or removed: the old image
/// is read from storage. Makes no write when it fails.
pub fn record(
    txn: &WriteTransaction,
    table: &TableDef,
    images: &Images<'_>,
    origin: &Origin,
) -> ApiResult<()> {
    let Some(spec) = &table.stream else {
        return Ok(());
    };
    let key = images.key();
    let Some(c) = capture(table, images)? else {
        return Ok(());
    };
    let (with_new, with_old) = match spec.view_type.as_str() {
        "NEW_IMAGE" => (true, false),
        "OLD_IMAGE" => (false, true),
        "NEW_AND_OLD_IMAGES" => (true, true),
        _ => (false, false),
    };
    let new_item = c.new.filter(|_| with_new);
    let old_item = c.old.filter(|_| with_old);
    let keys = c.keys;
    let size = item_size(&keys)
        + new_item.map(item_size).unwrap_or(0)
        + old_item.map(item_size).unwrap_or(0);
    // Global tables: the change's version (never rendered by `record_json`).
    let (clock, from) = match &origin.replica {
        Some(v) => (v.clock, Some(v.region.as_str())),
        None if table.replicated => (
            crate::replication::stamp_local(txn, key, origin.at_ms)?,
            None,
        ),
        None => (0, None),
    };
    let id = uuid::Uuid::new_v4().simple().to_string();
    let rec = store::NewRecord {
        id: &id,
        name: c.name,
        at_ms: origin.at_ms,
        keys: &keys,
        new: new_item,
        old: old_item,
        size: size as u64,
        service: origin.by == Actor::TimeToLive,
        clock,
        from,
    };
    store::append(txn, table, spec, &rec)
}

/// A stored record as DynamoDB Streams' GetRecords shows it.
pub fn record_json(seq: u64, rec: &StoredRecord, view_type: &str, region: &str) -> Value {
    let mut dynamodb = serde_json::Map::new();
    dynamodb.insert(
        "ApproximateCreationDateTime".into(),
        Value::from(rec.at_ms.div_euclid(1000)),
    );
    dynamodb.insert("Keys".into(), rec.keys.clone());
    if let Some(n) = &rec.new {
        dynamodb.insert("NewImage".into(), n.clone());
    }
    if let Some(o) = &rec.old {
        dynamodb.insert("OldImage".into(), o.clone());
    }
    dynamodb.insert("SequenceNumber".into(), Value::from(store::seq_text(seq)));
    dynamodb.insert("SizeBytes".into(), Value::from(rec.size));
    dynamodb.insert("StreamViewType".into(), Value::from(view_type));
    let mut out = serde_json::Map::new();
    out.insert("awsRegion".into(), Value::from(region));
    out.insert("dynamodb".into(), Value::Object(dynamodb));
    out.insert("eventID".into(), Value::from(rec.id.clone()));
    out.insert("eventName".into(), Value::from(rec.name.clone()));
    out.insert("eventSource".into(), Value::from("aws:dynamodb"));
    out.insert("eventVersion".into(), Value::from("1.1"));
    if rec.service {
        out.insert(
            "userIdentity".into(),
            serde_json::json!({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests;
