//! Hit and miss counters by table, as handles kept per table, so counting a hit is a
//! read-locked map lookup by `&str` and an atomic add — no label allocation and no
//! recorder lookup on the hot path. Handles are registered on a table's first count
//! (hits and misses are only counted for tables the upstream answered for, so the label
//! stays bounded by tables that exist).

use std::collections::HashMap;
use std::sync::RwLock;

use metrics::Counter;

use crate::metrics as m;

/// Which counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    GetHit,
    GetMiss,
    BatchHit,
    BatchMiss,
    QueryHit,
    QueryMiss,
    ScanHit,
    ScanMiss,
}

struct TableCounters([Counter; 8]);

impl TableCounters {
    fn new(table: &str) -> TableCounters {
        let t = || table.to_string();
        TableCounters([
            metrics::counter!(m::ITEM_CACHE_HITS, "operation" => "GetItem", "table" => t()),
            metrics::counter!(m::ITEM_CACHE_MISSES, "operation" => "GetItem", "table" => t()),
            metrics::counter!(m::ITEM_CACHE_HITS, "operation" => "BatchGetItem", "table" => t()),
            metrics::counter!(m::ITEM_CACHE_MISSES, "operation" => "BatchGetItem", "table" => t()),
            metrics::counter!(m::QUERY_CACHE_HITS, "table" => t()),
            metrics::counter!(m::QUERY_CACHE_MISSES, "table" => t()),
            metrics::counter!(m::SCAN_CACHE_HITS, "table" => t()),
            metrics::counter!(m::SCAN_CACHE_MISSES, "table" => t()),
        ])
    }
}

#[derive(Default)]
pub struct Counters {
    tables: RwLock<HashMap<String, TableCounters>>,
}

impl Counters {
    /// Adds `n` to the table's `which` counter.
    pub fn add(&self, table: &str, which: Count, n: u64) {
        let i = which as usize;
        if let Ok(known) = self.tables.read() {
            if let Some(c) = known.get(table).and_then(|c| c.0.get(i)) {
                c.increment(n);
                return;
            }
        }
        if let Ok(mut known) = self.tables.write() {
            let c = known
                .entry(table.to_string())
                .or_insert_with(|| TableCounters::new(table));
            if let Some(c) = c.0.get(i) {
                c.increment(n);
            }
        }
    }
}
