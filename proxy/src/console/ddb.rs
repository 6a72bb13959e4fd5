//! The console's DynamoDB calls: JSON in, JSON or DynamoDB's error out, through the
//! same [`Upstream`] as every client request (so the console sees what clients see, over
//! the embedded engine or a remote upstream, with the cache in front when it is on).

use bytes::Bytes;
use daxlite_engine::wire::Operation;
use serde_json::Value;

use crate::upstream::{Request, Upstream};

/// DynamoDB's error answer, kept exactly as the upstream sent it.
#[derive(Debug, Clone)]
pub struct DdbError {
    /// `__type` as sent (`com.amazon.coral.validate#ValidationException`).
    pub code: String,
    pub message: String,
}

impl DdbError {
    /// The error type without its namespace (`ValidationException`).
    pub fn short(&self) -> &str {
        self.code.rsplit('#').next().unwrap_or(&self.code)
    }

    pub fn html(&self) -> String {
        super::page::error_box(&self.code, &self.message)
    }
}

/// Calls `op` with `body`; the parsed answer, or the error as DynamoDB sent it.
pub async fn call<U: Upstream>(up: &U, op: Operation, body: &Value) -> Result<Value, DdbError> {
    let bytes = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
    let reply = up.call(Request { op, body: bytes }).await;
    let parsed: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    if reply.is_success() {
        return Ok(parsed);
    }
    let field = |k: &str| parsed.get(k).and_then(Value::as_str).map(str::to_string);
    Err(DdbError {
        code: field("__type").unwrap_or_else(|| format!("HTTP {}", reply.status)),
        message: field("message")
            .or_else(|| field("Message"))
            .unwrap_or_default(),
    })
}

/// `DescribeTable`'s `Table`.
pub async fn describe<U: Upstream>(up: &U, table: &str) -> Result<Value, DdbError> {
    let v = call(
        up,
        Operation::DescribeTable,
        &serde_json::json!({ "TableName": table }),
    )
    .await?;
    Ok(v.get("Table").cloned().unwrap_or(Value::Null))
}

/// The key attribute names of a table description: (partition, sort).
pub fn key_names(desc: &Value) -> (String, Option<String>) {
    key_names_of(desc.get("KeySchema"))
}

/// The (partition, sort) names of a `KeySchema` list.
pub fn key_names_of(schema: Option<&Value>) -> (String, Option<String>) {
    let mut hash = String::new();
    let mut range = None;
    for k in schema.and_then(Value::as_array).into_iter().flatten() {
        let name = k
            .get("AttributeName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match k.get("KeyType").and_then(Value::as_str) {
            Some("HASH") => hash = name,
            Some("RANGE") => range = Some(name),
            _ => {}
        }
    }
    (hash, range)
}

/// The declared type (`S`, `N`, `B`) of a key attribute.
pub fn attr_type<'a>(desc: &'a Value, name: &str) -> &'a str {
    desc.get("AttributeDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|d| d.get("AttributeName").and_then(Value::as_str) == Some(name))
        .and_then(|d| d.get("AttributeType").and_then(Value::as_str))
        .unwrap_or("S")
}

/// An item's key (the key attributes only) as DynamoDB JSON.
pub fn key_of(desc: &Value, item: &Value) -> Value {
    let (hash, range) = key_names(desc);
    let mut key = serde_json::Map::new();
    for name in std::iter::once(hash).chain(range) {
        if let Some(v) = item.get(&name) {
            key.insert(name, v.clone());
        }
    }
    Value::Object(key)
}
