//! ConsumedCapacity exactly as DynamoDB reports it (issue K, part 2; CAPACITY.md §1):
//! GetItem of a missing and of a long item, Scan pages, and the INDEXES breakdown of
//! writes on tables with secondary indexes. Sources: conformance-notes.md §7.

use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, ReturnConsumedCapacity as Rcc};
use daxlite_tests::{call_ok, create_pk_table, ddb_test, unique_name, TestServer};
use serde_json::json;

fn units(c: Option<&ConsumedCapacity>) -> Option<f64> {
    c.and_then(|c| c.capacity_units)
}

ddb_test!(get_item_of_missing_and_long_items, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let t = create_pk_table(&c, "cap-get", None).await;
    c.put_item()
        .table_name(&t)
        .item("pk", AttributeValue::S("long".into()))
        .item("x", AttributeValue::S("x".repeat(10_000)))
        .send()
        .await
        .unwrap();
    for (key, consistent, want) in [
        ("missing", true, 1.0),
        ("missing-ec", false, 0.5),
        ("long", true, 3.0),
    ] {
        let out = c
            .get_item()
            .table_name(&t)
            .key("pk", AttributeValue::S(key.into()))
            .consistent_read(consistent)
            .projection_expression("pk")
            .return_consumed_capacity(Rcc::Indexes)
            .send()
            .await
            .unwrap();
        assert_eq!(units(out.consumed_capacity()), Some(want), "{key}");
        // GetItem under INDEXES shows the table arm only.
        let cc = out.consumed_capacity().unwrap();
        assert_eq!(cc.table().and_then(|t| t.capacity_units), Some(want));
        assert!(cc.global_secondary_indexes().is_none());
    }
    // An eventually consistent read of the long item costs half, the projection
    // notwithstanding; through the cache the write-through entry answers it, and a hit
    // reports 0 units (CACHE.md).
    c.put_item()
        .table_name(&t)
        .item("pk", AttributeValue::S("long2".into()))
        .item("x", AttributeValue::S("x".repeat(10_000)))
        .send()
        .await
        .unwrap();
    let out = c
        .get_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("long2".into()))
        .projection_expression("pk")
        .return_consumed_capacity(Rcc::Total)
        .send()
        .await
        .unwrap();
    let want = if mode == daxlite_tests::Mode::Cached {
        0.0
    } else {
        1.5
    };
    assert_eq!(units(out.consumed_capacity()), Some(want));
    s.stop().await;
});

ddb_test!(scan_pages_are_rounded_once_each, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let t = create_pk_table(&c, "cap-scan", None).await;
    for (k, n) in [("a", 10_000), ("b", 10)] {
        c.put_item()
            .table_name(&t)
            .item("pk", AttributeValue::S(k.into()))
            .item("x", AttributeValue::S("x".repeat(n)))
            .send()
            .await
            .unwrap();
    }
    // One page: both items summed, then rounded once (10,015 bytes → 3 units).
    let scan = |rest: &str| {
        format!(
            r#"{{"TableName":"{t}","ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL"{rest}}}"#
        )
    };
    let r = call_ok(s.addr, "DynamoDB_20120810.Scan", &scan("")).await;
    assert_eq!(r.json()["ConsumedCapacity"]["CapacityUnits"], 3.0);
    // A filter that keeps nothing still pays for what was read.
    let r = call_ok(
        s.addr,
        "DynamoDB_20120810.Scan",
        &scan(r#","FilterExpression":"pk = :v","ExpressionAttributeValues":{":v":{"S":"none"}}"#),
    )
    .await;
    assert_eq!(
        (
            r.json()["Count"].clone(),
            r.json()["ConsumedCapacity"]["CapacityUnits"].clone()
        ),
        (json!(0), json!(3.0))
    );
    // One item per page: each page is rounded on its own (3 + 1).
    let mut total = 0.0;
    let mut start = String::new();
    for _ in 0..3 {
        let r = call_ok(
            s.addr,
            "DynamoDB_20120810.Scan",
            &scan(&format!(r#","Limit":1{start}"#)),
        )
        .await;
        total += r.json()["ConsumedCapacity"]["CapacityUnits"]
            .as_f64()
            .unwrap_or(0.0);
        match r.json().get("LastEvaluatedKey") {
            Some(k) => start = format!(r#","ExclusiveStartKey":{k}"#),
            None => break,
        }
    }
    // Two one-item pages and a last, empty page (minimum one unit).
    assert_eq!(total, 5.0);
    s.stop().await;
});

ddb_test!(writes_report_index_arms, |mode| async move {
    let s = TestServer::start(mode).await;
    let t = unique_name("cap-ix");
    call_ok(s.addr, "DynamoDB_20120810.CreateTable", &format!(r#"{{"TableName":"{t}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"g","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{{"IndexName":"gall","KeySchema":[{{"AttributeName":"g","KeyType":"HASH"}}],"Projection":{{"ProjectionType":"ALL"}}}},{{"IndexName":"gko","KeySchema":[{{"AttributeName":"g","KeyType":"HASH"}}],"Projection":{{"ProjectionType":"KEYS_ONLY"}}}}]}}"#)).await;
    let x = "x".repeat(1500);
    let put = format!(r#""Item":{{"pk":{{"S":"a"}},"g":{{"S":"g1"}},"x":{{"S":"{x}"}}}}"#);
    let upd = |e: &str| {
        format!(
            r#""Key":{{"pk":{{"S":"a"}}}},"UpdateExpression":"{e}","ExpressionAttributeValues":{{":v":{{"S":"g2"}}}}"#
        )
    };
    let steps: Vec<(&str, String, serde_json::Value)> = vec![
        // A new entry in both indexes: each costs its projected size.
        (
            "PutItem",
            put.clone(),
            json!({"CapacityUnits": 5.0, "Table": {"CapacityUnits": 2.0}, "GlobalSecondaryIndexes": {"gall": {"CapacityUnits": 2.0}, "gko": {"CapacityUnits": 1.0}}}),
        ),
        // The same item again: the entries do not change, no index arm.
        (
            "PutItem",
            put.clone(),
            json!({"CapacityUnits": 2.0, "Table": {"CapacityUnits": 2.0}}),
        ),
        // A non-key attribute: only the ALL index changes.
        (
            "UpdateItem",
            upd("SET y = :v"),
            json!({"CapacityUnits": 4.0, "Table": {"CapacityUnits": 2.0}, "GlobalSecondaryIndexes": {"gall": {"CapacityUnits": 2.0}}}),
        ),
        // The index key: the entries move (old + new).
        (
            "UpdateItem",
            upd("SET g = :v"),
            json!({"CapacityUnits": 8.0, "Table": {"CapacityUnits": 2.0}, "GlobalSecondaryIndexes": {"gall": {"CapacityUnits": 4.0}, "gko": {"CapacityUnits": 2.0}}}),
        ),
        // The index key removed: the entries go.
        (
            "UpdateItem",
            r#""Key":{"pk":{"S":"a"}},"UpdateExpression":"REMOVE g""#.to_string(),
            json!({"CapacityUnits": 5.0, "Table": {"CapacityUnits": 2.0}, "GlobalSecondaryIndexes": {"gall": {"CapacityUnits": 2.0}, "gko": {"CapacityUnits": 1.0}}}),
        ),
        // An item in no index.
        (
            "DeleteItem",
            r#""Key":{"pk":{"S":"a"}}"#.to_string(),
            json!({"CapacityUnits": 2.0, "Table": {"CapacityUnits": 2.0}}),
        ),
    ];
    for (op, body, want) in steps {
        let r = call_ok(
            s.addr,
            &format!("DynamoDB_20120810.{op}"),
            &format!(r#"{{"TableName":"{t}",{body},"ReturnConsumedCapacity":"INDEXES"}}"#),
        )
        .await;
        let mut got = r.json()["ConsumedCapacity"].clone();
        got.as_object_mut().map(|m| m.remove("TableName"));
        assert_eq!(got, want, "{op} {}", &body[..body.len().min(60)]);
    }
    // TOTAL counts the index arms too.
    let r = call_ok(s.addr, "DynamoDB_20120810.PutItem", &format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"b"}},"g":{{"S":"g"}}}},"ReturnConsumedCapacity":"TOTAL"}}"#)).await;
    assert_eq!(
        r.json()["ConsumedCapacity"],
        json!({"TableName": t, "CapacityUnits": 3.0})
    );
    // Batches sum per table; transactions double the table arm only.
    let r = call_ok(s.addr, "DynamoDB_20120810.BatchWriteItem", &format!(r#"{{"RequestItems":{{"{t}":[{{"PutRequest":{{"Item":{{"pk":{{"S":"c"}},"g":{{"S":"g"}}}}}}}},{{"PutRequest":{{"Item":{{"pk":{{"S":"d"}}}}}}}}]}},"ReturnConsumedCapacity":"INDEXES"}}"#)).await;
    assert_eq!(
        r.json()["ConsumedCapacity"],
        json!([{"TableName": t, "CapacityUnits": 4.0, "Table": {"CapacityUnits": 2.0}, "GlobalSecondaryIndexes": {"gall": {"CapacityUnits": 1.0}, "gko": {"CapacityUnits": 1.0}}}])
    );
    // Transactions also mirror the units into WriteCapacityUnits (reads: ReadCapacityUnits).
    let r = call_ok(s.addr, "DynamoDB_20120810.TransactWriteItems", &format!(r#"{{"TransactItems":[{{"Put":{{"TableName":"{t}","Item":{{"pk":{{"S":"e"}},"g":{{"S":"g"}}}}}}}}],"ReturnConsumedCapacity":"INDEXES"}}"#)).await;
    let arm = |u: f64| json!({"CapacityUnits": u, "WriteCapacityUnits": u});
    assert_eq!(
        r.json()["ConsumedCapacity"],
        json!([{"TableName": t, "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0, "Table": arm(2.0), "GlobalSecondaryIndexes": {"gall": arm(1.0), "gko": arm(1.0)}}])
    );
    let r = call_ok(s.addr, "DynamoDB_20120810.TransactGetItems", &format!(r#"{{"TransactItems":[{{"Get":{{"TableName":"{t}","Key":{{"pk":{{"S":"e"}}}}}}}},{{"Get":{{"TableName":"{t}","Key":{{"pk":{{"S":"missing"}}}}}}}}],"ReturnConsumedCapacity":"TOTAL"}}"#)).await;
    assert_eq!(
        r.json()["ConsumedCapacity"],
        json!([{"TableName": t, "CapacityUnits": 4.0, "ReadCapacityUnits": 4.0}])
    );
    // Reads of an index go to its arm.
    let c = s.client();
    let out = c
        .query()
        .table_name(&t)
        .index_name("gall")
        .key_condition_expression("g = :v")
        .expression_attribute_values(":v", AttributeValue::S("g".into()))
        .return_consumed_capacity(Rcc::Indexes)
        .send()
        .await
        .unwrap();
    let cc = out.consumed_capacity().unwrap();
    assert_eq!(cc.table().and_then(|t| t.capacity_units), Some(0.0));
    assert_eq!(
        cc.global_secondary_indexes()
            .and_then(|m| m.get("gall"))
            .and_then(|c| c.capacity_units),
        Some(0.5)
    );
    s.stop().await;
});
