//! TransactWriteItems: up to 100 ConditionCheck / Put / Update / Delete actions on
//! distinct items, all or nothing. Inside ONE writer closure: the token is looked up,
//! every action is prepared (`write::prepare`: table live, old item, condition, new item)
//! with every failure collected as a cancellation reason, and only if all passed is
//! every action committed (`write::commit`) and the token recorded — in the same redb
//! transaction, so all-or-nothing holds across a crash as well.

use std::collections::HashSet;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::parse::{self, Kind, WriteAction, WriteRequest};
use super::{cancelled, is_request_level, multiple_operations, validation_cancel, Reason};
use crate::api::batch::capacity_list;
use crate::api::item::capacity::read_units;
use crate::api::item::write_shape;
use crate::api::item::{check_key_untouched, eval};
use crate::api::Ctx;
use crate::capacity::{report, Gate, Throttle, WriteCost};
use crate::catalog::TableDef;
use crate::keys::{key_from_item, key_from_param, PrimaryKey};
use crate::model::size::{item_size, MAX_ITEM_SIZE};
use crate::model::Item;
use crate::storage::{items, tokens};
use crate::wire::shape::Obj;
use crate::wire::{ApiError, ApiResult, ErrorCode};
use crate::write::{commit, prepare, Action, Prepared, WriteSpec, Written};

/// What the writer closure did.
enum Outcome {
    /// Applied now: what each action wrote.
    Applied(Vec<Written>),
    /// A replay of a completed request: the current size of each item (for capacity).
    Replayed(Vec<Option<usize>>),
}

pub async fn transact_write_items(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let req = parse::read(Obj(body))?;
    let hash: [u8; 32] = Sha256::digest(parse::parameters_for_hash(body)).into();
    let now = ctx.now_ms();
    let (defs, keys, specs) = resolve(ctx, &req, now)?;
    let token = req.token.map(str::to_string);
    // Each action's gate carries its item's partition (per-key limits).
    let gates: Vec<Option<Gate>> = defs
        .iter()
        .zip(&keys)
        .map(|(d, k)| {
            ctx.gate(d, "TransactWriteItems")
                .map(|g| g.for_key(&k.storage))
        })
        .collect();
    let outcome = ctx
        .store
        .write(move |txn| run(txn, now, token.as_deref(), &hash, keys, specs, &gates))
        .await?;
    respond(&req, &defs, outcome)
}

type Resolved = (Vec<TableDef>, Vec<PrimaryKey>, Vec<(WriteSpec, bool)>);

/// Tables (ResourceNotFoundException), then item-level checks (a cancellation with
/// `ValidationError` at the first failing action), then duplicate items.
fn resolve(ctx: &Ctx, req: &WriteRequest<'_>, now: i64) -> ApiResult<Resolved> {
    let txn = ctx.store.read()?;
    let mut defs = Vec::new();
    for a in &req.actions {
        defs.push(ctx.data_table(&txn, a.table, now)?);
    }
    let n = req.actions.len();
    let mut keys = Vec::new();
    let mut first_bad = None;
    for (i, (a, def)) in req.actions.iter().zip(&defs).enumerate() {
        match item_checks(a, def) {
            Ok(k) => keys.push(k),
            Err(e) => {
                first_bad = Some((i, e));
                break;
            }
        }
    }
    let mut seen = HashSet::new();
    if !keys.iter().all(|k| seen.insert(k.storage.clone())) {
        return Err(multiple_operations());
    }
    if let Some((i, e)) = first_bad {
        return Err(validation_cancel(n, i, &e));
    }
    let specs = req
        .actions
        .iter()
        .zip(&defs)
        .zip(&keys)
        .map(|((a, def), key)| (spec(a, def, key), a.old_on_failure))
        .collect();
    Ok((defs, keys, specs))
}

/// The checks that need the table: key schema, item size and index keys (Put), key
/// attributes untouched (Update).
fn item_checks(a: &WriteAction<'_>, def: &TableDef) -> ApiResult<PrimaryKey> {
    match &a.kind {
        Kind::Put => {
            if item_size(&a.source) > MAX_ITEM_SIZE {
                return Err(ApiError::validation(
                    "Item size has exceeded the maximum allowed size",
                ));
            }
            key_from_item(def, &a.source)
        }
        Kind::Update(update, _) => {
            let key = key_from_param(def, &a.source)?;
            check_key_untouched(def, update)?;
            Ok(key)
        }
        Kind::Check | Kind::Delete => key_from_param(def, &a.source),
    }
}

fn spec(a: &WriteAction<'_>, def: &TableDef, key: &PrimaryKey) -> WriteSpec {
    let action = match &a.kind {
        Kind::Check => Action::Check,
        Kind::Put => Action::put(a.source.clone()),
        Kind::Delete => Action::Delete,
        Kind::Update(update, values) => {
            let (update, values) = (update.clone(), values.clone());
            let only_removes = update.only_removes();
            let apply: crate::write::Updater =
                Box::new(move |item: Item| eval::apply(&item, &update, &values));
            if only_removes {
                Action::UpdateExisting(apply)
            } else {
                Action::Update(apply)
            }
        }
    };
    WriteSpec {
        table: def.clone(),
        key: key.clone(),
        condition: a.condition.clone().map(|c| c.into_precondition()),
        old_on_failure: a.old_on_failure,
        action,
    }
}

/// Runs in the writer thread. Writes nothing unless every action passed.
fn run(
    txn: &crate::storage::WriteTransaction,
    now: i64,
    token: Option<&str>,
    hash: &[u8; 32],
    keys: Vec<PrimaryKey>,
    specs: Vec<(WriteSpec, bool)>,
    gates: &[Option<Gate>],
) -> ApiResult<Outcome> {
    if let Some(t) = token {
        match tokens::lookup(txn, t, now)? {
            Some(h) if &h == hash => {
                let sizes = keys
                    .iter()
                    .map(|k| items::get_for_write(txn, &k.storage).map(|s| s.map(|s| s.size())))
                    .collect::<ApiResult<Vec<_>>>()?;
                return Ok(Outcome::Replayed(sizes));
            }
            Some(_) => {
                return Err(crate::api::transact::parameter_mismatch());
            }
            None => {}
        }
    }
    let mut prepared = Vec::new();
    let mut reasons = Vec::new();
    let mut failed = false;
    for ((spec, old_on_failure), key) in specs.into_iter().zip(&keys) {
        match prepare(txn, now, spec) {
            Ok(p) => {
                prepared.push(p);
                reasons.push(Reason::None);
            }
            Err(e) if is_request_level(&e) => return Err(e),
            Err(e) if e.code() == ErrorCode::ConditionalCheckFailedException => {
                failed = true;
                let old = if old_on_failure {
                    items::get_for_write(txn, &key.storage)?
                        .map(|s| s.item())
                        .transpose()?
                } else {
                    None
                };
                reasons.push(Reason::ConditionalCheckFailed(old));
            }
            Err(e) => {
                failed = true;
                reasons.push(Reason::ValidationError(
                    e.message().unwrap_or_default().to_string(),
                ));
            }
        }
    }
    if failed {
        return Err(cancelled(&reasons));
    }
    admit(&prepared, gates, now)?;
    let origin = crate::streams::Origin::caller(now);
    let written = prepared
        .into_iter()
        .map(|p| commit(txn, p, &origin))
        .collect::<ApiResult<Vec<_>>>()?;
    if let Some(t) = token {
        tokens::record(txn, t, hash, now)?;
    }
    Ok(Outcome::Applied(written))
}

/// Under throttling: every action must fit its buckets (table arm doubled, index arms
/// not), else the transaction is cancelled with the throttled actions' reasons; then all
/// are debited.
fn admit(prepared: &[Prepared], gates: &[Option<Gate>], now: i64) -> ApiResult<()> {
    if gates.iter().all(Option::is_none) {
        return Ok(());
    }
    let throttles: Vec<Option<Throttle>> = prepared
        .iter()
        .zip(gates)
        .map(|(p, g)| g.as_ref()?.check_write(&p.cost(2.0), now, false).err())
        .collect();
    if throttles.iter().any(Option::is_some) {
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
        return Err(cancelled(&reasons));
    }
    for (p, g) in prepared.iter().zip(gates) {
        if let Some(g) = g {
            g.take_write(&p.cost(2.0), now);
        }
    }
    Ok(())
}

/// `{}` plus ConsumedCapacity (twice the units: writes now, reads on a replay) and
/// ItemCollectionMetrics for tables with an LSI.
fn respond(req: &WriteRequest<'_>, defs: &[TableDef], outcome: Outcome) -> ApiResult<Value> {
    let mut units: Vec<(String, f64)> = Vec::new();
    let mut add = |table: &str, u: f64| match units.iter_mut().find(|(t, _)| t == table) {
        Some(slot) => slot.1 += u,
        None => units.push((table.to_string(), u)),
    };
    let mut collections = Map::new();
    // Applied: per table, the table arm doubled and the index arms not.
    let mut costs: Vec<(String, WriteCost)> = Vec::new();
    match &outcome {
        Outcome::Applied(written) => {
            for ((a, def), w) in req.actions.iter().zip(defs).zip(written) {
                let cost = report::written_cost(def, w, 2.0);
                match costs.iter_mut().find(|(t, _)| t == a.table) {
                    Some(slot) => slot.1.add(&cost),
                    None => costs.push((a.table.to_string(), cost)),
                }
                if req.metrics && !def.lsis.is_empty() && !matches!(a.kind, Kind::Check) {
                    let hash: Item = a
                        .source
                        .iter()
                        .filter(|(k, _)| **k == def.keys.hash)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    let entry =
                        json!({"ItemCollectionKey": hash, "SizeEstimateRangeGB": [0.0, 1.0]});
                    if let Value::Array(list) = collections
                        .entry(a.table.to_string())
                        .or_insert_with(|| Value::Array(Vec::new()))
                    {
                        list.push(entry);
                    }
                }
            }
        }
        Outcome::Replayed(sizes) => {
            for (a, size) in req.actions.iter().zip(sizes) {
                add(a.table, 2.0 * read_units(*size, true));
            }
        }
    }
    let mut out = Map::new();
    match (&outcome, write_shape(req.capacity, true)) {
        (Outcome::Applied(_), Some(shape)) => {
            let list: Vec<Value> = costs
                .iter()
                .map(|(t, cost)| report::consumed(t, cost, shape))
                .collect();
            out.insert("ConsumedCapacity".into(), Value::Array(list));
        }
        _ => {
            if let Some(mut c) = capacity_list(req.capacity, &units) {
                // A replay is billed as a read, mirrored into ReadCapacityUnits.
                if matches!(outcome, Outcome::Replayed(_)) {
                    crate::api::item::capacity::mirror_axis(&mut c, "ReadCapacityUnits");
                }
                out.insert("ConsumedCapacity".into(), c);
            }
        }
    }
    if !collections.is_empty() {
        out.insert("ItemCollectionMetrics".into(), Value::Object(collections));
    }
    Ok(Value::Object(out))
}
