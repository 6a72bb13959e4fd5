//! Validation texts real DynamoDB answers today (issue K, part 2): empty and oversized
//! batch requests, a missing or empty TableName on item operations, ListTagsOfResource on
//! the ARN of a table that does not exist. Sources: engine/docs/conformance-notes.md.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use daxlite_tests::{assert_error, call, create_pk_table, ddb_test, error_parts, TestServer};

const VALIDATION: &str = "com.amazon.coral.validate#ValidationException";

ddb_test!(batch_requests_with_no_tables, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let err = c
        .batch_get_item()
        .set_request_items(Some(HashMap::new()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".to_string(),
            "The requestItems parameter is required for BatchGetItem".to_string()
        )
    );
    let err = c
        .batch_write_item()
        .set_request_items(Some(HashMap::new()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".to_string(),
            "The requestItems parameter is required for BatchWriteItem".to_string()
        )
    );
    // The bespoke message comes before every constraint of the request.
    let r = call(
        s.addr,
        "DynamoDB_20120810.BatchGetItem",
        r#"{"RequestItems":{},"ReturnConsumedCapacity":"hi"}"#,
    )
    .await;
    assert_error(
        &r,
        400,
        VALIDATION,
        Some("The requestItems parameter is required for BatchGetItem"),
    );
    s.stop().await;
});

ddb_test!(batch_get_with_too_many_or_no_keys, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let table = create_pk_table(&c, "bg-limits", None).await;
    let keys: Vec<HashMap<String, AttributeValue>> = (0..101)
        .map(|i| HashMap::from([("pk".to_string(), AttributeValue::S(format!("k{i}")))]))
        .collect();
    let err = c
        .batch_get_item()
        .request_items(
            &table,
            KeysAndAttributes::builder()
                .set_keys(Some(keys.clone()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".to_string(),
            format!("1 validation error detected: Value at 'RequestItems.{table}.member.Keys' failed to satisfy constraint: Member must have length less than or equal to 100")
        )
    );
    // 100 keys pass.
    c.batch_get_item()
        .request_items(
            &table,
            KeysAndAttributes::builder()
                .set_keys(Some(keys[..100].to_vec()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let r = call(
        s.addr,
        "DynamoDB_20120810.BatchGetItem",
        &format!(r#"{{"RequestItems":{{"{table}":{{"Keys":[]}}}}}}"#),
    )
    .await;
    assert_error(
        &r,
        400,
        VALIDATION,
        Some(&format!("1 validation error detected: Value at 'RequestItems.{table}.member.Keys' failed to satisfy constraint: Member must have length greater than or equal to 1")),
    );
    s.stop().await;
});

ddb_test!(
    item_operations_without_or_with_empty_table_name,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let null = "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null";
        let empty = "1 validation error detected: Value '' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 1";
        // (The SDK refuses to send a request with no or an empty TableName: raw calls.)
        for (op, body) in [
            ("PutItem", r#""Item":{"pk":{"S":"x"}}"#),
            ("GetItem", r#""Key":{"pk":{"S":"x"}}"#),
            ("DeleteItem", r#""Key":{"pk":{"S":"x"}}"#),
            ("UpdateItem", r#""Key":{"pk":{"S":"x"}}"#),
            (
                "Query",
                r#""KeyConditionExpression":"pk = :v","ExpressionAttributeValues":{":v":{"S":"x"}}"#,
            ),
            ("Scan", r#""Limit":1"#),
        ] {
            let target = format!("DynamoDB_20120810.{op}");
            let r = call(s.addr, &target, &format!("{{{body}}}")).await;
            assert_error(&r, 400, VALIDATION, Some(null));
            let r = call(s.addr, &target, &format!(r#"{{"TableName":"",{body}}}"#)).await;
            assert_error(&r, 400, VALIDATION, Some(empty));
        }
        // Other names keep the pattern and length checks.
        let r = call(
            s.addr,
            "DynamoDB_20120810.PutItem",
            r#"{"TableName":"bad table!@#","Item":{"pk":{"S":"x"}}}"#,
        )
        .await;
        assert_error(&r, 400, VALIDATION, Some("1 validation error detected: Value 'bad table!@#' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
        s.stop().await;
    }
);

ddb_test!(
    list_tags_of_a_missing_table_is_access_denied,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        for arn in [
            "arn:aws:dynamodb:us-east-1:000000000000:table/no-such-table",
            "arn:aws:dynamodb:eu-west-1:123456789012:table/elsewhere",
        ] {
            let err = c
                .list_tags_of_resource()
                .resource_arn(arn)
                .send()
                .await
                .unwrap_err();
            assert_eq!(
            error_parts(&err),
            (
                "AccessDeniedException".to_string(),
                format!("User: arn:aws:iam::000000000000:root is not authorized to perform: dynamodb:ListTagsOfResource on resource: {arn}")
            )
        );
            let r = call(
                s.addr,
                "DynamoDB_20120810.ListTagsOfResource",
                &format!(r#"{{"ResourceArn":"{arn}"}}"#),
            )
            .await;
            assert_eq!(r.status, 400);
            assert_eq!(
                r.json()["__type"],
                "com.amazon.coral.service#AccessDeniedException"
            );
        }
        // An existing table's tags are listed.
        let table = create_pk_table(&c, "tags-ok", None).await;
        let out = c
            .list_tags_of_resource()
            .resource_arn(format!(
                "arn:aws:dynamodb:us-east-1:000000000000:table/{table}"
            ))
            .send()
            .await
            .unwrap();
        assert!(out.tags().is_empty());
        s.stop().await;
    }
);

ddb_test!(transact_write_over_4_mb, |mode| async move {
    use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
    let s = TestServer::start(mode).await;
    let c = s.client();
    let table = create_pk_table(&c, "tx-4mb", None).await;
    let big = "x".repeat(399 * 1024);
    let put = |i: usize| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&table)
                    .item("pk", AttributeValue::S(format!("k{i}")))
                    .item("x", AttributeValue::S(big.clone()))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let err = c
        .transact_write_items()
        .set_transact_items(Some((0..11).map(put).collect()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".to_string(),
            "Transaction request cannot be larger than 4 MB".to_string()
        )
    );
    // Nothing was written; ten such items (under 4 MB) pass.
    let got = c
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("k0".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(got.item, None);
    c.transact_write_items()
        .set_transact_items(Some((0..10).map(put).collect()))
        .send()
        .await
        .unwrap();
    s.stop().await;
});
