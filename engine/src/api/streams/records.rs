//! GetShardIterator and GetRecords. A shard iterator is DynamoDB-shaped text,
//! `<stream arn>|1|<base64 payload>`, whose payload names the shard, the first sequence
//! number to read and when the iterator was issued (iterators expire, by default after
//! 15 minutes, as on DynamoDB).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{check_limit, find, stream_arn};
use crate::api::Ctx;
use crate::streams::record_json;
use crate::streams::store::{self, parse_seq, ShardMeta};
use crate::wire::shape::{Obj, Violations};
use crate::wire::{ApiError, ApiResult, ErrorCode};

const ITERATOR_TYPES: &[&str] = &[
    "TRIM_HORIZON",
    "LATEST",
    "AT_SEQUENCE_NUMBER",
    "AFTER_SEQUENCE_NUMBER",
];

/// What an iterator says: where to read and since when it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub arn: String,
    pub shard: String,
    pub from: u64,
    pub issued_ms: i64,
}

impl Position {
    pub fn encode(&self) -> String {
        let payload = format!("{}|{}|{}", self.shard, self.from, self.issued_ms);
        format!("{}|1|{}", self.arn, STANDARD.encode(payload))
    }

    pub fn decode(text: &str) -> Option<Position> {
        let (head, payload) = text.rsplit_once('|')?;
        let (arn, version) = head.rsplit_once('|')?;
        if version != "1" {
            return None;
        }
        let payload = String::from_utf8(STANDARD.decode(payload).ok()?).ok()?;
        let mut parts = payload.split('|');
        let shard = parts.next()?.to_string();
        let from = parts.next()?.parse().ok()?;
        let issued_ms = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(Position {
            arn: arn.to_string(),
            shard,
            from,
            issued_ms,
        })
    }
}

fn trimmed() -> ApiError {
    ApiError::new(
        ErrorCode::TrimmedDataAccessException,
        "The operation attempted to read past the oldest stream record in a shard",
    )
}

/// DynamoDB Streams' answer for a shard the stream does not have (the text real
/// DynamoDB Streams sends, as Kinesis-adapter clients match it; LOCAL: "Shard does not
/// exist").
fn shard_not_found(_shard: &str) -> ApiError {
    ApiError::resource_not_found("Requested resource not found: Shard does not exist")
}

pub async fn get_shard_iterator(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let arn = o.str("StreamArn")?;
    let shard_id = o.str("ShardId")?;
    let kind = o.str("ShardIteratorType")?;
    let seq = o.str("SequenceNumber")?;
    let mut v = Violations::new();
    match arn {
        Some(a) => v.length(a, "streamArn", 37, 1024),
        None => v.not_null("streamArn"),
    }
    match shard_id {
        Some(s) => v.length(s, "shardId", 28, 65),
        None => v.not_null("shardId"),
    }
    match kind {
        Some(k) => v.enum_value(k, "shardIteratorType", ITERATOR_TYPES),
        None => v.not_null("shardIteratorType"),
    }
    if let Some(s) = seq {
        v.length(s, "sequenceNumber", 21, 40);
    }
    v.finish()?;
    let (arn, shard_id, kind) = (
        arn.unwrap_or_default(),
        shard_id.unwrap_or_default(),
        kind.unwrap_or_default(),
    );
    let txn = ctx.store.read()?;
    let view = find(ctx, &txn, arn)?;
    let meta = &view.meta;
    let shard = meta
        .shard(shard_id)
        .ok_or_else(|| shard_not_found(shard_id))?;
    let at_seq = |after: bool| -> ApiResult<u64> {
        let text = seq.ok_or_else(|| {
            ApiError::validation(format!(
                "Must specify a SequenceNumber for ShardIteratorType {kind}"
            ))
        })?;
        let n = parse_seq(text)
            .filter(|n| in_shard(shard, *n))
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "Invalid SequenceNumber {text} for shard {shard_id}"
                ))
            })?;
        if n <= meta.trimmed_through {
            return Err(trimmed());
        }
        Ok(if after { n + 1 } else { n })
    };
    let from = match kind {
        "TRIM_HORIZON" => shard.start.max(meta.trimmed_through + 1),
        "LATEST" => match shard.end {
            Some(end) => end + 1,
            None => store::peek_seq(&txn)?.max(shard.start),
        },
        "AT_SEQUENCE_NUMBER" => at_seq(false)?,
        _ => at_seq(true)?,
    };
    let position = Position {
        arn: stream_arn(ctx, &meta.table, &meta.label),
        shard: shard.id.clone(),
        from,
        issued_ms: ctx.now_ms(),
    };
    Ok(json!({ "ShardIterator": position.encode() }))
}

fn in_shard(shard: &ShardMeta, seq: u64) -> bool {
    seq >= shard.start && shard.end.is_none_or(|e| seq <= e)
}

pub async fn get_records(ctx: &Ctx, body: &Map<String, Value>) -> ApiResult<Value> {
    let o = Obj(body);
    let iterator = o.str("ShardIterator")?;
    let limit = o.int("Limit")?;
    let mut v = Violations::new();
    match iterator {
        Some(i) => v.length(i, "shardIterator", 1, 2048),
        None => v.not_null("shardIterator"),
    }
    check_limit(&mut v, limit, 1000);
    v.finish()?;
    let position = iterator
        .and_then(Position::decode)
        .ok_or_else(|| ApiError::validation("Invalid ShardIterator"))?;
    let now = ctx.now_ms();
    if now - position.issued_ms > ctx.config.stream_iterator_ttl_ms {
        return Err(ApiError::new(
            ErrorCode::ExpiredIteratorException,
            "Shard iterator has expired",
        ));
    }
    let txn = ctx.store.read()?;
    let view = find(ctx, &txn, &position.arn)?;
    let meta = &view.meta;
    if position.from <= meta.trimmed_through {
        return Err(trimmed());
    }
    let shard = meta
        .shard(&position.shard)
        .ok_or_else(|| shard_not_found(&position.shard))?;
    let through = shard.end.unwrap_or(u64::MAX);
    let limit = usize::try_from(limit.unwrap_or(1000)).unwrap_or(1000);
    let found = store::read(&txn, &meta.key(), position.from..=through, limit)?;
    let records: Vec<Value> = found
        .iter()
        .map(|(seq, rec)| record_json(*seq, rec, &meta.view_type, &ctx.config.region))
        .collect();
    let next_from = found.last().map(|(s, _)| s + 1).unwrap_or(position.from);
    let mut out = json!({ "Records": records });
    // A closed shard read to its end has no next iterator: the consumer moves on to the
    // child shards.
    if shard.end.is_none_or(|end| next_from <= end) {
        let next = Position {
            from: next_from,
            issued_ms: now,
            ..position
        };
        out["NextShardIterator"] = json!(next.encode());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Position;

    #[test]
    fn iterators_round_trip_and_reject_garbage() {
        let p = Position {
            arn: "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000"
                .into(),
            shard: "shardId-00000001704067200000-abcdef01".into(),
            from: 42,
            issued_ms: 1_700_000_000_000,
        };
        assert_eq!(Position::decode(&p.encode()), Some(p));
        assert_eq!(Position::decode("nope"), None);
        assert_eq!(Position::decode("a|1|!!!"), None);
        assert_eq!(Position::decode("a|2|YQ=="), None);
    }
}
