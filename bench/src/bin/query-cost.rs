//! `query-cost`: shows that a Query's cost follows the items it returns, not the table's
//! size. It loads two tables in process (no HTTP, in-memory store) — a small one and a large
//! one, both with 10 items per partition — then times the same Query (one partition, 10
//! items) against each, interleaved, and prints microseconds per query and the ratio.
//!
//! cargo run --release -p daxlite-bench --bin query-cost -- [--large 1000000] [--small 1000] [--queries 20000]

use std::time::Instant;

use daxlite_engine::wire::Operation;
use daxlite_engine::{Engine, EngineConfig};

const ITEMS_PER_PARTITION: u64 = 10;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn call(engine: &Engine, op: Operation, body: String) -> Vec<u8> {
    match engine.call(op, body.as_bytes()).await {
        Ok(b) => b,
        Err(e) => {
            eprintln!("query-cost: {} failed: {e}", op.name());
            std::process::exit(1);
        }
    }
}

async fn load(engine: &Engine, table: &str, items: u64) {
    call(
        engine,
        Operation::CreateTable,
        format!(
            r#"{{"TableName":"{table}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"sk","AttributeType":"N"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"sk","KeyType":"RANGE"}}],"BillingMode":"PAY_PER_REQUEST"}}"#
        ),
    )
    .await;
    let started = Instant::now();
    let workers = 64;
    let mut tasks = Vec::new();
    for w in 0..workers {
        let engine = engine.clone();
        let table = table.to_string();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < items {
                let body = format!(
                    r#"{{"TableName":"{table}","Item":{{"pk":{{"S":"p{}"}},"sk":{{"N":"{}"}},"payload":{{"S":"{}"}}}}}}"#,
                    i / ITEMS_PER_PARTITION,
                    i % ITEMS_PER_PARTITION,
                    "x".repeat(100)
                );
                call(&engine, Operation::PutItem, body).await;
                i += workers;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    eprintln!(
        "loaded {items} items into {table} in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Runs `n` queries over random partitions of `table`; returns µs per query.
async fn time_queries(
    engine: &Engine,
    table: &str,
    partitions: u64,
    n: u64,
    seed: &mut u64,
) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let p = (*seed >> 33) % partitions;
        let body = format!(
            r#"{{"TableName":"{table}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"p{p}"}}}}}}"#
        );
        let out = call(engine, Operation::Query, body).await;
        if !out.windows(10).any(|w| w == b"\"Count\":10") {
            eprintln!("query-cost: a query did not return 10 items");
            std::process::exit(1);
        }
    }
    started.elapsed().as_secs_f64() * 1e6 / n as f64
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let large = arg("--large", 1_000_000);
    let small = arg("--small", 1_000);
    let queries = arg("--queries", 20_000);
    let engine = match Engine::open(EngineConfig::default()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("query-cost: {e}");
            std::process::exit(1);
        }
    };
    load(&engine, "small", small).await;
    load(&engine, "large", large).await;
    let mut seed = 42u64;
    let (mut small_us, mut large_us) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        small_us.push(
            time_queries(
                &engine,
                "small",
                small / ITEMS_PER_PARTITION,
                queries / 5,
                &mut seed,
            )
            .await,
        );
        large_us.push(
            time_queries(
                &engine,
                "large",
                large / ITEMS_PER_PARTITION,
                queries / 5,
                &mut seed,
            )
            .await,
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let (s, l) = (median(&mut small_us), median(&mut large_us));
    println!("Query of {ITEMS_PER_PARTITION} items (one partition), median of 5 interleaved rounds of {} queries:", queries / 5);
    println!("  table of {small:>9} items: {s:8.1} µs/query");
    println!("  table of {large:>9} items: {l:8.1} µs/query");
    println!("  ratio large/small: {:.2}", l / s.max(f64::MIN_POSITIVE));
    engine.close();
}
