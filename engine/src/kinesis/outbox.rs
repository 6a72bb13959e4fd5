//! The Kinesis outbox (`kinesis_outbox` redb table, layout in `engine/FORMAT.md`): one
//! entry per item change of a table with a live destination, written by the write path
//! in the same storage transaction as the change, keyed `table id (8 BE) ‖ sequence
//! number (8 BE)`; a change takes the table's last number + 1, so one table's entries are
//! in commit order. The publisher reads from the head and removes what Kinesis
//! acknowledged, leaving an empty marker at the last number removed (numbers are never
//! reused: they name the records' eventIDs). The entries left are exactly what is still
//! to deliver, which makes the head the saved position (at least once across restarts).

use crate::catalog::TableDef;
use crate::images::Images;
use crate::storage::items::Stored;
use crate::storage::{internal, Store};
use crate::streams::{Actor, Origin};
use crate::wire::ApiResult;
use redb::{ReadableTable, TableDefinition, TableError, WriteTransaction};

/// `table id ‖ seq` → [`OutboxRecord::encode`].
pub const KINESIS_OUTBOX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kinesis_outbox");

/// One change waiting to be published. The images are kept as stored (DynamoDB's
/// item size, then the item's JSON), so the write path neither decodes nor re-encodes
/// an item: the record's JSON is made by the publisher ([`super::record::data`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// INSERT, MODIFY or REMOVE.
    pub name: &'static str,
    /// The change's time in microseconds since the epoch.
    pub at_us: i64,
    /// ApproximateCreationDateTime is shown in microseconds (else milliseconds).
    pub micros: bool,
    /// Made by DynamoDB itself (a TTL deletion).
    pub service: bool,
    /// The item after the change, as stored (`None`: REMOVE).
    pub new: Option<Vec<u8>>,
    /// The item before the change, as stored (`None`: INSERT).
    pub old: Option<Vec<u8>>,
}

const MICROS: u8 = 1;
const SERVICE: u8 = 2;
const HAS_NEW: u8 = 4;
const HAS_OLD: u8 = 8;
const NAMES: [&str; 3] = ["INSERT", "MODIFY", "REMOVE"];

impl OutboxRecord {
    /// `flags (1) ‖ event name index (1) ‖ at_us (8 BE) ‖ new length (4 BE) ‖ new ‖ old`.
    pub fn encode(&self) -> Vec<u8> {
        let new = self.new.as_deref().unwrap_or_default();
        let old = self.old.as_deref().unwrap_or_default();
        let mut flags = 0;
        for (on, bit) in [
            (self.micros, MICROS),
            (self.service, SERVICE),
            (self.new.is_some(), HAS_NEW),
            (self.old.is_some(), HAS_OLD),
        ] {
            if on {
                flags |= bit;
            }
        }
        let name = NAMES.iter().position(|n| *n == self.name).unwrap_or(0) as u8;
        let mut out = Vec::with_capacity(14 + new.len() + old.len());
        out.push(flags);
        out.push(name);
        out.extend_from_slice(&self.at_us.to_be_bytes());
        out.extend_from_slice(&(new.len() as u32).to_be_bytes());
        out.extend_from_slice(new);
        out.extend_from_slice(old);
        out
    }

    /// The inverse of [`OutboxRecord::encode`]; `None` for bytes it did not write.
    pub fn decode(bytes: &[u8]) -> Option<OutboxRecord> {
        let flags = *bytes.first()?;
        let name = NAMES.get(usize::from(*bytes.get(1)?))?;
        let at_us = i64::from_be_bytes(bytes.get(2..10)?.try_into().ok()?);
        let new_len = u32::from_be_bytes(bytes.get(10..14)?.try_into().ok()?) as usize;
        let new = bytes.get(14..14usize.checked_add(new_len)?)?;
        let old = bytes.get(14 + new_len..)?;
        Some(OutboxRecord {
            name,
            at_us,
            micros: flags & MICROS != 0,
            service: flags & SERVICE != 0,
            new: (flags & HAS_NEW != 0).then(|| new.to_vec()),
            old: (flags & HAS_OLD != 0).then(|| old.to_vec()),
        })
    }
}

fn key(table_id: u64, seq: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&table_id.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

fn seq_of(k: &[u8]) -> u64 {
    k.get(8..16)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// The sub-millisecond part of the wall clock, for MICROSECOND precision (the engine's
/// clock counts milliseconds).
fn sub_ms_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::from(d.subsec_micros() % 1000))
        .unwrap_or(0)
}

/// Appends the outbox entry of one item change when the table has a live destination
/// and the write changes something (no record otherwise, as for DynamoDB Streams); the
/// images go into the entry as stored.
pub fn record(
    txn: &WriteTransaction,
    table: &TableDef,
    images: &Images<'_>,
    origin: &Origin,
) -> ApiResult<()> {
    let Some(dest) = table.kinesis.iter().find(|d| d.live()) else {
        return Ok(());
    };
    let (old, new) = (images.old_stored()?, images.new_stored());
    if old.map(Stored::json) == new.map(Stored::json) {
        return Ok(());
    }
    let Some(name) = crate::streams::event_name(old.is_some(), new.is_some()) else {
        return Ok(());
    };
    let micros = dest.micros();
    let rec = OutboxRecord {
        name,
        at_us: origin.at_ms.saturating_mul(1000).saturating_add(if micros {
            sub_ms_micros()
        } else {
            0
        }),
        micros,
        service: origin.by == Actor::TimeToLive,
        new: new.map(|n| n.0.clone()),
        old: old.map(|o| o.0.clone()),
    };
    let mut t = txn.open_table(KINESIS_OUTBOX).map_err(internal)?;
    let (lo, hi) = (key(table.id, 0), key(table.id, u64::MAX));
    let last = match t
        .range(lo.as_slice()..=hi.as_slice())
        .map_err(internal)?
        .next_back()
    {
        Some(entry) => seq_of(entry.map_err(internal)?.0.value()),
        None => 0,
    };
    let seq = last.saturating_add(1);
    t.insert(key(table.id, seq).as_slice(), rec.encode().as_slice())
        .map_err(internal)?;
    Ok(())
}

/// Up to `limit` waiting entries of a table, oldest first.
pub fn read(store: &Store, table_id: u64, limit: usize) -> ApiResult<Vec<(u64, OutboxRecord)>> {
    let txn = store.read()?;
    let t = match txn.open_table(KINESIS_OUTBOX) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(internal(e)),
    };
    let (lo, hi) = (key(table_id, 0), key(table_id, u64::MAX));
    let mut out = Vec::new();
    for entry in t.range(lo.as_slice()..=hi.as_slice()).map_err(internal)? {
        if out.len() >= limit {
            break;
        }
        let (k, v) = entry.map_err(internal)?;
        if v.value().is_empty() {
            continue; // the marker of the last delivered number
        }
        let rec = OutboxRecord::decode(v.value())
            .ok_or_else(|| internal("corrupt kinesis outbox entry"))?;
        out.push((seq_of(k.value()), rec));
    }
    Ok(out)
}

/// Removes a table's entries with sequence numbers up to `through` (delivered), leaving
/// an empty marker at the highest sequence number removed, so numbers are never reused.
pub fn ack(txn: &WriteTransaction, table_id: u64, through: u64) -> ApiResult<()> {
    let mut t = txn.open_table(KINESIS_OUTBOX).map_err(internal)?;
    let (lo, hi) = (key(table_id, 0), key(table_id, through));
    let last = match t
        .range(lo.as_slice()..=hi.as_slice())
        .map_err(internal)?
        .next_back()
    {
        Some(entry) => Some(seq_of(entry.map_err(internal)?.0.value())),
        None => None,
    };
    let Some(last) = last else {
        return Ok(());
    };
    t.retain_in(lo.as_slice()..=hi.as_slice(), |_, _| false)
        .map_err(internal)?;
    t.insert(key(table_id, last).as_slice(), [].as_slice())
        .map_err(internal)?;
    Ok(())
}

/// Removes every entry of a deleted table, its marker too.
pub fn drop_table(txn: &WriteTransaction, table_id: u64) -> ApiResult<()> {
    let mut t = txn.open_table(KINESIS_OUTBOX).map_err(internal)?;
    let (lo, hi) = (key(table_id, 0), key(table_id, u64::MAX));
    t.retain_in(lo.as_slice()..=hi.as_slice(), |_, _| false)
        .map_err(internal)?;
    Ok(())
}

/// Removes every waiting entry of a table (its destination was disabled or failed).
pub fn clear(txn: &WriteTransaction, table_id: u64) -> ApiResult<()> {
    ack(txn, table_id, u64::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::wire::Operation;
    use crate::{Backend, Engine, EngineConfig};

    async fn call(e: &Engine, op: Operation, body: serde_json::Value) {
        e.call(op, body.to_string().as_bytes()).await.unwrap();
    }

    #[tokio::test]
    async fn changes_queue_in_order_and_acknowledged_numbers_are_never_reused() {
        let config = EngineConfig {
            backend: Backend::InMemory,
            ..EngineConfig::default()
        };
        let e = Engine::open(config).unwrap();
        call(&e, Operation::CreateTable, serde_json::json!({"TableName": "tab", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"})).await;
        let put = |v: &str| serde_json::json!({"TableName": "tab", "Item": {"pk": {"S": "a"}, "v": {"S": v}}});
        call(&e, Operation::PutItem, put("0")).await;
        let live = e.kinesis_destinations().unwrap();
        assert!(live.is_empty(), "no destination, no outbox");
        let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
        call(
            &e,
            Operation::EnableKinesisStreamingDestination,
            serde_json::json!({"TableName": "tab", "StreamArn": arn}),
        )
        .await;
        let live = e.kinesis_destinations().unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].keys, vec!["pk".to_string()]);
        let id = live[0].table_id;
        call(&e, Operation::PutItem, put("1")).await;
        call(&e, Operation::PutItem, put("1")).await; // changes nothing: no entry
        call(
            &e,
            Operation::DeleteItem,
            serde_json::json!({"TableName": "tab", "Key": {"pk": {"S": "a"}}}),
        )
        .await;
        let pending = e.kinesis_pending(id, 10).unwrap();
        let names: Vec<&str> = pending.iter().map(|(_, r)| r.name).collect();
        assert_eq!(names, vec!["MODIFY", "REMOVE"]);
        let (first, second) = (pending[0].0, pending[1].0);
        assert!(first < second);
        e.kinesis_ack(id, first).await.unwrap();
        assert_eq!(e.kinesis_pending(id, 10).unwrap().len(), 1);
        e.kinesis_ack(id, second).await.unwrap();
        assert!(e.kinesis_pending(id, 10).unwrap().is_empty());
        call(&e, Operation::PutItem, put("2")).await;
        let pending = e.kinesis_pending(id, 10).unwrap();
        assert_eq!(pending.len(), 1);
        assert!(
            pending[0].0 > second,
            "numbers go on after the acknowledged ones"
        );
        e.kinesis_failed("tab", arn, "gone").await.unwrap();
        assert!(e.kinesis_pending(id, 10).unwrap().is_empty());
        assert!(e.kinesis_destinations().unwrap().is_empty());
        e.close();
    }

    #[test]
    fn entries_round_trip() {
        let rec = OutboxRecord {
            name: "MODIFY",
            at_us: -5,
            micros: true,
            service: false,
            new: Some(b"\0\0\0\x02{}".to_vec()),
            old: Some(Vec::new()),
        };
        assert_eq!(OutboxRecord::decode(&rec.encode()), Some(rec));
        let gone = OutboxRecord {
            name: "REMOVE",
            at_us: 7,
            micros: false,
            service: true,
            new: None,
            old: Some(b"xyz".to_vec()),
        };
        assert_eq!(OutboxRecord::decode(&gone.encode()), Some(gone));
        assert_eq!(OutboxRecord::decode(&[0, 9]), None);
        assert_eq!(
            OutboxRecord::decode(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]),
            None
        );
    }
}
