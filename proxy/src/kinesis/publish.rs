//! One destination's publisher: checks the stream exists (DescribeStreamSummary; a
//! missing stream makes the destination ENABLE_FAILED with a reason), then reads the
//! table's outbox from its head, sends a batch with PutRecords, and acknowledges it in
//! the engine once every record of it was stored — so delivery is at least once and
//! survives restarts (a batch sent but not acknowledged is sent again).
//!
//! A batch holds at most one record per item (PartitionKey) and stays within
//! PutRecords' limits (≤ 500 records, ≤ 5 MiB). PutRecords does not order entries
//! among themselves, and a partial failure retries only the failed entries: with one
//! record per item in flight, each item's records still reach its shard in commit
//! order. Throttling (ProvisionedThroughputExceededException), unreachable endpoints and
//! faults are retried with exponential backoff (`crate::backoff`) without end.

use std::collections::HashSet;

use daxlite_engine::kinesis::outbox::OutboxRecord;
use daxlite_engine::kinesis::{record, stream_name, Live};
use daxlite_engine::Engine;

use super::client::{CallError, Entry, Kinesis};
use super::config::KinesisConfig;
use crate::backoff::Backoff;
use crate::metrics as m;

/// PutRecords' request limit on Data + PartitionKey bytes.
pub const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;

/// One record ready to send, with its outbox sequence number.
struct Ready {
    seq: u64,
    at_us: i64,
    entry: Entry,
}

/// The longest prefix of `pending` that fits one PutRecords call with one record per
/// partition key (always at least one record).
/// An entry whose images do not decode is skipped (logged): it cannot be published.
fn batch(pending: &[(u64, OutboxRecord)], dest: &Live, region: &str, max: usize) -> Vec<Ready> {
    let mut out = Vec::new();
    let mut keys = HashSet::new();
    let mut bytes = 0usize;
    for (seq, rec) in pending.iter().take(max) {
        let made = record::data(*seq, dest.table_id, rec, &dest.table, &dest.keys, region);
        let Some(made) = made else {
            tracing::error!(table = %dest.table, seq, "kinesis: an outbox entry does not decode; skipped");
            continue;
        };
        let entry = Entry {
            data: made.data,
            partition_key: made.partition_key,
        };
        let size = entry.data.len() + entry.partition_key.len();
        let fits = bytes + size <= MAX_BATCH_BYTES;
        if !out.is_empty() && (!fits || keys.contains(&entry.partition_key)) {
            break;
        }
        bytes += size;
        keys.insert(entry.partition_key.clone());
        out.push(Ready {
            seq: *seq,
            at_us: rec.at_us,
            entry,
        });
    }
    out
}

/// Runs until the destination fails (its stream is gone); the supervisor aborts it
/// when the destination is disabled.
pub async fn run(engine: Engine, kinesis: Kinesis, config: KinesisConfig, dest: Live) {
    let stream = stream_name(&dest.stream_arn)
        .unwrap_or_default()
        .to_string();
    let mut backoff = Backoff::new(config.backoff, config.max_backoff);
    if !check_stream(&engine, &kinesis, &dest, &stream, &mut backoff).await {
        return;
    }
    let mut feed = engine.changes();
    let region = engine.region().to_string();
    let label = dest.table.clone();
    loop {
        let pending = match engine.kinesis_pending(dest.table_id, config.batch_records) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(table = %dest.table, error = %e, "kinesis: cannot read the outbox");
                tokio::time::sleep(config.poll_interval).await;
                continue;
            }
        };
        let oldest = pending.first().map(|(_, r)| r.at_us);
        metrics::gauge!(m::KINESIS_LAG, "table" => label.clone()).set(lag_seconds(oldest));
        if pending.is_empty() {
            // Woken by any commit (or the interval); the outbox says what is new.
            let _ = tokio::time::timeout(config.poll_interval, feed.recv()).await;
            continue;
        }
        let ready = batch(&pending, &dest, &region, config.batch_records);
        let Some(last) = ready.last().map(|r| r.seq) else {
            // Only undecodable entries: drop them.
            let last = pending.last().map(|(seq, _)| *seq).unwrap_or(0);
            if let Err(e) = engine.kinesis_ack(dest.table_id, last).await {
                tracing::warn!(table = %dest.table, error = %e, "kinesis: cannot save the position");
            }
            continue;
        };
        if !send(&engine, &kinesis, &dest, &stream, ready, &mut backoff).await {
            return;
        }
        if let Err(e) = engine.kinesis_ack(dest.table_id, last).await {
            tracing::warn!(table = %dest.table, error = %e, "kinesis: cannot save the position");
        }
    }
}

/// The age of the oldest change still to deliver (`None`: nothing waits).
fn lag_seconds(oldest_us: Option<i64>) -> f64 {
    let Some(oldest_us) = oldest_us else {
        return 0.0;
    };
    let now_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    (now_us - oldest_us).max(0) as f64 / 1e6
}

/// Waits until the stream answers; `false` (and the destination ENABLE_FAILED) when it
/// does not exist.
async fn check_stream(
    engine: &Engine,
    kinesis: &Kinesis,
    dest: &Live,
    stream: &str,
    backoff: &mut Backoff,
) -> bool {
    loop {
        match kinesis.stream_status(stream).await {
            Ok(_) => {
                backoff.reset();
                return true;
            }
            Err(CallError::NotFound(message)) => {
                fail(engine, dest, &message).await;
                return false;
            }
            Err(e) => {
                tracing::warn!(table = %dest.table, error = %e, "kinesis: cannot reach the stream");
                backoff.wait().await;
            }
        }
    }
}

async fn fail(engine: &Engine, dest: &Live, message: &str) {
    let reason = format!(
        "Kinesis stream {} is not available: {message}",
        dest.stream_arn
    );
    tracing::error!(table = %dest.table, "kinesis: destination failed: {reason}");
    if let Err(e) = engine
        .kinesis_failed(&dest.table, &dest.stream_arn, &reason)
        .await
    {
        tracing::warn!(table = %dest.table, error = %e, "kinesis: cannot mark the destination failed");
    }
}

/// Keeps, in order, the records whose PutRecords result has an ErrorCode (the ones to
/// send again); answers how many were stored.
fn keep_failed<T>(ready: &mut Vec<T>, results: Vec<Option<String>>) -> usize {
    let before = ready.len();
    let mut results = results.into_iter();
    ready.retain(|_| results.next().flatten().is_some());
    before - ready.len()
}

/// Sends `ready` until Kinesis stored every record; `false` when the stream is gone.
async fn send(
    engine: &Engine,
    kinesis: &Kinesis,
    dest: &Live,
    stream: &str,
    mut ready: Vec<Ready>,
    backoff: &mut Backoff,
) -> bool {
    let label = dest.table.clone();
    loop {
        let oldest = ready.iter().map(|r| r.at_us).min();
        metrics::gauge!(m::KINESIS_LAG, "table" => label.clone()).set(lag_seconds(oldest));
        let entries: Vec<Entry> = ready.iter().map(|r| r.entry.clone()).collect();
        let failed = match kinesis.put_records(stream, &entries).await {
            Ok(results) => {
                let stored = keep_failed(&mut ready, results);
                metrics::counter!(m::KINESIS_DELIVERED, "table" => label.clone())
                    .increment(stored as u64);
                if ready.is_empty() {
                    backoff.reset();
                    return true;
                }
                tracing::debug!(table = %dest.table, failed = ready.len(), "kinesis: PutRecords partly failed");
                ready.len()
            }
            Err(CallError::NotFound(message)) => {
                fail(engine, dest, &message).await;
                return false;
            }
            Err(e) => {
                tracing::warn!(table = %dest.table, error = %e, "kinesis: PutRecords failed");
                ready.len()
            }
        };
        metrics::counter!(m::KINESIS_FAILED, "table" => label.clone()).increment(failed as u64);
        backoff.wait().await;
        metrics::counter!(m::KINESIS_RETRIED, "table" => label.clone()).increment(failed as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(pk: &str) -> OutboxRecord {
        let json = format!(r#"{{"pk":{{"S":"{pk}"}}}}"#);
        let mut stored = vec![0, 0, 0, 2];
        stored.extend_from_slice(json.as_bytes());
        OutboxRecord {
            name: "INSERT",
            at_us: 0,
            micros: false,
            service: false,
            new: Some(stored),
            old: None,
        }
    }

    fn dest() -> Live {
        Live {
            table: "t".into(),
            table_id: 1,
            keys: vec!["pk".into()],
            stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
        }
    }

    #[test]
    fn a_partial_failure_keeps_only_the_failed_records_in_order() {
        let mut ready = vec![1, 2, 3, 4, 5];
        let results = vec![
            None,
            Some("ProvisionedThroughputExceededException".to_string()),
            None,
            Some("InternalFailure".to_string()),
            None,
        ];
        assert_eq!(keep_failed(&mut ready, results), 3);
        assert_eq!(ready, vec![2, 4]);
        let mut all = vec![1, 2];
        assert_eq!(keep_failed(&mut all, vec![None, None]), 2);
        assert!(all.is_empty());
    }

    #[test]
    fn a_batch_stops_before_a_second_change_of_one_item() {
        let pending = vec![(1, rec("a")), (2, rec("b")), (3, rec("a")), (4, rec("c"))];
        let b = batch(&pending, &dest(), "us-east-1", 500);
        assert_eq!(b.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![1, 2]);
        let b = batch(&pending[2..], &dest(), "us-east-1", 1);
        assert_eq!(b.len(), 1);
    }
}
