//! `daxlite-bench overload`: daxlite (cache on, in memory) with `[limits] max_in_flight`
//! set to `--max-in-flight`, driven by `--factor` times as many keep-alive connections,
//! each sending PutItem (`--op put`, the default) or GetItem (`--op get`) after another as
//! fast as it is answered (a refused request is
//! sent again at once: harsher than an SDK, which backs off). Reports the latency of the
//! admitted requests (p50 / p99 / max), how many were refused with ThrottlingException,
//! any other answer, and daxlite's peak RSS sampled every 100 ms.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::capacity::req;
use crate::cli::OverloadArgs;
use crate::client::Endpoint;
use crate::sign::Signer;
use crate::soak::sample::rss_bytes;
use crate::spawn;

const TABLE: &str = "daxlite-overload";
const KEYS: usize = 1000;

#[derive(Default)]
struct Tally {
    admitted: AtomicU64,
    refused: AtomicU64,
    other: AtomicU64,
}

pub fn main(args: &OverloadArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    let bin = spawn::daxlite_binary(args.daxlite.as_deref());
    let row = runtime.block_on(run(args, &bin))?;
    let [json_path, txt_path, _] = args.output.paths(&args.output.stem("overload"))?;
    let text = format!(
        "{} with max_in_flight {} × {} connections for {} s: {} admitted (p50 {} µs, p99 {} µs, max {} µs), {} refused (ThrottlingException), {} other; peak RSS {:.1} MiB\n",
        args.op,
        args.max_in_flight,
        row["connections"],
        args.seconds,
        row["admitted"],
        row["p50_us"],
        row["p99_us"],
        row["max_us"],
        row["refused"],
        row["other"],
        row["peak_rss_bytes"].as_u64().unwrap_or(0) as f64 / 1048576.0,
    );
    std::fs::write(&txt_path, &text)
        .map_err(|e| format!("cannot write {}: {e}", txt_path.display()))?;
    std::fs::write(
        &json_path,
        serde_json::to_vec_pretty(&row).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    print!("{text}");
    println!("{}", crate::cli::wrote(&[&txt_path, &json_path]));
    Ok(())
}

async fn run(args: &OverloadArgs, bin: &std::path::Path) -> Result<Value, String> {
    let argv: Vec<String> = ["--port", "0", "--log-level", "warn", "--in-memory"]
        .map(String::from)
        .to_vec();
    let envs = vec![(
        "DAXLITE_LIMITS_MAX_IN_FLIGHT".to_string(),
        args.max_in_flight.to_string(),
    )];
    let server = spawn::spawn_daxlite_with(bin, &argv, &envs)?;
    let signer = Signer::new("daxlitebench", "daxlitebench", "us-east-1", false);
    let endpoint = Arc::new(Endpoint::new(&server.url, signer)?);
    let mut admin = endpoint.connect().await?;
    let create = req(
        "CreateTable",
        json!({"TableName": TABLE,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST"}),
    );
    expect_ok(admin.call(&create).await?, "CreateTable")?;
    for k in 0..KEYS {
        let put = req(
            "PutItem",
            json!({"TableName": TABLE, "Item": {"pk": {"S": format!("k{k}")}, "v": {"S": "x".repeat(200)}}}),
        );
        expect_ok(admin.call(&put).await?, "PutItem")?;
    }
    if !matches!(args.op.as_str(), "get" | "put") {
        return Err(format!("--op {:?}: get or put", args.op));
    }
    let connections = args.max_in_flight as usize * args.factor;
    let tally = Arc::new(Tally::default());
    let latency = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).map_err(|e| e.to_string())?,
    ));
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let mut workers = Vec::new();
    for w in 0..connections {
        let (endpoint, tally, latency) = (endpoint.clone(), tally.clone(), latency.clone());
        let put = args.op == "put";
        workers.push(tokio::spawn(async move {
            let mut conn = endpoint.connect().await?;
            let mut k = w;
            while Instant::now() < deadline {
                k = (k + 7) % KEYS;
                let get = if put {
                    req(
                        "PutItem",
                        json!({"TableName": TABLE, "Item": {"pk": {"S": format!("k{k}")}, "v": {"S": "y".repeat(200)}}}),
                    )
                } else {
                    req(
                        "GetItem",
                        json!({"TableName": TABLE, "Key": {"pk": {"S": format!("k{k}")}}}),
                    )
                };
                let t0 = Instant::now();
                let (status, body) = conn.call(&get).await?;
                let micros = t0.elapsed().as_micros().max(1) as u64;
                if status == 200 {
                    tally.admitted.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut h) = latency.lock() {
                        let _ = h.record(micros);
                    }
                } else if status == 400 && body.windows(19).any(|w| w == b"ThrottlingException") {
                    tally.refused.fetch_add(1, Ordering::Relaxed);
                } else {
                    tally.other.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok::<(), String>(())
        }));
    }
    let mut peak_rss = rss_bytes(server.pid).unwrap_or(0);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak_rss = peak_rss.max(rss_bytes(server.pid).unwrap_or(0));
    }
    for w in workers {
        w.await.map_err(|e| e.to_string())??;
    }
    let h = latency.lock().map_err(|e| e.to_string())?;
    Ok(json!({
        "op": args.op,
        "max_in_flight": args.max_in_flight,
        "connections": connections,
        "seconds": args.seconds,
        "admitted": tally.admitted.load(Ordering::Relaxed),
        "refused": tally.refused.load(Ordering::Relaxed),
        "other": tally.other.load(Ordering::Relaxed),
        "p50_us": h.value_at_quantile(0.5),
        "p99_us": h.value_at_quantile(0.99),
        "max_us": h.max(),
        "peak_rss_bytes": peak_rss,
        "daxlite": server.command,
    }))
}

fn expect_ok((status, body): (u16, Bytes), op: &str) -> Result<(), String> {
    if status == 200 {
        Ok(())
    } else {
        Err(format!("{op} failed: {}", String::from_utf8_lossy(&body)))
    }
}
