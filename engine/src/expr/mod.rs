//! DynamoDB's expression languages — ConditionExpression, FilterExpression,
//! KeyConditionExpression, ProjectionExpression and UpdateExpression — as one pipeline:
//! length check → lex → parse (one AST, `ast`) → syntax-level validation → resolution of
//! `#name`/`:value` placeholders (`Resolver`) → resolved-level validation → evaluation.
//!
//! How an operation uses it (errors are `ApiError` ValidationExceptions carrying
//! DynamoDB's exact text, already prefixed "Invalid <Kind>Expression: "):
//!
//! ```ignore
//! let mut r = Resolver::new(request_names_in_order, request_value_keys_in_order);
//! let mut update = parse_update(src)?;           // length, syntax, reserved words, ...
//! r.resolve_update(&mut update)?;               // #names, :values, path overlap, ...
//! let mut cond = parse_condition(cond_src, ExprKind::Condition)?;
//! r.resolve_condition(&mut cond, ExprKind::Condition)?;
//! r.finish()?;                                   // unused names, then unused values
//! ```
//!
//! Parse the expressions in DynamoDB's order (Update, Condition, KeyCondition, Filter,
//! Projection) so the first error reported is the one DynamoDB reports.

pub mod ast;
pub mod eval;
pub mod lexer;
pub mod parser;
pub mod printer;
pub mod reserved;
pub mod resolve;
pub mod validate;

#[cfg(test)]
mod tests;

pub use ast::{Clause, Condition, Operand, Path, PathElem, Projection, Update};
pub use resolve::Resolver;

use crate::wire::ApiError;

/// The longest expression DynamoDB accepts, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;

/// Which request parameter an expression came from; decides the error prefix and the
/// grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExprKind {
    Condition,
    Filter,
    KeyCondition,
    Projection,
    Update,
}

impl ExprKind {
    /// The request parameter's name, e.g. "ConditionExpression".
    pub fn param(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Projection => "ProjectionExpression",
            ExprKind::Update => "UpdateExpression",
        }
    }

    /// A ValidationException "Invalid <param>: <msg>".
    pub fn error(self, msg: impl std::fmt::Display) -> ApiError {
        ApiError::validation(format!("Invalid {}: {msg}", self.param()))
    }
}

/// The checks made before any parsing: size (so a 100,000-deep `((((` never reaches the
/// parser) and emptiness.
fn precheck(src: &str, kind: ExprKind) -> Result<(), ApiError> {
    if src.len() > MAX_EXPRESSION_BYTES {
        return Err(kind.error(format_args!(
            "Expression size has exceeded the maximum allowed size; expression size: {}",
            src.len()
        )));
    }
    if src.trim_matches([' ', '\t', '\r', '\n']).is_empty() {
        return Err(kind.error("The expression can not be empty;"));
    }
    Ok(())
}

/// Parses a Condition, Filter or KeyCondition expression and makes the checks that need
/// no placeholders. `kind` must be one of those three.
pub fn parse_condition(src: &str, kind: ExprKind) -> Result<Condition, ApiError> {
    precheck(src, kind)?;
    let parsed = parser::parse_condition(src).map_err(|m| kind.error(m))?;
    validate::condition_syntax(&parsed.tree, parsed.redundant_parens).map_err(|m| kind.error(m))?;
    Ok(parsed.tree)
}

/// Parses a ProjectionExpression and checks reserved words.
pub fn parse_projection(src: &str) -> Result<Projection, ApiError> {
    let kind = ExprKind::Projection;
    precheck(src, kind)?;
    let parsed = parser::parse_projection(src).map_err(|m| kind.error(m))?;
    validate::projection_syntax(&parsed.tree).map_err(|m| kind.error(m))?;
    Ok(parsed.tree)
}

/// Parses an UpdateExpression and checks reserved words, function names and repeated
/// clauses.
pub fn parse_update(src: &str) -> Result<Update, ApiError> {
    let kind = ExprKind::Update;
    precheck(src, kind)?;
    let parsed = parser::parse_update(src).map_err(|m| kind.error(m))?;
    validate::update_syntax(&parsed.tree).map_err(|m| kind.error(m))?;
    Ok(parsed.tree)
}

impl Resolver {
    /// Replaces `#names`, checks `:values` exist, then checks operand counts, document
    /// path requirements and distinct operands.
    pub fn resolve_condition(&mut self, c: &mut Condition, kind: ExprKind) -> Result<(), ApiError> {
        self.condition(c).map_err(|m| kind.error(m))?;
        validate::condition_resolved(c).map_err(|m| kind.error(m))
    }

    /// Replaces `#names` (all of them first), checks `:values`, then path overlap and
    /// conflict between the updated paths, and function operands.
    pub fn resolve_update(&mut self, u: &mut Update) -> Result<(), ApiError> {
        self.update(u).map_err(|m| ExprKind::Update.error(m))?;
        validate::update_resolved(u).map_err(|m| ExprKind::Update.error(m))
    }

    /// Replaces `#names`, then checks the paths neither overlap nor conflict.
    pub fn resolve_projection(&mut self, p: &mut Projection) -> Result<(), ApiError> {
        self.projection(p)
            .map_err(|m| ExprKind::Projection.error(m))?;
        validate::projection_resolved(p).map_err(|m| ExprKind::Projection.error(m))
    }

    /// `parse_condition` + `resolve_condition`.
    pub fn condition_expr(&mut self, src: &str, kind: ExprKind) -> Result<Condition, ApiError> {
        let mut c = parse_condition(src, kind)?;
        self.resolve_condition(&mut c, kind)?;
        Ok(c)
    }

    /// `parse_update` + `resolve_update`.
    pub fn update_expr(&mut self, src: &str) -> Result<Update, ApiError> {
        let mut u = parse_update(src)?;
        self.resolve_update(&mut u)?;
        Ok(u)
    }

    /// `parse_projection` + `resolve_projection`.
    pub fn projection_expr(&mut self, src: &str) -> Result<Projection, ApiError> {
        let mut p = parse_projection(src)?;
        self.resolve_projection(&mut p)?;
        Ok(p)
    }
}
