//! Per partition-key limits (`[capacity] partition_limits`, CAPACITY.md §2.1: 3,000 RCU /
//! 1,000 WCU per key value per second) on the multi-item reads and the transactions —
//! BatchGetItem (the hot key to UnprocessedKeys, the call fails only when nothing was
//! read), Query on one partition, TransactGetItems / TransactWriteItems (cancelled with
//! the per-item reason) — on a manual clock; and the request counters of §5 on
//! `/metrics`: ReturnedItemCount, ConditionalCheckFailedRequests,
//! TimeToLiveDeletedItemCount. Scan is not limited per key (a page spans partitions).

use daxlite_engine::capacity::Throttling;
use daxlite_engine::clock::ManualClock;
use daxlite_tests::{call, Mode, RawReply, TestServer};
use serde_json::{json, Value};

use crate::capacity::{ok, series};
use crate::capacity_update::create;

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const PTEE: &str = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException";

async fn server(clock: &ManualClock, edit: impl FnOnce(&mut daxlite::Config)) -> TestServer {
    let mut config = Mode::Engine.config();
    edit(&mut config);
    TestServer::start_with(config, Some(clock.clone())).await
}

async fn ddb(s: &TestServer, op: &str, body: &Value) -> RawReply {
    call(
        s.addr,
        &format!("DynamoDB_20120810.{op}"),
        &body.to_string(),
    )
    .await
}

/// Repeats `op` until it answers 400; returns how many calls answered 200 and the 400.
async fn until_refused(s: &TestServer, op: &str, body: Value) -> (usize, Value) {
    for n in 0..100 {
        let r = ddb(s, op, &body).await;
        if r.status != 200 {
            assert_eq!(r.status, 400, "{op}: {}", r.text());
            return (n, r.json());
        }
    }
    panic!("{op} was never throttled in 100 calls");
}

fn key_range(table: &str) -> Value {
    json!([{"reason": "TableReadKeyRangeThroughputExceeded",
            "resource": format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}")}])
}

#[tokio::test]
async fn reads_and_transactions_count_against_one_partition_key() {
    let clock = ManualClock::new(T0);
    let s = server(&clock, |c| {
        c.engine.throttling = Throttling::Provisioned;
        c.engine.capacity.partition_limits = true;
    })
    .await;
    create(&s, "keys", 40_000, 40_000).await;
    // ~390 KB items: 98 strongly consistent read units each; one per key.
    let big = "x".repeat(390 * 1024);
    for k in ["b", "q", "t", "cold"] {
        ok(
            &s,
            "PutItem",
            json!({"TableName": "keys", "Item": {"pk": {"S": k}, "p": {"S": big}}}),
        )
        .await;
    }
    let get = |k: &str| json!({"pk": {"S": k}});

    // BatchGetItem: ~31 reads of one key fill its 3,000 units; then the key alone fails…
    let batch = |keys: Vec<Value>| json!({"RequestItems": {"keys": {"Keys": keys, "ConsistentRead": true}}});
    let (n, e) = until_refused(&s, "BatchGetItem", batch(vec![get("b")])).await;
    assert!((28..=32).contains(&n), "{n} batches before the throttle");
    assert_eq!(e["__type"], PTEE, "{e}");
    assert_eq!(e["ThrottlingReasons"], key_range("keys"));
    // …and next to a cold key it goes to UnprocessedKeys while the cold key is read.
    let out = ok(&s, "BatchGetItem", batch(vec![get("b"), get("cold")])).await;
    assert_eq!(
        out["Responses"]["keys"].as_array().map(Vec::len),
        Some(1),
        "{out}"
    );
    assert_eq!(out["UnprocessedKeys"]["keys"]["Keys"], json!([get("b")]));

    // Query on one partition.
    let query = |k: &str| {
        json!({"TableName": "keys", "ConsistentRead": true,
        "KeyConditionExpression": "pk = :k", "ExpressionAttributeValues": {":k": {"S": k}}})
    };
    let (n, e) = until_refused(&s, "Query", query("q")).await;
    assert!((28..=32).contains(&n), "{n} queries before the throttle");
    assert_eq!(e["__type"], PTEE, "{e}");
    assert_eq!(e["ThrottlingReasons"], key_range("keys"));
    ok(&s, "Query", query("cold")).await;

    // TransactGetItems: twice the units, so about half as many; the cancellation names
    // the throttled item only.
    let tget = |keys: &[&str]| {
        json!({"TransactItems": keys.iter()
        .map(|k| json!({"Get": {"TableName": "keys", "Key": get(k)}})).collect::<Vec<_>>()})
    };
    let (n, e) = until_refused(&s, "TransactGetItems", tget(&["t"])).await;
    assert!(
        (14..=16).contains(&n),
        "{n} transactions before the throttle"
    );
    let r = ddb(&s, "TransactGetItems", &tget(&["t", "cold"]))
        .await
        .json();
    assert_eq!(
        r["__type"], "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "{r}"
    );
    assert_eq!(
        r["CancellationReasons"][0]["Code"], "ProvisionedThroughputExceeded",
        "{r}"
    );
    assert_eq!(r["CancellationReasons"][1]["Code"], "None", "{r}");
    assert_eq!(
        e["CancellationReasons"][0]["Code"],
        "ProvisionedThroughputExceeded"
    );

    // TransactWriteItems: ~100 KB puts cost 2 × 101 units of the key's 1,000 per second.
    let mid = "y".repeat(100 * 1024);
    let tput = json!({"TransactItems": [{"Put": {"TableName": "keys",
        "Item": {"pk": {"S": "w"}, "p": {"S": mid}}}}]});
    let (n, e) = until_refused(&s, "TransactWriteItems", tput.clone()).await;
    assert!((4..=5).contains(&n), "{n} transactions before the throttle");
    assert_eq!(
        e["CancellationReasons"][0]["Code"], "ProvisionedThroughputExceeded",
        "{e}"
    );

    // A second later every key has its second's units again.
    clock.advance(1_000);
    ok(&s, "BatchGetItem", batch(vec![get("b")])).await;
    ok(&s, "Query", query("q")).await;
    ok(&s, "TransactGetItems", tget(&["t"])).await;
    ok(&s, "TransactWriteItems", tput).await;
    // Scan reads every partition and is not limited per key.
    for _ in 0..3 {
        ok(
            &s,
            "Scan",
            json!({"TableName": "keys", "ConsistentRead": true}),
        )
        .await;
    }
    s.stop().await;
}

#[tokio::test]
async fn request_counters_on_metrics() {
    let clock = ManualClock::new(T0);
    let s = server(&clock, |c| c.engine.ttl_sweep_interval_ms = 20).await;
    let name = daxlite_tests::unique_name("counters");
    create(&s, &name, 5, 5).await;
    for k in 0..5 {
        ok(
            &s,
            "PutItem",
            json!({"TableName": name, "Item": {"pk": {"S": format!("k{k}")},
            "n": {"N": k.to_string()}, "exp": {"N": (T0 / 1000 + 60).to_string()}}}),
        )
        .await;
    }
    // Query answers 1, a filtered Scan 2 (of 5 scanned), Select COUNT 5.
    ok(
        &s,
        "Query",
        json!({"TableName": name, "KeyConditionExpression": "pk = :k",
        "ExpressionAttributeValues": {":k": {"S": "k1"}}}),
    )
    .await;
    ok(
        &s,
        "Scan",
        json!({"TableName": name, "FilterExpression": "n >= :m",
        "ExpressionAttributeValues": {":m": {"N": "3"}}}),
    )
    .await;
    ok(&s, "Scan", json!({"TableName": name, "Select": "COUNT"})).await;
    // Two failed conditions, one that held.
    for k in ["k0", "k1", "new"] {
        let r = ddb(
            &s,
            "PutItem",
            &json!({"TableName": name, "Item": {"pk": {"S": k}},
            "ConditionExpression": "attribute_not_exists(pk)"}),
        )
        .await;
        assert_eq!(r.status, if k == "new" { 200 } else { 400 }, "{}", r.text());
    }
    // TTL: all five expire after a minute; the sweeper deletes them.
    ok(
        &s,
        "UpdateTimeToLive",
        json!({"TableName": name,
        "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
    )
    .await;
    clock.advance(120_000);
    let table = format!("table=\"{name}\"");
    let mut text = String::new();
    for _ in 0..250 {
        text = crate::capacity::metrics_text(&s).await;
        if series(
            &text,
            "daxlite_dynamodb_time_to_live_deleted_item_count",
            &[&table],
        ) >= 5.0
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let t = table.as_str();
    let count = |name: &str, extra: &[&str]| {
        let mut labels = vec![t];
        labels.extend_from_slice(extra);
        series(&text, name, &labels)
    };
    assert_eq!(
        count("daxlite_dynamodb_time_to_live_deleted_item_count", &[]),
        5.0,
        "{text}"
    );
    assert_eq!(
        count(
            "daxlite_dynamodb_returned_item_count",
            &["operation=\"Query\""]
        ),
        1.0
    );
    assert_eq!(
        count(
            "daxlite_dynamodb_returned_item_count",
            &["operation=\"Scan\""]
        ),
        7.0
    );
    assert_eq!(
        count("daxlite_dynamodb_conditional_check_failed_requests", &[]),
        2.0
    );
    s.stop().await;
}
