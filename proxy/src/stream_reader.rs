//! Reading DynamoDB Streams through any [`Upstream`] (the embedded engine or a remote
//! endpoint), with the plain Streams operations: ListStreams, DescribeStream,
//! GetShardIterator, GetRecords. Used by HTTP triggers and by the cache's stream
//! follower. Answers are parsed defensively: nothing here panics on what the upstream
//! says.

use bytes::Bytes;
use daxlite_engine::wire::Operation;
use serde_json::{json, Value};

use crate::upstream::{Request, Upstream};

/// Why a Streams call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// ResourceNotFoundException: the table, stream or shard is gone.
    NotFound,
    /// ExpiredIteratorException: get a new iterator.
    Expired,
    /// TrimmedDataAccessException: the position is older than retention.
    Trimmed,
    /// Anything else (throttling, 5xx, a connection error, an unexpected answer).
    Other(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("not found"),
            ReadError::Expired => f.write_str("shard iterator expired"),
            ReadError::Trimmed => f.write_str("position trimmed past retention"),
            ReadError::Other(m) => f.write_str(m),
        }
    }
}

/// One shard of a stream, as DescribeStream shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub id: String,
    pub parent: Option<String>,
    /// `Some` once the shard is closed.
    pub ending: Option<String>,
}

/// A table's stream: `None` when the table has no enabled stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableStream {
    pub arn: Option<String>,
    pub enabled: bool,
}

/// Calls `op` with `body` and parses the JSON answer.
pub async fn call<U: Upstream>(up: &U, op: Operation, body: Value) -> Result<Value, ReadError> {
    let body = serde_json::to_vec(&body).map_err(|e| ReadError::Other(e.to_string()))?;
    let reply = up
        .call(Request {
            op,
            body: Bytes::from(body),
        })
        .await;
    let parsed: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    if reply.is_success() {
        return Ok(parsed);
    }
    let kind = parsed
        .get("__type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = kind.rsplit('#').next().unwrap_or(kind);
    Err(match name {
        "ResourceNotFoundException" => ReadError::NotFound,
        "ExpiredIteratorException" => ReadError::Expired,
        "TrimmedDataAccessException" => ReadError::Trimmed,
        _ => ReadError::Other(format!("{} {}: {}", op.name(), reply.status, name)),
    })
}

/// The table's latest stream (DescribeTable).
pub async fn table_stream<U: Upstream>(up: &U, table: &str) -> Result<TableStream, ReadError> {
    let v = call(up, Operation::DescribeTable, json!({ "TableName": table })).await?;
    let t = v.get("Table").unwrap_or(&Value::Null);
    Ok(TableStream {
        arn: t
            .get("LatestStreamArn")
            .and_then(Value::as_str)
            .map(str::to_string),
        enabled: t
            .pointer("/StreamSpecification/StreamEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Every stream the upstream lists: (stream ARN, table name).
pub async fn list_streams<U: Upstream>(up: &U) -> Result<Vec<(String, String)>, ReadError> {
    let mut out = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let mut body = json!({});
        if let Some(s) = &start {
            body["ExclusiveStartStreamArn"] = json!(s);
        }
        let v = call(up, Operation::ListStreams, body).await?;
        for s in v
            .get("Streams")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let arn = s.get("StreamArn").and_then(Value::as_str);
            let table = s.get("TableName").and_then(Value::as_str);
            if let (Some(a), Some(t)) = (arn, table) {
                out.push((a.to_string(), t.to_string()));
            }
        }
        match v.get("LastEvaluatedStreamArn").and_then(Value::as_str) {
            Some(next) if start.as_deref() != Some(next) => start = Some(next.to_string()),
            _ => return Ok(out),
        }
    }
}

/// Every shard of a stream (DescribeStream, all pages), and whether the stream is still
/// enabled.
pub async fn shards<U: Upstream>(up: &U, arn: &str) -> Result<(Vec<Shard>, bool), ReadError> {
    let mut out = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let mut body = json!({ "StreamArn": arn });
        if let Some(s) = &start {
            body["ExclusiveStartShardId"] = json!(s);
        }
        let v = call(up, Operation::DescribeStream, body).await?;
        let d = v.get("StreamDescription").unwrap_or(&Value::Null);
        for s in d
            .get("Shards")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = s.get("ShardId").and_then(Value::as_str) else {
                continue;
            };
            out.push(Shard {
                id: id.to_string(),
                parent: s
                    .get("ParentShardId")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                ending: s
                    .pointer("/SequenceNumberRange/EndingSequenceNumber")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        match d.get("LastEvaluatedShardId").and_then(Value::as_str) {
            Some(next) if start.as_deref() != Some(next) => start = Some(next.to_string()),
            _ => {
                let enabled = matches!(
                    d.get("StreamStatus").and_then(Value::as_str),
                    Some("ENABLED") | Some("ENABLING")
                );
                return Ok((out, enabled));
            }
        }
    }
}

/// Where an iterator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum From {
    TrimHorizon,
    Latest,
    After(String),
}

/// A shard iterator (GetShardIterator).
pub async fn iterator<U: Upstream>(
    up: &U,
    arn: &str,
    shard: &str,
    from: &From,
) -> Result<String, ReadError> {
    let mut body = json!({ "StreamArn": arn, "ShardId": shard });
    match from {
        From::TrimHorizon => body["ShardIteratorType"] = json!("TRIM_HORIZON"),
        From::Latest => body["ShardIteratorType"] = json!("LATEST"),
        From::After(seq) => {
            body["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
            body["SequenceNumber"] = json!(seq);
        }
    }
    let v = call(up, Operation::GetShardIterator, body).await?;
    v.get("ShardIterator")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| ReadError::Other("GetShardIterator: no ShardIterator".into()))
}

/// Records from an iterator (GetRecords) and the next iterator (`None`: the shard is
/// closed and read to its end).
pub async fn records<U: Upstream>(
    up: &U,
    iterator: &str,
    limit: usize,
) -> Result<(Vec<Value>, Option<String>), ReadError> {
    let body = json!({ "ShardIterator": iterator, "Limit": limit });
    let v = call(up, Operation::GetRecords, body).await?;
    let records = match v.get("Records") {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let next = v
        .get("NextShardIterator")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok((records, next))
}

/// A record's sequence number.
pub fn sequence_number(record: &Value) -> Option<&str> {
    record
        .pointer("/dynamodb/SequenceNumber")
        .and_then(Value::as_str)
}

/// The first shard of a stream's lineage still readable: one whose parent is not listed
/// (trimmed or none), oldest first (the list is in creation order).
pub fn root(shards: &[Shard]) -> Option<&Shard> {
    shards
        .iter()
        .find(|s| !matches!(&s.parent, Some(p) if shards.iter().any(|o| &o.id == p)))
}

/// The children of `shard`.
pub fn children<'a>(shards: &'a [Shard], shard: &str) -> Vec<&'a Shard> {
    shards
        .iter()
        .filter(|s| s.parent.as_deref() == Some(shard))
        .collect()
}

/// The table name of a stream ARN (`arn:aws:dynamodb:R:A:table/NAME/stream/LABEL`).
pub fn table_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":table/")?.1;
    Some(rest.split_once("/stream/")?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lineage_and_arns() {
        let s = |id: &str, parent: Option<&str>| Shard {
            id: id.into(),
            parent: parent.map(String::from),
            ending: None,
        };
        let list = vec![s("b", Some("a")), s("c", Some("b")), s("d", Some("c"))];
        assert_eq!(root(&list).map(|r| r.id.as_str()), Some("b"));
        assert_eq!(children(&list, "c").len(), 1);
        assert_eq!(
            table_of_arn("arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2024-01-01T00:00:00.000"),
            Some("orders")
        );
        assert_eq!(table_of_arn("nope"), None);
    }
}
