//! `daxlite-bench capacity`: a bulk load into a table provisioned at `--wcu` (5 by
//! default) on a daxlite with `[capacity] throttling = "provisioned"`, written the way
//! an application with the AWS SDK's standard retry mode writes it: BatchWriteItem of 25
//! items, a throttled call retried with capped exponential backoff and full jitter up to
//! `--max-attempts` attempts, `UnprocessedItems` resubmitted by the application (as
//! boto3's batch_writer does). Run twice — without and with Application Auto Scaling
//! (a 70 % target-tracking policy, `autoscaling_minute` shortened so minutes pass in
//! seconds) — it reports items written, throttles, SDK retries, resubmitted items,
//! call latency percentiles, the final WCU and the scaling activities.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use rand::{rngs::SmallRng, Rng, SeedableRng};
use serde_json::{json, Value};

use crate::cli::CapacityArgs;
use crate::client::{Conn, Endpoint};
use crate::sign::Signer;
use crate::spawn;
use crate::workload::{Expect, Req};

const TABLE: &str = "daxlite-capacity";

/// A request that must succeed (also the overload scenario's).
pub(crate) fn req(op: &'static str, body: Value) -> Req {
    Req {
        op,
        body: Bytes::from(body.to_string()),
        expect: Expect::Ok,
        then: None,
    }
}

#[derive(Debug, Default)]
struct Tally {
    written: AtomicU64,
    calls: AtomicU64,
    throttles: AtomicU64,
    retries: AtomicU64,
    resubmitted: AtomicU64,
    exhausted: AtomicU64,
}

pub fn main(args: &CapacityArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    let bin = spawn::daxlite_binary(args.daxlite.as_deref());
    let mut rows = Vec::new();
    for scaling in [false, true] {
        rows.push(runtime.block_on(run(args, &bin, scaling))?);
    }
    let [json_path, txt_path, svg_path] = args.output.paths(&args.output.stem("capacity"))?;
    let table = summary(&rows);
    std::fs::write(&txt_path, &table)
        .map_err(|e| format!("cannot write {}: {e}", txt_path.display()))?;
    let doc = json!({"wcu": args.wcu, "seconds": args.seconds, "connections": args.connections,
        "max_attempts": args.max_attempts, "autoscaling_minute": args.minute, "runs": rows});
    std::fs::write(
        &json_path,
        serde_json::to_vec_pretty(&doc).unwrap_or_default(),
    )
    .map_err(|e| format!("cannot write {}: {e}", json_path.display()))?;
    let title = format!(
        "{} WCU bulk load, {} s, {} writers, {} attempts (daxlite-bench capacity)",
        args.wcu, args.seconds, args.connections, args.max_attempts
    );
    crate::capacity_chart::write(&svg_path, &title, &rows)?;
    println!("{table}");
    println!("{}", crate::cli::wrote(&[&txt_path, &json_path, &svg_path]));
    Ok(())
}

pub(crate) async fn call_ok(conn: &mut Conn, r: &Req) -> Result<Value, String> {
    let (status, body) = conn.call(r).await?;
    if status != 200 {
        return Err(format!(
            "{} failed: {}",
            r.op,
            String::from_utf8_lossy(&body)
        ));
    }
    serde_json::from_slice(&body).map_err(|e| format!("{}: {e}", r.op))
}

async fn run(args: &CapacityArgs, bin: &std::path::Path, scaling: bool) -> Result<Value, String> {
    let argv: Vec<String> = ["--port", "0", "--log-level", "warn", "--in-memory"]
        .map(String::from)
        .to_vec();
    let envs = vec![
        (
            "DAXLITE_CAPACITY_THROTTLING".to_string(),
            "provisioned".to_string(),
        ),
        (
            "DAXLITE_CAPACITY_AUTOSCALING_MINUTE".to_string(),
            args.minute.clone(),
        ),
        ("DAXLITE_CACHE".to_string(), "false".to_string()),
    ];
    let server = spawn::spawn_daxlite_with(bin, &argv, &envs)?;
    let signer = Signer::new("daxlitebench", "daxlitebench", "us-east-1", false);
    let endpoint = Arc::new(Endpoint::new(&server.url, signer)?);
    let mut admin = endpoint.connect().await?;
    call_ok(
        &mut admin,
        &req(
            "CreateTable",
            json!({
        "TableName": TABLE,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": args.wcu}}),
        ),
    )
    .await?;
    let target = json!({"ServiceNamespace": "dynamodb", "ResourceId": format!("table/{TABLE}"),
        "ScalableDimension": "dynamodb:table:WriteCapacityUnits"});
    if scaling {
        let mut t = target.clone();
        t["MinCapacity"] = json!(args.wcu);
        t["MaxCapacity"] = json!(40_000);
        call_ok(
            &mut admin,
            &req("AnyScaleFrontendService.RegisterScalableTarget", t),
        )
        .await?;
        let mut p = target.clone();
        p["PolicyName"] = json!("bulk-load");
        p["PolicyType"] = json!("TargetTrackingScaling");
        p["TargetTrackingScalingPolicyConfiguration"] = json!({"TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBWriteCapacityUtilization"}});
        call_ok(
            &mut admin,
            &req("AnyScaleFrontendService.PutScalingPolicy", p),
        )
        .await?;
    }
    let tally = Arc::new(Tally::default());
    let latency = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).map_err(|e| e.to_string())?,
    ));
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.connections {
        let (endpoint, tally, latency) = (endpoint.clone(), tally.clone(), latency.clone());
        let (item_size, attempts) = (args.item_size, args.max_attempts);
        workers.push(tokio::spawn(async move {
            let mut conn = endpoint.connect().await?;
            let mut rng = SmallRng::seed_from_u64(w as u64 + 1);
            let mut serial = 0u64;
            let pad = "x".repeat(item_size);
            let mut pending: Vec<Value> = Vec::new();
            while Instant::now() < deadline {
                while pending.len() < 25 {
                    serial += 1;
                    pending.push(json!({"PutRequest": {"Item": {
                        "pk": {"S": format!("w{w}-{serial}")}, "pad": {"S": pad}}}}));
                }
                let batch: Vec<Value> = pending.drain(..25).collect();
                let r = req(
                    "BatchWriteItem",
                    json!({"RequestItems": {TABLE: batch.clone()}}),
                );
                let t0 = Instant::now();
                let mut attempt = 0u32;
                let answer = loop {
                    attempt += 1;
                    tally.calls.fetch_add(1, Ordering::Relaxed);
                    let (status, body) = conn.call(&r).await?;
                    if status == 200 {
                        break Some(body);
                    }
                    tally.throttles.fetch_add(1, Ordering::Relaxed);
                    if attempt >= attempts || Instant::now() >= deadline {
                        break None;
                    }
                    tally.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(backoff(&mut rng, attempt)).await;
                };
                let micros = t0.elapsed().as_micros().max(1) as u64;
                if let Ok(mut h) = latency.lock() {
                    let _ = h.record(micros);
                }
                let Some(body) = answer else {
                    tally.exhausted.fetch_add(1, Ordering::Relaxed);
                    pending.splice(0..0, batch);
                    continue;
                };
                let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                let left: Vec<Value> = v["UnprocessedItems"][TABLE]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                tally
                    .written
                    .fetch_add((batch.len() - left.len()) as u64, Ordering::Relaxed);
                if !left.is_empty() {
                    tally
                        .resubmitted
                        .fetch_add(left.len() as u64, Ordering::Relaxed);
                    tokio::time::sleep(backoff(&mut rng, 1)).await;
                    pending.splice(0..0, left);
                }
            }
            Ok::<(), String>(())
        }));
    }
    for w in workers {
        w.await.map_err(|e| format!("worker: {e}"))??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let d = call_ok(
        &mut admin,
        &req("DescribeTable", json!({"TableName": TABLE})),
    )
    .await?;
    let wcu = d["Table"]["ProvisionedThroughput"]["WriteCapacityUnits"].clone();
    let acts = if scaling {
        call_ok(
            &mut admin,
            &req(
                "AnyScaleFrontendService.DescribeScalingActivities",
                json!({"ServiceNamespace": "dynamodb"}),
            ),
        )
        .await?["ScalingActivities"]
            .as_array()
            .map(|a| {
                a.iter()
                    .rev()
                    .filter_map(|x| x["Description"].as_str().map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    drop(server);
    let h = latency.lock().map_err(|_| "latency lock".to_string())?;
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let calls = tally.calls.load(Ordering::Relaxed);
    let throttles = tally.throttles.load(Ordering::Relaxed);
    Ok(json!({
        "auto_scaling": scaling,
        "seconds": elapsed,
        "items_written": tally.written.load(Ordering::Relaxed),
        "items_per_s": tally.written.load(Ordering::Relaxed) as f64 / elapsed,
        "calls": calls,
        "throttled_calls": throttles,
        "success_rate": if calls == 0 { 0.0 } else { (calls - throttles) as f64 / calls as f64 },
        "sdk_retries": tally.retries.load(Ordering::Relaxed),
        "retries_exhausted": tally.exhausted.load(Ordering::Relaxed),
        "unprocessed_resubmitted": tally.resubmitted.load(Ordering::Relaxed),
        "p50_ms": ms(0.5), "p99_ms": ms(0.99), "max_ms": h.max() as f64 / 1000.0,
        "final_wcu": wcu,
        "scaling_activities": acts,
    }))
}

/// The standard retry mode's backoff: full jitter over min(base × 2^(attempt−1), cap),
/// base 1 s for throttles and cap 20 s in the SDKs; scaled down 10× here so a run takes
/// seconds (`--max-attempts` keeps the SDK's count).
fn backoff(rng: &mut SmallRng, attempt: u32) -> Duration {
    let ceiling = (0.1 * 2f64.powi(attempt.saturating_sub(1) as i32)).min(2.0);
    Duration::from_secs_f64(rng.random::<f64>() * ceiling)
}

fn summary(rows: &[Value]) -> String {
    let mut out = format!(
        "{:<13} {:>8} {:>8} {:>7} {:>9} {:>8} {:>9} {:>12} {:>8} {:>8} {:>9}\n",
        "auto scaling",
        "written",
        "items/s",
        "calls",
        "throttled",
        "retries",
        "exhausted",
        "resubmitted",
        "p50 ms",
        "p99 ms",
        "final WCU"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<13} {:>8} {:>8.0} {:>7} {:>9} {:>8} {:>9} {:>12} {:>8.1} {:>8.1} {:>9}\n",
            if r["auto_scaling"] == true {
                "on"
            } else {
                "off"
            },
            r["items_written"].as_u64().unwrap_or(0),
            r["items_per_s"].as_f64().unwrap_or(0.0),
            r["calls"].as_u64().unwrap_or(0),
            r["throttled_calls"].as_u64().unwrap_or(0),
            r["sdk_retries"].as_u64().unwrap_or(0),
            r["retries_exhausted"].as_u64().unwrap_or(0),
            r["unprocessed_resubmitted"].as_u64().unwrap_or(0),
            r["p50_ms"].as_f64().unwrap_or(0.0),
            r["p99_ms"].as_f64().unwrap_or(0.0),
            r["final_wcu"].as_u64().unwrap_or(0)
        ));
    }
    for r in rows.iter().filter(|r| r["auto_scaling"] == true) {
        if let Some(a) = r["scaling_activities"].as_array() {
            for x in a {
                out.push_str(&format!("  activity: {}\n", x.as_str().unwrap_or_default()));
            }
        }
    }
    out
}
