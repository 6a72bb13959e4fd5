//! PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction
//! (spec: `docs/spec/PARTIQL.md`). The language — `lexer`, `parser` (depth-bounded
//! recursive descent) into `ast` — is bound to values and to the engine's condition and
//! update ASTs (`bind`), planned onto GetItem / Query / Scan reads (`plan`, `read`) or
//! one `WriteSpec` for the one write path (`prepare`), and run by the three operations
//! (`execute`, `batch`, `transaction`).

pub mod ast;
mod batch;
pub mod bind;
mod execute;
pub mod lexer;
mod parsed_cache;
pub mod parser;
pub mod plan;
pub mod prepare;
pub mod read;
pub mod reserved;
mod transaction;

#[cfg(test)]
mod tests;

pub use batch::batch_execute_statement;
pub use execute::execute_statement;
pub use parsed_cache::parse as parse_cached;
pub use transaction::execute_transaction;

use serde_json::Value;

use crate::model::value::{decode_value, Deferred};
use crate::model::AttributeValue;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};

pub type PResult<T> = Result<T, ApiError>;

/// The longest statement DynamoDB accepts, in characters.
pub const MAX_STATEMENT_CHARS: usize = 8192;

/// "Statement wasn't well formed, can't be processed: <detail>".
pub fn parse_error(detail: &str) -> ApiError {
    ApiError::validation(format!(
        "Statement wasn't well formed, can't be processed: {detail}"
    ))
}

/// One statement of a request: its text and parameters, as sent.
pub struct StatementIn<'a> {
    pub text: Option<&'a str>,
    pub params: Vec<AttributeValue>,
    /// The parameters as sent (NextToken and idempotency hashes).
    pub raw_params: Vec<Value>,
    pub consistent: bool,
    pub on_failure: Option<&'a str>,
}

/// Reads `Statement`, `Parameters`, `ConsistentRead` and
/// `ReturnValuesOnConditionCheckFailure` of one statement object; constraint errors go
/// to `v` under `prefix` (e.g. `statements.1.member.`), value errors to `deferred`.
pub fn read_statement<'a>(
    o: Obj<'a>,
    prefix: &str,
    v: &mut Violations,
    deferred: &mut Deferred,
) -> ApiResult<StatementIn<'a>> {
    let text = o.str("Statement")?;
    let list = o.list("Parameters")?;
    let consistent = o.bool("ConsistentRead")?.unwrap_or(false);
    let on_failure = o.str("ReturnValuesOnConditionCheckFailure")?;
    let mut params = Vec::new();
    let mut raw_params = Vec::new();
    if let Some(list) = list {
        for p in list {
            params.push(decode_value(p, deferred)?);
            raw_params.push(p.clone());
        }
    }
    match text {
        None => v.not_null(&format!("{prefix}statement")),
        Some(t) => v.length(t, &format!("{prefix}statement"), 1, MAX_STATEMENT_CHARS),
    }
    if let Some(list) = list {
        if list.is_empty() {
            v.push(
                Some("[]"),
                &format!("{prefix}parameters"),
                "Member must have length greater than or equal to 1",
            );
        }
    }
    if let Some(f) = on_failure {
        v.enum_value(
            f,
            &format!("{prefix}returnValuesOnConditionCheckFailure"),
            &["ALL_OLD", "NONE"],
        );
    }
    Ok(StatementIn {
        text,
        params,
        raw_params,
        consistent,
        on_failure,
    })
}

/// Parses a statement (once per text: `parsed_cache`) and checks it has enough
/// parameters.
pub fn parse_with_params(
    text: &str,
    params: &[AttributeValue],
) -> ApiResult<std::sync::Arc<ast::Parsed>> {
    let parsed = parsed_cache::parse(text)?;
    if parsed.params > params.len() {
        return Err(ApiError::validation(
            "Number of parameters in request and statement don't match.",
        ));
    }
    Ok(parsed)
}
