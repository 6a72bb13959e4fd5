//! Throttling (CAPACITY.md §2, test cases 8–11) on a manual clock: provisioned token
//! buckets per table and per GSI, on-demand maxima, batches returning their throttled
//! members unprocessed, transactions cancelled per item, the per-table tag override, and
//! the cache passing throttles through while its hits consume nothing.

use daxlite_engine::capacity::Throttling;
use daxlite_engine::clock::ManualClock;
use daxlite_tests::{call, ddb_test, Mode, TestServer};
use serde_json::{json, Value};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

async fn server(mode: Mode, throttling: Throttling, clock: &ManualClock) -> TestServer {
    let mut config = mode.config();
    config.engine.throttling = throttling;
    TestServer::start_with(config, Some(clock.clone())).await
}

pub(crate) async fn ok(s: &TestServer, op: &str, body: Value) -> Value {
    let r = call(
        s.addr,
        &format!("DynamoDB_20120810.{op}"),
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{op}: {}", r.text());
    r.json()
}

async fn fails(s: &TestServer, op: &str, body: Value) -> Value {
    let r = call(
        s.addr,
        &format!("DynamoDB_20120810.{op}"),
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 400, "{op} should be throttled: {}", r.text());
    r.json()
}

/// A provisioned table `pk` (S) with `rcu`/`wcu`, optionally a GSI `g` on `gk` with
/// `gsi_wcu`, and tags.
async fn provisioned(
    s: &TestServer,
    name: &str,
    rcu: i64,
    wcu: i64,
    gsi_wcu: Option<i64>,
    tags: Value,
) {
    let mut body = json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
        "Tags": tags,
    });
    if let Some(g) = gsi_wcu {
        body["AttributeDefinitions"] = json!([
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "gk", "AttributeType": "S"}]);
        body["GlobalSecondaryIndexes"] = json!([{
            "IndexName": "gix",
            "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": g}}]);
    }
    if body["Tags"].as_array().is_some_and(|t| t.is_empty()) {
        body.as_object_mut().map(|o| o.remove("Tags"));
    }
    ok(s, "CreateTable", body).await;
}

/// Writes `n` one-unit items `p<from>..` through batches of 25 (each must be processed).
async fn load(s: &TestServer, table: &str, from: usize, n: usize, with_gsi: bool) {
    let mut i = from;
    while i < from + n {
        let end = (i + 25).min(from + n);
        let puts: Vec<Value> = (i..end)
            .map(|k| {
                let mut item = json!({"pk": {"S": format!("p{k}")}});
                if with_gsi {
                    item["gk"] = json!({"S": format!("g{k}")});
                }
                json!({"PutRequest": {"Item": item}})
            })
            .collect();
        let out = ok(s, "BatchWriteItem", json!({"RequestItems": {table: puts}})).await;
        assert_eq!(out["UnprocessedItems"], json!({}), "batch at {i}");
        i = end;
    }
}

fn put(table: &str, pk: &str) -> Value {
    json!({"TableName": table, "Item": {"pk": {"S": pk}}})
}

const TABLE_MSG: &str = "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.";

// Test case 8: 5 WCU, frozen clock — 1,500 one-unit writes (300 s of burst), the 1,501st
// is throttled with the table's reason and ARN; one second later 5 more fit.
ddb_test!(
    provisioned_table_throttles_after_its_burst,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let s = server(mode, Throttling::Provisioned, &clock).await;
        provisioned(&s, "burst", 5, 5, None, json!([])).await;
        load(&s, "burst", 0, 1500, false).await;
        let e = fails(&s, "PutItem", put("burst", "x")).await;
        assert_eq!(
            e,
            json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": TABLE_MSG,
                "ThrottlingReasons": [{
                    "reason": "TableWriteProvisionedThroughputExceeded",
                    "resource": "arn:aws:dynamodb:us-east-1:000000000000:table/burst"}]
            })
        );
        // A throttled write consumed nothing and wrote nothing.
        let got = ok(
            &s,
            "GetItem",
            json!({"TableName": "burst", "Key": {"pk": {"S": "x"}}}),
        )
        .await;
        assert_eq!(got, json!({}));
        clock.advance(1_000);
        for k in 0..5 {
            ok(&s, "PutItem", put("burst", &format!("after{k}"))).await;
        }
        fails(&s, "PutItem", put("burst", "after5")).await;
        s.stop().await;
    }
);

// Test case 9: the GSI's 1 WCU bucket limits writes that touch it, not the others.
ddb_test!(
    gsi_bucket_throttles_writes_that_touch_it,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let s = server(mode, Throttling::Provisioned, &clock).await;
        provisioned(&s, "gsi", 100, 100, Some(1), json!([])).await;
        load(&s, "gsi", 0, 300, true).await;
        let e = fails(
            &s,
            "PutItem",
            json!({"TableName": "gsi", "Item": {"pk": {"S": "n"}, "gk": {"S": "g"}}}),
        )
        .await;
        assert_eq!(
            e["__type"],
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
        );
        assert_eq!(e["message"], "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API");
        assert_eq!(
            e["ThrottlingReasons"],
            json!([{"reason": "IndexWriteProvisionedThroughputExceeded",
                "resource": "arn:aws:dynamodb:us-east-1:000000000000:table/gsi/index/gix"}])
        );
        // No GSI key: only the table's bucket is asked.
        ok(&s, "PutItem", put("gsi", "no-index-key")).await;
        s.stop().await;
    }
);

// Test case 10: a batch larger than what is left returns the rest unprocessed; an empty
// bucket throws.
ddb_test!(
    batch_write_returns_throttled_items_unprocessed,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let s = server(mode, Throttling::Provisioned, &clock).await;
        provisioned(&s, "batch", 1, 1, None, json!([])).await;
        load(&s, "batch", 0, 290, false).await;
        let puts: Vec<Value> = (1000..1025)
            .map(|k| json!({"PutRequest": {"Item": {"pk": {"S": format!("p{k}")}}}}))
            .collect();
        let out = ok(
            &s,
            "BatchWriteItem",
            json!({"RequestItems": {"batch": puts.clone()}, "ReturnConsumedCapacity": "TOTAL"}),
        )
        .await;
        let left = out["UnprocessedItems"]["batch"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(left.len(), 15);
        assert_eq!(left[0], puts[10]);
        assert_eq!(
            out["ConsumedCapacity"],
            json!([{"TableName": "batch", "CapacityUnits": 10.0}])
        );
        let e = fails(
            &s,
            "BatchWriteItem",
            json!({"RequestItems": {"batch": left}}),
        )
        .await;
        assert_eq!(
            e["__type"],
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
        );
        s.stop().await;
    }
);

// BatchGetItem: throttled keys stay in UnprocessedKeys with their table's parameters.
ddb_test!(
    batch_get_returns_throttled_keys_unprocessed,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let s = server(mode, Throttling::Provisioned, &clock).await;
        provisioned(&s, "bget", 1, 10, None, json!([])).await;
        load(&s, "bget", 0, 10, false).await;
        // 300 units of reads: 299 strongly consistent GetItems of missing keys cost 1 each.
        for k in 0..299 {
            ok(&s, "GetItem", json!({"TableName": "bget", "Key": {"pk": {"S": format!("m{k}")}}, "ConsistentRead": true})).await;
        }
        let keys: Vec<Value> = (0..3)
            .map(|k| json!({"pk": {"S": format!("p{k}")}}))
            .collect();
        let req = json!({"RequestItems": {"bget": {"Keys": keys, "ConsistentRead": true}}});
        let out = ok(&s, "BatchGetItem", req.clone()).await;
        assert_eq!(out["Responses"]["bget"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            out["UnprocessedKeys"]["bget"],
            json!({"Keys": [{"pk": {"S": "p1"}}, {"pk": {"S": "p2"}}], "ConsistentRead": true})
        );
        let e = fails(&s, "BatchGetItem", req).await;
        assert_eq!(
            e["ThrottlingReasons"][0]["reason"],
            "TableReadProvisionedThroughputExceeded"
        );
        s.stop().await;
    }
);

// A transaction cancels with a per-item ProvisionedThroughputExceeded reason; the table
// arm counts twice (1 WCU: 150 transactional one-unit puts fill 300 s).
ddb_test!(
    transaction_cancels_with_throttle_reasons,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let s = server(mode, Throttling::Provisioned, &clock).await;
        provisioned(&s, "txt", 5, 1, None, json!([])).await;
        provisioned(&s, "roomy", 5, 100, None, json!([])).await;
        for k in 0..150 {
            ok(
                &s,
                "TransactWriteItems",
                json!({"TransactItems": [{"Put": put("txt", &format!("p{k}"))}]}),
            )
            .await;
        }
        let e = fails(
            &s,
            "TransactWriteItems",
            json!({"TransactItems": [{"Put": put("roomy", "a")}, {"Put": put("txt", "b")}]}),
        )
        .await;
        assert_eq!(
            e["__type"],
            "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
        );
        assert_eq!(e["message"], "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ProvisionedThroughputExceeded]");
        assert_eq!(
            e["CancellationReasons"],
            json!([{"Code": "None"}, {"Code": "ProvisionedThroughputExceeded", "Message": TABLE_MSG}])
        );
        // Nothing of the cancelled transaction was written.
        let got = ok(
            &s,
            "GetItem",
            json!({"TableName": "roomy", "Key": {"pk": {"S": "a"}}}),
        )
        .await;
        assert_eq!(got, json!({}));
        s.stop().await;
    }
);

// Test case 11: MaxReadRequestUnits=10 on an on-demand table under "all": ten strongly
// consistent reads per (frozen) second, then ThrottlingException with lower-case
// `throttlingReasons`.
ddb_test!(on_demand_maximum_throttles_under_all, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, Throttling::All, &clock).await;
    ok(
        &s,
        "CreateTable",
        json!({
        "TableName": "odt",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "OnDemandThroughput": {"MaxReadRequestUnits": 10}}),
    )
    .await;
    let get = json!({"TableName": "odt", "Key": {"pk": {"S": "k"}}, "ConsistentRead": true});
    for _ in 0..10 {
        ok(&s, "GetItem", get.clone()).await;
    }
    let e = fails(&s, "GetItem", get.clone()).await;
    assert_eq!(
        e,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "message": "Throughput exceeds the maximum OnDemandThroughput configured on table or index",
            "throttlingReasons": [{
                "reason": "TableReadMaxOnDemandThroughputExceeded",
                "resource": "arn:aws:dynamodb:us-east-1:000000000000:table/odt"}]
        })
    );
    // Writes have no maximum here.
    ok(&s, "PutItem", put("odt", "w")).await;
    clock.advance(1_000);
    ok(&s, "GetItem", get).await;
    s.stop().await;
});

// "provisioned" leaves on-demand tables alone; "off" throttles nothing.
ddb_test!(modes_limit_only_what_they_name, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, Throttling::Provisioned, &clock).await;
    ok(
        &s,
        "CreateTable",
        json!({
        "TableName": "odt",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "OnDemandThroughput": {"MaxWriteRequestUnits": 1}}),
    )
    .await;
    for k in 0..5 {
        ok(&s, "PutItem", put("odt", &format!("k{k}"))).await;
    }
    s.stop().await;
    let s = server(mode, Throttling::Off, &clock).await;
    provisioned(&s, "free", 1, 1, None, json!([])).await;
    load(&s, "free", 0, 325, false).await;
    s.stop().await;
});

// The daxlite:throttling tag turns throttling on for one table while the setting is off
// (and "off" on a table turns it off while the setting is on).
ddb_test!(tag_overrides_the_setting_per_table, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, Throttling::Off, &clock).await;
    provisioned(
        &s,
        "tagged",
        1,
        1,
        None,
        json!([{"Key": "daxlite:throttling", "Value": "provisioned"}]),
    )
    .await;
    load(&s, "tagged", 0, 300, false).await;
    fails(&s, "PutItem", put("tagged", "x")).await;
    s.stop().await;
    let s = server(mode, Throttling::Provisioned, &clock).await;
    provisioned(
        &s,
        "exempt",
        1,
        1,
        None,
        json!([{"Key": "daxlite:throttling", "Value": "off"}]),
    )
    .await;
    load(&s, "exempt", 0, 325, false).await;
    s.stop().await;
});

// Query pages are admitted on one unit and debited what they read; a GSI Query reads the
// GSI's bucket.
ddb_test!(query_pages_debit_their_reads, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, Throttling::Provisioned, &clock).await;
    provisioned(&s, "qry", 1, 100, Some(100), json!([])).await;
    let big = "x".repeat(40 * 1024);
    ok(&s, "PutItem", json!({"TableName": "qry", "Item": {"pk": {"S": "a"}, "gk": {"S": "g"}, "pad": {"S": big}}})).await;
    let query = json!({"TableName": "qry", "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "a"}}, "ConsistentRead": true});
    // 11 units a page: 28 pages fit 300 units (308, into debt), the 29th is refused.
    for _ in 0..28 {
        ok(&s, "Query", query.clone()).await;
    }
    let e = fails(&s, "Query", query).await;
    assert_eq!(
        e["ThrottlingReasons"][0]["reason"],
        "TableReadProvisionedThroughputExceeded"
    );
    // The GSI has its own (1 RCU) bucket.
    let gq = json!({"TableName": "qry", "IndexName": "gix", "KeyConditionExpression": "gk = :g",
        "ExpressionAttributeValues": {":g": {"S": "g"}}});
    ok(&s, "Query", gq).await;
    s.stop().await;
});

// The cache: a hit consumes nothing (as DAX), so reads the upstream would throttle are
// answered from the cache; a throttled write passes through unchanged and is not cached.
ddb_test!(
    cache_hits_consume_nothing_and_throttles_pass_through,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let s = server(mode, Throttling::Provisioned, &clock).await;
        provisioned(&s, "cch", 1, 1, None, json!([])).await;
        // An item of just under 40 KB: 40 write units (of 300), 10 read units.
        let big = "x".repeat(40 * 1024 - 100);
        ok(
            &s,
            "PutItem",
            json!({"TableName": "cch", "Item": {"pk": {"S": "a"}, "pad": {"S": big}}}),
        )
        .await;
        // An eventually consistent read of 40 KB costs 5 units: 60 fill the 300 s of 1 RCU.
        let get = json!({"TableName": "cch", "Key": {"pk": {"S": "a"}}});
        for _ in 0..60 {
            ok(&s, "GetItem", get.clone()).await;
        }
        let r = call(s.addr, "DynamoDB_20120810.GetItem", &get.to_string()).await;
        match mode {
            Mode::Engine => assert_eq!(r.status, 400, "{}", r.text()),
            Mode::Cached => assert_eq!(r.status, 200, "a cache hit must not consume: {}", r.text()),
        }
        // Drain the write bucket: 260 one-unit writes are left.
        load(&s, "cch", 0, 260, false).await;
        let e = fails(&s, "PutItem", put("cch", "late")).await;
        assert_eq!(e["message"], TABLE_MSG);
        // The throttled write was not applied nor cached.
        clock.advance(5_000);
        let got = ok(
            &s,
            "GetItem",
            json!({"TableName": "cch", "Key": {"pk": {"S": "late"}}, "ConsistentRead": true}),
        )
        .await;
        assert_eq!(got, json!({}));
        s.stop().await;
    }
);

/// A table `pk` (S) with GSI `gix` on `gk` (projection `projection`, INCLUDE of `inc`).
async fn with_gsi(s: &TestServer, name: &str, projection: &str) {
    let mut p = json!({"ProjectionType": projection});
    if projection == "INCLUDE" {
        p["NonKeyAttributes"] = json!(["inc"]);
    }
    ok(
        s,
        "CreateTable",
        json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "gk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [{"IndexName": "gix",
            "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"}], "Projection": p}]}),
    )
    .await;
}

// Test case 5: a transactional Put of 1.5 KB into a table with a GSI — table arm doubled
// (4), GSI arm not (2), WriteCapacityUnits mirrored at every level.
ddb_test!(transaction_index_arms_are_not_doubled, |mode| async move {
    let s = TestServer::start(mode).await;
    with_gsi(&s, "txi", "ALL").await;
    let pad = "x".repeat(1500);
    let out = ok(
        &s,
        "TransactWriteItems",
        json!({"TransactItems": [{"Put": {"TableName": "txi",
        "Item": {"pk": {"S": "a"}, "gk": {"S": "g"}, "pad": {"S": pad}}}}],
        "ReturnConsumedCapacity": "INDEXES"}),
    )
    .await;
    assert_eq!(
        out["ConsumedCapacity"],
        json!([{"TableName": "txi", "CapacityUnits": 6.0, "WriteCapacityUnits": 6.0,
                "Table": {"CapacityUnits": 4.0, "WriteCapacityUnits": 4.0},
                "GlobalSecondaryIndexes": {"gix": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}}}])
    );
    s.stop().await;
});

// Test case 6: UpdateItem moving a GSI key (both entries charged), removing it (the old
// entry), and changing a non-projected attribute of an INCLUDE index (no GSI arm).
ddb_test!(
    update_index_arms_follow_the_entry_rules,
    |mode| async move {
        let s = TestServer::start(mode).await;
        with_gsi(&s, "upi", "INCLUDE").await;
        let inc = "i".repeat(1500);
        ok(
            &s,
            "PutItem",
            json!({"TableName": "upi",
        "Item": {"pk": {"S": "a"}, "gk": {"S": "g1"}, "inc": {"S": inc}, "oth": {"S": "o"}}}),
        )
        .await;
        let update = |expr: &str, values: Value| {
            let mut b = json!({"TableName": "upi", "Key": {"pk": {"S": "a"}},
            "UpdateExpression": expr, "ReturnConsumedCapacity": "INDEXES"});
            if !values.is_null() {
                b["ExpressionAttributeValues"] = values;
            }
            b
        };
        let out = ok(
            &s,
            "UpdateItem",
            update("SET gk = :g", json!({":g": {"S": "g2"}})),
        )
        .await;
        assert_eq!(
            out["ConsumedCapacity"],
            json!({"TableName": "upi", "CapacityUnits": 6.0, "Table": {"CapacityUnits": 2.0},
               "GlobalSecondaryIndexes": {"gix": {"CapacityUnits": 4.0}}})
        );
        let out = ok(
            &s,
            "UpdateItem",
            update("SET oth = :o", json!({":o": {"S": "p"}})),
        )
        .await;
        assert_eq!(
            out["ConsumedCapacity"],
            json!({"TableName": "upi", "CapacityUnits": 2.0, "Table": {"CapacityUnits": 2.0}})
        );
        let out = ok(&s, "UpdateItem", update("REMOVE gk", Value::Null)).await;
        assert_eq!(
            out["ConsumedCapacity"],
            json!({"TableName": "upi", "CapacityUnits": 4.0, "Table": {"CapacityUnits": 2.0},
               "GlobalSecondaryIndexes": {"gix": {"CapacityUnits": 2.0}}})
        );
        // TOTAL: the sum, no arms.
        let mut b = update("SET gk = :g", json!({":g": {"S": "g3"}}));
        b["ReturnConsumedCapacity"] = json!("TOTAL");
        let out = ok(&s, "UpdateItem", b).await;
        assert_eq!(
            out["ConsumedCapacity"],
            json!({"TableName": "upi", "CapacityUnits": 4.0})
        );
        s.stop().await;
    }
);

/// The server's `/metrics` text.
pub(crate) async fn metrics_text(s: &TestServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(s.addr)
        .await
        .expect("connect");
    let req = format!(
        "GET /metrics HTTP/1.1\r\nhost: {}\r\nconnection: close\r\n\r\n",
        s.addr
    );
    conn.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    conn.read_to_string(&mut out).await.expect("read");
    out
}

/// The value of series `name` whose labels include every one of `labels`.
pub(crate) fn series(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .filter(|l| labels.iter().all(|lab| l.contains(lab)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

// Test case 20: one throttled PutItem counts one throttled request and one write
// throttle event of each kind; a batch with 15 throttled members counts one request and
// 15 events.
ddb_test!(throttles_are_counted_in_metrics, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, Throttling::Provisioned, &clock).await;
    let name = daxlite_tests::unique_name(&format!("metrics-{mode:?}"));
    provisioned(&s, &name, 1, 1, None, json!([])).await;
    load(&s, &name, 0, 300, false).await;
    fails(&s, "PutItem", put(&name, "x")).await;
    let text = metrics_text(&s).await;
    let table = format!("table=\"{name}\"");
    let t = table.as_str();
    assert_eq!(
        series(
            &text,
            "daxlite_dynamodb_throttled_requests",
            &[t, "operation=\"PutItem\""]
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        series(&text, "daxlite_dynamodb_write_throttle_events", &[t]),
        1.0
    );
    assert_eq!(
        series(
            &text,
            "daxlite_dynamodb_write_provisioned_throughput_throttle_events",
            &[t]
        ),
        1.0
    );
    clock.advance(10_000);
    let puts: Vec<Value> = (1000..1025)
        .map(|k| json!({"PutRequest": {"Item": {"pk": {"S": format!("p{k}")}}}}))
        .collect();
    let out = ok(
        &s,
        "BatchWriteItem",
        json!({"RequestItems": {name.as_str(): puts}}),
    )
    .await;
    assert_eq!(
        out["UnprocessedItems"][name.as_str()]
            .as_array()
            .map(Vec::len),
        Some(15)
    );
    let text = metrics_text(&s).await;
    assert_eq!(
        series(
            &text,
            "daxlite_dynamodb_throttled_requests",
            &[t, "operation=\"BatchWriteItem\""]
        ),
        1.0
    );
    assert_eq!(
        series(&text, "daxlite_dynamodb_write_throttle_events", &[t]),
        16.0
    );
    s.stop().await;
});

// TransactGetItems: each read costs 2 units per 4 KB; an exhausted table cancels the
// transaction with the throttled item's reason.
ddb_test!(transact_get_cancels_when_throttled, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, Throttling::Provisioned, &clock).await;
    provisioned(&s, "tgt", 1, 10, None, json!([])).await;
    provisioned(&s, "tgr", 10, 10, None, json!([])).await;
    let get = |t: &str| json!({"Get": {"TableName": t, "Key": {"pk": {"S": "k"}}}});
    // 150 transactional reads of a missing item: 2 units each, 300 in all.
    for _ in 0..150 {
        ok(
            &s,
            "TransactGetItems",
            json!({"TransactItems": [get("tgt")]}),
        )
        .await;
    }
    let e = fails(
        &s,
        "TransactGetItems",
        json!({"TransactItems": [get("tgr"), get("tgt")]}),
    )
    .await;
    assert_eq!(
        e["CancellationReasons"],
        json!([{"Code": "None"}, {"Code": "ProvisionedThroughputExceeded", "Message": TABLE_MSG}])
    );
    clock.advance(2_000);
    ok(
        &s,
        "TransactGetItems",
        json!({"TransactItems": [get("tgt")]}),
    )
    .await;
    s.stop().await;
});
