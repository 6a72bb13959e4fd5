//! TransactGetItems and TransactWriteItems (docs/LIMITS.md A5), and what they share: the
//! TransactionCanceledException with its `CancellationReasons`, the 100-action and 4 MB
//! limits, and the "multiple operations on one item" check.
//!
//! Isolation: every TransactWriteItems runs as one closure inside the single writer's
//! group commit (all conditions evaluated, then all writes applied), and every
//! TransactGetItems reads one MVCC snapshot. Nothing is ever "in flight" between two
//! requests, so transactions are serializable by construction and neither
//! TransactionConflictException nor a `TransactionConflict` reason can arise; likewise a
//! replay of a ClientRequestToken always runs after the original has finished, so
//! TransactionInProgressException cannot arise either.

mod get;
mod parse;
mod write;

#[cfg(test)]
mod tests;

pub use get::transact_get_items;
pub use write::transact_write_items;

use serde_json::{json, Value};

use crate::model::Item;
use crate::wire::{ApiError, ApiResult, ErrorCode};

/// The most actions in one transaction (25 before September 2022).
pub const MAX_ACTIONS: usize = 100;
/// The most bytes of items one transaction may carry or return.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// DynamoDB's text for a transaction over 4 MB, as applications log it (issue K's
/// research, engine/docs/conformance-notes.md §9; DynamoDB Local: "Transaction payload
/// size cannot exceed 4MB. Payload Size: <n>"). TransactGetItems answers the same
/// *(guess)*.
const TOO_BIG: &str = "Transaction request cannot be larger than 4 MB";

pub(crate) fn too_big() -> ApiError {
    ApiError::validation(TOO_BIG)
}

/// [DNX], [ALT] `one item`.
/// A ClientRequestToken reused with other parameters within its window (guessed wording;
/// the error name is DynamoDB's). TransactWriteItems and ExecuteTransaction share it.
pub(crate) fn parameter_mismatch() -> ApiError {
    ApiError::new(
        ErrorCode::IdempotentParameterMismatchException,
        "Request parameters do not match the original request with the same ClientRequestToken",
    )
}

pub(crate) fn multiple_operations() -> ApiError {
    ApiError::validation("Transaction request cannot include multiple operations on one item")
}

/// Why one action of a cancelled transaction failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    None,
    ConditionalCheckFailed(Option<Item>),
    ValidationError(String),
    /// A PartiQL INSERT of a key that exists.
    DuplicateItem,
    /// Throttled (`capacity`): ProvisionedThroughputExceeded or ThrottlingError.
    Throttled {
        code: &'static str,
        message: &'static str,
    },
}

impl Reason {
    fn code(&self) -> &'static str {
        match self {
            Reason::None => "None",
            Reason::ConditionalCheckFailed(_) => "ConditionalCheckFailed",
            Reason::ValidationError(_) => "ValidationError",
            Reason::DuplicateItem => "DuplicateItem",
            Reason::Throttled { code, .. } => code,
        }
    }

    fn to_json(&self) -> ApiResult<Value> {
        Ok(match self {
            Reason::None => json!({"Code": "None"}),
            Reason::ConditionalCheckFailed(None) => json!({
                "Code": "ConditionalCheckFailed",
                "Message": "The conditional request failed"}),
            Reason::ConditionalCheckFailed(Some(item)) => json!({
                "Item": serde_json::to_value(item).map_err(crate::storage::internal)?,
                "Code": "ConditionalCheckFailed",
                "Message": "The conditional request failed"}),
            Reason::ValidationError(m) => json!({"Code": "ValidationError", "Message": m}),
            Reason::Throttled { code, message } => json!({"Code": code, "Message": message}),
            Reason::DuplicateItem => json!({
                "Code": "DuplicateItem",
                "Message": "Duplicate primary key exists in table"}),
        })
    }
}

/// TransactionCanceledException: one reason per action, in request order ([DNX] message).
pub fn cancelled(reasons: &[Reason]) -> ApiError {
    let codes: Vec<&str> = reasons.iter().map(Reason::code).collect();
    let list: Vec<Value> = reasons
        .iter()
        .map(|r| r.to_json().unwrap_or_else(|_| json!({"Code": r.code()})))
        .collect();
    ApiError::new(
        ErrorCode::TransactionCanceledException,
        format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
    )
    .with_extra("CancellationReasons", Value::Array(list))
}

/// The cancellation for an item-level validation error at action `index` of `n`: that
/// action carries the message, every other action `None` (validation stops there).
pub fn validation_cancel(n: usize, index: usize, e: &ApiError) -> ApiError {
    let reasons: Vec<Reason> = (0..n)
        .map(|i| {
            if i == index {
                Reason::ValidationError(e.message().unwrap_or_default().to_string())
            } else {
                Reason::None
            }
        })
        .collect();
    cancelled(&reasons)
}

/// Checks the `transactItems` list itself: present, 1..=100 actions.
pub fn check_items_length(v: &mut crate::wire::shape::Violations, raw: Option<&Value>, len: usize) {
    let Some(raw) = raw else {
        v.not_null("transactItems");
        return;
    };
    let shown = crate::api::batch::java_text(raw);
    if len < 1 {
        v.push(
            Some(&shown),
            "transactItems",
            "Member must have length greater than or equal to 1",
        );
    }
    if len > MAX_ACTIONS {
        v.push(
            Some(&shown),
            "transactItems",
            "Member must have length less than or equal to 100",
        );
    }
}

/// Errors that cancel the whole request rather than become a reason.
fn is_request_level(e: &ApiError) -> bool {
    !matches!(
        e.code(),
        ErrorCode::ValidationException | ErrorCode::ConditionalCheckFailedException
    )
}
