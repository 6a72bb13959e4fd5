//! The optional limits below a table's own (CAPACITY.md §2.1, §2.2): per partition-key
//! value, 3,000 RCU and 1,000 WCU per second (`[capacity] partition_limits`; buckets
//! hold one second, no burst), and on on-demand tables the "twice the previous peak"
//! rule (`[capacity] peak_rule`; the starting peak is the table's WarmThroughput, the
//! peak is the highest per-second consumption seen since). Both answer the
//! `…KeyRangeThroughputExceeded` reason: ProvisionedThroughputExceededException on a
//! provisioned table, ThrottlingException (the "hot key" message) on demand.
//!
//! Off (the default) [`Hot::check`] is two atomic loads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::bucket::Bucket;
use super::throttle::{Axis, Limit, Throttle};
use super::Throttling;
use crate::catalog::{BillingMode, TableDef};

/// One partition-key value's limits, units per second.
pub const KEY_READ_MAX: f64 = 3_000.0;
pub const KEY_WRITE_MAX: f64 = 1_000.0;
/// Per-key buckets kept before the idle ones are forgotten (all start full again).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default)]
struct Peak {
    peak: f64,
    second: i64,
    used: f64,
}

#[derive(Debug, Default)]
struct State {
    keys: HashMap<(u64, u64, Axis), Bucket>,
    peaks: HashMap<(u64, Axis), Peak>,
}

/// The partition and peak limits.
#[derive(Debug, Default)]
pub struct Hot {
    partition_limits: AtomicBool,
    peak_rule: AtomicBool,
    state: Mutex<State>,
}

/// The partition-key hash of a storage key (`table id ‖ hash_prefix(pk) ‖ …`).
pub fn partition_of(storage: &[u8]) -> Option<u64> {
    let b: [u8; 8] = storage.get(8..16)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

impl Hot {
    pub fn configure(&self, partition_limits: bool, peak_rule: bool) {
        self.partition_limits
            .store(partition_limits, Ordering::Relaxed);
        self.peak_rule.store(peak_rule, Ordering::Relaxed);
    }

    /// Whether `table_units` (on the partition `key`) and `total` (table + GSIs) fit;
    /// with `take`, debits them when they do. `force` debits without checking (what a
    /// read consumed, after it ran).
    #[allow(clippy::too_many_arguments)]
    pub fn check(
        &self,
        def: &TableDef,
        mode: Throttling,
        axis: Axis,
        key: Option<u64>,
        table_units: f64,
        total: f64,
        now_ms: i64,
        take: bool,
        force: bool,
    ) -> Result<(), Throttle> {
        let keys_on = self.partition_limits.load(Ordering::Relaxed) && key.is_some();
        let peak_on = self.peak_rule.load(Ordering::Relaxed);
        if !keys_on && !peak_on {
            return Ok(());
        }
        let on_demand = def.billing == BillingMode::PayPerRequest;
        match mode {
            Throttling::Off => return Ok(()),
            Throttling::Provisioned if on_demand => return Ok(()),
            _ => {}
        }
        let limit = if on_demand {
            Limit::OnDemandKeyRange
        } else {
            Limit::KeyRange
        };
        let throttle = Throttle {
            limit,
            axis,
            index: None,
        };
        let Ok(mut st) = self.state.lock() else {
            return Ok(());
        };
        let key_max = match axis {
            Axis::Read => KEY_READ_MAX,
            Axis::Write => KEY_WRITE_MAX,
        };
        if keys_on && table_units > 0.0 {
            if st.keys.len() > MAX_KEYS {
                st.keys.clear();
            }
            let k = (def.id, key.unwrap_or_default(), axis);
            let b = st
                .keys
                .entry(k)
                .or_insert_with(|| Bucket::full(key_max, key_max, now_ms));
            b.refill(key_max, key_max, now_ms);
            if !force && !b.fits(table_units) {
                return Err(throttle);
            }
        }
        let peak_rule = peak_on && on_demand && total > 0.0;
        if peak_rule {
            // On-demand tables start warm at 12,000 reads and 4,000 writes per second.
            let warm = match axis {
                Axis::Read => def.warm.0.max(12_000),
                Axis::Write => def.warm.1.max(4_000),
            } as f64;
            let second = now_ms.div_euclid(1000);
            let p = st.peaks.entry((def.id, axis)).or_insert(Peak {
                peak: warm,
                second,
                used: 0.0,
            });
            p.peak = p.peak.max(warm);
            if p.second != second {
                p.peak = p.peak.max(p.used);
                p.used = 0.0;
                p.second = second;
            }
            if !force && p.used + total > 2.0 * p.peak {
                return Err(throttle);
            }
        }
        if take || force {
            if keys_on && table_units > 0.0 {
                if let Some(b) = st.keys.get_mut(&(def.id, key.unwrap_or_default(), axis)) {
                    b.take(table_units);
                }
            }
            if peak_rule {
                if let Some(p) = st.peaks.get_mut(&(def.id, axis)) {
                    p.used += total;
                }
            }
        }
        Ok(())
    }

    pub fn forget(&self, table_id: u64) {
        if let Ok(mut st) = self.state.lock() {
            st.keys.retain(|k, _| k.0 != table_id);
            st.peaks.retain(|k, _| k.0 != table_id);
        }
    }
}
