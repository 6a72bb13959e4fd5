//! Kinesis Data Streams destinations end to end, against a real kinesalite started by the
//! test (`daxlite_tests::kinesalite`; the tests fail when npm / node are missing): the
//! four *KinesisStreamingDestination operations with DynamoDB's answers and errors; every
//! kind of write (put, update, delete, transaction, batch, TTL deletion) read back from
//! the Kinesis stream with GetShardIterator / GetRecords and compared record by record on
//! a table without DynamoDB Streams; the precision switch; disable; a missing stream
//! (ENABLE_FAILED); the endpoint down for 10 s (everything arrives, in order per item);
//! and daxlite restarted with undelivered changes (nothing lost).

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    ApproximateCreationDateTimePrecision as Precision, AttributeDefinition, AttributeValue,
    BillingMode, ConditionCheck, DeleteRequest, DestinationStatus,
    EnableKinesisStreamingConfiguration, KeySchemaElement, KeyType, Put, PutRequest,
    ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem,
    UpdateKinesisStreamingConfiguration, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use daxlite::kinesis::KinesisConfig;
use daxlite::Config;
use daxlite_engine::Backend;
use daxlite_tests::kinesalite::Kinesalite;
use daxlite_tests::{call, error_parts, unique_name, Mode, TestServer};
use serde_json::{json, Value};

/// The server config publishing to `k`, with short waits.
fn config(k: &Kinesalite, mode: Mode) -> Config {
    let mut c = mode.config();
    let mut kc = KinesisConfig::fallback("us-east-1");
    kc.endpoint = k.endpoint().parse().unwrap();
    kc.backoff = Duration::from_millis(50);
    kc.max_backoff = Duration::from_millis(400);
    kc.poll_interval = Duration::from_millis(100);
    kc.timeout = Duration::from_secs(2);
    c.kinesis = kc;
    c
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A table keyed by `id` (S), without DynamoDB Streams.
async fn create_table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

async fn enable(c: &Client, table: &str, arn: &str) {
    let out = c
        .enable_kinesis_streaming_destination()
        .table_name(table)
        .stream_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(out.destination_status(), Some(&DestinationStatus::Enabling));
}

async fn destination(c: &Client, table: &str) -> Value {
    let out = c
        .describe_kinesis_streaming_destination()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let d = out.kinesis_data_stream_destinations();
    json!(d
        .iter()
        .map(|d| json!({
            "arn": d.stream_arn(),
            "status": d.destination_status().map(|s| s.as_str()),
            "description": d.destination_status_description(),
            "precision": d.approximate_creation_date_time_precision().map(|p| p.as_str()),
        }))
        .collect::<Vec<_>>())
}

/// Waits until the destination's status is `want`.
async fn wait_status(c: &Client, table: &str, want: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let d = destination(c, table).await;
        if d[0]["status"] == want || Instant::now() > deadline {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn put(c: &Client, table: &str, id: &str, extra: &[(&str, AttributeValue)]) {
    let mut req = c.put_item().table_name(table).item("id", s(id));
    for (k, v) in extra {
        req = req.item(*k, v.clone());
    }
    req.send().await.unwrap();
}

/// The records per item (`Keys.id.S`), in stream order; checks each item stays on one
/// partition key and shard.
fn by_item(records: &[(String, String, Value)]) -> BTreeMap<String, Vec<Value>> {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut placement: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (shard, pk, data) in records {
        let id = data["dynamodb"]["Keys"]["id"]["S"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(pk.len(), 32, "{pk}");
        assert!(u128::from_str_radix(pk, 16).is_ok(), "{pk}");
        let at = placement
            .entry(id.clone())
            .or_insert((shard.clone(), pk.clone()));
        assert_eq!(at, &(shard.clone(), pk.clone()), "one item, one shard");
        out.entry(id).or_default().push(data.clone());
    }
    out
}

/// The same without duplicates (at least once: a change may come twice).
fn dedup(records: Vec<(String, String, Value)>) -> Vec<(String, String, Value)> {
    let mut seen = HashSet::new();
    records
        .into_iter()
        .filter(|(_, _, d)| seen.insert(d["eventID"].as_str().unwrap_or_default().to_string()))
        .collect()
}

#[tokio::test]
async fn control_plane_answers_and_errors() {
    let k = Kinesalite::start();
    let arn = k.create_stream("crud", 1).await;
    let server = TestServer::start_with(config(&k, Mode::Cached), None).await;
    let c = server.client();
    // 1. Unknown table.
    let e = c
        .enable_kinesis_streaming_destination()
        .table_name("bad-table")
        .stream_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found: Table: bad-table not found".into()
        )
    );
    let table = unique_name("kcrud");
    create_table(&c, &table).await;
    assert_eq!(destination(&c, &table).await, json!([]));
    // 2. Enable answers ENABLING with an empty configuration; Describe shows ACTIVE.
    let r = call(
        server.addr,
        "DynamoDB_20120810.EnableKinesisStreamingDestination",
        &json!({"TableName": table, "StreamArn": arn}).to_string(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json(),
        json!({"DestinationStatus": "ENABLING", "EnableKinesisStreamingConfiguration": {}, "StreamArn": arn, "TableName": table})
    );
    let r = call(
        server.addr,
        "DynamoDB_20120810.DescribeKinesisStreamingDestination",
        &json!({"TableName": table}).to_string(),
    )
    .await;
    assert_eq!(
        r.json(),
        json!({"KinesisDataStreamDestinations": [{"DestinationStatus": "ACTIVE", "StreamArn": arn}], "TableName": table})
    );
    // 3. Enabled already (the same stream or another).
    let busy = "Table is not in a valid state to enable Kinesis Streaming Destination:EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform ENABLE operation.";
    for other in [arn.clone(), arn.replace("crud", "other")] {
        let e = c
            .enable_kinesis_streaming_destination()
            .table_name(&table)
            .stream_arn(other)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_parts(&e), ("ValidationException".into(), busy.into()));
    }
    // 4. Update without a configuration, with a bad precision, for another stream.
    let update = |config: Option<UpdateKinesisStreamingConfiguration>, stream: String| {
        c.update_kinesis_streaming_destination()
            .table_name(&table)
            .stream_arn(stream)
            .set_update_kinesis_streaming_configuration(config)
            .send()
    };
    let null = "Streaming destination cannot be updated with given parameters: UpdateKinesisStreamingConfiguration cannot be null or contain only null values";
    for config in [
        None,
        Some(UpdateKinesisStreamingConfiguration::builder().build()),
    ] {
        let e = update(config, arn.clone()).await.unwrap_err();
        assert_eq!(error_parts(&e), ("ValidationException".into(), null.into()));
    }
    let second = UpdateKinesisStreamingConfiguration::builder()
        .approximate_creation_date_time_precision(Precision::from("SECOND"))
        .build();
    let e = update(Some(second), arn.clone()).await.unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            "1 validation error detected: Value 'SECOND' at 'updateKinesisStreamingConfiguration.approximateCreationDateTimePrecision' failed to satisfy constraint: Member must satisfy enum value set: [MILLISECOND, MICROSECOND]".into()
        )
    );
    let micro = UpdateKinesisStreamingConfiguration::builder()
        .approximate_creation_date_time_precision(Precision::Microsecond)
        .build();
    let unknown = arn.replace("crud", "unknown");
    let e = update(Some(micro.clone()), unknown.clone())
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            format!("Table is not in a valid state to enable Kinesis Streaming Destination: No streaming destination with streamArn: {unknown} found for table with tableName: {table}")
        )
    );
    // 5. Update to MICROSECOND: UPDATING, then ACTIVE; again: already set.
    let out = update(Some(micro.clone()), arn.clone()).await.unwrap();
    assert_eq!(out.destination_status(), Some(&DestinationStatus::Updating));
    assert_eq!(
        out.update_kinesis_streaming_configuration()
            .and_then(|c| c.approximate_creation_date_time_precision()),
        Some(&Precision::Microsecond)
    );
    assert_eq!(
        destination(&c, &table).await,
        json!([{"arn": arn, "status": "ACTIVE", "description": null, "precision": "MICROSECOND"}])
    );
    let table_id = c
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .table_id
        .unwrap();
    let e = update(Some(micro), arn.clone()).await.unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            format!("Invalid Request: Precision is already set to the desired value of MICROSECOND for tableId: {table_id}, kdsArn: {arn}")
        )
    );
    // Enable with a bad precision; a too short stream ARN.
    let other = unique_name("kcrud");
    create_table(&c, &other).await;
    let e = c
        .enable_kinesis_streaming_destination()
        .table_name(&other)
        .stream_arn(&arn)
        .enable_kinesis_streaming_configuration(
            EnableKinesisStreamingConfiguration::builder()
                .approximate_creation_date_time_precision(Precision::from("NANOSECOND"))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            "1 validation error detected: Value 'NANOSECOND' at 'enableKinesisStreamingConfiguration.approximateCreationDateTimePrecision' failed to satisfy constraint: Member must satisfy enum value set: [MILLISECOND, MICROSECOND]".into()
        )
    );
    let e = c
        .enable_kinesis_streaming_destination()
        .table_name(&other)
        .stream_arn("arn:short")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            "1 validation error detected: Value 'arn:short' at 'streamArn' failed to satisfy constraint: Member must have length greater than or equal to 37".into()
        )
    );
    // 11. Disable: DISABLING, then DISABLED (kept in Describe); again: must be ACTIVE.
    let out = c
        .disable_kinesis_streaming_destination()
        .table_name(&table)
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.destination_status(),
        Some(&DestinationStatus::Disabling)
    );
    assert_eq!(destination(&c, &table).await[0]["status"], "DISABLED");
    let e = c
        .disable_kinesis_streaming_destination()
        .table_name(&table)
        .stream_arn(&arn)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&e),
        (
            "ValidationException".into(),
            "Table is not in a valid state to disable Kinesis Streaming Destination:DisableKinesisStreamingDestination must be ACTIVE to perform DISABLE operation.".into()
        )
    );
    // Enabled again after DISABLED.
    enable(&c, &table, &arn).await;
    assert_eq!(destination(&c, &table).await[0]["status"], "ACTIVE");
    server.stop().await;
}

#[tokio::test]
async fn a_missing_stream_fails_the_destination_and_writes_still_succeed() {
    let k = Kinesalite::start();
    let server = TestServer::start_with(config(&k, Mode::Engine), None).await;
    let c = server.client();
    let table = unique_name("kmissing");
    create_table(&c, &table).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/does-not-exist";
    enable(&c, &table, arn).await;
    let d = wait_status(&c, &table, "ENABLE_FAILED").await;
    assert_eq!(d[0]["status"], "ENABLE_FAILED", "{d}");
    let text = d[0]["description"].as_str().unwrap_or_default();
    assert!(text.contains(arn) && text.contains("not found"), "{text}");
    put(&c, &table, "a", &[]).await;
    // A failed destination may be enabled again.
    let stream = k.create_stream("does-not-exist", 1).await;
    assert_eq!(stream, arn);
    enable(&c, &table, arn).await;
    wait_status(&c, &table, "ACTIVE").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    put(&c, &table, "b", &[]).await;
    let got = k.wait_for("does-not-exist", 1).await;
    assert_eq!(got.len(), 1, "only the change made while live: {got:?}");
    assert_eq!(got[0].2["dynamodb"]["Keys"], json!({"id": {"S": "b"}}));
    server.stop().await;
}

/// An expected record: event name, NewImage, OldImage.
type Expected = (&'static str, Option<Value>, Option<Value>);

/// Asserts one change record.
fn check(rec: &Value, table: &str, name: &str, new: Option<Value>, old: Option<Value>) {
    assert_eq!(rec["eventName"], name, "{rec}");
    assert_eq!(rec["awsRegion"], "us-east-1");
    assert_eq!(rec["recordFormat"], "application/json");
    assert_eq!(rec["eventSource"], "aws:dynamodb");
    assert_eq!(rec["tableName"], table);
    assert_eq!(rec["eventID"].as_str().unwrap().len(), 32);
    assert!(rec.get("eventVersion").is_none() && rec.get("eventSourceARN").is_none());
    let d = &rec["dynamodb"];
    assert!(d.get("SequenceNumber").is_none() && d.get("StreamViewType").is_none());
    assert_eq!(d.get("NewImage").cloned(), new, "{rec}");
    assert_eq!(d.get("OldImage").cloned(), old, "{rec}");
    let at = d["ApproximateCreationDateTime"].as_i64().unwrap();
    assert!((at - now_ms()).abs() < 10_000, "milliseconds: {at}");
}

#[tokio::test]
async fn every_kind_of_write_arrives_record_by_record() {
    let k = Kinesalite::start();
    let stream = "changes";
    let arn = k.create_stream(stream, 2).await;
    let server = TestServer::start_with(config(&k, Mode::Cached), None).await;
    let c = server.client();
    let table = unique_name("kwrites");
    create_table(&c, &table).await;
    enable(&c, &table, &arn).await;
    let n = |v: &str| AttributeValue::N(v.to_string());
    put(&c, &table, "test", &[]).await;
    put(&c, &table, "a", &[("n", n("1"))]).await;
    c.update_item()
        .table_name(&table)
        .key("id", s("a"))
        .update_expression("SET n = :two")
        .expression_attribute_values(":two", n("2"))
        .send()
        .await
        .unwrap();
    c.delete_item()
        .table_name(&table)
        .key("id", s("a"))
        .send()
        .await
        .unwrap();
    let tput = |id: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&table)
                    .item("id", s(id))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let check_absent = |id: &str| {
        TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&table)
                    .key("id", s(id))
                    .condition_expression("attribute_not_exists(id)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    c.transact_write_items()
        .transact_items(tput("b"))
        .transact_items(tput("c"))
        .transact_items(check_absent("d"))
        .send()
        .await
        .unwrap();
    // Cancelled: b exists.
    let e = c
        .transact_write_items()
        .transact_items(tput("e"))
        .transact_items(check_absent("b"))
        .send()
        .await;
    assert!(e.is_err());
    // A write that changes nothing publishes nothing.
    put(&c, &table, "b", &[]).await;
    c.batch_write_item()
        .request_items(
            &table,
            vec![
                WriteRequest::builder()
                    .put_request(PutRequest::builder().item("id", s("f")).build().unwrap())
                    .build(),
                WriteRequest::builder()
                    .delete_request(DeleteRequest::builder().key("id", s("c")).build().unwrap())
                    .build(),
            ],
        )
        .send()
        .await
        .unwrap();
    c.update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("exp")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let past = (now_ms() / 1000 - 10).to_string();
    put(&c, &table, "g", &[("exp", n(&past))]).await;
    let got = k.wait_for(stream, 10).await;
    let items = by_item(&got);
    let id = |v: &str| json!({"id": {"S": v}});
    let an = |v: &str, n: &str| json!({"id": {"S": v}, "n": {"N": n}});
    let g = json!({"id": {"S": "g"}, "exp": {"N": past}});
    let want: Vec<(&str, Vec<Expected>)> = vec![
        (
            "a",
            vec![
                ("INSERT", Some(an("a", "1")), None),
                ("MODIFY", Some(an("a", "2")), Some(an("a", "1"))),
                ("REMOVE", None, Some(an("a", "2"))),
            ],
        ),
        ("b", vec![("INSERT", Some(id("b")), None)]),
        (
            "c",
            vec![
                ("INSERT", Some(id("c")), None),
                ("REMOVE", None, Some(id("c"))),
            ],
        ),
        ("f", vec![("INSERT", Some(id("f")), None)]),
        (
            "g",
            vec![("INSERT", Some(g.clone()), None), ("REMOVE", None, Some(g))],
        ),
        ("test", vec![("INSERT", Some(id("test")), None)]),
    ];
    assert_eq!(
        items.keys().collect::<Vec<_>>(),
        want.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        "{got:?}"
    );
    for (item, records) in &want {
        let seen = &items[*item];
        assert_eq!(seen.len(), records.len(), "{item}: {seen:?}");
        for (rec, (name, new, old)) in seen.iter().zip(records) {
            check(rec, &table, name, new.clone(), old.clone());
            assert_eq!(rec["dynamodb"]["Keys"], id(item));
            let ttl = *item == "g" && *name == "REMOVE";
            let who = if ttl {
                json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
            } else {
                Value::Null
            };
            assert_eq!(rec["userIdentity"], who, "{rec}");
        }
    }
    // AWS's captured record: `id = "test"` has SizeBytes 12 (Keys + NewImage).
    assert_eq!(items["test"][0]["dynamodb"]["SizeBytes"], 12);
    // 8. MICROSECOND precision: the time in microseconds.
    c.update_kinesis_streaming_destination()
        .table_name(&table)
        .stream_arn(&arn)
        .update_kinesis_streaming_configuration(
            UpdateKinesisStreamingConfiguration::builder()
                .approximate_creation_date_time_precision(Precision::Microsecond)
                .build(),
        )
        .send()
        .await
        .unwrap();
    put(&c, &table, "micro", &[]).await;
    let got = k.wait_for(stream, 11).await;
    let micro = &by_item(&got)["micro"][0];
    let at = micro["dynamodb"]["ApproximateCreationDateTime"]
        .as_i64()
        .unwrap();
    assert!(
        (at - now_ms() * 1000).abs() < 10_000_000,
        "microseconds: {at}"
    );
    // 11. Disabled: later writes publish nothing.
    c.disable_kinesis_streaming_destination()
        .table_name(&table)
        .stream_arn(&arn)
        .send()
        .await
        .unwrap();
    put(&c, &table, "after", &[]).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(k.records(stream).await.len(), 11);
    server.stop().await;
}

/// A counter's total over its labels in `/metrics`.
async fn metric(addr: SocketAddr, name: &str) -> f64 {
    let text = metrics_text(addr).await;
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

async fn metrics_text(addr: SocketAddr) -> String {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::TokioIo;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("/metrics")
        .header("host", addr.to_string())
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}

/// Writes `items` items three times each (INSERT v=1, MODIFY to 2, MODIFY to 3).
async fn write_rounds(c: &Client, table: &str, items: usize, prefix: &str) {
    for round in 1..=3 {
        for i in 0..items {
            let v = AttributeValue::N(round.to_string());
            put(c, table, &format!("{prefix}{i}"), &[("v", v)]).await;
        }
    }
}

/// Each item's records, de-duplicated, are INSERT v1, MODIFY v1→v2, MODIFY v2→v3.
fn check_rounds(records: Vec<(String, String, Value)>, items: usize, prefix: &str) {
    let items_seen = by_item(&dedup(records));
    for i in 0..items {
        let id = format!("{prefix}{i}");
        let recs = items_seen.get(&id).unwrap_or_else(|| panic!("{id} lost"));
        let versions: Vec<(String, Value, Value)> = recs
            .iter()
            .map(|r| {
                (
                    r["eventName"].as_str().unwrap().to_string(),
                    r["dynamodb"]["OldImage"]["v"]["N"].clone(),
                    r["dynamodb"]["NewImage"]["v"]["N"].clone(),
                )
            })
            .collect();
        assert_eq!(
            versions,
            vec![
                ("INSERT".into(), Value::Null, json!("1")),
                ("MODIFY".into(), json!("1"), json!("2")),
                ("MODIFY".into(), json!("2"), json!("3")),
            ],
            "{id}"
        );
    }
}

#[tokio::test]
async fn the_endpoint_down_for_ten_seconds_then_back_loses_nothing() {
    let mut k = Kinesalite::start();
    let stream = "outage";
    let arn = k.create_stream(stream, 2).await;
    let server = TestServer::start_with(config(&k, Mode::Cached), None).await;
    let c = server.client();
    let table = unique_name("koutage");
    create_table(&c, &table).await;
    enable(&c, &table, &arn).await;
    put(&c, &table, "first", &[]).await;
    assert_eq!(k.wait_for(stream, 1).await.len(), 1);
    k.stop();
    let items = 40;
    write_rounds(&c, &table, items, "i").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(metric(server.addr, "daxlite_kinesis_failed_records").await > 0.0);
    assert!(metric(server.addr, "daxlite_kinesis_lag_seconds").await > 1.0);
    k.resume();
    let got = k.wait_for(stream, 1 + 3 * items).await;
    assert!(got.len() > 3 * items, "{} records", got.len());
    check_rounds(got, items, "i");
    assert!(metric(server.addr, "daxlite_kinesis_retried_records").await > 0.0);
    assert!(
        metric(server.addr, "daxlite_kinesis_delivered_records").await >= (1 + 3 * items) as f64
    );
    server.stop().await;
}

#[tokio::test]
async fn changes_not_yet_delivered_survive_a_restart() {
    let mut k = Kinesalite::start();
    let stream = "restart";
    let arn = k.create_stream(stream, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let on_disk = |k: &Kinesalite| {
        let mut c = config(k, Mode::Cached);
        c.engine.backend = Backend::Dir(dir.path().to_path_buf());
        c
    };
    let server = TestServer::start_with(on_disk(&k), None).await;
    let c = server.client();
    let table = unique_name("krestart");
    create_table(&c, &table).await;
    enable(&c, &table, &arn).await;
    put(&c, &table, "first", &[]).await;
    assert_eq!(k.wait_for(stream, 1).await.len(), 1);
    k.stop();
    let items = 20;
    write_rounds(&c, &table, items, "r").await;
    server.stop().await;
    k.resume();
    let server = TestServer::start_with(on_disk(&k), None).await;
    let got = k.wait_for(stream, 1 + 3 * items).await;
    let distinct = dedup(got.clone()).len();
    assert_eq!(distinct, 1 + 3 * items, "nothing lost, nothing invented");
    check_rounds(got, items, "r");
    server.stop().await;
}

/// CPU seconds this process used so far (user + system, from /proc/self/stat).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// Writes `n` items of about 100 bytes with BatchWriteItem (25 per call).
async fn batch_write(c: &Client, table: &str, n: usize, prefix: &str) {
    let pad = "x".repeat(80);
    for chunk in (0..n).collect::<Vec<_>>().chunks(25) {
        let requests = chunk
            .iter()
            .map(|i| {
                let item = PutRequest::builder()
                    .item("id", s(&format!("{prefix}{i}")))
                    .item("pad", s(&pad))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(item).build()
            })
            .collect::<Vec<_>>();
        let out = c
            .batch_write_item()
            .request_items(table, requests)
            .send()
            .await
            .unwrap();
        assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    }
}

/// The figures in the README (`cargo test -p daxlite-tests --test kinesis measure --
/// --ignored --nocapture`): records/s delivered to kinesalite from a backlog, and the CPU
/// of writing to a table with a destination against one without (the publisher paused
/// by the endpoint being down, so only the write path is counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_delivery_rate_and_write_cost() {
    let mut k = Kinesalite::start();
    let stream = "bench";
    let arn = k.create_stream(stream, 4).await;
    let server = TestServer::start_with(config(&k, Mode::Engine), None).await;
    let c = server.client();
    let (plain, with) = (unique_name("kplain"), unique_name("kdest"));
    create_table(&c, &plain).await;
    create_table(&c, &with).await;
    enable(&c, &with, &arn).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    k.stop();
    let n = 20_000;
    // Warm up, then alternate to survive machine drift.
    batch_write(&c, &plain, 2_000, "w").await;
    let (mut cpu_plain, mut cpu_with) = (0.0, 0.0);
    for round in 0..2 {
        for (table, total) in [(&plain, &mut cpu_plain), (&with, &mut cpu_with)] {
            let before = cpu_seconds();
            batch_write(&c, table, n / 2, &format!("r{round}-")).await;
            *total += cpu_seconds() - before;
        }
    }
    println!(
        "write path: {n} items without a destination {cpu_plain:.2} CPU s, with one {cpu_with:.2} CPU s ({:+.1}%)",
        (cpu_with / cpu_plain - 1.0) * 100.0
    );
    k.resume();
    let started = Instant::now();
    loop {
        let done = metric(server.addr, "daxlite_kinesis_delivered_records").await;
        if done >= n as f64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{done} delivered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "delivery: {n} change records to kinesalite in {secs:.2} s = {:.0} records/s",
        n as f64 / secs
    );
    server.stop().await;
}
