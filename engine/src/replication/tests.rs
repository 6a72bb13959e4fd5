//! The engine side of replication through the public `Engine` calls: local changes of a
//! replicated table are stamped, shipped changes win or lose by version, deletions
//! leave a tombstone, and replicated changes are marked in the stream (and nowhere a
//! client sees).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use super::{Incoming, Version};
use crate::model::value::{decode_item, Deferred};
use crate::model::Item;
use crate::wire::Operation;
use crate::{Backend, Engine, EngineConfig};

async fn engine() -> Engine {
    let e = Engine::open(EngineConfig {
        backend: Backend::InMemory,
        region: "us-east-1".into(),
        ..EngineConfig::default()
    })
    .unwrap();
    let create = json!({"TableName": "tab",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}});
    e.call(Operation::CreateTable, create.to_string().as_bytes())
        .await
        .unwrap();
    e
}

fn item(v: Value) -> Item {
    decode_item(&v, &mut Deferred::new()).unwrap()
}

fn version(clock: u64, region: &str) -> Version {
    Version {
        clock,
        region: region.into(),
    }
}

async fn get(e: &Engine) -> Value {
    let out = e
        .call(
            Operation::GetItem,
            json!({"TableName": "tab", "Key": {"pk": {"S": "a"}}, "ConsistentRead": true})
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap();
    serde_json::from_slice::<Value>(&out).unwrap()["Item"].clone()
}

async fn apply(e: &Engine, v: &str, clock: u64, region: &str) -> bool {
    let new = (!v.is_empty()).then(|| item(json!({"pk": {"S": "a"}, "v": {"S": v}})));
    let change = Incoming {
        keys: item(json!({"pk": {"S": "a"}})),
        new,
        version: version(clock, region),
    };
    e.apply_replicated("tab", vec![change]).await.unwrap()[0]
}

#[tokio::test]
async fn shipped_changes_win_by_version_and_deletions_leave_a_tombstone() {
    let e = engine().await;
    let since = e.set_replicated("tab", true).await.unwrap();
    assert!(apply(&e, "x", since + 10, "eu-west-1").await);
    assert_eq!(get(&e).await["v"]["S"], "x");
    // Older, or equal with a smaller region name: dropped.
    assert!(!apply(&e, "old", since + 5, "us-west-2").await);
    assert!(!apply(&e, "tie", since + 10, "ap-south-1").await);
    assert!(!apply(&e, "x", since + 10, "eu-west-1").await, "idempotent");
    // Equal clock, greater region name: wins.
    assert!(apply(&e, "tie", since + 10, "us-west-2").await);
    assert_eq!(get(&e).await["v"]["S"], "tie");
    // A deletion, then an older put arriving late: the item stays deleted.
    assert!(apply(&e, "", since + 20, "eu-west-1").await);
    assert!(!apply(&e, "late", since + 15, "us-west-2").await);
    assert!(get(&e).await.is_null());
    // A local write is stamped after every clock seen, so it beats them.
    e.call(
        Operation::PutItem,
        json!({"TableName": "tab", "Item": {"pk": {"S": "a"}, "v": {"S": "local"}}})
            .to_string()
            .as_bytes(),
    )
    .await
    .unwrap();
    assert!(!apply(&e, "stale", since + 20, "us-west-2").await);
    assert_eq!(get(&e).await["v"]["S"], "local");
    e.close();
}

#[tokio::test]
async fn a_batch_applies_the_newest_change_of_each_item() {
    let e = engine().await;
    e.set_replicated("tab", true).await.unwrap();
    let change = |v: &str, clock: u64| Incoming {
        keys: item(json!({"pk": {"S": "a"}})),
        new: Some(item(json!({"pk": {"S": "a"}, "v": {"S": v}}))),
        version: version(clock, "eu-west-1"),
    };
    let won = e
        .apply_replicated(
            "tab",
            vec![change("one", 5), change("three", 9), change("two", 7)],
        )
        .await
        .unwrap();
    assert_eq!(won, vec![false, true, false]);
    assert_eq!(get(&e).await["v"]["S"], "three");
    e.close();
}

#[tokio::test]
async fn the_stream_marks_replicated_changes_for_the_shipper_only() {
    let e = engine().await;
    // Before the table is replicated: clock 0 (never shipped).
    e.call(
        Operation::PutItem,
        json!({"TableName": "tab", "Item": {"pk": {"S": "b"}}})
            .to_string()
            .as_bytes(),
    )
    .await
    .unwrap();
    let since = e.set_replicated("tab", true).await.unwrap();
    e.call(
        Operation::PutItem,
        json!({"TableName": "tab", "Item": {"pk": {"S": "c"}}})
            .to_string()
            .as_bytes(),
    )
    .await
    .unwrap();
    assert!(apply(&e, "x", since + 1_000_000, "eu-west-1").await);
    let batch = e.replication_changes("tab", None, 0, 10).unwrap().unwrap();
    let c = &batch.changes;
    assert_eq!(c.len(), 3);
    assert_eq!((c[0].clock, c[0].from.as_deref()), (0, None));
    assert!(c[1].clock > since && c[1].from.is_none());
    assert_eq!(
        (c[2].clock, c[2].from.as_deref()),
        (since + 1_000_000, Some("eu-west-1"))
    );
    // Resuming after a sequence number.
    let rest = e
        .replication_changes("tab", Some(&batch.label), c[1].seq, 10)
        .unwrap()
        .unwrap();
    assert_eq!(rest.changes.len(), 1);
    // Clients' GetRecords shows none of it.
    let d: Value = serde_json::from_slice(
        &e.call(Operation::DescribeTable, br#"{"TableName":"tab"}"#)
            .await
            .unwrap(),
    )
    .unwrap();
    let arn = d["Table"]["LatestStreamArn"].as_str().unwrap().to_string();
    let s: Value = serde_json::from_slice(
        &e.call(
            Operation::DescribeStream,
            json!({"StreamArn": arn}).to_string().as_bytes(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let shard = s["StreamDescription"]["Shards"][0]["ShardId"]
        .as_str()
        .unwrap()
        .to_string();
    let it: Value = serde_json::from_slice(
        &e.call(
            Operation::GetShardIterator,
            json!({"StreamArn": arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"})
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let records = e
        .call(
            Operation::GetRecords,
            json!({"ShardIterator": it["ShardIterator"]})
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap();
    let text = String::from_utf8(records).unwrap();
    assert!(
        !text.contains("clock") && !text.contains("\"from\"") && !text.contains("userIdentity"),
        "{text}"
    );
    e.close();
}
