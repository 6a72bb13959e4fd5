//! BatchWriteItem: up to 25 PutRequest / DeleteRequest entries across tables. Each item
//! is validated as PutItem validates it, duplicates (numbers by value) are rejected, and
//! every write goes through `write::apply` inside one group commit — each write atomic,
//! the batch not. `UnprocessedItems` is always present (`{}` when all were written).
//!
//! No 16 MB check: 25 items of at most 400 KB cannot reach it.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::{check_request_items, java_text, MAX_WRITE_REQUESTS};
use crate::api::item::params::{check_enum, CapacityMode, CAPACITY_ENUM, METRICS_ENUM};
use crate::api::item::write_shape;
use crate::api::Ctx;
use crate::capacity::{report, Gate, WriteCost};
use crate::catalog::TableDef;
use crate::keys::{key_from_item, key_from_param, PrimaryKey};
use crate::model::size::{item_size, MAX_ITEM_SIZE};
use crate::model::value::{decode_item, Deferred};
use crate::model::Item;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};
use crate::write::{apply_gated, Action, WriteSpec, Written};

/// One Put or Delete as read from the request.
enum Request {
    Put(Item),
    Delete(Item),
}

pub async fn batch_write_item(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let capacity = o.str("ReturnConsumedCapacity")?;
    let metrics = o.str("ReturnItemCollectionMetrics")?;
    let (tables, v) = read_tables(o)?;
    let mut env = Violations::new();
    check_enum(&mut env, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    check_enum(
        &mut env,
        metrics,
        "returnItemCollectionMetrics",
        METRICS_ENUM,
    );
    env.append(v);
    env.finish()?;

    // dynalite's custom checks: entry shapes, attribute values, item sizes, the total.
    let mut total = 0;
    for (_, entries) in &tables {
        for (entry, value_error) in entries {
            let Some(entry) = entry else {
                return Err(ApiError::validation(
                    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                ));
            };
            if let Some(e) = value_error {
                return Err(e.clone());
            }
            if let Request::Put(item) = entry {
                if item_size(item) > MAX_ITEM_SIZE {
                    return Err(ApiError::validation(
                        "Item size has exceeded the maximum allowed size",
                    ));
                }
            }
            total += 1;
        }
    }
    if total > MAX_WRITE_REQUESTS {
        // dynalite (older DynamoDB capture); today's per-table envelope catches most cases.
        return Err(ApiError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }

    // Tables, keys, duplicates.
    let now = ctx.now_ms();
    let mut specs = Vec::new();
    let mut seen = HashSet::new();
    {
        let txn = ctx.store.read()?;
        for (name, entries) in &tables {
            let def = ctx.data_table(&txn, name, now)?;
            let gate = ctx.gate(&def, "BatchWriteItem");
            for entry in entries.iter().filter_map(|(e, _)| e.as_ref()) {
                let (key, action) = match entry {
                    Request::Put(item) => (key_from_item(&def, item)?, Action::put(item.clone())),
                    Request::Delete(key) => (key_from_param(&def, key)?, Action::Delete),
                };
                if !seen.insert(key.storage.clone()) {
                    return Err(ApiError::validation(
                        "Provided list of item keys contains duplicates",
                    ));
                }
                specs.push((def.clone(), key, action, gate.clone()));
            }
        }
    }
    let jobs: Vec<(TableDef, PrimaryKey, (WriteSpec, Option<Gate>))> = specs
        .into_iter()
        .map(|(def, key, action, gate)| {
            let spec = WriteSpec {
                table: def.clone(),
                key: key.clone(),
                condition: None,
                old_on_failure: false,
                action,
            };
            (def, key, (spec, gate))
        })
        .collect();
    let (meta, specs): (Vec<_>, Vec<_>) = jobs.into_iter().map(|(d, k, s)| ((d, k), s)).unzip();
    // One closure, one commit: each `apply_gated` checks (and admits under throttling) before it writes, so a failed write
    // leaves nothing behind while the others stand (a batch is not atomic).
    let results = ctx
        .store
        .write(move |txn| {
            Ok(specs
                .into_iter()
                .map(|(s, gate)| apply_gated(txn, now, s, gate.as_ref()))
                .collect::<Vec<_>>())
        })
        .await?;
    respond(
        &tables,
        meta,
        results,
        CapacityMode::parse(capacity),
        metrics == Some("SIZE"),
    )
}

/// Per table: each entry (`None`: neither or both of PutRequest / DeleteRequest) with
/// the first invalid attribute value met in it.
type Tables<'a> = Vec<(&'a str, Vec<(Option<Request>, Option<ApiError>)>)>;

/// Shapes of `RequestItems`, and its constraint violations.
fn read_tables(o: Obj<'_>) -> ApiResult<(Tables<'_>, Violations)> {
    let mut v = Violations::new();
    let raw = o.raw("RequestItems");
    let map = o.obj("RequestItems")?;
    let names: Vec<&str> = map
        .map(|m| m.0.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    if !check_request_items(&mut v, raw, &names, "BatchWriteItem")? {
        return Ok((out, v));
    }
    let Some(map) = map else {
        return Ok((out, v));
    };
    let mut bad_length = false;
    for (name, _) in map.0 {
        let list = map.obj_list(name)?.unwrap_or_default();
        if list.is_empty() || list.len() > MAX_WRITE_REQUESTS {
            bad_length = true;
        }
        let mut entries = Vec::new();
        for (i, entry) in list.iter().enumerate() {
            let path = format!("requestItems.{name}.member.{}.member", i + 1);
            let mut deferred = Deferred::new();
            let put = entry.obj("PutRequest")?;
            let delete = entry.obj("DeleteRequest")?;
            let request = match (put, delete) {
                (Some(p), None) => match p.raw("Item") {
                    Some(item) => Some(Request::Put(decode_item(item, &mut deferred)?)),
                    None => {
                        v.not_null(&format!("{path}.putRequest.item"));
                        None
                    }
                },
                (None, Some(d)) => match d.raw("Key") {
                    Some(key) => Some(Request::Delete(decode_item(key, &mut deferred)?)),
                    None => {
                        v.not_null(&format!("{path}.deleteRequest.key"));
                        None
                    }
                },
                _ => None,
            };
            entries.push((request, deferred.first));
        }
        out.push((name.as_str(), entries));
    }
    if bad_length {
        v.push(
            raw.map(java_text).as_deref(),
            "requestItems",
            "Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
        );
    }
    Ok((out, v))
}

/// UnprocessedItems (writes that failed inside the commit), ConsumedCapacity per table,
/// ItemCollectionMetrics per table with an LSI.
fn respond(
    tables: &Tables<'_>,
    meta: Vec<(TableDef, PrimaryKey)>,
    results: Vec<ApiResult<Written>>,
    mode: CapacityMode,
    metrics: bool,
) -> ApiResult<Value> {
    let requests: Vec<(&str, &Request)> = tables
        .iter()
        .flat_map(|(n, e)| {
            e.iter()
                .filter_map(move |(r, _)| r.as_ref().map(|r| (*n, r)))
        })
        .collect();
    if let Some(Err(first)) = results
        .first()
        .filter(|_| results.iter().all(Result::is_err))
    {
        return Err(first.clone());
    }
    let mut unprocessed = Map::new();
    let mut units: Vec<(String, WriteCost)> = tables
        .iter()
        .map(|(n, _)| (n.to_string(), WriteCost::default()))
        .collect();
    let mut collections = Map::new();
    for (((name, request), (def, key)), result) in requests.iter().zip(&meta).zip(&results) {
        match result {
            Ok(w) => {
                let cost = report::written_cost(def, w, 1.0);
                if let Some(slot) = units.iter_mut().find(|(n, _)| n == name) {
                    slot.1.add(&cost);
                }
                if metrics && !def.lsis.is_empty() {
                    let hash: Item = key
                        .attrs
                        .iter()
                        .filter(|(k, _)| **k == def.keys.hash)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let entry =
                        json!({"ItemCollectionKey": hash, "SizeEstimateRangeGB": [0.0, 1.0]});
                    if let Value::Array(list) = collections
                        .entry(name.to_string())
                        .or_insert_with(|| Value::Array(Vec::new()))
                    {
                        list.push(entry);
                    }
                }
            }
            Err(_) => {
                let entry = match request {
                    Request::Put(item) => json!({"PutRequest": {"Item": item}}),
                    Request::Delete(key) => json!({"DeleteRequest": {"Key": key}}),
                };
                if let Value::Array(list) = unprocessed
                    .entry(name.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    list.push(entry);
                }
            }
        }
    }
    let mut out = Map::new();
    out.insert("UnprocessedItems".into(), Value::Object(unprocessed));
    if let Some(shape) = write_shape(mode, false) {
        let list: Vec<Value> = units
            .iter()
            .map(|(t, cost)| report::consumed(t, cost, shape))
            .collect();
        out.insert("ConsumedCapacity".into(), Value::Array(list));
    }
    if metrics && !collections.is_empty() {
        out.insert("ItemCollectionMetrics".into(), Value::Object(collections));
    }
    Ok(Value::Object(out))
}
