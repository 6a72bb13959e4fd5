//! ExecuteTransaction: up to 100 statements, all SELECTs by full key (one snapshot) or
//! all writes and EXISTS checks (all or nothing, in ONE writer closure: every statement
//! prepared through `write::prepare`, failures collected as cancellation reasons, then
//! every one committed), with ClientRequestToken idempotency in the token store — as
//! TransactWriteItems does (`api/transact`).

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::api::batch::capacity_list;
use crate::api::item::capacity::read_units;
use crate::api::item::params::{check_enum, CapacityMode, CAPACITY_ENUM};
use crate::api::transact::{cancelled, multiple_operations, Reason, MAX_ACTIONS};
use crate::api::Ctx;
use crate::model::value::Deferred;
use crate::storage::{internal, items, tokens};
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};
use crate::write::{commit, prepare as prepare_write, Written};

use super::ast::{Parsed, Statement};
use super::bind::Binder;
use super::execute::written_units;
use super::prepare::{prepare, Prepared, WritePlan};
use super::{parse_with_params, read_statement, StatementIn};

fn wrapped(i: usize, e: &ApiError) -> ApiError {
    ApiError::validation(format!(
        "Validation failed in TransactStatements[{i}]: {}",
        e.message().unwrap_or_default()
    ))
}

fn has_returning(s: &Statement) -> bool {
    matches!(
        s,
        Statement::Update {
            returning: Some(_),
            ..
        } | Statement::Delete {
            returning: Some(_),
            ..
        }
    )
}

/// The checks of one statement that need no table.
fn check_statement(i: usize, m: &StatementIn<'_>) -> ApiResult<Arc<Parsed>> {
    let p = parse_with_params(m.text.unwrap_or_default(), &m.params).map_err(|e| wrapped(i, &e))?;
    if has_returning(&p.stmt) {
        return Err(wrapped(
            i,
            &ApiError::validation("RETURNING clause is not supported in ExecuteTransaction."),
        ));
    }
    if let Statement::Select(s) | Statement::Exists(s) = &p.stmt {
        if s.from.index.is_some() {
            return Err(wrapped(
                i,
                &ApiError::validation("Reads on indices are not supported within transactions."),
            ));
        }
    }
    Ok(p)
}

pub async fn execute_transaction(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let list = o.obj_list("TransactStatements")?;
    let token = o.str("ClientRequestToken")?;
    let capacity = o.str("ReturnConsumedCapacity")?;
    let mut v = Violations::new();
    let mut deferred = Deferred::new();
    let mut members = Vec::new();
    for (i, m) in list.iter().flatten().enumerate() {
        let prefix = format!("transactStatements.{}.member.", i + 1);
        members.push(read_statement(*m, &prefix, &mut v, &mut deferred)?);
    }
    match &list {
        None => v.not_null("transactStatements"),
        Some(l) => {
            let shown =
                crate::api::batch::java_text(o.raw("TransactStatements").unwrap_or(&Value::Null));
            if l.is_empty() {
                v.push(
                    Some(&shown),
                    "transactStatements",
                    "Member must have length greater than or equal to 1",
                );
            }
            if l.len() > MAX_ACTIONS {
                v.push(
                    Some(&shown),
                    "transactStatements",
                    "Member must have length less than or equal to 100",
                );
            }
        }
    }
    if let Some(t) = token {
        v.length(t, "clientRequestToken", 1, 36);
    }
    check_enum(&mut v, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    v.finish()?;
    deferred.into_result()?;
    let mode = CapacityMode::parse(capacity);

    let parsed = members
        .iter()
        .enumerate()
        .map(|(i, m)| check_statement(i, m))
        .collect::<ApiResult<Vec<_>>>()?;
    let reads = parsed.iter().filter(|p| p.stmt.is_read()).count();
    if reads > 0 && reads < parsed.len() {
        return Err(ApiError::validation(
            "ExecuteTransaction API does not support both read and write operations in the same request.",
        ));
    }
    let now = ctx.now_ms();
    let txn = ctx.store.read()?;
    let mut defs = Vec::new();
    for p in &parsed {
        defs.push(ctx.data_table(&txn, &p.stmt.table().table, now)?);
    }

    if reads > 0 {
        // One snapshot for every read.
        let mut responses = Vec::new();
        let mut units: Vec<(String, f64)> = Vec::new();
        let mut keys = HashSet::new();
        let mut found = Vec::new();
        for (i, ((m, p), def)) in members.iter().zip(&parsed).zip(&defs).enumerate() {
            let Statement::Select(s) = &p.stmt else {
                return Err(ApiError::internal("Internal server error"));
            };
            let b = Binder::new(m.text.unwrap_or_default(), &m.params);
            let key = super::plan::exact_key(&b, &def.keys, s.filter.as_ref())
                .map_err(|e| wrapped(i, &e))?
                .ok_or_else(|| {
                    wrapped(i, &ApiError::validation(
                        "Select statements within ExecuteTransaction must specify the primary key in the where clause.",
                    ))
                })?;
            let storage = crate::keys::key_from_param(def, &key)
                .map_err(|e| wrapped(i, &e))?
                .storage;
            if !keys.insert(storage.clone()) {
                return Err(multiple_operations());
            }
            found.push((storage, s.projection.clone(), def.name.clone()));
        }
        for (storage, projection, table) in found {
            let stored = items::get(&txn, &storage)?;
            let u = 2.0 * read_units(stored.as_ref().map(|s| s.size()), true);
            match units.iter_mut().find(|(t, _)| *t == table) {
                Some(slot) => slot.1 += u,
                None => units.push((table.clone(), u)),
            }
            responses.push(match stored {
                Some(s) => {
                    let item = super::read::project(s.item()?, projection.as_deref());
                    json!({"Item": serde_json::to_value(item).map_err(internal)?})
                }
                None => json!({}),
            });
        }
        let mut out = Map::new();
        out.insert("Responses".into(), Value::Array(responses));
        if let Some(c) = capacity_list(mode, &units) {
            out.insert("ConsumedCapacity".into(), c);
        }
        return Ok(Value::Object(out));
    }

    // Writes: bind every statement, then run them together.
    let mut plans: Vec<(WritePlan, bool)> = Vec::new();
    for (i, ((m, p), def)) in members.iter().zip(&parsed).zip(&defs).enumerate() {
        let mut b = Binder::new(m.text.unwrap_or_default(), &m.params);
        let old_on_failure = m.on_failure == Some("ALL_OLD");
        match prepare(&mut b, def, &p.stmt, false, old_on_failure).map_err(|e| match e.code() {
            ErrorCode::ValidationException => wrapped(i, &e),
            _ => e,
        })? {
            Prepared::Write(plan) => plans.push((*plan, old_on_failure)),
            Prepared::Read(_) => return Err(ApiError::internal("Internal server error")),
        }
    }
    drop(txn);
    let mut seen = HashSet::new();
    if !plans
        .iter()
        .all(|(p, _)| seen.insert(p.key.storage.clone()))
    {
        return Err(multiple_operations());
    }
    let hash: [u8; 32] = {
        let mut h = Sha256::new();
        for m in &members {
            h.update(m.text.unwrap_or_default().as_bytes());
            h.update([0]);
            h.update(serde_json::to_vec(&m.raw_params).unwrap_or_default());
            h.update([0]);
        }
        h.finalize().into()
    };
    let tables: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
    let token = token.map(str::to_string);
    let outcome = ctx
        .store
        .write(move |txn| run(txn, now, token.as_deref(), &hash, plans))
        .await?;
    let mut units: Vec<(String, f64)> = Vec::new();
    for (table, u) in tables.iter().zip(outcome) {
        match units.iter_mut().find(|(t, _)| t == table) {
            Some(slot) => slot.1 += 2.0 * u,
            None => units.push((table.clone(), 2.0 * u)),
        }
    }
    let mut out = Map::new();
    out.insert("Responses".into(), json!([]));
    if let Some(c) = capacity_list(mode, &units) {
        out.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(out))
}

/// Runs in the writer: the token, then every statement prepared, then all committed.
/// Answers the write units of each statement.
fn run(
    txn: &crate::storage::WriteTransaction,
    now: i64,
    token: Option<&str>,
    hash: &[u8; 32],
    plans: Vec<(WritePlan, bool)>,
) -> ApiResult<Vec<f64>> {
    if let Some(t) = token {
        match tokens::lookup(txn, t, now)? {
            Some(h) if &h == hash => {
                return plans
                    .iter()
                    .map(|(p, _)| {
                        let size = items::get_for_write(txn, &p.key.storage)?.map(|s| s.size());
                        Ok(read_units(size, true))
                    })
                    .collect();
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
    for (plan, old_on_failure) in plans {
        let storage = plan.key.storage.clone();
        match prepare_write(txn, now, plan.spec) {
            Ok(p) => {
                prepared.push(p);
                reasons.push(Reason::None);
            }
            Err(e) if e.code() == ErrorCode::ConditionalCheckFailedException => {
                failed = true;
                let old = if old_on_failure {
                    items::get_for_write(txn, &storage)?
                        .map(|s| s.item())
                        .transpose()?
                } else {
                    None
                };
                reasons.push(Reason::ConditionalCheckFailed(old));
            }
            Err(e) if e.code() == ErrorCode::DuplicateItemException => {
                failed = true;
                reasons.push(Reason::DuplicateItem);
            }
            Err(e) if e.code() == ErrorCode::ValidationException => {
                failed = true;
                reasons.push(Reason::ValidationError(
                    e.message().unwrap_or_default().to_string(),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    if failed {
        return Err(cancelled(&reasons));
    }
    let origin = crate::streams::Origin::caller(now);
    let written: Vec<Written> = prepared
        .into_iter()
        .map(|p| commit(txn, p, &origin))
        .collect::<ApiResult<Vec<_>>>()?;
    if let Some(t) = token {
        tokens::record(txn, t, hash, now)?;
    }
    Ok(written.iter().map(written_units).collect())
}
