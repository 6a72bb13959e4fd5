//! Running a SELECT on one snapshot: the access path from `plan` (one item by key, the
//! ranges of some partitions, or the whole table or index), the WHERE clause evaluated
//! by `expr::eval` on every item read, PartiQL's projection, and paging — a page stops
//! after `Limit` items evaluated or 1 MB of items read, with a NextToken bound to the
//! statement and its parameters.

use std::ops::Bound;

use base64::Engine as _;
use redb::ReadTransaction;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::api::query::keycond;
use crate::catalog::{IndexDef, TableDef};
use crate::expr::ast::Condition;
use crate::expr::eval::Values;
use crate::model::Item;
use crate::storage::items::{self, Stored};
use crate::storage::{internal, INDEX_ENTRIES, ITEMS};
use crate::wire::{ApiError, ApiResult};

use super::ast::PPath;
use super::bind::to_path;
use super::plan::Access;

/// DynamoDB's page size: 1 MB of items read.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// A SELECT ready to run.
pub struct ReadPlan {
    pub def: TableDef,
    pub index: Option<IndexDef>,
    pub access: Access,
    pub forward: bool,
    pub filter: Option<Condition>,
    pub values: Values,
    pub projection: Option<Vec<PPath>>,
}

/// Where a previous page stopped: the partition (Query) and the last stored key read.
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    pub part: usize,
    pub key: Vec<u8>,
}

/// One result row: the stored bytes as they are (no WHERE beyond the access path and no
/// projection: answered without decoding), or the item after WHERE and projection.
#[derive(Debug)]
pub enum Row {
    Stored(Stored),
    Item(Item),
}

impl Row {
    /// Appends the row's DynamoDB JSON to `out`.
    pub fn write_json(&self, out: &mut Vec<u8>) -> ApiResult<()> {
        match self {
            Row::Stored(s) => {
                out.extend_from_slice(s.json());
                Ok(())
            }
            Row::Item(item) => serde_json::to_writer(out, item).map_err(internal),
        }
    }
}

/// One page of results.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<Row>,
    pub bytes: usize,
    pub next: Option<Resume>,
    /// Items read (for a keyed read that found nothing: 0).
    pub read: usize,
}

/// PartiQL's projection: each path keyed by its last step; missing paths omitted.
pub fn project(item: Item, paths: Option<&[PPath]>) -> Item {
    let Some(paths) = paths else { return item };
    let mut out = Item::new();
    for p in paths {
        if let Some(v) = crate::expr::eval::get_path(&item, &to_path(p)) {
            out.insert(p.output_key(), v.clone());
        }
    }
    out
}

fn keep(plan: &ReadPlan, item: &Item) -> bool {
    plan.filter
        .as_ref()
        .is_none_or(|c| crate::expr::eval::eval_condition(c, item, &plan.values))
}

/// The row for one stored item, or `None` when WHERE drops it. Without a filter or a
/// projection the stored bytes are the answer; otherwise the item is decoded.
fn row(plan: &ReadPlan, stored: Stored) -> ApiResult<Option<Row>> {
    if plan.filter.is_none() && plan.projection.is_none() {
        return Ok(Some(Row::Stored(stored)));
    }
    let item = stored.item()?;
    Ok(keep(plan, &item).then(|| Row::Item(project(item, plan.projection.as_deref()))))
}

/// Reads one page.
pub fn run(
    txn: &ReadTransaction,
    plan: &ReadPlan,
    limit: Option<usize>,
    resume: Option<&Resume>,
) -> ApiResult<Page> {
    let mut page = Page::default();
    match &plan.access {
        Access::Get(key) => {
            let storage = crate::keys::storage_key_of(&plan.def, key);
            let found = match storage {
                Some(k) => items::get(txn, &k)?,
                None => None,
            };
            if let Some(stored) = found {
                page.bytes = stored.size();
                page.read = 1;
                page.items.extend(row(plan, stored)?);
            }
            Ok(page)
        }
        Access::Scan => {
            let prefix = match &plan.index {
                Some(ix) => crate::index::index_prefix(plan.def.id, &ix.name),
                None => plan.def.id.to_be_bytes().to_vec(),
            };
            let end = Bound::Excluded(crate::index::prefix_end(&prefix));
            let start = match resume {
                Some(r) => Bound::Excluded(r.key.clone()),
                None => Bound::Included(prefix),
            };
            let mut budget = limit;
            scan_range(txn, plan, 0, (start, end), true, &mut budget, &mut page)?;
            Ok(page)
        }
        Access::Query(parts) => {
            let first = resume.map(|r| r.part).unwrap_or(0);
            let mut budget = limit;
            for (i, part) in parts.iter().enumerate().skip(first) {
                let prefix = match &plan.index {
                    Some(ix) => crate::index::partition_prefix(
                        &plan.def,
                        ix,
                        std::slice::from_ref(&part.hash),
                    ),
                    None => crate::keys::storage_key(plan.def.id, &part.hash, None),
                };
                let Some(prefix) = prefix else { continue };
                let (mut start, mut end) = keycond::range(&prefix, part.sort.as_ref());
                if let Some(r) = resume.filter(|r| r.part == i) {
                    if plan.forward {
                        start = Bound::Excluded(r.key.clone());
                    } else {
                        end = Bound::Excluded(r.key.clone());
                    }
                }
                if scan_range(
                    txn,
                    plan,
                    i,
                    (start, end),
                    plan.forward,
                    &mut budget,
                    &mut page,
                )? {
                    break;
                }
            }
            Ok(page)
        }
    }
}

fn as_slice(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(v) => Bound::Included(v.as_slice()),
        Bound::Excluded(v) => Bound::Excluded(v.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn empty(start: &Bound<Vec<u8>>, end: &Bound<Vec<u8>>) -> bool {
    match (start, end) {
        (Bound::Included(a), Bound::Included(b)) => a > b,
        (Bound::Included(a) | Bound::Excluded(a), Bound::Excluded(b) | Bound::Included(b)) => {
            a >= b
        }
        _ => false,
    }
}

/// Reads one key range into `page`; `true` when the page is full (NextToken set).
fn scan_range(
    txn: &ReadTransaction,
    plan: &ReadPlan,
    part: usize,
    (start, end): (Bound<Vec<u8>>, Bound<Vec<u8>>),
    forward: bool,
    budget: &mut Option<usize>,
    page: &mut Page,
) -> ApiResult<bool> {
    if budget == &Some(0) {
        return Ok(true);
    }
    if empty(&start, &end) {
        return Ok(false);
    }
    let table = txn
        .open_table(if plan.index.is_some() {
            INDEX_ENTRIES
        } else {
            ITEMS
        })
        .map_err(internal)?;
    let range = table
        .range::<&[u8]>((as_slice(&start), as_slice(&end)))
        .map_err(internal)?;
    let iter: Box<dyn Iterator<Item = _>> = if forward {
        Box::new(range)
    } else {
        Box::new(range.rev())
    };
    for entry in iter {
        let (k, v) = entry.map_err(internal)?;
        let stored = Stored(v.value().to_vec());
        page.read += 1;
        page.bytes += stored.size();
        page.items.extend(row(plan, stored)?);
        if let Some(n) = budget.as_mut() {
            *n -= 1;
        }
        if *budget == Some(0) || page.bytes >= MAX_PAGE_BYTES {
            page.next = Some(Resume {
                part,
                key: k.value().to_vec(),
            });
            return Ok(true);
        }
    }
    Ok(false)
}

/// What a NextToken is bound to: the statement text, its parameters and the index.
pub fn request_hash(statement: &str, params: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(statement.as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(params).unwrap_or_default());
    hex::encode(&h.finalize()[..16])
}

/// The opaque NextToken for `resume`.
pub fn encode_token(hash: &str, r: &Resume) -> String {
    let body = json!({
        "h": hash,
        "p": r.part,
        "k": base64::engine::general_purpose::STANDARD.encode(&r.key),
    });
    base64::engine::general_purpose::STANDARD.encode(body.to_string())
}

/// Reads a NextToken back; it must have been issued for this request.
pub fn decode_token(token: &str, hash: &str) -> ApiResult<Resume> {
    let invalid = || ApiError::validation("Invalid NextToken");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| invalid())?;
    let (Some(h), Some(p), Some(k)) = (v["h"].as_str(), v["p"].as_u64(), v["k"].as_str()) else {
        return Err(invalid());
    };
    if h != hash {
        return Err(ApiError::validation("NextToken does not match request"));
    }
    let key = base64::engine::general_purpose::STANDARD
        .decode(k)
        .map_err(|_| invalid())?;
    Ok(Resume {
        part: usize::try_from(p).map_err(|_| invalid())?,
        key,
    })
}
