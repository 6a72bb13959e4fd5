//! Helpers shared by the engine-level operation tests: an engine with a few tables, and
//! calls that answer JSON or the error's `__type`, message and full body.

use serde_json::{json, Value};

use crate::wire::Operation;
use crate::Engine;

pub const VE: &str = "com.amazon.coral.validate#ValidationException";
pub const RNF: &str = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException";
pub const TCE: &str = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException";
pub const IPM: &str = "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException";

/// Creates `hash` (pk S), `range` (pk S, sk N) and `lsi` (pk S, sk N, an LSI on l N).
pub async fn create_tables(e: &Engine) {
    for (name, range, lsi) in [
        ("hash", false, false),
        ("range", true, false),
        ("lsi", true, true),
    ] {
        let mut attrs = vec![json!({"AttributeName": "pk", "AttributeType": "S"})];
        let mut keys = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
        if range {
            attrs.push(json!({"AttributeName": "sk", "AttributeType": "N"}));
            keys.push(json!({"AttributeName": "sk", "KeyType": "RANGE"}));
        }
        let mut body = json!({"TableName": name, "AttributeDefinitions": attrs, "KeySchema": keys,
            "BillingMode": "PAY_PER_REQUEST"});
        if lsi {
            body["AttributeDefinitions"]
                .as_array_mut()
                .unwrap()
                .push(json!({"AttributeName": "l", "AttributeType": "N"}));
            body["LocalSecondaryIndexes"] = json!([{"IndexName": "lsi",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "l", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}]);
        }
        ok(e, Operation::CreateTable, body).await;
    }
}

pub async fn engine() -> Engine {
    let e = Engine::open(crate::EngineConfig::default()).unwrap();
    create_tables(&e).await;
    e
}

pub async fn call(
    e: &Engine,
    op: Operation,
    body: &Value,
) -> Result<Value, (String, String, Value)> {
    match e.call(op, &serde_json::to_vec(body).unwrap()).await {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap()),
        Err(err) => Err((
            err.type_name(),
            err.message().unwrap_or_default().to_string(),
            serde_json::from_slice(&err.to_body()).unwrap(),
        )),
    }
}

pub async fn ok(e: &Engine, op: Operation, body: Value) -> Value {
    call(e, op, &body)
        .await
        .unwrap_or_else(|err| panic!("{op:?} {} failed: {err:?}", short(&body)))
}

/// The error's `__type`, message and whole body.
pub async fn fail(e: &Engine, op: Operation, body: Value) -> (String, String, Value) {
    match call(e, op, &body).await {
        Ok(v) => panic!(
            "{op:?} {} unexpectedly answered {}",
            short(&body),
            short(&v)
        ),
        Err(x) => x,
    }
}

/// A string attribute value of `n` bytes.
pub fn big(n: usize) -> Value {
    json!({"S": "x".repeat(n)})
}

/// At most 300 characters of a JSON value, for panic messages.
fn short(v: &Value) -> String {
    v.to_string().chars().take(300).collect()
}
