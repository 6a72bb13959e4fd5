//! Invalidation by others' writes. [`Cached::invalidate_written`] is the one hook: it
//! drops a key's entry and the table's cached pages as a write through this daxlite
//! would. Two sources call it: the embedded engine's change feed ([`follow_engine`]:
//! exact, after each commit — Time to Live deletions, which bypass the cache) and a
//! remote upstream's DynamoDB Streams (`follow_streams`, `[cache] follow_streams`).

use std::sync::Weak;

use bytes::Bytes;
use daxlite_engine::changes::Changes;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use super::coherence::WriteOutcome;
use super::keys::CacheKey;
use super::Cached;
use crate::metrics as m;
use crate::service::Service;
use crate::upstream::Upstream;

/// Histogram: seconds from a change's stream record (ApproximateCreationDateTime) to its
/// invalidation here (`follow_streams`).
pub const FOLLOW_DELAY: &str = "daxlite_cache_follow_delay_seconds";

impl<U: Upstream> Cached<U> {
    /// Someone else wrote `key` (`enc(pk) ‖ enc(sk)`, as the engine's change feed gives
    /// it) of `table`: drop the entry, make fills in flight for it stale, and drop the
    /// table's cached pages.
    pub fn invalidate_written(&self, table: &str, key: &[u8], cause: &'static str) {
        let mut full = Vec::with_capacity(table.len() + 1 + key.len());
        full.extend_from_slice(table.as_bytes());
        full.push(0);
        full.extend_from_slice(key);
        self.invalidate_item_key(table, Bytes::from(full), cause);
    }

    /// [`Cached::invalidate_written`] with the whole item cache key (`table ‖ 0 ‖ key`).
    pub(super) fn invalidate_item_key(&self, table: &str, key: Bytes, cause: &'static str) {
        // The partition is not known here (the key bytes carry no schema): every page of
        // the table goes.
        self.coherence.bump_generation(table.as_bytes(), None);
        self.coherence.bump_epoch(table.as_bytes());
        let ck = CacheKey::Item(key.clone());
        self.coherence.write(
            &key,
            None,
            WriteOutcome::Invalidate,
            || {},
            || self.store.invalidate(&ck),
        );
        metrics::counter!(m::INVALIDATIONS, "cause" => cause).increment(1);
    }

    /// The key of a stream record's `Keys` for `table`, then [`Self::invalidate_item_key`];
    /// the whole table when the key cannot be known.
    pub(super) async fn invalidate_keys_json(&self, table: &str, keys: &serde_json::Value) {
        let schema = self.schemas.get(&self.inner, table).await;
        match schema.and_then(|s| super::keys::key_param(table, &s, keys)) {
            Some(k) => self.invalidate_item_key(table, k, "stream"),
            None => self.forget_table(table, "stream"),
        }
    }

    /// Forgets everything of `table` (its stream could not be followed without a gap).
    pub(super) fn forget_followed_table(&self, table: &str) {
        self.forget_table(table, "stream");
    }
}

/// Follows the embedded engine's change feed until `stop`: every change DynamoDB itself
/// made (Time to Live) and every change another region replicated here (global tables)
/// is invalidated; callers' writes all pass through this cache already. A lagging receiver (more than the feed's buffer behind) flushes the cache.
pub fn follow_engine<U: Upstream>(
    service: Weak<Service<Cached<U>>>,
    mut feed: broadcast::Receiver<Changes>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let got = tokio::select! {
                got = feed.recv() => got,
                _ = stop.changed() => return,
            };
            let Some(service) = service.upgrade() else {
                return;
            };
            let cache = service.upstream();
            match got {
                Ok(changes) => {
                    for c in changes.iter().filter(|c| c.by_service || c.replicated) {
                        let cause = if c.replicated {
                            "replication"
                        } else {
                            "time_to_live"
                        };
                        cache.invalidate_written(&c.table, &c.key, cause);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "cache fell behind the change feed: flushed");
                    cache.flush();
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    })
}
