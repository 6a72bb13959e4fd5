//! Engine-level tests of the item operations: behaviour, and the error catalogue of
//! docs/LIMITS.md A1–A3 (each limit at the value that passes and the first that fails) with
//! exact `__type` and message.

use serde_json::{json, Value};

use crate::wire::Operation;
use crate::{Engine, EngineConfig};

const VE: &str = "com.amazon.coral.validate#ValidationException";
const SE: &str = "com.amazon.coral.service#SerializationException";
const CCF: &str = "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException";
const RNF: &str = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException";

async fn engine() -> Engine {
    let e = Engine::open(EngineConfig::default()).unwrap();
    for (name, range, gsi) in [
        ("hash", None, false),
        ("range", Some("N"), false),
        ("idx", None, true),
    ] {
        let mut attrs = vec![json!({"AttributeName": "pk", "AttributeType": "S"})];
        let mut keys = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
        if let Some(t) = range {
            attrs.push(json!({"AttributeName": "sk", "AttributeType": t}));
            keys.push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
        }
        let mut body = json!({"TableName": name, "AttributeDefinitions": attrs, "KeySchema": keys,
            "BillingMode": "PAY_PER_REQUEST"});
        if gsi {
            body["AttributeDefinitions"]
                .as_array_mut()
                .unwrap()
                .push(json!({"AttributeName": "g", "AttributeType": "N"}));
            body["GlobalSecondaryIndexes"] = json!([{"IndexName": "gsi",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}]);
        }
        call(&e, Operation::CreateTable, body).await.unwrap();
    }
    e
}

async fn call(e: &Engine, op: Operation, body: Value) -> Result<Value, (String, String, Value)> {
    match e.call(op, &serde_json::to_vec(&body).unwrap()).await {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap()),
        Err(err) => {
            let full: Value = serde_json::from_slice(&err.to_body()).unwrap();
            Err((
                err.type_name(),
                err.message().unwrap_or_default().to_string(),
                full,
            ))
        }
    }
}

async fn ok(e: &Engine, op: Operation, body: Value) -> Value {
    call(e, op, body.clone())
        .await
        .unwrap_or_else(|err| panic!("{op:?} {body} failed: {err:?}"))
}

async fn err(e: &Engine, op: Operation, body: Value) -> (String, String) {
    match call(e, op, body.clone()).await {
        Ok(v) => panic!("{op:?} {body} unexpectedly answered {v}"),
        Err((t, m, _)) => (t, m),
    }
}

use Operation::{
    DeleteItem as Del, DescribeTable, GetItem as Get, PutItem as Put, UpdateItem as Upd,
};

#[tokio::test]
async fn put_then_get_returns_the_item_and_missing_items_answer_empty() {
    let e = engine().await;
    let item =
        json!({"pk": {"S": "a"}, "n": {"N": "1.50"}, "l": {"L": [{"S": ""}, {"NULL": true}]}});
    assert_eq!(
        ok(&e, Put, json!({"TableName": "hash", "Item": item})).await,
        json!({})
    );
    let got = ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}}),
    )
    .await;
    assert_eq!(got["Item"]["n"], json!({"N": "1.5"}));
    assert_eq!(got["Item"]["l"], item["l"]);
    let none = ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "b"}}}),
    )
    .await;
    assert_eq!(none, json!({}));
    // Projections, expression and legacy.
    let p = ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}},
        "ProjectionExpression": "#n, l[1]", "ExpressionAttributeNames": {"#n": "n"}}),
    )
    .await;
    assert_eq!(
        p["Item"],
        json!({"n": {"N": "1.5"}, "l": {"L": [{"NULL": true}]}})
    );
    let p = ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}, "AttributesToGet": ["pk"]}),
    )
    .await;
    assert_eq!(p["Item"], json!({"pk": {"S": "a"}}));
}

#[tokio::test]
async fn consumed_capacity_is_computed_as_dynamodb_does() {
    let e = engine().await;
    let big = "x".repeat(5000);
    let r = ok(
        &e,
        Put,
        json!({"TableName": "hash", "Item": {"pk": {"S": "a"}, "d": {"S": big}},
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(
        r["ConsumedCapacity"],
        json!({"TableName": "hash", "CapacityUnits": 5.0})
    );
    let r = ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}},
        "ReturnConsumedCapacity": "INDEXES"}),
    )
    .await;
    assert_eq!(
        r["ConsumedCapacity"],
        json!({"TableName": "hash", "CapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0}})
    );
    let r = ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}, "ConsistentRead": true,
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(r["ConsumedCapacity"]["CapacityUnits"], json!(2.0));
    let r = ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "zz"}},
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(
        r,
        json!({"ConsumedCapacity": {"TableName": "hash", "CapacityUnits": 0.5}})
    );
    // A small write replacing a big item costs the big item's units.
    let r = ok(
        &e,
        Put,
        json!({"TableName": "hash", "Item": {"pk": {"S": "a"}},
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(r["ConsumedCapacity"]["CapacityUnits"], json!(5.0));
    let r = ok(
        &e,
        Del,
        json!({"TableName": "hash", "Key": {"pk": {"S": "nope"}},
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(r["ConsumedCapacity"]["CapacityUnits"], json!(1.0));
}

#[tokio::test]
async fn conditions_return_values_and_the_old_item_on_failure() {
    let e = engine().await;
    let put = |v: &str, cond: Option<&str>| {
        let mut b = json!({"TableName": "hash", "Item": {"pk": {"S": "a"}, "v": {"S": v}}, "ReturnValues": "ALL_OLD"});
        if let Some(c) = cond {
            b["ConditionExpression"] = json!(c);
        }
        b
    };
    assert_eq!(
        ok(&e, Put, put("1", Some("attribute_not_exists(pk)"))).await,
        json!({})
    );
    assert_eq!(
        err(&e, Put, put("2", Some("attribute_not_exists(pk)"))).await,
        (CCF.into(), "The conditional request failed".into())
    );
    let mut b = put("2", Some("v = :x"));
    b["ExpressionAttributeValues"] = json!({":x": {"S": "nope"}});
    b["ReturnValuesOnConditionCheckFailure"] = json!("ALL_OLD");
    let (_, _, full) = call(&e, Put, b).await.unwrap_err();
    assert_eq!(full["Item"], json!({"pk": {"S": "a"}, "v": {"S": "1"}}));
    let r = ok(&e, Put, put("3", None)).await;
    assert_eq!(r["Attributes"], json!({"pk": {"S": "a"}, "v": {"S": "1"}}));
    // Legacy Expected.
    let mut b = put("4", None);
    b["Expected"] = json!({"v": {"Value": {"S": "3"}}, "w": {"Exists": false}});
    ok(&e, Put, b).await;
    let mut b = put("5", None);
    b["Expected"] = json!({"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]},
        "pk": {"ComparisonOperator": "NOT_NULL"}});
    b["ConditionalOperator"] = json!("OR");
    ok(&e, Put, b.clone()).await;
    b["ConditionalOperator"] = json!("AND");
    assert_eq!(err(&e, Put, b).await.0, CCF);
    // DeleteItem with a condition.
    let d = json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}, "ConditionExpression": "v = :v",
        "ExpressionAttributeValues": {":v": {"S": "5"}}, "ReturnValues": "ALL_OLD"});
    let r = ok(&e, Del, d.clone()).await;
    assert_eq!(r["Attributes"]["v"], json!({"S": "5"}));
    assert_eq!(err(&e, Del, d).await.0, CCF);
}

#[tokio::test]
async fn update_item_applies_expressions_and_legacy_updates() {
    let e = engine().await;
    let key = json!({"pk": {"S": "a"}, "sk": {"N": "1"}});
    let r = ok(&e, Upd, json!({"TableName": "range", "Key": key,
        "UpdateExpression": "SET c = if_not_exists(c, :z) + :one, l = list_append(:l, :l) ADD s :s",
        "ExpressionAttributeValues": {":z": {"N": "0"}, ":one": {"N": "1"}, ":l": {"L": [{"S": "x"}]},
            ":s": {"SS": ["p"]}},
        "ReturnValues": "ALL_NEW"})).await;
    assert_eq!(
        r["Attributes"],
        json!({"pk": {"S": "a"}, "sk": {"N": "1"}, "c": {"N": "1"},
        "l": {"L": [{"S": "x"}, {"S": "x"}]}, "s": {"SS": ["p"]}})
    );
    let r = ok(
        &e,
        Upd,
        json!({"TableName": "range", "Key": key, "UpdateExpression": "SET c = c + :one REMOVE l",
        "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "UPDATED_OLD"}),
    )
    .await;
    assert_eq!(
        r["Attributes"],
        json!({"c": {"N": "1"}, "l": {"L": [{"S": "x"}, {"S": "x"}]}})
    );
    let r = ok(
        &e,
        Upd,
        json!({"TableName": "range", "Key": key,
        "AttributeUpdates": {"c": {"Action": "ADD", "Value": {"N": "5"}}, "s": {"Action": "DELETE"},
            "t": {"Value": {"S": "new"}}},
        "ReturnValues": "UPDATED_NEW"}),
    )
    .await;
    assert_eq!(r["Attributes"], json!({"c": {"N": "7"}, "t": {"S": "new"}}));
    assert_eq!(
        err(&e, Upd, json!({"TableName": "range", "Key": key, "UpdateExpression": "SET pk = :v",
            "ExpressionAttributeValues": {":v": {"S": "b"}}})).await,
        (VE.into(), "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key".into())
    );
    assert_eq!(
        err(
            &e,
            Upd,
            json!({"TableName": "range", "Key": key, "UpdateExpression": "SET c = :v",
            "ConditionExpression": "c = :v", "ExpressionAttributeValues": {":v": {"N": "100"}}})
        )
        .await
        .0,
        CCF
    );
    // An update that creates a new item from its key.
    let r = ok(
        &e,
        Upd,
        json!({"TableName": "range", "Key": {"pk": {"S": "n"}, "sk": {"N": "2"}},
        "ReturnValues": "ALL_NEW"}),
    )
    .await;
    assert_eq!(r["Attributes"], json!({"pk": {"S": "n"}, "sk": {"N": "2"}}));
}

#[tokio::test]
async fn item_count_and_table_size_follow_every_write() {
    let e = engine().await;
    let stats = |e: Engine| async move {
        let d = ok(&e, DescribeTable, json!({"TableName": "hash"})).await;
        (
            d["Table"]["ItemCount"].clone(),
            d["Table"]["TableSizeBytes"].clone(),
        )
    };
    ok(
        &e,
        Put,
        json!({"TableName": "hash", "Item": {"pk": {"S": "a"}, "x": {"S": "abc"}}}),
    )
    .await;
    ok(
        &e,
        Put,
        json!({"TableName": "hash", "Item": {"pk": {"S": "b"}}}),
    )
    .await;
    assert_eq!(stats(e.clone()).await, (json!(2), json!(3 + 4 + 3)));
    ok(
        &e,
        Upd,
        json!({"TableName": "hash", "Key": {"pk": {"S": "b"}}, "UpdateExpression": "SET y = :v",
        "ExpressionAttributeValues": {":v": {"S": "zz"}}}),
    )
    .await;
    assert_eq!(stats(e.clone()).await, (json!(2), json!(3 + 4 + 3 + 3)));
    ok(
        &e,
        Del,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}}),
    )
    .await;
    ok(
        &e,
        Del,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}}),
    )
    .await;
    assert_eq!(stats(e.clone()).await, (json!(1), json!(3 + 3)));
}

/// The error catalogue: (operation, request, __type, exact message).
fn catalogue() -> Vec<(Operation, Value, &'static str, String)> {
    let k = json!({"pk": {"S": "a"}});
    let with = |extra: Value| {
        let mut b = json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}});
        for (key, v) in extra.as_object().unwrap() {
            b[key] = v.clone();
        }
        b
    };
    let item_of = |n: usize| json!({"pk": {"S": "a"}, "d": {"S": "x".repeat(n)}});
    vec![
        // A1: item size 409,600 passes, 409,601 fails (pk 2+1, d 1+n).
        (Put, json!({"TableName": "hash", "Item": item_of(409_597)}), VE,
            "Item size has exceeded the maximum allowed size".into()),
        (Upd, with(json!({"UpdateExpression": "SET d = :d", "ExpressionAttributeValues": {":d": {"S": "x".repeat(409_597)}}})), VE,
            "Item size to update has exceeded the maximum allowed size".into()),
        // A1: attribute values.
        (Put, json!({"TableName": "hash", "Item": {"pk": {"S": "a"}, "s": {"SS": []}}}), VE,
            "One or more parameter values were invalid: An string set  may not be empty".into()),
        (Put, json!({"TableName": "hash", "Item": {"pk": {"S": 5}}}), SE,
            "NUMBER_VALUE cannot be converted to String".into()),
        (Put, json!({"TableName": "hash", "Item": {"pk": {"S": "a"}, "n": {"N": format!("1{}", "0".repeat(37)) + "1"}}}), VE,
            "Attempting to store more than 38 significant digits in a Number".into()),
        (Put, json!({"TableName": "hash", "Item": {"pk": {"S": "a"}, "n": {"N": "1E-131"}}}), VE,
            "Number underflow. Attempting to store a number with magnitude smaller than supported range".into()),
        (Put, json!({"TableName": "hash", "Item": {"pk": {"S": "a"}, "n": {"N": "1E126"}}}), VE,
            "Number overflow. Attempting to store a number with magnitude larger than supported range".into()),
        (Upd, with(json!({"UpdateExpression": "SET n = :n", "ExpressionAttributeValues": {":n": {"N": "1E126"}}})), VE,
            "ExpressionAttributeValues contains invalid value: Number overflow. Attempting to store a number with magnitude larger than supported range for key :n".into()),
        // A2: keys.
        (Get, json!({"TableName": "range", "Key": k}), VE,
            "The provided key element does not match the schema".into()),
        (Get, json!({"TableName": "hash", "Key": {"pk": {"N": "1"}}}), VE,
            "The provided key element does not match the schema".into()),
        (Put, json!({"TableName": "hash", "Item": {"x": {"S": "a"}}}), VE,
            "One or more parameter values were invalid: Missing the key pk in the item".into()),
        (Put, json!({"TableName": "hash", "Item": {"pk": {"N": "1"}}}), VE,
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N".into()),
        (Put, json!({"TableName": "hash", "Item": {"pk": {"S": ""}}}), VE,
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk".into()),
        (Put, json!({"TableName": "hash", "Item": {"pk": {"S": "x".repeat(2049)}}}), VE,
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes".into()),
        (Get, json!({"TableName": "range", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "ConsistentRead": true, "ReturnConsumedCapacity": "x"}), VE,
            "1 validation error detected: Value 'x' at 'returnConsumedCapacity' failed to satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]".into()),
        (Put, json!({"TableName": "idx", "Item": {"pk": {"S": "a"}, "g": {"S": "1"}}}), VE,
            "One or more parameter values were invalid: Type mismatch for Index Key g Expected: N Actual: S IndexName: gsi".into()),
        (Upd, json!({"TableName": "range", "Key": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "UpdateExpression": "SET sk.x = :v",
            "ExpressionAttributeValues": {":v": {"S": "b"}}}), VE,
            "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: sk".into()),
        (Upd, json!({"TableName": "idx", "Key": k, "UpdateExpression": "SET g = :v",
            "ExpressionAttributeValues": {":v": {"S": "b"}}}), VE,
            "The update expression attempted to update the secondary index key to unsupported type".into()),
        // A3: expression parameters.
        (Put, json!({"TableName": "hash", "Item": k, "ConditionExpression": "attribute_exists(a)",
            "Expected": {"a": {"Exists": false}}}), VE,
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}".into()),
        (Upd, with(json!({"UpdateExpression": "SET a = :a", "AttributeUpdates": {"b": {"Action": "DELETE"}},
            "ExpressionAttributeValues": {":a": {"S": "x"}}})), VE,
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}".into()),
        (Get, with(json!({"ProjectionExpression": "a", "AttributesToGet": ["a"]})), VE,
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}".into()),
        (Get, with(json!({"ExpressionAttributeNames": {"#a": "a"}})), VE,
            "ExpressionAttributeNames can only be specified when using expressions".into()),
        (Del, with(json!({"ExpressionAttributeValues": {":a": {"S": "a"}}})), VE,
            "ExpressionAttributeValues can only be specified when using expressions: ConditionExpression is null".into()),
        (Upd, with(json!({"ExpressionAttributeValues": {":a": {"S": "a"}}})), VE,
            "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null".into()),
        (Get, with(json!({"ProjectionExpression": "a", "ExpressionAttributeNames": {}})), VE,
            "ExpressionAttributeNames must not be empty".into()),
        (Del, with(json!({"ConditionExpression": "a = :a", "ExpressionAttributeValues": {}})), VE,
            "ExpressionAttributeValues must not be empty".into()),
        (Get, with(json!({"ProjectionExpression": "a", "ExpressionAttributeNames": {"#a": "a", "#b": "b"}})), VE,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}".into()),
        (Del, with(json!({"ConditionExpression": "a = :a", "ExpressionAttributeValues": {":a": {"S": "a"}, ":b": {"S": "b"}}})), VE,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}".into()),
        (Del, with(json!({"ConditionExpression": "a = :c", "ExpressionAttributeValues": {":a": {"S": "a"}}})), VE,
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :c".into()),
        (Del, with(json!({"ConditionExpression": "a = :a", "ExpressionAttributeValues": {":a": {"N": "x"}}})), VE,
            "ExpressionAttributeValues contains invalid value: The parameter cannot be converted to a numeric value: x for key :a".into()),
        (Del, with(json!({"ConditionExpression": "a = :a", "ExpressionAttributeNames": {"a": "a"}})), VE,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\"".into()),
        (Put, json!({"TableName": "hash", "Item": k, "ConditionExpression": format!("a = {}", "b".repeat(4093))}), VE,
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097".into()),
        // ReturnValues per operation.
        (Put, json!({"TableName": "hash", "Item": k, "ReturnValues": "ALL_NEW"}), VE,
            "Return values set to invalid value".into()),
        (Del, with(json!({"ReturnValues": "UPDATED_OLD"})), VE,
            "Return values set to invalid value".into()),
        (Del, with(json!({"ReturnValues": "SOME"})), VE,
            "1 validation error detected: Value 'SOME' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]".into()),
        (Put, json!({"TableName": "hash", "Item": k, "ReturnValuesOnConditionCheckFailure": "ALL_NEW"}), VE,
            "1 validation error detected: Value 'ALL_NEW' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]".into()),
        // Legacy parameter rules.
        (Put, json!({"TableName": "hash", "Item": k, "Expected": {"a": {"Exists": true}}}), VE,
            "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: a".into()),
        (Put, json!({"TableName": "hash", "Item": k, "Expected": {"a": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}]}}}), VE,
            "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator".into()),
        (Upd, with(json!({"AttributeUpdates": {"a": {"Action": "PUT"}}})), VE,
            "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified".into()),
        (Upd, with(json!({"AttributeUpdates": {"a": {"Action": "ADD", "Value": {"S": "x"}}}})), VE,
            "One or more parameter values were invalid: ADD action is not supported for the type STRING".into()),
        (Get, with(json!({"AttributesToGet": ["a", "a"]})), VE,
            "One or more parameter values were invalid: Duplicate value in attribute name: a".into()),
        // Shape and envelope.
        (Put, json!({"TableName": "hash"}), VE,
            "1 validation error detected: Value null at 'item' failed to satisfy constraint: Member must not be null".into()),
        (Get, json!({"TableName": "hash", "Key": [k]}), SE,
            "Unrecognized collection type java.util.Map<java.lang.String, com.amazonaws.dynamodb.v20120810.AttributeValue>".into()),
        (Get, json!({"TableName": "nope", "Key": k}), RNF, "Requested resource not found".into()),
    ]
}

#[tokio::test]
async fn error_catalogue_exact_messages() {
    let e = engine().await;
    let mut failures = Vec::new();
    let rows = catalogue();
    for (op, body, ty, msg) in &rows {
        let got = call(&e, *op, body.clone()).await;
        match got {
            Err((t, m, _)) if t == *ty && m == *msg => {}
            other => failures.push(format!(
                "{op:?} {}\n   want {ty}: {msg}\n   got  {:?}",
                &body.to_string().chars().take(200).collect::<String>(),
                other
                    .map(|_| "OK")
                    .map_err(|(t, m, _)| (t, m.chars().take(300).collect::<String>()))
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn limits_pass_at_their_boundary() {
    let e = engine().await;
    let item = json!({"pk": {"S": "a"}, "d": {"S": "x".repeat(409_596)}});
    ok(&e, Put, json!({"TableName": "hash", "Item": item})).await;
    ok(
        &e,
        Put,
        json!({"TableName": "hash", "Item": {"pk": {"S": "x".repeat(2048)}}}),
    )
    .await;
    ok(
        &e,
        Put,
        json!({"TableName": "range", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}}),
    )
    .await;
    ok(
        &e,
        Put,
        json!({"TableName": "hash", "Item": {"pk": {"S": "c"}},
        "ConditionExpression": format!("a <> {}", "b".repeat(4091))}),
    )
    .await;
    ok(
        &e,
        Upd,
        json!({"TableName": "hash", "Key": {"pk": {"S": "b"}}, "UpdateExpression": "SET d = :d",
        "ExpressionAttributeValues": {":d": {"S": "x".repeat(409_596)}}}),
    )
    .await;
}

#[tokio::test]
async fn concurrent_counter_updates_are_serialized() {
    let e = engine().await;
    let mut handles = Vec::new();
    for _ in 0..40 {
        let e = e.clone();
        handles.push(tokio::spawn(async move {
            ok(&e, Upd, json!({"TableName": "hash", "Key": {"pk": {"S": "c"}},
                "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}))
            .await
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let got = ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "c"}}, "ConsistentRead": true}),
    )
    .await;
    assert_eq!(got["Item"]["n"], json!({"N": "40"}));
}

#[tokio::test]
async fn legacy_updates_and_expected_translate_to_the_same_semantics() {
    let e = engine().await;
    let key = json!({"pk": {"S": "a"}});
    ok(
        &e,
        Upd,
        json!({"TableName": "hash", "Key": key,
        "AttributeUpdates": {"l": {"Action": "ADD", "Value": {"L": [{"N": "1"}]}},
            "s": {"Action": "ADD", "Value": {"NS": ["1", "2"]}}}}),
    )
    .await;
    let r = ok(
        &e,
        Upd,
        json!({"TableName": "hash", "Key": key,
        "AttributeUpdates": {"l": {"Action": "ADD", "Value": {"L": [{"N": "2"}]}},
            "s": {"Action": "DELETE", "Value": {"NS": ["1"]}}},
        "Expected": {"s": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"N": "2"}]},
            "l": {"ComparisonOperator": "NOT_NULL"}},
        "ReturnValues": "ALL_NEW"}),
    )
    .await;
    assert_eq!(
        r["Attributes"],
        json!({"pk": {"S": "a"}, "l": {"L": [{"N": "1"}, {"N": "2"}]}, "s": {"NS": ["2"]}})
    );
    assert_eq!(
        err(&e, Upd, json!({"TableName": "hash", "Key": key,
            "AttributeUpdates": {"pk": {"Value": {"S": "b"}}}})).await.1,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    );
    assert_eq!(
        err(&e, Upd, json!({"TableName": "hash", "Key": key, "AttributeUpdates": {"x": {"Value": {"S": "b"}}},
            "Expected": {"s": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "7"}]}}})).await.0,
        CCF
    );
}

#[tokio::test]
async fn writes_to_a_deleted_table_are_not_found() {
    let e = engine().await;
    ok(
        &e,
        Put,
        json!({"TableName": "hash", "Item": {"pk": {"S": "a"}}}),
    )
    .await;
    ok(&e, Operation::DeleteTable, json!({"TableName": "hash"})).await;
    let item = json!({"TableName": "hash", "Item": {"pk": {"S": "a"}}});
    assert_eq!(
        err(&e, Put, item).await,
        (RNF.into(), "Requested resource not found".into())
    );
    let get = json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}});
    assert_eq!(err(&e, Get, get).await.0, RNF);
}

#[tokio::test]
async fn get_item_ignores_members_it_does_not_have() {
    let e = engine().await;
    ok(
        &e,
        Get,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}},
        "ExpressionAttributeValues": {":a": {"S": "x"}}}),
    )
    .await;
}
