//! Query and Scan over tables and their secondary indexes. `request` reads the shared
//! parameters, `keycond` turns Query's key condition into one byte range, `page` reads
//! one page with one range scan; `run_query` and `scan` are the operations. What they share
//! here: finding the index, and checking ExclusiveStartKey against the key schema.

pub(crate) mod keycond;
mod page;
mod request;
mod run_query;
mod scan;

#[cfg(test)]
mod multi_tests;
#[cfg(test)]
mod tests;

pub use run_query::query;
pub use scan::scan;

use crate::catalog::{IndexDef, ScalarType, TableDef};
use crate::model::{AttributeValue, Item};
use crate::wire::{ApiError, ApiResult};
use request::Want;

/// The index a request names, with whether it is global; checked for ConsistentRead,
/// Select and backfilling as DynamoDB checks them.
fn find_index(
    def: &TableDef,
    name: Option<&str>,
    consistent: bool,
    want: Want,
    now: i64,
) -> ApiResult<Option<(IndexDef, bool)>> {
    let Some(name) = name else {
        return Ok(None);
    };
    if let Some(ix) = def.lsis.iter().find(|i| i.name == name) {
        return Ok(Some((ix.clone(), false)));
    }
    let Some(ix) = def.gsis.iter().find(|i| i.name == name) else {
        // dynalite: "The table does not have the specified index"; the ": name" suffix
        // is what DynamoDB answers today (guessed from Alternator's regex).
        return Err(ApiError::validation(format!(
            "The table does not have the specified index: {name}"
        )));
    };
    if consistent {
        return Err(ApiError::validation(
            "Consistent reads are not supported on global secondary indexes",
        ));
    }
    if want == Want::All && ix.projection.kind != crate::catalog::ProjectionType::All {
        return Err(ApiError::invalid_parameter(format!(
            "Select type ALL_ATTRIBUTES is not supported for global secondary index {name} because its projection type is not ALL"
        )));
    }
    if now < ix.active_at_ms {
        // Guessed wording.
        return Err(ApiError::validation(format!(
            "Cannot read from backfilling global secondary index: {name}"
        )));
    }
    Ok(Some((ix.clone(), true)))
}

/// A GSI read can only name what the index holds (the index's and the table's keys, and
/// INCLUDE's attributes): a ProjectionExpression naming more gets "Global secondary
/// index <name> does not project [<attrs>]", a filter "Secondary index <name> does not
/// project one or more filter attributes: [<attrs>]" (both real DynamoDB texts, quoted in
/// localstack#478 and dynamodb-onetable#377). LSIs fetch from the table instead.
fn check_gsi_reads(
    def: &TableDef,
    ix: &IndexDef,
    projection: Option<&crate::expr::ast::Projection>,
    filter: Option<&request::Filter>,
) -> ApiResult<()> {
    if ix.projection.kind == crate::catalog::ProjectionType::All {
        return Ok(());
    }
    let held = crate::index::key_names(def, ix);
    let missing = |tops: Vec<&str>| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in tops {
            let projected = held.contains(&t) || ix.projection.non_key.iter().any(|n| n == t);
            if !projected && !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
        out
    };
    if let Some(p) = projection {
        let names = missing(p.paths.iter().filter_map(|p| p.top()).collect());
        if !names.is_empty() {
            return Err(ApiError::invalid_parameter(format!(
                "Global secondary index {} does not project [{}]",
                ix.name,
                names.join(", ")
            )));
        }
    }
    if let Some(f) = filter {
        let paths = crate::expr::validate::condition_paths(&f.cond);
        let names = missing(paths.iter().filter_map(|p| p.top()).collect());
        if !names.is_empty() {
            return Err(ApiError::invalid_parameter(format!(
                "Secondary index {} does not project one or more filter attributes: [{}]",
                ix.name,
                names.join(", ")
            )));
        }
    }
    Ok(())
}

/// Reads one page under throttling (`capacity`): admitted on its smallest cost, debited
/// what it read (GSI pages on the GSI's bucket, table and LSI pages on the table's, and
/// with `partition` — a Query's table storage-key prefix — on that key's per-key limit).
fn metered_page(
    ctx: &crate::api::Ctx,
    txn: &redb::ReadTransaction,
    plan: &page::Plan<'_>,
    now: i64,
    op: &'static str,
    partition: Option<&[u8]>,
) -> ApiResult<page::Page> {
    let Some(mut gate) = ctx.gate(plan.def, op) else {
        let page = page::run(txn, plan)?;
        crate::capacity::requests::returned(&plan.def.name, op, page.count);
        return Ok(page);
    };
    if let (Some(p), false) = (partition, plan.is_gsi) {
        gate.set_key(p);
    }
    let gsi = match (plan.index, plan.is_gsi) {
        (Some(ix), true) => Some(ix.name.as_str()),
        _ => None,
    };
    gate.admit_read(gsi, plan.consistent, now)?;
    let page = page::run(txn, plan)?;
    gate.debit_read(gsi, page::units(page.bytes, plan.consistent), now);
    crate::capacity::requests::returned(&plan.def.name, op, page.count);
    Ok(page)
}

fn typed(def: &TableDef, name: &str, v: &AttributeValue) -> bool {
    matches!(
        (def.attribute_type(name), v),
        (Some(ScalarType::S), AttributeValue::S(_))
            | (Some(ScalarType::N), AttributeValue::N(_))
            | (Some(ScalarType::B), AttributeValue::B(_))
    )
}

/// ExclusiveStartKey → the stored key to resume after. It must hold exactly the table's
/// key attributes (plus the index's, for an index) with their declared types.
fn start_key(def: &TableDef, index: Option<&IndexDef>, esk: &Item) -> ApiResult<Vec<u8>> {
    let invalid = || {
        ApiError::validation(
            "The provided starting key is invalid: The provided key element does not match the schema",
        )
    };
    let names: Vec<&str> = match index {
        Some(ix) => crate::index::key_names(def, ix),
        None => def.keys.names().collect(),
    };
    if esk.len() != names.len() {
        return Err(invalid());
    }
    for n in &names {
        match esk.get(*n) {
            Some(v) if typed(def, n, v) => {}
            _ => return Err(invalid()),
        }
    }
    let key = match index {
        Some(ix) => crate::index::entry_key(def, ix, esk),
        None => crate::keys::storage_key_of(def, esk),
    };
    key.ok_or_else(invalid)
}
