//! Query: the items of one partition of a table or index, in sort-key order (or
//! reversed), read as ONE range scan of the encoded keys, then filtered and projected.

use std::ops::Bound;

use serde_json::{Map, Value};

use super::keycond::{self, KeyCond};
use super::page::{self, Plan};
use super::request::{self, Op};
use super::{check_gsi_reads, find_index, start_key};
use crate::api::Ctx;
use crate::catalog::{IndexDef, TableDef};
use crate::expr::ast::Condition;
use crate::expr::ExprKind;
use crate::model::value::Deferred;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};

pub async fn query(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Vec<u8>> {
    // Shapes, then the constraint envelope.
    let o = Obj(body);
    let mut v = Violations::new();
    let kc_src = o.str("KeyConditionExpression")?;
    let forward = o.bool("ScanIndexForward")?.unwrap_or(true);
    let mut c = request::read(o, Op::Query, &mut v)?;
    let key_conditions = request::read_conditions(o, "KeyConditions", &mut v, &mut c.deferred)?;
    v.finish()?;

    // Which parameters go together; deferred value errors; Select. DynamoDB rejects
    // KeyConditions only next to KeyConditionExpression: with FilterExpression or
    // ProjectionExpression it is accepted (the real-DynamoDB rule; LOCAL agrees).
    if kc_src.is_some() && key_conditions.is_some() {
        return Err(ApiError::validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}",
        ));
    }
    c.params.check_usage(
        &[
            ("ProjectionExpression", c.projection_src.is_some()),
            ("FilterExpression", c.filter_src.is_some()),
            ("KeyConditionExpression", kc_src.is_some()),
        ],
        &[
            ("AttributesToGet", c.to_get.is_some()),
            ("QueryFilter", c.legacy_filter.is_some()),
            ("ConditionalOperator", c.operator.is_some()),
        ],
        &["FilterExpression", "KeyConditionExpression"],
    )?;
    std::mem::replace(&mut c.deferred, Deferred::new()).into_result()?;
    let want = c.want(Op::Query)?;

    // Expressions, in DynamoDB's order, then unused placeholders.
    let mut resolver = c.params.resolver()?;
    let values = c.params.value_map();
    let kc_expr = match kc_src {
        Some(src) => {
            let cond = resolver.condition_expr(src, ExprKind::KeyCondition)?;
            crate::expr::eval::check_condition_values(&cond, &values, ExprKind::KeyCondition)?;
            Some(cond)
        }
        None => None,
    };
    let (filter, projection) = request::filter_and_projection(&c, Op::Query, &mut resolver)?;
    resolver.finish()?;
    if kc_expr.is_none() && key_conditions.is_none() {
        return Err(ApiError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        ));
    }

    // Table, index, key condition, range.
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let def = ctx.data_table(&txn, c.table, now)?;
    let found = find_index(&def, c.index, c.consistent, want, now)?;
    let (index, is_gsi) = match &found {
        Some((ix, g)) => (Some(ix), *g),
        None => (None, false),
    };
    if let (Some(ix), true) = (index, is_gsi) {
        check_gsi_reads(&def, ix, projection.as_ref(), filter.as_ref())?;
    }
    let keys = index.map_or_else(|| def.keys.parts(), |ix| ix.keys.parts());
    let kc = match (&kc_expr, &key_conditions) {
        (Some(e), _) => keycond::from_expression(e, &values, &def, keys, c.index)?,
        (None, Some(entries)) => keycond::from_legacy(entries, &def, keys, c.index)?,
        (None, None) => return Err(ApiError::internal("Internal server error")),
    };
    let key_names: Vec<&str> = keys.names().collect();
    check_filter_keys(
        c.filter_src.is_some(),
        filter.as_ref().map(|f| &f.cond),
        &key_names,
    )?;
    let prefix = partition_prefix(&def, index, &kc)?;
    let (mut start, mut end) = keycond::range(&prefix, kc.sort.as_ref());
    if let Some(esk) = &c.start_key {
        let key = start_key(&def, index, esk)?;
        if keys
            .hash
            .iter()
            .zip(&kc.hash)
            .any(|(n, v)| esk.get(n) != Some(v))
        {
            return Err(ApiError::validation(
                "The provided starting key is outside query boundaries based on provided conditions",
            ));
        }
        if !within(&key, &start, &end) {
            return Err(ApiError::validation(
                "The provided starting key does not match the range key predicate",
            ));
        }
        if forward {
            start = Bound::Excluded(key);
        } else {
            end = Bound::Excluded(key);
        }
    }
    let plan = Plan {
        def: &def,
        index,
        is_gsi,
        start,
        end,
        forward,
        limit: c.limit,
        filter: filter.as_ref(),
        projection: projection.as_ref(),
        want,
        consistent: c.consistent,
    };
    // Table and LSI pages count against the queried partition key's limit.
    let partition = kc
        .hash
        .first()
        .and_then(|h| crate::keys::storage_key(def.id, h, None));
    let page = super::metered_page(ctx, &txn, &plan, now, "Query", partition.as_deref())?;
    page::respond(&plan, page, c.capacity)
}

/// The bytes every stored key of the queried partition (and leading sort-key
/// equalities) starts with.
fn partition_prefix(def: &TableDef, index: Option<&IndexDef>, kc: &KeyCond) -> ApiResult<Vec<u8>> {
    let prefix = match (index, kc.hash.first()) {
        (Some(ix), _) => crate::index::partition_prefix(def, ix, &kc.hash),
        (None, Some(hash)) => crate::keys::storage_key(def.id, hash, None),
        (None, None) => None,
    };
    prefix
        .and_then(|p| keycond::sort_prefix(p, &kc.sort_eq))
        .ok_or_else(|| {
            ApiError::invalid_parameter("Condition parameter type does not match schema type")
        })
}

/// Whether `key` lies inside the range.
fn within(key: &[u8], start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    let after_start = match start {
        Bound::Included(s) => key >= s.as_slice(),
        Bound::Excluded(s) => key > s.as_slice(),
        Bound::Unbounded => true,
    };
    let before_end = match end {
        Bound::Included(e) => key <= e.as_slice(),
        Bound::Excluded(e) => key < e.as_slice(),
        Bound::Unbounded => true,
    };
    after_start && before_end
}

/// A Query filter may not name the key attributes of the table or index it reads.
fn check_filter_keys(expression: bool, filter: Option<&Condition>, keys: &[&str]) -> ApiResult<()> {
    let Some(cond) = filter else { return Ok(()) };
    for path in crate::expr::validate::condition_paths(cond) {
        if let Some(top) = path.top().filter(|t| keys.contains(t)) {
            let which = if expression {
                "Filter Expression"
            } else {
                "QueryFilter"
            };
            return Err(ApiError::validation(format!(
                "{which} can only contain non-primary key attributes: Primary key attribute: {top}"
            )));
        }
    }
    Ok(())
}
