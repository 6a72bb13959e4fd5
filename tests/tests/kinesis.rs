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

#[path = "kinesis/control.rs"]
mod control;
#[path = "kinesis/delivery.rs"]
mod delivery;
#[path = "kinesis/records.rs"]
mod records;
