//! Engine-level tests of Query and Scan: ordering of N/S/B sort keys both ways, every
//! key-condition operator, pagination that resumes exactly (Limit, 1 MB pages, filters,
//! indexes), parallel scan covering a table exactly once, index maintenance and
//! backfill, and the validation errors with their exact messages.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::clock::ManualClock;
use crate::wire::Operation::{self, CreateTable, DeleteItem, DescribeTable, PutItem, Query, Scan};
use crate::{Engine, EngineConfig};

const VE: &str = "com.amazon.coral.validate#ValidationException";

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
        .unwrap_or_else(|err| panic!("{op:?} {:.300} failed: {err:?}", body.to_string()))
}

async fn err(e: &Engine, op: Operation, body: Value) -> String {
    match call(e, op, body.clone()).await {
        Ok(v) => panic!("{op:?} {body} unexpectedly answered {v}"),
        Err((t, m)) => {
            assert_eq!(t, VE, "{m}");
            m
        }
    }
}

/// Table `tbl`: pk S + sk N, LSI `lsi` (pk, l S) KEYS_ONLY, GSI `gsi` (g S, gs N) INCLUDE
/// [x], GSI `gall` (g) ALL. Tables `tstr` (sk S), `tbin` (sk B), `thash` (hash only).
async fn engine() -> Engine {
    let e = Engine::open(EngineConfig::default()).unwrap();
    create(&e).await;
    e
}

async fn create(e: &Engine) {
    ok(e, CreateTable, json!({
        "TableName": "tbl", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "l", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "gs", "AttributeType": "N"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "LocalSecondaryIndexes": [{"IndexName": "lsi",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "l", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "GlobalSecondaryIndexes": [
            {"IndexName": "gsi",
             "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "gs", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["x"]}},
            {"IndexName": "gall", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "ALL"}}]
    })).await;
    for (name, kind) in [("tstr", Some("S")), ("tbin", Some("B")), ("thash", None)] {
        let mut attrs = vec![json!({"AttributeName": "pk", "AttributeType": "S"})];
        let mut keys = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
        if let Some(k) = kind {
            attrs.push(json!({"AttributeName": "sk", "AttributeType": k}));
            keys.push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
        }
        ok(
            e,
            CreateTable,
            json!({"TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": attrs, "KeySchema": keys}),
        )
        .await;
    }
}

async fn put(e: &Engine, table: &str, item: Value) {
    ok(e, PutItem, json!({"TableName": table, "Item": item})).await;
}

fn q(kce: &str, values: Value) -> Value {
    json!({"TableName": "tbl", "KeyConditionExpression": kce, "ExpressionAttributeValues": values})
}

fn sks(v: &Value, attr: &str, kind: &str) -> Vec<String> {
    v["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[attr][kind].as_str().unwrap().to_string())
        .collect()
}

async fn fill_t(e: &Engine) {
    for i in [-5, 0, 1, 2, 10, 100, 7] {
        put(
            e,
            "tbl",
            json!({"pk": {"S": "a"}, "sk": {"N": i.to_string()}, "l": {"S": format!("l{i}")},
            "g": {"S": if i % 2 == 0 { "even" } else { "odd" }}, "gs": {"N": i.to_string()},
            "x": {"S": "xx"}, "y": {"S": "yy"}}),
        )
        .await;
    }
    put(e, "tbl", json!({"pk": {"S": "b"}, "sk": {"N": "1"}})).await;
}

#[tokio::test]
async fn number_sort_keys_in_both_directions_and_every_operator() {
    let e = engine().await;
    fill_t(&e).await;
    let all = ok(&e, Query, q("pk = :p", json!({":p": {"S": "a"}}))).await;
    assert_eq!(
        sks(&all, "sk", "N"),
        ["-5", "0", "1", "2", "7", "10", "100"]
    );
    assert_eq!(all["Count"], 7);
    assert_eq!(all["ScannedCount"], 7);
    assert!(all.get("LastEvaluatedKey").is_none());
    let mut body = q("pk = :p", json!({":p": {"S": "a"}}));
    body["ScanIndexForward"] = json!(false);
    let rev = ok(&e, Query, body).await;
    assert_eq!(
        sks(&rev, "sk", "N"),
        ["100", "10", "7", "2", "1", "0", "-5"]
    );
    let cases: &[(&str, Value, &[&str])] = &[
        ("pk = :p AND sk = :a", json!({":a": {"N": "7"}}), &["7"]),
        (
            "pk = :p AND sk < :a",
            json!({":a": {"N": "2"}}),
            &["-5", "0", "1"],
        ),
        (
            "pk = :p AND sk <= :a",
            json!({":a": {"N": "2"}}),
            &["-5", "0", "1", "2"],
        ),
        (
            "pk = :p AND sk > :a",
            json!({":a": {"N": "7"}}),
            &["10", "100"],
        ),
        (
            "pk = :p AND sk >= :a",
            json!({":a": {"N": "7"}}),
            &["7", "10", "100"],
        ),
        (
            "pk = :p AND :a < sk",
            json!({":a": {"N": "7"}}),
            &["10", "100"],
        ),
        (
            "pk = :p AND sk BETWEEN :a AND :b",
            json!({":a": {"N": "0"}, ":b": {"N": "10"}}),
            &["0", "1", "2", "7", "10"],
        ),
        ("sk = :a AND pk = :p", json!({":a": {"N": "1e0"}}), &["1"]),
    ];
    for (kce, extra, want) in cases {
        let mut values = extra.clone();
        values[":p"] = json!({"S": "a"});
        let r = ok(&e, Query, q(kce, values)).await;
        assert_eq!(sks(&r, "sk", "N"), *want, "{kce}");
    }
}

#[tokio::test]
async fn string_and_binary_sort_keys_order_by_bytes() {
    let e = engine().await;
    for s in ["b", "a", "ab", "a\u{0}", "B", "é", "abc", ""] {
        if !s.is_empty() {
            put(&e, "tstr", json!({"pk": {"S": "p"}, "sk": {"S": s}})).await;
        }
    }
    let mut body = json!({"TableName": "tstr", "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}}});
    let r = ok(&e, Query, body.clone()).await;
    assert_eq!(
        sks(&r, "sk", "S"),
        ["B", "a", "a\u{0}", "ab", "abc", "b", "é"]
    );
    body["ScanIndexForward"] = json!(false);
    let r = ok(&e, Query, body).await;
    assert_eq!(
        sks(&r, "sk", "S"),
        ["é", "b", "abc", "ab", "a\u{0}", "a", "B"]
    );
    let r = ok(
        &e,
        Query,
        json!({"TableName": "tstr",
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :b)",
        "ExpressionAttributeValues": {":p": {"S": "p"}, ":b": {"S": "ab"}}}),
    )
    .await;
    assert_eq!(sks(&r, "sk", "S"), ["ab", "abc"]);
    let r = ok(
        &e,
        Query,
        json!({"TableName": "tstr",
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :b)",
        "ExpressionAttributeValues": {":p": {"S": "p"}, ":b": {"S": "a\u{0}"}}}),
    )
    .await;
    assert_eq!(sks(&r, "sk", "S"), ["a\u{0}"]);
    // Binary: unsigned byte order (base64 of [0x00], [0x01], [0x7f], [0x80], [0xff]).
    for b in ["/w==", "gA==", "fw==", "AQ==", "AA=="] {
        put(&e, "tbin", json!({"pk": {"S": "p"}, "sk": {"B": b}})).await;
    }
    let r = ok(
        &e,
        Query,
        json!({"TableName": "tbin", "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}}}),
    )
    .await;
    assert_eq!(sks(&r, "sk", "B"), ["AA==", "AQ==", "fw==", "gA==", "/w=="]);
}

/// Pages through a request with `Limit`, checking that pages resume exactly.
async fn all_pages(e: &Engine, op: Operation, body: Value) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut body = body;
    let mut pages = 0;
    loop {
        let r = ok(e, op, body.clone()).await;
        pages += 1;
        out.extend(r["Items"].as_array().cloned().unwrap_or_default());
        match r.get("LastEvaluatedKey") {
            Some(k) => body["ExclusiveStartKey"] = k.clone(),
            None => return (out, pages),
        }
        assert!(pages < 10_000);
    }
}

#[tokio::test]
async fn pagination_resumes_exactly_across_limits_filters_and_indexes() {
    let e = engine().await;
    fill_t(&e).await;
    for limit in 1..=8 {
        let mut body = q("pk = :p", json!({":p": {"S": "a"}, ":v": {"S": "odd"}}));
        body["Limit"] = json!(limit);
        body["FilterExpression"] = json!("g = :v");
        let (items, _) = all_pages(&e, Query, body.clone()).await;
        let got: Vec<&str> = items
            .iter()
            .map(|i| i["sk"]["N"].as_str().unwrap())
            .collect();
        assert_eq!(got, ["-5", "1", "7"], "limit {limit}");
        body["ScanIndexForward"] = json!(false);
        let (items, _) = all_pages(&e, Query, body).await;
        let got: Vec<&str> = items
            .iter()
            .map(|i| i["sk"]["N"].as_str().unwrap())
            .collect();
        assert_eq!(got, ["7", "1", "-5"], "limit {limit} reversed");
        // A GSI whose index key repeats: hash-only `gall`, resumed by base key.
        let body = json!({"TableName": "tbl", "IndexName": "gall", "Limit": limit,
            "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "even"}}});
        let (items, _) = all_pages(&e, Query, body).await;
        let got: BTreeSet<&str> = items
            .iter()
            .map(|i| i["sk"]["N"].as_str().unwrap())
            .collect();
        assert_eq!(items.len(), 4);
        assert_eq!(got, BTreeSet::from(["0", "2", "10", "100"]));
    }
}

#[tokio::test]
async fn index_queries_project_and_order_by_index_key() {
    let e = engine().await;
    fill_t(&e).await;
    let r = ok(
        &e,
        Query,
        json!({"TableName": "tbl", "IndexName": "gsi",
        "KeyConditionExpression": "g = :g AND gs > :z", "ScanIndexForward": false,
        "ExpressionAttributeValues": {":g": {"S": "even"}, ":z": {"N": "0"}}}),
    )
    .await;
    assert_eq!(sks(&r, "gs", "N"), ["100", "10", "2"]);
    let first = r["Items"][0].as_object().unwrap();
    let mut names: Vec<&str> = first.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["g", "gs", "pk", "sk", "x"]);
    let lsi = ok(
        &e,
        Query,
        json!({"TableName": "tbl", "IndexName": "lsi",
        "KeyConditionExpression": "pk = :p AND begins_with(l, :l)",
        "ExpressionAttributeValues": {":p": {"S": "a"}, ":l": {"S": "l1"}}}),
    )
    .await;
    assert_eq!(sks(&lsi, "l", "S"), ["l1", "l10", "l100"]);
    assert_eq!(lsi["Items"][0].as_object().unwrap().len(), 3);
    // ALL_ATTRIBUTES on an LSI fetches the table's item.
    let full = ok(
        &e,
        Query,
        json!({"TableName": "tbl", "IndexName": "lsi", "Select": "ALL_ATTRIBUTES",
        "KeyConditionExpression": "pk = :p AND l = :l",
        "ExpressionAttributeValues": {":p": {"S": "a"}, ":l": {"S": "l7"}}}),
    )
    .await;
    assert_eq!(full["Items"][0]["y"]["S"], "yy");
    let count = ok(
        &e,
        Query,
        json!({"TableName": "tbl", "Select": "COUNT",
        "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}),
    )
    .await;
    assert_eq!(count["Count"], 7);
    assert!(count.get("Items").is_none());
    // Sparse: the item of partition b has no g, so it is in no GSI.
    let scan = ok(&e, Scan, json!({"TableName": "tbl", "IndexName": "gall"})).await;
    assert_eq!(scan["Count"], 7);
    let cap = ok(
        &e,
        Query,
        json!({"TableName": "tbl", "IndexName": "gsi", "ReturnConsumedCapacity": "INDEXES",
        "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": "odd"}}}),
    )
    .await;
    assert_eq!(
        cap["ConsumedCapacity"],
        json!({"TableName": "tbl", "CapacityUnits": 0.5,
        "Table": {"CapacityUnits": 0.0}, "GlobalSecondaryIndexes": {"gsi": {"CapacityUnits": 0.5}}})
    );
}

#[tokio::test]
async fn one_megabyte_pages_resume_exactly() {
    let e = engine().await;
    let big = "x".repeat(100_000);
    for i in 0..25 {
        put(
            &e,
            "tbl",
            json!({"pk": {"S": "a"}, "sk": {"N": i.to_string()}, "v": {"S": big}}),
        )
        .await;
    }
    let body = q("pk = :p", json!({":p": {"S": "a"}}));
    let first = ok(&e, Query, body.clone()).await;
    assert_eq!(first["Count"], 11, "11 items of ~100 KB reach 1 MB");
    let (items, pages) = all_pages(&e, Query, body).await;
    assert_eq!(pages, 3);
    let got: Vec<i64> = items
        .iter()
        .map(|i| i["sk"]["N"].as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(got, (0..25).collect::<Vec<_>>());
    // Counted before the filter: a filter matching nothing still pages.
    let mut body = q("pk = :p", json!({":p": {"S": "a"}, ":z": {"S": "z"}}));
    body["FilterExpression"] = json!("v = :z");
    let r = ok(&e, Query, body).await;
    assert_eq!(
        (r["Count"].as_u64(), r["ScannedCount"].as_u64()),
        (Some(0), Some(11))
    );
    assert!(r.get("LastEvaluatedKey").is_some());
}

#[tokio::test]
async fn parallel_scan_covers_the_table_exactly_once_in_hash_order() {
    let e = engine().await;
    for i in 0..150 {
        put(&e, "thash", json!({"pk": {"S": format!("k{i}")}})).await;
    }
    let (whole, _) = all_pages(&e, Scan, json!({"TableName": "thash", "Limit": 13})).await;
    assert_eq!(whole.len(), 150);
    for total in [1, 2, 7, 150, 1000] {
        let mut seen = Vec::new();
        for s in 0..total {
            let (items, _) = all_pages(
                &e,
                Scan,
                json!({"TableName": "thash", "Segment": s,
                "TotalSegments": total, "Limit": 5}),
            )
            .await;
            seen.extend(items);
        }
        assert_eq!(
            seen, whole,
            "segments of {total} concatenate to the scan order"
        );
    }
    assert_eq!(super::scan::boundary(0, 3), 0);
    assert_eq!(super::scan::boundary(3, 3), 1u128 << 64);
}

#[tokio::test]
async fn gsi_backfill_status_and_delete() {
    let clock = Arc::new(ManualClock::new(1_000_000));
    let config = EngineConfig {
        update_delay_ms: 5_000,
        ..EngineConfig::default()
    };
    let e = Engine::open_with_clock(config, clock.clone()).unwrap();
    create(&e).await;
    fill_t(&e).await;
    ok(
        &e,
        Operation::UpdateTable,
        json!({"TableName": "tbl",
        "AttributeDefinitions": [{"AttributeName": "y", "AttributeType": "S"}],
        "GlobalSecondaryIndexUpdates": [{"Create": {"IndexName": "gyy",
            "KeySchema": [{"AttributeName": "y", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}}]}),
    )
    .await;
    let d = ok(&e, DescribeTable, json!({"TableName": "tbl"})).await;
    let gy = d["Table"]["GlobalSecondaryIndexes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["IndexName"] == "gyy")
        .unwrap()
        .clone();
    assert_eq!(gy["IndexStatus"], "CREATING");
    assert_eq!(gy["Backfilling"], true);
    assert_eq!(gy["ItemCount"], 7);
    let body = json!({"TableName": "tbl", "IndexName": "gyy", "KeyConditionExpression": "y = :y",
        "ExpressionAttributeValues": {":y": {"S": "yy"}}});
    assert_eq!(
        err(&e, Query, body.clone()).await,
        "Cannot read from backfilling global secondary index: gyy"
    );
    clock.advance(5_000);
    assert_eq!(ok(&e, Query, body.clone()).await["Count"], 7);
    ok(
        &e,
        DeleteItem,
        json!({"TableName": "tbl", "Key": {"pk": {"S": "a"}, "sk": {"N": "7"}}}),
    )
    .await;
    assert_eq!(ok(&e, Query, body.clone()).await["Count"], 6);
    let d = ok(&e, DescribeTable, json!({"TableName": "tbl"})).await;
    let lsi = &d["Table"]["LocalSecondaryIndexes"][0];
    assert_eq!(lsi["ItemCount"], 6);
    ok(
        &e,
        Operation::UpdateTable,
        json!({"TableName": "tbl",
        "GlobalSecondaryIndexUpdates": [{"Delete": {"IndexName": "gyy"}}]}),
    )
    .await;
    clock.advance(5_000);
    assert_eq!(
        err(&e, Query, body).await,
        "The table does not have the specified index: gyy"
    );
}

#[tokio::test]
async fn validation_errors_have_dynamodb_messages() {
    let e = engine().await;
    let p = json!({":p": {"S": "a"}});
    let cases: Vec<(Operation, Value, &str)> = vec![
        (Query, q("pk = :p OR sk = :p", p.clone()), "Invalid operator used in KeyConditionExpression: OR"),
        (Query, q("NOT pk = :p", p.clone()), "Invalid operator used in KeyConditionExpression: NOT"),
        (Query, q("pk IN (:p)", p.clone()), "Invalid operator used in KeyConditionExpression: IN"),
        (Query, q("pk <> :p", p.clone()), "Invalid operator used in KeyConditionExpression: <>"),
        (Query, q("pk = :p AND attribute_exists(sk)", p.clone()), "Invalid operator used in KeyConditionExpression: attribute_exists"),
        (Query, q("pk = :p AND sk > :a AND sk < :b", json!({":p": {"S": "a"}, ":a": {"N": "1"}, ":b": {"N": "2"}})), "Conditions can be of length 1 or 2 only"),
        (Query, q("pk = :p AND pk = :p", p.clone()), "KeyConditionExpressions must only contain one condition per key"),
        (Query, q("pk.x = :p", p.clone()), "KeyConditionExpressions cannot have conditions on nested attributes"),
        (Query, q(":p = :p", p.clone()), "Invalid condition in KeyConditionExpression: No key attribute specified"),
        (Query, q("sk = :a", json!({":a": {"N": "1"}})), "Query condition missed key schema element: pk"),
        (Query, q("pk > :p", p.clone()), "Query key condition not supported"),
        (Query, q("pk = :p AND x = :p", p.clone()), "Query condition missed key schema element: sk"),
        (Query, q("pk = :a", json!({":a": {"N": "1"}})), "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        (Query, q("pk = :p AND sk BETWEEN :b AND :a", json!({":p": {"S": "a"}, ":a": {"N": "1"}, ":b": {"N": "2"}})),
            "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:2}, upper bound operand: AttributeValue: {N:1}"),
        (Query, json!({"TableName": "tbl"}), "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."),
        (Query, json!({"TableName": "tbl", "IndexName": "gsi", "ConsistentRead": true, "KeyConditionExpression": "g = :p",
            "ExpressionAttributeValues": p.clone()}), "Consistent reads are not supported on global secondary indexes"),
        (Query, json!({"TableName": "tbl", "IndexName": "gsi", "Select": "ALL_ATTRIBUTES", "KeyConditionExpression": "g = :p",
            "ExpressionAttributeValues": p.clone()}),
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index gsi because its projection type is not ALL"),
        (Query, json!({"TableName": "tbl", "IndexName": "nope", "KeyConditionExpression": "g = :p",
            "ExpressionAttributeValues": p.clone()}), "The table does not have the specified index: nope"),
        (Query, json!({"TableName": "tbl", "Select": "SPECIFIC_ATTRIBUTES", "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": p.clone()}),
            "1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"),
        (Scan, json!({"TableName": "tbl", "Select": "SPECIFIC_ATTRIBUTES"}),
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"),
        (Scan, json!({"TableName": "tbl", "Select": "COUNT", "ProjectionExpression": "a"}),
            "Cannot specify the ProjectionExpression when choosing to get only the Count"),
        (Scan, json!({"TableName": "tbl", "Select": "ALL_PROJECTED_ATTRIBUTES"}),
            "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
        (Query, json!({"TableName": "tbl", "KeyConditionExpression": "pk = :p", "FilterExpression": "sk = :p",
            "ExpressionAttributeValues": p.clone()}),
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"),
        (Query, json!({"TableName": "tbl", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": p.clone(),
            "ExclusiveStartKey": {"pk": {"S": "a"}}}),
            "The provided starting key is invalid: The provided key element does not match the schema"),
        (Query, json!({"TableName": "tbl", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": p.clone(),
            "ExclusiveStartKey": {"pk": {"S": "b"}, "sk": {"N": "1"}}}),
            "The provided starting key is outside query boundaries based on provided conditions"),
        (Query, json!({"TableName": "tbl", "KeyConditions": {"pk": {"ComparisonOperator": "EQ",
            "AttributeValueList": [{"S": "a"}, {"S": "b"}]}}}),
            "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"),
        (Query, json!({"TableName": "tbl", "KeyConditions": {"pk": {"ComparisonOperator": "NOT_NULL"}}}),
            "Attempted conditional constraint is not an indexable operation"),
        (Query, json!({"TableName": "tbl", "Limit": 0, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": p.clone()}),
            "1 validation error detected: Value at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        (Scan, json!({"TableName": "tbl", "Limit": 0}),
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        (Scan, json!({"TableName": "tbl", "Segment": 1}),
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"),
        (Scan, json!({"TableName": "tbl", "TotalSegments": 1}),
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present"),
        (Scan, json!({"TableName": "tbl", "Segment": 2, "TotalSegments": 2}),
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 2 is not less than TotalSegments: 2"),
        (Scan, json!({"TableName": "tbl", "Segment": 0, "TotalSegments": 1_000_001}),
            "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000"),
        (Scan, json!({"TableName": "tbl", "FilterExpression": "a = :v", "ScanFilter": {"a": {"ComparisonOperator": "NULL"}},
            "ExpressionAttributeValues": {":v": {"S": "x"}}}),
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}"),
        (Scan, json!({"TableName": "tbl", "ConditionalOperator": "OR", "ScanFilter": {"a": {"ComparisonOperator": "NULL"}}}),
            "ConditionalOperator can only be used when Filter or Expected has two or more elements"),
    ];
    for (op, body, want) in cases {
        assert_eq!(err(&e, op, body.clone()).await, want, "{body}");
    }
}

#[tokio::test]
async fn legacy_parameters_query_and_filter() {
    let e = engine().await;
    fill_t(&e).await;
    let r = ok(&e, Query, json!({"TableName": "tbl",
        "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]},
                          "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "0"}, {"N": "7"}]}},
        "QueryFilter": {"g": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "odd"}]}},
        "AttributesToGet": ["sk"]})).await;
    assert_eq!(r["Items"], json!([{"sk": {"N": "1"}}, {"sk": {"N": "7"}}]));
    assert_eq!(r["ScannedCount"], 4);
    let s = ok(
        &e,
        Scan,
        json!({"TableName": "tbl", "ConditionalOperator": "OR",
        "ScanFilter": {"sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "50"}]},
                       "g": {"ComparisonOperator": "NULL"}}}),
    )
    .await;
    assert_eq!(s["Count"], 2);
    assert_eq!(s["ScannedCount"], 8);
}

mod model {
    //! Property: after random puts, updates and deletes, the table holds exactly the
    //! model's items and every index exactly the projected entries they imply (sparse,
    //! KEYS_ONLY / INCLUDE / ALL) — contents compared, not counts.

    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::{all_pages, create, ok};
    use crate::wire::Operation::{DeleteItem, PutItem, Scan, UpdateItem};
    use crate::{Engine, EngineConfig};

    #[derive(Debug, Clone)]
    enum Op {
        Put(u8, u8, Option<u8>, Option<u8>, Option<u8>),
        SetG(u8, u8, u8),
        RemoveG(u8, u8),
        Delete(u8, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        let k = || 0u8..3;
        prop_oneof![
            (
                k(),
                k(),
                proptest::option::of(0u8..2),
                proptest::option::of(0u8..3),
                proptest::option::of(0u8..2)
            )
                .prop_map(|(p, s, g, gs, l)| Op::Put(p, s, g, gs, l)),
            (k(), k(), 0u8..2).prop_map(|(p, s, g)| Op::SetG(p, s, g)),
            (k(), k()).prop_map(|(p, s)| Op::RemoveG(p, s)),
            (k(), k()).prop_map(|(p, s)| Op::Delete(p, s)),
        ]
    }

    fn key(p: u8, s: u8) -> Value {
        json!({"pk": {"S": format!("p{p}")}, "sk": {"N": s.to_string()}})
    }

    async fn apply(e: &Engine, model: &mut BTreeMap<(u8, u8), Map<String, Value>>, op: &Op) {
        match op {
            Op::Put(p, s, g, gs, l) => {
                let mut item = key(*p, *s).as_object().cloned().unwrap_or_default();
                item.insert("x".into(), json!({"S": "xv"}));
                item.insert("y".into(), json!({"S": "yv"}));
                if let Some(g) = g {
                    item.insert("g".into(), json!({"S": format!("g{g}")}));
                }
                if let Some(gs) = gs {
                    item.insert("gs".into(), json!({"N": gs.to_string()}));
                }
                if let Some(l) = l {
                    item.insert("l".into(), json!({"S": format!("l{l}")}));
                }
                ok(e, PutItem, json!({"TableName": "tbl", "Item": item})).await;
                model.insert((*p, *s), item);
            }
            Op::SetG(p, s, g) => {
                ok(e, UpdateItem, json!({"TableName": "tbl", "Key": key(*p, *s),
                    "UpdateExpression": "SET g = :g", "ExpressionAttributeValues": {":g": {"S": format!("g{g}")}}})).await;
                let entry = model
                    .entry((*p, *s))
                    .or_insert_with(|| key(*p, *s).as_object().cloned().unwrap_or_default());
                entry.insert("g".into(), json!({"S": format!("g{g}")}));
            }
            Op::RemoveG(p, s) => {
                ok(
                    e,
                    UpdateItem,
                    json!({"TableName": "tbl", "Key": key(*p, *s), "UpdateExpression": "REMOVE g"}),
                )
                .await;
                // An update that only removes creates no item (as on DynamoDB).
                if let Some(entry) = model.get_mut(&(*p, *s)) {
                    entry.remove("g");
                }
            }
            Op::Delete(p, s) => {
                ok(
                    e,
                    DeleteItem,
                    json!({"TableName": "tbl", "Key": key(*p, *s)}),
                )
                .await;
                model.remove(&(*p, *s));
            }
        }
    }

    fn expected(
        model: &BTreeMap<(u8, u8), Map<String, Value>>,
        needs: &[&str],
        keep: Option<&[&str]>,
    ) -> Vec<String> {
        let mut out: Vec<String> = model
            .values()
            .filter(|i| needs.iter().all(|n| i.contains_key(*n)))
            .map(|i| {
                let projected: Map<String, Value> = i
                    .iter()
                    .filter(|(k, _)| keep.is_none_or(|names| names.contains(&k.as_str())))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Value::Object(projected).to_string()
            })
            .collect();
        out.sort();
        out
    }

    async fn actual(e: &Engine, index: &str) -> Vec<String> {
        let (items, _) = all_pages(
            e,
            Scan,
            json!({"TableName": "tbl", "IndexName": index, "Limit": 4}),
        )
        .await;
        let mut out: Vec<String> = items.iter().map(Value::to_string).collect();
        out.sort();
        out
    }

    proptest! {
        // Each case opens an engine and runs up to 40 writes and four full scans: 200 cases.
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn indexes_equal_what_the_table_implies(ops in proptest::collection::vec(op(), 1..40)) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let e = Engine::open(EngineConfig::default()).unwrap();
                create(&e).await;
                let mut model = BTreeMap::new();
                for o in &ops {
                    apply(&e, &mut model, o).await;
                }
                assert_eq!(actual(&e, "gall").await, expected(&model, &["g"], None));
                assert_eq!(
                    actual(&e, "gsi").await,
                    expected(&model, &["g", "gs"], Some(&["pk", "sk", "g", "gs", "x"]))
                );
                assert_eq!(actual(&e, "lsi").await, expected(&model, &["l"], Some(&["pk", "sk", "l"])));
                let (base, _) = all_pages(&e, Scan, json!({"TableName": "tbl"})).await;
                let mut base: Vec<String> = base.iter().map(Value::to_string).collect();
                base.sort();
                assert_eq!(base, expected(&model, &[], None), "the table's items");
            });
        }
    }
}
