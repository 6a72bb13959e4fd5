//! Secondary-index behaviours as DynamoDB has them (issue K, part 2): key size limits
//! on index keys, a GSI backfill that skips what it cannot index, Select on indexes,
//! LSI reads of non-projected attributes (fetched from the table and charged to it),
//! UpdateTable's nothing-to-do and invalid GSI updates, and wrong-typed / NULL index key
//! values in single, batch and transactional writes. Sources: conformance-notes.md §4.

use aws_sdk_dynamodb::types::{
    AttributeValue, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate, KeyType,
    Projection, ProjectionType, ReturnConsumedCapacity, ScalarAttributeType,
};
use daxlite_tests::{
    assert_error, attr, call, call_ok, ddb_test, error_parts, key, unique_name, TestServer,
};

const VALIDATION: &str = "com.amazon.coral.validate#ValidationException";

/// A table `pk`/`sk` (S) with GSI `gsi` (gk/gs, KEYS_ONLY) and LSI `lsi` (ls, INCLUDE x).
async fn indexed_table(addr: std::net::SocketAddr) -> String {
    let t = unique_name("ix");
    call_ok(addr, "DynamoDB_20120810.CreateTable", &format!(r#"{{"TableName":"{t}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"sk","AttributeType":"S"}},{{"AttributeName":"gk","AttributeType":"S"}},{{"AttributeName":"gs","AttributeType":"S"}},{{"AttributeName":"ls","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"sk","KeyType":"RANGE"}}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{{"IndexName":"gsi","KeySchema":[{{"AttributeName":"gk","KeyType":"HASH"}},{{"AttributeName":"gs","KeyType":"RANGE"}}],"Projection":{{"ProjectionType":"KEYS_ONLY"}}}}],"LocalSecondaryIndexes":[{{"IndexName":"lsi","KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"ls","KeyType":"RANGE"}}],"Projection":{{"ProjectionType":"INCLUDE","NonKeyAttributes":["x"]}}}}]}}"#)).await;
    t
}

fn put(t: &str, extra: &str) -> String {
    format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"sk":{{"S":"1"}}{extra}}}}}"#)
}

ddb_test!(index_keys_obey_the_key_size_limits, |mode| async move {
    let s = TestServer::start(mode).await;
    let t = indexed_table(s.addr).await;
    let (h, h1) = ("h".repeat(2048), "h".repeat(2049));
    let (r, r1) = ("r".repeat(1024), "r".repeat(1025));
    let hash_msg = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes";
    let range_msg = "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes";
    // The limits themselves pass.
    call_ok(
        s.addr,
        "DynamoDB_20120810.PutItem",
        &put(
            &t,
            &format!(r#","gk":{{"S":"{h}"}},"gs":{{"S":"{r}"}},"ls":{{"S":"{r}"}}"#),
        ),
    )
    .await;
    for (extra, msg) in [
        (format!(r#","gk":{{"S":"{h1}"}}"#), hash_msg),
        (
            format!(r#","gk":{{"S":"g"}},"gs":{{"S":"{r1}"}}"#),
            range_msg,
        ),
        (format!(r#","ls":{{"S":"{r1}"}}"#), range_msg),
    ] {
        let r = call(s.addr, "DynamoDB_20120810.PutItem", &put(&t, &extra)).await;
        assert_error(&r, 400, VALIDATION, Some(msg));
        let r = call(
            s.addr,
            "DynamoDB_20120810.BatchWriteItem",
            &format!(r#"{{"RequestItems":{{"{t}":[{{"PutRequest":{{"Item":{{"pk":{{"S":"b"}},"sk":{{"S":"1"}}{extra}}}}}}}]}}}}"#),
        )
        .await;
        assert_error(&r, 400, VALIDATION, Some(msg));
    }
    let r = call(
        s.addr,
        "DynamoDB_20120810.UpdateItem",
        &format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}},"sk":{{"S":"1"}}}},"UpdateExpression":"SET ls = :v","ExpressionAttributeValues":{{":v":{{"S":"{r1}"}}}}}}"#),
    )
    .await;
    assert_error(&r, 400, VALIDATION, Some("The update expression attempted to update the secondary index key beyond allowed size limits"));
    // The SDK sees the same, and the item is unchanged.
    let c = s.client();
    let err = c
        .update_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("a".into()))
        .key("sk", AttributeValue::S("1".into()))
        .update_expression("SET gk = :v")
        .expression_attribute_values(":v", AttributeValue::S(h1.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).1, "The update expression attempted to update the secondary index key beyond allowed size limits");
    let item = c
        .get_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("a".into()))
        .key("sk", AttributeValue::S("1".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item.get("gk"), Some(&AttributeValue::S(h)));
    s.stop().await;
});

ddb_test!(
    wrong_typed_and_null_index_keys_are_rejected_everywhere,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let t = indexed_table(s.addr).await;
        let mismatch = |actual: &str| {
            format!("One or more parameter values were invalid: Type mismatch for Index Key gk Expected: S Actual: {actual} IndexName: gsi")
        };
        for (value, actual) in [
            (r#"{"NULL":true}"#, "NULL"),
            (r#"{"N":"1"}"#, "N"),
            (r#"{"M":{"a":{"S":"x"}}}"#, "M"),
        ] {
            let r = call(
                s.addr,
                "DynamoDB_20120810.PutItem",
                &put(&t, &format!(r#","gk":{value}"#)),
            )
            .await;
            assert_error(&r, 400, VALIDATION, Some(&mismatch(actual)));
            let r = call(
            s.addr,
            "DynamoDB_20120810.BatchWriteItem",
            &format!(r#"{{"RequestItems":{{"{t}":[{{"PutRequest":{{"Item":{{"pk":{{"S":"b"}},"sk":{{"S":"1"}},"gk":{value}}}}}}}]}}}}"#),
        )
        .await;
            assert_error(&r, 400, VALIDATION, Some(&mismatch(actual)));
            let update = format!(
                r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}},"sk":{{"S":"1"}}}},"UpdateExpression":"SET gk = :v","ExpressionAttributeValues":{{":v":{value}}}}}"#
            );
            let r = call(s.addr, "DynamoDB_20120810.UpdateItem", &update).await;
            assert_error(&r, 400, VALIDATION, Some("The update expression attempted to update the secondary index key to unsupported type"));
            let r = call(
                s.addr,
                "DynamoDB_20120810.TransactWriteItems",
                &format!(r#"{{"TransactItems":[{{"Update":{update}}}]}}"#),
            )
            .await;
            assert_eq!(r.status, 400);
            assert_eq!(
                r.json()["__type"],
                "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
            );
            assert_eq!(
                r.json()["CancellationReasons"],
                serde_json::json!([{"Code": "ValidationError", "Message": "The update expression attempted to update the secondary index key to unsupported type"}])
            );
            // AttributeUpdates PUT is checked like an item.
            let legacy = format!(
                r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}},"sk":{{"S":"1"}}}},"AttributeUpdates":{{"gk":{{"Action":"PUT","Value":{value}}}}}}}"#
            );
            let r = call(s.addr, "DynamoDB_20120810.UpdateItem", &legacy).await;
            assert_error(&r, 400, VALIDATION, Some(&mismatch(actual)));
        }
        let key = r#""Key":{"pk":{"S":"a"},"sk":{"S":"1"}}"#;
        let r = call(s.addr, "DynamoDB_20120810.UpdateItem", &format!(r#"{{"TableName":"{t}",{key},"AttributeUpdates":{{"gk":{{"Action":"PUT","Value":{{"S":""}}}}}}}}"#)).await;
        assert_error(&r, 400, VALIDATION, Some("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: gsi, IndexKey: gk"));
        // A path inside an index key attribute (nested), in UpdateItem and in a transaction.
        let nested = format!(
            r#"{{"TableName":"{t}",{key},"UpdateExpression":"SET gk.x = :v","ExpressionAttributeValues":{{":v":{{"S":"1"}}}}}}"#
        );
        let message = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: gk";
        let r = call(s.addr, "DynamoDB_20120810.UpdateItem", &nested).await;
        assert_error(&r, 400, VALIDATION, Some(message));
        let r = call(
            s.addr,
            "DynamoDB_20120810.UpdateItem",
            &nested.replace("SET gk.x = :v", "SET ls[0] = :v"),
        )
        .await;
        assert_error(&r, 400, VALIDATION, Some(&message.replace("gk", "ls")));
        s.stop().await;
    }
);

ddb_test!(
    gsi_backfill_skips_items_it_cannot_index,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let t = unique_name("backfill");
        c.create_table()
            .table_name(&t)
            .attribute_definitions(attr("pk", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        for (pk, gk) in [
            ("ok", AttributeValue::S("g".into())),
            ("empty", AttributeValue::S(String::new())),
            ("long", AttributeValue::S("g".repeat(2049))),
            ("number", AttributeValue::N("1".into())),
            ("null", AttributeValue::Null(true)),
        ] {
            c.put_item()
                .table_name(&t)
                .item("pk", AttributeValue::S(pk.into()))
                .item("gk", gk)
                .send()
                .await
                .unwrap();
        }
        c.update_table()
            .table_name(&t)
            .attribute_definitions(attr("gk", ScalarAttributeType::S))
            .global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder()
                    .create(
                        CreateGlobalSecondaryIndexAction::builder()
                            .index_name("bygk")
                            .key_schema(key("gk", KeyType::Hash))
                            .projection(
                                Projection::builder()
                                    .projection_type(ProjectionType::All)
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let out = c
            .scan()
            .table_name(&t)
            .index_name("bygk")
            .send()
            .await
            .unwrap();
        let keys: Vec<_> = out.items().iter().filter_map(|i| i.get("pk")).collect();
        assert_eq!(keys, vec![&AttributeValue::S("ok".into())]);
        // The base table still holds everything.
        let out = c.scan().table_name(&t).send().await.unwrap();
        assert_eq!(out.count, 5);
        s.stop().await;
    }
);

ddb_test!(select_on_indexes_and_lsi_fetches, |mode| async move {
    let s = TestServer::start(mode).await;
    let t = indexed_table(s.addr).await;
    call_ok(
        s.addr,
        "DynamoDB_20120810.PutItem",
        &put(
            &t,
            r#","gk":{"S":"g"},"gs":{"S":"s"},"ls":{"S":"l"},"x":{"S":"xx"},"y":{"S":"yy"}"#,
        ),
    )
    .await;
    let query = |index: &str, hash: &str, value: &str, rest: &str| {
        format!(
            r##"{{"TableName":"{t}","IndexName":"{index}","KeyConditionExpression":"#k = :v","ExpressionAttributeNames":{{"#k":"{hash}"}},"ExpressionAttributeValues":{{":v":{{"S":"{value}"}}}},"ReturnConsumedCapacity":"INDEXES"{rest}}}"##
        )
    };
    let r = call(
        s.addr,
        "DynamoDB_20120810.Query",
        &query("gsi", "gk", "g", r#","Select":"ALL_ATTRIBUTES""#),
    )
    .await;
    assert_error(&r, 400, VALIDATION, Some("One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index gsi because its projection type is not ALL"));
    let r = call(
        s.addr,
        "DynamoDB_20120810.Query",
        &query("gsi", "gk", "g", r#","Select":"SPECIFIC_ATTRIBUTES""#),
    )
    .await;
    assert_error(&r, 400, VALIDATION, Some("1 validation error detected: Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"));
    let r = call(
        s.addr,
        "DynamoDB_20120810.Scan",
        &format!(r#"{{"TableName":"{t}","Select":"SPECIFIC_ATTRIBUTES"}}"#),
    )
    .await;
    assert_error(&r, 400, VALIDATION, Some("Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES"));
    let r = call(s.addr, "DynamoDB_20120810.Query", &format!(r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :v","ExpressionAttributeValues":{{":v":{{"S":"a"}}}},"Select":"ALL_PROJECTED_ATTRIBUTES"}}"#)).await;
    assert_error(
        &r,
        400,
        VALIDATION,
        Some("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"),
    );
    let r = call_ok(
        s.addr,
        "DynamoDB_20120810.Query",
        &query("gsi", "gk", "g", r#","Select":"ALL_PROJECTED_ATTRIBUTES""#),
    )
    .await;
    assert_eq!(r.json()["Items"][0].as_object().map(|o| o.len()), Some(4));
    // A GSI cannot fetch: naming what it does not hold is an error (Query and Scan).
    let r = call(
        s.addr,
        "DynamoDB_20120810.Query",
        &query("gsi", "gk", "g", r#","ProjectionExpression":"pk, y, x""#),
    )
    .await;
    assert_error(&r, 400, VALIDATION, Some("One or more parameter values were invalid: Global secondary index gsi does not project [y, x]"));
    let r = call(
        s.addr,
        "DynamoDB_20120810.Scan",
        &format!(r#"{{"TableName":"{t}","IndexName":"gsi","AttributesToGet":["y"]}}"#),
    )
    .await;
    assert_error(&r, 400, VALIDATION, Some("One or more parameter values were invalid: Global secondary index gsi does not project [y]"));
    let r = call(s.addr, "DynamoDB_20120810.Query", &query("gsi", "gk", "g", r##","FilterExpression":"y = :y AND sk = :y","ExpressionAttributeValues":{":v":{"S":"g"},":y":{"S":"yy"}}"##)).await;
    assert_error(&r, 400, VALIDATION, Some("One or more parameter values were invalid: Secondary index gsi does not project one or more filter attributes: [y]"));
    // Keys (the table's and the index's) are fine.
    call_ok(s.addr, "DynamoDB_20120810.Query", &query("gsi", "gk", "g", r##","ProjectionExpression":"pk, sk, gs","FilterExpression":"sk = :s","ExpressionAttributeValues":{":v":{"S":"g"},":s":{"S":"1"}}"##)).await;
    // LSI: a projected attribute is read from the index alone...
    let r = call_ok(
        s.addr,
        "DynamoDB_20120810.Query",
        &query("lsi", "pk", "a", r#","ProjectionExpression":"x""#),
    )
    .await;
    assert_eq!(r.json()["Items"], serde_json::json!([{"x": {"S": "xx"}}]));
    assert_eq!(
        r.json()["ConsumedCapacity"],
        serde_json::json!({"TableName": t, "CapacityUnits": 0.5, "Table": {"CapacityUnits": 0.0}, "LocalSecondaryIndexes": {"lsi": {"CapacityUnits": 0.5}}})
    );
    // ...a non-projected one (projection, filter, ALL_ATTRIBUTES) is fetched from the
    // table, which is charged for it.
    let charged = serde_json::json!({"TableName": t, "CapacityUnits": 1.0, "Table": {"CapacityUnits": 0.5}, "LocalSecondaryIndexes": {"lsi": {"CapacityUnits": 0.5}}});
    let r = call_ok(
        s.addr,
        "DynamoDB_20120810.Query",
        &query("lsi", "pk", "a", r#","ProjectionExpression":"y""#),
    )
    .await;
    assert_eq!(r.json()["Items"], serde_json::json!([{"y": {"S": "yy"}}]));
    assert_eq!(r.json()["ConsumedCapacity"], charged);
    let r = call_ok(s.addr, "DynamoDB_20120810.Query", &query("lsi", "pk", "a", r##","FilterExpression":"y = :y","ProjectionExpression":"x","ExpressionAttributeValues":{":v":{"S":"a"},":y":{"S":"yy"}}"##)).await;
    assert_eq!(r.json()["Count"], 1, "{}", r.text());
    // A filter on a non-projected attribute with no projection: the table item is read
    // for the filter, the answer is still the projected attributes.
    let r = call_ok(s.addr, "DynamoDB_20120810.Query", &query("lsi", "pk", "a", r##","FilterExpression":"y = :y","ExpressionAttributeValues":{":v":{"S":"a"},":y":{"S":"yy"}}"##)).await;
    assert_eq!(
        r.json()["Items"][0],
        serde_json::json!({"pk": {"S": "a"}, "sk": {"S": "1"}, "ls": {"S": "l"}, "x": {"S": "xx"}})
    );
    assert_eq!(r.json()["ConsumedCapacity"], charged);
    let r = call_ok(
        s.addr,
        "DynamoDB_20120810.Query",
        &query("lsi", "pk", "a", r#","Select":"ALL_ATTRIBUTES""#),
    )
    .await;
    assert_eq!(r.json()["Items"][0].as_object().map(|o| o.len()), Some(7));
    assert_eq!(r.json()["ConsumedCapacity"], charged);
    // Through the SDK.
    let c = s.client();
    let out = c
        .query()
        .table_name(&t)
        .index_name("lsi")
        .key_condition_expression("pk = :v")
        .expression_attribute_values(":v", AttributeValue::S("a".into()))
        .projection_expression("y")
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.items()[0].get("y"),
        Some(&AttributeValue::S("yy".into()))
    );
    assert_eq!(
        out.consumed_capacity().and_then(|c| c.capacity_units),
        Some(1.0)
    );
    s.stop().await;
});

ddb_test!(
    update_table_nothing_to_do_and_invalid_gsi_updates,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let t = indexed_table(s.addr).await;
        let nothing = "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates, SSESpecification, ReplicaUpdates, MultiAccountReplicaReady, ReplicaTransitRoleArn, MultiRegionConsistency, DeletionProtectionEnabled, OnDemandThroughput, WarmThroughput or TableClass is required";
        let update = |rest: &str| format!(r#"{{"TableName":"{t}"{rest}}}"#);
        for rest in [
            "",
            r#","GlobalSecondaryIndexUpdates":[]"#,
            r#","AttributeDefinitions":[{"AttributeName":"zz","AttributeType":"S"}]"#,
        ] {
            let r = call(s.addr, "DynamoDB_20120810.UpdateTable", &update(rest)).await;
            assert_error(&r, 400, VALIDATION, Some(nothing));
        }
        let invalid = |m: &str| format!("One or more parameter values were invalid: {m}");
        let create = r#"{"Create":{"IndexName":"gsi3","KeySchema":[{"AttributeName":"gk","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}}"#;
        for (rest, message) in [
        (r#","BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexUpdates":[]"#.to_string(), invalid("List of GlobalSecondaryIndexUpdates is empty")),
        (r#","GlobalSecondaryIndexUpdates":[{}]"#.to_string(), invalid("One of GlobalSecondaryIndexUpdate.Update, GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete must not be null")),
        (format!(r#","GlobalSecondaryIndexUpdates":[{{"Delete":{{"IndexName":"gsi"}},"Create":{}}}]"#, &create[10..create.len() - 1]), invalid("Only one global secondary index action is allowed per GlobalSecondaryIndexUpdate object")),
        (r#","GlobalSecondaryIndexUpdates":[{"Delete":{"IndexName":"gsi"}},{"Delete":{"IndexName":"gsi"}}]"#.to_string(), invalid("Only one global secondary index update per index is allowed simultaneously. Index: gsi")),
        (r#","GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"gsi","KeySchema":[{"AttributeName":"gk","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}}]"#.to_string(), "Attempting to create an index which already exists".to_string()),
    ] {
        let r = call(s.addr, "DynamoDB_20120810.UpdateTable", &update(&rest)).await;
        assert_error(&r, 400, VALIDATION, Some(&message));
    }
        let r = call(
            s.addr,
            "DynamoDB_20120810.UpdateTable",
            &update(r#","GlobalSecondaryIndexUpdates":[{"Delete":{"IndexName":"ghost"}}]"#),
        )
        .await;
        assert_error(
            &r,
            400,
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            Some(&format!(
                "Requested resource not found: Index ghost for table {t}"
            )),
        );
        let r = call(s.addr, "DynamoDB_20120810.UpdateTable", &update(&format!(r#","AttributeDefinitions":[{{"AttributeName":"gk","AttributeType":"S"}}],"GlobalSecondaryIndexUpdates":[{{"Delete":{{"IndexName":"gsi"}}}},{create}]"#))).await;
        assert_error(&r, 400, "com.amazonaws.dynamodb.v20120810#LimitExceededException", Some("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"));
        // The SDK sees the nothing-to-do error too.
        let err = s
            .client()
            .update_table()
            .table_name(&t)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error_parts(&err),
            ("ValidationException".to_string(), nothing.to_string())
        );
        s.stop().await;
    }
);
