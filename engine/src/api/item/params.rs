//! The request parameters the item operations share, read in DynamoDB's order: shapes
//! (SerializationException) first, constraint violations into one envelope, then the
//! expression-parameter rules (dynalite `validations/index.js`
//! `validateExpressionParams` / `validateExpressions`, captured from DynamoDB).

use serde_json::Value;

use crate::expr::Resolver;
use crate::model::value::{decode_item, decode_value, Deferred};
use crate::model::{AttributeValue, Item};
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};

/// ReturnConsumedCapacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapacityMode {
    #[default]
    None,
    Total,
    Indexes,
}

pub const CAPACITY_ENUM: &[&str] = &["INDEXES", "TOTAL", "NONE"];
pub const RETURN_VALUES_ENUM: &[&str] =
    &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"];
pub const METRICS_ENUM: &[&str] = &["SIZE", "NONE"];
pub const ON_FAILURE_ENUM: &[&str] = &["ALL_OLD", "NONE"];
pub const CONDITIONAL_OPERATOR_ENUM: &[&str] = &["OR", "AND"];

impl CapacityMode {
    pub fn parse(s: Option<&str>) -> CapacityMode {
        match s {
            Some("TOTAL") => CapacityMode::Total,
            Some("INDEXES") => CapacityMode::Indexes,
            _ => CapacityMode::None,
        }
    }
}

/// Records an enum violation when `value` is present and not allowed.
pub fn check_enum(v: &mut Violations, value: Option<&str>, path: &str, allowed: &[&str]) {
    if let Some(s) = value {
        v.enum_value(s, path, allowed);
    }
}

/// A map of attribute values (`Item`, `Key`): shape errors now, constraint errors kept.
pub fn attribute_map(o: Obj<'_>, key: &str, deferred: &mut Deferred) -> ApiResult<Option<Item>> {
    match o.raw(key) {
        None => Ok(None),
        Some(v) => decode_item(v, deferred).map(Some),
    }
}

/// ExpressionAttributeNames and ExpressionAttributeValues of one request.
#[derive(Debug, Default)]
pub struct ExprParams {
    /// Placeholder → name, in key order.
    pub names: Option<Vec<(String, String)>>,
    /// Placeholder → value, in key order.
    pub values: Option<Vec<(String, AttributeValue)>>,
    /// The first invalid value, already wrapped ("ExpressionAttributeValues contains
    /// invalid value: ... for key :k").
    values_error: Option<ApiError>,
}

impl ExprParams {
    /// Reads ExpressionAttributeNames, and ExpressionAttributeValues when the operation
    /// has that member (`with_values`; GetItem has not, and ignores it as it ignores any
    /// unknown member), with their shape errors.
    pub fn read(o: Obj<'_>, with_values: bool) -> ApiResult<ExprParams> {
        let names = match o.obj("ExpressionAttributeNames")? {
            None => None,
            Some(m) => {
                let mut out = Vec::new();
                for (k, v) in m.0 {
                    match v {
                        Value::String(s) => out.push((k.clone(), s.clone())),
                        Value::Null => {}
                        other => {
                            let one = serde_json::Map::from_iter([(k.clone(), other.clone())]);
                            Obj(&one).str(k)?;
                        }
                    }
                }
                Some(out)
            }
        };
        let mut values_error = None;
        let values_map = if with_values {
            o.obj("ExpressionAttributeValues")?
        } else {
            None
        };
        let values = match values_map {
            None => None,
            Some(m) => {
                let mut out = Vec::new();
                for (k, v) in m.0 {
                    let mut d = Deferred::new();
                    let av = decode_value(v, &mut d)?;
                    if let (Some(e), None) = (d.first, &values_error) {
                        values_error = Some(ApiError::validation(format!(
                            "ExpressionAttributeValues contains invalid value: {} for key {k}",
                            e.message().unwrap_or_default()
                        )));
                    }
                    out.push((k.clone(), av));
                }
                Some(out)
            }
        };
        Ok(ExprParams {
            names,
            values,
            values_error,
        })
    }

    /// DynamoDB's rules on which parameters may go together. `exprs` and `legacy` list
    /// the operation's expression and non-expression parameters with whether each is
    /// present; `value_exprs` are the expressions that may use values.
    pub fn check_usage(
        &self,
        exprs: &[(&str, bool)],
        legacy: &[(&str, bool)],
        value_exprs: &[&str],
    ) -> ApiResult<()> {
        let present = |list: &[(&str, bool)]| -> Vec<String> {
            list.iter()
                .filter(|(_, p)| *p)
                .map(|(n, _)| n.to_string())
                .collect()
        };
        let used = present(exprs);
        let old = present(legacy);
        if !used.is_empty() && !old.is_empty() {
            return Err(ApiError::validation(format!(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
                old.join(", "),
                used.join(", ")
            )));
        }
        if self.names.is_some() && used.is_empty() {
            return Err(ApiError::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        let value_used = exprs.iter().any(|(n, p)| *p && value_exprs.contains(n));
        if !value_exprs.is_empty() && self.values.is_some() && !value_used {
            let verb = if value_exprs.len() > 1 { "are" } else { "is" };
            return Err(ApiError::validation(format!(
                "ExpressionAttributeValues can only be specified when using expressions: {} {verb} null",
                value_exprs.join(" and ")
            )));
        }
        Ok(())
    }

    /// The map checks made before parsing (empty maps, placeholder syntax, invalid
    /// values), then a resolver for the expressions.
    pub fn resolver(&mut self) -> ApiResult<Resolver> {
        if let Some(names) = &self.names {
            if names.is_empty() {
                return Err(ApiError::validation(
                    "ExpressionAttributeNames must not be empty",
                ));
            }
            // Placeholders are at most 255 bytes, `#` included (developer guide,
            // "Expression parameters"; DynamoDB Local's text).
            if let Some((k, _)) = names.iter().find(|(k, _)| k.len() > MAX_PLACEHOLDER_BYTES) {
                return Err(ApiError::validation(format!(
                    "ExpressionAttributeNames contains invalid key: The expression attribute map contains a key that is too long; size of key: {}",
                    k.len()
                )));
            }
            if let Some((k, _)) = names.iter().find(|(k, _)| !placeholder_ok(k, '#')) {
                return Err(ApiError::validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
            // An empty or over-long name (DynamoDB Local's texts).
            for (k, v) in names.iter() {
                if let Some(e) = crate::model::value::attribute_name_error(v) {
                    return Err(ApiError::validation(format!(
                        "ExpressionAttributeNames contains invalid value: {} for key {k}",
                        e.message().unwrap_or_default()
                    )));
                }
            }
        }
        if let Some(values) = &self.values {
            if values.is_empty() {
                return Err(ApiError::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            // DynamoDB Local words this one without the size.
            if values.iter().any(|(k, _)| k.len() > MAX_PLACEHOLDER_BYTES) {
                return Err(ApiError::validation(
                    "ExpressionAttributeValues contains invalid key: The expression attribute map contains a key that is too long;",
                ));
            }
            if let Some((k, _)) = values.iter().find(|(k, _)| !placeholder_ok(k, ':')) {
                return Err(ApiError::validation(format!(
                    "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        if let Some(e) = self.values_error.take() {
            return Err(e);
        }
        Ok(Resolver::new(
            self.names.clone().unwrap_or_default(),
            self.values
                .iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .collect::<Vec<_>>(),
        ))
    }

    /// The values as the evaluator takes them.
    pub fn value_map(&self) -> crate::expr::eval::Values {
        self.values.iter().flatten().cloned().collect()
    }
}

/// The longest expression attribute name or value placeholder, its `#` / `:` included.
const MAX_PLACEHOLDER_BYTES: usize = 255;

/// `#` / `:` followed by one or more of `[0-9a-zA-Z_]`.
fn placeholder_ok(key: &str, sigil: char) -> bool {
    key.strip_prefix(sigil).is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}
