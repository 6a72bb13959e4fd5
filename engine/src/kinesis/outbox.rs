//! The Kinesis outbox (`kinesis_outbox` redb table, layout in `engine/FORMAT.md`): one
//! entry per item change of a table with a live destination, written by the write path
//! in the same storage transaction as the change, keyed `table id (8 BE) ‖ sequence
//! number (8 BE)` with the engine's global stream sequence counter, so one table's
//! entries are in commit order. The publisher reads from the head and removes what
//! Kinesis acknowledged: the entries left are exactly what is still to deliver, which
//! makes the head the saved position (at least once across restarts).

use redb::{TableDefinition, TableError, WriteTransaction};
use serde::{Deserialize, Serialize};

use crate::catalog::TableDef;
use crate::model::size::item_size;
use crate::model::Item;
use crate::storage::items::Stored;
use crate::storage::{internal, Store};
use crate::streams::{Actor, Origin};
use crate::wire::ApiResult;

/// `table id ‖ seq` → [`OutboxRecord`] as JSON.
pub const KINESIS_OUTBOX: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kinesis_outbox");

/// One change waiting to be published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxRecord {
    /// The eventID (32 lowercase hex digits).
    pub id: String,
    /// INSERT, MODIFY or REMOVE.
    pub name: String,
    /// The change's time in microseconds since the epoch.
    pub at_us: i64,
    /// ApproximateCreationDateTime is shown in microseconds (else milliseconds).
    pub micros: bool,
    pub keys: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<serde_json::Value>,
    /// SizeBytes: Keys + NewImage + OldImage as DynamoDB counts item size.
    pub size: u64,
    /// Made by DynamoDB itself (a TTL deletion).
    #[serde(default)]
    pub service: bool,
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
/// and the write changes something. Runs before the item is stored or removed.
pub fn record(
    txn: &WriteTransaction,
    table: &TableDef,
    key_bytes: &[u8],
    new: Option<&Stored>,
    origin: &Origin,
) -> ApiResult<()> {
    let Some(dest) = table.kinesis.iter().find(|d| d.live()) else {
        return Ok(());
    };
    let Some(c) = crate::streams::capture(txn, table, key_bytes, new)? else {
        return Ok(());
    };
    let size = item_size(&c.keys)
        + c.new.as_ref().map(item_size).unwrap_or(0)
        + c.old.as_ref().map(item_size).unwrap_or(0);
    let json = |item: &Item| serde_json::to_value(item).map_err(internal);
    let micros = dest.micros();
    let rec = OutboxRecord {
        id: uuid::Uuid::new_v4().simple().to_string(),
        name: c.name.to_string(),
        at_us: origin.at_ms.saturating_mul(1000).saturating_add(if micros {
            sub_ms_micros()
        } else {
            0
        }),
        micros,
        keys: json(&c.keys)?,
        new: c.new.as_ref().map(json).transpose()?,
        old: c.old.as_ref().map(json).transpose()?,
        size: size as u64,
        service: origin.by == Actor::TimeToLive,
    };
    let value = serde_json::to_vec(&rec).map_err(internal)?;
    let seq = crate::streams::store::take_seq(txn)?;
    let mut t = txn.open_table(KINESIS_OUTBOX).map_err(internal)?;
    t.insert(key(table.id, seq).as_slice(), value.as_slice())
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
    for entry in t
        .range(lo.as_slice()..=hi.as_slice())
        .map_err(internal)?
        .take(limit)
    {
        let (k, v) = entry.map_err(internal)?;
        let rec: OutboxRecord = serde_json::from_slice(v.value()).map_err(internal)?;
        out.push((seq_of(k.value()), rec));
    }
    Ok(out)
}

/// Removes a table's entries with sequence numbers up to `through` (delivered).
pub fn ack(txn: &WriteTransaction, table_id: u64, through: u64) -> ApiResult<()> {
    let mut t = txn.open_table(KINESIS_OUTBOX).map_err(internal)?;
    let (lo, hi) = (key(table_id, 0), key(table_id, through));
    t.retain_in(lo.as_slice()..=hi.as_slice(), |_, _| false)
        .map_err(internal)?;
    Ok(())
}

/// Removes every waiting entry of a table (its destination was disabled or failed).
pub fn clear(txn: &WriteTransaction, table_id: u64) -> ApiResult<()> {
    ack(txn, table_id, u64::MAX)
}
