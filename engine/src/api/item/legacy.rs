//! The legacy (pre-expression) parameters — Expected with ConditionalOperator,
//! AttributeUpdates, AttributesToGet — read with DynamoDB's errors (dynalite
//! `validations/index.js` `validateAttributeConditions`, `validations/updateItem.js`) and
//! translated into the expression AST, so one evaluator serves both. Their values travel
//! as synthetic `:legacyN` placeholders (they cannot clash: a request may not mix legacy
//! and expression parameters).

use serde_json::Value;

use crate::expr::ast::{
    Call, CmpOp, Condition, Operand, Path, PathElem, Projection, SetAction, Span, Update,
    ValueAction, ValueRef,
};
use crate::expr::Clause;
use crate::model::value::{decode_value, Deferred};
use crate::model::AttributeValue;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};

pub const COMPARISON_ENUM: &[&str] = &[
    "IN",
    "NULL",
    "BETWEEN",
    "LT",
    "NOT_CONTAINS",
    "EQ",
    "GT",
    "NOT_NULL",
    "NE",
    "LE",
    "BEGINS_WITH",
    "GE",
    "CONTAINS",
];

/// One entry of Expected.
#[derive(Debug, Clone)]
pub struct ExpectedEntry {
    pub attr: String,
    pub operator: Option<String>,
    pub list: Option<Vec<AttributeValue>>,
    pub exists: Option<bool>,
    pub value: Option<AttributeValue>,
}

/// Values gathered while translating, to join the request's value map.
#[derive(Debug, Default)]
pub struct LegacyValues(pub Vec<(String, AttributeValue)>);

impl LegacyValues {
    fn add(&mut self, v: AttributeValue) -> Operand {
        let name = format!(":legacy{}", self.0.len());
        self.0.push((name.clone(), v));
        Operand::Value(ValueRef {
            name,
            span: Span::default(),
        })
    }
}

fn path(name: &str) -> Path {
    Path {
        elems: vec![PathElem::Attr(name.to_string())],
        span: Span::default(),
    }
}

fn call(name: &str, args: Vec<Operand>) -> Call {
    Call {
        name: name.to_string(),
        args,
        span: Span::default(),
    }
}

/// Reads Expected (shapes now; constraint errors into `v` and `deferred`).
pub fn read_expected(
    o: Obj<'_>,
    v: &mut Violations,
    deferred: &mut Deferred,
) -> ApiResult<Option<Vec<ExpectedEntry>>> {
    let Some(map) = o.obj("Expected")? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (attr, raw) in map.0 {
        let entry = match raw {
            Value::Null => continue,
            Value::Object(m) => Obj(m),
            other => {
                let one = serde_json::Map::from_iter([(attr.clone(), other.clone())]);
                Obj(&one).obj(attr)?;
                continue;
            }
        };
        let operator = entry.str("ComparisonOperator")?.map(str::to_string);
        if let Some(op) = &operator {
            v.enum_value(
                op,
                &format!("expected.{attr}.member.comparisonOperator"),
                COMPARISON_ENUM,
            );
        }
        let list = match entry.list("AttributeValueList")? {
            None => None,
            Some(items) => Some(
                items
                    .iter()
                    .map(|x| decode_value(x, deferred))
                    .collect::<ApiResult<Vec<_>>>()?,
            ),
        };
        let value = entry
            .raw("Value")
            .map(|x| decode_value(x, deferred))
            .transpose()?;
        out.push(ExpectedEntry {
            attr: attr.clone(),
            operator,
            list,
            exists: entry.bool("Exists")?,
            value,
        });
    }
    Ok(Some(out))
}

fn invalid(msg: String) -> ApiError {
    ApiError::invalid_parameter(msg)
}

/// dynalite `validateAttributeConditions`, then the translation into one condition.
pub fn expected_condition(
    entries: &[ExpectedEntry],
    or: bool,
    values: &mut LegacyValues,
) -> ApiResult<Option<Condition>> {
    let mut conds = Vec::new();
    for e in entries {
        conds.push(one_expected(e, values)?);
    }
    let mut it = conds.into_iter();
    let Some(first) = it.next() else {
        return Ok(None);
    };
    Ok(Some(it.fold(first, |acc, c| {
        if or {
            Condition::Or(Box::new(acc), Box::new(c))
        } else {
            Condition::And(Box::new(acc), Box::new(c))
        }
    })))
}

fn one_expected(e: &ExpectedEntry, values: &mut LegacyValues) -> ApiResult<Condition> {
    let key = &e.attr;
    if e.list.is_some() && e.value.is_some() {
        return Err(invalid(format!(
            "Value and AttributeValueList cannot be used together for Attribute: {key}"
        )));
    }
    let subject = || Operand::Path(path(key));
    let Some(op) = e.operator.as_deref() else {
        if e.list.is_some() {
            return Err(invalid(format!(
                "AttributeValueList can only be used with a ComparisonOperator for Attribute: {key}"
            )));
        }
        let exists = e.exists.unwrap_or(true);
        return match (&e.value, exists) {
            (None, true) => Err(invalid(format!(
                "Value must be provided when Exists is {} for Attribute: {key}",
                e.exists.map(|b| b.to_string()).unwrap_or("null".into())
            ))),
            (Some(_), false) => Err(invalid(format!(
                "Value cannot be used when Exists is false for Attribute: {key}"
            ))),
            (None, false) => Ok(Condition::Call(call(
                "attribute_not_exists",
                vec![subject()],
            ))),
            (Some(v), true) => Ok(Condition::Compare {
                op: CmpOp::Eq,
                lhs: subject(),
                rhs: values.add(v.clone()),
            }),
        };
    };
    if e.exists.is_some() {
        return Err(invalid(format!(
            "Exists and ComparisonOperator cannot be used together for Attribute: {key}"
        )));
    }
    if !matches!(op, "NULL" | "NOT_NULL") && e.list.is_none() && e.value.is_none() {
        return Err(invalid(format!(
            "Value or AttributeValueList must be used with ComparisonOperator: {op} for Attribute: {key}"
        )));
    }
    let args: Vec<AttributeValue> = match (&e.list, &e.value) {
        (Some(l), _) => l.clone(),
        (None, Some(v)) => vec![v.clone()],
        (None, None) => vec![],
    };
    let n = args.len();
    let count_ok = match op {
        "NULL" | "NOT_NULL" => n == 0,
        "IN" => n > 0,
        "BETWEEN" => n == 2,
        _ => n == 1,
    };
    if !count_ok {
        return Err(invalid(format!(
            "Invalid number of argument(s) for the {op} ComparisonOperator"
        )));
    }
    if let Some(first) = args.first() {
        if args.iter().any(|a| a.type_name() != first.type_name()) {
            return Err(invalid(
                "AttributeValues inside AttributeValueList must be of same type".into(),
            ));
        }
    }
    if let Some(first) = args.first() {
        check_operator_type(op, first)?;
    }
    if op == "BETWEEN" {
        check_between_bounds(&args)?;
    }
    let mut ops: Vec<Operand> = args.into_iter().map(|a| values.add(a)).collect();
    let cmp = |op: CmpOp, ops: &mut Vec<Operand>| -> ApiResult<Condition> {
        let rhs = ops.pop().ok_or_else(|| invalid("missing value".into()))?;
        Ok(Condition::Compare {
            op,
            lhs: subject(),
            rhs,
        })
    };
    Ok(match op {
        "EQ" => cmp(CmpOp::Eq, &mut ops)?,
        "NE" => cmp(CmpOp::Ne, &mut ops)?,
        "LT" => cmp(CmpOp::Lt, &mut ops)?,
        "LE" => cmp(CmpOp::Le, &mut ops)?,
        "GT" => cmp(CmpOp::Gt, &mut ops)?,
        "GE" => cmp(CmpOp::Ge, &mut ops)?,
        "NULL" => Condition::Call(call("attribute_not_exists", vec![subject()])),
        "NOT_NULL" => Condition::Call(call("attribute_exists", vec![subject()])),
        "CONTAINS" => Condition::Call(call("contains", [vec![subject()], ops].concat())),
        "NOT_CONTAINS" => Condition::Not(Box::new(Condition::Call(call(
            "contains",
            [vec![subject()], ops].concat(),
        )))),
        "BEGINS_WITH" => Condition::Call(call("begins_with", [vec![subject()], ops].concat())),
        "IN" => Condition::In {
            subject: subject(),
            list: ops,
        },
        _ => {
            let high = ops.pop().ok_or_else(|| invalid("missing value".into()))?;
            let low = ops.pop().ok_or_else(|| invalid("missing value".into()))?;
            Condition::Between {
                subject: subject(),
                low,
                high,
            }
        }
    })
}

/// The value types each legacy ComparisonOperator takes (dynalite's
/// `validateAttributeConditions`; DynamoDB Local answers the same): ordering operators,
/// IN and BETWEEN only S / N / B; BEGINS_WITH only S / B; CONTAINS and NOT_CONTAINS no
/// list, map or set; EQ and NE anything.
pub(crate) fn check_operator_type(op: &str, v: &AttributeValue) -> ApiResult<()> {
    let scalar = matches!(
        v,
        AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_)
    );
    let ok = match op {
        "LT" | "LE" | "GT" | "GE" | "IN" | "BETWEEN" => scalar,
        "BEGINS_WITH" => matches!(v, AttributeValue::S(_) | AttributeValue::B(_)),
        "CONTAINS" | "NOT_CONTAINS" => !matches!(
            v,
            AttributeValue::L(_)
                | AttributeValue::M(_)
                | AttributeValue::Ss(_)
                | AttributeValue::Ns(_)
                | AttributeValue::Bs(_)
        ),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    Err(invalid(format!(
        "ComparisonOperator {op} is not valid for {} AttributeValue type",
        v.type_name()
    )))
}

/// A legacy BETWEEN whose lower bound is above its upper bound (DynamoDB Local's text,
/// the same for KeyConditions, QueryFilter, ScanFilter and Expected).
pub(crate) fn check_between_bounds(args: &[AttributeValue]) -> ApiResult<()> {
    if let [low, high] = args {
        if crate::expr::eval::condition::order(low, high) == Some(std::cmp::Ordering::Greater) {
            return Err(ApiError::validation(
                "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound",
            ));
        }
    }
    Ok(())
}

/// One entry of AttributeUpdates.
#[derive(Debug, Clone)]
pub struct AttributeUpdate {
    pub attr: String,
    pub action: Option<String>,
    pub value: Option<AttributeValue>,
}

/// Reads AttributeUpdates (shapes now; value errors deferred).
pub fn read_attribute_updates(
    o: Obj<'_>,
    deferred: &mut Deferred,
) -> ApiResult<Option<Vec<AttributeUpdate>>> {
    let Some(map) = o.obj("AttributeUpdates")? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for (attr, raw) in map.0 {
        let Value::Object(m) = raw else {
            if raw.is_null() {
                continue;
            }
            let one = serde_json::Map::from_iter([(attr.clone(), raw.clone())]);
            Obj(&one).obj(attr)?;
            continue;
        };
        let entry = Obj(m);
        if let Some(e) = crate::model::value::attribute_name_error(attr) {
            deferred.record(e);
        }
        out.push(AttributeUpdate {
            attr: attr.clone(),
            action: entry.str("Action")?.map(str::to_string),
            value: entry
                .raw("Value")
                .map(|x| decode_value(x, deferred))
                .transpose()?,
        });
    }
    Ok(Some(out))
}

/// dynalite `validations/updateItem.js` checks on AttributeUpdates.
pub fn check_attribute_updates(updates: &[AttributeUpdate]) -> ApiResult<()> {
    for u in updates {
        let action = u.action.as_deref().unwrap_or("PUT");
        match (&u.value, action) {
            (None, "DELETE") => {}
            (None, _) => {
                return Err(invalid(
                    "Only DELETE action is allowed when no attribute value is specified".into(),
                ))
            }
            (Some(v), "DELETE") if !is_set(v) => {
                return Err(invalid(format!(
                    "DELETE action with value is not supported for the type {}",
                    long_type_name(v)
                )))
            }
            (Some(v), "ADD")
                if !(is_set(v) || matches!(v, AttributeValue::N(_) | AttributeValue::L(_))) =>
            {
                return Err(invalid(format!(
                    "ADD action is not supported for the type {}",
                    long_type_name(v)
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_set(v: &AttributeValue) -> bool {
    matches!(
        v,
        AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
    )
}

/// AttributeUpdates as an UpdateExpression: PUT → SET, DELETE → REMOVE or DELETE, ADD →
/// ADD (a list ADD appends: `SET a = list_append(if_not_exists(a, []), :v)`).
pub fn updates_to_ast(updates: &[AttributeUpdate], values: &mut LegacyValues) -> Update {
    let (mut set, mut remove, mut add, mut delete) = (vec![], vec![], vec![], vec![]);
    for u in updates {
        let p = path(&u.attr);
        let value_ref = |values: &mut LegacyValues, v: &AttributeValue| match values.add(v.clone())
        {
            Operand::Value(r) => r,
            _ => ValueRef {
                name: String::new(),
                span: Span::default(),
            },
        };
        match (u.action.as_deref().unwrap_or("PUT"), &u.value) {
            ("DELETE", None) => remove.push(p),
            ("DELETE", Some(v)) => delete.push(ValueAction {
                path: p,
                value: value_ref(values, v),
            }),
            ("ADD", Some(v @ AttributeValue::L(_))) => {
                let empty = values.add(AttributeValue::L(vec![]));
                let value = values.add(v.clone());
                let current =
                    Operand::Call(call("if_not_exists", vec![Operand::Path(p.clone()), empty]));
                set.push(SetAction {
                    path: p,
                    value: Operand::Call(call("list_append", vec![current, value])),
                });
            }
            ("ADD", Some(v)) => add.push(ValueAction {
                path: p,
                value: value_ref(values, v),
            }),
            (_, Some(v)) => set.push(SetAction {
                path: p,
                value: values.add(v.clone()),
            }),
            (_, None) => remove.push(p),
        }
    }
    let mut clauses = Vec::new();
    if !set.is_empty() {
        clauses.push(Clause::Set(set));
    }
    if !remove.is_empty() {
        clauses.push(Clause::Remove(remove));
    }
    if !add.is_empty() {
        clauses.push(Clause::Add(add));
    }
    if !delete.is_empty() {
        clauses.push(Clause::Delete(delete));
    }
    Update { clauses }
}

/// AttributesToGet as a projection; duplicates are an error.
pub fn attributes_to_get(names: &[&str]) -> ApiResult<Projection> {
    if let Some(e) = names
        .iter()
        .find_map(|n| crate::model::value::attribute_name_error(n))
    {
        return Err(e);
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(invalid(format!("Duplicate value in attribute name: {n}")));
        }
    }
    Ok(Projection {
        paths: names.iter().map(|n| path(n)).collect(),
    })
}

/// The type names DynamoDB uses in AttributeUpdates errors (checked against DynamoDB Local:
/// "ADD action is not supported for the type STRING").
fn long_type_name(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "STRING",
        AttributeValue::N(_) => "NUMBER",
        AttributeValue::B(_) => "BINARY",
        AttributeValue::Bool(_) => "BOOLEAN",
        AttributeValue::Null => "NULL",
        AttributeValue::M(_) => "MAP",
        AttributeValue::L(_) => "LIST",
        AttributeValue::Ss(_) => "STRING_SET",
        AttributeValue::Ns(_) => "NUMBER_SET",
        AttributeValue::Bs(_) => "BINARY_SET",
    }
}
