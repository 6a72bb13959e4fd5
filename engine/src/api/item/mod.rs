//! The single-item operations — GetItem, PutItem, UpdateItem, DeleteItem — and what the
//! writes share: turning ConditionExpression / Expected into one checked condition, the
//! write spec for `write::apply`, and the answer (Attributes, ConsumedCapacity,
//! ItemCollectionMetrics).
//!
//! Order of checks in every operation (dynalite `validations/*.js`, captured from
//! DynamoDB): shapes → constraint envelope → expression-parameter usage → deferred
//! attribute-value errors → operation checks (ReturnValues, item size, legacy
//! parameters) → expression maps, parsing and unused placeholders → table lookup → key
//! and item checks → condition.

pub(crate) mod capacity;
mod delete;
pub(crate) mod eval;
mod get;
pub(crate) mod legacy;
pub(crate) mod params;
mod put;
mod simple;
mod update;

#[cfg(test)]
mod tests;

pub use delete::delete_item;
pub use get::get_item;
pub use put::put_item;
pub(crate) use update::check_key_untouched;
pub use update::update_item;

use serde_json::{json, Map, Value};

use crate::capacity::report;
use crate::catalog::TableDef;
use crate::expr::eval::Values;
use crate::expr::ExprKind;
use crate::keys::PrimaryKey;
use crate::model::Item;
use crate::wire::{ApiError, ApiResult};
use crate::write::{Action, Precondition, WriteSpec, Written};
use legacy::{ExpectedEntry, LegacyValues};
use params::{CapacityMode, ExprParams};

/// A resolved, value-checked condition with the values it reads.
#[derive(Clone)]
pub struct Condition {
    cond: crate::expr::ast::Condition,
    values: Values,
}

impl Condition {
    /// The write's condition: a parsed ConditionExpression, or legacy Expected (with
    /// ConditionalOperator) translated into the same AST, or none.
    pub fn checked(
        params: &ExprParams,
        expr: Option<crate::expr::ast::Condition>,
        expected: Option<&[ExpectedEntry]>,
        operator: Option<&str>,
    ) -> ApiResult<Option<Condition>> {
        let mut values = params.value_map();
        if operator.is_some() {
            match expected.map(<[_]>::len).unwrap_or(0) {
                0 => {
                    return Err(ApiError::validation(
                        "ConditionalOperator cannot be used without Filter or Expected",
                    ))
                }
                1 => return Err(ApiError::validation(
                    "ConditionalOperator can only be used when Filter or Expected has two or more elements",
                )),
                _ => {}
            }
        }
        let cond = match (expr, expected) {
            (Some(c), _) => Some(c),
            (None, Some(entries)) => {
                let mut lv = LegacyValues::default();
                let c = legacy::expected_condition(entries, operator == Some("OR"), &mut lv)?;
                values.extend(lv.0);
                c
            }
            (None, None) => None,
        };
        match cond {
            None => Ok(None),
            Some(cond) => {
                eval::check_condition(&cond, &values, ExprKind::Condition)?;
                Ok(Some(Condition { cond, values }))
            }
        }
    }

    /// The condition as the write path takes it.
    pub(crate) fn into_precondition(self) -> Box<dyn Precondition> {
        Box::new(move |old: Option<&Item>| Ok(eval::holds(&self.cond, old, &self.values)))
    }
}

/// What every write answers with, besides its attributes.
pub struct WriteCommon {
    pub table: String,
    pub capacity: CapacityMode,
    pub metrics: bool,
    pub old_on_failure: bool,
}

impl WriteCommon {
    pub fn new(
        table: &str,
        capacity: Option<&str>,
        metrics: Option<&str>,
        on_failure: Option<&str>,
    ) -> WriteCommon {
        WriteCommon {
            table: table.to_string(),
            capacity: CapacityMode::parse(capacity),
            metrics: metrics == Some("SIZE"),
            old_on_failure: on_failure == Some("ALL_OLD"),
        }
    }

    pub fn spec(
        &self,
        table: TableDef,
        key: PrimaryKey,
        condition: Option<Condition>,
        action: Action,
    ) -> WriteSpec {
        WriteSpec {
            table,
            key,
            condition: condition.map(Condition::into_precondition),
            old_on_failure: self.old_on_failure,
            action,
        }
    }
}

/// How a write's ConsumedCapacity is shaped for `mode` (`None`: not asked for);
/// `mirror_write` for TransactWriteItems.
pub(crate) fn write_shape(mode: CapacityMode, mirror_write: bool) -> Option<report::Shape> {
    match mode {
        CapacityMode::None => None,
        CapacityMode::Total => Some(report::Shape {
            indexes: false,
            mirror_write,
        }),
        CapacityMode::Indexes => Some(report::Shape {
            indexes: true,
            mirror_write,
        }),
    }
}

/// The answer of a write: `Attributes` (when asked for and not empty), then
/// `ConsumedCapacity` and `ItemCollectionMetrics` (tables with an LSI only).
pub fn respond(
    common: &WriteCommon,
    def: &TableDef,
    key: &PrimaryKey,
    written: &Written,
    attributes: Option<Item>,
) -> ApiResult<Value> {
    let mut out = Map::new();
    if let Some(attrs) = attributes.filter(|a| !a.is_empty()) {
        out.insert(
            "Attributes".into(),
            serde_json::to_value(attrs).map_err(crate::storage::internal)?,
        );
    }
    if let Some(shape) = write_shape(common.capacity, false) {
        let cost = report::written_cost(def, written, 1.0);
        out.insert(
            "ConsumedCapacity".into(),
            report::consumed(&common.table, &cost, shape),
        );
    }
    if common.metrics && !def.lsis.is_empty() {
        let hash: Item = key
            .attrs
            .iter()
            .filter(|(k, _)| **k == def.keys.hash)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.insert(
            "ItemCollectionMetrics".into(),
            json!({
                "ItemCollectionKey": serde_json::to_value(hash).map_err(crate::storage::internal)?,
                "SizeEstimateRangeGB": [0.0, 1.0],
            }),
        );
    }
    Ok(Value::Object(out))
}
