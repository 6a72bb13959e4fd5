//! GetItem: one item by its key from a snapshot. Without a projection the stored JSON is
//! copied into the answer as is; with ProjectionExpression or AttributesToGet the item is
//! decoded and projected.

use serde_json::{Map, Value};

use super::capacity::{consumed, read_units};
use super::params::{attribute_map, check_enum, CapacityMode, ExprParams, CAPACITY_ENUM};
use super::{eval, legacy};
use crate::api::Ctx;
use crate::expr::ast::Projection;
use crate::keys::key_from_param;
use crate::model::value::Deferred;
use crate::storage::items;
use crate::wire::shape::{check_item_table_name, Obj, Violations};
use crate::wire::ApiResult;

pub async fn get_item(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Vec<u8>> {
    // Shapes.
    let o = Obj(body);
    let capacity = o.str("ReturnConsumedCapacity")?;
    let to_get = o.str_list("AttributesToGet")?;
    let name = o.str("TableName")?;
    let mut deferred = Deferred::new();
    let key = attribute_map(o, "Key", &mut deferred)?;
    let consistent = o.bool("ConsistentRead")?.unwrap_or(false);
    let projection_src = o.str("ProjectionExpression")?;
    let mut params = ExprParams::read(o, false)?;

    // Constraints, in DynamoDB's member order.
    let mut v = Violations::new();
    check_enum(&mut v, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    if let Some(list) = &to_get {
        let shown = format!("[{}]", list.join(", "));
        if list.is_empty() {
            v.push(
                Some(&shown),
                "attributesToGet",
                "Member must have length greater than or equal to 1",
            );
        }
        if list.len() > 255 {
            v.push(
                Some(&shown),
                "attributesToGet",
                "Member must have length less than or equal to 255",
            );
        }
    }
    let name = check_item_table_name(&mut v, name);
    if key.is_none() {
        v.not_null("key");
    }
    v.finish()?;

    // Semantic checks.
    params.check_usage(
        &[("ProjectionExpression", projection_src.is_some())],
        &[("AttributesToGet", to_get.is_some())],
        &[],
    )?;
    deferred.into_result()?;
    let legacy_projection = to_get
        .as_deref()
        .map(legacy::attributes_to_get)
        .transpose()?;
    let mut resolver = params.resolver()?;
    let projection: Option<Projection> = match projection_src {
        Some(src) => Some(resolver.projection_expr(src)?),
        None => legacy_projection,
    };
    resolver.finish()?;

    // Table, key, read.
    let key = key.unwrap_or_default();
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let def = ctx.data_table(&txn, name, now)?;
    let key = key_from_param(&def, &key)?;
    let gate = ctx.gate(&def, "GetItem").map(|g| g.for_key(&key.storage));
    if let Some(g) = &gate {
        g.admit_read(None, consistent, now)?;
    }
    let stored = items::get(&txn, &key.storage)?;
    let units = read_units(stored.as_ref().map(|s| s.size()), consistent);
    if let Some(g) = &gate {
        g.debit_read(None, units, now);
    }
    let capacity = consumed(CapacityMode::parse(capacity), name, units);

    let mut out = Vec::with_capacity(stored.as_ref().map(|s| s.0.len()).unwrap_or(0) + 64);
    out.push(b'{');
    if let Some(stored) = &stored {
        match &projection {
            None => {
                out.extend_from_slice(b"\"Item\":");
                out.extend_from_slice(stored.json());
            }
            Some(p) => {
                let item = eval::project(&stored.item()?, p);
                out.extend_from_slice(b"\"Item\":");
                serde_json::to_writer(&mut out, &item).map_err(crate::storage::internal)?;
            }
        }
    }
    if let Some(c) = capacity {
        if stored.is_some() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"ConsumedCapacity\":");
        serde_json::to_writer(&mut out, &c).map_err(crate::storage::internal)?;
    }
    out.push(b'}');
    Ok(out)
}
