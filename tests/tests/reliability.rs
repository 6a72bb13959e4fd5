//! Issue R's proofs, short versions for CI (docs/TESTING.md sections 3–5; the long runs
//! and their figures are in RELIABILITY.md):
//! - the kill -9 crash harness (`daxlite-bench crash`) passes, and fails on the seeded
//!   bug (`--seeded-bug`: writes acknowledged before they are durable);
//! - histories of concurrent GetItem (ConsistentRead) / PutItem / conditional UpdateItem /
//!   DeleteItem over HTTP are linearizable per key (`daxlite_tests::linearizability`),
//!   against the engine and through the cache in `coherent` mode; in `dax` mode the
//!   checker finds the stale Query page;
//! - every cargo-fuzz corpus file replays through its target's body;
//! - random requests at the HTTP front door never get a 5xx, a panic or a hang;
//! - transactions show no G0 / G1 / G2 anomaly (`reliability/isolation.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use daxlite_tests::linearizability::{check, Kind, Op};
use daxlite_tests::tools::binary;
use daxlite_tests::{call, call_ok, Mode, TestServer};
use serde_json::{json, Value};

#[path = "reliability/isolation.rs"]
mod isolation;

// ---- crash harness ------------------------------------------------------------------

fn crash(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(binary("daxlite-bench"))
        .arg("crash")
        .arg("--daxlite")
        .arg(binary("daxlite"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// CI's cycle count: `DAXLITE_CRASH_CYCLES` overrides it.
fn crash_cycles() -> String {
    std::env::var("DAXLITE_CRASH_CYCLES").unwrap_or_else(|_| "50".into())
}

#[test]
fn kill_9_loses_no_acknowledged_write() {
    let cycles = crash_cycles();
    let (ok, text) = crash(&["--cycles", &cycles, "--seed", "42"]);
    println!("{text}");
    assert!(ok, "crash harness failed:\n{text}");
    assert!(text.contains(" 0 lost"), "{text}");
}

#[test]
fn the_crash_harness_catches_the_seeded_bug() {
    let (ok, text) = crash(&["--cycles", "5", "--seed", "42", "--seeded-bug"]);
    assert!(
        !ok,
        "the seeded bug (no fsync) passed the crash harness:\n{text}"
    );
    assert!(text.contains("lost"), "{text}");
}

// ---- linearizability ----------------------------------------------------------------

const KEYS: usize = 3;

/// One recorded history per key.
type Histories = Arc<Mutex<Vec<Vec<Op>>>>;

fn nanos(t0: Instant) -> u64 {
    t0.elapsed().as_nanos() as u64
}

async fn create(addr: SocketAddr, table: &str) {
    call_ok(
        addr,
        "DynamoDB_20120810.CreateTable",
        &json!({"TableName": table,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"})
        .to_string(),
    )
    .await;
}

fn value_in(item: &Value) -> Option<i64> {
    item["v"]["N"].as_str().and_then(|n| n.parse().ok())
}

/// How reads are made.
#[derive(Clone, Copy, PartialEq)]
enum Read {
    /// GetItem with ConsistentRead (passes through any cache).
    Consistent,
    /// GetItem, eventually consistent (the item cache).
    Eventual,
    /// Query on the partition key, eventually consistent (the query cache).
    Query,
}

/// `clients` tasks run `ops` operations in all on `KEYS` hot keys; returns the histories.
async fn record(
    addr: SocketAddr,
    table: &str,
    clients: usize,
    ops: usize,
    read: Read,
) -> Vec<Vec<Op>> {
    let histories: Histories = Arc::new(Mutex::new(vec![Vec::new(); KEYS]));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (histories, table) = (histories.clone(), table.to_string());
        tasks.push(tokio::spawn(async move {
            let mut x = 0x9E37_79B9u64.wrapping_mul(c as u64 + 1);
            for n in 0..ops / clients {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = (x % KEYS as u64) as usize;
                let key = json!({"pk": {"S": format!("k{k}")}});
                let fresh = (c * 1_000_000 + n) as i64;
                let expect = (x >> 8) as i64 % 4;
                let call_at = nanos(t0);
                let (target, body) = match (x >> 4) % 5 {
                    0 | 1 => match read {
                        Read::Query => ("Query", json!({"TableName": table, "KeyConditionExpression": "pk = :k",
                            "ExpressionAttributeValues": {":k": {"S": format!("k{k}")}}})),
                        _ => ("GetItem", json!({"TableName": table, "Key": key, "ConsistentRead": read == Read::Consistent})),
                    },
                    2 => ("PutItem", json!({"TableName": table, "Item": {"pk": {"S": format!("k{k}")}, "v": {"N": (fresh % 4).to_string()}}})),
                    3 => ("UpdateItem", json!({"TableName": table, "Key": key, "UpdateExpression": "SET v = :new",
                        "ConditionExpression": "v = :old",
                        "ExpressionAttributeValues": {":new": {"N": ((expect + 1) % 4).to_string()}, ":old": {"N": expect.to_string()}}})),
                    _ => ("DeleteItem", json!({"TableName": table, "Key": key})),
                };
                let reply = call(addr, &format!("DynamoDB_20120810.{target}"), &body.to_string()).await;
                let ret = nanos(t0);
                let v = reply.json();
                let kind = match (target, reply.status) {
                    ("GetItem", 200) => Kind::Get(value_in(&v["Item"])),
                    ("Query", 200) => Kind::Get(v["Items"].as_array().and_then(|i| i.first()).and_then(value_in)),
                    ("PutItem", 200) => Kind::Put(fresh % 4),
                    ("UpdateItem", s) if s == 200 || v["__type"].as_str().unwrap_or("").ends_with("ConditionalCheckFailedException") => {
                        Kind::Cas { expect, new: (expect + 1) % 4, applied: s == 200 }
                    }
                    ("DeleteItem", 200) => Kind::Delete,
                    (_, s) => panic!("{target} answered {s}: {}", reply.text()),
                };
                histories.lock().unwrap()[k].push(Op { kind, call: call_at, ret: Some(ret) });
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(histories).unwrap().into_inner().unwrap()
}

/// Operations per history in CI; `DAXLITE_LIN_OPS=10000` for the recorded figure.
fn lin_ops() -> usize {
    std::env::var("DAXLITE_LIN_OPS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1200)
}

async fn linearizable_run(mode: Mode, dax: bool, read: Read) -> Result<usize, String> {
    let mut config = mode.config();
    if dax {
        config.cache.consistency = daxlite::cache::Consistency::Dax;
    }
    let server = TestServer::start_with(config, None).await;
    let table = daxlite_tests::unique_name("lin");
    create(server.addr, &table).await;
    let ops = lin_ops();
    let started = Instant::now();
    let histories = record(server.addr, &table, 8, ops, read).await;
    let recorded = started.elapsed();
    let started = Instant::now();
    let mut result = Ok(ops);
    for (k, h) in histories.iter().enumerate() {
        if let Err(v) = check(h) {
            result = Err(format!(
                "key k{k}: {} of {} operations linearized; stuck at {:?}",
                v.linearized,
                h.len(),
                v.stuck_at
            ));
            break;
        }
    }
    println!("{ops} operations ({} keys, 8 clients) recorded in {recorded:?}, checked in {:?}: {result:?}", KEYS, started.elapsed());
    server.stop().await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistent_single_item_operations_are_linearizable_against_the_engine() {
    linearizable_run(Mode::Engine, false, Read::Consistent)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_the_coherent_cache_reads_are_linearizable() {
    linearizable_run(Mode::Cached, false, Read::Eventual)
        .await
        .unwrap();
    linearizable_run(Mode::Cached, false, Read::Query)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_dax_mode_the_checker_finds_the_stale_query_page() {
    let err = linearizable_run(Mode::Cached, true, Read::Query)
        .await
        .expect_err("dax mode keeps Query pages stale until query_ttl: not linearizable");
    assert!(err.contains("stuck at"), "{err}");
}

// ---- fuzz corpora -------------------------------------------------------------------

/// Replays every file of `<crate>/fuzz/corpus/<target>` through its target; every target
/// has a corpus. Returns the number of files replayed.
fn replay(corpus: &str, targets: &[(&str, daxlite_engine::fuzz::Target)]) -> usize {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(corpus);
    let mut replayed = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (_, target) = targets
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("corpus {corpus}/{name} has no target"));
        for file in std::fs::read_dir(&dir).unwrap() {
            let data = std::fs::read(file.unwrap().path()).unwrap();
            target(&data);
            replayed += 1;
        }
    }
    for (name, _) in targets {
        assert!(
            root.join(name).is_dir(),
            "target {name} has no corpus in {corpus}"
        );
    }
    println!("replayed {replayed} corpus files of {corpus}");
    assert!(replayed >= targets.len());
    replayed
}

#[test]
fn every_fuzz_corpus_file_replays_through_its_target() {
    replay("../engine/fuzz/corpus", daxlite_engine::fuzz::TARGETS);
    replay("../proxy/fuzz/corpus", daxlite::fuzz::TARGETS);
}

// ---- random requests at the front door ----------------------------------------------

const OPS: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "CreateTable",
    "DescribeTable",
    "UpdateTable",
    "ExecuteStatement",
    "ListTables",
    "TagResource",
    "NoSuchOperation",
];

/// JSON values shaped like DynamoDB requests: the right field names, random contents.
fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let names = prop_oneof![
        Just("TableName"),
        Just("Key"),
        Just("Item"),
        Just("S"),
        Just("N"),
        Just("B"),
        Just("L"),
        Just("M"),
        Just("NULL"),
        Just("BOOL"),
        Just("SS"),
        Just("pk"),
        Just("KeyConditionExpression"),
        Just("UpdateExpression"),
        Just("ConditionExpression"),
        Just("ExpressionAttributeValues"),
        Just("ExpressionAttributeNames"),
        Just("RequestItems"),
        Just("TransactItems"),
        Just("Limit"),
        Just("ExclusiveStartKey"),
        Just("Statement"),
        Just(":v"),
        Just("#n"),
        Just("fuzz"),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("fuzz".to_string()),
            Just("pk = :v".to_string()),
            Just("SET #n = :v".to_string()),
            Just("1e400".to_string()),
            "\\PC{0,12}"
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(names.clone(), inner, 0..5).prop_map(
                |m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            ),
        ]
    })
}

#[test]
fn random_requests_never_get_a_5xx_a_panic_or_a_hang() {
    use proptest::prelude::*;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let s = TestServer::start(Mode::Cached).await;
        create(s.addr, "fuzz").await;
        s
    });
    let addr = server.addr;
    let cases = std::env::var("DAXLITE_FRONT_DOOR_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let strategy = (
        0..OPS.len(),
        json_value(),
        proptest::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(op, body, junk, as_json)| {
            let body = if as_json {
                body.to_string()
            } else {
                String::from_utf8_lossy(&junk).to_string()
            };
            let target = format!("DynamoDB_20120810.{}", OPS[op]);
            let reply = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), call(addr, &target, &body)).await
            });
            let reply = reply
                .map_err(|_| TestCaseError::fail(format!("{target} {body}: no answer in 5 s")))?;
            prop_assert!(
                reply.status < 500,
                "{} {}: {} {}",
                target,
                body,
                reply.status,
                reply.text()
            );
            Ok(())
        })
        .unwrap();
    rt.block_on(server.stop());
}
