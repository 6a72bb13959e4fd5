//! `daxlite-bench soak`: a mixed workload (puts, updates, deletes, gets, queries, batch
//! writes, transactions, TTL expiry) against a daxlite it spawns, in memory and on disk,
//! sampling the server's RSS and data-file size every interval. Prints a progress line per
//! sample and a summary table, writes JSON and an SVG plot of RSS over time, and with
//! `--check` fails when a sample after warm-up exceeds the memory bound:
//! `factor × (table + index bytes + stream cap) + cache budget + overhead`.

mod chart;
mod mix;
pub(crate) mod sample;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde::Serialize;

use crate::cli::SoakArgs;
use crate::client::Endpoint;
use crate::sign::Signer;
use crate::spawn::{self, Spawned};
use mix::Mix;
use sample::Sample;

/// One storage mode's run.
#[derive(Debug, Serialize)]
pub struct ModeReport {
    pub mode: String,
    pub command: String,
    pub ops: u64,
    pub errors: u64,
    pub ops_per_s: f64,
    pub bound_bytes: u64,
    pub max_rss_bytes: u64,
    pub max_rss_after_warmup_bytes: u64,
    pub final_live_bytes: u64,
    pub final_file_bytes: Option<u64>,
    pub within_bound: bool,
    pub samples: Vec<Sample>,
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
        "modes": reports,
    });
    std::fs::write(
        &json_path,
        serde_json::to_vec_pretty(&json).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    chart::write(&svg_path, &reports)?;
    let table = summary(&reports);
    std::fs::write(&txt_path, &table)
        .map_err(|e| format!("cannot write {}: {e}", txt_path.display()))?;
    println!("{table}");
    println!(
        "wrote {}, {}, {}",
        txt_path.display(),
        json_path.display(),
        svg_path.display()
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
            if r.errors > 0 {
                return Err(format!(
                    "{}: {} failed requests, first: {}",
                    r.mode,
                    r.errors,
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
        "{:<8} {:>9} {:>8} {:>7} {:>10} {:>10} {:>10} {:>10} {:>8}\n",
        "mode", "ops", "ops/s", "errors", "live MB", "RSS max", "bound MB", "file MB", "holds"
    );
    for r in reports {
        out.push_str(&format!(
            "{:<8} {:>9} {:>8.0} {:>7} {:>10} {:>10} {:>10} {:>10} {:>8}\n",
            r.mode,
            r.ops,
            r.ops_per_s,
            r.errors,
            mb(r.final_live_bytes),
            mb(r.max_rss_after_warmup_bytes),
            mb(r.bound_bytes),
            r.final_file_bytes.map(mb).unwrap_or_else(|| "-".into()),
            if r.within_bound { "yes" } else { "NO" }
        ));
    }
    out
}

/// The daxlite arguments and environment of a storage mode.
fn server_command(mode: &str) -> Result<(Vec<String>, Option<PathBuf>), String> {
    let mut argv: Vec<String> = ["--port", "0", "--log-level", "warn"]
        .map(String::from)
        .to_vec();
    match mode {
        "memory" => {
            argv.push("--in-memory".into());
            Ok((argv, None))
        }
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
            argv.push("--data-dir".into());
            argv.push(dir.display().to_string());
            Ok((argv, Some(dir)))
        }
        other => Err(format!("--modes: unknown mode {other:?} (memory, disk)")),
    }
}

async fn run_mode(
    args: &SoakArgs,
    bin: &std::path::Path,
    mode: &str,
) -> Result<ModeReport, String> {
    let (argv, dir) = server_command(mode)?;
    let envs = vec![
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
    let server = spawn::spawn_daxlite_with(bin, &argv, &envs)?;
    let result = drive(args, mode, &server, dir.as_deref()).await;
    drop(server);
    if let Some(dir) = dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

async fn drive(
    args: &SoakArgs,
    mode: &str,
    server: &Spawned,
    dir: Option<&std::path::Path>,
) -> Result<ModeReport, String> {
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
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    let mut workers = Vec::new();
    for w in 0..args.connections {
        let (endpoint, mix, ops, errors, first_error) = (
            endpoint.clone(),
            mix.clone(),
            ops.clone(),
            errors.clone(),
            first_error.clone(),
        );
        let mut rng = SmallRng::seed_from_u64(seed.wrapping_mul(31).wrapping_add(w as u64));
        workers.push(tokio::spawn(async move {
            let mut conn = endpoint.connect().await?;
            let mut serial = (w as u64) << 40;
            while Instant::now() < deadline {
                serial += 1;
                let req = mix.next(&mut rng, serial);
                let (status, body) = conn.call(&req).await?;
                ops.fetch_add(1, Ordering::Relaxed);
                if status != 200 {
                    errors.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut first) = first_error.lock() {
                        first.get_or_insert_with(|| {
                            format!("{} {status}: {}", req.op, String::from_utf8_lossy(&body))
                        });
                    }
                }
            }
            Ok::<(), String>(())
        }));
    }

    let started = Instant::now();
    let mut samples = Vec::new();
    let file = dir.map(|d| d.join("daxlite.redb"));
    let mut last_ops = 0;
    loop {
        tokio::time::sleep(Duration::from_secs_f64(args.sample_interval)).await;
        let elapsed = started.elapsed().as_secs_f64();
        let (status, body) = admin.call(&mix.describe_table()).await?;
        let live = if status == 200 {
            mix::live_bytes(&body)
        } else {
            0
        };
        let total = ops.load(Ordering::Relaxed);
        let s = Sample {
            t_s: elapsed,
            rss_bytes: sample::rss_bytes(server.pid).unwrap_or(0),
            file_bytes: file.as_deref().and_then(sample::file_bytes),
            live_bytes: live,
            ops: total,
        };
        eprintln!(
            "{mode}: t={:>5.0}s  rss={:>7} MB  live={:>7} MB  file={:>7} MB  {:>6.0} ops/s  errors={}",
            s.t_s,
            mb(s.rss_bytes),
            mb(s.live_bytes),
            s.file_bytes.map(mb).unwrap_or_else(|| "-".into()),
            (total - last_ops) as f64 / args.sample_interval,
            errors.load(Ordering::Relaxed)
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
    let total_ops = ops.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64().max(0.001);
    let final_live = samples.last().map(|s| s.live_bytes).unwrap_or(0);
    let max_live = samples.iter().map(|s| s.live_bytes).max().unwrap_or(0);
    let bound = (args.rss_factor * (max_live + args.stream_max_bytes) as f64) as u64
        + args.cache_max_bytes
        + args.rss_overhead_mb * 1_048_576;
    let warm = samples.iter().filter(|s| s.t_s >= args.warmup);
    let max_after = warm.map(|s| s.rss_bytes).max().unwrap_or(0);
    let first_error = first_error.lock().ok().and_then(|f| f.clone());
    Ok(ModeReport {
        mode: mode.to_string(),
        command: server.command.clone(),
        ops: total_ops,
        errors: errors.load(Ordering::Relaxed),
        ops_per_s: total_ops as f64 / elapsed,
        bound_bytes: bound,
        max_rss_bytes: samples.iter().map(|s| s.rss_bytes).max().unwrap_or(0),
        max_rss_after_warmup_bytes: max_after,
        final_live_bytes: final_live,
        final_file_bytes: samples.last().and_then(|s| s.file_bytes),
        within_bound: max_after <= bound,
        samples,
        first_error,
    })
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
