//! BatchExecuteStatement: up to 25 statements, all SELECTs by full key or all writes,
//! each run on its own (not atomic) with its own `Error` — the request itself answers
//! 200 unless it mixes reads and writes or names one item twice.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::api::batch::capacity_list;
use crate::api::item::capacity::read_units;
use crate::api::item::params::{check_enum, CapacityMode, CAPACITY_ENUM};
use crate::api::Ctx;
use crate::catalog::TableDef;
use crate::model::value::Deferred;
use crate::model::Item;
use crate::storage::{internal, items};
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};
use crate::write::write_one_gated;

use super::ast::{PPath, Parsed, Statement};
use super::bind::Binder;
use super::execute::{returned, written_units};
use super::prepare::{prepare, Prepared, WritePlan};
use super::{parse_with_params, read_statement, StatementIn};

/// The most statements in one batch.
pub const MAX_STATEMENTS: usize = 25;

const BATCH_SELECT: &str =
    "Select statements within BatchExecuteStatement must specify the primary key in the where clause.";

/// A member error: DynamoDB's batch code for an error, and whether `TableName` is echoed.
fn member_error(e: &ApiError) -> (&'static str, bool) {
    match e.code() {
        ErrorCode::ConditionalCheckFailedException => ("ConditionalCheckFailed", true),
        ErrorCode::DuplicateItemException => ("DuplicateItem", true),
        ErrorCode::ValidationException => ("ValidationError", false),
        ErrorCode::ResourceNotFoundException => ("ResourceNotFound", false),
        ErrorCode::TransactionConflictException => ("TransactionConflict", true),
        ErrorCode::ProvisionedThroughputExceededException => {
            ("ProvisionedThroughputExceeded", true)
        }
        ErrorCode::ItemCollectionSizeLimitExceededException => {
            ("ItemCollectionSizeLimitExceeded", true)
        }
        ErrorCode::RequestLimitExceeded => ("RequestLimitExceeded", true),
        ErrorCode::ThrottlingException => ("ThrottlingError", true),
        ErrorCode::AccessDeniedException => ("AccessDenied", false),
        _ => ("InternalServerError", false),
    }
}

fn error_entry(e: &ApiError, table: Option<&str>) -> Value {
    let (code, echo) = member_error(e);
    let mut m = Map::new();
    m.insert(
        "Error".into(),
        json!({"Code": code, "Message": e.message().unwrap_or_default()}),
    );
    if let (true, Some(t)) = (echo, table) {
        m.insert("TableName".into(), json!(t));
    }
    Value::Object(m)
}

/// One member, bound to its table and key.
enum Member {
    Read {
        def: TableDef,
        key: Item,
        projection: Option<Vec<PPath>>,
        consistent: bool,
    },
    Write {
        def: TableDef,
        plan: Box<WritePlan>,
    },
}

pub async fn batch_execute_statement(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let list = o.obj_list("Statements")?;
    let capacity = o.str("ReturnConsumedCapacity")?;
    let mut v = Violations::new();
    let mut deferred = Deferred::new();
    let mut members: Vec<StatementIn<'_>> = Vec::new();
    for (i, m) in list.iter().flatten().enumerate() {
        let prefix = format!("statements.{}.member.", i + 1);
        members.push(read_statement(*m, &prefix, &mut v, &mut deferred)?);
    }
    match &list {
        None => v.not_null("statements"),
        Some(l) => {
            let shown = crate::api::batch::java_text(o.raw("Statements").unwrap_or(&Value::Null));
            if l.is_empty() {
                v.push(
                    Some(&shown),
                    "statements",
                    "Member must have length greater than or equal to 1",
                );
            }
            if l.len() > MAX_STATEMENTS {
                v.push(
                    Some(&shown),
                    "statements",
                    "Member must have length less than or equal to 25",
                );
            }
        }
    }
    check_enum(&mut v, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    v.finish()?;
    deferred.into_result()?;
    let mode = CapacityMode::parse(capacity);

    // Parse every member; reads and writes may not mix (unparseable members don't count).
    let parsed: Vec<ApiResult<Arc<Parsed>>> = members
        .iter()
        .map(|m| parse_with_params(m.text.unwrap_or_default(), &m.params))
        .collect();
    let reads = parsed.iter().flatten().filter(|p| p.stmt.is_read()).count();
    let parsed_ok = parsed.iter().flatten().count();
    if reads > 0 && reads < parsed_ok {
        return Err(ApiError::validation(
            "Read and write requests together in the same batch is not supported.",
        ));
    }

    // Bind each member to its table and key.
    let now = ctx.now_ms();
    let txn = ctx.store.read()?;
    let mut bound: Vec<Result<Member, (ApiError, Option<String>)>> = Vec::new();
    for (m, p) in members.iter().zip(parsed) {
        bound.push(match p {
            Err(e) => Err((e, None)),
            Ok(p) => bind_member(ctx, &txn, now, m, &p),
        });
    }
    let mut seen = HashSet::new();
    for m in bound.iter().flatten() {
        let (def, key) = match m {
            Member::Read { def, key, .. } => (def, crate::keys::storage_key_of(def, key)),
            Member::Write { def, plan } => (def, Some(plan.key.storage.clone())),
        };
        if !seen.insert((def.name.clone(), key)) {
            return Err(ApiError::validation(
                "Provided list of item keys contains duplicates",
            ));
        }
    }

    // Run each member on its own.
    let mut units: Vec<(String, f64)> = Vec::new();
    let mut add = |t: &str, u: f64| match units.iter_mut().find(|(n, _)| n == t) {
        Some(slot) => slot.1 += u,
        None => units.push((t.to_string(), u)),
    };
    let mut responses = Vec::new();
    for m in bound {
        match m {
            Err((e, table)) => responses.push(error_entry(&e, table.as_deref())),
            Ok(Member::Read {
                def,
                key,
                projection,
                consistent,
            }) => {
                let stored = match crate::keys::storage_key_of(&def, &key) {
                    Some(k) => items::get(&txn, &k)?,
                    None => None,
                };
                add(
                    &def.name,
                    read_units(stored.as_ref().map(|s| s.size()), consistent),
                );
                let mut entry = Map::new();
                entry.insert("TableName".into(), json!(def.name));
                if let Some(s) = stored {
                    let item = super::read::project(s.item()?, projection.as_deref());
                    entry.insert("Item".into(), serde_json::to_value(item).map_err(internal)?);
                }
                responses.push(Value::Object(entry));
            }
            Ok(Member::Write { def, plan }) => {
                let WritePlan {
                    spec,
                    returning,
                    targets,
                    ..
                } = *plan;
                match write_one_gated(
                    &ctx.store,
                    ctx.now_ms(),
                    spec,
                    ctx.gate(&def, "BatchExecuteStatement"),
                )
                .await
                {
                    Ok(w) => {
                        add(&def.name, written_units(&w));
                        let mut entry = Map::new();
                        entry.insert("TableName".into(), json!(def.name));
                        if let Some(item) = returned(&w, returning, &targets)? {
                            entry.insert(
                                "Item".into(),
                                serde_json::to_value(item).map_err(internal)?,
                            );
                        }
                        responses.push(Value::Object(entry));
                    }
                    Err(e) if e.code() == ErrorCode::ResourceNotFoundException => {
                        responses.push(error_entry(&e, None));
                    }
                    Err(e) if e.status() >= 500 => return Err(e),
                    Err(e) => {
                        if e.code() == ErrorCode::ConditionalCheckFailedException {
                            add(&def.name, 1.0);
                        }
                        responses.push(error_entry(&e, Some(&def.name)));
                    }
                }
            }
        }
    }
    let mut out = Map::new();
    out.insert("Responses".into(), Value::Array(responses));
    if let Some(c) = capacity_list(mode, &units) {
        out.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(out))
}

fn bind_member(
    ctx: &Ctx,
    txn: &redb::ReadTransaction,
    now: i64,
    m: &StatementIn<'_>,
    p: &Parsed,
) -> Result<Member, (ApiError, Option<String>)> {
    let table = p.stmt.table().table.clone();
    let fail = |e: ApiError| (e, Some(table.clone()));
    if let Statement::Exists(_) = p.stmt {
        return Err(fail(ApiError::validation(
            "EXISTS can only be used in ExecuteTransaction write requests.",
        )));
    }
    let def = ctx.data_table(txn, &table, now).map_err(fail)?;
    let text = m.text.unwrap_or_default();
    let mut b = Binder::new(text, &m.params);
    if let Statement::Select(s) = &p.stmt {
        if s.from.index.is_some() {
            return Err(fail(ApiError::validation(BATCH_SELECT)));
        }
        // The access path's own errors (too many decomposed reads) come first.
        super::plan::access(&b, &def, &def.keys, true, s.filter.as_ref()).map_err(fail)?;
        let key = super::plan::exact_key(&b, &def.keys, s.filter.as_ref())
            .map_err(fail)?
            .ok_or_else(|| fail(ApiError::validation(BATCH_SELECT)))?;
        // The projection and key types are checked as for ExecuteStatement.
        prepare(&mut b, &def, &p.stmt, m.consistent, false).map_err(fail)?;
        return Ok(Member::Read {
            def,
            key,
            projection: s.projection.clone(),
            consistent: m.consistent,
        });
    }
    match prepare(&mut b, &def, &p.stmt, false, false).map_err(fail)? {
        Prepared::Write(plan) => Ok(Member::Write { def, plan }),
        Prepared::Read(_) => Err(fail(ApiError::internal("Internal server error"))),
    }
}
