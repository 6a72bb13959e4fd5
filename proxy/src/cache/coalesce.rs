//! [`Coalescer`]: one upstream fill per key however many requests miss on it at once
//! (moka's `try_get_with`, pingora's `RTCache`). The first request for a key runs the
//! fill; the others wait for its value. The key leaves the in-flight map when the fill
//! finishes, *before* its waiters wake, so a request that arrives after the fill (for
//! example after a write) starts a fresh one instead of sharing an old answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::OnceCell;

/// The fills in flight, by cache key.
pub struct Coalescer<T> {
    inflight: Mutex<HashMap<Bytes, Arc<OnceCell<T>>>>,
}

impl<T> Default for Coalescer<T> {
    fn default() -> Self {
        Coalescer {
            inflight: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Coalescer<T> {
    /// Runs `fill` for `key`, or waits for the fill already running for it, and returns
    /// the fill's value. `None` only if the in-flight map is unusable (a panicked holder);
    /// the caller then asks the upstream itself.
    pub async fn get_or_fill<F, Fut>(&self, key: &Bytes, fill: F) -> Option<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = self
            .inflight
            .lock()
            .ok()
            .map(|mut map| Arc::clone(map.entry(key.clone()).or_default()))?;
        let value = cell
            .get_or_init(|| async {
                let value = fill().await;
                self.finish(key, &cell);
                value
            })
            .await;
        Some(value.clone())
    }

    /// Removes `cell` from the map (unless a newer fill for the key replaced it).
    fn finish(&self, key: &Bytes, cell: &Arc<OnceCell<T>>) {
        if let Ok(mut map) = self.inflight.lock() {
            if map.get(key).is_some_and(|c| Arc::ptr_eq(c, cell)) {
                map.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_misses_share_one_fill_and_later_ones_start_another() {
        let c: Coalescer<usize> = Coalescer::default();
        let runs = AtomicUsize::new(0);
        let gate = tokio::sync::Notify::new();
        let key = Bytes::from_static(b"k");
        let fill = || async {
            gate.notified().await;
            runs.fetch_add(1, Ordering::SeqCst) + 1
        };
        let a = c.get_or_fill(&key, fill);
        let b = c.get_or_fill(&key, || async { 99 });
        let release = async {
            tokio::task::yield_now().await;
            gate.notify_one();
        };
        let (a, b, ()) = tokio::join!(a, b, release);
        assert_eq!(
            (a, b),
            (Some(1), Some(1)),
            "the waiter shares the leader's value"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // The key left the map: the next miss runs its own fill.
        assert_eq!(c.get_or_fill(&key, || async { 7 }).await, Some(7));
    }
}
