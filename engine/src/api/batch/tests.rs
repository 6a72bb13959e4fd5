//! Engine-level tests of BatchGetItem and BatchWriteItem: behaviour, and docs/LIMITS.md A4
//! at each boundary (25/26 requests, 100/101 keys, duplicates, 16 MB responses).

use serde_json::{json, Value};

use crate::api::testkit::{big, engine, fail, ok, RNF, VE};
use crate::wire::Operation::{BatchGetItem as BGet, BatchWriteItem as BWrite, GetItem, PutItem};

fn puts(table: &str, n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| json!({"PutRequest": {"Item": {"pk": {"S": format!("k{i}")}}}}))
        .collect();
    json!({"RequestItems": {table: list}})
}

fn keys(n: usize, from: usize) -> Vec<Value> {
    (from..from + n)
        .map(|i| json!({"pk": {"S": format!("k{i}")}}))
        .collect()
}

#[tokio::test]
async fn write_then_get_across_tables_with_per_table_options() {
    let e = engine().await;
    let out = ok(&e, BWrite, json!({"RequestItems": {
        "hash": [{"PutRequest": {"Item": {"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"S": "y"}}}},
                 {"PutRequest": {"Item": {"pk": {"S": "b"}, "x": {"N": "2"}}}}],
        "range": [{"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "z": {"BOOL": true}}}}]},
        "ReturnConsumedCapacity": "TOTAL"})).await;
    assert_eq!(out["UnprocessedItems"], json!({}));
    assert_eq!(
        out["ConsumedCapacity"],
        json!([{"TableName": "hash", "CapacityUnits": 2.0}, {"TableName": "range", "CapacityUnits": 1.0}])
    );
    let got = ok(
        &e,
        BGet,
        json!({"RequestItems": {
        "hash": {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "missing"}}],
                 "ProjectionExpression": "#x", "ExpressionAttributeNames": {"#x": "x"}},
        "range": {"Keys": [{"pk": {"S": "a"}, "sk": {"N": "1.0"}}], "ConsistentRead": true}},
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(got["UnprocessedKeys"], json!({}));
    assert_eq!(got["Responses"]["hash"], json!([{"x": {"N": "1"}}]));
    assert_eq!(
        got["Responses"]["range"],
        json!([{"pk": {"S": "a"}, "sk": {"N": "1"}, "z": {"BOOL": true}}])
    );
    assert_eq!(
        got["ConsumedCapacity"],
        json!([{"TableName": "hash", "CapacityUnits": 1.0}, {"TableName": "range", "CapacityUnits": 1.0}])
    );
    // Deletes, and a delete of a missing item.
    let out = ok(
        &e,
        BWrite,
        json!({"RequestItems": {"hash": [
        {"DeleteRequest": {"Key": {"pk": {"S": "a"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "zz"}}}}]}}),
    )
    .await;
    assert_eq!(out, json!({"UnprocessedItems": {}}));
    let got = ok(
        &e,
        GetItem,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}}),
    )
    .await;
    assert_eq!(got, json!({}));
}

#[tokio::test]
async fn write_limit_is_25_per_table_and_in_total() {
    let e = engine().await;
    ok(&e, BWrite, puts("hash", 25)).await;
    let (t, m, _) = fail(&e, BWrite, puts("hash", 26)).await;
    assert_eq!(t, VE);
    assert!(
        m.starts_with("1 validation error detected: Value '{hash=["),
        "{m}"
    );
    assert!(m.ends_with("]}' at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"), "{m}");
    let (_, m, _) = fail(&e, BWrite, json!({"RequestItems": {"hash": []}})).await;
    assert!(m.contains("Map value must satisfy constraint"), "{m}");
    let mut both = puts("hash", 13);
    both["RequestItems"]["range"] = json!((0..13)
        .map(|i| json!({"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": i.to_string()}}}}))
        .collect::<Vec<_>>());
    let (_, m, _) = fail(&e, BWrite, both).await;
    assert_eq!(m, "Too many items requested for the BatchWriteItem call");
    let (_, m, _) = fail(&e, BWrite, json!({"RequestItems": {}})).await;
    assert_eq!(
        m,
        "The requestItems parameter is required for BatchWriteItem"
    );
    let (_, m, _) = fail(&e, BWrite, json!({})).await;
    assert_eq!(m, "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null");
    let (_, m, _) = fail(
        &e,
        BWrite,
        json!({"RequestItems": {"ab": [{"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}]}}),
    )
    .await;
    assert!(m.contains("Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]"), "{m}");
}

#[tokio::test]
async fn get_limit_is_100_keys() {
    let e = engine().await;
    let body = |a: usize, b: usize| {
        json!({"RequestItems": {
        "hash": {"Keys": keys(a, 0)},
        "range": {"Keys": (0..b).map(|i| json!({"pk": {"S": "p"}, "sk": {"N": i.to_string()}})).collect::<Vec<_>>()}}})
    };
    let out = ok(&e, BGet, body(50, 50)).await;
    assert_eq!(out["UnprocessedKeys"], json!({}));
    let (t, m, _) = fail(&e, BGet, body(50, 51)).await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (VE, "Too many items requested for the BatchGetItem call")
    );
    let (_, m, _) = fail(
        &e,
        BGet,
        json!({"RequestItems": {"hash": {"Keys": keys(101, 0)}}}),
    )
    .await;
    assert_eq!(m, "1 validation error detected: Value at 'RequestItems.hash.member.Keys' failed to satisfy constraint: Member must have length less than or equal to 100");
    let (_, m, _) = fail(&e, BGet, json!({"RequestItems": {"hash": {"Keys": []}}})).await;
    assert!(
        m.ends_with("Member must have length greater than or equal to 1"),
        "{m}"
    );
    let (_, m, _) = fail(&e, BGet, json!({"RequestItems": {"hash": {}}})).await;
    assert_eq!(m, "1 validation error detected: Value null at 'requestItems.hash.member.keys' failed to satisfy constraint: Member must not be null");
}

#[tokio::test]
async fn duplicate_keys_are_rejected_numbers_by_value() {
    let e = engine().await;
    const DUP: &str = "Provided list of item keys contains duplicates";
    let (_, m, _) = fail(
        &e,
        BGet,
        json!({"RequestItems": {"range": {"Keys": [
        {"pk": {"S": "a"}, "sk": {"N": "1"}}, {"pk": {"S": "a"}, "sk": {"N": "1.00"}}]}}}),
    )
    .await;
    assert_eq!(m, DUP);
    let (_, m, _) = fail(
        &e,
        BWrite,
        json!({"RequestItems": {"range": [
        {"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": "10"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "a"}, "sk": {"N": "1E1"}}}}]}}),
    )
    .await;
    assert_eq!(m, DUP);
    let (_, m, _) = fail(
        &e,
        BWrite,
        json!({"RequestItems": {"hash": [
        {"DeleteRequest": {"Key": {"pk": {"S": "a"}}}},
        {"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}]}}),
    )
    .await;
    assert_eq!(m, DUP);
    // The same key in two tables is not a duplicate.
    ok(
        &e,
        BGet,
        json!({"RequestItems": {"hash": {"Keys": [{"pk": {"S": "a"}}]},
        "lsi": {"Keys": [{"pk": {"S": "a"}, "sk": {"N": "1"}}]}}}),
    )
    .await;
}

#[tokio::test]
async fn item_and_table_errors() {
    let e = engine().await;
    let (t, m, _) = fail(
        &e,
        BWrite,
        json!({"RequestItems": {"nope": [
        {"PutRequest": {"Item": {"pk": {"S": "a"}}}}]}}),
    )
    .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (RNF, "Requested resource not found")
    );
    let (_, m, _) = fail(
        &e,
        BGet,
        json!({"RequestItems": {"nope": {"Keys": [{"pk": {"S": "a"}}]}}}),
    )
    .await;
    assert_eq!(m, "Requested resource not found");
    let (_, m, _) = fail(&e, BWrite, json!({"RequestItems": {"hash": [{}]}})).await;
    assert_eq!(m, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes");
    let (_, m, _) = fail(
        &e,
        BWrite,
        json!({"RequestItems": {"hash": [
        {"PutRequest": {"Item": {"pk": {"S": "a"}, "b": big(409_600)}}}]}}),
    )
    .await;
    assert_eq!(m, "Item size has exceeded the maximum allowed size");
    let (_, m, _) = fail(
        &e,
        BWrite,
        json!({"RequestItems": {"hash": [
        {"PutRequest": {"Item": {"pk": {"N": "1"}}}}]}}),
    )
    .await;
    assert_eq!(
        m,
        "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
    );
    let (_, m, _) = fail(
        &e,
        BGet,
        json!({"RequestItems": {"hash": {"Keys": [{"pk": {"S": "a"}}],
        "ProjectionExpression": "a", "AttributesToGet": ["a"]}}}),
    )
    .await;
    assert!(
        m.starts_with("Can not use both expression and non-expression parameters"),
        "{m}"
    );
    let (_, m, _) = fail(
        &e,
        BGet,
        json!({"RequestItems": {"hash": {"Keys": [{"pk": {"S": "a"}}],
        "ProjectionExpression": "a", "ExpressionAttributeNames": {"#u": "u"}}}}),
    )
    .await;
    assert_eq!(
        m,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#u}"
    );
}

#[tokio::test]
async fn item_collection_metrics_for_lsi_tables() {
    let e = engine().await;
    let out = ok(
        &e,
        BWrite,
        json!({"RequestItems": {"lsi": [
        {"PutRequest": {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "l": {"N": "5"}}}}]},
        "ReturnItemCollectionMetrics": "SIZE"}),
    )
    .await;
    assert_eq!(
        out["ItemCollectionMetrics"],
        json!({"lsi": [{"ItemCollectionKey": {"pk": {"S": "a"}}, "SizeEstimateRangeGB": [0.0, 1.0]}]})
    );
}

#[tokio::test]
async fn get_past_16_mb_returns_the_rest_as_unprocessed_with_options() {
    let e = engine().await;
    // 41 items of exactly 409,600 bytes: 40 fit in 16 MiB, the 41st does not.
    for i in 0..41 {
        let item = json!({"pk": {"S": format!("k{i:02}")}, "b": big(409_600 - 2 - 3 - 1)});
        ok(&e, PutItem, json!({"TableName": "hash", "Item": item})).await;
    }
    let ks: Vec<Value> = (0..41)
        .map(|i| json!({"pk": {"S": format!("k{i:02}")}}))
        .collect();
    let out = ok(
        &e,
        BGet,
        json!({"RequestItems": {"hash": {"Keys": ks, "ConsistentRead": true,
        "ProjectionExpression": "pk"}}}),
    )
    .await;
    assert_eq!(out["Responses"]["hash"].as_array().unwrap().len(), 40);
    assert_eq!(
        out["UnprocessedKeys"],
        json!({"hash": {"Keys": [{"pk": {"S": "k40"}}], "ConsistentRead": true, "ProjectionExpression": "pk"}})
    );
}
