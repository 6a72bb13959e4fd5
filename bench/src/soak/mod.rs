//! `daxlite-bench soak`: a mixed workload (puts, updates, deletes, gets, queries, batch
//! writes, transactions, TTL expiry) against a daxlite it spawns, in memory and on disk,
//! sampling the server's RSS and data-file size every interval. Prints a progress line per
//! sample and a summary table, writes JSON and an SVG plot of RSS over time, and with
//! `--check` fails when a sample after warm-up exceeds the memory bound:
//! `factor × (table + index bytes + stream cap) + cache budget + overhead`. With
//! `--faults` the cache and the engine are two processes and [`faults`] injects upstream
//! restarts, client disconnects and TTL storms; only errors outside a fault's window fail.

mod chart;
mod faults;
mod mix;
pub(crate) mod sample;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde::Serialize;

use crate::cli::SoakArgs;
use crate::client::Endpoint;
use crate::sign::Signer;
use crate::spawn::{self, Spawned};
use faults::{FaultEvent, Upstream, Window};
use mix::Mix;
use sample::Sample;

/// One storage mode's run.
#[derive(Debug, Serialize)]
pub struct ModeReport {
    pub mode: String,
    pub command: String,
    pub ops: u64,
    pub errors: u64,
    /// Errors inside a fault's window (with `--faults`).
    pub injected_errors: u64,
    pub ops_per_s: f64,
    /// The highest per-interval p99 latency, microseconds.
    pub p99_max_us: u64,
    pub bound_bytes: u64,
    pub max_rss_bytes: u64,
    pub max_rss_after_warmup_bytes: u64,
    pub final_live_bytes: u64,
    pub final_file_bytes: Option<u64>,
    pub within_bound: bool,
    pub samples: Vec<Sample>,
    pub faults: Vec<FaultEvent>,
    pub first_error: Option<String>,
}

pub fn main(args: &SoakArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    let bin = spawn::daxlite_binary(args.daxlite.as_deref());
    let mut reports = Vec::new();
    for mode in &args.modes {
        let report = runtime.block_on(run_mode(args, &bin, mode))?;
        reports.push(report);
    }
    let [json_path, txt_path, svg_path] = args.output.paths(&args.output.stem("soak"))?;
    let json = serde_json::json!({
        "duration_s": args.duration,
        "keys": args.keys,
        "item_size": args.item_size,
        "connections": args.connections,
        "stream_max_bytes": args.stream_max_bytes,
        "cache_max_bytes": args.cache_max_bytes,
        "seed": args.seed,
        "faults": args.faults,
        "fault_every_s": args.fault_every,
        "modes": reports,
    });
    std::fs::write(
        &json_path,
        serde_json::to_vec_pretty(&json).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    chart::write(&svg_path, &reports)?;
    let latency_svg = svg_path.with_extension("latency.svg");
    chart::write_latency(&latency_svg, &reports)?;
    let table = summary(&reports);
    std::fs::write(&txt_path, &table)
        .map_err(|e| format!("cannot write {}: {e}", txt_path.display()))?;
    println!("{table}");
    println!(
        "{}",
        crate::cli::wrote(&[&txt_path, &json_path, &svg_path, &latency_svg])
    );
    if args.check {
        for r in &reports {
            if !r.within_bound {
                return Err(format!(
                    "{}: RSS {} MB after warm-up exceeds the bound {} MB",
                    r.mode,
                    mb(r.max_rss_after_warmup_bytes),
                    mb(r.bound_bytes)
                ));
            }
            if r.errors > r.injected_errors {
                return Err(format!(
                    "{}: {} failed requests outside the faults' windows, first: {}",
                    r.mode,
                    r.errors - r.injected_errors,
                    r.first_error.clone().unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

fn mb(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / 1_048_576.0)
}

fn summary(reports: &[ModeReport]) -> String {
    let mut out = format!(
        "{:<8} {:>9} {:>8} {:>7} {:>8} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8}\n",
        "mode",
        "ops",
        "ops/s",
        "errors",
        "injected",
        "faults",
        "p99 max ms",
        "live MB",
        "RSS max",
        "bound MB",
        "file MB",
        "holds"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<8} {:>9} {:>8.0} {:>7} {:>8} {:>7} {:>10.1} {:>10} {:>10} {:>10} {:>10} {:>8}\n",
            r.mode,
            r.ops,
            r.ops_per_s,
            r.errors,
            r.injected_errors,
            r.faults.len(),
            r.p99_max_us as f64 / 1000.0,
            mb(r.final_live_bytes),
            mb(r.max_rss_after_warmup_bytes),
            mb(r.bound_bytes),
            r.final_file_bytes.map(mb).unwrap_or_else(|| "-".into()),
            if r.within_bound { "yes" } else { "NO" }
        ));
    }
    out
}

/// The storage arguments of a mode (`--in-memory`, or `--data-dir` of a fresh temp dir).
fn storage_args(mode: &str) -> Result<(Vec<String>, Option<PathBuf>), String> {
    match mode {
        "memory" => Ok((vec!["--in-memory".into()], None)),
        "disk" => {
            let dir = std::env::temp_dir().join(format!(
                "daxlite-soak-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0)
            ));
            let _ = std::fs::remove_dir_all(&dir);
            Ok((
                vec!["--data-dir".into(), dir.display().to_string()],
                Some(dir),
            ))
        }
        other => Err(format!("--modes: unknown mode {other:?} (memory, disk)")),
    }
}

/// The processes of one mode's run: daxlite with its embedded engine, or (with
/// `--faults`) daxlite's cache in front of an engine process that the schedule restarts.
struct Servers {
    front: Spawned,
    upstream: Option<Upstream>,
}

async fn run_mode(
    args: &SoakArgs,
    bin: &std::path::Path,
    mode: &str,
) -> Result<ModeReport, String> {
    let (storage, dir) = storage_args(mode)?;
    let mut envs = vec![
        (
            "DAXLITE_STREAM_MAX_BYTES".to_string(),
            args.stream_max_bytes.to_string(),
        ),
        (
            "DAXLITE_CACHE_MAX_BYTES".to_string(),
            args.cache_max_bytes.to_string(),
        ),
        (
            "DAXLITE_TTL_SWEEP_INTERVAL_MS".to_string(),
            "1000".to_string(),
        ),
    ];
    let base: Vec<String> = ["--port", "0", "--log-level", "warn"]
        .map(String::from)
        .to_vec();
    let servers = if args.faults {
        let upstream = Upstream::start(bin, &storage, &envs)?;
        envs.extend(
            [
                ("AWS_ACCESS_KEY_ID", "daxlitesoak"),
                ("AWS_SECRET_ACCESS_KEY", "daxlitesoak"),
                ("AWS_REGION", "us-east-1"),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let mut argv = base;
        argv.extend(["--upstream".to_string(), upstream.url.clone()]);
        Servers {
            front: spawn::spawn_daxlite_with(bin, &argv, &envs)?,
            upstream: Some(upstream),
        }
    } else {
        let mut argv = base;
        argv.extend(storage);
        Servers {
            front: spawn::spawn_daxlite_with(bin, &argv, &envs)?,
            upstream: None,
        }
    };
    let result = drive(args, mode, servers, dir.as_deref()).await;
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

async fn drive(
    args: &SoakArgs,
    mode: &str,
    servers: Servers,
    dir: Option<&std::path::Path>,
) -> Result<ModeReport, String> {
    let Servers { front, upstream } = servers;
    let server = &front;
    let command = match &upstream {
        Some(u) => format!("{}  (upstream: {})", server.command, u.command()),
        None => server.command.clone(),
    };
    let upstream_pid = upstream.as_ref().map(|u| u.pid.clone());
    let signer = Signer::new("daxlitesoak", "daxlitesoak", "us-east-1", false);
    let endpoint = Arc::new(Endpoint::new(&server.url, signer)?);
    let mix = Arc::new(Mix::new("daxlite-soak", args.keys, args.item_size));
    let mut admin = endpoint.connect().await?;
    for req in [mix.create_table(), mix.enable_ttl()] {
        let (status, body) = admin.call(&req).await?;
        if status != 200 {
            return Err(format!(
                "{} failed: {}",
                req.op,
                String::from_utf8_lossy(&body)
            ));
        }
    }
    let seed = args.seed.unwrap_or(1);
    eprintln!("{mode}: preloading {} items (seed {seed})", args.keys);
    preload(&endpoint, &mix, args.connections, seed).await?;

    let ops = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let injected = Arc::new(AtomicU64::new(0));
    let window = Arc::new(Window::default());
    let latency = Arc::new(std::sync::Mutex::new(new_histogram()?));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.duration);
    let schedule = upstream.map(|u| {
        let s = faults::Schedule {
            every: Duration::from_secs_f64(args.fault_every),
            storm_items: args.storm_items,
            deadline,
            started,
            window: window.clone(),
            front: endpoint.clone(),
            mix: mix.clone(),
            seed,
            errors: errors.clone(),
            recreate_table: mode == "memory",
        };
        tokio::spawn(faults::run(s, u))
    });
    let mut workers = Vec::new();
    for w in 0..args.connections {
        let (endpoint, mix, ops, errors, injected, window, latency, first_error) = (
            endpoint.clone(),
            mix.clone(),
            ops.clone(),
            errors.clone(),
            injected.clone(),
            window.clone(),
            latency.clone(),
            first_error.clone(),
        );
        let mut rng = SmallRng::seed_from_u64(seed.wrapping_mul(31).wrapping_add(w as u64));
        workers.push(tokio::spawn(async move {
            let mut conn = endpoint.connect().await?;
            let mut serial = (w as u64) << 40;
            while Instant::now() < deadline {
                serial += 1;
                let req = mix.next(&mut rng, serial);
                let sent = Instant::now();
                let failure = match conn.call(&req).await {
                    Ok((200, _)) => None,
                    Ok((status, body)) => Some(format!(
                        "{} {status}: {}",
                        req.op,
                        String::from_utf8_lossy(&body)
                    )),
                    Err(e) => Some(format!("{}: {e}", req.op)),
                };
                ops.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut h) = latency.lock() {
                    let _ = h.record(sent.elapsed().as_micros() as u64);
                }
                if let Some(failure) = failure {
                    errors.fetch_add(1, Ordering::Relaxed);
                    if window.covers(started) {
                        injected.fetch_add(1, Ordering::Relaxed);
                        // The upstream is down: do not spin on it.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    } else if let Ok(mut first) = first_error.lock() {
                        first.get_or_insert(failure);
                    }
                }
            }
            Ok::<(), String>(())
        }));
    }

    let mut samples = Vec::new();
    let file = dir.map(|d| d.join("daxlite.redb"));
    let mut last_ops = 0;
    loop {
        tokio::time::sleep(Duration::from_secs_f64(args.sample_interval)).await;
        let elapsed = started.elapsed().as_secs_f64();
        // While the upstream restarts DescribeTable fails: keep the last live figure.
        let live = match admin.call(&mix.describe_table()).await {
            Ok((200, body)) => mix::live_bytes(&body),
            _ => samples.last().map(|s: &Sample| s.live_bytes).unwrap_or(0),
        };
        let total = ops.load(Ordering::Relaxed);
        let upstream_rss = upstream_pid
            .as_ref()
            .and_then(|p| sample::rss_bytes(p.load(Ordering::Relaxed)))
            .unwrap_or(0);
        let p99_us = latency
            .lock()
            .map(|mut h| {
                let p = h.value_at_quantile(0.99);
                h.reset();
                p
            })
            .unwrap_or(0);
        let s = Sample {
            t_s: elapsed,
            rss_bytes: sample::rss_bytes(server.pid).unwrap_or(0) + upstream_rss,
            file_bytes: file.as_deref().and_then(sample::file_bytes),
            live_bytes: live,
            ops: total,
            p99_us,
            errors: errors.load(Ordering::Relaxed),
            injected_errors: injected.load(Ordering::Relaxed),
        };
        eprintln!(
            "{mode}: t={:>5.0}s  rss={:>7} MB  live={:>7} MB  file={:>7} MB  {:>6.0} ops/s  p99={:>6.1} ms  errors={} (injected {})",
            s.t_s,
            mb(s.rss_bytes),
            mb(s.live_bytes),
            s.file_bytes.map(mb).unwrap_or_else(|| "-".into()),
            (total - last_ops) as f64 / args.sample_interval,
            p99_us as f64 / 1000.0,
            s.errors,
            s.injected_errors
        );
        last_ops = total;
        samples.push(s);
        if Instant::now() >= deadline {
            break;
        }
    }
    for w in workers {
        match w.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("{mode}: worker failed: {e}")),
            Err(e) => return Err(format!("{mode}: worker panicked: {e}")),
        }
    }
    // The upstream stops when this function returns, after its clients.
    let (faults, _upstream) = match schedule {
        Some(task) => {
            let (events, upstream) = task
                .await
                .map_err(|e| format!("{mode}: fault schedule panicked: {e}"))??;
            (events, Some(upstream))
        }
        None => (Vec::new(), None),
    };
    let total_ops = ops.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64().max(0.001);
    let final_live = samples.last().map(|s| s.live_bytes).unwrap_or(0);
    let max_live = samples.iter().map(|s| s.live_bytes).max().unwrap_or(0);
    // With --faults two processes share the bound: the overhead counts once for each.
    let processes = if args.faults { 2 } else { 1 };
    let bound = (args.rss_factor * (max_live + args.stream_max_bytes) as f64) as u64
        + args.cache_max_bytes
        + processes * args.rss_overhead_mb * 1_048_576;
    let warm = samples.iter().filter(|s| s.t_s >= args.warmup);
    let max_after = warm.map(|s| s.rss_bytes).max().unwrap_or(0);
    let first_error = first_error.lock().ok().and_then(|f| f.clone());
    Ok(ModeReport {
        mode: mode.to_string(),
        command,
        ops: total_ops,
        errors: errors.load(Ordering::Relaxed),
        injected_errors: injected.load(Ordering::Relaxed),
        ops_per_s: total_ops as f64 / elapsed,
        p99_max_us: samples.iter().map(|s| s.p99_us).max().unwrap_or(0),
        bound_bytes: bound,
        max_rss_bytes: samples.iter().map(|s| s.rss_bytes).max().unwrap_or(0),
        max_rss_after_warmup_bytes: max_after,
        final_live_bytes: final_live,
        final_file_bytes: samples.last().and_then(|s| s.file_bytes),
        within_bound: max_after <= bound,
        samples,
        faults,
        first_error,
    })
}

fn new_histogram() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(1, 120_000_000, 3).map_err(|e| format!("histogram: {e}"))
}

/// Puts every item of the key space once, on `connections` connections.
async fn preload(
    endpoint: &Arc<Endpoint>,
    mix: &Arc<Mix>,
    connections: usize,
    seed: u64,
) -> Result<(), String> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..connections.max(1) {
        let (endpoint, mix, next) = (endpoint.clone(), mix.clone(), next.clone());
        let mut rng = SmallRng::seed_from_u64(seed ^ (w as u64 + 1));
        tasks.push(tokio::spawn(async move {
            let mut conn = endpoint.connect().await?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= mix.keys {
                    return Ok::<(), String>(());
                }
                let req = mix.load(&mut rng, i);
                let (status, body) = conn.call(&req).await?;
                if status != 200 {
                    return Err(format!("preload: {}", String::from_utf8_lossy(&body)));
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("preload task: {e}"))??;
    }
    Ok(())
}
