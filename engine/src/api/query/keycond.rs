//! Query's key condition — a resolved KeyConditionExpression or legacy KeyConditions —
//! checked against the key schema of the table or index with DynamoDB's errors
//! (docs/LIMITS.md #26; dynalite `actions/query.js`, `validations/query.js`; dynoxide;
//! for multi-attribute GSI keys engine/docs/multi-attribute-keys.md), and turned into the
//! byte range of ONE range scan: the partition prefix, then the equality values of the
//! leading sort-key attributes, narrowed by the condition on the last one used, on the
//! order-preserving encoding.

use std::cmp::Ordering;
use std::ops::Bound;

use crate::api::item::legacy::ExpectedEntry;
use crate::catalog::{KeyParts, ScalarType, TableDef};
use crate::expr::ast::{CmpOp, Condition, Operand};
use crate::expr::eval::{describe, Values};
use crate::model::keycodec::{encode_b, encode_key_value, encode_s};
use crate::model::AttributeValue;
use crate::wire::{ApiError, ApiResult};

/// A condition on the sort key.
#[derive(Debug, Clone, PartialEq)]
pub enum SortCond {
    Cmp(CmpOp, AttributeValue),
    Between(AttributeValue, AttributeValue),
    BeginsWith(AttributeValue),
}

/// A checked key condition: the partition-key values (KeySchema order; one for a table,
/// an LSI or a single-attribute GSI), the equality values of the leading sort-key
/// attributes, and the condition on the last sort-key attribute used.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCond {
    pub hash: Vec<AttributeValue>,
    pub sort_eq: Vec<AttributeValue>,
    pub sort: Option<SortCond>,
}

/// How many conditions a key condition may hold: two for a single-attribute key, one per
/// key attribute for a multi-attribute one (DynamoDB Local's texts, see the docs).
fn check_count(n: usize, keys: KeyParts<'_>) -> ApiResult<()> {
    if keys.is_multi() {
        if n > keys.names().count() {
            return Err(ApiError::validation("Query key condition not supported"));
        }
        if n > 0 {
            return Ok(());
        }
    }
    if n == 0 || n > 2 {
        return Err(ApiError::validation(
            "Conditions can be of length 1 or 2 only",
        ));
    }
    Ok(())
}

/// One term of the condition before it is matched to the schema.
struct Term {
    attr: String,
    cond: SortCond,
}

fn invalid_op(op: &str) -> ApiError {
    ApiError::validation(format!(
        "Invalid operator used in KeyConditionExpression: {op}"
    ))
}

fn no_key() -> ApiError {
    ApiError::validation("Invalid condition in KeyConditionExpression: No key attribute specified")
}

fn flatten<'a>(c: &'a Condition, out: &mut Vec<&'a Condition>) -> ApiResult<()> {
    match c {
        Condition::And(a, b) => {
            flatten(a, out)?;
            flatten(b, out)
        }
        Condition::Or(..) => Err(invalid_op("OR")),
        Condition::Not(..) => Err(invalid_op("NOT")),
        Condition::In { .. } => Err(invalid_op("IN")),
        Condition::Compare { op: CmpOp::Ne, .. } => Err(invalid_op("<>")),
        Condition::Call(call) if call.name != "begins_with" => Err(invalid_op(&call.name)),
        other => {
            out.push(other);
            Ok(())
        }
    }
}

/// The attribute a key operand names (a one-step path), or the error it deserves.
fn key_attr(o: &Operand) -> ApiResult<Option<String>> {
    match o {
        Operand::Path(p) if p.elems.len() > 1 => Err(ApiError::validation(
            "KeyConditionExpressions cannot have conditions on nested attributes",
        )),
        Operand::Path(p) => Ok(p.top().map(str::to_string)),
        Operand::Call(call) => Err(invalid_op(&call.name)),
        Operand::Arith(_) | Operand::Value(_) => Ok(None),
    }
}

fn value_of(o: &Operand, values: &Values) -> ApiResult<AttributeValue> {
    match o {
        Operand::Value(v) => values.get(&v.name).cloned().ok_or_else(no_key),
        _ => Err(no_key()),
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn term(c: &Condition, values: &Values) -> ApiResult<Term> {
    match c {
        Condition::Compare { op, lhs, rhs } => match (key_attr(lhs)?, key_attr(rhs)?) {
            (Some(_), Some(_)) => Err(ApiError::validation(
                // Guessed wording (not captured).
                "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition",
            )),
            (Some(attr), None) => Ok(Term {
                attr,
                cond: SortCond::Cmp(*op, value_of(rhs, values)?),
            }),
            (None, Some(attr)) => Ok(Term {
                attr,
                cond: SortCond::Cmp(flip(*op), value_of(lhs, values)?),
            }),
            (None, None) => Err(no_key()),
        },
        Condition::Between { subject, low, high } => {
            let attr = key_attr(subject)?.ok_or_else(no_key)?;
            Ok(Term {
                attr,
                cond: SortCond::Between(value_of(low, values)?, value_of(high, values)?),
            })
        }
        Condition::Call(call) => {
            let attr = match call.args.first() {
                Some(a) => key_attr(a)?.ok_or_else(no_key)?,
                None => return Err(no_key()),
            };
            let v = match call.args.get(1) {
                Some(o) => value_of(o, values)?,
                None => return Err(no_key()),
            };
            Ok(Term {
                attr,
                cond: SortCond::BeginsWith(v),
            })
        }
        _ => Err(no_key()),
    }
}

/// A resolved KeyConditionExpression → key condition for `keys`.
pub fn from_expression(
    c: &Condition,
    values: &Values,
    def: &TableDef,
    keys: KeyParts<'_>,
    index: Option<&str>,
) -> ApiResult<KeyCond> {
    let mut parts = Vec::new();
    flatten(c, &mut parts)?;
    check_count(parts.len().max(1), keys)?;
    let mut terms: Vec<Term> = Vec::new();
    for p in parts {
        let t = term(p, values)?;
        if terms.iter().any(|x| x.attr == t.attr) {
            return Err(ApiError::validation(
                "KeyConditionExpressions must only contain one condition per key",
            ));
        }
        terms.push(t);
    }
    check(terms, def, keys, index)
}

/// Legacy KeyConditions → key condition for `keys` (dynalite `validations/query.js`).
pub fn from_legacy(
    entries: &[ExpectedEntry],
    def: &TableDef,
    keys: KeyParts<'_>,
    index: Option<&str>,
) -> ApiResult<KeyCond> {
    let mut terms = Vec::new();
    for e in entries {
        let op = e.operator.as_deref().unwrap_or_default();
        let list = e.list.clone().unwrap_or_default();
        let want = match op {
            "BETWEEN" => 2,
            "EQ" | "LE" | "LT" | "GE" | "GT" | "BEGINS_WITH" => 1,
            _ => {
                return Err(ApiError::validation(
                    "Attempted conditional constraint is not an indexable operation",
                ))
            }
        };
        if list.len() != want {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid number of argument(s) for the {op} ComparisonOperator"
            )));
        }
        if let Some(first) = list.first() {
            crate::api::item::legacy::check_operator_type(op, first)?;
        }
        if op == "BETWEEN" {
            crate::api::item::legacy::check_between_bounds(&list)?;
        }
        let mut it = list.into_iter();
        let (a, b) = (it.next(), it.next());
        let cond = match (op, a, b) {
            ("BETWEEN", Some(a), Some(b)) => SortCond::Between(a, b),
            ("BEGINS_WITH", Some(a), _) => SortCond::BeginsWith(a),
            (_, Some(a), _) => SortCond::Cmp(
                match op {
                    "LE" => CmpOp::Le,
                    "LT" => CmpOp::Lt,
                    "GE" => CmpOp::Ge,
                    "GT" => CmpOp::Gt,
                    _ => CmpOp::Eq,
                },
                a,
            ),
            _ => return Err(no_key()),
        };
        terms.push(Term {
            attr: e.attr.clone(),
            cond,
        });
    }
    check_count(terms.len(), keys)?;
    check(terms, def, keys, index)
}

fn type_ok(def: &TableDef, name: &str, v: &AttributeValue) -> bool {
    matches!(
        (def.attribute_type(name), v),
        (Some(ScalarType::S), AttributeValue::S(_))
            | (Some(ScalarType::N), AttributeValue::N(_))
            | (Some(ScalarType::B), AttributeValue::B(_))
    )
}

fn mismatch() -> ApiError {
    ApiError::invalid_parameter("Condition parameter type does not match schema type")
}

/// "… cannot contain an empty string value" for an empty S/B value in a key condition;
/// on an index DynamoDB names the index (DynamoDB Local's texts, see the docs).
fn empty_key(index: Option<&str>, name: &str, v: &AttributeValue) -> ApiResult<()> {
    let kind = match v {
        AttributeValue::S(s) if s.is_empty() => "string",
        AttributeValue::B(b) if b.is_empty() => "binary",
        _ => return Ok(()),
    };
    Err(ApiError::validation(match index {
        None => format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {name}"
        ),
        Some(ix) => format!(
            "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. IndexName: {ix}, IndexKey: {name}"
        ),
    }))
}

/// Every value of a sort-key condition, for the empty-value check.
fn sort_values(c: &SortCond) -> [Option<&AttributeValue>; 2] {
    match c {
        SortCond::Cmp(_, v) | SortCond::BeginsWith(v) => [Some(v), None],
        SortCond::Between(a, b) => [Some(a), Some(b)],
    }
}

fn empty_sort(index: Option<&str>, name: &str, c: &SortCond) -> ApiResult<()> {
    for v in sort_values(c).into_iter().flatten() {
        empty_key(index, name, v)?;
    }
    Ok(())
}

/// Matches the terms to the schema: the partition key by `=`, at most one sort-key term
/// (multi-attribute keys: [`check_multi`]).
fn check(
    mut terms: Vec<Term>,
    def: &TableDef,
    keys: KeyParts<'_>,
    index: Option<&str>,
) -> ApiResult<KeyCond> {
    if keys.is_multi() {
        return check_multi(terms, def, keys, index);
    }
    let missed = |name: &str| {
        ApiError::validation(format!("Query condition missed key schema element: {name}"))
    };
    let Some(hash_name) = keys.hash.first() else {
        return Err(ApiError::internal("Internal server error"));
    };
    let Some(pos) = terms.iter().position(|t| &t.attr == hash_name) else {
        return Err(missed(hash_name));
    };
    let hash_term = terms.remove(pos);
    let SortCond::Cmp(CmpOp::Eq, hash) = hash_term.cond else {
        return Err(ApiError::validation("Query key condition not supported"));
    };
    if !type_ok(def, hash_name, &hash) {
        return Err(mismatch());
    }
    empty_key(index, hash_name, &hash)?;
    let sort = match (terms.pop(), keys.range.first()) {
        (None, _) => None,
        (Some(t), Some(range)) if &t.attr == range => {
            check_sort(&t.cond, def, range)?;
            empty_sort(index, range, &t.cond)?;
            Some(t.cond)
        }
        (Some(_), Some(range)) => return Err(missed(range)),
        (Some(_), None) => return Err(ApiError::validation("Query key condition not supported")),
    };
    Ok(KeyCond {
        hash: vec![hash],
        sort_eq: Vec::new(),
        sort,
    })
}

fn equality(t: Option<&Term>) -> Option<&AttributeValue> {
    match t {
        Some(Term {
            cond: SortCond::Cmp(CmpOp::Eq, v),
            ..
        }) => Some(v),
        _ => None,
    }
}

/// A multi-attribute GSI key (DynamoDB, November 2025): every partition-key attribute
/// by `=`; the sort-key attributes used left to right without gaps, every one but the
/// last used by `=`. Checks in the order DynamoDB Local applies them (the texts name
/// the offending attributes in KeySchema order).
fn check_multi(
    terms: Vec<Term>,
    def: &TableDef,
    keys: KeyParts<'_>,
    index: Option<&str>,
) -> ApiResult<KeyCond> {
    let find = |name: &str| terms.iter().find(|t| t.attr == name);
    let bad_hash: Vec<&str> = keys
        .hash
        .iter()
        .map(String::as_str)
        .filter(|h| equality(find(h)).is_none())
        .collect();
    if !bad_hash.is_empty() {
        return Err(ApiError::validation(format!(
            "HASH key attributes {} must have equality conditions specified in the query",
            bad_hash.join(", ")
        )));
    }
    if terms.iter().any(|t| !keys.names().any(|n| n == t.attr)) {
        return Err(ApiError::validation(
            "Query condition missed key schema element",
        ));
    }
    for t in &terms {
        let ok = match &t.cond {
            SortCond::Cmp(_, v) | SortCond::BeginsWith(v) => type_ok(def, &t.attr, v),
            SortCond::Between(a, b) => type_ok(def, &t.attr, a) && type_ok(def, &t.attr, b),
        };
        if !ok {
            return Err(mismatch());
        }
    }
    for t in &terms {
        empty_sort(index, &t.attr, &t.cond)?;
    }
    let mut hash = Vec::with_capacity(keys.hash.len());
    for name in keys.hash {
        let Some(v) = equality(find(name)) else {
            return Err(ApiError::internal("Internal server error"));
        };
        hash.push(v.clone());
    }
    // The sort attribute the error names: the first one with a condition after a gap,
    // else the last one with a condition; every attribute before it needs `=`.
    let used: Vec<bool> = keys.range.iter().map(|r| find(r).is_some()).collect();
    let after_gap = used
        .iter()
        .position(|u| !u)
        .and_then(|gap| (gap..used.len()).find(|&i| used[i]));
    let Some(last) = after_gap.or_else(|| used.iter().rposition(|u| *u)) else {
        return Ok(KeyCond {
            hash,
            sort_eq: Vec::new(),
            sort: None,
        });
    };
    let bad_range: Vec<&str> = keys.range[..last]
        .iter()
        .map(String::as_str)
        .filter(|r| equality(find(r)).is_none())
        .collect();
    if !bad_range.is_empty() {
        return Err(ApiError::validation(format!(
            "RANGE key attributes {} must have equality conditions specified in the query because a condition is present on key attribute {}",
            bad_range.join(", "),
            keys.range[last]
        )));
    }
    let sort_eq = keys.range[..last]
        .iter()
        .filter_map(|r| equality(find(r)).cloned())
        .collect();
    let last_name = &keys.range[last];
    let Some(t) = find(last_name) else {
        return Err(ApiError::internal("Internal server error"));
    };
    check_sort(&t.cond, def, last_name)?;
    Ok(KeyCond {
        hash,
        sort_eq,
        sort: Some(t.cond.clone()),
    })
}

fn check_sort(cond: &SortCond, def: &TableDef, name: &str) -> ApiResult<()> {
    match cond {
        SortCond::Cmp(_, v) if !type_ok(def, name, v) => Err(mismatch()),
        SortCond::Between(a, b) if !type_ok(def, name, a) || !type_ok(def, name, b) => {
            Err(mismatch())
        }
        SortCond::Between(a, b)
            if crate::expr::eval::condition::order(a, b) == Some(Ordering::Greater) =>
        {
            Err(ApiError::validation(format!(
                "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
                describe(a),
                describe(b)
            )))
        }
        SortCond::BeginsWith(v) if !type_ok(def, name, v) => Err(mismatch()),
        SortCond::BeginsWith(AttributeValue::N(_)) => Err(ApiError::validation(
            // Same wording as the filter evaluator's operand check (guessed for keys).
            "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N",
        )),
        _ => Ok(()),
    }
}

fn end_of(prefix: &[u8]) -> Vec<u8> {
    crate::index::prefix_end(prefix)
}

fn with(prefix: &[u8], v: &AttributeValue) -> Vec<u8> {
    let mut out = prefix.to_vec();
    encode_key_value(v, &mut out);
    out
}

/// `partition` (everything up to and including the encoded partition key) followed by
/// the encoded equality values of the leading sort-key attributes: the prefix [`range`]
/// narrows. `None` if a value is not S/N/B.
pub fn sort_prefix(partition: Vec<u8>, sort_eq: &[AttributeValue]) -> Option<Vec<u8>> {
    let mut out = partition;
    for v in sort_eq {
        if !encode_key_value(v, &mut out) {
            return None;
        }
    }
    Some(out)
}

/// The byte range of a partition (`prefix` = everything up to and including the
/// encoded partition key and any leading sort-key equalities) narrowed by the sort
/// condition.
pub fn range(prefix: &[u8], sort: Option<&SortCond>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    use Bound::{Excluded, Included};
    let all_end = Excluded(end_of(prefix));
    match sort {
        None => (Included(prefix.to_vec()), all_end),
        Some(SortCond::Cmp(op, v)) => {
            let e = with(prefix, v);
            match op {
                CmpOp::Lt => (Included(prefix.to_vec()), Excluded(e)),
                CmpOp::Le => (Included(prefix.to_vec()), Excluded(end_of(&e))),
                CmpOp::Gt => (Included(end_of(&e)), all_end),
                CmpOp::Ge => (Included(e), all_end),
                _ => {
                    let end = end_of(&e);
                    (Included(e), Excluded(end))
                }
            }
        }
        Some(SortCond::Between(a, b)) => (
            Included(with(prefix, a)),
            Excluded(end_of(&with(prefix, b))),
        ),
        Some(SortCond::BeginsWith(v)) => {
            let mut e = prefix.to_vec();
            match v {
                AttributeValue::S(s) => encode_s(s, &mut e),
                AttributeValue::B(b) => encode_b(b, &mut e),
                _ => {}
            }
            // Drop the terminator: every value starting with `v` shares these bytes.
            e.truncate(e.len().saturating_sub(2).max(prefix.len()));
            let end = end_of(&e);
            (Included(e), Excluded(end))
        }
    }
}
