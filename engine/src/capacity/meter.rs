//! [`Meter`]: every token bucket of the engine, by table, arm (table, GSI, account quota)
//! and axis, behind one lock held for a few arithmetic steps. Buckets are created full on
//! first use and follow the table's current settings (an UpdateTable changes the rate of
//! the existing bucket, keeping its balance within the new capacity).

use std::collections::HashMap;
use std::sync::Mutex;

use super::bucket::Bucket;
use super::throttle::{Axis, Limit, Throttle};
use super::Throttling;
use crate::catalog::{BillingMode, TableDef};

/// Seconds of unused provisioned capacity a bucket keeps ("up to 5 minutes").
pub const BURST_SECONDS: f64 = 300.0;
/// The per-table account quota of on-demand tables, units per second (table + GSIs).
pub const ACCOUNT_TABLE_MAX: f64 = 40_000.0;

/// Which bucket of a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Arm {
    Table,
    Index(String),
    Account,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    table: u64,
    arm: Arm,
    axis: Axis,
}

/// The units a request puts on the table arm and on each GSI, and the partition-key
/// hash of its item (`hot`'s per-key limits; None: several partitions or unknown).
#[derive(Debug, Clone, Default)]
pub struct Demand<'a> {
    pub table: f64,
    pub gsis: Vec<(&'a str, f64)>,
    pub key: Option<u64>,
}

impl Demand<'_> {
    fn total(&self) -> f64 {
        self.table + self.gsis.iter().map(|(_, u)| u).sum::<f64>()
    }
}

/// All buckets, and the per-minute series (`series`).
#[derive(Debug, Default)]
pub struct Meter {
    buckets: Mutex<HashMap<Key, Bucket>>,
    pub series: super::series::Series,
    /// Per partition-key limits and the on-demand peak rule (optional).
    pub hot: super::hot::Hot,
}

impl Meter {
    /// Whether `demand` fits every bucket it touches; with `take`, debits them all when
    /// it does (nothing when it does not: a throttled request consumes nothing).
    pub fn admit(
        &self,
        def: &TableDef,
        mode: Throttling,
        axis: Axis,
        demand: &Demand<'_>,
        now_ms: i64,
        take: bool,
    ) -> Result<(), Throttle> {
        let arms = arms(def, mode, axis, demand);
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        for (arm, limit, rate, cap, units) in &arms {
            let b = bucket(&mut buckets, def.id, arm, axis, *rate, *cap, now_ms);
            if !b.fits(*units) {
                return Err(Throttle {
                    limit: *limit,
                    axis,
                    index: match arm {
                        Arm::Index(i) => Some(i.clone()),
                        _ => None,
                    },
                });
            }
        }
        let (key, total) = (demand.key, demand.total());
        self.hot.check(
            def,
            mode,
            axis,
            key,
            demand.table,
            total,
            now_ms,
            take,
            false,
        )?;
        if take {
            for (arm, _, rate, cap, units) in &arms {
                bucket(&mut buckets, def.id, arm, axis, *rate, *cap, now_ms).take(*units);
            }
        }
        Ok(())
    }

    /// Debits what a request actually consumed (reads, after they ran).
    pub fn debit(
        &self,
        def: &TableDef,
        mode: Throttling,
        axis: Axis,
        demand: &Demand<'_>,
        now_ms: i64,
    ) {
        let arms = arms(def, mode, axis, demand);
        let (key, total) = (demand.key, demand.total());
        let _ = self.hot.check(
            def,
            mode,
            axis,
            key,
            demand.table,
            total,
            now_ms,
            false,
            true,
        );
        if let Ok(mut buckets) = self.buckets.lock() {
            for (arm, _, rate, cap, units) in &arms {
                bucket(&mut buckets, def.id, arm, axis, *rate, *cap, now_ms).take(*units);
            }
        }
    }

    /// Forgets a deleted table's buckets.
    pub fn forget(&self, table_id: u64) {
        if let Ok(mut buckets) = self.buckets.lock() {
            buckets.retain(|k, _| k.table != table_id);
        }
        self.hot.forget(table_id);
    }
}

fn bucket<'m>(
    buckets: &'m mut HashMap<Key, Bucket>,
    table: u64,
    arm: &Arm,
    axis: Axis,
    rate: f64,
    cap: f64,
    now_ms: i64,
) -> &'m mut Bucket {
    let key = Key {
        table,
        arm: arm.clone(),
        axis,
    };
    let b = buckets
        .entry(key)
        .or_insert_with(|| Bucket::full(rate, cap, now_ms));
    b.refill(rate, cap, now_ms);
    b
}

/// The limited buckets `demand` touches: (arm, limit, rate, capacity, units).
fn arms(
    def: &TableDef,
    mode: Throttling,
    axis: Axis,
    demand: &Demand<'_>,
) -> Vec<(Arm, Limit, f64, f64, f64)> {
    let pick = |r: i64, w: i64| match axis {
        Axis::Read => r,
        Axis::Write => w,
    };
    let mut out = Vec::new();
    match (def.billing, mode) {
        (_, Throttling::Off) => {}
        (BillingMode::Provisioned, _) => {
            let rate = pick(def.throughput.read, def.throughput.write) as f64;
            out.push((
                Arm::Table,
                Limit::Provisioned,
                rate,
                rate * BURST_SECONDS,
                demand.table,
            ));
            for (name, units) in &demand.gsis {
                let t = def
                    .gsis
                    .iter()
                    .find(|g| g.name == *name)
                    .and_then(|g| g.throughput.as_ref());
                if let Some(t) = t {
                    let rate = pick(t.read, t.write) as f64;
                    out.push((
                        Arm::Index(name.to_string()),
                        Limit::Provisioned,
                        rate,
                        rate * BURST_SECONDS,
                        *units,
                    ));
                }
            }
        }
        (BillingMode::PayPerRequest, Throttling::Provisioned) => {}
        (BillingMode::PayPerRequest, Throttling::All) => {
            let max = |o: Option<&crate::catalog::OnDemand>| {
                o.and_then(|o| match axis {
                    Axis::Read => o.max_read,
                    Axis::Write => o.max_write,
                })
                .filter(|m| *m > 0)
                .map(|m| m as f64)
            };
            if let Some(m) = max(def.on_demand.as_ref()) {
                out.push((Arm::Table, Limit::OnDemandMax, m, m, demand.table));
            }
            for (name, units) in &demand.gsis {
                let g = def.gsis.iter().find(|g| g.name == *name);
                if let Some(m) = max(g.and_then(|g| g.on_demand.as_ref())) {
                    out.push((
                        Arm::Index(name.to_string()),
                        Limit::OnDemandMax,
                        m,
                        m,
                        *units,
                    ));
                }
            }
            let total = demand.table + demand.gsis.iter().map(|(_, u)| u).sum::<f64>();
            out.push((
                Arm::Account,
                Limit::Account,
                ACCOUNT_TABLE_MAX,
                ACCOUNT_TABLE_MAX,
                total,
            ));
        }
    }
    out.retain(|arm| arm.4 > 0.0);
    out
}
