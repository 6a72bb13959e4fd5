//! Legacy parameters and expression operand checks as DynamoDB answers them (issue K,
//! part 2): KeyConditions next to FilterExpression / ProjectionExpression, the
//! QueryFilter / ScanFilter / Expected operators on binaries, sets and wrong types, the
//! `contains` / `size` / `attribute_type` operand checks, and FilterExpression errors when
//! no item is read. Sources: engine/docs/conformance-notes.md §3.

use aws_sdk_dynamodb::types::{AttributeValue, ComparisonOperator, Condition, ScalarAttributeType};
use daxlite_tests::{
    assert_error, call, call_ok, create_pk_table, ddb_test, error_parts, TestServer,
};

const VALIDATION: &str = "com.amazon.coral.validate#ValidationException";

fn b64(bytes: &[u8]) -> aws_smithy_types::Blob {
    aws_smithy_types::Blob::new(bytes.to_vec())
}

ddb_test!(
    key_conditions_go_with_filter_and_projection_expressions,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let t = create_pk_table(&c, "kc-mix", Some(ScalarAttributeType::N)).await;
        for (sk, n) in [("1", "5"), ("2", "0")] {
            c.put_item()
                .table_name(&t)
                .item("pk", AttributeValue::S("a".into()))
                .item("sk", AttributeValue::N(sk.into()))
                .item("n", AttributeValue::N(n.into()))
                .item("other", AttributeValue::S("x".into()))
                .send()
                .await
                .unwrap();
        }
        let eq_a = Condition::builder()
            .comparison_operator(ComparisonOperator::Eq)
            .attribute_value_list(AttributeValue::S("a".into()))
            .build()
            .unwrap();
        let out = c
            .query()
            .table_name(&t)
            .key_conditions("pk", eq_a.clone())
            .filter_expression("n > :v")
            .projection_expression("sk, #n")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":v", AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap();
        assert_eq!((out.count, out.scanned_count), (1, 2));
        let item = &out.items()[0];
        assert_eq!(item.len(), 2);
        assert_eq!(item.get("n"), Some(&AttributeValue::N("5".into())));
        // Within one role the two styles still may not mix.
        let err = c
            .query()
            .table_name(&t)
            .key_conditions("pk", eq_a.clone())
            .key_condition_expression("pk = :a")
            .expression_attribute_values(":a", AttributeValue::S("a".into()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
        error_parts(&err),
        ("ValidationException".to_string(), "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}".to_string())
    );
        let err = c
            .query()
            .table_name(&t)
            .key_conditions("pk", eq_a)
            .query_filter(
                "n",
                Condition::builder()
                    .comparison_operator(ComparisonOperator::Gt)
                    .attribute_value_list(AttributeValue::N("1".into()))
                    .build()
                    .unwrap(),
            )
            .filter_expression("n > :v")
            .expression_attribute_values(":v", AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
        error_parts(&err),
        ("ValidationException".to_string(), "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {QueryFilter} Expression parameters: {FilterExpression}".to_string())
    );
        s.stop().await;
    }
);

ddb_test!(
    legacy_operators_on_binaries_sets_and_wrong_types,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let t = create_pk_table(&c, "legacy-ops", None).await;
        c.put_item()
            .table_name(&t)
            .item("pk", AttributeValue::S("a".into()))
            .item("b", AttributeValue::B(b64(&[1, 2, 3])))
            .item("bs", AttributeValue::Bs(vec![b64(&[1]), b64(&[2])]))
            .item("ss", AttributeValue::Ss(vec!["x".into(), "y".into()]))
            .item("n", AttributeValue::N("5".into()))
            .send()
            .await
            .unwrap();
        let scan = |attr: &str, op: &str, list: &str| {
            format!(
                r#"{{"TableName":"{t}","ScanFilter":{{"{attr}":{{"ComparisonOperator":"{op}","AttributeValueList":[{list}]}}}}}}"#
            )
        };
        // CONTAINS / NOT_CONTAINS: a binary holds a sub-sequence; sets hold members.
        for (attr, op, list, count) in [
            ("b", "CONTAINS", r#"{"B":"Ag=="}"#, 1),
            ("b", "CONTAINS", r#"{"B":"Aw=="}"#, 1),
            ("b", "CONTAINS", r#"{"B":"BA=="}"#, 0),
            ("b", "NOT_CONTAINS", r#"{"B":"Ag=="}"#, 0),
            ("bs", "CONTAINS", r#"{"B":"AQ=="}"#, 1),
            ("bs", "NOT_CONTAINS", r#"{"B":"AQ=="}"#, 0),
            ("bs", "NOT_CONTAINS", r#"{"B":"Aw=="}"#, 1),
            ("ss", "CONTAINS", r#"{"S":"x"}"#, 1),
            ("ss", "NOT_CONTAINS", r#"{"S":"z"}"#, 1),
            ("n", "IN", r#"{"N":"4"},{"N":"5"}"#, 1),
            ("n", "BETWEEN", r#"{"N":"5"},{"N":"5"}"#, 1),
        ] {
            let r = call_ok(s.addr, "DynamoDB_20120810.Scan", &scan(attr, op, list)).await;
            assert_eq!(r.json()["Count"], count, "{attr} {op} {list}");
        }
        let invalid = |op: &str, t: &str| {
            format!("One or more parameter values were invalid: ComparisonOperator {op} is not valid for {t} AttributeValue type")
        };
        for (op, list, message) in [
        ("CONTAINS", r#"{"SS":["x"]}"#, invalid("CONTAINS", "SS")),
        ("NOT_CONTAINS", r#"{"L":[]}"#, invalid("NOT_CONTAINS", "L")),
        ("IN", r#"{"SS":["5"]}"#, invalid("IN", "SS")),
        ("IN", r#"{"N":"5"},{"S":"x"}"#, "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type".into()),
        ("BEGINS_WITH", r#"{"N":"5"}"#, invalid("BEGINS_WITH", "N")),
        ("GT", r#"{"BOOL":true}"#, invalid("GT", "BOOL")),
        ("BETWEEN", r#"{"M":{}},{"M":{}}"#, invalid("BETWEEN", "M")),
        ("BETWEEN", r#"{"N":"1"},{"S":"9"}"#, "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type".into()),
        ("BETWEEN", r#"{"N":"9"},{"N":"1"}"#, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound".into()),
    ] {
        let r = call(s.addr, "DynamoDB_20120810.Scan", &scan("n", op, list)).await;
        assert_error(&r, 400, VALIDATION, Some(&message));
        // QueryFilter and Expected check the same way.
        let r = call(
            s.addr,
            "DynamoDB_20120810.PutItem",
            &format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"z"}}}},"Expected":{{"n":{{"ComparisonOperator":"{op}","AttributeValueList":[{list}]}}}}}}"#),
        )
        .await;
        assert_error(&r, 400, VALIDATION, Some(&message));
    }
        // KeyConditions too.
        let t2 = create_pk_table(&c, "legacy-kc", Some(ScalarAttributeType::N)).await;
        for (op, list, message) in [
        ("BETWEEN", r#"{"N":"9"},{"N":"1"}"#, "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound".to_string()),
        ("BEGINS_WITH", r#"{"N":"9"}"#, invalid("BEGINS_WITH", "N")),
    ] {
        let r = call(
            s.addr,
            "DynamoDB_20120810.Query",
            &format!(r#"{{"TableName":"{t2}","KeyConditions":{{"pk":{{"ComparisonOperator":"EQ","AttributeValueList":[{{"S":"a"}}]}},"sk":{{"ComparisonOperator":"{op}","AttributeValueList":[{list}]}}}}}}"#),
        )
        .await;
        assert_error(&r, 400, VALIDATION, Some(&message));
    }
        // The SDK sees the same.
        let err = c
            .scan()
            .table_name(&t)
            .scan_filter(
                "n",
                Condition::builder()
                    .comparison_operator(ComparisonOperator::BeginsWith)
                    .attribute_value_list(AttributeValue::N("5".into()))
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
                invalid("BEGINS_WITH", "N")
            )
        );
        s.stop().await;
    }
);

ddb_test!(
    expression_operand_checks_even_when_nothing_is_read,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let t = create_pk_table(&c, "expr-ops", None).await;
        let op_type = |f: &str, t: &str| {
            format!("Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: {f}, operand type: {t}")
        };
        let cases: Vec<(&str, &str, String)> = vec![
        ("attribute_type(n, :v)", r#"{":v":{"N":"1"}}"#, op_type("attribute_type", "N")),
        ("attribute_type(n, :v)", r#"{":v":{"S":"XX"}}"#, "Invalid FilterExpression: Invalid attribute type name found; type: XX, valid types: {N,BS,L,B,NULL,M,S,SS,NS,BOOL}".into()),
        ("size(:v) > :w", r#"{":v":{"N":"1"},":w":{"N":"1"}}"#, op_type("size", "N")),
        ("size(:v) > :w", r#"{":v":{"BOOL":true},":w":{"N":"1"}}"#, op_type("size", "BOOL")),
        ("begins_with(n, :v)", r#"{":v":{"N":"1"}}"#, op_type("begins_with", "N")),
        ("n BETWEEN :a AND :b", r#"{":a":{"N":"9"},":b":{"N":"1"}}"#, "Invalid FilterExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:9}, upper bound operand: AttributeValue: {N:1}".into()),
    ];
        // The table is empty, and the Query's key matches nothing: the errors still come.
        for (expr, values, message) in &cases {
            let r = call(
            s.addr,
            "DynamoDB_20120810.Scan",
            &format!(r#"{{"TableName":"{t}","FilterExpression":"{expr}","ExpressionAttributeValues":{values}}}"#),
        )
        .await;
            assert_error(&r, 400, VALIDATION, Some(message));
            let mut vals: serde_json::Value = serde_json::from_str(values).unwrap();
            vals[":k"] = serde_json::json!({"S": "nothing"});
            let r = call(
            s.addr,
            "DynamoDB_20120810.Query",
            &format!(r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :k","FilterExpression":"{expr}","ExpressionAttributeValues":{vals}}}"#),
        )
        .await;
            assert_error(&r, 400, VALIDATION, Some(message));
        }
        // contains(): a string set holds a member, a binary holds a sub-sequence.
        c.put_item()
            .table_name(&t)
            .item("pk", AttributeValue::S("a".into()))
            .item("b", AttributeValue::B(b64(&[1, 2, 3])))
            .send()
            .await
            .unwrap();
        let out = c
            .scan()
            .table_name(&t)
            .filter_expression("contains(b, :v)")
            .expression_attribute_values(":v", AttributeValue::B(b64(&[2, 3])))
            .send()
            .await
            .unwrap();
        assert_eq!(out.count, 1);
        let r = call(
            s.addr,
            "DynamoDB_20120810.Scan",
            &format!(r#"{{"TableName":"{t}","FilterExpression":"contains(b, b)"}}"#),
        )
        .await;
        assert_error(&r, 400, VALIDATION, Some("Invalid FilterExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [b]"));
        s.stop().await;
    }
);
