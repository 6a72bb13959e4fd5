//! TransactGetItems: up to 100 Get actions read from one MVCC snapshot — an atomic view
//! of every item at one point between commits — answered in request order, at twice the
//! read units of a consistent read.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::MAX_TRANSACTION_BYTES;
use super::{
    cancelled, check_items_length, multiple_operations, too_big, validation_cancel, Reason,
};
use crate::api::batch::capacity_list;
use crate::api::item::capacity::read_units;
use crate::api::item::eval;
use crate::api::item::params::{
    attribute_map, check_enum, CapacityMode, ExprParams, CAPACITY_ENUM,
};
use crate::api::Ctx;
use crate::expr::ast::Projection;
use crate::keys::key_from_param;
use crate::model::value::Deferred;
use crate::model::Item;
use crate::storage::items;
use crate::wire::shape::{check_table_name, Obj, Violations};
use crate::wire::ApiResult;

struct GetAction<'a> {
    table: &'a str,
    key: Item,
    projection: Option<Projection>,
}

pub async fn transact_get_items(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let capacity = o.str("ReturnConsumedCapacity")?;
    let list = o.obj_list("TransactItems")?;
    let mut v = Violations::new();
    check_enum(&mut v, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    check_items_length(
        &mut v,
        o.raw("TransactItems"),
        list.as_ref().map(Vec::len).unwrap_or(0),
    );
    let mut parsed = Vec::new();
    for (i, entry) in list.iter().flatten().enumerate() {
        let path = format!("transactItems.{}.member.get", i + 1);
        let Some(g) = entry.obj("Get")? else {
            v.not_null(&path);
            continue;
        };
        let mut deferred = Deferred::new();
        let key = attribute_map(g, "Key", &mut deferred)?;
        let table = g.str("TableName")?;
        let projection = g.str("ProjectionExpression")?;
        let params = ExprParams::read(g, false)?;
        match table {
            None => v.not_null(&format!("{path}.tableName")),
            Some(t) => check_table_name(&mut v, t, &format!("{path}.tableName")),
        }
        if key.is_none() {
            v.not_null(&format!("{path}.key"));
        }
        parsed.push((
            table.unwrap_or_default(),
            key.unwrap_or_default(),
            projection,
            params,
            deferred,
        ));
    }
    v.finish()?;

    // Request-level checks: expression parameters, values, projections.
    let mut actions = Vec::new();
    for (table, key, projection_src, mut params, deferred) in parsed {
        params.check_usage(
            &[("ProjectionExpression", projection_src.is_some())],
            &[],
            &[],
        )?;
        deferred.into_result()?;
        let mut resolver = params.resolver()?;
        let projection = projection_src
            .map(|src| resolver.projection_expr(src))
            .transpose()?;
        resolver.finish()?;
        actions.push(GetAction {
            table,
            key,
            projection,
        });
    }

    // One snapshot for table lookups, key checks and every read.
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let mut keys = Vec::new();
    let mut gates = Vec::new();
    for (i, a) in actions.iter().enumerate() {
        let def = ctx.data_table(&txn, a.table, now)?;
        match key_from_param(&def, &a.key) {
            Ok(k) => {
                gates.push(
                    ctx.gate(&def, "TransactGetItems")
                        .map(|g| g.for_key(&k.storage)),
                );
                keys.push(k);
            }
            Err(e) => return Err(validation_cancel(actions.len(), i, &e)),
        }
    }
    let mut seen = HashSet::new();
    if !keys.iter().all(|k| seen.insert(k.storage.clone())) {
        return Err(multiple_operations());
    }
    admit(&gates, now)?;
    let mut responses = Vec::new();
    let mut units: Vec<(String, f64)> = Vec::new();
    let mut bytes = 0usize;
    for (a, key) in actions.iter().zip(&keys) {
        let stored = items::get(&txn, &key.storage)?;
        let size = stored.as_ref().map(|s| s.size());
        bytes += size.unwrap_or(0);
        if bytes > MAX_TRANSACTION_BYTES {
            return Err(too_big());
        }
        let u = 2.0 * read_units(size, true);
        if let Some(g) = &gates[responses.len()] {
            g.debit_read(None, u, now);
        }
        match units.iter_mut().find(|(t, _)| t == a.table) {
            Some(slot) => slot.1 += u,
            None => units.push((a.table.to_string(), u)),
        }
        responses.push(match stored {
            None => json!({}),
            Some(s) => {
                let item = s.item()?;
                let item = match &a.projection {
                    Some(p) => eval::project(&item, p),
                    None => item,
                };
                json!({"Item": item})
            }
        });
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Value::Array(responses));
    if let Some(mut c) = capacity_list(CapacityMode::parse(capacity), &units) {
        crate::api::item::capacity::mirror_axis(&mut c, "ReadCapacityUnits");
        out.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(out))
}

/// Under throttling: every read must find its table's bucket holding at least 2 units (a
/// transactional read's least cost), else the transaction is cancelled with the
/// throttled items' reasons.
fn admit(gates: &[Option<crate::capacity::Gate>], now: i64) -> ApiResult<()> {
    if gates.iter().all(Option::is_none) {
        return Ok(());
    }
    let throttles: Vec<Option<crate::capacity::Throttle>> = gates
        .iter()
        .map(|g| g.as_ref()?.check_read(None, 2.0, now).err())
        .collect();
    if throttles.iter().all(Option::is_none) {
        return Ok(());
    }
    let reasons: Vec<Reason> = throttles
        .iter()
        .map(|t| match t {
            Some(t) => Reason::Throttled {
                code: t.cancellation_code(),
                message: t.message(),
            },
            None => Reason::None,
        })
        .collect();
    Err(cancelled(&reasons))
}
