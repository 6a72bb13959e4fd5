//! PutItem and DeleteItem share every parameter but their target (`Item` or `Key`): this
//! reads and checks them once, in DynamoDB's order (shapes → constraint envelope → mixing
//! and deferred value errors → ReturnValues → the target's own check → expressions), and
//! runs the write.

use serde_json::{Map, Value};

use super::params::{
    attribute_map, check_enum, ExprParams, CAPACITY_ENUM, CONDITIONAL_OPERATOR_ENUM, METRICS_ENUM,
    ON_FAILURE_ENUM, RETURN_VALUES_ENUM,
};
use super::{legacy, respond, Condition, WriteCommon};
use crate::api::Ctx;
use crate::catalog::TableDef;
use crate::expr::ExprKind;
use crate::keys::PrimaryKey;
use crate::model::value::Deferred;
use crate::model::Item;
use crate::wire::shape::{check_item_table_name, Obj, Violations};
use crate::wire::{ApiError, ApiResult};
use crate::write::{write_one_gated, Action};

/// A checked PutItem or DeleteItem, up to the table lookup.
pub(crate) struct SimpleWrite<'a> {
    pub common: WriteCommon,
    /// The `Item` (PutItem) or the `Key` (DeleteItem).
    pub target: Item,
    pub condition: Option<Condition>,
    pub return_values: Option<&'a str>,
}

impl<'a> SimpleWrite<'a> {
    /// Reads `body` whose target member is `member` ("Item" or "Key"); `check_target` runs
    /// where DynamoDB checks the target itself (PutItem: the item size).
    pub fn read(
        body: &'a Map<String, Value>,
        member: &str,
        check_target: impl FnOnce(&Item) -> ApiResult<()>,
    ) -> ApiResult<SimpleWrite<'a>> {
        // Shapes.
        let o = Obj(body);
        let capacity = o.str("ReturnConsumedCapacity")?;
        let name = o.str("TableName")?;
        let mut deferred = Deferred::new();
        let target = attribute_map(o, member, &mut deferred)?;
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
        let name = check_item_table_name(&mut env, name);
        if target.is_none() {
            env.not_null(&lower_first(member));
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
        let target = target.unwrap_or_default();
        check_target(&target)?;
        let mut resolver = params.resolver()?;
        let expr = condition_src
            .map(|src| resolver.condition_expr(src, ExprKind::Condition))
            .transpose()?;
        resolver.finish()?;
        let condition = Condition::checked(&params, expr, expected.as_deref(), operator)?;
        Ok(SimpleWrite {
            common: WriteCommon::new(name, capacity, metrics, on_failure),
            target,
            condition,
            return_values,
        })
    }

    /// Writes through the one write path and answers (with the old item for ALL_OLD).
    pub async fn run(
        self,
        ctx: &Ctx,
        def: TableDef,
        key: PrimaryKey,
        action: Action,
    ) -> ApiResult<Value> {
        let op = match &action {
            Action::Delete => "DeleteItem",
            _ => "PutItem",
        };
        let spec = self
            .common
            .spec(def.clone(), key.clone(), self.condition, action);
        let gate = ctx.gate(&def, op);
        let written = write_one_gated(&ctx.store, ctx.now_ms(), spec, gate).await?;
        let attributes = match self.return_values {
            Some("ALL_OLD") => written.old_item()?,
            _ => None,
        };
        respond(&self.common, &def, &key, &written, attributes)
    }
}

/// `Item` → `item`: the envelope's path spelling.
fn lower_first(member: &str) -> String {
    let mut chars = member.chars();
    chars
        .next()
        .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
