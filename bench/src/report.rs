//! The results: per-target summaries built from the rounds (HDR percentiles, throughput,
//! CPU per request, ratios to the first target and to the limit server), the terminal
//! table, and the JSON document with everything.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::measure::{new_histogram, Round};
use crate::targets::Target;

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

/// The percentiles drawn as latency curves.
pub const CURVE_PERCENTILES: [f64; 10] = [
    50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0,
];

/// Percentiles of a histogram (all zero when it is empty).
pub fn latency(h: &Histogram<u64>) -> Latency {
    if h.is_empty() {
        return Latency::default();
    }
    Latency {
        min: h.min(),
        mean: h.mean(),
        p50: h.value_at_quantile(0.50),
        p90: h.value_at_quantile(0.90),
        p99: h.value_at_quantile(0.99),
        p999: h.value_at_quantile(0.999),
        max: h.max(),
    }
}

/// (percentile, µs) points of the latency curve.
pub fn curve(h: &Histogram<u64>) -> Vec<(f64, u64)> {
    if h.is_empty() {
        return Vec::new();
    }
    CURVE_PERCENTILES
        .iter()
        .map(|&p| (p, h.value_at_quantile(p / 100.0)))
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundReport {
    pub ops: u64,
    pub errors: u64,
    pub elapsed_s: f64,
    pub ops_per_s: f64,
    pub latency_us: Latency,
    pub server_cpu_us_per_op: Option<f64>,
    pub bench_cpu_us_per_op: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub name: String,
    pub url: String,
    pub origin: String,
    pub pids: Vec<u32>,
    pub is_limit_server: bool,
    pub skipped: Option<String>,
    pub notes: Vec<String>,
    pub ops: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub elapsed_s: f64,
    pub ops_per_s: f64,
    pub latency_us: Latency,
    pub latency_curve_us: Vec<(f64, u64)>,
    pub server_cpu_us_per_op: Option<f64>,
    pub bench_cpu_us_per_op: f64,
    /// Throughput relative to the first target measured.
    pub ops_ratio_to_first: Option<f64>,
    /// Server CPU per request relative to the limit server's.
    pub cpu_ratio_to_limit: Option<f64>,
    /// `--report-capacity`: read units the target's engine consumed per 1,000 reads.
    pub rcu_per_1000_reads: Option<f64>,
    pub rounds: Vec<RoundReport>,
}

fn per_op(cpu: std::time::Duration, ops: u64) -> f64 {
    if ops == 0 {
        0.0
    } else {
        cpu.as_secs_f64() * 1e6 / ops as f64
    }
}

fn round_report(r: &Round) -> RoundReport {
    RoundReport {
        ops: r.ops,
        errors: r.errors,
        elapsed_s: r.elapsed.as_secs_f64(),
        ops_per_s: r.ops as f64 / r.elapsed.as_secs_f64().max(1e-9),
        latency_us: latency(&r.hist),
        server_cpu_us_per_op: r.server_cpu.map(|c| per_op(c, r.ops)),
        bench_cpu_us_per_op: per_op(r.bench_cpu, r.ops),
    }
}

/// Sums the rounds of one target.
pub fn summarize(t: &Target) -> TargetReport {
    let mut hist = new_histogram();
    let mut ops = 0;
    let mut errors = 0;
    let mut error_kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut elapsed = 0.0;
    let mut server_cpu = Some(std::time::Duration::ZERO);
    let mut bench_cpu = std::time::Duration::ZERO;
    for r in &t.rounds {
        let _ = hist.add(&r.hist);
        ops += r.ops;
        errors += r.errors;
        for (k, n) in &r.error_kinds {
            *error_kinds.entry(k.clone()).or_default() += n;
        }
        elapsed += r.elapsed.as_secs_f64();
        server_cpu = match (server_cpu, r.server_cpu) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        bench_cpu += r.bench_cpu;
    }
    if t.rounds.is_empty() {
        server_cpu = None;
    }
    TargetReport {
        name: t.name.clone(),
        url: t.url.clone(),
        origin: t.origin.clone(),
        pids: t.pids.clone(),
        is_limit_server: t.is_limit,
        skipped: t.skipped.clone(),
        notes: t.notes.clone(),
        ops,
        errors,
        error_kinds,
        elapsed_s: elapsed,
        ops_per_s: if elapsed > 0.0 {
            ops as f64 / elapsed
        } else {
            0.0
        },
        latency_us: latency(&hist),
        latency_curve_us: curve(&hist),
        server_cpu_us_per_op: server_cpu.map(|c| per_op(c, ops)),
        bench_cpu_us_per_op: per_op(bench_cpu, ops),
        ops_ratio_to_first: None,
        cpu_ratio_to_limit: None,
        rcu_per_1000_reads: None,
        rounds: t.rounds.iter().map(round_report).collect(),
    }
}

/// Fills in the ratios: throughput to the first measured target, CPU to the limit server.
pub fn add_ratios(reports: &mut [TargetReport]) {
    let first = reports
        .iter()
        .find(|r| r.skipped.is_none() && r.ops > 0)
        .map(|r| r.ops_per_s);
    let limit = reports
        .iter()
        .find(|r| r.is_limit_server)
        .and_then(|r| r.server_cpu_us_per_op)
        .filter(|&c| c > 0.0);
    for r in reports.iter_mut().filter(|r| r.skipped.is_none()) {
        r.ops_ratio_to_first = first.filter(|&f| f > 0.0).map(|f| r.ops_per_s / f);
        r.cpu_ratio_to_limit = match (r.server_cpu_us_per_op, limit) {
            (Some(c), Some(l)) => Some(c / l),
            _ => None,
        };
    }
}

/// Everything about one run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub started_unix_s: u64,
    pub machine: Machine,
    pub settings: serde_json::Value,
    pub targets: Vec<TargetReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub load_average_before: String,
    pub load_average_after: String,
    pub clock_ticks_per_s: u64,
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |x| format!("{x:.digits$}"))
}

/// The terminal table.
pub fn table(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<12} {:>10} {:>7} {:>8} {:>8} {:>8} {:>8} {:>7} {:>10} {:>8} {:>10}",
        "target",
        "ops/s",
        "×first",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "p99.9 µs",
        "errors",
        "srv µs/op",
        "×limit",
        "bench µs/op"
    );
    for t in &report.targets {
        if let Some(why) = &t.skipped {
            let _ = writeln!(s, "{:<12} skipped: {why}", t.name);
            continue;
        }
        let l = &t.latency_us;
        let _ = writeln!(
            s,
            "{:<12} {:>10.0} {:>7} {:>8} {:>8} {:>8} {:>8} {:>7} {:>10} {:>8} {:>10.1}",
            t.name,
            t.ops_per_s,
            opt(t.ops_ratio_to_first, 2),
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            t.errors,
            opt(t.server_cpu_us_per_op, 1),
            opt(t.cpu_ratio_to_limit, 2),
            t.bench_cpu_us_per_op,
        );
    }
    let rcu: Vec<String> = report
        .targets
        .iter()
        .filter_map(|t| Some(format!("{} {:.1}", t.name, t.rcu_per_1000_reads?)))
        .collect();
    if !rcu.is_empty() {
        let _ = writeln!(
            s,
            "RCU consumed by the engine per 1,000 reads: {}",
            rcu.join(", ")
        );
    }
    for t in &report.targets {
        for (k, n) in &t.error_kinds {
            let _ = writeln!(s, "  {}: {n} × {k}", t.name);
        }
        for note in &t.notes {
            let _ = writeln!(s, "  {}: {note}", t.name);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: impl Iterator<Item = u64>) -> Histogram<u64> {
        let mut h = new_histogram();
        for v in values {
            h.saturating_record(v);
        }
        h
    }

    #[test]
    fn percentiles_of_one_to_ten_thousand() {
        let l = latency(&hist(1..=10_000));
        let near =
            |got: u64, want: u64| (got as f64 - want as f64).abs() <= want as f64 * 0.002 + 1.0;
        assert!(near(l.p50, 5_000), "{l:?}");
        assert!(near(l.p90, 9_000), "{l:?}");
        assert!(near(l.p99, 9_900), "{l:?}");
        assert!(near(l.p999, 9_990), "{l:?}");
        assert_eq!(l.min, 1);
        assert!(near(l.max, 10_000));
        assert!((l.mean - 5_000.5).abs() < 10.0);
    }

    #[test]
    fn a_slow_tail_shows_only_in_the_high_percentiles() {
        let h = hist((0..990).map(|_| 100).chain((0..10).map(|_| 50_000)));
        let l = latency(&h);
        assert!(l.p50 <= 101 && l.p90 <= 101, "{l:?}");
        assert!(l.p999 >= 49_900, "{l:?}");
        let c = curve(&h);
        assert_eq!(c.len(), CURVE_PERCENTILES.len());
        assert!(c.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn empty_histogram_reports_zeros() {
        assert_eq!(latency(&new_histogram()), Latency::default());
        assert!(curve(&new_histogram()).is_empty());
    }

    #[test]
    fn table_shows_ratios_and_skips() {
        let mut t = vec![
            sample("limit", true, 50_000.0, Some(10.0)),
            sample("uncached", false, 25_000.0, Some(25.0)),
        ];
        add_ratios(&mut t);
        assert_eq!(t[1].ops_ratio_to_first, Some(0.5));
        assert_eq!(t[1].cpu_ratio_to_limit, Some(2.5));
        let mut skipped = sample("cached", false, 0.0, None);
        skipped.skipped = Some("Query not supported".into());
        t.push(skipped);
        let r = Report {
            command: String::new(),
            started_unix_s: 0,
            machine: Machine {
                cpus: 2,
                load_average_before: String::new(),
                load_average_after: String::new(),
                clock_ticks_per_s: 100,
            },
            settings: serde_json::Value::Null,
            targets: t,
        };
        let s = table(&r);
        assert!(s.contains("2.50"), "{s}");
        assert!(
            s.contains("cached       skipped: Query not supported"),
            "{s}"
        );
    }

    fn sample(name: &str, limit: bool, ops_per_s: f64, cpu: Option<f64>) -> TargetReport {
        TargetReport {
            name: name.into(),
            url: String::new(),
            origin: String::new(),
            pids: vec![],
            is_limit_server: limit,
            skipped: None,
            notes: vec![],
            ops: 1000,
            errors: 0,
            error_kinds: BTreeMap::new(),
            elapsed_s: 1.0,
            ops_per_s,
            latency_us: Latency::default(),
            latency_curve_us: vec![],
            server_cpu_us_per_op: cpu,
            bench_cpu_us_per_op: 5.0,
            ops_ratio_to_first: None,
            cpu_ratio_to_limit: None,
            rcu_per_1000_reads: None,
            rounds: vec![],
        }
    }
}
