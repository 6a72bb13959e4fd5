//! Scan: every item of a table or index in hash-prefix order, as DynamoDB walks
//! partitions in hash order. Parallel scan splits the 64-bit hash-prefix space into
//! `TotalSegments` disjoint, contiguous ranges that together cover it exactly once.

use std::ops::Bound;

use serde_json::{Map, Value};

use super::page::{self, Plan};
use super::request::{self, Op};
use super::{check_gsi_reads, find_index, start_key};
use crate::api::Ctx;
use crate::index::prefix_end;
use crate::model::value::Deferred;
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};

/// The largest TotalSegments DynamoDB accepts.
pub const MAX_SEGMENTS: i64 = 1_000_000;

pub async fn scan(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Vec<u8>> {
    let o = Obj(body);
    let mut v = Violations::new();
    let segment = o.int("Segment")?;
    let total = o.int("TotalSegments")?;
    let mut c = request::read(o, Op::Scan, &mut v)?;
    if let Some(s) = segment {
        v.min_value(s, "segment", 0);
        v.max_value(s, "segment", MAX_SEGMENTS - 1);
    }
    if let Some(t) = total {
        v.min_value(t, "totalSegments", 1);
        v.max_value(t, "totalSegments", MAX_SEGMENTS);
    }
    v.finish()?;
    let segment = segments(segment, total)?;

    c.params.check_usage(
        &[
            ("ProjectionExpression", c.projection_src.is_some()),
            ("FilterExpression", c.filter_src.is_some()),
        ],
        &[
            ("AttributesToGet", c.to_get.is_some()),
            ("ScanFilter", c.legacy_filter.is_some()),
            ("ConditionalOperator", c.operator.is_some()),
        ],
        &["FilterExpression"],
    )?;
    std::mem::replace(&mut c.deferred, Deferred::new()).into_result()?;
    let want = c.want(Op::Scan)?;
    let mut resolver = c.params.resolver()?;
    let (filter, projection) = request::filter_and_projection(&c, Op::Scan, &mut resolver)?;
    resolver.finish()?;

    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    let def = ctx.data_table(&txn, c.table, now)?;
    let found = find_index(&def, c.index, c.consistent, want, now)?;
    let (index, is_gsi) = match &found {
        Some((ix, g)) => (Some(ix), *g),
        None => (None, false),
    };
    if let (Some(ix), true) = (index, is_gsi) {
        check_gsi_reads(&def, ix, projection.as_ref(), filter.as_ref())?;
    }
    let prefix = match index {
        Some(ix) => crate::index::index_prefix(def.id, &ix.name),
        None => def.id.to_be_bytes().to_vec(),
    };
    let (mut start, end) = segment_range(&prefix, segment);
    if let Some(esk) = &c.start_key {
        let key = start_key(&def, index, esk)?;
        let inside = match (&start, &end) {
            (Bound::Included(s), Bound::Excluded(e)) => key >= *s && key < *e,
            _ => true,
        };
        if !inside {
            // Guessed wording.
            return Err(ApiError::validation(
                "The provided Exclusive start key does not map to the provided Segment and TotalSegments values.",
            ));
        }
        start = Bound::Excluded(key);
    }
    let plan = Plan {
        def: &def,
        index,
        is_gsi,
        start,
        end,
        forward: true,
        limit: c.limit,
        filter: filter.as_ref(),
        projection: projection.as_ref(),
        want,
        consistent: c.consistent,
    };
    let page = super::metered_page(ctx, &txn, &plan, now, "Scan", None)?;
    page::respond(&plan, page, c.capacity)
}

/// Segment and TotalSegments come together, and Segment < TotalSegments (dynalite
/// `validations/scan.js`, captured from DynamoDB).
fn segments(segment: Option<i64>, total: Option<i64>) -> ApiResult<Option<(u64, u64)>> {
    match (segment, total) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ApiError::validation(
            "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
        )),
        (None, Some(_)) => Err(ApiError::validation(
            "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
        )),
        (Some(s), Some(t)) if s >= t => Err(ApiError::validation(format!(
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
        ))),
        (Some(s), Some(t)) => Ok(Some((s.max(0) as u64, t.max(1) as u64))),
    }
}

/// The hash-prefix boundary of segment `s` of `t`: `floor(s · 2^64 / t)`.
pub fn boundary(s: u64, t: u64) -> u128 {
    ((s as u128) << 64) / (t.max(1) as u128)
}

/// The key range of one segment (or of everything) under `prefix`.
fn segment_range(prefix: &[u8], segment: Option<(u64, u64)>) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let all_end = Bound::Excluded(prefix_end(prefix));
    let Some((s, t)) = segment else {
        return (Bound::Included(prefix.to_vec()), all_end);
    };
    let at = |b: u128| {
        let mut k = prefix.to_vec();
        k.extend_from_slice(&(b as u64).to_be_bytes());
        k
    };
    let lo = boundary(s, t);
    let hi = boundary(s + 1, t);
    let start = Bound::Included(at(lo));
    let end = if hi > u64::MAX as u128 {
        all_end
    } else {
        Bound::Excluded(at(hi))
    };
    (start, end)
}
