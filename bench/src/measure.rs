//! Measurement: one round of one target (N workers, each on its own keep-alive connection,
//! closed loop or open loop at a fixed rate), HDR latency histograms, response checks,
//! and CPU time of the server processes and of the bench itself from `/proc/<pid>/stat`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::client::Conn;
use crate::workload::{check, Failure, Req, Workload};

/// Latencies are recorded in microseconds, up to a minute, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, 60_000_000, 3) {
        Ok(h) => h,
        Err(e) => panic!("histogram bounds: {e}"),
    }
}

/// How long a round lasts and how requests are paced.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub duration: Duration,
    /// Stop after this many operations (across workers) instead of at the deadline.
    pub ops: Option<u64>,
    /// Open loop: requests per second across all workers.
    pub rate: Option<f64>,
    pub seed: u64,
}

/// What one round of one target measured.
#[derive(Debug, Clone)]
pub struct Round {
    pub ops: u64,
    pub errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub hist: Histogram<u64>,
    pub elapsed: Duration,
    /// CPU time of the target's server processes during the round (None: no PID known).
    pub server_cpu: Option<Duration>,
    pub bench_cpu: Duration,
    /// The first failure said the server does not know the operation.
    pub unknown_operation: bool,
}

struct WorkerResult {
    conn: Conn,
    hist: Histogram<u64>,
    ops: u64,
    errors: BTreeMap<String, u64>,
    unknown_operation: bool,
}

/// Runs one round on `conns` (one worker per connection) and hands the connections back.
pub async fn round(
    conns: Vec<Conn>,
    workload: &Arc<Workload>,
    plan: Plan,
    pids: &[u32],
    progress: Option<&indicatif::ProgressBar>,
) -> (Round, Vec<Conn>) {
    let cpu_before = pids_cpu(pids);
    let self_before = self_cpu();
    let start = Instant::now();
    let deadline = start + plan.duration;
    let budget = Arc::new(AtomicU64::new(plan.ops.unwrap_or(u64::MAX)));
    let tickets = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(conns.len());
    for (w, conn) in conns.into_iter().enumerate() {
        let workload = Arc::clone(workload);
        let budget = Arc::clone(&budget);
        let tickets = Arc::clone(&tickets);
        let stop = Arc::clone(&stop);
        let seed = plan.seed.wrapping_mul(1_000_003).wrapping_add(w as u64);
        tasks.push(tokio::spawn(worker(
            conn, workload, plan, start, deadline, budget, tickets, stop, seed,
        )));
    }
    let ticker = progress.map(|bar| {
        let bar = bar.clone();
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(200)).await;
                bar.inc(last.elapsed().as_millis() as u64);
                last = Instant::now();
            }
        })
    });
    let mut result = Round {
        ops: 0,
        errors: 0,
        error_kinds: BTreeMap::new(),
        hist: new_histogram(),
        elapsed: Duration::ZERO,
        server_cpu: None,
        bench_cpu: Duration::ZERO,
        unknown_operation: false,
    };
    let mut conns = Vec::new();
    for t in tasks {
        match t.await {
            Ok(w) => {
                result.ops += w.ops;
                let _ = result.hist.add(&w.hist);
                for (k, n) in w.errors {
                    result.errors += n;
                    *result.error_kinds.entry(k).or_default() += n;
                }
                result.unknown_operation |= w.unknown_operation;
                conns.push(w.conn);
            }
            Err(e) => {
                result.errors += 1;
                *result
                    .error_kinds
                    .entry(format!("worker: {e}"))
                    .or_default() += 1;
            }
        }
    }
    result.elapsed = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        let _ = t.await;
    }
    let cpu_after = pids_cpu(pids);
    result.server_cpu = match (cpu_before, cpu_after) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    result.bench_cpu = self_cpu().saturating_sub(self_before);
    (result, conns)
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    mut conn: Conn,
    workload: Arc<Workload>,
    plan: Plan,
    start: Instant,
    deadline: Instant,
    budget: Arc<AtomicU64>,
    tickets: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    seed: u64,
) -> WorkerResult {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut hist = new_histogram();
    let mut ops = 0;
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut unknown_operation = false;
    let mut pending: Option<Req> = None;
    let interval = plan
        .rate
        .map(|r| Duration::from_secs_f64(1.0 / r.max(0.001)));
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
            .is_err()
        {
            break;
        }
        // Open loop: the latency clock starts at the intended send time.
        let t0 = match interval {
            Some(iv) => {
                let ticket = tickets.fetch_add(1, Ordering::Relaxed);
                let intended = start + iv.mul_f64(ticket as f64);
                if intended >= deadline {
                    break;
                }
                tokio::time::sleep_until(intended.into()).await;
                intended
            }
            None => {
                if Instant::now() >= deadline {
                    break;
                }
                Instant::now()
            }
        };
        let req = match pending.take() {
            Some(r) => r,
            None => workload.next(&mut rng),
        };
        pending = req.then.as_deref().cloned();
        let outcome = conn.call(&req).await;
        let micros = t0.elapsed().as_micros() as u64;
        hist.saturating_record(micros.max(1));
        ops += 1;
        match outcome {
            Ok((status, body)) => {
                if let Err(f) = check(req.expect, status, &body) {
                    if f.is_unknown_operation() {
                        unknown_operation = true;
                    }
                    *errors.entry(f.label()).or_default() += 1;
                }
            }
            Err(e) => {
                let f = Failure::Content(format!("transport: {}", short(&e)));
                *errors.entry(f.label()).or_default() += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    WorkerResult {
        conn,
        hist,
        ops,
        errors,
        unknown_operation,
    }
}

fn short(e: &str) -> String {
    e.chars().take(80).collect()
}

/// utime + stime in clock ticks, from the text of `/proc/<pid>/stat`.
pub fn parse_stat(stat: &str) -> Option<u64> {
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state); utime is field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`getconf CLK_TCK`, read once; Linux uses 100).
pub fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

fn ticks_to_duration(ticks: u64) -> Duration {
    Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64)
}

/// CPU time used so far by the process `pid` (all its threads).
pub fn pid_cpu(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat).map(ticks_to_duration)
}

fn pids_cpu(pids: &[u32]) -> Option<Duration> {
    if pids.is_empty() {
        return None;
    }
    pids.iter()
        .map(|p| pid_cpu(&p.to_string()))
        .try_fold(Duration::ZERO, |acc, d| d.map(|d| acc + d))
}

/// CPU time used so far by the bench itself.
pub fn self_cpu() -> Duration {
    pid_cpu("self").unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_plus_stime() {
        let stat = "4242 (daxlite) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 3 0 100 1000000 500 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat(stat), Some(325));
    }

    #[test]
    fn command_names_with_spaces_and_parentheses() {
        let stat = "7 (tokio (rt) worker) R 1 7 7 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0";
        assert_eq!(parse_stat(stat), Some(15));
    }

    #[test]
    fn malformed_stat_is_none() {
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 1 2"), None);
    }

    #[test]
    fn own_cpu_is_readable() {
        assert!(pid_cpu("self").is_some());
        assert!(clock_ticks() > 0);
    }
}
