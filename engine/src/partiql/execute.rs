//! ExecuteStatement: one statement with its parameters. A SELECT answers one page of
//! `Items` (with NextToken while more remain); a write runs through the one write path
//! and answers `Items: []`, or the RETURNING projection.

use serde_json::{Map, Value};

use crate::api::item::capacity::{consumed, read_units, write_units};
use crate::api::item::params::{check_enum, CapacityMode, CAPACITY_ENUM};
use crate::api::Ctx;
use crate::model::value::Deferred;
use crate::model::Item;
use crate::storage::internal;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};
use crate::write::{write_one_gated, Written};

use super::ast::Statement;
use super::bind::Binder;
use super::prepare::{prepare, Prepared, WritePlan};
use super::read::{self, ReadPlan};
use super::{parse_with_params, read_statement};

pub async fn execute_statement(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Vec<u8>> {
    let o = Obj(body);
    let mut v = Violations::new();
    let mut deferred = Deferred::new();
    let st = read_statement(o, "", &mut v, &mut deferred)?;
    let token = o.str("NextToken")?;
    let capacity = o.str("ReturnConsumedCapacity")?;
    let limit = o.int("Limit")?;
    if let Some(t) = token {
        v.length(t, "nextToken", 1, 32768);
    }
    check_enum(&mut v, capacity, "returnConsumedCapacity", CAPACITY_ENUM);
    if let Some(l) = limit {
        v.min_value(l, "limit", 1);
    }
    v.finish()?;
    deferred.into_result()?;
    let text = st.text.unwrap_or_default();
    let parsed = parse_with_params(text, &st.params)?;
    if let Statement::Exists(_) = parsed.stmt {
        return Err(ApiError::validation(
            "EXISTS can only be used in ExecuteTransaction write requests.",
        ));
    }
    let mode = CapacityMode::parse(capacity);
    let now = ctx.now_ms();
    let txn = ctx.store.read()?;
    let def = ctx.data_table(&txn, &parsed.stmt.table().table, now)?;
    let mut b = Binder::new(text, &st.params);
    let old_on_failure = st.on_failure == Some("ALL_OLD");
    match prepare(&mut b, &def, &parsed.stmt, st.consistent, old_on_failure)? {
        Prepared::Read(plan) => {
            // The hash a NextToken is bound to, only when a token is read or written.
            let hash = || read::request_hash(text, &st.raw_params);
            let resume = token.map(|t| read::decode_token(t, &hash())).transpose()?;
            let limit = limit.and_then(|l| usize::try_from(l).ok());
            // SELECT is throttled as the read it is: admitted on its smallest cost,
            // debited what the page read (on the GSI's buckets for a GSI).
            let gate = ctx.gate(&def, "ExecuteStatement");
            let gsi = plan
                .index
                .as_ref()
                .filter(|ix| def.gsis.iter().any(|g| g.name == ix.name))
                .map(|ix| ix.name.clone());
            if let Some(g) = &gate {
                g.admit_read(gsi.as_deref(), st.consistent, now)?;
            }
            let page = read::run(&txn, &plan, limit, resume.as_ref())?;
            drop(txn);
            if let Some(g) = &gate {
                g.debit_read(gsi.as_deref(), page_units(&plan, &page, st.consistent), now);
            }
            let hash = if page.next.is_some() {
                hash()
            } else {
                String::new()
            };
            read_answer(&plan, page, &hash, mode, st.consistent)
        }
        Prepared::Write(plan) => {
            drop(txn);
            let table = def.name.clone();
            let WritePlan {
                spec,
                returning,
                targets,
                ..
            } = *plan;
            let written =
                write_one_gated(&ctx.store, now, spec, ctx.gate(&def, "ExecuteStatement")).await?;
            let items: Vec<Item> = returned(&written, returning, &targets)?
                .into_iter()
                .collect();
            let mut out = Map::new();
            out.insert(
                "Items".into(),
                serde_json::to_value(items).map_err(internal)?,
            );
            if let Some(c) = consumed(mode, &table, written_units(&written)) {
                out.insert("ConsumedCapacity".into(), c);
            }
            serde_json::to_vec(&out).map_err(internal)
        }
    }
}

/// Write units of a write (the larger of the old and new item).
pub fn written_units(w: &Written) -> f64 {
    write_units(
        w.existed().then_some(w.old_size),
        w.new.as_ref().map(|_| w.new_size),
    )
}

/// What RETURNING asks for (`None` when nothing, or an empty projection).
pub fn returned(
    w: &Written,
    returning: Option<super::ast::Returning>,
    targets: &[crate::expr::ast::Path],
) -> ApiResult<Option<Item>> {
    let Some(r) = returning else {
        return Ok(None);
    };
    let old;
    let source = if r.new {
        w.new.as_ref()
    } else {
        old = w.old()?;
        old.as_deref()
    };
    let Some(source) = source else {
        return Ok(None);
    };
    let item = if r.all {
        source.clone()
    } else {
        crate::expr::eval::project(source, targets)
    };
    Ok((!item.is_empty()).then_some(item))
}

/// The answer to a SELECT, written directly: stored rows are copied as they are.
/// The read units a SELECT page consumed.
fn page_units(plan: &ReadPlan, page: &read::Page, consistent: bool) -> f64 {
    match plan.access {
        super::plan::Access::Get(_) => {
            read_units((page.read > 0).then_some(page.bytes), consistent)
        }
        _ => read_units(Some(page.bytes), consistent),
    }
}

fn read_answer(
    plan: &ReadPlan,
    page: read::Page,
    hash: &str,
    mode: CapacityMode,
    consistent: bool,
) -> ApiResult<Vec<u8>> {
    let rows: usize = page
        .items
        .iter()
        .map(|r| match r {
            read::Row::Stored(s) => s.0.len(),
            read::Row::Item(_) => 128,
        })
        .sum();
    let mut out = Vec::with_capacity(rows + 96);
    out.extend_from_slice(b"{\"Items\":[");
    for (i, row) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        row.write_json(&mut out)?;
    }
    out.push(b']');
    if let Some(r) = &page.next {
        out.extend_from_slice(b",\"NextToken\":");
        serde_json::to_writer(&mut out, &read::encode_token(hash, r)).map_err(internal)?;
    }
    let units = page_units(plan, &page, consistent);
    if let Some(c) = consumed(mode, &plan.def.name, units) {
        out.extend_from_slice(b",\"ConsumedCapacity\":");
        serde_json::to_writer(&mut out, &c).map_err(internal)?;
    }
    out.push(b'}');
    Ok(out)
}
