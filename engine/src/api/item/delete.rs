//! DeleteItem: removes an item by its key, under an optional ConditionExpression or
//! legacy Expected. Deleting a missing item succeeds (and still costs one write unit).

use serde_json::{Map, Value};

use super::simple::SimpleWrite;
use crate::api::Ctx;
use crate::keys::key_from_param;
use crate::wire::ApiResult;
use crate::write::Action;

pub async fn delete_item(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let req = SimpleWrite::read(body, "Key", |_| Ok(()))?;
    let def = ctx.data_table(&ctx.store.read()?, &req.common.table, ctx.now_ms())?;
    let key = key_from_param(&def, &req.target)?;
    req.run(ctx, def, key, Action::Delete).await
}
