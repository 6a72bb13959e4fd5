//! `[cache] follow_streams`: polls the upstream's DynamoDB Streams (ListStreams,
//! DescribeStream, GetShardIterator, GetRecords through the inner upstream) and
//! invalidates the key of every record, so writes made by other clients of the upstream
//! (another daxlite, an application writing to DynamoDB directly) reach this cache
//! within about one poll interval. Shards open when following starts are read from
//! LATEST (the cache was empty before); shards found later, from TRIM_HORIZON. The
//! delay from each record's creation to its invalidation is the
//! `daxlite_cache_follow_delay_seconds` histogram.

use std::collections::HashMap;
use std::sync::Weak;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::follow::FOLLOW_DELAY;
use super::Cached;
use crate::service::Service;
use crate::stream_reader::{self as sr, From, ReadError};
use crate::upstream::Upstream;

/// Streams and shards are listed again every this many polls (and whenever a shard ends).
const REFRESH_EVERY: u32 = 20;
/// Records asked per GetRecords.
const LIMIT: usize = 1000;

/// One shard being read.
struct ShardState {
    iterator: Option<String>,
    last: Option<String>,
}

/// One stream being followed.
struct StreamState {
    table: String,
    shards: HashMap<String, ShardState>,
    /// Shards read to their end (or skipped because closed at start).
    done: Vec<String>,
}

/// Everything the follower knows.
#[derive(Default)]
struct Follower {
    streams: HashMap<String, StreamState>,
    started: bool,
}

/// Starts following the inner upstream's streams every `interval` until `stop`.
pub fn follow_streams<U: Upstream>(
    service: Weak<Service<Cached<U>>>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut state = Follower::default();
        let mut polls: u32 = 0;
        loop {
            let Some(svc) = service.upgrade() else {
                return;
            };
            let refresh = polls == 0;
            let ended = tokio::select! {
                ended = state.poll(svc.upstream(), refresh) => ended,
                _ = stop.changed() => return,
            };
            drop(svc);
            polls = if ended {
                0
            } else {
                (polls + 1) % REFRESH_EVERY
            };
            if !ended {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {},
                    _ = stop.changed() => return,
                }
            }
        }
    })
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Follower {
    /// One round; answers whether a shard ended (list again right away).
    async fn poll<U: Upstream>(&mut self, cache: &Cached<U>, refresh: bool) -> bool {
        if refresh {
            if let Err(e) = self.refresh(cache).await {
                tracing::debug!(error = %e, "follow_streams: cannot list streams");
            }
        }
        let mut ended = false;
        for (arn, stream) in self.streams.iter_mut() {
            let ids: Vec<String> = stream.shards.keys().cloned().collect();
            for id in ids {
                ended |= read_shard(cache, arn, stream, &id).await;
            }
        }
        ended
    }

    /// Lists streams and their shards; new shards get iterators.
    async fn refresh<U: Upstream>(&mut self, cache: &Cached<U>) -> Result<(), ReadError> {
        let up = cache.inner();
        let listed = sr::list_streams(up).await?;
        self.streams
            .retain(|arn, _| listed.iter().any(|(a, _)| a == arn));
        for (arn, table) in listed {
            let first_sight = !self.started || !self.streams.contains_key(&arn);
            let at_start = !self.started;
            let (shards, _) = match sr::shards(up, &arn).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(stream = %arn, error = %e, "follow_streams: DescribeStream");
                    continue;
                }
            };
            let stream = self.streams.entry(arn.clone()).or_insert(StreamState {
                table,
                shards: HashMap::new(),
                done: Vec::new(),
            });
            for shard in &shards {
                if stream.shards.contains_key(&shard.id) || stream.done.contains(&shard.id) {
                    continue;
                }
                let from = if at_start && first_sight {
                    if shard.ending.is_some() {
                        stream.done.push(shard.id.clone());
                        continue;
                    }
                    From::Latest
                } else {
                    From::TrimHorizon
                };
                match sr::iterator(up, &arn, &shard.id, &from).await {
                    Ok(it) => {
                        stream.shards.insert(
                            shard.id.clone(),
                            ShardState {
                                iterator: Some(it),
                                last: None,
                            },
                        );
                    }
                    Err(e) => tracing::debug!(shard = %shard.id, error = %e, "follow_streams"),
                }
            }
            stream.done.retain(|d| shards.iter().any(|s| &s.id == d));
        }
        self.started = true;
        Ok(())
    }
}

/// Reads one shard once; answers whether it ended.
async fn read_shard<U: Upstream>(
    cache: &Cached<U>,
    arn: &str,
    stream: &mut StreamState,
    id: &str,
) -> bool {
    let up = cache.inner();
    let Some(shard) = stream.shards.get_mut(id) else {
        return false;
    };
    let iterator = match shard.iterator.take() {
        Some(it) => it,
        None => {
            let from = match &shard.last {
                Some(seq) => From::After(seq.clone()),
                None => From::TrimHorizon,
            };
            match sr::iterator(up, arn, id, &from).await {
                Ok(it) => it,
                Err(e) => return failed(cache, stream, id, None, &e),
            }
        }
    };
    match sr::records(up, &iterator, LIMIT).await {
        Ok((records, next)) => {
            for r in &records {
                if let Some(keys) = r.pointer("/dynamodb/Keys") {
                    cache.invalidate_keys_json(&stream.table, keys).await;
                }
                if let Some(at) = r
                    .pointer("/dynamodb/ApproximateCreationDateTime")
                    .and_then(Value::as_f64)
                {
                    metrics::histogram!(FOLLOW_DELAY).record((now_secs() - at).max(0.0));
                }
            }
            let Some(shard) = stream.shards.get_mut(id) else {
                return false;
            };
            if let Some(last) = records.last().and_then(sr::sequence_number) {
                shard.last = Some(last.to_string());
            }
            match next {
                Some(n) => {
                    shard.iterator = Some(n);
                    false
                }
                None => {
                    stream.shards.remove(id);
                    stream.done.push(id.to_string());
                    true
                }
            }
        }
        Err(e) => failed(cache, stream, id, Some(iterator), &e),
    }
}

/// A read failed. Expired iterator: a new one from the last record next time. Other
/// (transient) failures: the same iterator again next time. Trimmed: changes were
/// missed, so the table's entries go and the shard is read again from its oldest
/// record. Not found: the shard is gone (its table's entries go too).
fn failed<U: Upstream>(
    cache: &Cached<U>,
    stream: &mut StreamState,
    id: &str,
    iterator: Option<String>,
    e: &ReadError,
) -> bool {
    tracing::debug!(shard = %id, error = %e, "follow_streams: read failed");
    match e {
        ReadError::Expired => false,
        ReadError::Other(_) => {
            if let Some(shard) = stream.shards.get_mut(id) {
                shard.iterator = iterator;
            }
            false
        }
        ReadError::Trimmed => {
            cache.forget_followed_table(&stream.table);
            if let Some(shard) = stream.shards.get_mut(id) {
                shard.last = None;
            }
            false
        }
        ReadError::NotFound => {
            cache.forget_followed_table(&stream.table);
            stream.shards.remove(id);
            stream.done.push(id.to_string());
            true
        }
    }
}
