//! PutItem: replaces an item, under an optional ConditionExpression or legacy Expected.

use serde_json::{Map, Value};

use super::simple::SimpleWrite;
use crate::api::Ctx;
use crate::keys::key_from_item;
use crate::model::size::{item_size, MAX_ITEM_SIZE};
use crate::wire::{ApiError, ApiResult};
use crate::write::Action;

pub async fn put_item(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let mut req = SimpleWrite::read(body, "Item", |item| {
        if item_size(item) > MAX_ITEM_SIZE {
            return Err(ApiError::validation(
                "Item size has exceeded the maximum allowed size",
            ));
        }
        Ok(())
    })?;
    let def = ctx.data_table(&ctx.store.read()?, &req.common.table, ctx.now_ms())?;
    let key = key_from_item(&def, &req.target)?;
    let item = std::mem::take(&mut req.target);
    req.run(ctx, def, key, Action::put(item)).await
}
