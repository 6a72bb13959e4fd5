//! The item operations' bridge to the expression evaluator (`expr::eval`): conditions on
//! an optional old item, projections and updates.

use crate::expr::ast::{Condition, Projection, Update};
use crate::expr::eval::Values;
use crate::expr::ExprKind;
use crate::model::Item;
use crate::wire::{ApiError, ApiResult};

/// Checks that need only the request's values (e.g. BETWEEN bounds of different types).
pub fn check_condition(c: &Condition, values: &Values, kind: ExprKind) -> ApiResult<()> {
    crate::expr::eval::check_condition_values(c, values, kind)
}

/// Checks of an update that need only the request's values (ADD/DELETE operand types).
pub fn check_update(u: &Update, values: &Values) -> ApiResult<()> {
    crate::expr::eval::check_update_values(u, values)
}

/// Whether the item (absent: the empty item) satisfies the condition.
pub fn holds(c: &Condition, item: Option<&Item>, values: &Values) -> bool {
    let empty = Item::new();
    crate::expr::eval::eval_condition(c, item.unwrap_or(&empty), values)
}

/// The item restricted to the projection's paths.
pub fn project(item: &Item, p: &Projection) -> Item {
    crate::expr::eval::project(item, &p.paths)
}

/// The item after the update.
pub fn apply(item: &Item, u: &Update, values: &Values) -> Result<Item, ApiError> {
    crate::expr::eval::apply_update(item, u, values).map(|o| o.item)
}
