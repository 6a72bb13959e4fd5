//! `daxlite-bench crash`: the kill -9 harness (docs/TESTING.md section 3). It starts
//! daxlite on a data directory, runs concurrent clients (`load`) for a random moment,
//! kills the server with SIGKILL, restarts it on the same directory and checks the
//! invariants of `check`; then the next cycle. It exits non-zero at the first cycle with
//! a violation. `--seeded-bug` starts daxlite with `DAXLITE_SEEDED_BUG=skip-fsync`
//! (writes acknowledged before they are durable): the harness must then fail, which
//! proves it can.

mod check;
mod load;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::cli::CrashArgs;
use crate::client::Endpoint;
use crate::sign::Signer;
use crate::spawn::{self, Spawned};
use load::{req, Ledger, ACCOUNTS, GSI, START_BALANCE, TABLE};

pub fn main(args: &CrashArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio: {e}"))?;
    runtime.block_on(run(args))
}

fn start(args: &CrashArgs, dir: &std::path::Path) -> Result<(Spawned, Duration), String> {
    let bin = spawn::daxlite_binary(args.daxlite.as_deref());
    let argv: Vec<String> = ["--port", "0", "--log-level", "error", "--data-dir"]
        .map(String::from)
        .into_iter()
        .chain([dir.display().to_string()])
        .collect();
    let mut envs = vec![];
    if args.seeded_bug {
        envs.push(("DAXLITE_SEEDED_BUG".to_string(), "skip-fsync".to_string()));
    }
    let t = Instant::now();
    let s = spawn::spawn_daxlite_with(&bin, &argv, &envs)?;
    Ok((s, t.elapsed()))
}

fn endpoint(server: &Spawned) -> Result<Arc<Endpoint>, String> {
    let signer = Signer::new("daxlitecrash", "daxlitecrash", "us-east-1", false);
    Ok(Arc::new(Endpoint::new(&server.url, signer)?))
}

/// Creates the table (pk, a GSI on `g`, a stream) and the bank accounts, durably.
async fn setup(e: &Arc<Endpoint>) -> Result<(), String> {
    let mut conn = e.connect().await?;
    let create = json!({"TableName": TABLE, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "g", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{"IndexName": GSI,
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}],
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}});
    let (status, body) = conn.call(&req("CreateTable", &create)).await?;
    if status != 200 {
        return Err(format!(
            "CreateTable {status}: {}",
            String::from_utf8_lossy(&body)
        ));
    }
    for _ in 0..300 {
        let (_, body) = conn
            .call(&req("DescribeTable", &json!({"TableName": TABLE})))
            .await?;
        if String::from_utf8_lossy(&body).contains("\"TableStatus\":\"ACTIVE\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for a in 0..ACCOUNTS {
        let put = json!({"TableName": TABLE, "Item": {"pk": {"S": format!("acct-{a}")},
            "balance": {"N": START_BALANCE.to_string()}}});
        let (status, body) = conn.call(&req("PutItem", &put)).await?;
        if status != 200 {
            return Err(format!(
                "PutItem {status}: {}",
                String::from_utf8_lossy(&body)
            ));
        }
    }
    Ok(())
}

async fn run(args: &CrashArgs) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "daxlite-crash-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let result = cycles(args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn cycles(args: &CrashArgs, dir: &std::path::Path) -> Result<(), String> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    let mut rng = SmallRng::seed_from_u64(seed);
    let (mut server, _) = start(args, dir)?;
    setup(&endpoint(&server)?).await?;
    let mut totals = check::Totals::default();
    let (mut recovery_max, mut recovery_sum) = (Duration::ZERO, Duration::ZERO);
    let started = Instant::now();
    for cycle in 0..args.cycles {
        let e = endpoint(&server)?;
        let gsi_key = format!("c{cycle}");
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let clients: Vec<_> = (0..args.clients)
            .map(|id| {
                tokio::spawn(load::client(
                    e.clone(),
                    ledger.clone(),
                    gsi_key.clone(),
                    id,
                    rng.random(),
                ))
            })
            .collect();
        let load_ms = rng.random_range(args.min_load_ms..=args.max_load_ms.max(args.min_load_ms));
        tokio::time::sleep(Duration::from_millis(load_ms)).await;
        drop(server); // SIGKILL, then wait for the process
        for c in &clients {
            c.abort();
        }
        for c in clients {
            let _ = c.await;
        }
        let (restarted, took) = start(args, dir)?;
        server = restarted;
        recovery_max = recovery_max.max(took);
        recovery_sum += took;
        let ledger = std::mem::take(&mut *ledger.lock().map_err(|_| "ledger lock poisoned")?);
        let mut conn = endpoint(&server)?.connect().await?;
        let violations = check::cycle(&mut conn, &gsi_key, &ledger, &mut totals).await?;
        let unexpected = ledger.unexpected.len();
        if !violations.is_empty() || unexpected > 0 {
            let mut all = violations;
            all.extend(ledger.unexpected.iter().take(3).cloned());
            return Err(format!(
                "cycle {cycle} (seed {seed}, killed after {load_ms} ms): {} violation(s):\n  {}",
                all.len(),
                all.join("\n  ")
            ));
        }
        if args.verbose {
            eprintln!("cycle {cycle}: killed after {load_ms} ms, {} acknowledged writes, restart {took:?}", ledger.acked_writes);
        }
    }
    let n = args.cycles.max(1);
    println!("crash: {} cycles in {:.1} s (seed {seed}): {} acknowledged writes ({} unique items), 0 lost, \
              0 half-applied transfers, 0 index differences; {} stream records in order; {} tokens replayed, \
              0 re-applied; restart to listening: mean {} ms, max {} ms",
        args.cycles, started.elapsed().as_secs_f64(), totals.acked_writes, totals.acked_items,
        totals.stream_records, totals.tokens_replayed, (recovery_sum / n).as_millis(), recovery_max.as_millis());
    Ok(())
}
