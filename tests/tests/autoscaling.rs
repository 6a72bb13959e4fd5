//! Application Auto Scaling (CAPACITY.md §4, test cases 17–19) on a manual clock, through
//! the `AnyScaleFrontendService` JSON API on the server's own port (raw JSON 1.1, as the
//! SDK's application-autoscaling client sends it): validation errors, registration
//! raising a table to its minimum, target tracking scaling out after 2 minutes above the
//! target and in after 15 below it (spending the decrease budget), the activities; and
//! the per-minute capacity series on `/metrics` and the admin endpoint; and the capacity
//! extras of `[capacity]`: `x-amz-retry-after`, per partition-key limits, the on-demand
//! peak rule, PartiQL SELECT throttling.

use daxlite_engine::clock::ManualClock;
use daxlite_tests::{call, ddb_test, raw_at, Mode, TestServer};
use serde_json::{json, Value};

// The DynamoDB calls of the capacity suites: `ok` asserts a 200, `create` makes a
// provisioned table keyed on `pk`.
use crate::capacity::ok as ddb;
use crate::capacity_update::create as table;

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const MINUTE: i64 = 60_000;

async fn server(mode: Mode, clock: &ManualClock) -> TestServer {
    TestServer::start_with(mode.config(), Some(clock.clone())).await
}

async fn aas(s: &TestServer, op: &str, body: Value) -> (u16, Value) {
    let r = daxlite_tests::raw(
        s.addr,
        "POST",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", &format!("AnyScaleFrontendService.{op}")),
            ("authorization", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/application-autoscaling/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000"),
            ("x-amz-date", "20240101T000000Z"),
        ],
        body.to_string().into_bytes(),
    )
    .await;
    (r.status, r.json())
}

async fn aas_ok(s: &TestServer, op: &str, body: Value) -> Value {
    let (status, v) = aas(s, op, body).await;
    assert_eq!(status, 200, "{op}: {v}");
    v
}

async fn aas_err(s: &TestServer, op: &str, body: Value, ty: &str, msg: &str) {
    let (status, v) = aas(s, op, body).await;
    assert_eq!(status, 400, "{op}: {v}");
    assert_eq!(v["__type"], ty, "{op}: {v}");
    assert_eq!(v["message"], msg, "{op}: {v}");
}

async fn throughput(s: &TestServer, name: &str) -> Value {
    ddb(s, "DescribeTable", json!({"TableName": name})).await["Table"]["ProvisionedThroughput"]
        .clone()
}

fn target(t: &str, dim: &str) -> Value {
    json!({"ServiceNamespace": "dynamodb", "ResourceId": format!("table/{t}"),
           "ScalableDimension": format!("dynamodb:table:{dim}CapacityUnits")})
}

fn with(mut v: Value, extra: Value) -> Value {
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

const VALIDATE: &str = "com.amazon.coral.validate#ValidationException";
const NOT_FOUND: &str = "com.amazonaws.applicationautoscaling#ObjectNotFoundException";

// Test case 19 and the other refusals, in AWS's order of checks.
ddb_test!(refuses_what_aws_refuses, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, &clock).await;
    table(&s, "val", 5, 5).await;
    aas_err(&s, "RegisterScalableTarget",
        json!({"ServiceNamespace": "dynamodb", "ResourceId": "table/val",
               "ScalableDimension": "dynamodb:index:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": 5}),
        VALIDATE, "Unsupported service namespace, resource type or scalable dimension").await;
    aas_err(&s, "RegisterScalableTarget",
        json!({"ServiceNamespace": "ecs", "ResourceId": "table/val",
               "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": 5}),
        VALIDATE, "Unsupported service namespace, resource type or scalable dimension").await;
    aas_err(&s, "RegisterScalableTarget",
        json!({"ServiceNamespace": "nope", "ResourceId": "table/val", "ScalableDimension": "dynamodb:table:Bogus"}),
        VALIDATE, "2 validation errors detected: Value 'nope' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: [ecs, elasticmapreduce, ec2, appstream, dynamodb, rds, sagemaker, custom-resource, comprehend, lambda, cassandra, kafka, elasticache, neptune, workspaces]; Value 'dynamodb:table:Bogus' at 'scalableDimension' failed to satisfy constraint: Member must satisfy enum value set: [ecs:service:DesiredCount, ec2:spot-fleet-request:TargetCapacity, elasticmapreduce:instancegroup:InstanceCount, appstream:fleet:DesiredCapacity, dynamodb:table:ReadCapacityUnits, dynamodb:table:WriteCapacityUnits, dynamodb:index:ReadCapacityUnits, dynamodb:index:WriteCapacityUnits, rds:cluster:ReadReplicaCount, sagemaker:variant:DesiredInstanceCount, custom-resource:ResourceType:Property, comprehend:document-classifier-endpoint:DesiredInferenceUnits, comprehend:entity-recognizer-endpoint:DesiredInferenceUnits, lambda:function:ProvisionedConcurrency, cassandra:table:ReadCapacityUnits, cassandra:table:WriteCapacityUnits, kafka:broker-storage:VolumeSize, elasticache:replication-group:NodeGroups, elasticache:replication-group:Replicas, neptune:cluster:ReadReplicaCount, sagemaker:variant:DesiredProvisionedConcurrency, sagemaker:inference-component:DesiredCopyCount, workspaces:workspacespool:DesiredUserSessions]").await;
    aas_err(&s, "RegisterScalableTarget", json!({"ResourceId": "table/val", "ScalableDimension": "dynamodb:table:ReadCapacityUnits"}),
        VALIDATE, "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null").await;
    aas_err(
        &s,
        "RegisterScalableTarget",
        target("val", "Read"),
        VALIDATE,
        "MinCapacity and MaxCapacity are required for registering a new scalable target",
    )
    .await;
    aas_err(
        &s,
        "RegisterScalableTarget",
        with(
            target("val", "Read"),
            json!({"MinCapacity": 9, "MaxCapacity": 2}),
        ),
        VALIDATE,
        "Minimum capacity cannot be greater than maximum capacity: MinCapacity 9, MaxCapacity 2",
    )
    .await;
    aas_err(
        &s,
        "RegisterScalableTarget",
        with(
            target("gone", "Read"),
            json!({"MinCapacity": 1, "MaxCapacity": 2}),
        ),
        VALIDATE,
        "DynamoDB table or index does not exist: table/gone",
    )
    .await;
    let policy = json!({"PolicyName": "p", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}});
    aas_err(&s, "PutScalingPolicy", with(target("val", "Read"), policy.clone()), NOT_FOUND,
        "No scalable target registered for service namespace: dynamodb, resource ID: table/val, scalable dimension: dynamodb:table:ReadCapacityUnits").await;
    aas_err(&s, "DeregisterScalableTarget", target("val", "Write"), NOT_FOUND,
        "No scalable target registered for service namespace: dynamodb, resource ID: table/val, scalable dimension: dynamodb:table:WriteCapacityUnits").await;
    aas_err(&s, "DeleteScalingPolicy", with(target("val", "Read"), json!({"PolicyName": "p"})), NOT_FOUND,
        "No scaling policy found for service namespace: dynamodb, resource ID: table/val, scalable dimension: dynamodb:table:ReadCapacityUnits, policy name: p").await;
    aas_ok(
        &s,
        "RegisterScalableTarget",
        with(
            target("val", "Read"),
            json!({"MinCapacity": 1, "MaxCapacity": 50}),
        ),
    )
    .await;
    aas_err(
        &s,
        "PutScalingPolicy",
        with(target("val", "Read"), json!({"PolicyName": "p"})),
        VALIDATE,
        "StepScaling is not supported for service namespace dynamodb",
    )
    .await;
    let mut low = policy.clone();
    low["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] = json!(10.0);
    aas_err(
        &s,
        "PutScalingPolicy",
        with(target("val", "Read"), low),
        VALIDATE,
        "The target value for a DynamoDB target tracking policy must be between 20 and 90, got 10",
    )
    .await;
    let mut wrong = policy.clone();
    wrong["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
        ["PredefinedMetricType"] = json!("DynamoDBWriteCapacityUtilization");
    aas_err(&s, "PutScalingPolicy", with(target("val", "Read"), wrong), VALIDATE,
        "Unsupported metric type DynamoDBWriteCapacityUtilization for scalable dimension dynamodb:table:ReadCapacityUnits").await;
    // Operations of the API that are not built answer as an unknown target does.
    let (status, v) = aas(
        &s,
        "PutScheduledAction",
        with(target("val", "Read"), json!({"ScheduledActionName": "n"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        v["__type"],
        "com.amazon.coral.service#UnknownOperationException"
    );
    s.stop().await;
});

// Test case 17, and the shapes of the Describe calls and of a policy.
ddb_test!(registering_a_minimum_raises_the_table, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, &clock).await;
    table(&s, "reg", 5, 5).await;
    let out = aas_ok(
        &s,
        "RegisterScalableTarget",
        with(
            target("reg", "Read"),
            json!({"MinCapacity": 10, "MaxCapacity": 100}),
        ),
    )
    .await;
    let arn = out["ScalableTargetARN"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        arn.starts_with("arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/"),
        "{arn}"
    );
    assert_eq!(throughput(&s, "reg").await["ReadCapacityUnits"], 10);
    let acts = aas_ok(
        &s,
        "DescribeScalingActivities",
        json!({"ServiceNamespace": "dynamodb", "ResourceId": "table/reg"}),
    )
    .await;
    let a = &acts["ScalingActivities"][0];
    assert_eq!(a["Description"], "Setting read capacity units to 10.");
    assert_eq!(a["Cause"], "minimum capacity was set to 10");
    assert_eq!(a["StatusCode"], "Successful");
    assert_eq!(
        a["StatusMessage"],
        "Successfully set read capacity units to 10. Change successfully fulfilled by dynamodb."
    );
    assert_eq!(a["ScalableDimension"], "dynamodb:table:ReadCapacityUnits");
    // Re-registering updates in place.
    let again = aas_ok(
        &s,
        "RegisterScalableTarget",
        with(target("reg", "Read"), json!({"MaxCapacity": 200})),
    )
    .await;
    assert_eq!(again["ScalableTargetARN"], arn.as_str());
    let d = aas_ok(
        &s,
        "DescribeScalableTargets",
        json!({"ServiceNamespace": "dynamodb", "ResourceIds": ["table/reg"]}),
    )
    .await;
    let t = &d["ScalableTargets"][0];
    assert_eq!(
        (t["MinCapacity"].clone(), t["MaxCapacity"].clone()),
        (json!(10), json!(200))
    );
    assert_eq!(t["SuspendedState"]["DynamicScalingInSuspended"], false);
    assert_eq!(t["CreationTime"], json!(T0 as f64 / 1000.0));
    assert!(t["RoleARN"]
        .as_str()
        .unwrap_or_default()
        .ends_with("AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"));
    let p = aas_ok(&s, "PutScalingPolicy", with(target("reg", "Read"), json!({"PolicyName": "rp", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}}))).await;
    let parn = p["PolicyARN"].as_str().unwrap_or_default();
    assert!(
        parn.starts_with("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:")
            && parn.ends_with(":resource/dynamodb/table/reg:policyName/rp"),
        "{parn}"
    );
    let alarms: Vec<String> = p["Alarms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["AlarmName"].as_str().map(str::to_string))
        .collect();
    assert_eq!(alarms.len(), 4);
    assert!(
        alarms[0].starts_with("TargetTracking-table/reg-AlarmHigh-"),
        "{alarms:?}"
    );
    let ps = aas_ok(
        &s,
        "DescribeScalingPolicies",
        json!({"ServiceNamespace": "dynamodb", "ResourceId": "table/reg"}),
    )
    .await;
    let got = &ps["ScalingPolicies"][0];
    assert_eq!(got["PolicyType"], "TargetTrackingScaling");
    assert_eq!(
        got["TargetTrackingScalingPolicyConfiguration"]["TargetValue"],
        70.0
    );
    assert_eq!(
        got["TargetTrackingScalingPolicyConfiguration"]["DisableScaleIn"],
        false
    );
    // Deregistering deletes the target's policies.
    aas_ok(&s, "DeregisterScalableTarget", target("reg", "Read")).await;
    let ps = aas_ok(
        &s,
        "DescribeScalingPolicies",
        json!({"ServiceNamespace": "dynamodb"}),
    )
    .await;
    assert_eq!(ps["ScalingPolicies"], json!([]));
    let d = aas_ok(
        &s,
        "DescribeScalableTargets",
        json!({"ServiceNamespace": "dynamodb"}),
    )
    .await;
    assert_eq!(d["ScalableTargets"], json!([]));
    s.stop().await;
});

/// Reads `units` strongly consistent read units (100 one-unit keys per BatchGetItem).
async fn read_units(s: &TestServer, t: &str, units: usize) {
    let keys: Vec<Value> = (0..100)
        .map(|k| json!({"pk": {"S": format!("k{k}")}}))
        .collect();
    for _ in 0..units / 100 {
        let out = ddb(
            s,
            "BatchGetItem",
            json!({"RequestItems": {t: {"Keys": keys, "ConsistentRead": true}}}),
        )
        .await;
        assert_eq!(out["UnprocessedKeys"], json!({}));
    }
}

// Test case 18: 100 RCU at a 70 % target, 90 units/s for two minutes → 129; fifteen idle
// minutes → back to the minimum, one decrease spent.
ddb_test!(target_tracking_scales_out_then_in, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, &clock).await;
    table(&s, "track", 100, 5).await;
    let keys: Vec<Value> = (0..100)
        .map(|k| json!({"PutRequest": {"Item": {"pk": {"S": format!("k{k}")}}}}))
        .collect();
    for chunk in keys.chunks(25) {
        ddb(
            &s,
            "BatchWriteItem",
            json!({"RequestItems": {"track": chunk}}),
        )
        .await;
    }
    aas_ok(
        &s,
        "RegisterScalableTarget",
        with(
            target("track", "Read"),
            json!({"MinCapacity": 50, "MaxCapacity": 1000}),
        ),
    )
    .await;
    aas_ok(&s, "PutScalingPolicy", with(target("track", "Read"), json!({"PolicyName": "reads", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}}))).await;
    // Minute 0: 90 units/s (5,400 units). One minute above the target is not enough.
    read_units(&s, "track", 5_400).await;
    clock.advance(MINUTE);
    let acts = aas_ok(
        &s,
        "DescribeScalingActivities",
        json!({"ServiceNamespace": "dynamodb"}),
    )
    .await;
    assert_eq!(acts["ScalingActivities"], json!([]));
    assert_eq!(throughput(&s, "track").await["ReadCapacityUnits"], 100);
    // Minute 1: again; once it is over, AlarmHigh has seen 2 minutes.
    read_units(&s, "track", 5_400).await;
    clock.advance(MINUTE);
    let acts = aas_ok(
        &s,
        "DescribeScalingActivities",
        json!({"ServiceNamespace": "dynamodb", "ResourceId": "table/track"}),
    )
    .await;
    let a = &acts["ScalingActivities"][0];
    assert_eq!(a["Description"], "Setting read capacity units to 129.");
    let cause = a["Cause"].as_str().unwrap_or_default();
    assert!(
        cause.starts_with("monitor alarm TargetTracking-table/track-AlarmHigh-")
            && cause.ends_with(" in state ALARM triggered policy reads"),
        "{cause}"
    );
    assert_eq!(a["StartTime"], json!((T0 + 2 * MINUTE) as f64 / 1000.0));
    assert_eq!(throughput(&s, "track").await["ReadCapacityUnits"], 129);
    // Fourteen idle minutes: not yet.
    clock.advance(14 * MINUTE);
    let acts = aas_ok(
        &s,
        "DescribeScalingActivities",
        json!({"ServiceNamespace": "dynamodb"}),
    )
    .await;
    assert_eq!(acts["ScalingActivities"].as_array().map(Vec::len), Some(1));
    clock.advance(MINUTE);
    let acts = aas_ok(
        &s,
        "DescribeScalingActivities",
        json!({"ServiceNamespace": "dynamodb"}),
    )
    .await;
    let a = &acts["ScalingActivities"][0];
    assert_eq!(a["Description"], "Setting read capacity units to 50.");
    assert!(
        a["Cause"]
            .as_str()
            .unwrap_or_default()
            .contains("-AlarmLow-"),
        "{a}"
    );
    let pt = throughput(&s, "track").await;
    assert_eq!(pt["ReadCapacityUnits"], 50);
    assert_eq!(pt["NumberOfDecreasesToday"], 1);
    s.stop().await;
});

// The write dimension, DisableScaleIn, and the series on /metrics and the admin endpoint.
#[tokio::test]
async fn write_scaling_and_the_series() {
    let clock = ManualClock::new(T0);
    let mut config = Mode::Engine.config();
    config.admin = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let s = TestServer::start_with(config, Some(clock.clone())).await;
    table(&s, "wsc", 5, 10).await;
    aas_ok(
        &s,
        "RegisterScalableTarget",
        with(
            target("wsc", "Write"),
            json!({"MinCapacity": 10, "MaxCapacity": 40}),
        ),
    )
    .await;
    aas_ok(&s, "PutScalingPolicy", with(target("wsc", "Write"), json!({"PolicyName": "writes", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 50.0, "DisableScaleIn": true,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBWriteCapacityUtilization"}}}))).await;
    // 20 units/s for two minutes at 50 % → 40 (the maximum caps 20 / 0.5 = 40).
    for minute in 0..2 {
        for b in 0..48 {
            let puts: Vec<Value> = (0..25)
                .map(
                    |k| json!({"PutRequest": {"Item": {"pk": {"S": format!("{minute}-{b}-{k}")}}}}),
                )
                .collect();
            ddb(&s, "BatchWriteItem", json!({"RequestItems": {"wsc": puts}})).await;
        }
        clock.advance(MINUTE);
    }
    let acts = aas_ok(&s, "DescribeScalingActivities", json!({"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:WriteCapacityUnits"})).await;
    assert_eq!(
        acts["ScalingActivities"][0]["Description"],
        "Setting write capacity units to 40."
    );
    assert_eq!(throughput(&s, "wsc").await["WriteCapacityUnits"], 40);
    // DisableScaleIn: twenty idle minutes change nothing.
    clock.advance(20 * MINUTE);
    let acts = aas_ok(
        &s,
        "DescribeScalingActivities",
        json!({"ServiceNamespace": "dynamodb"}),
    )
    .await;
    assert_eq!(acts["ScalingActivities"].as_array().map(Vec::len), Some(1));
    // The series: 1,200 units in each of the two loaded minutes.
    let admin = s.admin.expect("admin listener");
    let r = raw_at(admin, "GET", "/capacity/series", &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let series = r.json();
    let w = series["Series"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["TableName"] == "wsc" && x.get("GlobalSecondaryIndexName").is_none())
        .cloned()
        .unwrap_or_default();
    let points = w["Points"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 2, "{w}");
    assert_eq!(points[0]["Timestamp"], T0);
    assert_eq!(points[0]["ConsumedWriteCapacityUnits"], 1200.0);
    assert_eq!(points[1]["ConsumedWriteCapacityUnits"], 1200.0);
    assert_eq!(points[0]["ProvisionedWriteCapacityUnits"], 10);
    let m = raw_at(s.addr, "GET", "/metrics", &[], Vec::new())
        .await
        .text();
    assert!(
        m.contains("daxlite_dynamodb_consumed_write_capacity_units_total{table=\"wsc\"} 2400"),
        "{m}"
    );
    assert!(
        m.contains("daxlite_dynamodb_provisioned_write_capacity_units{table=\"wsc\"}"),
        "{m}"
    );
    s.stop().await;
}

// ---- the capacity extras: x-amz-retry-after, per-key limits, the peak rule, PartiQL ----

async fn throttled_server(
    throttling: daxlite_engine::capacity::Throttling,
    clock: &ManualClock,
    edit: impl FnOnce(&mut daxlite::Config),
) -> TestServer {
    let mut config = Mode::Engine.config();
    config.engine.throttling = throttling;
    edit(&mut config);
    TestServer::start_with(config, Some(clock.clone())).await
}

async fn ddb_raw(s: &TestServer, op: &str, body: Value) -> daxlite_tests::RawReply {
    call(
        s.addr,
        &format!("DynamoDB_20120810.{op}"),
        &body.to_string(),
    )
    .await
}

#[tokio::test]
async fn retry_after_header_on_throttles_only_when_configured() {
    use daxlite_engine::capacity::Throttling;
    let clock = ManualClock::new(T0);
    let s = throttled_server(Throttling::Provisioned, &clock, |c| {
        c.service.retry_after_ms = Some(250)
    })
    .await;
    table(&s, "retry", 1, 1).await;
    for b in 0..12 {
        let puts: Vec<Value> = (0..25)
            .map(|k| json!({"PutRequest": {"Item": {"pk": {"S": format!("{b}-{k}")}}}}))
            .collect();
        ddb(
            &s,
            "BatchWriteItem",
            json!({"RequestItems": {"retry": puts}}),
        )
        .await;
    }
    let r = ddb_raw(
        &s,
        "PutItem",
        json!({"TableName": "retry", "Item": {"pk": {"S": "over"}}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(
        r.json()["__type"],
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
    );
    assert_eq!(
        r.headers
            .get("x-amz-retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("250")
    );
    // Not on other errors, nor on successes.
    let r = ddb_raw(
        &s,
        "GetItem",
        json!({"TableName": "retry", "Key": {"pk": {"S": "0-0"}}}),
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("x-amz-retry-after").is_none());
    let r = ddb_raw(
        &s,
        "GetItem",
        json!({"TableName": "missing", "Key": {"pk": {"S": "a"}}}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.headers.get("x-amz-retry-after").is_none());
    s.stop().await;
}

#[tokio::test]
async fn one_partition_key_tops_out_at_1000_wcu() {
    use daxlite_engine::capacity::Throttling;
    let clock = ManualClock::new(T0);
    let s = throttled_server(Throttling::Provisioned, &clock, |c| {
        c.engine.capacity.partition_limits = true
    })
    .await;
    table(&s, "hot", 100, 40_000).await;
    // 10 KB items: 10 write units each; 100 of them fill one key's second.
    let pad = "x".repeat(10 * 1024 - 20);
    for k in 0..100 {
        let r = ddb_raw(&s, "PutItem", json!({"TableName": "hot", "Item": {"pk": {"S": "k"}, "p": {"S": pad}, "n": {"N": k.to_string()}}})).await;
        assert_eq!(r.status, 200, "put {k}: {}", r.text());
    }
    let r = ddb_raw(
        &s,
        "PutItem",
        json!({"TableName": "hot", "Item": {"pk": {"S": "k"}, "p": {"S": pad}}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let e = r.json();
    assert_eq!(
        e["__type"],
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
    );
    assert_eq!(
        e["ThrottlingReasons"],
        json!([{"reason": "TableWriteKeyRangeThroughputExceeded",
        "resource": "arn:aws:dynamodb:us-east-1:000000000000:table/hot"}])
    );
    // Another key is not limited; a second later the hot key is again.
    ddb(
        &s,
        "PutItem",
        json!({"TableName": "hot", "Item": {"pk": {"S": "cold"}, "p": {"S": pad}}}),
    )
    .await;
    clock.advance(1_000);
    ddb(
        &s,
        "PutItem",
        json!({"TableName": "hot", "Item": {"pk": {"S": "k"}, "p": {"S": pad}}}),
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn on_demand_throttles_above_twice_the_previous_peak() {
    use daxlite_engine::capacity::Throttling;
    let clock = ManualClock::new(T0);
    let s = throttled_server(Throttling::All, &clock, |c| {
        c.engine.capacity.peak_rule = true
    })
    .await;
    ddb(
        &s,
        "CreateTable",
        json!({
        "TableName": "peak", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
    )
    .await;
    // WarmThroughput 4,000 WRU is the starting peak: 8,000 units in one second fit.
    let pad = "x".repeat(390 * 1024);
    let units_each = (390 * 1024 + 40usize).div_ceil(1024);
    let fit = 8_000 / units_each;
    for k in 0..fit {
        let r = ddb_raw(
            &s,
            "PutItem",
            json!({"TableName": "peak", "Item": {"pk": {"S": format!("k{k}")}, "p": {"S": pad}}}),
        )
        .await;
        assert_eq!(r.status, 200, "put {k}: {}", r.text());
    }
    let r = ddb_raw(
        &s,
        "PutItem",
        json!({"TableName": "peak", "Item": {"pk": {"S": "over"}, "p": {"S": pad}}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let e = r.json();
    assert_eq!(
        e["__type"],
        "com.amazonaws.dynamodb.v20120810#ThrottlingException"
    );
    assert_eq!(e["message"], "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html.");
    assert_eq!(
        e["throttlingReasons"][0]["reason"],
        "TableWriteKeyRangeThroughputExceeded"
    );
    clock.advance(1_000);
    ddb(
        &s,
        "PutItem",
        json!({"TableName": "peak", "Item": {"pk": {"S": "next"}, "p": {"S": pad}}}),
    )
    .await;
    s.stop().await;
}

#[tokio::test]
async fn partiql_select_is_throttled_as_a_read() {
    use daxlite_engine::capacity::Throttling;
    let clock = ManualClock::new(T0);
    let s = throttled_server(Throttling::Provisioned, &clock, |_| {}).await;
    table(&s, "sel", 1, 1_000).await;
    // 300 KB: 75 strongly consistent read units; four reads empty the 300-unit burst.
    let pad = "x".repeat(300 * 1024 - 40);
    ddb(
        &s,
        "PutItem",
        json!({"TableName": "sel", "Item": {"pk": {"S": "big"}, "p": {"S": pad}}}),
    )
    .await;
    for _ in 0..4 {
        ddb(
            &s,
            "GetItem",
            json!({"TableName": "sel", "Key": {"pk": {"S": "big"}}, "ConsistentRead": true}),
        )
        .await;
    }
    let r = ddb_raw(
        &s,
        "ExecuteStatement",
        json!({"Statement": "SELECT * FROM \"sel\" WHERE pk = 'big'", "ConsistentRead": true}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let e = r.json();
    assert_eq!(
        e["__type"],
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
    );
    assert_eq!(
        e["ThrottlingReasons"][0]["reason"],
        "TableReadProvisionedThroughputExceeded"
    );
    clock.advance(2_000);
    ddb(
        &s,
        "ExecuteStatement",
        json!({"Statement": "SELECT pk FROM \"sel\" WHERE pk = 'big'"}),
    )
    .await;
    s.stop().await;
}
