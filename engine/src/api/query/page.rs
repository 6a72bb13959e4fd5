//! One page of a Query or Scan: ONE range scan over the `items` or `index_entries`
//! table, forwards or backwards, that stops at `Limit` evaluated items or once 1 MB of
//! (projected, for indexes) item data was read — both counted before the filter — and
//! answers Items, Count, ScannedCount, LastEvaluatedKey and ConsumedCapacity. A page with
//! no filter and no projection copies the stored item bytes into the answer, as GetItem
//! does: only the item that ends the page is decoded, for its LastEvaluatedKey.

use std::io::Write;
use std::ops::Bound;

use redb::ReadTransaction;
use serde_json::{json, Map, Value};

use super::request::{Filter, Want};
use crate::api::item::params::CapacityMode;
use crate::catalog::{IndexDef, TableDef};
use crate::expr::ast::Projection;
use crate::model::Item;
use crate::storage::items::{self, Stored};
use crate::storage::{internal, INDEX_ENTRIES, ITEMS};
use crate::wire::ApiResult;

/// DynamoDB's page size: 1 MB of items read, counted before filtering.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Where and how to read one page.
pub struct Plan<'a> {
    pub def: &'a TableDef,
    pub index: Option<&'a IndexDef>,
    pub is_gsi: bool,
    pub start: Bound<Vec<u8>>,
    pub end: Bound<Vec<u8>>,
    pub forward: bool,
    pub limit: Option<usize>,
    pub filter: Option<&'a Filter>,
    pub projection: Option<&'a Projection>,
    pub want: Want,
    pub consistent: bool,
}

/// What one page read.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// The stored JSON of the answered items, comma separated, when they are answered as
    /// stored (no filter, no projection); `items` is then empty.
    pub raw: Option<Vec<u8>>,
    pub count: usize,
    pub scanned: usize,
    pub last_key: Option<Item>,
    pub bytes: usize,
    /// Read units of the table items an LSI read fetched (each rounded on its own),
    /// charged to the table arm.
    pub fetched_units: f64,
}

fn empty(start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    use Bound::{Excluded, Included};
    match (start, end) {
        (Included(a), Included(b)) => a > b,
        (Included(a), Excluded(b)) | (Excluded(a), Included(b)) | (Excluded(a), Excluded(b)) => {
            a >= b
        }
        _ => false,
    }
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

/// The key attributes LastEvaluatedKey carries: the table's, plus the index's.
pub fn key_of(def: &TableDef, index: Option<&IndexDef>, item: &Item) -> Item {
    let names: Vec<&str> = match index {
        Some(ix) => crate::index::key_names(def, ix),
        None => def.keys.names().collect(),
    };
    item.iter()
        .filter(|(k, _)| names.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Reads one page (see the module doc).
pub fn run(txn: &ReadTransaction, plan: &Plan<'_>) -> ApiResult<Page> {
    let mut page = Page::default();
    if empty(&plan.start, &plan.end) || plan.limit == Some(0) {
        return Ok(page);
    }
    let table = txn
        .open_table(if plan.index.is_some() {
            INDEX_ENTRIES
        } else {
            ITEMS
        })
        .map_err(internal)?;
    let bounds = (as_slice(&plan.start), as_slice(&plan.end));
    let range = table.range::<&[u8]>(bounds).map_err(internal)?;
    let iter: Box<dyn Iterator<Item = _>> = if plan.forward {
        Box::new(range)
    } else {
        Box::new(range.rev())
    };
    // An LSI read that wants attributes its partial projection lacks (ALL_ATTRIBUTES, or
    // a projection or filter naming one) fetches the table's item, as DynamoDB does.
    let fetch = !plan.is_gsi
        && plan.index.is_some_and(|ix| {
            ix.projection.kind != crate::catalog::ProjectionType::All
                && (plan.want == Want::All || needs_unprojected(plan, ix))
        });
    // Items answered exactly as stored: their bytes are copied, never decoded.
    let copy =
        plan.filter.is_none() && plan.projection.is_none() && !fetch && plan.want != Want::Count;
    if copy {
        page.raw = Some(Vec::new());
    }
    for entry in iter {
        let (_, v) = entry.map_err(internal)?;
        let value = v.value();
        let size = Stored::size_of(value);
        page.scanned += 1;
        page.bytes += size;
        let ends_page = plan.limit == Some(page.scanned) || page.bytes >= MAX_PAGE_BYTES;
        if let Some(raw) = page.raw.as_mut() {
            if !raw.is_empty() {
                raw.push(b',');
            }
            raw.extend_from_slice(Stored::json_of(value));
            page.count += 1;
            if ends_page {
                let item = Stored(value.to_vec()).item()?;
                page.last_key = Some(key_of(plan.def, plan.index, &item));
                break;
            }
            continue;
        }
        let mut item = Stored(value.to_vec()).item()?;
        let key = key_of(plan.def, plan.index, &item);
        // The index entry, kept when the answer is the projected attributes while the
        // filter needed the table's item.
        let mut entry = None;
        if fetch {
            if let Some(k) = crate::keys::storage_key_of(plan.def, &item) {
                if let Some(full) = items::get(txn, &k)? {
                    page.fetched_units += units(full.size(), plan.consistent);
                    entry = Some(std::mem::replace(&mut item, full.item()?));
                }
            }
        }
        let keep = plan
            .filter
            .is_none_or(|f| crate::expr::eval::eval_condition(&f.cond, &item, &f.values));
        if keep {
            page.count += 1;
            if plan.want != Want::Count {
                page.items.push(match (plan.projection, entry) {
                    (Some(p), _) => crate::expr::eval::project(&item, &p.paths),
                    (None, Some(e)) if plan.want != Want::All => e,
                    (None, _) => item,
                });
            }
        }
        if ends_page {
            page.last_key = Some(key);
            break;
        }
    }
    Ok(page)
}

/// Whether the projection or the filter of an LSI read names an attribute `ix` does not
/// project (its keys, the table's keys and INCLUDE's non-key attributes are projected).
fn needs_unprojected(plan: &Plan<'_>, ix: &IndexDef) -> bool {
    let projected = crate::index::key_names(plan.def, ix);
    let is_projected = |name: &str| {
        projected.contains(&name)
            || (ix.projection.kind == crate::catalog::ProjectionType::Include
                && ix.projection.non_key.iter().any(|n| n == name))
    };
    let mut tops: Vec<&str> = Vec::new();
    if let Some(p) = plan.projection {
        tops.extend(p.paths.iter().filter_map(|p| p.top()));
    }
    if let Some(f) = plan.filter {
        tops.extend(
            crate::expr::validate::condition_paths(&f.cond)
                .into_iter()
                .filter_map(|p| p.top()),
        );
    }
    tops.into_iter().any(|t| !is_projected(t))
}

/// Read units for `bytes` read: 4 KB units rounded up, at least one; half for eventually
/// consistent reads (dynalite `actions/query.js`).
pub fn units(bytes: usize, consistent: bool) -> f64 {
    crate::api::item::capacity::read_units(Some(bytes), consistent)
}

/// ConsumedCapacity with the index breakdown for INDEXES.
/// `fetched` is the table arm of an LSI read that fetched table items (else 0).
pub fn consumed(plan: &Plan<'_>, mode: CapacityMode, units: f64, fetched: f64) -> Option<Value> {
    let name = &plan.def.name;
    let total = units + fetched;
    match mode {
        CapacityMode::None => None,
        CapacityMode::Total => Some(json!({"TableName": name, "CapacityUnits": total})),
        CapacityMode::Indexes => {
            let mut m = Map::new();
            m.insert("TableName".into(), json!(name));
            m.insert("CapacityUnits".into(), json!(total));
            match plan.index {
                None => {
                    m.insert("Table".into(), json!({"CapacityUnits": units}));
                }
                Some(ix) => {
                    m.insert("Table".into(), json!({"CapacityUnits": fetched}));
                    let key = if plan.is_gsi {
                        "GlobalSecondaryIndexes"
                    } else {
                        "LocalSecondaryIndexes"
                    };
                    m.insert(
                        key.into(),
                        json!({ ix.name.clone(): {"CapacityUnits": units} }),
                    );
                }
            }
            Some(Value::Object(m))
        }
    }
}

/// The response body of a page: its members in the order serde_json's sorted maps give
/// them (ConsumedCapacity, Count, Items, LastEvaluatedKey, ScannedCount), which the cache
/// relies on when it splices a zero ConsumedCapacity into a hit.
pub fn respond(plan: &Plan<'_>, page: Page, mode: CapacityMode) -> ApiResult<Vec<u8>> {
    let units = units(page.bytes, plan.consistent);
    let mut out = Vec::with_capacity(page.raw.as_ref().map_or(256, |r| r.len() + 256));
    out.push(b'{');
    if let Some(c) = consumed(plan, mode, units, page.fetched_units) {
        out.extend_from_slice(b"\"ConsumedCapacity\":");
        serde_json::to_writer(&mut out, &c).map_err(internal)?;
        out.push(b',');
    }
    write!(out, "\"Count\":{}", page.count).map_err(internal)?;
    if plan.want != Want::Count {
        out.extend_from_slice(b",\"Items\":");
        match &page.raw {
            Some(raw) => {
                out.push(b'[');
                out.extend_from_slice(raw);
                out.push(b']');
            }
            None => serde_json::to_writer(&mut out, &page.items).map_err(internal)?,
        }
    }
    if let Some(k) = &page.last_key {
        out.extend_from_slice(b",\"LastEvaluatedKey\":");
        serde_json::to_writer(&mut out, k).map_err(internal)?;
    }
    write!(out, ",\"ScannedCount\":{}}}", page.scanned).map_err(internal)?;
    Ok(out)
}
