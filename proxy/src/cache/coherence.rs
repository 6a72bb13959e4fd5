//! Ordering between fills and writes. Per-key versions (striped, so memory stays fixed)
//! make sure a miss-fill that started before a write can never land after it, and that
//! of two overlapping writes to one key neither leaves its value behind unless it was
//! alone. Per-table epochs (DeleteTable, schema changes, unknown keys), per-table write
//! generations (coherent mode: Scan pages and GSI Query pages) and per-partition write
//! generations (coherent mode: base-table and LSI Query pages of one partition key) are
//! checked on lookup, so a write costs O(1) and never scans the cache. Counters are
//! striped: two partitions sharing a stripe only cost each other extra misses.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::keys::hash64;

const KEY_STRIPES: usize = 4096;
const TABLE_STRIPES: usize = 256;
const PARTITION_STRIPES: usize = 8192;

/// Which write generation a cached page depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every write to the table (Scan, GSI Query, Query whose partition is not known).
    Table,
    /// Writes to one partition: the stripe of `table ‖ 0 ‖ encoded partition key`.
    Partition(u64),
}

impl Scope {
    /// The scope of a page over the partition whose key bytes are `partition`.
    pub fn partition(partition: &[u8]) -> Scope {
        Scope::Partition(hash64(&[partition]) % PARTITION_STRIPES as u64)
    }
}

/// A key's version when a fill or write started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

pub struct Coherence {
    keys: Box<[Mutex<u64>]>,
    epochs: Box<[AtomicU64]>,
    writes: Box<[AtomicU64]>,
    partitions: Box<[AtomicU64]>,
}

impl Default for Coherence {
    fn default() -> Self {
        Coherence {
            keys: (0..KEY_STRIPES).map(|_| Mutex::new(0)).collect(),
            epochs: (0..TABLE_STRIPES).map(|_| AtomicU64::new(0)).collect(),
            writes: (0..TABLE_STRIPES).map(|_| AtomicU64::new(0)).collect(),
            partitions: (0..PARTITION_STRIPES).map(|_| AtomicU64::new(0)).collect(),
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

    /// The write generation a page of `scope` depends on (coherent mode: pages filled
    /// before a write in their scope are dead).
    pub fn generation(&self, table: &[u8], scope: Scope) -> u64 {
        let slot = match scope {
            Scope::Table => Self::table_slot(&self.writes, table),
            Scope::Partition(i) => self.partitions.get(i as usize),
        };
        slot.map(|a| a.load(Ordering::Acquire)).unwrap_or(0)
    }

    /// A write (or possible write) to the table: kills its Scan and GSI pages, and the
    /// Query pages of `partition` (`table ‖ 0 ‖ encoded partition key`) when known. A
    /// write whose partition is not known must also bump the epoch (`bump_epoch`).
    pub fn bump_generation(&self, table: &[u8], partition: Option<&[u8]>) {
        if let Some(a) = Self::table_slot(&self.writes, table) {
            a.fetch_add(1, Ordering::AcqRel);
        }
        if let Some(Scope::Partition(i)) = partition.map(Scope::partition) {
            if let Some(a) = self.partitions.get(i as usize) {
                a.fetch_add(1, Ordering::AcqRel);
            }
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
        let p = Scope::partition(b"t\0a");
        let other = Scope::partition(b"t\0b");
        let (g, gp, go) = (
            c.generation(b"t", Scope::Table),
            c.generation(b"t", p),
            c.generation(b"t", other),
        );
        c.bump_generation(b"t", Some(b"t\0a"));
        assert_ne!(c.generation(b"t", Scope::Table), g);
        assert_ne!(c.generation(b"t", p), gp);
        assert_eq!(c.generation(b"t", other), go, "another partition stays");
    }
}
