//! Authorization decisions remembered per identity, for requests that repeat exactly —
//! what a cache's hits are. A decision is a pure function of the identity's policies, the
//! operation, the body, the connection's condition keys (source address, TLS) and what
//! daxlite has learned from the upstream (key schemas, resource-based policies); the last
//! is covered by a generation the service bumps whenever a request could change it, so
//! an entry from an older generation is never used. Entries are looked up by a hash and
//! confirmed by comparing the whole body, so a collision is a miss, never another
//! request's decision.
//!
//! Only read operations with a body of at most [`MAX_BODY`] bytes are remembered, and
//! never for an identity whose policies read `aws:CurrentTime` or `aws:EpochTime` (their
//! decisions change with the clock). At most [`BUDGET`] bytes per identity (bodies and
//! entries): a shard over its share forgets all its entries.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use daxlite_engine::wire::{ApiError, Operation};

/// The largest body remembered (a GetItem or a small Query; larger bodies are decided
/// each time).
pub const MAX_BODY: usize = 1024;

/// The memory remembered decisions may take per identity: about 75,000 GetItem bodies.
pub const BUDGET: usize = 16 << 20;

/// What one entry costs besides its body (the entry, the map's slot and the allocation).
const ENTRY_BYTES: usize = 128;

const SHARDS: usize = 8;

/// One shard: the entries by body hash and the bytes they take (no Debug: it would
/// print request bodies).
#[derive(Default)]
struct Shard {
    entries: HashMap<u64, Entry>,
    bytes: usize,
}

/// The generation of everything daxlite learned from the upstream that decisions read.
#[derive(Debug, Default)]
pub struct Generation(AtomicU64);

impl Generation {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Makes every remembered decision stale.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// What a decision was made for, besides the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    pub op: Operation,
    pub body: &'a [u8],
    pub peer: Option<IpAddr>,
    pub secure: bool,
}

struct Entry {
    op: Operation,
    body: Box<[u8]>,
    peer: Option<IpAddr>,
    secure: bool,
    generation: u64,
    decision: Result<(), ApiError>,
}

/// One identity's remembered decisions (Debug shows how many, never the bodies).
pub struct Decisions {
    enabled: bool,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
}

impl std::fmt::Debug for Decisions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decisions")
            .field("enabled", &self.enabled)
            .field("remembered", &self.len())
            .finish()
    }
}

impl Decisions {
    /// `enabled`: false for identities whose decisions depend on the time.
    pub fn new(enabled: bool) -> Decisions {
        Decisions {
            enabled,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    fn remembers(&self, r: &Request<'_>) -> bool {
        use Operation::*;
        self.enabled
            && r.body.len() <= MAX_BODY
            && matches!(
                r.op,
                GetItem | BatchGetItem | Query | Scan | TransactGetItems
            )
    }

    fn slot(&self, r: &Request<'_>) -> (usize, u64) {
        let h = self.hasher.hash_one(r.body);
        ((h as usize) % SHARDS, h)
    }

    /// The decision made for exactly this request in generation `generation`, if any.
    pub fn get(&self, r: &Request<'_>, generation: u64) -> Option<Result<(), ApiError>> {
        if !self.remembers(r) {
            return None;
        }
        let (shard, h) = self.slot(r);
        let map = self.shards.get(shard)?.lock().ok()?;
        let e = map.entries.get(&h)?;
        (e.generation == generation
            && e.op == r.op
            && e.peer == r.peer
            && e.secure == r.secure
            && *e.body == *r.body)
            .then(|| e.decision.clone())
    }

    /// Remembers `decision`, made for `r` with what was known at `generation`.
    pub fn put(&self, r: &Request<'_>, generation: u64, decision: &Result<(), ApiError>) {
        if !self.remembers(r) {
            return;
        }
        let (shard, h) = self.slot(r);
        let Some(Ok(mut map)) = self.shards.get(shard).map(Mutex::lock) else {
            return;
        };
        let cost = ENTRY_BYTES + r.body.len();
        if map.bytes + cost > BUDGET / SHARDS {
            map.entries.clear();
            map.bytes = 0;
        }
        map.bytes += cost;
        let old = map.entries.insert(
            h,
            Entry {
                op: r.op,
                body: r.body.into(),
                peer: r.peer,
                secure: r.secure,
                generation,
                decision: decision.clone(),
            },
        );
        if let Some(old) = old {
            map.bytes -= ENTRY_BYTES + old.body.len();
        }
    }

    /// How many decisions are remembered.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .filter_map(|s| s.lock().ok().map(|m| m.entries.len()))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use daxlite_engine::wire::ErrorCode;

    fn req(body: &[u8]) -> Request<'_> {
        Request {
            op: Operation::GetItem,
            body,
            peer: None,
            secure: false,
        }
    }

    #[test]
    fn a_decision_is_used_only_for_the_same_request_in_the_same_generation() {
        let d = Decisions::new(true);
        let denied: Result<(), ApiError> =
            Err(ApiError::new(ErrorCode::AccessDeniedException, "no"));
        d.put(&req(b"{\"a\":1}"), 3, &denied);
        assert_eq!(d.get(&req(b"{\"a\":1}"), 3), Some(denied.clone()));
        assert_eq!(d.get(&req(b"{\"a\":1}"), 4), None, "a newer generation");
        assert_eq!(d.get(&req(b"{\"a\":2}"), 3), None, "another body");
        let mut other = req(b"{\"a\":1}");
        other.peer = Some(IpAddr::from([10, 0, 0, 1]));
        assert_eq!(d.get(&other, 3), None, "another source address");
        other = req(b"{\"a\":1}");
        other.secure = true;
        assert_eq!(d.get(&other, 3), None, "over TLS");
        other = req(b"{\"a\":1}");
        other.op = Operation::Query;
        assert_eq!(d.get(&other, 3), None, "another operation");
    }

    #[test]
    fn writes_large_bodies_and_time_dependent_identities_are_not_remembered() {
        let d = Decisions::new(true);
        let mut put = req(b"{}");
        put.op = Operation::PutItem;
        d.put(&put, 0, &Ok(()));
        assert_eq!(d.get(&put, 0), None);
        let big = vec![b' '; MAX_BODY + 1];
        d.put(&req(&big), 0, &Ok(()));
        assert_eq!(d.get(&req(&big), 0), None);
        let timed = Decisions::new(false);
        timed.put(&req(b"{}"), 0, &Ok(()));
        assert_eq!(timed.get(&req(b"{}"), 0), None);
    }

    #[test]
    fn memory_is_bounded_by_the_budget() {
        let d = Decisions::new(true);
        let body = |i: usize| format!("{{\"k\":{i:0>1000}}}");
        let most = BUDGET / (ENTRY_BYTES + body(0).len());
        // A quarter of the budget fits whole (each shard holds about a quarter of its share).
        for i in 0..most / 4 {
            d.put(&req(body(i).as_bytes()), 0, &Ok(()));
        }
        assert_eq!(d.len(), most / 4);
        // Three times the budget never holds more than it.
        for i in 0..(3 * most) {
            d.put(&req(body(i).as_bytes()), 0, &Ok(()));
            assert!(d.len() <= most, "{} entries, at most {most}", d.len());
        }
        // The last one put is there.
        assert_eq!(d.get(&req(body(3 * most - 1).as_bytes()), 0), Some(Ok(())));
    }
}
