//! Engine-level tests of streams and Time to Live: requests go through `Engine::call`,
//! time through a `ManualClock`, background work through `Engine::run_background_once`.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::clock::ManualClock;
use crate::wire::Operation::{self, *};
use crate::{Engine, EngineConfig};

const VE: &str = "com.amazon.coral.validate#ValidationException";
const RNF: &str = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException";
const T0: i64 = 1_700_000_000_000;

fn config() -> EngineConfig {
    EngineConfig {
        // The tests run background work themselves.
        ttl_sweep_interval_ms: 3_600_000,
        ..EngineConfig::default()
    }
}

async fn engine_with(config: EngineConfig) -> (Engine, ManualClock) {
    let clock = ManualClock::new(T0);
    let e = Engine::open_with_clock(config, Arc::new(clock.clone())).unwrap();
    (e, clock)
}

async fn call(e: &Engine, op: Operation, body: Value) -> Result<Value, (String, String)> {
    match e.call(op, &serde_json::to_vec(&body).unwrap()).await {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap()),
        Err(err) => Err((
            err.type_name(),
            err.message().unwrap_or_default().to_string(),
        )),
    }
}

async fn ok(e: &Engine, op: Operation, body: Value) -> Value {
    call(e, op, body.clone())
        .await
        .unwrap_or_else(|err| panic!("{op:?} {body} failed: {err:?}"))
}

async fn err(e: &Engine, op: Operation, body: Value) -> (String, String) {
    match call(e, op, body.clone()).await {
        Ok(v) => panic!("{op:?} {body} unexpectedly answered {v}"),
        Err(x) => x,
    }
}

/// Creates table `name` (pk S, sk N) with a stream of `view` (or none); returns its ARN.
async fn table(e: &Engine, name: &str, view: Option<&str>) -> Option<String> {
    let mut body = json!({"TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                 {"AttributeName": "sk", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}]});
    if let Some(v) = view {
        body["StreamSpecification"] = json!({"StreamEnabled": true, "StreamViewType": v});
    }
    let out = ok(e, CreateTable, body).await;
    out["TableDescription"]["LatestStreamArn"]
        .as_str()
        .map(str::to_string)
}

async fn put(e: &Engine, table: &str, pk: &str, extra: Value) {
    let mut item = json!({"pk": {"S": pk}, "sk": {"N": "1"}});
    if let Value::Object(m) = extra {
        for (k, v) in m {
            item[k] = v;
        }
    }
    ok(e, PutItem, json!({"TableName": table, "Item": item})).await;
}

async fn shards(e: &Engine, arn: &str) -> Vec<Value> {
    let d = ok(e, DescribeStream, json!({"StreamArn": arn})).await;
    d["StreamDescription"]["Shards"].as_array().unwrap().clone()
}

async fn iterator(e: &Engine, arn: &str, shard: &str, kind: &str, seq: Option<&str>) -> String {
    let mut body = json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": kind});
    if let Some(s) = seq {
        body["SequenceNumber"] = json!(s);
    }
    ok(e, GetShardIterator, body).await["ShardIterator"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every record of the stream's first shard, from TRIM_HORIZON.
async fn all_records(e: &Engine, arn: &str) -> Vec<Value> {
    let shard = shards(e, arn).await[0]["ShardId"]
        .as_str()
        .unwrap()
        .to_string();
    let it = iterator(e, arn, &shard, "TRIM_HORIZON", None).await;
    let out = ok(e, GetRecords, json!({"ShardIterator": it})).await;
    out["Records"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_write_kind_gets_its_record_and_no_op_writes_get_none() {
    let (e, _) = engine_with(config()).await;
    let arn = table(&e, "tbl", Some("NEW_AND_OLD_IMAGES")).await.unwrap();
    put(&e, "tbl", "a", json!({"v": {"S": "1"}})).await;
    put(&e, "tbl", "a", json!({"v": {"S": "1"}})).await; // identical: no record
    ok(
        &e,
        UpdateItem,
        json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}},
        "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "2"}}}),
    )
    .await;
    ok(
        &e,
        UpdateItem,
        json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}},
        "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"S": "2"}}}),
    )
    .await;
    ok(
        &e,
        DeleteItem,
        json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
    )
    .await;
    ok(
        &e,
        DeleteItem,
        json!({"TableName": "tbl", "Key": {"pk": {"S": "zz"}, "sk": {"N": "1"}}}),
    )
    .await;
    let recs = all_records(&e, &arn).await;
    let names: Vec<&str> = recs
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["INSERT", "MODIFY", "REMOVE"]);
    let r = &recs[1];
    assert_eq!(r["eventSource"], "aws:dynamodb");
    assert_eq!(r["eventVersion"], "1.1");
    assert_eq!(r["awsRegion"], "us-east-1");
    assert_eq!(r["eventID"].as_str().unwrap().len(), 32);
    assert!(r.get("userIdentity").is_none());
    let d = &r["dynamodb"];
    assert_eq!(d["Keys"], json!({"pk": {"S": "a"}, "sk": {"N": "1"}}));
    assert_eq!(d["OldImage"]["v"], json!({"S": "1"}));
    assert_eq!(d["NewImage"]["v"], json!({"S": "2"}));
    assert_eq!(d["StreamViewType"], "NEW_AND_OLD_IMAGES");
    assert_eq!(d["ApproximateCreationDateTime"], json!(T0 / 1000));
    assert!(d["SizeBytes"].as_u64().unwrap() > 0);
    assert!(recs[0]["dynamodb"].get("OldImage").is_none());
    assert!(recs[2]["dynamodb"].get("NewImage").is_none());
    let seqs: Vec<u128> = recs
        .iter()
        .map(|r| {
            let s = r["dynamodb"]["SequenceNumber"].as_str().unwrap();
            assert!(s.len() >= 21, "{s}");
            s.parse().unwrap()
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}

#[tokio::test]
async fn view_types_choose_the_images() {
    let (e, _) = engine_with(config()).await;
    for (name, view, new, old) in [
        ("kkk", "KEYS_ONLY", false, false),
        ("nnn", "NEW_IMAGE", true, false),
        ("ooo", "OLD_IMAGE", false, true),
    ] {
        let arn = table(&e, name, Some(view)).await.unwrap();
        put(&e, name, "a", json!({"v": {"N": "1"}})).await;
        put(&e, name, "a", json!({"v": {"N": "2"}})).await;
        let recs = all_records(&e, &arn).await;
        let d = &recs[1]["dynamodb"];
        assert_eq!(d.get("NewImage").is_some(), new, "{view}");
        assert_eq!(d.get("OldImage").is_some(), old, "{view}");
        assert_eq!(d["StreamViewType"], view);
    }
    // A table without a stream writes no records and lists no stream.
    assert!(table(&e, "plain", None).await.is_none());
    put(&e, "plain", "a", json!({})).await;
    let l = ok(&e, ListStreams, json!({"TableName": "plain"})).await;
    assert_eq!(l["Streams"], json!([]));
}

#[tokio::test]
async fn list_and_describe_streams() {
    let (e, _) = engine_with(config()).await;
    let a = table(&e, "aaa", Some("KEYS_ONLY")).await.unwrap();
    let b = table(&e, "bbb", Some("NEW_IMAGE")).await.unwrap();
    assert!(a.starts_with("arn:aws:dynamodb:us-east-1:000000000000:table/aaa/stream/"));
    let l = ok(&e, ListStreams, json!({})).await;
    assert_eq!(l["Streams"].as_array().unwrap().len(), 2);
    assert_eq!(l["Streams"][0]["StreamArn"], json!(a));
    assert_eq!(l["Streams"][0]["TableName"], "aaa");
    let l = ok(&e, ListStreams, json!({"Limit": 1})).await;
    assert_eq!(l["LastEvaluatedStreamArn"], json!(a));
    let l = ok(&e, ListStreams, json!({"ExclusiveStartStreamArn": a})).await;
    assert_eq!(l["Streams"][0]["StreamArn"], json!(b));
    assert!(l.get("LastEvaluatedStreamArn").is_none());
    let l = ok(&e, ListStreams, json!({"TableName": "bbb"})).await;
    assert_eq!(l["Streams"].as_array().unwrap().len(), 1);

    // Before any record the stream already has one open shard; the first record keeps it.
    let before = shards(&e, &b).await;
    put(&e, "bbb", "x", json!({})).await;
    let d = ok(&e, DescribeStream, json!({"StreamArn": b})).await["StreamDescription"].clone();
    assert_eq!(d["StreamStatus"], "ENABLED");
    assert_eq!(d["StreamViewType"], "NEW_IMAGE");
    assert_eq!(d["TableName"], "bbb");
    assert_eq!(
        d["KeySchema"][1],
        json!({"AttributeName": "sk", "KeyType": "RANGE"})
    );
    assert_eq!(d["Shards"].as_array().unwrap().len(), 1);
    assert_eq!(d["Shards"][0]["ShardId"], before[0]["ShardId"]);
    let id = d["Shards"][0]["ShardId"].as_str().unwrap();
    assert!(id.starts_with("shardId-") && id.len() >= 28, "{id}");
    assert!(d["Shards"][0]["SequenceNumberRange"]
        .get("EndingSequenceNumber")
        .is_none());

    let missing =
        "arn:aws:dynamodb:us-east-1:000000000000:table/zzz/stream/2024-01-01T00:00:00.000";
    assert_eq!(
        err(&e, DescribeStream, json!({"StreamArn": missing})).await,
        (
            RNF.into(),
            format!("Requested resource not found: Stream: {missing} not found")
        )
    );
    assert_eq!(
        err(&e, DescribeStream, json!({})).await.1,
        "1 validation error detected: Value null at 'streamArn' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        err(&e, ListStreams, json!({"Limit": 101})).await.1,
        "1 validation error detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
    );
}

#[tokio::test]
async fn iterator_types_limits_and_expiry() {
    let (e, clock) = engine_with(config()).await;
    let arn = table(&e, "tbl", Some("KEYS_ONLY")).await.unwrap();
    for pk in ["a", "b", "c"] {
        put(&e, "tbl", pk, json!({})).await;
    }
    let shard = shards(&e, &arn).await[0]["ShardId"]
        .as_str()
        .unwrap()
        .to_string();
    let it = iterator(&e, &arn, &shard, "TRIM_HORIZON", None).await;
    let page = ok(&e, GetRecords, json!({"ShardIterator": it, "Limit": 2})).await;
    assert_eq!(page["Records"].as_array().unwrap().len(), 2);
    let seq1 = page["Records"][1]["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let next = page["NextShardIterator"].as_str().unwrap().to_string();
    let page = ok(&e, GetRecords, json!({"ShardIterator": next})).await;
    assert_eq!(
        page["Records"][0]["dynamodb"]["Keys"]["pk"],
        json!({"S": "c"})
    );
    // An open shard always has a next iterator, even when nothing is new.
    let tail = page["NextShardIterator"].as_str().unwrap().to_string();
    let page = ok(&e, GetRecords, json!({"ShardIterator": tail})).await;
    assert_eq!(page["Records"], json!([]));

    let at = iterator(&e, &arn, &shard, "AT_SEQUENCE_NUMBER", Some(&seq1)).await;
    let page = ok(&e, GetRecords, json!({"ShardIterator": at})).await;
    assert_eq!(
        page["Records"][0]["dynamodb"]["Keys"]["pk"],
        json!({"S": "b"})
    );
    let after = iterator(&e, &arn, &shard, "AFTER_SEQUENCE_NUMBER", Some(&seq1)).await;
    let page = ok(&e, GetRecords, json!({"ShardIterator": after})).await;
    assert_eq!(
        page["Records"][0]["dynamodb"]["Keys"]["pk"],
        json!({"S": "c"})
    );

    let latest = iterator(&e, &arn, &shard, "LATEST", None).await;
    put(&e, "tbl", "d", json!({})).await;
    let page = ok(&e, GetRecords, json!({"ShardIterator": latest})).await;
    assert_eq!(page["Records"].as_array().unwrap().len(), 1);
    assert_eq!(
        page["Records"][0]["dynamodb"]["Keys"]["pk"],
        json!({"S": "d"})
    );

    let old = iterator(&e, &arn, &shard, "TRIM_HORIZON", None).await;
    clock.advance(15 * 60_000 + 1);
    assert_eq!(
        err(&e, GetRecords, json!({"ShardIterator": old})).await,
        (
            "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException".into(),
            "Shard iterator has expired".into()
        )
    );
    assert_eq!(
        err(&e, GetRecords, json!({"ShardIterator": "garbage"})).await,
        (VE.into(), "Invalid ShardIterator".into())
    );
    assert_eq!(
        err(&e, GetRecords, json!({"ShardIterator": "x", "Limit": 1001})).await.1,
        "1 validation error detected: Value '1001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 1000"
    );
    let (t, m) = err(
        &e,
        GetShardIterator,
        json!({"StreamArn": arn, "ShardId": shard,
        "ShardIteratorType": "SOMEWHERE"}),
    )
    .await;
    assert_eq!(t, VE);
    assert!(m.contains("Member must satisfy enum value set: [TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER]"), "{m}");
    let (t, _) = err(
        &e,
        GetShardIterator,
        json!({"StreamArn": arn,
        "ShardId": "shardId-00000000000000000000-00000000", "ShardIteratorType": "LATEST"}),
    )
    .await;
    assert_eq!(t, RNF);
}

#[tokio::test]
async fn shards_roll_over_into_children_and_closed_shards_end() {
    let (e, clock) = engine_with(EngineConfig {
        stream_shard_max_records: 2,
        ..config()
    })
    .await;
    let arn = table(&e, "tbl", Some("KEYS_ONLY")).await.unwrap();
    put(&e, "tbl", "a", json!({})).await;
    e.run_background_once().await.unwrap();
    assert_eq!(shards(&e, &arn).await.len(), 1, "one record: not full yet");
    put(&e, "tbl", "b", json!({})).await;
    e.run_background_once().await.unwrap();
    put(&e, "tbl", "c", json!({})).await;
    let s = shards(&e, &arn).await;
    assert_eq!(s.len(), 2);
    assert_eq!(s[1]["ParentShardId"], s[0]["ShardId"]);
    assert!(s[0].get("ParentShardId").is_none());
    let end: u128 = s[0]["SequenceNumberRange"]["EndingSequenceNumber"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let start: u128 = s[1]["SequenceNumberRange"]["StartingSequenceNumber"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(start, end + 1);
    // Reading the closed parent to its end gives no next iterator.
    let parent = s[0]["ShardId"].as_str().unwrap();
    let it = iterator(&e, &arn, parent, "TRIM_HORIZON", None).await;
    let page = ok(&e, GetRecords, json!({"ShardIterator": it})).await;
    assert_eq!(page["Records"].as_array().unwrap().len(), 2);
    assert!(page.get("NextShardIterator").is_none(), "{page}");
    let child = s[1]["ShardId"].as_str().unwrap();
    let it = iterator(&e, &arn, child, "TRIM_HORIZON", None).await;
    let page = ok(&e, GetRecords, json!({"ShardIterator": it})).await;
    assert_eq!(
        page["Records"][0]["dynamodb"]["Keys"]["pk"],
        json!({"S": "c"})
    );
    assert!(page.get("NextShardIterator").is_some());

    // Rollover by age too.
    let (e, clock2) = engine_with(EngineConfig {
        stream_shard_max_age_ms: 60_000,
        ..config()
    })
    .await;
    let arn = table(&e, "tbl", Some("KEYS_ONLY")).await.unwrap();
    put(&e, "tbl", "a", json!({})).await;
    clock2.advance(60_000);
    e.run_background_once().await.unwrap();
    assert_eq!(shards(&e, &arn).await.len(), 2);
    let _ = clock;
}

#[tokio::test]
async fn retention_trims_old_records() {
    let (e, clock) = engine_with(EngineConfig {
        stream_iterator_ttl_ms: 48 * 3_600_000,
        ..config()
    })
    .await;
    let arn = table(&e, "tbl", Some("KEYS_ONLY")).await.unwrap();
    put(&e, "tbl", "old", json!({})).await;
    let shard = shards(&e, &arn).await[0]["ShardId"]
        .as_str()
        .unwrap()
        .to_string();
    clock.advance(23 * 3_600_000);
    put(&e, "tbl", "new", json!({})).await;
    let stale = iterator(&e, &arn, &shard, "TRIM_HORIZON", None).await;
    let old_seq = all_records(&e, &arn).await[0]["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_string();
    clock.advance(3_600_000);
    assert_eq!(
        e.run_background_once().await.unwrap().records_trimmed,
        0,
        "exactly 24 h old"
    );
    clock.advance(1);
    let report = e.run_background_once().await.unwrap();
    assert_eq!(report.records_trimmed, 1);
    let (t, _) = err(&e, GetRecords, json!({"ShardIterator": stale})).await;
    assert_eq!(
        t,
        "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException"
    );
    let (t, _) = err(
        &e,
        GetShardIterator,
        json!({"StreamArn": arn, "ShardId": shard,
        "ShardIteratorType": "AT_SEQUENCE_NUMBER", "SequenceNumber": old_seq}),
    )
    .await;
    assert_eq!(
        t,
        "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException"
    );
    let recs = all_records(&e, &arn).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["dynamodb"]["Keys"]["pk"], json!({"S": "new"}));
}

#[tokio::test]
async fn size_cap_trims_the_oldest_records_first() {
    // Each KEYS_ONLY record of this table is well under 300 bytes: a 1,000-byte cap keeps
    // the newest few and trims the rest, oldest first, long before retention.
    let (e, _clock) = engine_with(EngineConfig {
        stream_max_bytes: 1_000,
        ..config()
    })
    .await;
    let arn = table(&e, "capped", Some("NEW_IMAGE")).await.unwrap();
    for i in 0..40 {
        put(
            &e,
            "capped",
            &format!("k{i:02}"),
            json!({"pad": {"S": "p".repeat(50)}}),
        )
        .await;
    }
    let shard = shards(&e, &arn).await[0]["ShardId"]
        .as_str()
        .unwrap()
        .to_string();
    let first = iterator(&e, &arn, &shard, "TRIM_HORIZON", None).await;
    let report = e.run_background_once().await.unwrap();
    assert!(
        report.records_trimmed >= 30,
        "most of 40 records trimmed, got {}",
        report.records_trimmed
    );
    let kept = all_records(&e, &arn).await;
    assert_eq!(kept.len() as u64, 40 - report.records_trimmed);
    let kept_bytes: usize = kept.iter().map(|r| r.to_string().len()).sum();
    assert!(
        kept_bytes < 4_000,
        "kept records stay near the cap: {kept_bytes} bytes"
    );
    // The newest record survives, the oldest survivor follows the trimmed ones in order.
    assert_eq!(
        kept.last().unwrap()["dynamodb"]["Keys"]["pk"],
        json!({"S": "k39"})
    );
    let first_kept = 40 - kept.len();
    assert_eq!(
        kept[0]["dynamodb"]["Keys"]["pk"],
        json!({"S": format!("k{first_kept:02}")})
    );
    let (t, _) = err(&e, GetRecords, json!({"ShardIterator": first})).await;
    assert_eq!(
        t,
        "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException"
    );
    // Under the cap nothing more is trimmed.
    assert_eq!(e.run_background_once().await.unwrap().records_trimmed, 0);
}

#[tokio::test]
async fn disabling_and_reenabling_makes_a_new_stream() {
    let (e, clock) = engine_with(config()).await;
    let first = table(&e, "tbl", Some("KEYS_ONLY")).await.unwrap();
    put(&e, "tbl", "a", json!({})).await;
    clock.advance(1_000);
    ok(
        &e,
        UpdateTable,
        json!({"TableName": "tbl", "StreamSpecification": {"StreamEnabled": false}}),
    )
    .await;
    put(&e, "tbl", "b", json!({})).await; // no stream: no record
    let d = ok(&e, DescribeStream, json!({"StreamArn": first})).await["StreamDescription"].clone();
    assert_eq!(d["StreamStatus"], "DISABLED");
    assert!(d["Shards"][0]["SequenceNumberRange"]
        .get("EndingSequenceNumber")
        .is_some());
    clock.advance(1_000);
    let out = ok(
        &e,
        UpdateTable,
        json!({"TableName": "tbl", "StreamSpecification":
        {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"}}),
    )
    .await;
    let second = out["TableDescription"]["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second);
    put(&e, "tbl", "c", json!({})).await;
    let l = ok(&e, ListStreams, json!({"TableName": "tbl"})).await;
    assert_eq!(l["Streams"].as_array().unwrap().len(), 2);
    let old = all_records(&e, &first).await;
    assert_eq!(old.len(), 1);
    let new = all_records(&e, &second).await;
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["dynamodb"]["Keys"]["pk"], json!({"S": "c"}));
    // Reading the disabled stream to its end finishes the shard.
    let s = shards(&e, &first).await;
    let it = iterator(
        &e,
        &first,
        s[0]["ShardId"].as_str().unwrap(),
        "TRIM_HORIZON",
        None,
    )
    .await;
    let page = ok(&e, GetRecords, json!({"ShardIterator": it})).await;
    assert!(page.get("NextShardIterator").is_none(), "{page}");
}

#[tokio::test]
async fn time_to_live_settings_and_messages() {
    let (e, clock) = engine_with(EngineConfig {
        ttl_change_cooldown_ms: 3_600_000,
        ..config()
    })
    .await;
    table(&e, "tbl", None).await;
    let d = ok(&e, DescribeTimeToLive, json!({"TableName": "tbl"})).await;
    assert_eq!(
        d,
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}})
    );
    let spec = |on: bool, a: &str| json!({"TableName": "tbl", "TimeToLiveSpecification": {"Enabled": on, "AttributeName": a}});
    assert_eq!(
        err(&e, UpdateTimeToLive, spec(false, "exp")).await,
        (VE.into(), "TimeToLive is already disabled".into())
    );
    let out = ok(&e, UpdateTimeToLive, spec(true, "exp")).await;
    assert_eq!(
        out,
        json!({"TimeToLiveSpecification": {"AttributeName": "exp", "Enabled": true}})
    );
    let d = ok(&e, DescribeTimeToLive, json!({"TableName": "tbl"})).await;
    assert_eq!(
        d,
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}})
    );
    assert_eq!(
        err(&e, UpdateTimeToLive, spec(true, "exp")).await.1,
        "TimeToLive is already enabled"
    );
    assert_eq!(
        err(&e, UpdateTimeToLive, spec(true, "other")).await.1,
        "TimeToLive is active on a different AttributeName: current AttributeName is exp"
    );
    assert_eq!(
        err(&e, UpdateTimeToLive, spec(false, "exp")).await.1,
        "Time to live has been modified multiple times within a fixed interval"
    );
    clock.advance(3_600_000);
    ok(&e, UpdateTimeToLive, spec(false, "exp")).await;
    assert_eq!(
        ok(&e, DescribeTimeToLive, json!({"TableName": "tbl"})).await["TimeToLiveDescription"]
            ["TimeToLiveStatus"],
        "DISABLED"
    );
    assert_eq!(
        err(&e, UpdateTimeToLive, json!({"TableName": "tbl", "TimeToLiveSpecification": {"AttributeName": ""}})).await.1,
        "2 validation errors detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null"
    );
    assert_eq!(
        err(&e, DescribeTimeToLive, json!({"TableName": "nope"})).await,
        (
            RNF.into(),
            "Requested resource not found: Table: nope not found".into()
        )
    );
    assert_eq!(
        err(&e, UpdateTimeToLive, json!({"TableName": "nope", "TimeToLiveSpecification": {"AttributeName": "a", "Enabled": true}})).await,
        (RNF.into(), "Requested resource not found: Table: nope not found".into())
    );
}

#[tokio::test]
async fn sweeper_deletes_expired_items_with_a_service_record() {
    let (e, clock) = engine_with(EngineConfig {
        ttl_transition_ms: 10_000,
        ..config()
    })
    .await;
    let arn = table(&e, "tbl", Some("NEW_AND_OLD_IMAGES")).await.unwrap();
    let now_s = T0 / 1000;
    put(
        &e,
        "tbl",
        "past",
        json!({"exp": {"N": (now_s - 10).to_string()}}),
    )
    .await;
    put(
        &e,
        "tbl",
        "future",
        json!({"exp": {"N": (now_s + 100).to_string()}}),
    )
    .await;
    put(&e, "tbl", "text", json!({"exp": {"S": "0"}})).await;
    put(&e, "tbl", "none", json!({})).await;
    put(
        &e,
        "tbl",
        "ancient",
        json!({"exp": {"N": (now_s - 6 * 365 * 86_400).to_string()}}),
    )
    .await;
    ok(&e, UpdateTimeToLive, json!({"TableName": "tbl", "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}})).await;
    assert_eq!(
        ok(&e, DescribeTimeToLive, json!({"TableName": "tbl"})).await["TimeToLiveDescription"]
            ["TimeToLiveStatus"],
        "ENABLING"
    );
    // Nothing is deleted while ENABLING; expired items stay readable.
    assert_eq!(e.run_background_once().await.unwrap().expired_deleted, 0);
    let key = |pk: &str| json!({"TableName": "tbl", "Key": {"pk": {"S": pk}, "sk": {"N": "1"}}});
    assert!(ok(&e, GetItem, key("past")).await.get("Item").is_some());
    clock.advance(10_000);
    assert_eq!(e.run_background_once().await.unwrap().expired_deleted, 1);
    assert!(ok(&e, GetItem, key("past")).await.get("Item").is_none());
    for pk in ["future", "text", "none", "ancient"] {
        assert!(ok(&e, GetItem, key(pk)).await.get("Item").is_some(), "{pk}");
    }
    clock.advance(100_000);
    assert_eq!(e.run_background_once().await.unwrap().expired_deleted, 1);
    let recs = all_records(&e, &arn).await;
    let removes: Vec<&Value> = recs.iter().filter(|r| r["eventName"] == "REMOVE").collect();
    assert_eq!(removes.len(), 2);
    for r in removes {
        assert_eq!(
            r["userIdentity"],
            json!({"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"})
        );
        assert!(r["dynamodb"].get("OldImage").is_some());
    }
    // A caller's delete has no userIdentity.
    ok(&e, DeleteItem, key("none")).await;
    let recs = all_records(&e, &arn).await;
    assert!(recs.last().unwrap().get("userIdentity").is_none());
}
