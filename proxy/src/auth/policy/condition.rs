//! The `Condition` block: operators, the `IfExists` suffix, the `ForAllValues:` /
//! `ForAnyValue:` set qualifiers and the missing-key rules of IAM's evaluation logic.

use serde_json::Value;

use super::context::Context;
use super::pattern::Pattern;
use super::values;
use super::PolicyError;

/// A base operator (negated variants are a flag on [`Condition`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    NumericEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    Binary,
    IpAddress,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

/// One `Operator: { key: values }` pair.
#[derive(Debug, Clone)]
pub struct Condition {
    pub op: Op,
    pub negated: bool,
    pub if_exists: bool,
    pub qualifier: Qualifier,
    /// Lower-case condition key.
    pub key: String,
    pub values: Vec<Pattern>,
}

/// `(base operator, negated)` for an operator name.
fn operator(name: &str) -> Option<(Op, bool)> {
    Some(match name {
        "StringEquals" => (Op::StringEquals, false),
        "StringNotEquals" => (Op::StringEquals, true),
        "StringEqualsIgnoreCase" => (Op::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Op::StringEqualsIgnoreCase, true),
        "StringLike" => (Op::StringLike, false),
        "StringNotLike" => (Op::StringLike, true),
        "NumericEquals" => (Op::NumericEquals, false),
        "NumericNotEquals" => (Op::NumericEquals, true),
        "NumericLessThan" => (Op::NumericLessThan, false),
        "NumericLessThanEquals" => (Op::NumericLessThanEquals, false),
        "NumericGreaterThan" => (Op::NumericGreaterThan, false),
        "NumericGreaterThanEquals" => (Op::NumericGreaterThanEquals, false),
        "DateEquals" => (Op::DateEquals, false),
        "DateNotEquals" => (Op::DateEquals, true),
        "DateLessThan" => (Op::DateLessThan, false),
        "DateLessThanEquals" => (Op::DateLessThanEquals, false),
        "DateGreaterThan" => (Op::DateGreaterThan, false),
        "DateGreaterThanEquals" => (Op::DateGreaterThanEquals, false),
        "Bool" => (Op::Bool, false),
        "BinaryEquals" => (Op::Binary, false),
        "IpAddress" => (Op::IpAddress, false),
        "NotIpAddress" => (Op::IpAddress, true),
        "ArnEquals" | "ArnLike" => (Op::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Op::Arn, true),
        "Null" => (Op::Null, false),
        _ => return None,
    })
}

/// Parses a `Condition` object into its conditions (ANDed).
pub fn parse(block: &Value, vars: bool) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = block else {
        return Err(PolicyError::new("Condition must be an object"));
    };
    let mut out = Vec::new();
    for (name, keys) in ops {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Qualifier::ForAllValues, r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Qualifier::ForAnyValue, r)
        } else {
            (Qualifier::None, name.as_str())
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let Some((op, negated)) = operator(base) else {
            return Err(PolicyError::new(format!(
                "condition operator {name:?} is not supported (daxlite evaluates String*, Numeric*, Date*, Bool, BinaryEquals, IpAddress, NotIpAddress, Arn* and Null, with IfExists and ForAllValues/ForAnyValue)"
            )));
        };
        if op == Op::Null && (if_exists || qualifier != Qualifier::None) {
            return Err(PolicyError::new(format!(
                "condition operator {name:?}: Null takes neither IfExists nor a set qualifier"
            )));
        }
        let Value::Object(keys) = keys else {
            return Err(PolicyError::new(format!(
                "condition operator {name:?} must map condition keys to values"
            )));
        };
        for (key, values) in keys {
            let list = match values {
                Value::Array(a) => a.iter().collect::<Vec<_>>(),
                v => vec![v],
            };
            let mut patterns = Vec::with_capacity(list.len());
            for v in list {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => {
                        return Err(PolicyError::new(format!(
                            "condition {name:?} on {key:?}: values must be strings, numbers or booleans"
                        )))
                    }
                };
                if op == Op::Null
                    && !s.eq_ignore_ascii_case("true")
                    && !s.eq_ignore_ascii_case("false")
                {
                    return Err(PolicyError::new(format!(
                        "condition Null on {key:?}: the value must be true or false, got {s:?}"
                    )));
                }
                let wild = matches!(op, Op::StringLike | Op::Arn);
                patterns.push(Pattern::parse(&s, vars && op != Op::Null, wild, false));
            }
            out.push(Condition {
                op,
                negated,
                if_exists,
                qualifier,
                key: key.to_ascii_lowercase(),
                values: patterns,
            });
        }
    }
    Ok(out)
}

impl Condition {
    /// Whether the condition holds for `ctx`.
    pub fn holds(&self, ctx: &Context) -> bool {
        let request = ctx.get(&self.key).filter(|v| !v.is_empty());
        if self.op == Op::Null {
            let present = request.is_some();
            return self
                .values
                .iter()
                .any(|p| p.text.eq_ignore_ascii_case("true") != present);
        }
        let Some(request) = request else {
            return match self.qualifier {
                Qualifier::ForAllValues => true,
                _ => self.if_exists || self.negated,
            };
        };
        match self.qualifier {
            Qualifier::ForAllValues => request.iter().all(|v| self.value_holds(v, ctx)),
            Qualifier::ForAnyValue => request.iter().any(|v| self.value_holds(v, ctx)),
            Qualifier::None if self.negated => request.iter().all(|v| self.value_holds(v, ctx)),
            Qualifier::None => request.iter().any(|v| self.value_holds(v, ctx)),
        }
    }

    /// One request value against the policy values (ORed; negated: none matches).
    fn value_holds(&self, value: &str, ctx: &Context) -> bool {
        let any = self
            .values
            .iter()
            .any(|p| base_match(self.op, value, p, ctx));
        any != self.negated
    }
}

fn base_match(op: Op, value: &str, p: &Pattern, ctx: &Context) -> bool {
    match op {
        Op::StringLike | Op::Arn => p.matches(value, ctx, false),
        _ => {
            let Some(expected) = p.resolve_literal(ctx) else {
                return false;
            };
            match op {
                Op::StringEquals => value == expected,
                Op::StringEqualsIgnoreCase | Op::Bool => value.eq_ignore_ascii_case(&expected),
                Op::Binary => values::binary_eq(value, &expected),
                Op::IpAddress => values::ip_in(value, &expected),
                Op::DateEquals
                | Op::DateLessThan
                | Op::DateLessThanEquals
                | Op::DateGreaterThan
                | Op::DateGreaterThanEquals => {
                    let (Some(a), Some(b)) =
                        (values::parse_time(value), values::parse_time(&expected))
                    else {
                        return false;
                    };
                    match op {
                        Op::DateEquals => a == b,
                        Op::DateLessThan => a < b,
                        Op::DateLessThanEquals => a <= b,
                        Op::DateGreaterThan => a > b,
                        _ => a >= b,
                    }
                }
                _ => {
                    let (Ok(a), Ok(b)) =
                        (value.trim().parse::<f64>(), expected.trim().parse::<f64>())
                    else {
                        return false;
                    };
                    match op {
                        Op::NumericEquals => a == b,
                        Op::NumericLessThan => a < b,
                        Op::NumericLessThanEquals => a <= b,
                        Op::NumericGreaterThan => a > b,
                        Op::NumericGreaterThanEquals => a >= b,
                        _ => false,
                    }
                }
            }
        }
    }
}
