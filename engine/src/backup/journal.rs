//! The point-in-time recovery journal: while a table has PITR on, `write::on_write`
//! appends one entry per item change in the same storage transaction (so the journal
//! can never disagree with the items). An entry holds the item's key and its value
//! before and after the change. A restore to time T takes the current items and undoes
//! every entry newer than T; entries older than the recovery window are trimmed by the
//! background task; disabling PITR drops the table's journal. Tables without PITR never
//! reach this module.
//!
//! Key: table id (8 BE) ‖ time ms (8 BE) ‖ sequence (8 BE). The time is the write's time,
//! but never less than the previous entry's (a monotonic journal clock kept in `meta`),
//! so key order is commit order.

use std::collections::BTreeMap;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};

use crate::catalog::TableDef;
use crate::storage::items::{self, Stored};
use crate::storage::{META, PITR_JOURNAL};
use crate::streams::Origin;
use crate::wire::{ApiError, ApiResult};

/// One journaled change: the key without its table id, the value before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: Vec<u8>,
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
}

impl Entry {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            16 + self.key.len()
                + self.old.as_ref().map_or(0, Vec::len)
                + self.new.as_ref().map_or(0, Vec::len),
        );
        put(&mut out, Some(&self.key));
        put(&mut out, self.old.as_deref());
        put(&mut out, self.new.as_deref());
        out
    }

    fn decode(mut bytes: &[u8]) -> ApiResult<Entry> {
        let key = take(&mut bytes)?.ok_or_else(corrupt)?;
        let old = take(&mut bytes)?;
        let new = take(&mut bytes)?;
        Ok(Entry { key, old, new })
    }
}

/// Writes `present (u8) ‖ length (u32 BE) ‖ bytes`.
fn put(out: &mut Vec<u8>, part: Option<&[u8]>) {
    match part {
        None => out.push(0),
        Some(b) => {
            out.push(1);
            out.extend_from_slice(&(b.len() as u32).to_be_bytes());
            out.extend_from_slice(b);
        }
    }
}

fn take(bytes: &mut &[u8]) -> ApiResult<Option<Vec<u8>>> {
    let (&flag, rest) = bytes.split_first().ok_or_else(corrupt)?;
    if flag == 0 {
        *bytes = rest;
        return Ok(None);
    }
    let len = rest
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(corrupt)? as usize;
    let value = rest.get(4..4 + len).ok_or_else(corrupt)?.to_vec();
    *bytes = rest.get(4 + len..).unwrap_or_default();
    Ok(Some(value))
}

fn corrupt() -> ApiError {
    tracing::error!("corrupt point-in-time recovery journal entry");
    ApiError::internal("Internal server error")
}

fn entry_key(table_id: u64, at_ms: i64, seq: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(&table_id.to_be_bytes());
    k[8..16].copy_from_slice(&(at_ms.max(0) as u64).to_be_bytes());
    k[16..].copy_from_slice(&seq.to_be_bytes());
    k
}

/// The next (time, sequence) of the journal clock: never earlier than the last entry.
fn tick(txn: &WriteTransaction, at_ms: i64) -> ApiResult<(i64, u64)> {
    let mut meta = txn.open_table(META)?;
    let (last_ms, last_seq) = match meta.get("journal_clock")? {
        Some(v) => {
            let b = v.value();
            (
                crate::storage::layout_u64(b) as i64,
                crate::storage::layout_u64(b.get(8..).unwrap_or_default()),
            )
        }
        None => (0, 0),
    };
    let now = at_ms.max(last_ms);
    let seq = last_seq + 1;
    let mut buf = [0u8; 16];
    buf[..8].copy_from_slice(&(now as u64).to_be_bytes());
    buf[8..].copy_from_slice(&seq.to_be_bytes());
    meta.insert("journal_clock", buf.as_slice())?;
    Ok((now, seq))
}

/// Journals one item change (called by `write::on_write` before the item changes, only
/// for tables with PITR on). A write that changes nothing is not journaled.
pub fn record(
    txn: &WriteTransaction,
    table: &TableDef,
    key: &[u8],
    new: Option<&Stored>,
    origin: &Origin,
) -> ApiResult<()> {
    let old = items::get_for_write(txn, key)?;
    if old.as_ref().map(|s| s.0.as_slice()) == new.map(|s| s.0.as_slice()) {
        return Ok(());
    }
    let entry = Entry {
        key: key.get(8..).unwrap_or_default().to_vec(),
        old: old.map(|s| s.0),
        new: new.map(|s| s.0.clone()),
    };
    let (at, seq) = tick(txn, origin.at_ms)?;
    let mut journal = txn.open_table(PITR_JOURNAL)?;
    journal.insert(
        entry_key(table.id, at, seq).as_slice(),
        entry.encode().as_slice(),
    )?;
    Ok(())
}

/// What a restore to `at_ms` must change in the table as `snapshot` sees it: for each key
/// written after `at_ms`, its value at `at_ms` (`None`: the item did not exist).
pub fn undo_after(
    snapshot: &ReadTransaction,
    table_id: u64,
    at_ms: i64,
) -> ApiResult<BTreeMap<Vec<u8>, Option<Vec<u8>>>> {
    let journal = snapshot.open_table(PITR_JOURNAL)?;
    let lo = entry_key(table_id, at_ms.saturating_add(1), 0);
    let hi = (table_id + 1).to_be_bytes();
    let mut out = BTreeMap::new();
    for row in journal.range(lo.as_slice()..hi.as_slice())? {
        let (_, v) = row?;
        let entry = Entry::decode(v.value())?;
        // The oldest entry after `at_ms` holds the value the key had at `at_ms`.
        out.entry(entry.key).or_insert(entry.old);
    }
    Ok(out)
}

/// One key's net change over a window (incremental export): its value before the first
/// change in the window, after the last, and the last change's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetChange {
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
    pub last_ms: i64,
}

/// Every key changed in `[from_ms, to_ms)` with its net change, in key order.
pub fn changes_between(
    snapshot: &ReadTransaction,
    table_id: u64,
    from_ms: i64,
    to_ms: i64,
) -> ApiResult<BTreeMap<Vec<u8>, NetChange>> {
    let journal = snapshot.open_table(PITR_JOURNAL)?;
    let lo = entry_key(table_id, from_ms, 0);
    let hi = entry_key(table_id, to_ms, 0);
    let mut out: BTreeMap<Vec<u8>, NetChange> = BTreeMap::new();
    for row in journal.range(lo.as_slice()..hi.as_slice())? {
        let (k, v) = row?;
        let at = crate::storage::layout_u64(k.value().get(8..).unwrap_or_default()) as i64;
        let entry = Entry::decode(v.value())?;
        match out.get_mut(&entry.key) {
            Some(change) => {
                change.new = entry.new;
                change.last_ms = at;
            }
            None => {
                out.insert(
                    entry.key,
                    NetChange {
                        old: entry.old,
                        new: entry.new,
                        last_ms: at,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Drops a table's entries older than `before_ms` (all of them with `i64::MAX`).
pub fn trim(txn: &WriteTransaction, table_id: u64, before_ms: i64) -> ApiResult<u64> {
    trim_at_most(txn, table_id, before_ms, u64::MAX)
}

/// [`trim`], dropping at most `limit` entries (the background task's bound per tick, so
/// a long-unused window never holds the writer up for long).
pub fn trim_at_most(
    txn: &WriteTransaction,
    table_id: u64,
    before_ms: i64,
    limit: u64,
) -> ApiResult<u64> {
    let mut journal = txn.open_table(PITR_JOURNAL)?;
    let lo = entry_key(table_id, 0, 0);
    let hi = if before_ms == i64::MAX {
        (table_id + 1).to_be_bytes().to_vec()
    } else {
        entry_key(table_id, before_ms, 0).to_vec()
    };
    let mut n = 0u64;
    journal.retain_in(lo.as_slice()..hi.as_slice(), |_, _| {
        n += 1;
        n > limit
    })?;
    Ok(n.min(limit))
}

/// The most journal entries one background tick trims.
const TRIM_PER_TICK: u64 = 10_000;

/// The background task's share: trims each PITR table's journal to its recovery window
/// and drops expired SYSTEM backups. Returns the entries (and backups) dropped.
pub fn maintain(txn: &WriteTransaction, now_ms: i64) -> ApiResult<u64> {
    let defs: Vec<TableDef> = {
        let catalog = txn.open_table(crate::storage::CATALOG)?;
        let mut out = Vec::new();
        for entry in catalog.iter()? {
            let (_, v) = entry?;
            if let Ok(def) = serde_json::from_slice::<TableDef>(v.value()) {
                out.push(def);
            }
        }
        out
    };
    let mut dropped = 0;
    for def in defs {
        if let Some(p) = &def.pitr {
            let before = now_ms - p.period_days.saturating_mul(86_400_000);
            dropped += trim_at_most(txn, def.id, before, TRIM_PER_TICK)?;
        }
    }
    dropped += super::expire(txn, now_ms)? as u64;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn trimming_is_bounded_and_keeps_the_window() {
        let store = crate::storage::Store::open(&crate::Backend::InMemory, 0).unwrap();
        let left = store
            .write(|txn| {
                {
                    let mut j = txn.open_table(PITR_JOURNAL)?;
                    for (table, at) in [(7u64, 10i64), (7, 20), (7, 30), (7, 40), (7, 50), (8, 1)] {
                        let e = Entry {
                            key: vec![1],
                            old: None,
                            new: Some(vec![2]),
                        };
                        j.insert(
                            entry_key(table, at, at as u64).as_slice(),
                            e.encode().as_slice(),
                        )?;
                    }
                }
                // Older than 45 in table 7: four entries, at most three per call.
                assert_eq!(trim_at_most(txn, 7, 45, 3)?, 3);
                assert_eq!(trim_at_most(txn, 7, 45, 3)?, 1);
                assert_eq!(trim_at_most(txn, 7, 45, 3)?, 0);
                let j = txn.open_table(PITR_JOURNAL)?;
                let keys: Vec<Vec<u8>> = j
                    .iter()?
                    .map(|r| r.map(|(k, _)| k.value().to_vec()))
                    .collect::<Result<_, _>>()?;
                Ok(keys)
            })
            .await
            .unwrap();
        assert_eq!(
            left,
            vec![entry_key(7, 50, 50).to_vec(), entry_key(8, 1, 1).to_vec()]
        );
        store.close();
    }

    #[test]
    fn entries_round_trip_and_reject_truncation() {
        let e = Entry {
            key: vec![1, 2, 3],
            old: None,
            new: Some(b"xyz".to_vec()),
        };
        let bytes = e.encode();
        assert_eq!(Entry::decode(&bytes).ok(), Some(e));
        for cut in 0..bytes.len() - 1 {
            assert!(Entry::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
