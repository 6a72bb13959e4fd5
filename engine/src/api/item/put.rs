//! PutItem: replaces an item, under an optional ConditionExpression or legacy Expected.

use serde_json::{Map, Value};

use super::params::{
    attribute_map, check_enum, ExprParams, CAPACITY_ENUM, CONDITIONAL_OPERATOR_ENUM, METRICS_ENUM,
    ON_FAILURE_ENUM, RETURN_VALUES_ENUM,
};
use super::{legacy, respond, Condition, WriteCommon};
use crate::api::Ctx;
use crate::expr::ExprKind;
use crate::keys::key_from_item;
use crate::model::size::{item_size, MAX_ITEM_SIZE};
use crate::model::value::Deferred;
use crate::wire::shape::{check_table_name, required, Obj, Violations};
use crate::wire::{ApiError, ApiResult};
use crate::write::{write_one, Action};

pub async fn put_item(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    // Shapes.
    let o = Obj(body);
    let capacity = o.str("ReturnConsumedCapacity")?;
    let name = o.str("TableName")?;
    let mut deferred = Deferred::new();
    let item = attribute_map(o, "Item", &mut deferred)?;
    let operator = o.str("ConditionalOperator")?;
    let mut v = Violations::new();
    let expected = legacy::read_expected(o, &mut v, &mut deferred)?;
    let return_values = o.str("ReturnValues")?;
    let metrics = o.str("ReturnItemCollectionMetrics")?;
    let condition_src = o.str("ConditionExpression")?;
    let on_failure = o.str("ReturnValuesOnConditionCheckFailure")?;
    let mut params = ExprParams::read(o, true)?;

    // Constraints (the Expected ones were recorded while reading).
    let mut env = Violations::new();
    check_enum(&mut env, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    let name = required(name, "TableName")?;
    check_table_name(&mut env, name, "tableName");
    if item.is_none() {
        env.not_null("item");
    }
    check_enum(
        &mut env,
        operator,
        "conditionalOperator",
        CONDITIONAL_OPERATOR_ENUM,
    );
    env.append(v);
    check_enum(&mut env, return_values, "returnValues", RETURN_VALUES_ENUM);
    check_enum(
        &mut env,
        metrics,
        "returnItemCollectionMetrics",
        METRICS_ENUM,
    );
    check_enum(
        &mut env,
        on_failure,
        "returnValuesOnConditionCheckFailure",
        ON_FAILURE_ENUM,
    );
    env.finish()?;

    // Semantic checks.
    params.check_usage(
        &[("ConditionExpression", condition_src.is_some())],
        &[("Expected", expected.is_some())],
        &["ConditionExpression"],
    )?;
    deferred.into_result()?;
    if !matches!(return_values, None | Some("NONE") | Some("ALL_OLD")) {
        return Err(ApiError::validation("Return values set to invalid value"));
    }
    let item = item.unwrap_or_default();
    if item_size(&item) > MAX_ITEM_SIZE {
        return Err(ApiError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    let mut resolver = params.resolver()?;
    let expr = condition_src
        .map(|src| resolver.condition_expr(src, ExprKind::Condition))
        .transpose()?;
    resolver.finish()?;
    let condition = Condition::checked(&params, expr, expected.as_deref(), operator)?;

    // Table, key, write.
    let common = WriteCommon::new(name, capacity, metrics, on_failure);
    let def = ctx.data_table(&ctx.store.read()?, &common.table, ctx.now_ms())?;
    let key = key_from_item(&def, &item)?;
    let spec = common.spec(def.clone(), key.clone(), condition, Action::Put(item));
    let written = write_one(&ctx.store, ctx.now_ms(), spec).await?;
    let attributes = match return_values {
        Some("ALL_OLD") => written.old.clone(),
        _ => None,
    };
    respond(&common, &def, &key, &written, attributes)
}
