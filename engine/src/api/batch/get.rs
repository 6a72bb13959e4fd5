//! BatchGetItem: up to 100 keys across tables, each table with its own
//! ProjectionExpression / AttributesToGet / ExpressionAttributeNames / ConsistentRead,
//! read from one snapshot. Past 16 MB of items the remaining keys come back in
//! `UnprocessedKeys`, shaped like the request with the table's options kept;
//! `UnprocessedKeys` is always present (`{}` when everything was read).

use serde_json::{Map, Value};

use super::MAX_GET_RESPONSE_BYTES;
use super::{capacity_list, check_request_items, key_signature, MAX_GET_KEYS};
use crate::api::item::capacity::read_units;
use crate::api::item::params::{check_enum, CapacityMode, ExprParams, CAPACITY_ENUM};
use crate::api::item::{eval, legacy};
use crate::api::Ctx;
use crate::expr::ast::Projection;
use crate::keys::key_from_param;
use crate::model::value::{decode_item, Deferred};
use crate::model::Item;
use crate::storage::items;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};

/// One table's part of the request.
struct TableRead<'a> {
    name: &'a str,
    raw: Obj<'a>,
    keys: Vec<Item>,
    projection: Option<Projection>,
    consistent: bool,
}

pub async fn batch_get_item(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let capacity = o.str("ReturnConsumedCapacity")?;
    let (tables, mut v) = read_tables(o)?;
    let mut env = Violations::new();
    check_enum(&mut env, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    env.append(std::mem::take(&mut v));
    env.finish()?;
    let mut reads = Vec::new();
    let mut total = 0;
    for (name, t, keys, deferred) in tables {
        reads.push(check_table(name, t, keys, deferred, &mut total)?);
    }
    run(ctx, reads, CapacityMode::parse(capacity))
}

type Parsed<'a> = (&'a str, Obj<'a>, Vec<Item>, Deferred);

/// Shapes of `RequestItems` and its constraint violations.
fn read_tables(o: Obj<'_>) -> ApiResult<(Vec<Parsed<'_>>, Violations)> {
    let mut v = Violations::new();
    let raw = o.raw("RequestItems");
    let map = o.obj("RequestItems")?;
    let names: Vec<&str> = map
        .map(|m| m.0.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    if !check_request_items(&mut v, raw, &names, "BatchGetItem")? {
        return Ok((out, v));
    }
    let Some(map) = map else { return Ok((out, v)) };
    for (name, _) in map.0 {
        let Some(t) = map.obj(name)? else {
            v.not_null(&format!("requestItems.{name}.member.keys"));
            continue;
        };
        let mut deferred = Deferred::new();
        let keys = match t.list("Keys")? {
            None => {
                v.not_null(&format!("requestItems.{name}.member.keys"));
                Vec::new()
            }
            Some(list) => {
                // Today's DynamoDB names no value and capitalises the path here
                // (dynamodb-conformance captures, 2026).
                let path = format!("RequestItems.{name}.member.Keys");
                if list.is_empty() {
                    v.push_raw(format!("Value at '{path}' failed to satisfy constraint: Member must have length greater than or equal to 1"));
                }
                if list.len() > MAX_GET_KEYS {
                    v.push_raw(format!("Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {MAX_GET_KEYS}"));
                }
                list.iter()
                    .map(|k| decode_item(k, &mut deferred))
                    .collect::<ApiResult<Vec<_>>>()?
            }
        };
        if let Some(list) = t.str_list("AttributesToGet")? {
            let shown = format!("[{}]", list.join(", "));
            let path = format!("requestItems.{name}.member.attributesToGet");
            if list.is_empty() {
                v.push(
                    Some(&shown),
                    &path,
                    "Member must have length greater than or equal to 1",
                );
            }
            if list.len() > 255 {
                v.push(
                    Some(&shown),
                    &path,
                    "Member must have length less than or equal to 255",
                );
            }
        }
        t.bool("ConsistentRead")?;
        t.str("ProjectionExpression")?;
        ExprParams::read(t, false)?;
        out.push((name.as_str(), t, keys, deferred));
    }
    Ok((out, v))
}

/// dynalite's custom checks, per table in request order: expression parameters, key
/// values, duplicates, the 100-key total, AttributesToGet duplicates, expressions.
fn check_table<'a>(
    name: &'a str,
    t: Obj<'a>,
    keys: Vec<Item>,
    deferred: Deferred,
    total: &mut usize,
) -> ApiResult<TableRead<'a>> {
    let to_get = t.str_list("AttributesToGet")?;
    let projection_src = t.str("ProjectionExpression")?;
    let mut params = ExprParams::read(t, false)?;
    params.check_usage(
        &[("ProjectionExpression", projection_src.is_some())],
        &[("AttributesToGet", to_get.is_some())],
        &[],
    )?;
    deferred.into_result()?;
    let mut seen = std::collections::HashSet::new();
    for key in &keys {
        if !seen.insert(key_signature(key)) {
            return Err(ApiError::validation(
                "Provided list of item keys contains duplicates",
            ));
        }
        *total += 1;
        if *total > MAX_GET_KEYS {
            return Err(ApiError::validation(
                "Too many items requested for the BatchGetItem call",
            ));
        }
    }
    let legacy_projection = to_get
        .as_deref()
        .map(legacy::attributes_to_get)
        .transpose()?;
    let mut resolver = params.resolver()?;
    let projection = match projection_src {
        Some(src) => Some(resolver.projection_expr(src)?),
        None => legacy_projection,
    };
    resolver.finish()?;
    Ok(TableRead {
        name,
        raw: t,
        keys,
        projection,
        consistent: t.bool("ConsistentRead")?.unwrap_or(false),
    })
}

/// Looks the tables and keys up, then reads everything from one snapshot.
fn run(ctx: &Ctx, reads: Vec<TableRead<'_>>, mode: CapacityMode) -> ApiResult<Value> {
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let mut resolved = Vec::new();
    for r in &reads {
        let def = ctx.data_table(&txn, r.name, now)?;
        let keys = r
            .keys
            .iter()
            .map(|k| key_from_param(&def, k))
            .collect::<ApiResult<Vec<_>>>()?;
        resolved.push((keys, ctx.gate(&def, "BatchGetItem")));
    }
    let mut responses = Map::new();
    let mut unprocessed = Map::new();
    let mut capacity = Vec::new();
    let mut bytes = 0usize;
    // Under throttling: keys whose table's bucket is empty stay unprocessed; when no key
    // at all was read, the first throttle is the answer.
    let mut throttled: Option<crate::wire::ApiError> = None;
    let mut processed = 0usize;
    for (r, (keys, mut gate)) in reads.iter().zip(resolved) {
        let mut found = Vec::new();
        let mut units = 0.0;
        let mut left = Vec::new();
        // Past the response size every key stays unprocessed; a throttled key alone does
        // (another key may have its own partition's units).
        for (key, raw) in keys.iter().zip(&r.keys) {
            if bytes >= MAX_GET_RESPONSE_BYTES {
                left.push(serde_json::to_value(raw).map_err(crate::storage::internal)?);
                continue;
            }
            if let Some(g) = gate.as_mut() {
                g.set_key(&key.storage);
            }
            if let Some(Err(e)) = gate.as_ref().map(|g| g.admit_read(None, r.consistent, now)) {
                throttled.get_or_insert(e);
                left.push(serde_json::to_value(raw).map_err(crate::storage::internal)?);
                continue;
            }
            let stored = items::get(&txn, &key.storage)?;
            let size = stored.as_ref().map(|s| s.size());
            if bytes + size.unwrap_or(0) > MAX_GET_RESPONSE_BYTES {
                bytes = MAX_GET_RESPONSE_BYTES;
                left.push(serde_json::to_value(raw).map_err(crate::storage::internal)?);
                continue;
            }
            bytes += size.unwrap_or(0);
            processed += 1;
            let u = read_units(size, r.consistent);
            if let Some(g) = &gate {
                g.debit_read(None, u, now);
            }
            units += u;
            if let Some(stored) = stored {
                let item = stored.item()?;
                let item = match &r.projection {
                    Some(p) => eval::project(&item, p),
                    None => item,
                };
                found.push(serde_json::to_value(item).map_err(crate::storage::internal)?);
            }
        }
        if left.len() < r.keys.len() {
            responses.insert(r.name.to_string(), Value::Array(found));
        }
        if !left.is_empty() {
            let mut kept = r.raw.0.clone();
            kept.insert("Keys".into(), Value::Array(left));
            unprocessed.insert(r.name.to_string(), Value::Object(kept));
        }
        capacity.push((r.name.to_string(), units));
    }
    if let (Some(e), 0) = (throttled, processed) {
        return Err(e);
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Value::Object(responses));
    out.insert("UnprocessedKeys".into(), Value::Object(unprocessed));
    if let Some(c) = capacity_list(mode, &capacity) {
        out.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(out))
}
