//! UpdateItem: applies an UpdateExpression (or legacy AttributeUpdates, translated into
//! the same AST) to the item — creating it from its key if missing — under an optional
//! condition; ReturnValues NONE / ALL_OLD / UPDATED_OLD / ALL_NEW / UPDATED_NEW.

use serde_json::{Map, Value};

use super::params::{
    attribute_map, check_enum, ExprParams, CAPACITY_ENUM, CONDITIONAL_OPERATOR_ENUM, METRICS_ENUM,
    ON_FAILURE_ENUM, RETURN_VALUES_ENUM,
};
use super::{eval, legacy, respond, Condition, WriteCommon};
use crate::api::Ctx;
use crate::catalog::TableDef;
use crate::expr::ast::{PathElem, Projection, Update};
use crate::expr::ExprKind;
use crate::keys::{is_key_attribute, key_from_param};
use crate::model::value::Deferred;
use crate::wire::shape::{check_item_table_name, Obj, Violations};
use crate::wire::{ApiError, ApiResult};
use crate::write::{write_one_gated, Action};

pub async fn update_item(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    // Shapes.
    let o = Obj(body);
    let capacity = o.str("ReturnConsumedCapacity")?;
    let name = o.str("TableName")?;
    let metrics = o.str("ReturnItemCollectionMetrics")?;
    let return_values = o.str("ReturnValues")?;
    let mut deferred = Deferred::new();
    let key = attribute_map(o, "Key", &mut deferred)?;
    let operator = o.str("ConditionalOperator")?;
    let mut v = Violations::new();
    let expected = legacy::read_expected(o, &mut v, &mut deferred)?;
    let updates = legacy::read_attribute_updates(o, &mut deferred)?;
    let condition_src = o.str("ConditionExpression")?;
    let update_src = o.str("UpdateExpression")?;
    let on_failure = o.str("ReturnValuesOnConditionCheckFailure")?;
    let mut params = ExprParams::read(o, true)?;

    // Constraints, in DynamoDB's member order.
    let mut env = Violations::new();
    check_enum(&mut env, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    let name = check_item_table_name(&mut env, name);
    check_enum(
        &mut env,
        metrics,
        "returnItemCollectionMetrics",
        METRICS_ENUM,
    );
    check_enum(&mut env, return_values, "returnValues", RETURN_VALUES_ENUM);
    if key.is_none() {
        env.not_null("key");
    }
    check_enum(
        &mut env,
        operator,
        "conditionalOperator",
        CONDITIONAL_OPERATOR_ENUM,
    );
    env.append(v);
    check_enum(
        &mut env,
        on_failure,
        "returnValuesOnConditionCheckFailure",
        ON_FAILURE_ENUM,
    );
    env.finish()?;

    // Semantic checks.
    params.check_usage(
        &[
            ("UpdateExpression", update_src.is_some()),
            ("ConditionExpression", condition_src.is_some()),
        ],
        &[
            ("AttributeUpdates", updates.is_some()),
            ("Expected", expected.is_some()),
        ],
        &["UpdateExpression", "ConditionExpression"],
    )?;
    deferred.into_result()?;
    if let Some(u) = &updates {
        legacy::check_attribute_updates(u)?;
    }
    let mut resolver = params.resolver()?;
    let update_expr = update_src
        .map(|src| resolver.update_expr(src))
        .transpose()?;
    let cond_expr = condition_src
        .map(|src| resolver.condition_expr(src, ExprKind::Condition))
        .transpose()?;
    resolver.finish()?;
    let condition = Condition::checked(&params, cond_expr, expected.as_deref(), operator)?;
    let mut values = params.value_map();
    let update = match (update_expr, &updates) {
        (Some(u), _) => u,
        (None, Some(list)) => {
            let mut lv = legacy::LegacyValues::default();
            let u = legacy::updates_to_ast(list, &mut lv);
            values.extend(lv.0);
            u
        }
        (None, None) => Update { clauses: vec![] },
    };
    eval::check_update(&update, &values)?;

    // Table, key, write.
    let common = WriteCommon::new(name, capacity, metrics, on_failure);
    let def = ctx.data_table(&ctx.store.read()?, &common.table, ctx.now_ms())?;
    let key = key_from_param(&def, &key.unwrap_or_default())?;
    check_key_untouched(&def, &update)?;
    if let Some(list) = &updates {
        check_legacy_index_values(&def, list)?;
    }
    let targets = Projection {
        paths: update
            .clauses
            .iter()
            .flat_map(|c| c.target_paths())
            .cloned()
            .collect(),
    };
    let only_removes = update.only_removes();
    let apply = Box::new(move |item| eval::apply(&item, &update, &values));
    let action = if only_removes {
        Action::UpdateExisting(apply)
    } else {
        Action::Update(apply)
    };
    let spec = common.spec(def.clone(), key.clone(), condition, action);
    let written =
        write_one_gated(&ctx.store, ctx.now_ms(), spec, ctx.gate(&def, "UpdateItem")).await?;
    let attributes = match return_values {
        Some("ALL_OLD") => written.old_item()?,
        Some("UPDATED_OLD") => written.old()?.map(|o| eval::project(&o, &targets)),
        Some("ALL_NEW") => written.new.clone(),
        Some("UPDATED_NEW") => written.new.as_ref().map(|n| eval::project(n, &targets)),
        _ => None,
    };
    respond(&common, &def, &key, &written, attributes)
}

/// AttributeUpdates PUT values for index key attributes are checked like an item's
/// (Alternator `test_gsi_wrong_type_attribute_update`: "Type mismatch …" on DynamoDB),
/// not with the UpdateExpression texts.
fn check_legacy_index_values(def: &TableDef, updates: &[legacy::AttributeUpdate]) -> ApiResult<()> {
    let puts: crate::model::Item = updates
        .iter()
        .filter(|u| u.action.as_deref().unwrap_or("PUT") == "PUT")
        .filter_map(|u| Some((u.attr.clone(), u.value.clone()?)))
        .collect();
    crate::keys::check_index_keys(def, &puts, crate::keys::IndexContext::Item)
}

/// No clause may write a primary key attribute, nor a path inside one; nor a path
/// inside a secondary-index key attribute.
pub(crate) fn check_key_untouched(def: &TableDef, update: &Update) -> ApiResult<()> {
    for clause in &update.clauses {
        for path in clause.target_paths() {
            let Some(top) = path.top() else { continue };
            let nested =
                path.elems.len() > 1 || !matches!(path.elems.first(), Some(PathElem::Attr(_)));
            if nested
                && !is_key_attribute(def, top)
                && crate::index::all(def).any(|ix| ix.keys.names().any(|n| n == top))
            {
                // DynamoDB Local's text (the base-key one with "IndexKey").
                return Err(ApiError::validation(format!(
                    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: IndexKey: {top}"
                )));
            }
            if !is_key_attribute(def, top) {
                continue;
            }
            if path.elems.len() > 1 || !matches!(path.elems.first(), Some(PathElem::Attr(_))) {
                return Err(ApiError::validation(format!(
                    "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: Key: {top}"
                )));
            }
            return Err(ApiError::invalid_parameter(format!(
                "Cannot update attribute {top}. This attribute is part of the key"
            )));
        }
    }
    Ok(())
}
