//! BatchGetItem and BatchWriteItem, and what they share: the envelope checks of a
//! `RequestItems` map (table names as map keys), duplicate-key signatures, and the
//! per-table ConsumedCapacity list.
//!
//! Messages: dynalite `validations/batchGetItem.js` / `batchWriteItem.js` (captured from
//! DynamoDB), docs/LIMITS.md A4; the shown map values (`'{t=[…]}'`) imitate the Java
//! `toString` DynamoDB prints and are approximate.

mod get;
mod write;

#[cfg(test)]
mod tests;

pub use get::batch_get_item;
pub use write::batch_write_item;

use serde_json::{json, Value};

use super::item::params::CapacityMode;
use crate::model::keycodec::encode_key_value;
use crate::model::Item;
use crate::wire::shape::{is_valid_name_chars, Violations, NAME_PATTERN};
use crate::wire::{ApiError, ApiResult};

/// The most keys one BatchGetItem may name.
pub const MAX_GET_KEYS: usize = 100;
/// The most Put/Delete requests one BatchWriteItem may carry.
pub const MAX_WRITE_REQUESTS: usize = 25;
/// The most item bytes one BatchGetItem answers with; the rest is UnprocessedKeys.
pub const MAX_GET_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// A JSON value the way DynamoDB's Java front end prints it in "Value '…'" (approximate:
/// objects as `{k=v, …}`, lists as `[…]`, strings bare).
pub fn java_text(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", java_text(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Array(a) => {
            let inner: Vec<String> = a.iter().map(java_text).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The checks on the `requestItems` map itself: present, not empty, valid table names.
/// An empty map is rejected on its own, before every constraint, with DynamoDB's
/// "The requestItems parameter is required for <op>" (dynalite's captures; the issue's
/// real-DynamoDB text). Returns whether the map can be looked into.
pub fn check_request_items(
    v: &mut Violations,
    raw: Option<&Value>,
    names: &[&str],
    op: &str,
) -> ApiResult<bool> {
    let Some(raw) = raw else {
        v.not_null("requestItems");
        return Ok(false);
    };
    if names.is_empty() && raw.is_object() {
        return Err(ApiError::validation(format!(
            "The requestItems parameter is required for {op}"
        )));
    }
    let shown = java_text(raw);
    let bad_name = names
        .iter()
        .any(|n| !is_valid_name_chars(n) || n.chars().count() < 3 || n.chars().count() > 255);
    if bad_name {
        v.push(
            Some(&shown),
            "requestItems",
            format!(
                "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: {NAME_PATTERN}]"
            ),
        );
    }
    Ok(true)
}

/// A byte string equal for two keys exactly when DynamoDB calls them the same key:
/// attributes by name, S/N/B by value (numbers by numeric value: "1" = "1.0").
pub fn key_signature(key: &Item) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in key {
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value.type_name().as_bytes());
        out.push(0);
        if !encode_key_value(value, &mut out) {
            out.extend_from_slice(&crate::model::value::item_to_json_bytes(&Item::from([(
                String::new(),
                value.clone(),
            )])));
        }
        out.push(0xFF);
    }
    out
}

/// ConsumedCapacity of a multi-table operation: one entry per table, in request order,
/// or `None` when not asked for.
pub fn capacity_list(mode: CapacityMode, per_table: &[(String, f64)]) -> Option<Value> {
    if mode == CapacityMode::None {
        return None;
    }
    let list: Vec<Value> = per_table
        .iter()
        .filter_map(|(t, u)| super::item::capacity::consumed(mode, t, *u))
        .collect();
    Some(json!(list))
}
