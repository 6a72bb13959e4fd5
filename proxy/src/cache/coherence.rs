//! Ordering between fills and writes. Per-key versions (striped, so memory stays fixed)
//! make sure a miss-fill that started before a write can never land after it, and that
//! of two overlapping writes to one key neither leaves its value behind unless it was
//! alone. Per-table epochs (DeleteTable, schema changes, unknown keys) and per-table write
//! generations (coherent mode: Query and Scan pages) are checked on lookup, so
//! invalidating a table is O(1).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::keys::hash64;

const KEY_STRIPES: usize = 4096;
const TABLE_STRIPES: usize = 256;

/// A key's version when a fill or write started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

pub struct Coherence {
    keys: Box<[Mutex<u64>]>,
    epochs: Box<[AtomicU64]>,
    writes: Box<[AtomicU64]>,
}

impl Default for Coherence {
    fn default() -> Self {
        Coherence {
            keys: (0..KEY_STRIPES).map(|_| Mutex::new(0)).collect(),
            epochs: (0..TABLE_STRIPES).map(|_| AtomicU64::new(0)).collect(),
            writes: (0..TABLE_STRIPES).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// What a write does to its key's entry once the upstream answered.
pub enum WriteOutcome {
    /// The write succeeded and knows the new state: store it if no other write overlapped.
    Store,
    /// Success without a known new state, or an unknown outcome: drop the entry.
    Invalidate,
}

impl Coherence {
    fn stripe(&self, key: &[u8]) -> Option<&Mutex<u64>> {
        let i = (hash64(&[key]) % KEY_STRIPES as u64) as usize;
        self.keys.get(i)
    }

    fn table_slot<'a>(slots: &'a [AtomicU64], table: &[u8]) -> Option<&'a AtomicU64> {
        let i = (hash64(&[table]) % TABLE_STRIPES as u64) as usize;
        slots.get(i)
    }

    /// Taken before a fill's or a write's upstream call.
    pub fn ticket(&self, key: &[u8]) -> Ticket {
        Ticket(
            self.stripe(key)
                .and_then(|m| m.lock().ok().map(|v| *v))
                .unwrap_or(u64::MAX),
        )
    }

    /// Runs `insert` only if no write touched the key since `ticket` (atomic with writes).
    pub fn fill(&self, key: &[u8], ticket: Ticket, insert: impl FnOnce()) -> bool {
        let Some(Ok(v)) = self.stripe(key).map(Mutex::lock) else {
            return false;
        };
        if *v != ticket.0 {
            return false;
        }
        insert();
        true
    }

    /// After a write's upstream call: bumps the key's version and runs `store` (if this
    /// write was the only one since `ticket` and knows the new state) or `invalidate`.
    pub fn write(
        &self,
        key: &[u8],
        ticket: Option<Ticket>,
        outcome: WriteOutcome,
        store: impl FnOnce(),
        invalidate: impl FnOnce(),
    ) {
        let Some(Ok(mut v)) = self.stripe(key).map(Mutex::lock) else {
            invalidate();
            return;
        };
        let alone = ticket.is_some_and(|t| t.0 == *v);
        *v = v.wrapping_add(1);
        match outcome {
            WriteOutcome::Store if alone => store(),
            _ => invalidate(),
        }
    }

    /// The table's epoch: every entry of the table filled under an older epoch is dead.
    pub fn epoch(&self, table: &[u8]) -> u64 {
        Self::table_slot(&self.epochs, table)
            .map(|a| a.load(Ordering::Acquire))
            .unwrap_or(0)
    }

    pub fn bump_epoch(&self, table: &[u8]) {
        if let Some(a) = Self::table_slot(&self.epochs, table) {
            a.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The table's write generation (coherent mode: pages filled before a write are dead).
    pub fn generation(&self, table: &[u8]) -> u64 {
        Self::table_slot(&self.writes, table)
            .map(|a| a.load(Ordering::Acquire))
            .unwrap_or(0)
    }

    pub fn bump_generation(&self, table: &[u8]) {
        if let Some(a) = Self::table_slot(&self.writes, table) {
            a.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Kills every entry (admin flush).
    pub fn bump_all(&self) {
        for a in self.epochs.iter() {
            a.fetch_add(1, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_that_started_before_a_write_never_lands() {
        let c = Coherence::default();
        let fill = c.ticket(b"k");
        let write = c.ticket(b"k");
        let mut stored = Vec::new();
        c.write(
            b"k",
            Some(write),
            WriteOutcome::Store,
            || stored.push("new"),
            || {},
        );
        assert!(!c.fill(b"k", fill, || stored.push("old")));
        assert_eq!(stored, vec!["new"]);
        let later = c.ticket(b"k");
        assert!(c.fill(b"k", later, || stored.push("fresh")));
    }

    #[test]
    fn overlapping_writes_invalidate() {
        let c = Coherence::default();
        let w1 = c.ticket(b"k");
        let w2 = c.ticket(b"k");
        let log = std::cell::RefCell::new(Vec::new());
        let push = |s: &'static str| log.borrow_mut().push(s);
        c.write(
            b"k",
            Some(w2),
            WriteOutcome::Store,
            || push("store2"),
            || push("inv2"),
        );
        c.write(
            b"k",
            Some(w1),
            WriteOutcome::Store,
            || push("store1"),
            || push("inv1"),
        );
        assert_eq!(log.into_inner(), vec!["store2", "inv1"]);
    }

    #[test]
    fn epochs_and_generations_move() {
        let c = Coherence::default();
        let e = c.epoch(b"t");
        c.bump_epoch(b"t");
        assert_ne!(c.epoch(b"t"), e);
        let g = c.generation(b"t");
        c.bump_generation(b"t");
        assert_ne!(c.generation(b"t"), g);
    }
}
