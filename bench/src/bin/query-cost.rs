//! `query-cost`: shows that GetItem, PutItem and Query cost follow the items they touch,
//! not the table's size. In process (no HTTP), it grows one table through a list of sizes
//! — loading with BatchWriteItem and printing the load rate — and at each size times
//! GetItem of a random key, PutItem overwriting a random key and Query of one partition
//! (10 items), then prints the curve and each cost's ratio to the smallest size. Cost is
//! the process's CPU time per operation (client and engine together, from
//! `/proc/self/stat`), so a read that waits for the disk is not counted as work; the wall
//! time per operation is printed beside it.
//!
//! cargo run --release -p daxlite-bench --bin query-cost -- \
//!     [--sizes 10000,1000000,10000000] [--data-dir DIR] [--ops 20000] [--payload 150] \
//!     [--page-cache-bytes N] [--warm]
//!
//! `--warm` scans the whole table before timing each size, so every leaf has been read
//! once (the steady state of a long-running server) and the timed operations measure
//! lookups rather than first reads.
//!
//! Without `--data-dir` the table is in memory; with it, on disk (the directory is created
//! and must be empty or new), with redb's page cache at `--page-cache-bytes` (default 0:
//! daxlite's default, a quarter of the machine's memory; 1073741824 is redb's own).

use std::time::Instant;

use daxlite_engine::wire::Operation;
use daxlite_engine::{Backend, Engine, EngineConfig};

const ITEMS_PER_PARTITION: u64 = 10;
const TABLE: &str = "scale";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn num_arg(name: &str, default: u64) -> u64 {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn fail(what: &str) -> ! {
    eprintln!("query-cost: {what}");
    std::process::exit(1);
}

async fn call(engine: &Engine, op: Operation, body: &str) -> Vec<u8> {
    match engine.call(op, body.as_bytes()).await {
        Ok(b) => b,
        Err(e) => fail(&format!("{} failed: {e}", op.name())),
    }
}

fn item(i: u64, payload: &str) -> String {
    format!(
        r#"{{"pk":{{"S":"p{}"}},"sk":{{"N":"{}"}},"payload":{{"S":"{payload}"}}}}"#,
        i / ITEMS_PER_PARTITION,
        i % ITEMS_PER_PARTITION
    )
}

/// Loads items `from..to` with BatchWriteItem (25 per request, 8 in flight), retrying
/// unprocessed items; prints progress every 5 s and returns items per second.
async fn load(engine: &Engine, from: u64, to: u64, payload: &str) -> f64 {
    let started = Instant::now();
    let workers = 8u64;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (engine, payload, done) = (engine.clone(), payload.to_string(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut batch = from + w * 25;
            while batch < to {
                let end = (batch + 25).min(to);
                let puts: Vec<String> = (batch..end)
                    .map(|i| format!(r#"{{"PutRequest":{{"Item":{}}}}}"#, item(i, &payload)))
                    .collect();
                let body = format!(r#"{{"RequestItems":{{"{TABLE}":[{}]}}}}"#, puts.join(","));
                let out = call(&engine, Operation::BatchWriteItem, &body).await;
                if !out.windows(21).any(|w| w == b"\"UnprocessedItems\":{}") {
                    fail("BatchWriteItem left unprocessed items");
                }
                done.fetch_add(end - batch, std::sync::atomic::Ordering::Relaxed);
                batch += workers * 25;
            }
        }));
    }
    let total = to - from;
    let progress = {
        let done = done.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                let d = done.load(std::sync::atomic::Ordering::Relaxed);
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "  loading: {d}/{total} items ({:.0}%), {:.0} items/s",
                    100.0 * d as f64 / total.max(1) as f64,
                    d as f64 / secs
                );
            }
        })
    };
    for t in tasks {
        if t.await.is_err() {
            fail("a loader task panicked");
        }
    }
    progress.abort();
    total as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

/// Reads every item once with Scan (1 MB pages), printing progress every 5 s.
async fn warm(engine: &Engine, items: u64) {
    let started = Instant::now();
    let (mut seen, mut start_key, mut last_note) =
        (0u64, None::<serde_json::Value>, Instant::now());
    loop {
        let mut body = serde_json::json!({ "TableName": TABLE });
        if let Some(k) = start_key.take() {
            body["ExclusiveStartKey"] = k;
        }
        let out = call(engine, Operation::Scan, &body.to_string()).await;
        let page: serde_json::Value =
            serde_json::from_slice(&out).unwrap_or_else(|_| fail("a Scan answer is not JSON"));
        seen += page["Count"].as_u64().unwrap_or(0);
        if last_note.elapsed().as_secs() >= 5 {
            eprintln!("  warming: {seen}/{items} items read");
            last_note = Instant::now();
        }
        match page.get("LastEvaluatedKey") {
            Some(k) => start_key = Some(k.clone()),
            None => break,
        }
    }
    eprintln!(
        "  warmed: {seen} items read in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// CPU seconds used so far by this process (utime + stime, all threads; 100 ticks/s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let ticks: u64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

/// CPU µs and wall µs per operation of `n` sequential GetItems, PutItems and Queries on
/// random keys.
async fn time_ops(
    engine: &Engine,
    items: u64,
    n: u64,
    payload: &str,
    rng: &mut Lcg,
) -> [(f64, f64); 3] {
    let mut out = [(0.0, 0.0); 3];
    for (slot, kind) in out.iter_mut().zip(0..3) {
        let (started, cpu) = (Instant::now(), cpu_seconds());
        for _ in 0..n {
            let i = rng.below(items);
            let (p, s) = (i / ITEMS_PER_PARTITION, i % ITEMS_PER_PARTITION);
            match kind {
                0 => {
                    let body = format!(
                        r#"{{"TableName":"{TABLE}","Key":{{"pk":{{"S":"p{p}"}},"sk":{{"N":"{s}"}}}}}}"#
                    );
                    let got = call(engine, Operation::GetItem, &body).await;
                    if !got.starts_with(b"{\"Item\"") {
                        fail("a GetItem found no item");
                    }
                }
                1 => {
                    let body = format!(r#"{{"TableName":"{TABLE}","Item":{}}}"#, item(i, payload));
                    call(engine, Operation::PutItem, &body).await;
                }
                _ => {
                    let body = format!(
                        r#"{{"TableName":"{TABLE}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"p{p}"}}}}}}"#
                    );
                    let got = call(engine, Operation::Query, &body).await;
                    if !got.windows(10).any(|w| w == b"\"Count\":10") {
                        fail("a Query did not return 10 items");
                    }
                }
            }
        }
        *slot = (
            (cpu_seconds() - cpu) * 1e6 / n as f64,
            started.elapsed().as_secs_f64() * 1e6 / n as f64,
        );
    }
    out
}

#[tokio::main]
async fn main() {
    let mut sizes: Vec<u64> = arg("--sizes")
        .unwrap_or_else(|| "10000,1000000".to_string())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .unwrap_or_else(|_| fail("--sizes: a comma list of numbers"))
        })
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    let ops = num_arg("--ops", 20_000);
    let payload = "x".repeat(num_arg("--payload", 150) as usize);
    let mut config = EngineConfig {
        page_cache_bytes: num_arg("--page-cache-bytes", 0),
        ..EngineConfig::default()
    };
    let place = match arg("--data-dir") {
        Some(dir) => {
            config.backend = Backend::Dir(dir.clone().into());
            format!(
                "on disk in {dir} (page cache {} MiB)",
                daxlite_engine::storage::page_cache::bytes(config.page_cache_bytes) >> 20
            )
        }
        None => "in memory".to_string(),
    };
    let engine = Engine::open(config).unwrap_or_else(|e| fail(&e.to_string()));
    call(
        &engine,
        Operation::CreateTable,
        &format!(
            r#"{{"TableName":"{TABLE}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"sk","AttributeType":"N"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"sk","KeyType":"RANGE"}}],"BillingMode":"PAY_PER_REQUEST"}}"#
        ),
    )
    .await;
    println!(
        "One table {place}, items of ~{} bytes, 10 per partition; {ops} sequential operations per cost:",
        payload.len() + 20
    );
    println!("CPU µs per operation (wall µs in parentheses):");
    println!(
        "{:>12} {:>14} {:>20} {:>20} {:>20}",
        "items", "load items/s", "GetItem", "PutItem", "Query (10 items)"
    );
    let (mut loaded, mut rng) = (0u64, Lcg(42));
    let mut first: Option<[(f64, f64); 3]> = None;
    for size in sizes {
        let rate = load(&engine, loaded, size, &payload).await;
        loaded = size;
        if std::env::args().any(|a| a == "--warm") {
            warm(&engine, loaded).await;
        }
        let costs = time_ops(&engine, loaded, ops, &payload, &mut rng).await;
        let cell = |(cpu, wall): (f64, f64)| format!("{cpu:.1} ({wall:.1})");
        println!(
            "{loaded:>12} {rate:>14.0} {:>20} {:>20} {:>20}",
            cell(costs[0]),
            cell(costs[1]),
            cell(costs[2])
        );
        match first {
            None => first = Some(costs),
            Some(base) => {
                let ratio = |i: usize| format!("{:.2}×", costs[i].0 / base[i].0.max(1e-9));
                let (g, p, q) = (ratio(0), ratio(1), ratio(2));
                println!("{:>12} {:>14} {g:>20} {p:>20} {q:>20}", "CPU ratio", "");
            }
        }
    }
    engine.close();
}
