//! Evaluation of resolved expressions against items: conditions and filters
//! (`condition`), projections (`projection`) and updates (`update`), plus the document
//! path lookups they share. Inputs must have gone through `Resolver` (no `#names` left,
//! every `:value` defined); `values` is the request's ExpressionAttributeValues.

pub mod condition;
pub mod projection;
pub mod update;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use base64::Engine as _;

use super::ast::{Path, PathElem};
use crate::model::{AttributeValue, Item};

/// A request's ExpressionAttributeValues.
pub type Values = HashMap<String, AttributeValue>;

pub use condition::{check_condition_values, eval_condition};
pub use projection::project;
pub use update::{apply_update, check_update_values, UpdateOutcome};

/// The value at `path` in `item`, if there is one.
pub fn get_path<'a>(item: &'a Item, path: &Path) -> Option<&'a AttributeValue> {
    let mut elems = path.elems.iter();
    let mut cur = match elems.next()? {
        PathElem::Attr(name) => item.get(name)?,
        _ => return None,
    };
    for e in elems {
        cur = match (e, cur) {
            (PathElem::Attr(name), AttributeValue::M(m)) => m.get(name)?,
            (PathElem::Index(i), AttributeValue::L(l)) => l.get(usize::try_from(*i).ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// DynamoDB's rendering of a value inside error messages: `{N:5}`, `{S:abc}`.
pub fn describe(v: &AttributeValue) -> String {
    let body = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        AttributeValue::B(b) => base64::engine::general_purpose::STANDARD.encode(b),
        AttributeValue::Bool(b) => b.to_string(),
        AttributeValue::Null => "true".to_string(),
        other => format!("{other:?}"),
    };
    format!("{{{}:{body}}}", v.type_name())
}
