//! CloudWatch-style per-minute series of each table and GSI (CAPACITY.md §5):
//! ConsumedRead/WriteCapacityUnits, ProvisionedRead/WriteCapacityUnits, Read/Write
//! ThrottleEvents and ThrottledRequests, in a bounded ring of minutes (the oldest minute
//! is dropped first). The auto scaler reads its consumption here; `[capacity] series`
//! keeps it on for the admin endpoint and the Prometheus counters.
//!
//! Off (no series setting, no scalable target) nothing records: the request path's
//! check is one atomic load in `Gate::open`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::throttle::Axis;
use crate::catalog::TableDef;

/// Default length of a minute (the auto scaler's evaluation period), ms.
pub const MINUTE_MS: i64 = 60_000;
/// Default number of minutes kept per table and index.
pub const KEEP_MINUTES: usize = 60;

pub const CONSUMED_READ: &str = "daxlite_dynamodb_consumed_read_capacity_units";
pub const CONSUMED_WRITE: &str = "daxlite_dynamodb_consumed_write_capacity_units";
pub const PROVISIONED_READ: &str = "daxlite_dynamodb_provisioned_read_capacity_units";
pub const PROVISIONED_WRITE: &str = "daxlite_dynamodb_provisioned_write_capacity_units";

/// One minute of one table or index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Point {
    /// Minute index: clock ms / minute length.
    pub minute: i64,
    pub consumed_read: f64,
    pub consumed_write: f64,
    pub provisioned_read: i64,
    pub provisioned_write: i64,
    pub read_throttle_events: u64,
    pub write_throttle_events: u64,
    /// Requests with a throttled event (table rows only).
    pub throttled_requests: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    table: String,
    index: Option<String>,
}

/// All series.
#[derive(Debug)]
pub struct Series {
    always: AtomicBool,
    watching: AtomicBool,
    minute_ms: AtomicI64,
    keep: AtomicUsize,
    rings: Mutex<HashMap<Key, VecDeque<Point>>>,
}

impl Default for Series {
    fn default() -> Self {
        Series {
            always: AtomicBool::new(false),
            watching: AtomicBool::new(false),
            minute_ms: AtomicI64::new(MINUTE_MS),
            keep: AtomicUsize::new(KEEP_MINUTES),
            rings: Mutex::new(HashMap::new()),
        }
    }
}

impl Series {
    /// The settings: record always (`series = true`), the minute's length, minutes kept.
    pub fn configure(&self, always: bool, minute_ms: i64, keep: usize) {
        self.always.store(always, Ordering::Relaxed);
        self.watching.store(always, Ordering::Relaxed);
        self.minute_ms.store(minute_ms.max(1), Ordering::Relaxed);
        self.keep.store(keep.max(1), Ordering::Relaxed);
    }

    /// Records while auto scaling has a target (or always, per the setting).
    pub fn set_autoscaling(&self, active: bool) {
        let on = active || self.always.load(Ordering::Relaxed);
        self.watching.store(on, Ordering::Relaxed);
    }

    /// Whether anything records (the request path's one check).
    pub fn watching(&self) -> bool {
        self.watching.load(Ordering::Relaxed)
    }

    pub fn minute_ms(&self) -> i64 {
        self.minute_ms.load(Ordering::Relaxed)
    }

    pub fn minute_of(&self, now_ms: i64) -> i64 {
        now_ms.div_euclid(self.minute_ms())
    }

    fn with_point(
        &self,
        def: &TableDef,
        index: Option<&str>,
        now_ms: i64,
        f: impl FnOnce(&mut Point),
    ) {
        let minute = self.minute_of(now_ms);
        let keep = self.keep.load(Ordering::Relaxed);
        let (pr, pw) = provisioned(def, index);
        let Ok(mut rings) = self.rings.lock() else {
            return;
        };
        let ring = rings
            .entry(Key {
                table: def.name.clone(),
                index: index.map(str::to_string),
            })
            .or_default();
        if ring.back().is_none_or(|p| p.minute < minute) {
            ring.push_back(Point {
                minute,
                ..Point::default()
            });
            while ring.len() > keep {
                ring.pop_front();
            }
        }
        // A late record (clock behind the newest minute) lands in the newest minute.
        if let Some(p) = ring.back_mut() {
            p.provisioned_read = pr;
            p.provisioned_write = pw;
            f(p);
        }
    }

    /// Counts consumed units of a table (`index: None`) or GSI. On `/metrics` the running
    /// total is a gauge, so fractional units (0.5 per eventually consistent read) stay exact.
    pub fn consume(
        &self,
        def: &TableDef,
        index: Option<&str>,
        axis: Axis,
        units: f64,
        now_ms: i64,
    ) {
        if units <= 0.0 {
            return;
        }
        self.with_point(def, index, now_ms, |p| match axis {
            Axis::Read => p.consumed_read += units,
            Axis::Write => p.consumed_write += units,
        });
        let (name, prov, pval) = match axis {
            Axis::Read => (CONSUMED_READ, PROVISIONED_READ, provisioned(def, index).0),
            Axis::Write => (CONSUMED_WRITE, PROVISIONED_WRITE, provisioned(def, index).1),
        };
        match index {
            Some(i) => {
                metrics::gauge!(format!("{name}_total"), "table" => def.name.clone(), "index" => i.to_string())
                    .increment(units);
                metrics::gauge!(prov, "table" => def.name.clone(), "index" => i.to_string())
                    .set(pval as f64);
            }
            None => {
                metrics::gauge!(format!("{name}_total"), "table" => def.name.clone())
                    .increment(units);
                metrics::gauge!(prov, "table" => def.name.clone()).set(pval as f64);
            }
        }
    }

    /// Counts a throttled event (and with `first` the request).
    pub fn throttled(
        &self,
        def: &TableDef,
        index: Option<&str>,
        axis: Axis,
        first: bool,
        now_ms: i64,
    ) {
        self.with_point(def, index, now_ms, |p| match axis {
            Axis::Read => p.read_throttle_events += 1,
            Axis::Write => p.write_throttle_events += 1,
        });
        if first {
            self.with_point(def, None, now_ms, |p| p.throttled_requests += 1);
        }
    }

    /// Units consumed on `axis` by the table or GSI in `minute` (0 when nothing ran).
    pub fn consumed(&self, table: &str, index: Option<&str>, axis: Axis, minute: i64) -> f64 {
        let Ok(rings) = self.rings.lock() else {
            return 0.0;
        };
        let key = Key {
            table: table.to_string(),
            index: index.map(str::to_string),
        };
        rings
            .get(&key)
            .and_then(|r| r.iter().find(|p| p.minute == minute))
            .map(|p| match axis {
                Axis::Read => p.consumed_read,
                Axis::Write => p.consumed_write,
            })
            .unwrap_or(0.0)
    }

    /// Forgets a deleted table's series.
    pub fn forget(&self, table: &str) {
        if let Ok(mut rings) = self.rings.lock() {
            rings.retain(|k, _| k.table != table);
        }
    }

    /// Every series as JSON (the admin endpoint): one entry per table / index, points
    /// oldest first with each minute's start time.
    pub fn to_json(&self) -> Value {
        let minute_ms = self.minute_ms();
        let Ok(rings) = self.rings.lock() else {
            return json!({"MinuteMillis": minute_ms, "Series": []});
        };
        let mut keys: Vec<&Key> = rings.keys().collect();
        keys.sort_by(|a, b| (&a.table, &a.index).cmp(&(&b.table, &b.index)));
        let series: Vec<Value> = keys
            .into_iter()
            .map(|k| {
                let points: Vec<Value> = rings[k]
                    .iter()
                    .map(|p| {
                        json!({
                            "Timestamp": p.minute * minute_ms,
                            "ConsumedReadCapacityUnits": p.consumed_read,
                            "ConsumedWriteCapacityUnits": p.consumed_write,
                            "ProvisionedReadCapacityUnits": p.provisioned_read,
                            "ProvisionedWriteCapacityUnits": p.provisioned_write,
                            "ReadThrottleEvents": p.read_throttle_events,
                            "WriteThrottleEvents": p.write_throttle_events,
                            "ThrottledRequests": p.throttled_requests,
                        })
                    })
                    .collect();
                let mut s = json!({"TableName": k.table, "Points": points});
                if let Some(i) = &k.index {
                    s["GlobalSecondaryIndexName"] = json!(i);
                }
                s
            })
            .collect();
        json!({"MinuteMillis": minute_ms, "Series": series})
    }
}

/// The provisioned read and write units of the table or GSI (0 on demand).
pub fn provisioned(def: &TableDef, index: Option<&str>) -> (i64, i64) {
    let t = match index {
        None => Some(&def.throughput),
        Some(i) => def
            .gsis
            .iter()
            .find(|g| g.name == i)
            .and_then(|g| g.throughput.as_ref()),
    };
    match (def.billing, t) {
        (crate::catalog::BillingMode::Provisioned, Some(t)) => (t.read, t.write),
        _ => (0, 0),
    }
}
