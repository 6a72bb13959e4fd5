//! The one moka cache behind both the item cache and the query cache: one byte budget
//! (`max_bytes`) through a weigher (key bytes + body bytes + fixed overhead), per-entry
//! expiry by kind (item, absent item, page), TinyLFU eviction. Entries are response bytes
//! ready to send, plus the table epoch / generation they were filled under. With
//! `serve_stale_on_error`, item entries are held `stale_for` past `item_ttl`: [`Store::get`]
//! then checks freshness itself and [`Store::get_stale`] reaches the expired ones.

use std::time::{Duration, Instant};

use moka::notification::RemovalCause;
use moka::sync::Cache;

pub use super::entry::{Entry, EntryKind};
use super::keys::CacheKey;
use super::CacheConfig;
use crate::metrics as m;

/// Per-entry bookkeeping moka and our maps cost beyond the bytes themselves.
pub const ENTRY_OVERHEAD: usize = 96;

struct Ttl {
    item: Option<Duration>,
    negative: Option<Duration>,
    query: Option<Duration>,
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

impl Ttl {
    fn of(&self, e: &Entry) -> Option<Duration> {
        match e.kind {
            EntryKind::Present => self.item,
            EntryKind::Absent => self.negative,
            EntryKind::Page => self.query,
        }
    }
}

impl moka::Expiry<CacheKey, Entry> for Ttl {
    fn expire_after_create(&self, _: &CacheKey, v: &Entry, _: Instant) -> Option<Duration> {
        self.of(v)
    }

    fn expire_after_update(
        &self,
        _: &CacheKey,
        v: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.of(v)
    }
}

pub fn weight(k: &CacheKey, v: &Entry) -> u32 {
    u32::try_from(k.len() + v.body.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
}

pub struct Store {
    cache: Cache<CacheKey, Entry>,
    max_bytes: u64,
    /// With `serve_stale_on_error`: how long an item entry is fresh (it is held longer).
    fresh_for: Option<Duration>,
}

impl Store {
    pub fn new(config: &CacheConfig) -> Store {
        let fresh_for = config.stale_for.and_then(|_| nonzero(config.item_ttl));
        let held = fresh_for.map(|f| f.saturating_add(config.stale_for.unwrap_or_default()));
        let ttl = Ttl {
            item: held.or(nonzero(config.item_ttl)),
            negative: config.negative_ttl.and_then(nonzero),
            query: nonzero(config.query_ttl),
        };
        let cache = Cache::builder()
            .max_capacity(config.max_bytes)
            .weigher(weight)
            .expire_after(ttl)
            .eviction_listener(|k, v, cause| {
                if matches!(cause, RemovalCause::Size | RemovalCause::Expired) {
                    metrics::counter!(m::EVICTED_BYTES).increment(u64::from(weight(&k, &v)));
                }
            })
            .build();
        Store {
            cache,
            max_bytes: config.max_bytes,
            fresh_for,
        }
    }

    /// The live entry for `k` (an item held only for stale serving is not live).
    pub fn get(&self, k: &CacheKey) -> Option<Entry> {
        let e = self.cache.get(k)?;
        match self.fresh_for {
            Some(fresh) if e.kind == EntryKind::Present && e.filled.elapsed() > fresh => None,
            _ => Some(e),
        }
    }

    /// The entry for `k` even if it is past its freshness (held for
    /// `serve_stale_on_error`); None when stale serving is off.
    pub fn get_stale(&self, k: &CacheKey) -> Option<Entry> {
        self.fresh_for?;
        self.cache.get(k)
    }

    pub fn insert(&self, k: CacheKey, v: Entry) {
        self.cache.insert(k, v);
        self.set_gauges(self.cache.weighted_size());
    }

    fn set_gauges(&self, used: u64) {
        metrics::gauge!(m::CACHE_BYTES).set(used as f64);
        metrics::gauge!(m::CACHE_MEMORY_UTILIZATION).set(used as f64 / self.max_bytes as f64);
    }

    /// Brings `cache_bytes` and `cache_memory_utilization` up to date (after pending
    /// evictions, expiries and invalidations ran); runs on `/metrics` and admin stats.
    pub fn publish_gauges(&self) -> u64 {
        let used = self.weighted_size();
        self.set_gauges(used);
        used
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    pub fn invalidate(&self, k: &CacheKey) {
        self.cache.invalidate(k);
    }

    pub fn clear(&self) {
        self.cache.invalidate_all();
    }

    /// The weighted size after pending maintenance ran (tests, stats).
    pub fn weighted_size(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.weighted_size()
    }

    pub fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }
}
