//! UpdateTable's capacity rules (CAPACITY.md §3, test cases 13–16) on a manual clock: the
//! decrease budget and its message, the counter's reset at 00:00 UTC, ProvisionedThroughput
//! timestamps, the billing-mode switch limit and WarmThroughput's UPDATING → ACTIVE.

use daxlite_engine::clock::ManualClock;
use daxlite_engine::EngineConfig;
use daxlite_tests::{call, ddb_test, TestServer};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const T0: i64 = 1_767_225_600_000 + 10 * 3_600_000; // 2026-01-01T10:00:00Z, a Thursday

async fn reply(s: &TestServer, op: &str, body: Value) -> (u16, Value) {
    let r = call(
        s.addr,
        &format!("DynamoDB_20120810.{op}"),
        &body.to_string(),
    )
    .await;
    (r.status, r.json())
}

async fn ok(s: &TestServer, op: &str, body: Value) -> Value {
    let (status, v) = reply(s, op, body).await;
    assert_eq!(status, 200, "{op}: {v}");
    v
}

pub(crate) async fn create(s: &TestServer, name: &str, rcu: i64, wcu: i64) {
    ok(
        s,
        "CreateTable",
        json!({
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}}),
    )
    .await;
}

fn throughput(name: &str, rcu: i64, wcu: i64) -> Value {
    json!({"TableName": name,
           "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu}})
}

async fn described(s: &TestServer, name: &str) -> Value {
    ok(s, "DescribeTable", json!({"TableName": name})).await["Table"].clone()
}

// Test case 13.
ddb_test!(decrease_budget_four_a_day_then_hourly, |mode| async move {
    let clock = ManualClock::new(T0);
    let s =
        TestServer::start_with_engine_config(mode, EngineConfig::default(), clock.clone()).await;
    create(&s, "dec", 10, 10).await;
    for (i, rcu) in [9, 8, 7, 6].into_iter().enumerate() {
        clock.advance(1_000);
        ok(&s, "UpdateTable", throughput("dec", rcu, 10)).await;
        let pt = &described(&s, "dec").await["ProvisionedThroughput"];
        assert_eq!(pt["NumberOfDecreasesToday"], json!(i + 1));
    }
    let last = T0 + 4_000;
    let pt = described(&s, "dec").await["ProvisionedThroughput"].clone();
    assert_eq!(
        pt["LastDecreaseDateTime"].as_f64(),
        Some(last as f64 / 1000.0)
    );
    assert!(pt.get("LastIncreaseDateTime").is_none());
    clock.advance(60_000);
    let (status, e) = reply(&s, "UpdateTable", throughput("dec", 5, 10)).await;
    assert_eq!(status, 400);
    assert_eq!(
        e,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#LimitExceededException",
            "message": "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the first 4 decreases, each subsequent decrease in the same UTC day can be performed at most once every 3600 seconds. Number of decreases today: 4. Last decrease at Thursday, January 1, 2026 10:00:04 AM UTC. Next decrease can be made at Thursday, January 1, 2026 11:00:04 AM UTC"
        })
    );
    // Increases are unlimited, and a rejected call counted nothing.
    ok(&s, "UpdateTable", throughput("dec", 6, 20)).await;
    let pt = described(&s, "dec").await["ProvisionedThroughput"].clone();
    assert_eq!(pt["NumberOfDecreasesToday"], 4);
    assert_eq!(
        pt["LastIncreaseDateTime"].as_f64(),
        Some((T0 + 64_000) as f64 / 1000.0)
    );
    // An hour after the last accepted decrease, one more; then again an hour.
    clock.set(last + 3_600_000);
    ok(&s, "UpdateTable", throughput("dec", 5, 20)).await;
    let (status, _) = reply(&s, "UpdateTable", throughput("dec", 4, 20)).await;
    assert_eq!(status, 400);
    // 00:00 UTC: the counter starts again.
    clock.set(1_767_225_600_000 + DAY);
    let pt = described(&s, "dec").await["ProvisionedThroughput"].clone();
    assert_eq!(pt["NumberOfDecreasesToday"], 0);
    ok(&s, "UpdateTable", throughput("dec", 4, 20)).await;
    assert_eq!(
        described(&s, "dec").await["ProvisionedThroughput"]["NumberOfDecreasesToday"],
        1
    );
    s.stop().await;
});

// Test case 14.
ddb_test!(
    unchanged_throughput_and_on_demand_throughput_are_refused,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let s = TestServer::start_with_engine_config(mode, EngineConfig::default(), clock.clone())
            .await;
        create(&s, "same", 3, 4).await;
        let (status, e) = reply(&s, "UpdateTable", throughput("same", 3, 4)).await;
        assert_eq!(status, 400);
        assert_eq!(e["__type"], "com.amazon.coral.validate#ValidationException");
        assert!(e["message"].as_str().unwrap_or_default().starts_with("The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 3. Requested ReadCapacityUnits: 3. Current WriteCapacityUnits provisioned for the table: 4. Requested WriteCapacityUnits: 4."), "{e}");
        let mut body = throughput("same", 5, 5);
        body["BillingMode"] = json!("PAY_PER_REQUEST");
        let (status, e) = reply(&s, "UpdateTable", body).await;
        assert_eq!(status, 400);
        assert_eq!(e["__type"], "com.amazon.coral.validate#ValidationException");
        s.stop().await;
    }
);

// Test case 15: PROVISIONED → PAY_PER_REQUEST four times a rolling day; back any time.
ddb_test!(billing_switch_limit, |mode| async move {
    let clock = ManualClock::new(T0);
    let s =
        TestServer::start_with_engine_config(mode, EngineConfig::default(), clock.clone()).await;
    create(&s, "swi", 1, 1).await;
    let to_ppr = json!({"TableName": "swi", "BillingMode": "PAY_PER_REQUEST"});
    let mut back = throughput("swi", 1, 1);
    back["BillingMode"] = json!("PROVISIONED");
    for _ in 0..4 {
        clock.advance(1_000);
        ok(&s, "UpdateTable", to_ppr.clone()).await;
        clock.advance(1_000);
        ok(&s, "UpdateTable", back.clone()).await;
    }
    let (status, e) = reply(&s, "UpdateTable", to_ppr.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(
        e,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#LimitExceededException",
            "message": "Subscriber limit exceeded: Update to PayPerRequest mode are limited to 4 time(s) in 1 day(s). Last update at Thu Jan 01 10:00:07 UTC 2026. Next update can be made at Fri Jan 02 10:00:01 UTC 2026"
        })
    );
    clock.set(T0 + 1_000 + DAY);
    ok(&s, "UpdateTable", to_ppr).await;
    s.stop().await;
});

// Test case 16: a WarmThroughput raise is UPDATING, then ACTIVE, while the table stays
// ACTIVE; lowering it is refused.
ddb_test!(warm_throughput_raise_and_decrease, |mode| async move {
    let clock = ManualClock::new(T0);
    let config = EngineConfig {
        update_delay_ms: 2_000,
        ..EngineConfig::default()
    };
    let s = TestServer::start_with_engine_config(mode, config, clock.clone()).await;
    ok(
        &s,
        "CreateTable",
        json!({
        "TableName": "warm",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"}),
    )
    .await;
    assert_eq!(
        described(&s, "warm").await["WarmThroughput"],
        json!({"ReadUnitsPerSecond": 12000, "WriteUnitsPerSecond": 4000, "Status": "ACTIVE"})
    );
    let out = ok(
        &s,
        "UpdateTable",
        json!({"TableName": "warm",
        "WarmThroughput": {"ReadUnitsPerSecond": 12001, "WriteUnitsPerSecond": 4001}}),
    )
    .await;
    let t = &out["TableDescription"];
    assert_eq!(t["TableStatus"], "ACTIVE");
    assert_eq!(
        t["WarmThroughput"],
        json!({"ReadUnitsPerSecond": 12001, "WriteUnitsPerSecond": 4001, "Status": "UPDATING"})
    );
    clock.advance(2_000);
    let t = described(&s, "warm").await;
    assert_eq!(t["TableStatus"], "ACTIVE");
    assert_eq!(t["WarmThroughput"]["Status"], "ACTIVE");
    let (status, e) = reply(
        &s,
        "UpdateTable",
        json!({"TableName": "warm",
        "WarmThroughput": {"ReadUnitsPerSecond": 12000}}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        e,
        json!({
            "__type": "com.amazon.coral.validate#ValidationException",
            "message": "One or more parameter values were invalid: Requested ReadUnitsPerSecond for WarmThroughput for table is lower than current WarmThroughput, decreasing WarmThroughput is not supported"
        })
    );
    s.stop().await;
});

// OnDemandThroughput merges member-wise; -1 removes a member.
ddb_test!(on_demand_throughput_merges_member_wise, |mode| async move {
    let clock = ManualClock::new(T0);
    let s =
        TestServer::start_with_engine_config(mode, EngineConfig::default(), clock.clone()).await;
    ok(
        &s,
        "CreateTable",
        json!({
        "TableName": "odm",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "OnDemandThroughput": {"MaxReadRequestUnits": 10, "MaxWriteRequestUnits": 5}}),
    )
    .await;
    ok(
        &s,
        "UpdateTable",
        json!({"TableName": "odm",
        "OnDemandThroughput": {"MaxReadRequestUnits": 20}}),
    )
    .await;
    let od = described(&s, "odm").await["OnDemandThroughput"].clone();
    assert_eq!(od["MaxReadRequestUnits"], 20);
    assert_eq!(od["MaxWriteRequestUnits"], 5);
    ok(
        &s,
        "UpdateTable",
        json!({"TableName": "odm",
        "OnDemandThroughput": {"MaxWriteRequestUnits": -1}}),
    )
    .await;
    let od = described(&s, "odm").await["OnDemandThroughput"].clone();
    assert_eq!(od["MaxReadRequestUnits"], 20);
    assert_eq!(od["MaxWriteRequestUnits"], -1, "{od}");
    s.stop().await;
});
