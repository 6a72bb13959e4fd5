//! Capacity: throttling against provisioned and on-demand limits (CAPACITY.md §2), off by
//! default. `bucket` is one token bucket on the engine's clock, `meter` holds all of them,
//! `cost` prices a write per arm (table, LSIs, GSIs), `throttle` spells the errors.
//!
//! The request path asks [`Gate::open`] once per table; with throttling off (the setting
//! and no `daxlite:throttling` tag) that is one branch and returns `None`, so nothing else
//! runs. Reads are admitted on their smallest cost (0.5 or 1 unit; the actual cost is
//! debited after the read, possibly into debt); writes are priced exactly inside the
//! writer, after the old item is loaded, and admitted only when the table's bucket and
//! every touched GSI's bucket hold their cost.
//!
//! The same gate feeds the per-minute series (`series`) when they record (auto scaling
//! has a target, or `[capacity] series` is on): a gate then opens even with throttling
//! off, admits everything, and counts what each request consumed.

pub mod bucket;
pub mod budget;
pub mod cost;
pub mod hot;
pub mod meter;
pub mod metrics;
pub mod report;
pub mod requests;
pub mod series;
pub mod throttle;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::catalog::TableDef;
use crate::wire::ApiError;
pub use cost::{write_cost, WriteCost};
pub use meter::{Demand, Meter};
pub use throttle::{Axis, Throttle};

/// `[capacity]`'s settings besides `throttling`.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Record the per-minute series even when no scalable target exists.
    pub series: bool,
    /// Minutes of series kept per table and GSI.
    pub series_minutes: usize,
    /// The length of a minute of the series and of the auto scaler, ms (tests and demos
    /// shorten it to run minutes in seconds).
    pub minute_ms: i64,
    /// Per partition-key value limits (3,000 RCU / 1,000 WCU per second).
    pub partition_limits: bool,
    /// On-demand tables throttle above twice their previous peak (WarmThroughput is the
    /// starting peak).
    pub peak_rule: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            series: false,
            series_minutes: series::KEEP_MINUTES,
            minute_ms: series::MINUTE_MS,
            partition_limits: false,
            peak_rule: false,
        }
    }
}

/// The tag that overrides the throttling setting for one table.
pub const THROTTLING_TAG: &str = "daxlite:throttling";

/// What is throttled: nothing (DynamoDB Local's behaviour), provisioned tables, or also
/// on-demand tables (their OnDemandThroughput maxima and the per-table account quota).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Throttling {
    #[default]
    Off,
    Provisioned,
    All,
}

impl Throttling {
    pub fn parse(s: &str) -> Option<Throttling> {
        match s {
            "off" => Some(Throttling::Off),
            "provisioned" => Some(Throttling::Provisioned),
            "all" => Some(Throttling::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Throttling::Off => "off",
            Throttling::Provisioned => "provisioned",
            Throttling::All => "all",
        }
    }

    /// The mode for `def`: its `daxlite:throttling` tag when valid, else `self`.
    pub fn for_table(self, def: &TableDef) -> Throttling {
        if def.tags.is_empty() {
            return self;
        }
        def.tags
            .iter()
            .find(|(k, _)| k == THROTTLING_TAG)
            .and_then(|(_, v)| Throttling::parse(v))
            .unwrap_or(self)
    }
}

/// Throttling for one table, for one request (or one writer job).
#[derive(Clone)]
pub struct Gate {
    meter: Arc<Meter>,
    def: TableDef,
    mode: Throttling,
    arn: String,
    /// The operation, for ThrottledRequests.
    op: &'static str,
    /// Whether this request's throttle was counted (clones share it: one count per
    /// table per request).
    counted: Arc<AtomicBool>,
    /// The partition-key hash of the one item this gate is for (per-key limits).
    key: Option<u64>,
}

impl Gate {
    /// `None` when nothing is throttled on `def` (the off path: one branch when the
    /// setting is off and the table has no tags).
    pub fn open(
        meter: &Arc<Meter>,
        default: Throttling,
        def: &TableDef,
        region: &str,
        account: &str,
        op: &'static str,
    ) -> Option<Gate> {
        let watching = meter.series.watching();
        if default == Throttling::Off && def.tags.is_empty() && !watching {
            return None;
        }
        match default.for_table(def) {
            Throttling::Off if !watching => None,
            mode => Some(Gate {
                meter: meter.clone(),
                def: def.clone(),
                mode,
                arn: def.arn(region, account),
                op,
                counted: Arc::new(AtomicBool::new(false)),
                key: None,
            }),
        }
    }

    /// This gate for one item of storage key `storage` (its partition's per-key limits).
    pub fn for_key(mut self, storage: &[u8]) -> Gate {
        self.set_key(storage);
        self
    }

    /// Points this gate at the partition of storage key `storage` (a batch's next key).
    pub fn set_key(&mut self, storage: &[u8]) {
        self.key = hot::partition_of(storage);
    }

    /// Admits a read of the table (`gsi: None`; LSIs read the table's capacity) or of a
    /// GSI on its smallest cost, debiting nothing yet.
    pub fn admit_read(
        &self,
        gsi: Option<&str>,
        consistent: bool,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        let min = if consistent { 1.0 } else { 0.5 };
        self.meter
            .admit(
                &self.def,
                self.mode,
                Axis::Read,
                &read_demand(gsi, min, self.key),
                now_ms,
                false,
            )
            .map_err(|t| {
                self.count(&t, now_ms);
                self.error(&t)
            })
    }

    /// Checks that a read of at least `min` units fits (transactions: the reason is
    /// per item), debiting nothing.
    pub fn check_read(&self, gsi: Option<&str>, min: f64, now_ms: i64) -> Result<(), Throttle> {
        self.meter
            .admit(
                &self.def,
                self.mode,
                Axis::Read,
                &read_demand(gsi, min, self.key),
                now_ms,
                false,
            )
            .inspect_err(|t| self.count(t, now_ms))
    }

    /// Debits what a read consumed.
    pub fn debit_read(&self, gsi: Option<&str>, units: f64, now_ms: i64) {
        if self.meter.series.watching() {
            self.meter
                .series
                .consume(&self.def, gsi, Axis::Read, units, now_ms);
        }
        self.meter.debit(
            &self.def,
            self.mode,
            Axis::Read,
            &read_demand(gsi, units, self.key),
            now_ms,
        );
    }

    /// Checks that `cost` fits, and with `take` debits it.
    pub fn check_write(&self, cost: &WriteCost, now_ms: i64, take: bool) -> Result<(), Throttle> {
        let demand = Demand {
            table: cost.table_bucket(),
            gsis: cost.gsis.iter().map(|(n, u)| (n.as_str(), *u)).collect(),
            key: self.key,
        };
        self.meter
            .admit(&self.def, self.mode, Axis::Write, &demand, now_ms, take)
            .inspect_err(|t| self.count(t, now_ms))
    }

    /// Records a throttle in the metrics (the request once).
    fn count(&self, t: &Throttle, now_ms: i64) {
        let first = !self.counted.swap(true, Ordering::Relaxed);
        metrics::record(&self.def.name, self.op, t, first);
        if self.meter.series.watching() {
            self.meter
                .series
                .throttled(&self.def, t.index.as_deref(), t.axis, first, now_ms);
        }
    }

    /// Counts a write's consumption in the series, per arm.
    fn record_write(&self, cost: &WriteCost, now_ms: i64) {
        if !self.meter.series.watching() {
            return;
        }
        let s = &self.meter.series;
        s.consume(&self.def, None, Axis::Write, cost.table_bucket(), now_ms);
        for (g, u) in &cost.gsis {
            s.consume(&self.def, Some(g), Axis::Write, *u, now_ms);
        }
    }

    /// Debits a write admitted by [`Gate::check_write`].
    pub fn take_write(&self, cost: &WriteCost, now_ms: i64) {
        let demand = Demand {
            table: cost.table_bucket(),
            gsis: cost.gsis.iter().map(|(n, u)| (n.as_str(), *u)).collect(),
            key: self.key,
        };
        self.meter
            .debit(&self.def, self.mode, Axis::Write, &demand, now_ms);
        self.record_write(cost, now_ms);
    }

    /// Admits and debits a write of the item stored under `storage`, or answers the
    /// throttle error.
    pub fn admit_write(
        &self,
        storage: &[u8],
        cost: &WriteCost,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        let demand = Demand {
            table: cost.table_bucket(),
            gsis: cost.gsis.iter().map(|(n, u)| (n.as_str(), *u)).collect(),
            key: hot::partition_of(storage),
        };
        self.meter
            .admit(&self.def, self.mode, Axis::Write, &demand, now_ms, true)
            .map_err(|t| {
                self.count(&t, now_ms);
                self.error(&t)
            })?;
        self.record_write(cost, now_ms);
        Ok(())
    }

    /// The error for a throttle of this table.
    pub fn error(&self, t: &Throttle) -> ApiError {
        t.error(&self.arn)
    }

    pub fn table(&self) -> &TableDef {
        &self.def
    }
}

fn read_demand(gsi: Option<&str>, units: f64, key: Option<u64>) -> Demand<'_> {
    match gsi {
        None => Demand {
            table: units,
            gsis: Vec::new(),
            key,
        },
        Some(g) => Demand {
            table: 0.0,
            gsis: vec![(g, units)],
            key: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(tags: &[(&str, &str)]) -> TableDef {
        let text = r#"{"id":1,"name":"T","uuid":"u","attributes":[],"keys":{"hash":"pk","range":null},
            "billing":"Provisioned","billing_explicit":true,"last_pay_per_request_ms":null,
            "throughput":{"read":1,"write":1,"decreases_today":0,"last_increase_ms":null,"last_decrease_ms":null},
            "on_demand":null,"lsis":[],"gsis":[],"stream":null,"latest_stream":null,"sse":null,
            "table_class":null,"deletion_protection":false,"tags":[],"created_ms":0,
            "active_at_ms":0,"updating_until_ms":0,"lifecycle":"Live"}"#;
        let mut d: TableDef = serde_json::from_str(text).expect("fixture");
        d.tags = tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        d
    }

    #[test]
    fn the_tag_overrides_the_setting() {
        let meter = Arc::new(Meter::default());
        let open = |mode, d: &TableDef| Gate::open(&meter, mode, d, "r", "a", "Op").is_some();
        assert!(!open(Throttling::Off, &def(&[])));
        assert!(open(Throttling::Provisioned, &def(&[])));
        assert!(open(
            Throttling::Off,
            &def(&[(THROTTLING_TAG, "provisioned")])
        ));
        assert!(!open(Throttling::All, &def(&[(THROTTLING_TAG, "off")])));
        // An unknown tag value leaves the setting.
        assert!(!open(Throttling::Off, &def(&[(THROTTLING_TAG, "bogus")])));
        assert!(!open(Throttling::Off, &def(&[("other", "x")])));
    }

    /// The off path must stay far below the issue's bound of 1 µs per request (it is
    /// one comparison; measured in debug builds here, so the bound is generous).
    #[test]
    fn off_costs_next_to_nothing() {
        let meter = Arc::new(Meter::default());
        let d = def(&[]);
        let n = 200_000;
        let start = std::time::Instant::now();
        let mut opened = 0;
        for _ in 0..n {
            let g = Gate::open(
                &meter,
                std::hint::black_box(Throttling::Off),
                &d,
                "r",
                "a",
                "Op",
            );
            opened += usize::from(g.is_some());
        }
        let per_call = start.elapsed().as_nanos() as f64 / n as f64;
        assert_eq!(opened, 0);
        eprintln!("Gate::open with throttling off: {per_call:.1} ns per request");
        assert!(per_call < 1_000.0, "{per_call} ns");
    }
}
