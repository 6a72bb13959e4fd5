//! Condition and filter evaluation against one item. Absent attributes and type
//! mismatches make a comparison false, never an error; `<`, `<=`, `>`, `>=` and BETWEEN
//! order only S, N and B values of the same type. The checks DynamoDB makes on the
//! request's values alone (BETWEEN bounds, attribute_type names, operand types) are in
//! `check_condition_values`, to run once per request before any item is evaluated.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::{describe, get_path, Values};
use crate::expr::ast::{Call, CmpOp, Condition, Operand};
use crate::expr::ExprKind;
use crate::model::{AttributeValue, Number};
use crate::wire::ApiError;

const TYPE_NAMES: [&str; 10] = ["S", "N", "B", "NULL", "SS", "BOOL", "L", "BS", "NS", "M"];

fn operand_type_error(kind: ExprKind, f: &str, t: &str) -> ApiError {
    kind.error(format_args!(
        "Incorrect operand type for operator or function; operator or function: {f}, operand type: {t}"
    ))
}

/// N, S and B: the types `<`, `<=`, `>`, `>=` and BETWEEN compare.
fn is_ordered_type(v: &AttributeValue) -> bool {
    matches!(
        v,
        AttributeValue::N(_) | AttributeValue::S(_) | AttributeValue::B(_)
    )
}

fn value<'v>(o: &Operand, values: &'v Values) -> Option<&'v AttributeValue> {
    match o {
        Operand::Value(v) => values.get(&v.name),
        _ => None,
    }
}

/// Order of two values of the same orderable type (S, N, B).
pub fn order(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The checks that need only the request's values; run once per request.
pub fn check_condition_values(
    c: &Condition,
    values: &Values,
    kind: ExprKind,
) -> Result<(), ApiError> {
    match c {
        Condition::Or(a, b) | Condition::And(a, b) => {
            check_condition_values(a, values, kind)?;
            check_condition_values(b, values, kind)
        }
        Condition::Not(a) => check_condition_values(a, values, kind),
        Condition::Between { low, high, .. } => {
            for v in [value(low, values), value(high, values)]
                .into_iter()
                .flatten()
            {
                if !is_ordered_type(v) {
                    return Err(operand_type_error(kind, "BETWEEN", v.type_name()));
                }
            }
            if let (Some(lo), Some(hi)) = (value(low, values), value(high, values)) {
                if lo.type_name() != hi.type_name() {
                    return Err(kind.error(format_args!(
                        "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                        describe(lo),
                        describe(hi)
                    )));
                }
                if order(lo, hi) == Some(Ordering::Greater) {
                    return Err(kind.error(format_args!(
                        "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                        describe(lo),
                        describe(hi)
                    )));
                }
            }
            Ok(())
        }
        Condition::Call(call) => check_call_values(call, values, kind),
        Condition::Compare { op, lhs, rhs } => {
            // Ordering comparisons take only scalars that order (N, S, B); DynamoDB rejects
            // any other literal operand before evaluating (checked with DynamoDB Local).
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                for o in [lhs, rhs] {
                    if let Some(v) = value(o, values) {
                        if !is_ordered_type(v) {
                            return Err(operand_type_error(kind, op.symbol(), v.type_name()));
                        }
                    }
                }
            }
            [lhs, rhs]
                .into_iter()
                .try_for_each(|o| check_operand_values(o, values, kind))
        }
        Condition::In { .. } => Ok(()),
    }
}

fn check_operand_values(o: &Operand, values: &Values, kind: ExprKind) -> Result<(), ApiError> {
    match o {
        Operand::Call(call) => check_call_values(call, values, kind),
        _ => Ok(()),
    }
}

fn check_call_values(call: &Call, values: &Values, kind: ExprKind) -> Result<(), ApiError> {
    let arg = |i: usize| call.args.get(i).and_then(|o| value(o, values));
    match call.name.as_str() {
        "attribute_type" => match arg(1) {
            Some(AttributeValue::S(t)) if TYPE_NAMES.contains(&t.as_str()) => Ok(()),
            Some(AttributeValue::S(t)) => Err(kind.error(format_args!(
                "Invalid attribute type name found; type: {t}, valid types: {{N,BS,L,B,NULL,M,S,SS,NS,BOOL}}"
            ))),
            Some(other) => Err(operand_type_error(kind, "attribute_type", other.type_name())),
            None => Ok(()),
        },
        "begins_with" => {
            for i in 0..call.args.len() {
                if let Some(v) = arg(i) {
                    if !matches!(v, AttributeValue::S(_) | AttributeValue::B(_)) {
                        return Err(operand_type_error(kind, "begins_with", v.type_name()));
                    }
                }
            }
            Ok(())
        }
        "size" => match arg(0) {
            Some(v @ (AttributeValue::N(_) | AttributeValue::Bool(_) | AttributeValue::Null)) => {
                Err(operand_type_error(kind, "size", v.type_name()))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// The value of an operand for this item (`None`: absent).
fn eval_operand<'a>(
    o: &Operand,
    item: &'a crate::model::Item,
    values: &'a Values,
) -> Option<Cow<'a, AttributeValue>> {
    match o {
        Operand::Path(p) => get_path(item, p).map(Cow::Borrowed),
        Operand::Value(v) => values.get(&v.name).map(Cow::Borrowed),
        Operand::Call(call) if call.name == "size" => {
            let v = eval_operand(call.args.first()?, item, values)?;
            let n = match v.as_ref() {
                AttributeValue::S(s) => s.len(),
                AttributeValue::B(b) => b.len(),
                AttributeValue::Ss(s) => s.len(),
                AttributeValue::Ns(s) => s.len(),
                AttributeValue::Bs(s) => s.len(),
                AttributeValue::L(l) => l.len(),
                AttributeValue::M(m) => m.len(),
                _ => return None,
            };
            Some(Cow::Owned(AttributeValue::N(Number::from(
                i64::try_from(n).ok()?,
            ))))
        }
        Operand::Call(_) | Operand::Arith(_) => None,
    }
}

/// Whether `item` satisfies `c` (an absent item is the empty item).
pub fn eval_condition(c: &Condition, item: &crate::model::Item, values: &Values) -> bool {
    let val = |o: &Operand| eval_operand(o, item, values);
    match c {
        Condition::Or(a, b) => eval_condition(a, item, values) || eval_condition(b, item, values),
        Condition::And(a, b) => eval_condition(a, item, values) && eval_condition(b, item, values),
        Condition::Not(a) => !eval_condition(a, item, values),
        Condition::Compare { op, lhs, rhs } => {
            let (l, r) = (val(lhs), val(rhs));
            let equal = matches!((&l, &r), (Some(a), Some(b)) if a == b);
            match op {
                CmpOp::Eq => equal,
                CmpOp::Ne => !equal,
                _ => {
                    let ord = match (&l, &r) {
                        (Some(a), Some(b)) => order(a, b),
                        _ => None,
                    };
                    match (op, ord) {
                        (_, None) => false,
                        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
                        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
                        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
                        (_, Some(o)) => o != Ordering::Less,
                    }
                }
            }
        }
        Condition::Between { subject, low, high } => match (val(subject), val(low), val(high)) {
            (Some(s), Some(lo), Some(hi)) => {
                order(&s, &lo).is_some_and(|o| o != Ordering::Less)
                    && order(&s, &hi).is_some_and(|o| o != Ordering::Greater)
            }
            _ => false,
        },
        Condition::In { subject, list } => match val(subject) {
            Some(s) => list.iter().any(|o| val(o).is_some_and(|v| v == s)),
            None => false,
        },
        Condition::Call(call) => eval_function(call, item, values),
    }
}

fn eval_function(call: &Call, item: &crate::model::Item, values: &Values) -> bool {
    let arg = |i: usize| call.args.get(i).and_then(|o| eval_operand(o, item, values));
    match call.name.as_str() {
        "attribute_exists" => arg(0).is_some(),
        "attribute_not_exists" => arg(0).is_none(),
        "attribute_type" => match (arg(0), arg(1)) {
            (Some(v), Some(t)) => matches!(t.as_ref(), AttributeValue::S(t) if t == v.type_name()),
            _ => false,
        },
        "begins_with" => match (arg(0), arg(1)) {
            (Some(a), Some(b)) => match (a.as_ref(), b.as_ref()) {
                (AttributeValue::S(x), AttributeValue::S(y)) => x.starts_with(y.as_str()),
                (AttributeValue::B(x), AttributeValue::B(y)) => x.starts_with(y),
                _ => false,
            },
            _ => false,
        },
        "contains" => match (arg(0), arg(1)) {
            (Some(a), Some(b)) => match (a.as_ref(), b.as_ref()) {
                (AttributeValue::S(x), AttributeValue::S(y)) => x.contains(y.as_str()),
                // A binary attribute contains a binary operand found anywhere in it
                // (the developer guide's CONTAINS: "a subsequence of the target").
                (AttributeValue::B(x), AttributeValue::B(y)) => {
                    y.is_empty() || x.windows(y.len()).any(|w| w == y.as_slice())
                }
                (AttributeValue::Ss(x), AttributeValue::S(y)) => x.contains(y),
                (AttributeValue::Ns(x), AttributeValue::N(y)) => x.contains(y),
                (AttributeValue::Bs(x), AttributeValue::B(y)) => x.contains(y),
                (AttributeValue::L(x), y) => x.iter().any(|e| e == y),
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}
