//! The one moka cache behind both the item cache and the query cache: one byte budget
//! (`max_bytes`) through a weigher (key bytes + body bytes + fixed overhead), per-entry
//! expiry by kind (item, absent item, page), TinyLFU eviction. Entries are response bytes
//! ready to send, plus the table epoch / generation they were filled under. With
//! `serve_stale_on_error`, item entries are held `stale_for` past `item_ttl`: [`Store::get`]
//! then checks freshness itself and [`Store::get_stale`] reaches the expired ones.
//!
//! moka holds a [`Slot`] per key, and a new entry for a key already cached replaces the
//! slot's entry in place when it fits the bytes the slot was charged for. moka's own
//! update (and its removal) of a key flushes crossbeam-epoch's garbage bag, a ~2 KB
//! allocation and a global queue push per call (5–6 % of a write-through PutItem's
//! samples in session 16's profile; what that did and did not save is measured in README
//! "Benchmarks"), which an in-place replacement does not pay. A new key costs one extra
//! lookup (the miss that finds no slot). The slot's expiry follows its current entry
//! (moka reads it back through `expire_after_read`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use moka::notification::RemovalCause;
use moka::sync::Cache;

pub use super::entry::{Entry, EntryKind};
use super::keys::CacheKey;
use super::CacheConfig;
use crate::metrics as m;

/// Per-entry bookkeeping moka and our maps cost beyond the bytes themselves: moka's
/// (96 bytes, estimated), the [`Slot`] and its [`Entry`], each behind an `Arc` (two
/// counters each).
pub const ENTRY_OVERHEAD: usize = 96
    + std::mem::size_of::<Slot>()
    + std::mem::size_of::<Entry>()
    + 4 * std::mem::size_of::<usize>();

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

/// How far moka's expiry of a slot may drift from its entry's before a read moves it
/// (a read that moves it makes moka reschedule the slot's timer).
const EXPIRY_SLACK: Duration = Duration::from_millis(100);

/// A slot is charged for its entry's body rounded up to this, so that an entry a few
/// bytes larger still replaces it in place.
const CHARGE_STEP: usize = 64;

/// One key's place in moka: its current entry, replaceable in place, and the body bytes
/// moka weighed it at.
pub struct Slot {
    entry: ArcSwap<Entry>,
    charged: usize,
}

impl Slot {
    fn new(entry: Entry) -> Slot {
        let charged = entry.body.len().div_ceil(CHARGE_STEP) * CHARGE_STEP;
        Slot {
            entry: ArcSwap::from_pointee(entry),
            charged,
        }
    }

    fn entry(&self) -> Entry {
        Entry::clone(&self.entry.load())
    }

    /// Whether `entry` may replace this slot's in place: it fits the bytes charged and
    /// does not leave most of them unused.
    fn fits(&self, entry: &Entry) -> bool {
        let len = entry.body.len();
        len <= self.charged && len + CHARGE_STEP >= self.charged / 2
    }
}

impl Ttl {
    /// How long from `now` the entry `e` still lives (its kind's TTL from when it was made).
    fn remaining(&self, e: &Entry, now: Instant) -> Option<Duration> {
        let ttl = self.of(e)?;
        Some((e.filled + ttl).saturating_duration_since(now))
    }
}

impl moka::Expiry<CacheKey, Arc<Slot>> for Ttl {
    fn expire_after_create(&self, _: &CacheKey, v: &Arc<Slot>, _: Instant) -> Option<Duration> {
        self.of(&v.entry.load())
    }

    fn expire_after_read(
        &self,
        _: &CacheKey,
        v: &Arc<Slot>,
        read_at: Instant,
        current: Option<Duration>,
        _: Instant,
    ) -> Option<Duration> {
        let wanted = self.remaining(&v.entry.load(), read_at);
        match (current, wanted) {
            (Some(c), Some(w)) if c.max(w) - c.min(w) <= EXPIRY_SLACK => current,
            _ => wanted,
        }
    }

    fn expire_after_update(
        &self,
        _: &CacheKey,
        v: &Arc<Slot>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.of(&v.entry.load())
    }
}

pub fn weight(k: &CacheKey, v: &Arc<Slot>) -> u32 {
    u32::try_from(k.len() + v.charged + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
}

pub struct Store {
    cache: Cache<CacheKey, Arc<Slot>>,
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
        let e = self.cache.get(k)?.entry();
        match self.fresh_for {
            Some(fresh) if e.kind == EntryKind::Present && e.filled.elapsed() > fresh => None,
            _ => Some(e),
        }
    }

    /// The entry for `k` even if it is past its freshness (held for
    /// `serve_stale_on_error`); None when stale serving is off.
    pub fn get_stale(&self, k: &CacheKey) -> Option<Entry> {
        self.fresh_for?;
        Some(self.cache.get(k)?.entry())
    }

    /// Stores `v` under `k`: in place when `k`'s slot fits it (then a second lookup
    /// lets moka move the slot's expiry to the new entry's), else as a new slot.
    pub fn insert(&self, k: CacheKey, v: Entry) {
        if let Some(slot) = self.cache.get(&k).filter(|s| s.fits(&v)) {
            slot.entry.store(Arc::new(v));
            drop(self.cache.get(&k));
            return;
        }
        self.cache.insert(k, Arc::new(Slot::new(v)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use daxlite_engine::model::{AttributeValue, Item};

    fn item(text: &str) -> Entry {
        let mut item = Item::new();
        item.insert("pk".into(), AttributeValue::S(text.into()));
        Entry::present(&item, 0)
    }

    fn key() -> CacheKey {
        CacheKey::Item(bytes::Bytes::from_static(b"t\0k"))
    }

    fn body(store: &Store) -> Option<String> {
        store
            .get(&key())
            .map(|e| String::from_utf8_lossy(&e.body).into_owned())
    }

    #[test]
    fn a_fitting_entry_replaces_the_slot_in_place_and_a_larger_one_is_weighed_again() {
        let store = Store::new(&CacheConfig::default());
        store.insert(key(), item(&"a".repeat(100)));
        let weighed = store.weighted_size();
        store.insert(key(), item(&"b".repeat(90)));
        assert_eq!(
            body(&store),
            Some(format!(
                r#"{{"Item":{{"pk":{{"S":"{}"}}}}}}"#,
                "b".repeat(90)
            ))
        );
        assert_eq!(store.weighted_size(), weighed, "replaced in place");
        store.insert(key(), item(&"c".repeat(400)));
        assert!(body(&store).is_some_and(|b| b.contains(&"c".repeat(400))));
        assert!(store.weighted_size() >= weighed + 300, "weighed again");
        store.insert(key(), item("d"));
        assert!(body(&store).is_some_and(|b| b.contains(r#""S":"d""#)));
        assert!(
            store.weighted_size() < weighed,
            "a much smaller entry is weighed again"
        );
        assert_eq!(store.entry_count(), 1);
    }

    #[test]
    fn a_write_in_place_moves_the_expiry_to_the_new_entry() {
        let store = Store::new(&CacheConfig {
            item_ttl: Duration::from_millis(600),
            ..CacheConfig::default()
        });
        store.insert(key(), item("a"));
        std::thread::sleep(Duration::from_millis(400));
        store.insert(key(), item("b"));
        // Past the first entry's expiry, within the second's.
        std::thread::sleep(Duration::from_millis(400));
        assert!(body(&store).is_some_and(|b| b.contains(r#""S":"b""#)));
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(body(&store), None, "the second entry expires too");
    }

    #[test]
    fn an_absent_entry_in_place_takes_the_shorter_negative_ttl() {
        let store = Store::new(&CacheConfig {
            item_ttl: Duration::from_secs(60),
            negative_ttl: Some(Duration::from_millis(300)),
            ..CacheConfig::default()
        });
        store.insert(key(), item("a"));
        store.insert(key(), Entry::absent(0));
        assert_eq!(body(&store).as_deref(), Some("{}"));
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(body(&store), None);
    }
}
