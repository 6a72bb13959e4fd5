//! Application Auto Scaling (CAPACITY.md §4, test cases 17–19) on a manual clock, through
//! the `AnyScaleFrontendService` JSON API on the server's own port (raw JSON 1.1, as the
//! SDK's application-autoscaling client sends it): validation errors, registration
//! raising a table to its minimum, target tracking scaling out after 2 minutes above the
//! target and in after 15 below it (spending the decrease budget), the activities; and
//! the per-minute capacity series on `/metrics` and the admin endpoint.

use daxlite_engine::clock::ManualClock;
use daxlite_tests::{call, ddb_test, raw_at, Mode, TestServer};
use serde_json::{json, Value};

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

async fn ddb(s: &TestServer, op: &str, body: Value) -> Value {
    let r = call(
        s.addr,
        &format!("DynamoDB_20120810.{op}"),
        &body.to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{op}: {}", r.text());
    r.json()
}

async fn table(s: &TestServer, name: &str, rcu: i64, wcu: i64) {
    ddb(
        s,
        "CreateTable",
        json!({
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "ProvisionedThroughput": {"ReadCapacityUnits": rcu, "WriteCapacityUnits": wcu},
        }),
    )
    .await;
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
    table(&s, "v", 5, 5).await;
    aas_err(&s, "RegisterScalableTarget",
        json!({"ServiceNamespace": "dynamodb", "ResourceId": "table/v",
               "ScalableDimension": "dynamodb:index:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": 5}),
        VALIDATE, "Unsupported service namespace, resource type or scalable dimension").await;
    aas_err(&s, "RegisterScalableTarget",
        json!({"ServiceNamespace": "ecs", "ResourceId": "table/v",
               "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": 5}),
        VALIDATE, "Unsupported service namespace, resource type or scalable dimension").await;
    aas_err(&s, "RegisterScalableTarget",
        json!({"ServiceNamespace": "nope", "ResourceId": "table/v", "ScalableDimension": "dynamodb:table:Bogus"}),
        VALIDATE, "2 validation errors detected: Value 'nope' at 'serviceNamespace' failed to satisfy constraint: Member must satisfy enum value set: [ecs, elasticmapreduce, ec2, appstream, dynamodb, rds, sagemaker, custom-resource, comprehend, lambda, cassandra, kafka, elasticache, neptune, workspaces]; Value 'dynamodb:table:Bogus' at 'scalableDimension' failed to satisfy constraint: Member must satisfy enum value set: [ecs:service:DesiredCount, ec2:spot-fleet-request:TargetCapacity, elasticmapreduce:instancegroup:InstanceCount, appstream:fleet:DesiredCapacity, dynamodb:table:ReadCapacityUnits, dynamodb:table:WriteCapacityUnits, dynamodb:index:ReadCapacityUnits, dynamodb:index:WriteCapacityUnits, rds:cluster:ReadReplicaCount, sagemaker:variant:DesiredInstanceCount, custom-resource:ResourceType:Property, comprehend:document-classifier-endpoint:DesiredInferenceUnits, comprehend:entity-recognizer-endpoint:DesiredInferenceUnits, lambda:function:ProvisionedConcurrency, cassandra:table:ReadCapacityUnits, cassandra:table:WriteCapacityUnits, kafka:broker-storage:VolumeSize, elasticache:replication-group:NodeGroups, elasticache:replication-group:Replicas, neptune:cluster:ReadReplicaCount, sagemaker:variant:DesiredProvisionedConcurrency, sagemaker:inference-component:DesiredCopyCount, workspaces:workspacespool:DesiredUserSessions]").await;
    aas_err(&s, "RegisterScalableTarget", json!({"ResourceId": "table/v", "ScalableDimension": "dynamodb:table:ReadCapacityUnits"}),
        VALIDATE, "1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null").await;
    aas_err(&s, "RegisterScalableTarget", target("v", "Read"),
        VALIDATE, "MinCapacity and MaxCapacity are required for registering a new scalable target").await;
    aas_err(&s, "RegisterScalableTarget", with(target("v", "Read"), json!({"MinCapacity": 9, "MaxCapacity": 2})),
        VALIDATE, "Minimum capacity cannot be greater than maximum capacity: MinCapacity 9, MaxCapacity 2").await;
    aas_err(&s, "RegisterScalableTarget", with(target("gone", "Read"), json!({"MinCapacity": 1, "MaxCapacity": 2})),
        VALIDATE, "DynamoDB table or index does not exist: table/gone").await;
    let policy = json!({"PolicyName": "p", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}});
    aas_err(&s, "PutScalingPolicy", with(target("v", "Read"), policy.clone()), NOT_FOUND,
        "No scalable target found for service namespace: dynamodb, resource ID: table/v, scalable dimension: dynamodb:table:ReadCapacityUnits").await;
    aas_err(&s, "DeregisterScalableTarget", target("v", "Write"), NOT_FOUND,
        "No scalable target found for service namespace: dynamodb, resource ID: table/v, scalable dimension: dynamodb:table:WriteCapacityUnits").await;
    aas_err(&s, "DeleteScalingPolicy", with(target("v", "Read"), json!({"PolicyName": "p"})), NOT_FOUND,
        "No scaling policy found for service namespace: dynamodb, resource ID: table/v, scalable dimension: dynamodb:table:ReadCapacityUnits, policy name: p").await;
    aas_ok(&s, "RegisterScalableTarget", with(target("v", "Read"), json!({"MinCapacity": 1, "MaxCapacity": 50}))).await;
    aas_err(&s, "PutScalingPolicy", with(target("v", "Read"), json!({"PolicyName": "p"})),
        VALIDATE, "StepScaling is not supported for service namespace dynamodb").await;
    let mut low = policy.clone();
    low["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] = json!(10.0);
    aas_err(&s, "PutScalingPolicy", with(target("v", "Read"), low), VALIDATE,
        "The target value for a DynamoDB target tracking policy must be between 20 and 90, got 10").await;
    let mut wrong = policy.clone();
    wrong["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"] = json!("DynamoDBWriteCapacityUtilization");
    aas_err(&s, "PutScalingPolicy", with(target("v", "Read"), wrong), VALIDATE,
        "Unsupported metric type DynamoDBWriteCapacityUtilization for scalable dimension dynamodb:table:ReadCapacityUnits").await;
    // Operations of the API that are not built answer as an unknown target does.
    let (status, v) = aas(&s, "PutScheduledAction", with(target("v", "Read"), json!({"ScheduledActionName": "n"}))).await;
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "com.amazon.coral.service#UnknownOperationException");
    s.stop().await;
});

// Test case 17, and the shapes of the Describe calls and of a policy.
ddb_test!(registering_a_minimum_raises_the_table, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, &clock).await;
    table(&s, "r", 5, 5).await;
    let out = aas_ok(&s, "RegisterScalableTarget", with(target("r", "Read"), json!({"MinCapacity": 10, "MaxCapacity": 100}))).await;
    let arn = out["ScalableTargetARN"].as_str().unwrap_or_default().to_string();
    assert!(arn.starts_with("arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/"), "{arn}");
    assert_eq!(throughput(&s, "r").await["ReadCapacityUnits"], 10);
    let acts = aas_ok(&s, "DescribeScalingActivities", json!({"ServiceNamespace": "dynamodb", "ResourceId": "table/r"})).await;
    let a = &acts["ScalingActivities"][0];
    assert_eq!(a["Description"], "Setting read capacity units to 10.");
    assert_eq!(a["Cause"], "minimum capacity was set to 10");
    assert_eq!(a["StatusCode"], "Successful");
    assert_eq!(a["StatusMessage"], "Successfully set read capacity units to 10. Change successfully fulfilled by dynamodb.");
    assert_eq!(a["ScalableDimension"], "dynamodb:table:ReadCapacityUnits");
    // Re-registering updates in place.
    let again = aas_ok(&s, "RegisterScalableTarget", with(target("r", "Read"), json!({"MaxCapacity": 200}))).await;
    assert_eq!(again["ScalableTargetARN"], arn.as_str());
    let d = aas_ok(&s, "DescribeScalableTargets", json!({"ServiceNamespace": "dynamodb", "ResourceIds": ["table/r"]})).await;
    let t = &d["ScalableTargets"][0];
    assert_eq!((t["MinCapacity"].clone(), t["MaxCapacity"].clone()), (json!(10), json!(200)));
    assert_eq!(t["SuspendedState"]["DynamicScalingInSuspended"], false);
    assert_eq!(t["CreationTime"], json!(T0 as f64 / 1000.0));
    assert!(t["RoleARN"].as_str().unwrap_or_default().ends_with("AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"));
    let p = aas_ok(&s, "PutScalingPolicy", with(target("r", "Read"), json!({"PolicyName": "rp", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}}))).await;
    let parn = p["PolicyARN"].as_str().unwrap_or_default();
    assert!(parn.starts_with("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:") && parn.ends_with(":resource/dynamodb/table/r:policyName/rp"), "{parn}");
    let alarms: Vec<String> = p["Alarms"].as_array().into_iter().flatten()
        .filter_map(|a| a["AlarmName"].as_str().map(str::to_string)).collect();
    assert_eq!(alarms.len(), 4);
    assert!(alarms[0].starts_with("TargetTracking-table/r-AlarmHigh-"), "{alarms:?}");
    let ps = aas_ok(&s, "DescribeScalingPolicies", json!({"ServiceNamespace": "dynamodb", "ResourceId": "table/r"})).await;
    let got = &ps["ScalingPolicies"][0];
    assert_eq!(got["PolicyType"], "TargetTrackingScaling");
    assert_eq!(got["TargetTrackingScalingPolicyConfiguration"]["TargetValue"], 70.0);
    assert_eq!(got["TargetTrackingScalingPolicyConfiguration"]["DisableScaleIn"], false);
    // Deregistering deletes the target's policies.
    aas_ok(&s, "DeregisterScalableTarget", target("r", "Read")).await;
    let ps = aas_ok(&s, "DescribeScalingPolicies", json!({"ServiceNamespace": "dynamodb"})).await;
    assert_eq!(ps["ScalingPolicies"], json!([]));
    let d = aas_ok(&s, "DescribeScalableTargets", json!({"ServiceNamespace": "dynamodb"})).await;
    assert_eq!(d["ScalableTargets"], json!([]));
    s.stop().await;
});

/// Reads `units` strongly consistent read units (100 one-unit keys per BatchGetItem).
async fn read_units(s: &TestServer, t: &str, units: usize) {
    let keys: Vec<Value> = (0..100).map(|k| json!({"pk": {"S": format!("k{k}")}})).collect();
    for _ in 0..units / 100 {
        let out = ddb(s, "BatchGetItem", json!({"RequestItems": {t: {"Keys": keys, "ConsistentRead": true}}})).await;
        assert_eq!(out["UnprocessedKeys"], json!({}));
    }
}

// Test case 18: 100 RCU at a 70 % target, 90 units/s for two minutes → 129; fifteen idle
// minutes → back to the minimum, one decrease spent.
ddb_test!(target_tracking_scales_out_then_in, |mode| async move {
    let clock = ManualClock::new(T0);
    let s = server(mode, &clock).await;
    table(&s, "tt", 100, 5).await;
    let keys: Vec<Value> = (0..100).map(|k| json!({"PutRequest": {"Item": {"pk": {"S": format!("k{k}")}}}})).collect();
    for chunk in keys.chunks(25) {
        ddb(&s, "BatchWriteItem", json!({"RequestItems": {"tt": chunk}})).await;
    }
    aas_ok(&s, "RegisterScalableTarget", with(target("tt", "Read"), json!({"MinCapacity": 50, "MaxCapacity": 1000}))).await;
    aas_ok(&s, "PutScalingPolicy", with(target("tt", "Read"), json!({"PolicyName": "reads", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}}}))).await;
    // Minute 0: 90 units/s (5,400 units). One minute above the target is not enough.
    read_units(&s, "tt", 5_400).await;
    clock.advance(MINUTE);
    let acts = aas_ok(&s, "DescribeScalingActivities", json!({"ServiceNamespace": "dynamodb"})).await;
    assert_eq!(acts["ScalingActivities"], json!([]));
    assert_eq!(throughput(&s, "tt").await["ReadCapacityUnits"], 100);
    // Minute 1: again; once it is over, AlarmHigh has seen 2 minutes.
    read_units(&s, "tt", 5_400).await;
    clock.advance(MINUTE);
    let acts = aas_ok(&s, "DescribeScalingActivities", json!({"ServiceNamespace": "dynamodb", "ResourceId": "table/tt"})).await;
    let a = &acts["ScalingActivities"][0];
    assert_eq!(a["Description"], "Setting read capacity units to 129.");
    let cause = a["Cause"].as_str().unwrap_or_default();
    assert!(cause.starts_with("monitor alarm TargetTracking-table/tt-AlarmHigh-") && cause.ends_with(" in state ALARM triggered policy reads"), "{cause}");
    assert_eq!(a["StartTime"], json!((T0 + 2 * MINUTE) as f64 / 1000.0));
    assert_eq!(throughput(&s, "tt").await["ReadCapacityUnits"], 129);
    // Fourteen idle minutes: not yet.
    clock.advance(14 * MINUTE);
    let acts = aas_ok(&s, "DescribeScalingActivities", json!({"ServiceNamespace": "dynamodb"})).await;
    assert_eq!(acts["ScalingActivities"].as_array().map(Vec::len), Some(1));
    clock.advance(MINUTE);
    let acts = aas_ok(&s, "DescribeScalingActivities", json!({"ServiceNamespace": "dynamodb"})).await;
    let a = &acts["ScalingActivities"][0];
    assert_eq!(a["Description"], "Setting read capacity units to 50.");
    assert!(a["Cause"].as_str().unwrap_or_default().contains("-AlarmLow-"), "{a}");
    let pt = throughput(&s, "tt").await;
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
    table(&s, "w", 5, 10).await;
    aas_ok(&s, "RegisterScalableTarget", with(target("w", "Write"), json!({"MinCapacity": 10, "MaxCapacity": 40}))).await;
    aas_ok(&s, "PutScalingPolicy", with(target("w", "Write"), json!({"PolicyName": "writes", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 50.0, "DisableScaleIn": true,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "DynamoDBWriteCapacityUtilization"}}}))).await;
    // 20 units/s for two minutes at 50 % → 40 (the maximum caps 20 / 0.5 = 40).
    for minute in 0..2 {
        for b in 0..48 {
            let puts: Vec<Value> = (0..25).map(|k| json!({"PutRequest": {"Item": {"pk": {"S": format!("{minute}-{b}-{k}")}}}})).collect();
            ddb(&s, "BatchWriteItem", json!({"RequestItems": {"w": puts}})).await;
        }
        clock.advance(MINUTE);
    }
    let acts = aas_ok(&s, "DescribeScalingActivities", json!({"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:WriteCapacityUnits"})).await;
    assert_eq!(acts["ScalingActivities"][0]["Description"], "Setting write capacity units to 40.");
    assert_eq!(throughput(&s, "w").await["WriteCapacityUnits"], 40);
    // DisableScaleIn: twenty idle minutes change nothing.
    clock.advance(20 * MINUTE);
    let acts = aas_ok(&s, "DescribeScalingActivities", json!({"ServiceNamespace": "dynamodb"})).await;
    assert_eq!(acts["ScalingActivities"].as_array().map(Vec::len), Some(1));
    // The series: 1,200 units in each of the two loaded minutes.
    let admin = s.admin.expect("admin listener");
    let r = raw_at(admin, "GET", "/capacity/series", &[], Vec::new()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let series = r.json();
    let w = series["Series"].as_array().into_iter().flatten()
        .find(|x| x["TableName"] == "w" && x.get("GlobalSecondaryIndexName").is_none())
        .cloned().unwrap_or_default();
    let points = w["Points"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 2, "{w}");
    assert_eq!(points[0]["Timestamp"], T0);
    assert_eq!(points[0]["ConsumedWriteCapacityUnits"], 1200.0);
    assert_eq!(points[1]["ConsumedWriteCapacityUnits"], 1200.0);
    assert_eq!(points[0]["ProvisionedWriteCapacityUnits"], 10);
    let m = raw_at(s.addr, "GET", "/metrics", &[], Vec::new()).await.text();
    assert!(m.contains("daxlite_dynamodb_consumed_write_capacity_units_total{table=\"w\"} 2400"), "{m}");
    assert!(m.contains("daxlite_dynamodb_provisioned_write_capacity_units{table=\"w\"}"), "{m}");
    s.stop().await;
}
