//! The parameters Query and Scan share, read in DynamoDB's order: shapes
//! (SerializationException), then one constraint envelope, then the rules on which
//! parameters go together (expression vs legacy, Select combinations), then the
//! expressions themselves. Sources: dynalite `validations/query.js` / `scan.js` (captured
//! from DynamoDB up to 2020) and dynoxide `src/actions/query.rs` (captured 2026).

use serde_json::Value;

use crate::api::item::legacy::{self, ExpectedEntry, COMPARISON_ENUM};
use crate::api::item::params::{
    attribute_map, check_enum, CapacityMode, ExprParams, CAPACITY_ENUM,
};
use crate::expr::ast::{Condition, Projection};
use crate::expr::eval::Values;
use crate::expr::{ExprKind, Resolver};
use crate::model::value::{decode_value, Deferred};
use crate::model::Item;
use crate::wire::shape::{check_item_table_name, Obj, Violations};
use crate::wire::{ApiError, ApiResult};

pub const SELECT_ENUM: &[&str] = &[
    "SPECIFIC_ATTRIBUTES",
    "COUNT",
    "ALL_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
];

/// Which operation is reading (a few messages differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Query,
    Scan,
}

impl Op {
    /// The legacy filter parameter's name.
    pub fn filter_param(self) -> &'static str {
        match self {
            Op::Query => "QueryFilter",
            Op::Scan => "ScanFilter",
        }
    }
}

/// The shared parameters after shape and constraint checks.
pub struct Common<'a> {
    pub table: &'a str,
    pub index: Option<&'a str>,
    pub select: Option<&'a str>,
    pub to_get: Option<Vec<&'a str>>,
    pub limit: Option<usize>,
    pub consistent: bool,
    pub capacity: CapacityMode,
    pub start_key: Option<Item>,
    pub projection_src: Option<&'a str>,
    pub filter_src: Option<&'a str>,
    pub legacy_filter: Option<Vec<ExpectedEntry>>,
    pub operator: Option<&'a str>,
    pub params: ExprParams,
    pub deferred: Deferred,
}

/// Reads one legacy filter map (QueryFilter, ScanFilter, KeyConditions): shapes now,
/// constraint errors into `v`, value errors into `deferred`.
pub fn read_conditions(
    o: Obj<'_>,
    param: &str,
    v: &mut Violations,
    deferred: &mut Deferred,
) -> ApiResult<Option<Vec<ExpectedEntry>>> {
    let Some(map) = o.obj(param)? else {
        return Ok(None);
    };
    let path = lower_first(param);
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
        let at = format!("{path}.{attr}.member.comparisonOperator");
        match &operator {
            Some(op) => v.enum_value(op, &at, COMPARISON_ENUM),
            None => v.not_null(&at),
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
        out.push(ExpectedEntry {
            attr: attr.clone(),
            operator,
            list,
            exists: None,
            value: None,
        });
    }
    Ok(Some(out))
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Reads the shared members; `v` collects constraint errors for the caller to finish.
pub fn read<'a>(o: Obj<'a>, op: Op, v: &mut Violations) -> ApiResult<Common<'a>> {
    let capacity = o.str("ReturnConsumedCapacity")?;
    let to_get = o.str_list("AttributesToGet")?;
    let name = o.str("TableName")?;
    let index = o.str("IndexName")?;
    let select = o.str("Select")?;
    let limit = o.int("Limit")?;
    let consistent = o.bool("ConsistentRead")?.unwrap_or(false);
    let mut deferred = Deferred::new();
    let start_key = attribute_map(o, "ExclusiveStartKey", &mut deferred)?;
    let projection_src = o.str("ProjectionExpression")?;
    let filter_src = o.str("FilterExpression")?;
    let operator = o.str("ConditionalOperator")?;
    let legacy_filter = read_conditions(o, op.filter_param(), v, &mut deferred)?;
    let params = ExprParams::read(o, true)?;

    check_enum(v, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    if let Some(list) = &to_get {
        let shown = format!("[{}]", list.join(", "));
        if list.is_empty() {
            v.push(
                Some(&shown),
                "attributesToGet",
                "Member must have length greater than or equal to 1",
            );
        }
    }
    let table = check_item_table_name(v, name);
    if let Some(ix) = index {
        v.name(ix, "indexName");
    }
    check_enum(v, select, "select", SELECT_ENUM);
    check_enum(v, operator, "conditionalOperator", &["OR", "AND"]);
    if let Some(l) = limit.filter(|l| *l < 1) {
        match op {
            // dynoxide (2026 capture): Query names no value and capitalises Limit.
            Op::Query => v.push_raw(
                "Value at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
            ),
            Op::Scan => v.min_value(l, "limit", 1),
        }
    }
    Ok(Common {
        table,
        index,
        select,
        to_get,
        limit: limit.and_then(|l| usize::try_from(l).ok()),
        consistent,
        capacity: CapacityMode::parse(capacity),
        start_key,
        projection_src,
        filter_src,
        legacy_filter,
        operator,
        params,
        deferred,
    })
}

/// What the caller wants back (Select resolved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    All,
    Projected,
    Specific,
    Count,
}

impl<'a> Common<'a> {
    /// DynamoDB's rules on Select against the projection parameters.
    pub fn want(&self, op: Op) -> ApiResult<Want> {
        let specific = self.projection_src.is_some() || self.to_get.is_some();
        let shown = |s: &str| {
            if s == "COUNT" {
                "only the Count".to_string()
            } else {
                s.to_string()
            }
        };
        match self.select {
            Some("SPECIFIC_ATTRIBUTES") if !specific => {
                let msg = "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES";
                // dynoxide: Query wraps this one in the envelope, Scan does not.
                Err(ApiError::validation(match op {
                    Op::Query => format!("1 validation error detected: {msg}"),
                    Op::Scan => msg.to_string(),
                }))
            }
            Some(s) if s != "SPECIFIC_ATTRIBUTES" && self.projection_src.is_some() => {
                Err(ApiError::validation(format!(
                    "Cannot specify the ProjectionExpression when choosing to get {}",
                    shown(s)
                )))
            }
            // Wording by analogy with the ProjectionExpression rule (guessed).
            Some(s) if s != "SPECIFIC_ATTRIBUTES" && self.to_get.is_some() => {
                Err(ApiError::validation(format!(
                    "Cannot specify the AttributesToGet when choosing to get {}",
                    shown(s)
                )))
            }
            Some("ALL_PROJECTED_ATTRIBUTES") if self.index.is_none() => Err(ApiError::validation(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
            )),
            Some("COUNT") => Ok(Want::Count),
            Some("ALL_ATTRIBUTES") => Ok(Want::All),
            Some("ALL_PROJECTED_ATTRIBUTES") => Ok(Want::Projected),
            _ if specific => Ok(Want::Specific),
            _ if self.index.is_some() => Ok(Want::Projected),
            _ => Ok(Want::All),
        }
    }
}

/// A checked filter (FilterExpression or legacy filter) with the values it reads.
pub struct Filter {
    pub cond: Condition,
    pub values: Values,
}

/// Parses the projection and filter after the usage rules: FilterExpression through
/// `resolver`, or the legacy filter translated into the same AST.
pub fn filter_and_projection(
    c: &Common<'_>,
    op: Op,
    resolver: &mut Resolver,
) -> ApiResult<(Option<Filter>, Option<Projection>)> {
    let mut values = c.params.value_map();
    let filter = match (c.filter_src, &c.legacy_filter) {
        (Some(src), _) => {
            let cond = resolver.condition_expr(src, ExprKind::Filter)?;
            crate::expr::eval::check_condition_values(&cond, &values, ExprKind::Filter)?;
            Some(cond)
        }
        (None, Some(entries)) => {
            check_operator(c.operator, entries.len(), op)?;
            let mut lv = legacy::LegacyValues::default();
            let cond = legacy::expected_condition(entries, c.operator == Some("OR"), &mut lv)?;
            values.extend(lv.0);
            cond
        }
        (None, None) => {
            check_operator(c.operator, 0, op)?;
            None
        }
    };
    let projection = match (c.projection_src, &c.to_get) {
        (Some(src), _) => Some(resolver.projection_expr(src)?),
        (None, Some(list)) => Some(legacy::attributes_to_get(list)?),
        (None, None) => None,
    };
    Ok((filter.map(|cond| Filter { cond, values }), projection))
}

fn check_operator(operator: Option<&str>, n: usize, _op: Op) -> ApiResult<()> {
    match (operator, n) {
        (None, _) | (_, 2..) => Ok(()),
        (Some(_), 0) => Err(ApiError::validation(
            "ConditionalOperator cannot be used without Filter or Expected",
        )),
        (Some(_), _) => Err(ApiError::validation(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        )),
    }
}
