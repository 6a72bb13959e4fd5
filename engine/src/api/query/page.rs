//! One page of a Query or Scan: ONE range scan over the `items` or `index_entries`
//! table, forwards or backwards, that stops at `Limit` evaluated items or once 1 MB of
//! (projected, for indexes) item data was read — both counted before the filter — and
//! answers Items, Count, ScannedCount, LastEvaluatedKey and ConsumedCapacity.

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
    pub count: usize,
    pub scanned: usize,
    pub last_key: Option<Item>,
    pub bytes: usize,
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
    // An LSI read of ALL_ATTRIBUTES on a partial projection fetches the table's item.
    let fetch = plan.want == Want::All
        && plan
            .index
            .is_some_and(|ix| ix.projection.kind != crate::catalog::ProjectionType::All);
    for entry in iter {
        let (_, v) = entry.map_err(internal)?;
        let stored = Stored(v.value().to_vec());
        page.scanned += 1;
        page.bytes += stored.size();
        let mut item = stored.item()?;
        let key = key_of(plan.def, plan.index, &item);
        if fetch {
            if let Some(k) = crate::keys::storage_key_of(plan.def, &item) {
                if let Some(full) = items::get(txn, &k)? {
                    item = full.item()?;
                }
            }
        }
        let keep = plan
            .filter
            .is_none_or(|f| crate::expr::eval::eval_condition(&f.cond, &item, &f.values));
        if keep {
            page.count += 1;
            if plan.want != Want::Count {
                page.items.push(match plan.projection {
                    Some(p) => crate::expr::eval::project(&item, &p.paths),
                    None => item,
                });
            }
        }
        if plan.limit == Some(page.scanned) || page.bytes >= MAX_PAGE_BYTES {
            page.last_key = Some(key);
            break;
        }
    }
    Ok(page)
}

/// Read units for `bytes` read: 4 KB units rounded up, at least one; half for eventually
/// consistent reads (dynalite `actions/query.js`).
pub fn units(bytes: usize, consistent: bool) -> f64 {
    crate::api::item::capacity::read_units(Some(bytes), consistent)
}

/// ConsumedCapacity with the index breakdown for INDEXES.
pub fn consumed(plan: &Plan<'_>, mode: CapacityMode, units: f64) -> Option<Value> {
    let name = &plan.def.name;
    match mode {
        CapacityMode::None => None,
        CapacityMode::Total => Some(json!({"TableName": name, "CapacityUnits": units})),
        CapacityMode::Indexes => {
            let mut m = Map::new();
            m.insert("TableName".into(), json!(name));
            m.insert("CapacityUnits".into(), json!(units));
            match plan.index {
                None => {
                    m.insert("Table".into(), json!({"CapacityUnits": units}));
                }
                Some(ix) => {
                    m.insert("Table".into(), json!({"CapacityUnits": 0.0}));
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

/// The response body of a page.
pub fn respond(plan: &Plan<'_>, page: Page, mode: CapacityMode) -> ApiResult<Value> {
    let mut out = Map::new();
    if plan.want != Want::Count {
        out.insert(
            "Items".into(),
            serde_json::to_value(&page.items).map_err(internal)?,
        );
    }
    out.insert("Count".into(), json!(page.count));
    out.insert("ScannedCount".into(), json!(page.scanned));
    if let Some(k) = &page.last_key {
        out.insert(
            "LastEvaluatedKey".into(),
            serde_json::to_value(k).map_err(internal)?,
        );
    }
    let units = units(page.bytes, plan.consistent);
    if let Some(c) = consumed(plan, mode, units) {
        out.insert("ConsumedCapacity".into(), c);
    }
    Ok(Value::Object(out))
}
