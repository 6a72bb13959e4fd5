//! Name and path limits as DynamoDB has them (issue K, part 2): attribute names up to
//! 65,535 bytes, the empty name, names in index projections, document paths deeper than
//! 32 levels, and the 4 KB expression size in Query. Sources: conformance-notes.md §5.

use aws_sdk_dynamodb::types::AttributeValue;
use daxlite_tests::{
    assert_error, call, call_ok, create_pk_table, ddb_test, error_parts, unique_name, TestServer,
};

const VALIDATION: &str = "com.amazon.coral.validate#ValidationException";

ddb_test!(
    attribute_name_lengths_and_the_empty_name,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let t = create_pk_table(&c, "names", None).await;
        let long = "a".repeat(65_535);
        let too_long = "a".repeat(65_536);
        // 65,535 bytes work in items, projections and updates.
        c.put_item()
            .table_name(&t)
            .item("pk", AttributeValue::S("p".into()))
            .item(&long, AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap();
        let got = c
            .get_item()
            .table_name(&t)
            .key("pk", AttributeValue::S("p".into()))
            .projection_expression("#n")
            .expression_attribute_names("#n", &long)
            .send()
            .await
            .unwrap();
        assert_eq!(got.item().map(|i| i.len()), Some(1));
        let big = "Attribute name is too large, must be less than 65536 bytes";
        let err = c
            .put_item()
            .table_name(&t)
            .item("pk", AttributeValue::S("p".into()))
            .item(&too_long, AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error_parts(&err),
            ("ValidationException".to_string(), big.to_string())
        );
        let key = r#""Key":{"pk":{"S":"p"}}"#;
        for (op, body, message) in [
            (
                "GetItem",
                format!(r##"{{"TableName":"{t}",{key},"AttributesToGet":["{too_long}"]}}"##),
                big.to_string(),
            ),
            (
                "UpdateItem",
                format!(
                    r##"{{"TableName":"{t}",{key},"AttributeUpdates":{{"{too_long}":{{"Action":"PUT","Value":{{"N":"2"}}}}}}}}"##
                ),
                big.to_string(),
            ),
            (
                "GetItem",
                format!(
                    r##"{{"TableName":"{t}",{key},"ProjectionExpression":"#n","ExpressionAttributeNames":{{"#n":"{too_long}"}}}}"##
                ),
                format!("ExpressionAttributeNames contains invalid value: {big} for key #n"),
            ),
            (
                "UpdateItem",
                format!(
                    r##"{{"TableName":"{t}",{key},"UpdateExpression":"SET a = :v","ConditionExpression":"#n = :v","ExpressionAttributeNames":{{"#n":"{too_long}"}},"ExpressionAttributeValues":{{":v":{{"N":"1"}}}}}}"##
                ),
                format!("ExpressionAttributeNames contains invalid value: {big} for key #n"),
            ),
            (
                "PutItem",
                format!(r##"{{"TableName":"{t}","Item":{{"pk":{{"S":"p"}},"":{{"S":"x"}}}}}}"##),
                "Empty attribute name".to_string(),
            ),
            (
                "GetItem",
                format!(
                    r##"{{"TableName":"{t}",{key},"ProjectionExpression":"#n","ExpressionAttributeNames":{{"#n":""}}}}"##
                ),
                "ExpressionAttributeNames contains invalid value: Empty attribute name for key #n"
                    .to_string(),
            ),
        ] {
            let r = call(s.addr, &format!("DynamoDB_20120810.{op}"), &body).await;
            assert_error(&r, 400, VALIDATION, Some(&message));
        }
        s.stop().await;
    }
);

ddb_test!(
    projected_attribute_names_are_limited_to_255,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let create = |name: &str, non_key: &str| {
            format!(
                r#"{{"TableName":"{name}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"g","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST","GlobalSecondaryIndexes":[{{"IndexName":"gsi","KeySchema":[{{"AttributeName":"g","KeyType":"HASH"}}],"Projection":{{"ProjectionType":"INCLUDE","NonKeyAttributes":["{non_key}"]}}}}]}}"#
            )
        };
        let message = "Names of key attributes and attributes projected into an index must be between 1 and 255 characters, inclusive";
        for bad in ["n".repeat(256), String::new()] {
            let r = call(
                s.addr,
                "DynamoDB_20120810.CreateTable",
                &create(&unique_name("proj"), &bad),
            )
            .await;
            assert_error(&r, 400, VALIDATION, Some(message));
        }
        call_ok(
            s.addr,
            "DynamoDB_20120810.CreateTable",
            &create(&unique_name("proj"), &"n".repeat(255)),
        )
        .await;
        s.stop().await;
    }
);

ddb_test!(document_paths_deeper_than_32_levels, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let t = create_pk_table(&c, "depth", None).await;
    let p32 = vec!["a"; 32].join(".");
    let p33 = vec!["a"; 33].join(".");
    let l33 = format!("a{}", "[0]".repeat(32));
    let depth = |kind: &str| {
        format!("Invalid {kind}: The document path has too many nesting levels; nesting levels: 33")
    };
    let key = r#""Key":{"pk":{"S":"p"}}"#;
    let values = r#""ExpressionAttributeValues":{":v":{"S":"p"}}"#;
    // 32 levels pass.
    call_ok(
        s.addr,
        "DynamoDB_20120810.GetItem",
        &format!(r#"{{"TableName":"{t}",{key},"ProjectionExpression":"{p32}"}}"#),
    )
    .await;
    for (op, body, kind) in [
        (
            "GetItem",
            format!(r#"{{"TableName":"{t}",{key},"ProjectionExpression":"{p33}"}}"#),
            "ProjectionExpression",
        ),
        (
            "GetItem",
            format!(r#"{{"TableName":"{t}",{key},"ProjectionExpression":"{l33}"}}"#),
            "ProjectionExpression",
        ),
        (
            "Query",
            format!(
                r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :v","FilterExpression":"{l33} = :v",{values}}}"#
            ),
            "FilterExpression",
        ),
        (
            "Scan",
            format!(r#"{{"TableName":"{t}","ProjectionExpression":"{p33}"}}"#),
            "ProjectionExpression",
        ),
        (
            "UpdateItem",
            format!(r#"{{"TableName":"{t}",{key},"UpdateExpression":"SET {p33} = :v",{values}}}"#),
            "UpdateExpression",
        ),
        (
            "UpdateItem",
            format!(
                r#"{{"TableName":"{t}",{key},"UpdateExpression":"SET a = :v","ConditionExpression":"attribute_exists({l33})",{values}}}"#
            ),
            "ConditionExpression",
        ),
    ] {
        let r = call(s.addr, &format!("DynamoDB_20120810.{op}"), &body).await;
        assert_error(&r, 400, VALIDATION, Some(&depth(kind)));
    }
    s.stop().await;
});

ddb_test!(query_expression_sizes, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let t = create_pk_table(&c, "exprsize", None).await;
    let values = r#""ExpressionAttributeValues":{":v":{"S":"p"}}"#;
    // "pk" + spaces + "= :v" at exactly 4096 bytes passes, 4097 fails, per expression.
    let kc = |len: usize| format!("pk{}= :v", " ".repeat(len - 6));
    call_ok(
        s.addr,
        "DynamoDB_20120810.Query",
        &format!(
            r#"{{"TableName":"{t}","KeyConditionExpression":"{}",{values}}}"#,
            kc(4096)
        ),
    )
    .await;
    let r = call(
        s.addr,
        "DynamoDB_20120810.Query",
        &format!(
            r#"{{"TableName":"{t}","KeyConditionExpression":"{}",{values}}}"#,
            kc(4097)
        ),
    )
    .await;
    assert_error(&r, 400, VALIDATION, Some("Invalid KeyConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"));
    let filter = |len: usize| format!("a{}= :v", " ".repeat(len - 5));
    call_ok(s.addr, "DynamoDB_20120810.Query", &format!(r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :v","FilterExpression":"{}",{values}}}"#, filter(4096))).await;
    let r = call(s.addr, "DynamoDB_20120810.Query", &format!(r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :v","FilterExpression":"{}",{values}}}"#, filter(4097))).await;
    assert_error(&r, 400, VALIDATION, Some("Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"));
    let projection = |len: usize| format!("a{}", " ".repeat(len - 1));
    call_ok(s.addr, "DynamoDB_20120810.Query", &format!(r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :v","ProjectionExpression":"{}",{values}}}"#, projection(4096))).await;
    let r = call(s.addr, "DynamoDB_20120810.Query", &format!(r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :v","ProjectionExpression":"{}",{values}}}"#, projection(4097))).await;
    assert_error(&r, 400, VALIDATION, Some("Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"));
    // Empty expressions.
    for (member, kind) in [
        ("FilterExpression", "FilterExpression"),
        ("ProjectionExpression", "ProjectionExpression"),
    ] {
        let r = call(
            s.addr,
            "DynamoDB_20120810.Query",
            &format!(
                r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :v","{member}":"",{values}}}"#
            ),
        )
        .await;
        assert_error(
            &r,
            400,
            VALIDATION,
            Some(&format!("Invalid {kind}: The expression can not be empty;")),
        );
    }
    s.stop().await;
});

ddb_test!(placeholders_are_at_most_255_bytes, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let t = create_pk_table(&c, "placeholders", None).await;
    let query = |name: &str, value: &str| {
        format!(
            r#"{{"TableName":"{t}","KeyConditionExpression":"{name} = {value}","ExpressionAttributeNames":{{"{name}":"pk"}},"ExpressionAttributeValues":{{"{value}":{{"S":"p"}}}}}}"#
        )
    };
    let (n255, v255) = (
        format!("#{}", "n".repeat(254)),
        format!(":{}", "v".repeat(254)),
    );
    let (n256, v256) = (
        format!("#{}", "n".repeat(255)),
        format!(":{}", "v".repeat(255)),
    );
    call_ok(s.addr, "DynamoDB_20120810.Query", &query(&n255, &v255)).await;
    let r = call(s.addr, "DynamoDB_20120810.Query", &query(&n256, &v255)).await;
    assert_error(&r, 400, VALIDATION, Some("ExpressionAttributeNames contains invalid key: The expression attribute map contains a key that is too long; size of key: 256"));
    let r = call(s.addr, "DynamoDB_20120810.Query", &query(&n255, &v256)).await;
    assert_error(&r, 400, VALIDATION, Some("ExpressionAttributeValues contains invalid key: The expression attribute map contains a key that is too long;"));
    // GetItem through the cache asks the upstream, which refuses.
    c.put_item()
        .table_name(&t)
        .item("pk", AttributeValue::S("p".into()))
        .send()
        .await
        .unwrap();
    let err = c
        .get_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("p".into()))
        .projection_expression(&n256)
        .expression_attribute_names(&n256, "pk")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).1, "ExpressionAttributeNames contains invalid key: The expression attribute map contains a key that is too long; size of key: 256");
    s.stop().await;
});
