//! The DynamoDB Streams API (`DynamoDBStreams_20120810.*`): ListStreams and
//! DescribeStream here, GetShardIterator and GetRecords in `records`, and the stream
//! lookup they share (a stream ARN → the stream, enabled or not).

mod records;

pub use records::{get_records, get_shard_iterator};

use redb::ReadTransaction;
use serde_json::{json, Map, Value};

use crate::api::Ctx;
use crate::catalog::Lifecycle;
use crate::storage::STREAM_RECORDS;
use crate::streams::store::{self, seq_text, StreamMeta};
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult};

/// A stream as the API shows it: its entry (or, before its first record, the entry that
/// record will create) and whether it is its table's current stream.
pub struct View {
    pub meta: StreamMeta,
    pub enabled: bool,
}

pub fn stream_arn(ctx: &Ctx, table: &str, label: &str) -> String {
    format!(
        "arn:aws:dynamodb:{}:{}:table/{table}/stream/{label}",
        ctx.config.region, ctx.config.account
    )
}

/// `…:table/<name>/stream/<label>` → (name, label).
fn parse_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.split_once(":table/")?.1;
    rest.split_once("/stream/")
}

pub fn stream_not_found(arn: &str) -> ApiError {
    ApiError::resource_not_found(format!(
        "Requested resource not found: Stream: {arn} not found"
    ))
}

/// Every stream: the stored ones and the current streams that have no record yet, in
/// (table name, label) order.
pub fn all_views(ctx: &Ctx, txn: &ReadTransaction) -> ApiResult<Vec<View>> {
    let now = ctx.now_ms();
    let peek = store::peek_seq(txn)?;
    let stored = store::all(txn)?;
    let mut views = Vec::new();
    for def in crate::catalog::list(txn)? {
        if def.is_gone(now, ctx.config.delete_delay_ms) {
            continue;
        }
        if let (Some(spec), Lifecycle::Live) = (&def.stream, def.lifecycle) {
            let has_entry = stored
                .iter()
                .any(|m| m.table_id == def.id && m.label == spec.label);
            if !has_entry {
                views.push(View {
                    meta: StreamMeta::new(&def, spec, peek, now),
                    enabled: true,
                });
            }
        }
    }
    for meta in stored {
        let enabled = is_current(ctx, txn, &meta)?;
        views.push(close_if_disabled(txn, View { meta, enabled })?);
    }
    views.sort_by(|a, b| (&a.meta.table, &a.meta.label).cmp(&(&b.meta.table, &b.meta.label)));
    Ok(views)
}

fn is_current(ctx: &Ctx, txn: &ReadTransaction, meta: &StreamMeta) -> ApiResult<bool> {
    let now = ctx.now_ms();
    Ok(ctx.visible_table(txn, &meta.table, now)?.is_some_and(|d| {
        d.id == meta.table_id
            && matches!(d.lifecycle, Lifecycle::Live)
            && d.stream.as_ref().is_some_and(|s| s.label == meta.label)
    }))
}

/// A disabled stream takes no more records: its open shard ends at its last record.
fn close_if_disabled(txn: &ReadTransaction, mut view: View) -> ApiResult<View> {
    if view.enabled {
        return Ok(view);
    }
    if let Some(open) = view.meta.open_shard().cloned() {
        let last = store::last_seq(txn, &view.meta.key(), open.start..=u64::MAX)?;
        if let Some(shard) = view.meta.shards.last_mut() {
            shard.end = Some(last.unwrap_or(open.start));
        }
    }
    Ok(view)
}

/// The stream an ARN names, or ResourceNotFoundException.
pub fn find(ctx: &Ctx, txn: &ReadTransaction, arn: &str) -> ApiResult<View> {
    let (table, label) = parse_arn(arn).ok_or_else(|| stream_not_found(arn))?;
    // Make sure the records table exists for older stores (it is created at open).
    let _ = txn.open_table(STREAM_RECORDS);
    all_views(ctx, txn)?
        .into_iter()
        .filter(|v| v.meta.table == table && v.meta.label == label)
        .max_by_key(|v| (v.enabled, v.meta.table_id))
        .ok_or_else(|| stream_not_found(arn))
}

fn status(enabled: bool) -> &'static str {
    if enabled {
        "ENABLED"
    } else {
        "DISABLED"
    }
}

/// Checks `Limit` (1..=max) into the envelope.
pub fn check_limit(v: &mut Violations, limit: Option<i64>, max: i64) {
    if let Some(n) = limit {
        v.min_value(n, "limit", 1);
        v.max_value(n, "limit", max);
    }
}

pub async fn list_streams(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let table = o.str("TableName")?;
    let limit = o.int("Limit")?;
    let start = o.str("ExclusiveStartStreamArn")?;
    let mut v = Violations::new();
    if let Some(t) = table {
        v.name(t, "tableName");
    }
    check_limit(&mut v, limit, 100);
    if let Some(s) = start {
        v.length(s, "exclusiveStartStreamArn", 37, 1024);
    }
    v.finish()?;
    let txn = ctx.store.read()?;
    let mut views: Vec<View> = all_views(ctx, &txn)?
        .into_iter()
        .filter(|v| match table {
            Some(t) => v.meta.table == t,
            None => true,
        })
        .collect();
    // An exclusive start is a position in the (table, label) order, whether or not the
    // stream it names still exists.
    if let Some((table, label)) = start.and_then(parse_arn) {
        views.retain(|v| (v.meta.table.as_str(), v.meta.label.as_str()) > (table, label));
    }
    let limit = usize::try_from(limit.unwrap_or(100)).unwrap_or(100);
    let more = views.len() > limit;
    views.truncate(limit);
    let streams: Vec<Value> = views
        .iter()
        .map(|v| {
            json!({
                "StreamArn": stream_arn(ctx, &v.meta.table, &v.meta.label),
                "StreamLabel": v.meta.label,
                "TableName": v.meta.table,
            })
        })
        .collect();
    let mut out = json!({ "Streams": streams });
    if let (true, Some(last)) = (more, views.last()) {
        out["LastEvaluatedStreamArn"] = json!(stream_arn(ctx, &last.meta.table, &last.meta.label));
    }
    Ok(out)
}

pub async fn describe_stream(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let arn = o.str("StreamArn")?;
    let limit = o.int("Limit")?;
    let start = o.str("ExclusiveStartShardId")?;
    let filter = o.obj("ShardFilter")?;
    let (filter_type, filter_shard) = match filter {
        Some(f) => (f.str("Type")?, f.str("ShardId")?),
        None => (None, None),
    };
    let mut v = Violations::new();
    match arn {
        Some(a) => v.length(a, "streamArn", 37, 1024),
        None => v.not_null("streamArn"),
    }
    check_limit(&mut v, limit, 100);
    if let Some(s) = start {
        v.length(s, "exclusiveStartShardId", 28, 65);
    }
    if filter.is_some() {
        match filter_type {
            Some(t) => v.enum_value(t, "shardFilter.type", &["CHILD_SHARDS"]),
            None => v.not_null("shardFilter.type"),
        }
        if let Some(s) = filter_shard {
            v.length(s, "shardFilter.shardId", 28, 65);
        }
    }
    v.finish()?;
    let arn = arn.unwrap_or_default();
    let txn = ctx.store.read()?;
    let view = find(ctx, &txn, arn)?;
    let meta = &view.meta;
    let mut shards: Vec<_> = meta.shards.iter().collect();
    // ShardFilter CHILD_SHARDS: the shards whose parent is the given one (none without
    // a ShardId, none for a shard the stream does not have; DynamoDB Local agrees).
    if filter.is_some() {
        shards.retain(|s| filter_shard.is_some() && s.parent.as_deref() == filter_shard);
    }
    // An exclusive start is a position in shard-id order (ids carry their creation
    // time), whether or not the shard it names exists.
    if let Some(start) = start {
        shards.retain(|s| s.id.as_str() > start);
    }
    let limit = usize::try_from(limit.unwrap_or(100)).unwrap_or(100);
    let more = shards.len() > limit;
    shards.truncate(limit);
    let shard_json: Vec<Value> = shards
        .iter()
        .map(|s| {
            let mut range = json!({ "StartingSequenceNumber": seq_text(s.start) });
            if let Some(end) = s.end {
                range["EndingSequenceNumber"] = json!(seq_text(end));
            }
            let mut shard = json!({ "ShardId": s.id, "SequenceNumberRange": range });
            if let Some(p) = &s.parent {
                shard["ParentShardId"] = json!(p);
            }
            shard
        })
        .collect();
    let mut keys = vec![json!({"AttributeName": meta.keys.hash, "KeyType": "HASH"})];
    if let Some(r) = &meta.keys.range {
        keys.push(json!({"AttributeName": r, "KeyType": "RANGE"}));
    }
    let mut desc = json!({
        "CreationRequestDateTime": meta.created_ms as f64 / 1000.0,
        "KeySchema": keys,
        "Shards": shard_json,
        "StreamArn": stream_arn(ctx, &meta.table, &meta.label),
        "StreamLabel": meta.label,
        "StreamStatus": status(view.enabled),
        "StreamViewType": meta.view_type,
        "TableName": meta.table,
    });
    if let (true, Some(last)) = (more, shards.last()) {
        desc["LastEvaluatedShardId"] = json!(last.id);
    }
    Ok(json!({ "StreamDescription": desc }))
}
