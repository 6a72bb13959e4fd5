//! `daxlite-bench global`: starts 2 or 3 daxlite processes as regions on loopback (each
//! with its own data and a `[[global.peer]]` list of the others), makes a global table
//! from the first, and writes at `--rate` writes/s into the first region twice — into a
//! regional table, then into the global table. It reports the replication lag as a
//! client sees it (every `--sample-every`-th acknowledged write is looked up with
//! GetItem in the second region until it shows), the sender's own
//! `daxlite_global_replication_latency_ms` quantiles, and each region's CPU time per
//! write from `/proc/<pid>/stat` (the sending region's extra CPU for replication is the
//! global phase against the regional one). Writes a JSON file, a text table and an SVG
//! chart of the lag samples (`global_chart`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::capacity::{call_ok, req};
use crate::cli::GlobalArgs;
use crate::client::{Conn, Endpoint};
use crate::measure::pid_cpu;
use crate::sign::Signer;
use crate::spawn::{self, Spawned};

mod chart;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "us-west-2"];
const GLOBAL: &str = "bench-global";
const REGIONAL: &str = "bench-regional";
/// A regional table with a NEW_AND_OLD_IMAGES stream (what replication adds on top of it
/// is the shipping alone).
const STREAMED: &str = "bench-streamed";
/// How long a probe looks for a write in the second region before giving up.
const PROBE_GIVE_UP: Duration = Duration::from_secs(30);
/// How often a probe looks (the lag's resolution, with one GetItem's round trip).
const POLL: Duration = Duration::from_millis(2);

/// One region's process.
struct Region {
    name: &'static str,
    server: Spawned,
    endpoint: Arc<Endpoint>,
}

/// One load phase's figures.
#[derive(Debug, Default)]
pub struct Phase {
    pub table: &'static str,
    pub writes: u64,
    pub failed: u64,
    pub seconds: f64,
    /// CPU seconds per region during the phase.
    pub cpu: Vec<f64>,
    /// (seconds since the phase began, lag in ms) of every probed write.
    pub lags: Vec<(f64, f64)>,
    /// Probed writes never seen in the second region within `PROBE_GIVE_UP`.
    pub unseen: u64,
}

pub fn main(args: &GlobalArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    let bin = spawn::daxlite_binary(args.daxlite.as_deref());
    let build = if bin.components().any(|c| c.as_os_str() == "debug") {
        "debug build"
    } else {
        "release build"
    };
    let dir = std::env::temp_dir().join(format!("daxlite-bench-global-{}", std::process::id()));
    let result = runtime.block_on(run(args, &bin, &dir));
    let _ = std::fs::remove_dir_all(&dir);
    let (regional, streamed, global, metric) = result?;
    let stem = args.output.stem("global");
    let [json_path, txt_path, svg_path] = args.output.paths(&stem)?;
    let table = summary(args, build, [&regional, &streamed, &global], &metric);
    std::fs::write(&txt_path, &table)
        .map_err(|e| format!("cannot write {}: {e}", txt_path.display()))?;
    let doc = json!({
        "build": build, "rate": args.rate, "seconds": args.seconds, "regions": args.regions,
        "connections": args.connections, "sample_every": args.sample_every,
        "item_size": args.item_size, "in_memory": args.in_memory,
        "phases": [phase_json(&regional), phase_json(&streamed), phase_json(&global)],
        "lag_ms": quantiles(&global.lags),
        "sender_metric": metric,
        "sender_extra_cpu_per_write": extra_cpu(&regional, &global),
        "sender_extra_cpu_per_write_vs_streamed": extra_cpu(&streamed, &global),
    });
    std::fs::write(
        &json_path,
        serde_json::to_vec_pretty(&doc).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    chart::write(&svg_path, build, args.rate, &global)?;
    println!("{table}");
    println!("{}", crate::cli::wrote(&[&txt_path, &json_path, &svg_path]));
    Ok(())
}

async fn start_regions(args: &GlobalArgs, bin: &Path, dir: &Path) -> Result<Vec<Region>, String> {
    let n = args.regions as usize;
    let ports = spawn::free_ports(n)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut regions = Vec::new();
    for (i, name) in REGIONS.iter().take(n).enumerate() {
        let mut config = String::new();
        for (j, peer) in REGIONS.iter().take(n).enumerate() {
            if i != j {
                config.push_str(&format!(
                    "[[global.peer]]\nregion = \"{peer}\"\nurl = \"http://127.0.0.1:{}\"\n",
                    ports[j]
                ));
            }
        }
        let file: PathBuf = dir.join(format!("{name}.toml"));
        std::fs::write(&file, config).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut argv: Vec<String> = vec![
            "--port".into(),
            ports[i].to_string(),
            "--region".into(),
            name.to_string(),
            "--config".into(),
            file.display().to_string(),
            "--log-level".into(),
            "warn".into(),
        ];
        if args.in_memory {
            argv.push("--in-memory".into());
        } else {
            argv.push("--data-dir".into());
            argv.push(dir.join(format!("{name}-data")).display().to_string());
        }
        // Credentials for the peer calls' signatures (no lookup of instance metadata).
        let envs = [
            ("AWS_ACCESS_KEY_ID", "daxlitebench"),
            ("AWS_SECRET_ACCESS_KEY", "daxlitebench"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let server = spawn::spawn_daxlite_with(bin, &argv, &envs)?;
        let signer = Signer::new("daxlitebench", "daxlitebench", name, false);
        let endpoint = Arc::new(Endpoint::new(&server.url, signer)?);
        regions.push(Region {
            name,
            server,
            endpoint,
        });
    }
    Ok(regions)
}

async fn create_table(conn: &mut Conn, name: &str, stream: bool) -> Result<(), String> {
    let mut body = json!({"TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]});
    if stream {
        body["StreamSpecification"] =
            json!({"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"});
    }
    call_ok(conn, &req("CreateTable", body)).await.map(|_| ())
}

/// Makes `GLOBAL` a global table over every region, from the first.
async fn make_global(conn: &mut Conn, regions: &[Region]) -> Result<(), String> {
    for r in regions.iter().skip(1) {
        call_ok(
            conn,
            &req(
                "UpdateTable",
                json!({"TableName": GLOBAL,
                    "ReplicaUpdates": [{"Create": {"RegionName": r.name}}]}),
            ),
        )
        .await?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let d = call_ok(conn, &req("DescribeTable", json!({"TableName": GLOBAL}))).await?;
            let active = d["Table"]["Replicas"].as_array().is_some_and(|rs| {
                rs.iter()
                    .any(|x| x["RegionName"] == r.name && x["ReplicaStatus"] == "ACTIVE")
            });
            if active {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("the replica in {} did not become ACTIVE", r.name));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    Ok(())
}

async fn run(
    args: &GlobalArgs,
    bin: &Path,
    dir: &Path,
) -> Result<(Phase, Phase, Phase, Value), String> {
    let regions = start_regions(args, bin, dir).await?;
    let mut admin = regions[0].endpoint.connect().await?;
    create_table(&mut admin, REGIONAL, false).await?;
    create_table(&mut admin, STREAMED, true).await?;
    create_table(&mut admin, GLOBAL, false).await?;
    make_global(&mut admin, &regions).await?;
    let regional = phase(args, &regions, REGIONAL, false).await?;
    let streamed = phase(args, &regions, STREAMED, false).await?;
    let global = phase(args, &regions, GLOBAL, true).await?;
    let metric = sender_metric(&regions[0].endpoint.authority).await;
    Ok((regional, streamed, global, metric))
}

fn cpu_of(regions: &[Region]) -> Vec<f64> {
    regions
        .iter()
        .map(|r| {
            pid_cpu(&r.server.pid.to_string())
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0)
        })
        .collect()
}

/// Writes at `args.rate` into `table` of the first region for `args.seconds`; with
/// `probe`, every n-th acknowledged write is looked up in the second region.
async fn phase(
    args: &GlobalArgs,
    regions: &[Region],
    table: &'static str,
    probe: bool,
) -> Result<Phase, String> {
    let writers = args.connections.max(1);
    let interval = Duration::from_secs_f64(writers as f64 / args.rate.max(1) as f64);
    let total_per_writer = ((args.seconds * args.rate as f64) / writers as f64).ceil() as u64;
    let lags = Arc::new(Mutex::new(Vec::new()));
    let unseen = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pool: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
    let cpu0 = cpu_of(regions);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let endpoint = Arc::clone(&regions[0].endpoint);
        let peer = Arc::clone(&regions[1].endpoint);
        let (lags, unseen, pool) = (lags.clone(), unseen.clone(), pool.clone());
        let pad = "x".repeat(args.item_size);
        let every = args.sample_every.max(1);
        tasks.push(tokio::spawn(async move {
            let mut conn = endpoint.connect().await?;
            let (mut ok, mut failed) = (0u64, 0u64);
            let offset = interval.mul_f64(w as f64 / writers as f64);
            let mut probes = Vec::new();
            for i in 0..total_per_writer {
                tokio::time::sleep_until((start + offset + interval * i as u32).into()).await;
                let pk = format!("{table}-{w}-{i}");
                let put = req(
                    "PutItem",
                    json!({"TableName": table, "Item": {"pk": {"S": pk}, "v": {"N": i.to_string()},
                        "pad": {"S": pad}}}),
                );
                match conn.call(&put).await {
                    Ok((200, _)) => ok += 1,
                    _ => {
                        failed += 1;
                        continue;
                    }
                }
                if probe && (i * writers as u64 + w as u64).is_multiple_of(every) {
                    let acked = Instant::now();
                    let (peer, lags, unseen, pool) =
                        (peer.clone(), lags.clone(), unseen.clone(), pool.clone());
                    probes.push(tokio::spawn(async move {
                        let lag = look(&peer, &pool, table, &pk, acked).await;
                        match lag {
                            Some(ms) => {
                                let t = acked.duration_since(start).as_secs_f64();
                                if let Ok(mut l) = lags.lock() {
                                    l.push((t, ms));
                                }
                            }
                            None => {
                                unseen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    }));
                }
            }
            for p in probes {
                let _ = p.await;
            }
            Ok::<(u64, u64), String>((ok, failed))
        }));
    }
    let (mut writes, mut failed) = (0, 0);
    let mut seconds = 0.0;
    for t in tasks {
        let (ok, bad) = t.await.map_err(|e| format!("writer: {e}"))??;
        writes += ok;
        failed += bad;
        seconds = start.elapsed().as_secs_f64();
    }
    let cpu1 = cpu_of(regions);
    let mut lags = lags.lock().map(|l| l.clone()).unwrap_or_default();
    lags.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(Phase {
        table,
        writes,
        failed,
        seconds,
        cpu: cpu1.iter().zip(&cpu0).map(|(a, b)| a - b).collect(),
        lags,
        unseen: unseen.load(std::sync::atomic::Ordering::Relaxed),
    })
}

/// Looks `pk` up in the peer until it shows: the lag in ms from `acked`, or None.
async fn look(
    peer: &Arc<Endpoint>,
    pool: &Mutex<Vec<Conn>>,
    table: &str,
    pk: &str,
    acked: Instant,
) -> Option<f64> {
    let mut conn = match pool.lock().ok().and_then(|mut p| p.pop()) {
        Some(c) => c,
        None => peer.connect().await.ok()?,
    };
    let get = req(
        "GetItem",
        json!({"TableName": table, "Key": {"pk": {"S": pk}}}),
    );
    let found = loop {
        if let Ok((200, body)) = conn.call(&get).await {
            if serde_json::from_slice::<Value>(&body).is_ok_and(|v| v.get("Item").is_some()) {
                break Some(acked.elapsed().as_secs_f64() * 1000.0);
            }
        }
        if acked.elapsed() > PROBE_GIVE_UP {
            break None;
        }
        tokio::time::sleep(POLL).await;
    };
    if let Ok(mut p) = pool.lock() {
        p.push(conn);
    }
    found
}

/// The sender's `daxlite_global_replication_latency_ms` lines from `/metrics` (the
/// exporter folds samples into quantiles every few seconds: waited for).
async fn sender_metric(authority: &str) -> Value {
    tokio::time::sleep(Duration::from_secs(6)).await;
    let text = match get_metrics(authority).await {
        Ok(t) => t,
        Err(e) => return json!({"error": e}),
    };
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with("daxlite_global_replication_latency_ms"))
        .map(|l| json!(l))
        .collect();
    json!(lines)
}

async fn get_metrics(authority: &str) -> Result<String, String> {
    let mut s = tokio::net::TcpStream::connect(authority)
        .await
        .map_err(|e| e.to_string())?;
    let head = format!("GET /metrics HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// p50, p90, p99, max of the lag samples.
pub fn quantiles(lags: &[(f64, f64)]) -> Value {
    let mut ms: Vec<f64> = lags.iter().map(|l| l.1).collect();
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| -> f64 {
        if ms.is_empty() {
            return 0.0;
        }
        let i = ((ms.len() as f64 * p).ceil() as usize).clamp(1, ms.len()) - 1;
        ms[i]
    };
    json!({"samples": ms.len(), "p50": q(0.5), "p90": q(0.9), "p99": q(0.99),
        "max": ms.last().copied().unwrap_or(0.0)})
}

fn per_write_us(p: &Phase, region: usize) -> f64 {
    let cpu = p.cpu.get(region).copied().unwrap_or(0.0);
    if p.writes == 0 {
        0.0
    } else {
        cpu * 1e6 / p.writes as f64
    }
}

/// The sending region's CPU per write in the global phase over the regional one, − 1.
fn extra_cpu(regional: &Phase, global: &Phase) -> f64 {
    let base = per_write_us(regional, 0);
    if base == 0.0 {
        0.0
    } else {
        per_write_us(global, 0) / base - 1.0
    }
}

fn phase_json(p: &Phase) -> Value {
    json!({"table": p.table, "writes": p.writes, "failed": p.failed, "seconds": p.seconds,
        "writes_per_s": p.writes as f64 / p.seconds.max(1e-9),
        "cpu_s": p.cpu, "cpu_us_per_write": (0..p.cpu.len()).map(|r| per_write_us(p, r)).collect::<Vec<_>>(),
        "probed": p.lags.len(), "unseen": p.unseen})
}

fn summary(args: &GlobalArgs, build: &str, phases: [&Phase; 3], metric: &Value) -> String {
    let [r, st, g] = phases;
    let mut out = format!(
        "daxlite-bench global ({build}): {} regions, {} writes/s offered, {} s per phase, {} connections\n",
        args.regions, args.rate, args.seconds, args.connections
    );
    out.push_str(&format!(
        "{:<16} {:>8} {:>7} {:>10} {:>22}\n",
        "phase", "writes", "failed", "writes/s", "CPU µs/write per region"
    ));
    for p in phases {
        let cpu: Vec<String> = (0..p.cpu.len())
            .map(|i| format!("{:.0}", per_write_us(p, i)))
            .collect();
        out.push_str(&format!(
            "{:<16} {:>8} {:>7} {:>10.0} {:>22}\n",
            p.table,
            p.writes,
            p.failed,
            p.writes as f64 / p.seconds.max(1e-9),
            cpu.join(" / ")
        ));
    }
    let q = quantiles(&g.lags);
    out.push_str(&format!(
        "replication lag, ack in {} → visible in {} (GetItem probes: {} samples, {} unseen): \
         p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n",
        REGIONS[0],
        REGIONS[1],
        q["samples"],
        g.unseen,
        q["p50"].as_f64().unwrap_or(0.0),
        q["p90"].as_f64().unwrap_or(0.0),
        q["p99"].as_f64().unwrap_or(0.0),
        q["max"].as_f64().unwrap_or(0.0)
    ));
    out.push_str(&format!(
        "sending region's extra CPU per write for replication: {:+.0} % against the regional \
         table, {:+.0} % against the regional table with a stream\n",
        extra_cpu(r, g) * 100.0,
        extra_cpu(st, g) * 100.0
    ));
    if let Some(lines) = metric.as_array() {
        for l in lines {
            out.push_str(&format!("  {}\n", l.as_str().unwrap_or_default()));
        }
    }
    out
}
