//! The console's in-process history: a background task (started only when the console
//! is on) reads the Prometheus recorder and the cache's statistics once a second and
//! keeps the last [`KEEP`] samples in a bounded ring. Nothing is added to the request
//! path: requests already count into the recorder; the sampler only reads it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::metrics as m;
use daxlite_engine::capacity::series::{CONSUMED_READ, CONSUMED_WRITE};

/// Samples kept: five minutes at one a second.
pub const KEEP: usize = 300;
/// How often the sampler runs.
pub const EVERY: Duration = Duration::from_secs(1);

/// Latency quantiles (milliseconds) of one operation and outcome, over the recorder's
/// rolling window (one minute).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Quantiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub count: u64,
}

/// One reading of the cumulative counters.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub at_ms: u64,
    pub requests: BTreeMap<String, u64>,
    pub client_errors: BTreeMap<String, u64>,
    pub server_errors: BTreeMap<String, u64>,
    pub throttled: BTreeMap<String, u64>,
    /// Error answers by `__type` (without its namespace).
    pub errors_by_type: BTreeMap<String, u64>,
    /// Capacity units consumed, by `table read` / `table write` (recorded by the engine
    /// while `[capacity] series` is on or an auto scaling target exists).
    pub consumed: BTreeMap<String, u64>,
    /// Cache hits and misses by table (items, Query and Scan pages together).
    pub hits: BTreeMap<String, u64>,
    pub misses: BTreeMap<String, u64>,
    /// `bytes`: bytes evicted by size or expiry.
    pub evicted: BTreeMap<String, u64>,
    pub invalidations: BTreeMap<String, u64>,
    /// By `operation outcome`.
    pub latency: BTreeMap<String, Quantiles>,
    /// The cache's statistics (`GET /stats` of the admin listener), when there is a cache.
    pub cache: Option<Value>,
}

/// The ring of samples.
#[derive(Default)]
pub struct Ring {
    samples: Mutex<VecDeque<Sample>>,
}

impl Ring {
    pub fn push(&self, s: Sample) {
        if let Ok(mut q) = self.samples.lock() {
            if q.len() == KEEP {
                q.pop_front();
            }
            q.push_back(s);
        }
    }

    pub fn len(&self) -> usize {
        self.samples.lock().map(|q| q.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The latest sample.
    pub fn last(&self) -> Option<Sample> {
        self.samples.lock().ok().and_then(|q| q.back().cloned())
    }

    /// A gauge over the last `n` samples: `{"t": [...], "v": [...]}` (null where unread).
    pub fn gauge(&self, n: usize, pick: impl Fn(&Sample) -> Option<f64>) -> Value {
        let Ok(q) = self.samples.lock() else {
            return json!({});
        };
        let skip = q.len().saturating_sub(n);
        let (t, v): (Vec<u64>, Vec<Option<f64>>) =
            q.iter().skip(skip).map(|s| (s.at_ms, pick(s))).unzip();
        json!({ "t": t, "v": v })
    }

    /// Per-second differences of a counter family over the last `n` samples, by label:
    /// `{"t": [ms...], "series": {label: [per-second...]}}`.
    pub fn rates(&self, n: usize, pick: impl Fn(&Sample) -> &BTreeMap<String, u64>) -> Value {
        let Ok(q) = self.samples.lock() else {
            return json!({});
        };
        let skip = q.len().saturating_sub(n + 1);
        let s: Vec<&Sample> = q.iter().skip(skip).collect();
        let mut t = Vec::new();
        let mut series: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for (i, w) in s.windows(2).enumerate() {
            t.push(w[1].at_ms);
            for (label, now) in pick(w[1]) {
                let before = pick(w[0]).get(label).copied().unwrap_or(0);
                let col = series.entry(label.clone()).or_insert_with(|| vec![0; i]);
                col.resize(i, 0);
                col.push(now.saturating_sub(before));
            }
        }
        for col in series.values_mut() {
            col.resize(t.len(), 0);
        }
        json!({ "t": t, "series": series })
    }
}

/// Reads a sample from the Prometheus text `render()` gives.
pub fn parse(text: &str, at_ms: u64) -> Sample {
    let mut s = Sample {
        at_ms,
        ..Sample::default()
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let Some((name, labels, value)) = split_line(line) else {
            continue;
        };
        let name = name.strip_suffix("_total").unwrap_or(name);
        let label = |k: &str| {
            labels
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let add = |map: &mut BTreeMap<String, u64>, key: String| {
            *map.entry(key).or_insert(0) += value as u64;
        };
        match name {
            m::REQUESTS => add(&mut s.requests, label("operation")),
            m::ERROR_REQUESTS => add(&mut s.client_errors, label("operation")),
            m::FAULT_REQUESTS => add(&mut s.server_errors, label("operation")),
            m::THROTTLED_REQUESTS => add(&mut s.throttled, label("operation")),
            m::ERRORS_BY_TYPE => add(&mut s.errors_by_type, label("type")),
            CONSUMED_READ => add(&mut s.consumed, format!("{} read", label("table"))),
            CONSUMED_WRITE => add(&mut s.consumed, format!("{} write", label("table"))),
            m::ITEM_CACHE_HITS | m::QUERY_CACHE_HITS | m::SCAN_CACHE_HITS => {
                add(&mut s.hits, label("table"))
            }
            m::ITEM_CACHE_MISSES | m::QUERY_CACHE_MISSES | m::SCAN_CACHE_MISSES => {
                add(&mut s.misses, label("table"))
            }
            m::EVICTED_BYTES => add(&mut s.evicted, "bytes".into()),
            m::INVALIDATIONS => add(&mut s.invalidations, label("cause")),
            _ => {}
        }
        let duration_count = format!("{}_count", m::REQUEST_DURATION);
        if name == m::REQUEST_DURATION || name == duration_count {
            let key = format!("{} {}", label("operation"), label("outcome"));
            let q = s.latency.entry(key).or_default();
            let ms = value * 1000.0;
            match label("quantile").as_str() {
                "0.5" => q.p50 = ms,
                "0.9" => q.p90 = ms,
                "0.99" => q.p99 = ms,
                "" if name == duration_count => q.count = value as u64,
                _ => {}
            }
        }
    }
    s
}

/// A metric line's labels, in order.
type Labels = Vec<(String, String)>;

/// `name{k="v",...} value` → its parts.
fn split_line(line: &str) -> Option<(&str, Labels, f64)> {
    let (head, value) = line.rsplit_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let Some((name, rest)) = head.split_once('{') else {
        return Some((head, Vec::new(), value));
    };
    let body = rest.strip_suffix('}')?;
    let mut labels = Vec::new();
    let mut chars = body.chars().peekable();
    loop {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('"') {
            return None;
        }
        let mut v = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => v.extend(chars.next()),
                '"' => break,
                c => v.push(c),
            }
        }
        labels.push((key.trim_start_matches(',').to_string(), v));
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    Some((name, labels, value))
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A map of quantiles as JSON.
pub fn latency_json(s: &Sample) -> Value {
    let mut out = Map::new();
    for (k, q) in &s.latency {
        out.insert(
            k.clone(),
            json!({ "p50": q.p50, "p90": q.p90, "p99": q.p99, "count": q.count }),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# TYPE daxlite_requests counter\n\
daxlite_requests{operation=\"GetItem\"} 7\n\
daxlite_item_cache_hits{operation=\"GetItem\",table=\"t\"} 3\n\
daxlite_query_cache_hits{table=\"t\"} 2\n\
daxlite_item_cache_misses{operation=\"GetItem\",table=\"t\"} 1\n\
daxlite_request_duration_seconds{operation=\"GetItem\",outcome=\"hit\",quantile=\"0.99\"} 0.002\n\
daxlite_request_duration_seconds_count{operation=\"GetItem\",outcome=\"hit\"} 3\n\
daxlite_evicted_bytes 10\n";

    #[test]
    fn parses_the_recorders_text_and_keeps_a_bounded_ring() {
        let s = parse(TEXT, 1);
        assert_eq!(s.requests.get("GetItem"), Some(&7));
        assert_eq!(s.hits.get("t"), Some(&5));
        assert_eq!(s.misses.get("t"), Some(&1));
        assert_eq!(s.evicted.get("bytes"), Some(&10));
        let q = &s.latency["GetItem hit"];
        assert!((q.p99 - 2.0).abs() < 1e-9 && q.count == 3);

        let ring = Ring::default();
        for i in 0..(KEEP as u64 + 10) {
            let mut s = Sample {
                at_ms: i,
                ..Sample::default()
            };
            s.requests.insert("GetItem".into(), i * 2);
            ring.push(s);
        }
        assert_eq!(ring.len(), KEEP);
        let r = ring.rates(3, |s| &s.requests);
        assert_eq!(r["series"]["GetItem"], json!([2, 2, 2]));
    }
}
