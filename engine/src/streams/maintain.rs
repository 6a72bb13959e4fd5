//! The streams' share of the background task, in one write transaction: close the open
//! shard of a disabled stream, roll a current stream's open shard over to a child shard
//! (by record count or age), trim records past retention and, oldest first, past the
//! size cap, forget trimmed shards and, after retention, disabled streams with nothing left.

use redb::{ReadableTable, WriteTransaction};

use super::store::{self, record_key, seq_of, StoredRecord, StreamMeta};
use crate::catalog::{self, Lifecycle};
use crate::storage::{internal, STREAM_RECORDS};
use crate::wire::ApiResult;

/// What the maintenance follows (from `EngineConfig`).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub retention_ms: i64,
    pub shard_max_records: u64,
    pub shard_max_age_ms: i64,
    /// The most bytes of records one stream retains (0: no cap, retention by time only).
    pub max_bytes: u64,
}

/// Whether `meta` is its table's current stream.
pub fn is_current(txn: &WriteTransaction, meta: &StreamMeta) -> ApiResult<bool> {
    Ok(catalog::load_for_write(txn, &meta.table)?.is_some_and(|d| {
        d.id == meta.table_id
            && matches!(d.lifecycle, Lifecycle::Live)
            && d.stream.as_ref().is_some_and(|s| s.label == meta.label)
    }))
}

/// Runs every step on every stream. Returns how many records were trimmed.
pub fn run(txn: &WriteTransaction, now_ms: i64, s: &Settings) -> ApiResult<u64> {
    let mut trimmed = 0;
    for key in store::keys_for_write(txn)? {
        let Some(mut meta) = store::load_for_write(txn, &key)? else {
            continue;
        };
        let before = meta.clone();
        let current = is_current(txn, &meta)?;
        if current {
            roll_if_due(txn, &mut meta, now_ms, s)?;
        } else {
            meta.disabled_ms.get_or_insert(now_ms);
            if let Some(open) = meta.open_shard().cloned() {
                let end = last_in(txn, &key, open.start)?.unwrap_or(open.start);
                if let Some(last) = meta.shards.last_mut() {
                    last.end = Some(end);
                }
            }
        }
        trimmed += trim(txn, &mut meta, now_ms - s.retention_ms, s.max_bytes)?;
        let empty = last_in(txn, &key, 0)?.is_none();
        let expired = meta
            .disabled_ms
            .is_some_and(|d| now_ms - d >= s.retention_ms);
        if !current && empty && expired {
            store::remove(txn, &key)?;
        } else if meta != before {
            store::save(txn, &meta)?;
        }
    }
    Ok(trimmed)
}

/// The last sequence number of a stream at or after `from`.
fn last_in(txn: &WriteTransaction, stream: &[u8], from: u64) -> ApiResult<Option<u64>> {
    let table = txn.open_table(STREAM_RECORDS)?;
    let (lo, hi) = (record_key(stream, from), record_key(stream, u64::MAX));
    let last = table.range(lo.as_slice()..=hi.as_slice())?.next_back();
    match last {
        Some(entry) => Ok(Some(seq_of(entry?.0.value()))),
        None => Ok(None),
    }
}

fn roll_if_due(
    txn: &WriteTransaction,
    meta: &mut StreamMeta,
    now_ms: i64,
    s: &Settings,
) -> ApiResult<()> {
    let Some(open) = meta.open_shard().cloned() else {
        return Ok(());
    };
    let key = meta.key();
    let Some(last) = last_in(txn, &key, open.start)? else {
        // An empty shard stays open: rolling it would only make empty shards.
        return Ok(());
    };
    let old = s.shard_max_age_ms > 0 && now_ms - open.created_ms >= s.shard_max_age_ms;
    let full = s.shard_max_records > 0 && {
        let table = txn.open_table(STREAM_RECORDS)?;
        let (lo, hi) = (record_key(&key, open.start), record_key(&key, u64::MAX));
        let limit = usize::try_from(s.shard_max_records).unwrap_or(usize::MAX);
        let n = table
            .range(lo.as_slice()..=hi.as_slice())?
            .take(limit)
            .count();
        n as u64 >= s.shard_max_records
    };
    if old || full {
        meta.roll(last, now_ms);
    }
    Ok(())
}

/// Removes the records written before `cutoff_ms`, then the oldest records while the
/// stream holds more than `max_bytes` (0: no cap), and the closed shards left empty. A
/// reader positioned on a removed record gets TrimmedDataAccessException, whichever rule
/// removed it.
fn trim(
    txn: &WriteTransaction,
    meta: &mut StreamMeta,
    cutoff_ms: i64,
    max_bytes: u64,
) -> ApiResult<u64> {
    let key = meta.key();
    let retained = match store::retained_bytes(txn, &key)? {
        Some(bytes) => bytes,
        None => {
            let counted = count_bytes(txn, &key)?;
            store::set_bytes(txn, &key, counted)?;
            counted
        }
    };
    let mut doomed = Vec::new();
    let mut freed = 0u64;
    {
        let table = txn.open_table(STREAM_RECORDS)?;
        let (lo, hi) = (record_key(&key, 0), record_key(&key, u64::MAX));
        for entry in table
            .range(lo.as_slice()..=hi.as_slice())
            .map_err(internal)?
        {
            let (k, v) = entry.map_err(internal)?;
            let over_cap = max_bytes > 0 && retained.saturating_sub(freed) > max_bytes;
            if !over_cap {
                let rec: StoredRecord = serde_json::from_slice(v.value()).map_err(internal)?;
                if rec.at_ms >= cutoff_ms {
                    break;
                }
            }
            freed += v.value().len() as u64;
            doomed.push(seq_of(k.value()));
        }
    }
    if let Some(&last) = doomed.last() {
        let mut table = txn.open_table(STREAM_RECORDS)?;
        for seq in &doomed {
            table.remove(record_key(&key, *seq).as_slice())?;
        }
        meta.trimmed_through = meta.trimmed_through.max(last);
        store::set_bytes(txn, &key, retained.saturating_sub(freed))?;
    }
    let through = meta.trimmed_through;
    meta.shards
        .retain(|sh| !(sh.end.is_some_and(|e| e <= through) && sh.created_ms < cutoff_ms));
    Ok(doomed.len() as u64)
}

/// The bytes of every record a stream holds (once, for data files without the counter).
fn count_bytes(txn: &WriteTransaction, stream: &[u8]) -> ApiResult<u64> {
    let table = txn.open_table(STREAM_RECORDS).map_err(internal)?;
    let (lo, hi) = (record_key(stream, 0), record_key(stream, u64::MAX));
    let mut total = 0u64;
    for entry in table
        .range(lo.as_slice()..=hi.as_slice())
        .map_err(internal)?
    {
        total += entry.map_err(internal)?.1.value().len() as u64;
    }
    Ok(total)
}
