//! UpdateExpression errors and semantics as DynamoDB answers them (issue K, part 2):
//! unknown and misplaced functions, undefined names, paths that do not fit the item,
//! SET past the end of a list, ADD/DELETE operand types, and updates that only remove
//! on a missing item. Sources: engine/docs/conformance-notes.md §2.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use daxlite_tests::{
    assert_error, call, call_ok, create_pk_table, ddb_test, error_parts, TestServer,
};

const VALIDATION: &str = "com.amazon.coral.validate#ValidationException";

/// An UpdateItem body on key `a` of `table` with `expr` and the extra members `rest`.
fn body(table: &str, expr: &str, rest: &str) -> String {
    format!(
        r#"{{"TableName":"{table}","Key":{{"pk":{{"S":"a"}}}},"UpdateExpression":"{expr}"{rest}}}"#
    )
}

ddb_test!(update_expression_errors, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let t = create_pk_table(&c, "upd-errors", None).await;
    call_ok(
        s.addr,
        "DynamoDB_20120810.PutItem",
        &format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"m":{{"M":{{"x":{{"N":"1"}}}}}},"l":{{"L":[{{"N":"1"}}]}},"n":{{"N":"5"}},"s":{{"S":"str"}},"ss":{{"SS":["a"]}}}}}}"#),
    )
    .await;
    let v1 = r#","ExpressionAttributeValues":{":v":{"N":"1"}}"#;
    let cases: Vec<(&str, String, &str)> = vec![
        ("SET x = foo(n)", String::new(), "Invalid UpdateExpression: Invalid function name; function: foo"),
        ("SET x = if_not_exists(if_not_exists(n, :v), :v)", v1.into(), "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"),
        ("SET x = size(n)", String::new(), "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"),
        ("SET #q = :v", v1.into(), "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #q"),
        ("SET m[0] = :v", v1.into(), "The document path provided in the update expression is invalid for update"),
        ("SET l.f = :v", v1.into(), "The document path provided in the update expression is invalid for update"),
        ("REMOVE l.f", String::new(), "The document path provided in the update expression is invalid for update"),
        ("ADD n :v", r#","ExpressionAttributeValues":{":v":{"S":"x"}}"#.into(), "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"),
        ("ADD n :v", r#","ExpressionAttributeValues":{":v":{"M":{}}}"#.into(), "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: MAP, typeSet: ALLOWED_FOR_ADD_OPERAND"),
        ("DELETE ss :v", r#","ExpressionAttributeValues":{":v":{"S":"a"}}"#.into(), "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: STRING, typeSet: ALLOWED_FOR_DELETE_OPERAND"),
        ("ADD s :v", v1.into(), "An operand in the update expression has an incorrect data type"),
        ("ADD ss :v", r#","ExpressionAttributeValues":{":v":{"NS":["1"]}}"#.into(), "An operand in the update expression has an incorrect data type"),
        ("DELETE n :v", r#","ExpressionAttributeValues":{":v":{"SS":["a"]}}"#.into(), "An operand in the update expression has an incorrect data type"),
        ("SET x = n + s", String::new(), "An operand in the update expression has an incorrect data type"),
    ];
    for (expr, rest, message) in cases {
        let r = call(
            s.addr,
            "DynamoDB_20120810.UpdateItem",
            &body(&t, expr, &rest),
        )
        .await;
        assert_error(&r, 400, VALIDATION, Some(message));
    }
    // The SDK sees the same error.
    let err = c
        .update_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("a".into()))
        .update_expression("ADD n :v")
        .expression_attribute_values(":v", AttributeValue::S("x".into()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        ("ValidationException".to_string(), "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND".to_string())
    );
    // Nothing was changed by the failed updates.
    let item = c
        .get_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("a".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item.len(), 6);
    s.stop().await;
});

ddb_test!(set_past_the_end_of_a_list_appends, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let t = create_pk_table(&c, "upd-append", None).await;
    c.put_item()
        .table_name(&t)
        .item("pk", AttributeValue::S("a".into()))
        .item("l", AttributeValue::L(vec![AttributeValue::N("1".into())]))
        .send()
        .await
        .unwrap();
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("a".into()))
        .update_expression("SET l[7] = :v, l[9] = :w")
        .expression_attribute_values(":v", AttributeValue::N("7".into()))
        .expression_attribute_values(":w", AttributeValue::N("9".into()))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.attributes().and_then(|a| a.get("l")),
        Some(&AttributeValue::L(vec![
            AttributeValue::N("1".into()),
            AttributeValue::N("7".into()),
            AttributeValue::N("9".into()),
        ]))
    );
    s.stop().await;
});

ddb_test!(updates_that_only_remove_create_nothing, |mode| async move {
    let s = TestServer::start(mode).await;
    let c = s.client();
    let t = create_pk_table(&c, "upd-missing", None).await;
    let get = |k: &'static str| {
        let c = c.clone();
        let t = t.clone();
        async move {
            c.get_item()
                .table_name(&t)
                .key("pk", AttributeValue::S(k.into()))
                .consistent_read(true)
                .send()
                .await
                .unwrap()
                .item
        }
    };
    // REMOVE on a missing item: no item, no attributes returned.
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("r".into()))
        .update_expression("REMOVE x, y.z")
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(out.attributes, None);
    assert_eq!(get("r").await, None);
    // The legacy DELETE action (no value) and DELETE of set members: the same.
    let r = call(
        s.addr,
        "DynamoDB_20120810.UpdateItem",
        &format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"d"}}}},"AttributeUpdates":{{"a":{{"Action":"DELETE"}}}},"ReturnValues":"ALL_NEW"}}"#),
    )
    .await;
    assert_eq!((r.status, r.json()), (200, serde_json::json!({})));
    assert_eq!(get("d").await, None);
    let r = call(
        s.addr,
        "DynamoDB_20120810.UpdateItem",
        &format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"e"}}}},"UpdateExpression":"DELETE s :v","ExpressionAttributeValues":{{":v":{{"SS":["q"]}}}}}}"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(get("e").await, None);
    // An update with nothing to do creates the bare key (DynamoDB does).
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("n".into()))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.attributes().and_then(|a| a.get("pk")),
        Some(&AttributeValue::S("n".into()))
    );
    assert!(get("n").await.is_some());
    // On an existing item REMOVE works as usual.
    c.put_item()
        .table_name(&t)
        .item("pk", AttributeValue::S("x".into()))
        .item("a", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("x".into()))
        .update_expression("REMOVE a")
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(out.attributes().map(|a| a.len()), Some(1));
    s.stop().await;
});
