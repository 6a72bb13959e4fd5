//! The stream tables (layout in `engine/FORMAT.md`): one `streams` entry per stream
//! (table id ‖ label) holding its shards, one `stream_records` entry per record keyed by
//! stream and sequence number, and the global sequence counter in `meta`. A shard owns
//! the records whose sequence numbers fall in its range, so rolling a shard over rewrites
//! only the stream entry.

use std::ops::RangeInclusive;

use redb::{ReadTransaction, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{KeySchema, StreamSpec, TableDef};
use crate::model::Item;
use crate::storage::{internal, layout_u64, META, STREAMS, STREAM_BYTES, STREAM_RECORDS};
use crate::wire::ApiResult;

/// Sequence numbers are shown as `10^20 + n`: numeric strings of 21 digits (DynamoDB's
/// are 21 or more), strictly increasing.
const SEQ_BASE: u128 = 100_000_000_000_000_000_000;
const SEQ_COUNTER: &str = "next_stream_sequence";

/// The text form of a sequence number.
pub fn seq_text(seq: u64) -> String {
    (SEQ_BASE + u128::from(seq)).to_string()
}

/// Parses a sequence number this engine handed out.
pub fn parse_seq(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u128 = text.parse().ok()?;
    n.checked_sub(SEQ_BASE).and_then(|v| u64::try_from(v).ok())
}

/// One stream record as stored: everything but the region and view type, which come
/// from the engine and the stream when the record is read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub id: String,
    pub name: String,
    pub at_ms: i64,
    pub keys: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<serde_json::Value>,
    pub size: u64,
    /// Made by DynamoDB itself (a TTL deletion): the record carries `userIdentity`.
    #[serde(default)]
    pub service: bool,
    /// Global tables: the change's hybrid-clock stamp (0: the table was not replicated).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub clock: u64,
    /// Global tables: the region a replicated change came from (`None`: made here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A record being appended, as [`StoredRecord`] stores it, with the images borrowed and
/// serialised straight into the stored bytes (no intermediate JSON tree per image).
#[derive(Debug, Serialize)]
pub struct NewRecord<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub at_ms: i64,
    pub keys: &'a Item,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<&'a Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<&'a Item>,
    pub size: u64,
    pub service: bool,
    #[serde(skip_serializing_if = "is_zero")]
    pub clock: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<&'a str>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One shard: the records with sequence numbers from `start` to `end` (open: no end).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardMeta {
    pub id: String,
    pub parent: Option<String>,
    pub start: u64,
    pub end: Option<u64>,
    pub created_ms: i64,
}

/// A stream: where it comes from, and its shards (oldest first; the last may be open).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamMeta {
    pub table_id: u64,
    pub table: String,
    pub label: String,
    pub view_type: String,
    pub keys: KeySchema,
    pub created_ms: i64,
    pub shards: Vec<ShardMeta>,
    /// How many shards the stream ever had (names the next one).
    pub shard_count: u32,
    /// Records with sequence numbers up to this one were trimmed (0: none).
    pub trimmed_through: u64,
    /// When the background task first saw the stream disabled.
    pub disabled_ms: Option<i64>,
}

impl StreamMeta {
    /// A new stream of `def` with one open shard starting at sequence number `start`.
    pub fn new(def: &TableDef, spec: &StreamSpec, start: u64, fallback_ms: i64) -> StreamMeta {
        let created_ms = label_ms(&spec.label).unwrap_or(fallback_ms);
        StreamMeta {
            table_id: def.id,
            table: def.name.clone(),
            label: spec.label.clone(),
            view_type: spec.view_type.clone(),
            keys: def.keys.clone(),
            created_ms,
            shards: vec![ShardMeta {
                id: shard_id(def.id, &spec.label, 0, created_ms),
                parent: None,
                start,
                end: None,
                created_ms,
            }],
            shard_count: 1,
            trimmed_through: 0,
            disabled_ms: None,
        }
    }

    pub fn key(&self) -> Vec<u8> {
        stream_key(self.table_id, &self.label)
    }

    pub fn open_shard(&self) -> Option<&ShardMeta> {
        self.shards.last().filter(|s| s.end.is_none())
    }

    pub fn shard(&self, id: &str) -> Option<&ShardMeta> {
        self.shards.iter().find(|s| s.id == id)
    }

    /// Closes the open shard at `end` and opens its child, starting after it.
    pub fn roll(&mut self, end: u64, now_ms: i64) {
        let Some(open) = self.shards.last_mut().filter(|s| s.end.is_none()) else {
            return;
        };
        open.end = Some(end.max(open.start));
        let parent = open.id.clone();
        let start = end.max(open.start) + 1;
        let index = self.shard_count;
        self.shard_count += 1;
        self.shards.push(ShardMeta {
            id: shard_id(self.table_id, &self.label, index, now_ms),
            parent: Some(parent),
            start,
            end: None,
            created_ms: now_ms,
        });
    }
}

/// `table id (8 BE) ‖ label length (1) ‖ label`.
pub fn stream_key(table_id: u64, label: &str) -> Vec<u8> {
    let mut k = table_id.to_be_bytes().to_vec();
    k.push(u8::try_from(label.len()).unwrap_or(u8::MAX));
    k.extend_from_slice(label.as_bytes());
    k
}

/// `stream key ‖ sequence number (8 BE)`.
pub fn record_key(stream: &[u8], seq: u64) -> Vec<u8> {
    let mut k = stream.to_vec();
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

/// DynamoDB's shard id shape: `shardId-<20 digits of creation time>-<8 hex digits>`.
pub fn shard_id(table_id: u64, label: &str, index: u32, created_ms: i64) -> String {
    let mut h = Sha256::new();
    h.update(table_id.to_be_bytes());
    h.update(label.as_bytes());
    h.update(index.to_be_bytes());
    let digest = h.finalize();
    format!(
        "shardId-{:020}-{}",
        created_ms.max(0),
        hex::encode(digest.get(..4).unwrap_or_default())
    )
}

/// The time a stream label (`2024-01-31T12:34:56.789`) names, in ms since the epoch.
pub fn label_ms(label: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| label.get(r).and_then(|s| s.parse::<i64>().ok());
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms)
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(bytes).map_err(internal)
}

/// Every stream that still has an entry, in key order (table id, then label).
pub fn all(txn: &ReadTransaction) -> ApiResult<Vec<StreamMeta>> {
    let table = txn.open_table(STREAMS)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (_, v) = entry?;
        out.push(decode(v.value())?);
    }
    Ok(out)
}

pub fn load(txn: &ReadTransaction, key: &[u8]) -> ApiResult<Option<StreamMeta>> {
    let table = txn.open_table(STREAMS)?;
    let v = table.get(key)?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn load_for_write(txn: &WriteTransaction, key: &[u8]) -> ApiResult<Option<StreamMeta>> {
    let table = txn.open_table(STREAMS)?;
    let v = table.get(key)?;
    v.map(|v| decode(v.value())).transpose()
}

/// Every stream key, for the background task.
pub fn keys_for_write(txn: &WriteTransaction) -> ApiResult<Vec<Vec<u8>>> {
    let table = txn.open_table(STREAMS)?;
    let mut out = Vec::new();
    for entry in table.iter()? {
        let (k, _) = entry?;
        out.push(k.value().to_vec());
    }
    Ok(out)
}

pub fn save(txn: &WriteTransaction, meta: &StreamMeta) -> ApiResult<()> {
    let bytes = serde_json::to_vec(meta).map_err(internal)?;
    let mut table = txn.open_table(STREAMS)?;
    table.insert(meta.key().as_slice(), bytes.as_slice())?;
    Ok(())
}

pub fn remove(txn: &WriteTransaction, key: &[u8]) -> ApiResult<()> {
    let mut table = txn.open_table(STREAMS).map_err(internal)?;
    table.remove(key).map_err(internal)?;
    let mut bytes = txn.open_table(STREAM_BYTES).map_err(internal)?;
    bytes.remove(key).map_err(internal)?;
    Ok(())
}

/// The sequence number the next record of any stream will get.
pub fn peek_seq(txn: &ReadTransaction) -> ApiResult<u64> {
    let meta = txn.open_table(META)?;
    let v = meta.get(SEQ_COUNTER)?;
    Ok(v.map(|v| layout_u64(v.value())).unwrap_or(1).max(1))
}

fn take_seq(txn: &WriteTransaction) -> ApiResult<u64> {
    let mut meta = txn.open_table(META)?;
    let current = meta
        .get(SEQ_COUNTER)?
        .map(|v| layout_u64(v.value()))
        .unwrap_or(1)
        .max(1);
    meta.insert(SEQ_COUNTER, (current + 1).to_be_bytes().as_slice())?;
    Ok(current)
}

/// Stores one record in the table's current stream, creating the stream's entry with
/// its first record.
pub fn append(
    txn: &WriteTransaction,
    def: &TableDef,
    spec: &StreamSpec,
    rec: &NewRecord<'_>,
) -> ApiResult<()> {
    let key = stream_key(def.id, &spec.label);
    let exists = txn.open_table(STREAMS)?.get(key.as_slice())?.is_some();
    let value = serde_json::to_vec(rec).map_err(internal)?;
    let seq = take_seq(txn)?;
    if !exists {
        save(txn, &StreamMeta::new(def, spec, seq, rec.at_ms))?;
    }
    let mut records = txn.open_table(STREAM_RECORDS).map_err(internal)?;
    records
        .insert(record_key(&key, seq).as_slice(), value.as_slice())
        .map_err(internal)?;
    add_bytes(txn, &key, value.len() as i64)
}

/// The bytes of a stream's retained records (`None`: not counted yet — a data file from
/// before the counter existed).
pub fn retained_bytes(txn: &WriteTransaction, stream: &[u8]) -> ApiResult<Option<u64>> {
    let table = txn.open_table(STREAM_BYTES).map_err(internal)?;
    let v = table.get(stream).map_err(internal)?;
    Ok(v.map(|v| layout_u64(v.value())))
}

/// Adds `delta` (negative: removed records) to a stream's retained bytes.
pub fn add_bytes(txn: &WriteTransaction, stream: &[u8], delta: i64) -> ApiResult<()> {
    let now = retained_bytes(txn, stream)?.unwrap_or(0);
    set_bytes(txn, stream, now.saturating_add_signed(delta))
}

/// Sets a stream's retained bytes (after counting them once).
pub fn set_bytes(txn: &WriteTransaction, stream: &[u8], bytes: u64) -> ApiResult<()> {
    let mut table = txn.open_table(STREAM_BYTES).map_err(internal)?;
    table
        .insert(stream, bytes.to_be_bytes().as_slice())
        .map_err(internal)?;
    Ok(())
}

fn bounds(stream: &[u8], seqs: RangeInclusive<u64>) -> (Vec<u8>, Vec<u8>) {
    (
        record_key(stream, *seqs.start()),
        record_key(stream, *seqs.end()),
    )
}

/// Up to `limit` records of a stream with sequence numbers in `seqs`, in order.
pub fn read(
    txn: &ReadTransaction,
    stream: &[u8],
    seqs: RangeInclusive<u64>,
    limit: usize,
) -> ApiResult<Vec<(u64, StoredRecord)>> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let table = txn.open_table(STREAM_RECORDS)?;
    let (lo, hi) = bounds(stream, seqs);
    let mut out = Vec::new();
    for entry in table.range(lo.as_slice()..=hi.as_slice())?.take(limit) {
        let (k, v) = entry?;
        out.push((seq_of(k.value()), decode(v.value())?));
    }
    Ok(out)
}

/// The sequence number at the end of a record key.
pub fn seq_of(key: &[u8]) -> u64 {
    key.len()
        .checked_sub(8)
        .and_then(|at| key.get(at..))
        .map(layout_u64)
        .unwrap_or(0)
}

/// The last sequence number of a stream within `seqs`, if any record is there.
pub fn last_seq(
    txn: &ReadTransaction,
    stream: &[u8],
    seqs: RangeInclusive<u64>,
) -> ApiResult<Option<u64>> {
    let table = txn.open_table(STREAM_RECORDS)?;
    let (lo, hi) = bounds(stream, seqs);
    let last = table.range(lo.as_slice()..=hi.as_slice())?.next_back();
    match last {
        Some(entry) => Ok(Some(seq_of(entry?.0.value()))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::model::AttributeValue;

    /// A record appended from borrowed images reads back as the images' DynamoDB JSON.
    #[test]
    fn a_new_record_reads_back_as_a_stored_record() {
        let keys = Item::from([("pk".to_string(), AttributeValue::S("a".into()))]);
        let mut new = keys.clone();
        new.insert(
            "n".into(),
            AttributeValue::N(crate::model::number::Number::parse("1.50").unwrap()),
        );
        new.insert("b".into(), AttributeValue::B(vec![0, 255]));
        new.insert(
            "m".into(),
            AttributeValue::M(Item::from([("x".to_string(), AttributeValue::Bool(true))])),
        );
        let rec = NewRecord {
            id: "id1",
            name: "INSERT",
            at_ms: 5,
            keys: &keys,
            new: Some(&new),
            old: None,
            size: 42,
            service: false,
            clock: 0,
            from: None,
        };
        let stored: StoredRecord =
            serde_json::from_slice(&serde_json::to_vec(&rec).unwrap()).unwrap();
        assert_eq!(
            stored,
            StoredRecord {
                id: "id1".into(),
                name: "INSERT".into(),
                at_ms: 5,
                keys: serde_json::to_value(&keys).unwrap(),
                new: Some(serde_json::to_value(&new).unwrap()),
                old: None,
                size: 42,
                service: false,
                clock: 0,
                from: None,
            }
        );
        let replicated = NewRecord {
            old: Some(&keys),
            new: None,
            clock: 7,
            from: Some("eu-west-1"),
            service: true,
            ..rec
        };
        let stored: StoredRecord =
            serde_json::from_slice(&serde_json::to_vec(&replicated).unwrap()).unwrap();
        assert_eq!(stored.new, None);
        assert_eq!(stored.old, Some(serde_json::to_value(&keys).unwrap()));
        assert_eq!(
            (stored.clock, stored.from.as_deref(), stored.service),
            (7, Some("eu-west-1"), true)
        );
    }
}
