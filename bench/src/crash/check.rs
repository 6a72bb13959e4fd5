//! What the crash harness checks after each restart, against the ledger of the cycle
//! and the totals of every earlier one: every acknowledged item present with the value it
//! was written with, the bank total conserved (no half-applied transfer), each counter
//! between its acknowledged and its attempted increments, the GSI holding exactly the
//! items the base table holds, stream sequence numbers increasing, and a replayed
//! ClientRequestToken applying nothing. Each broken invariant is one violation string.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::load::{req, value_of, Ledger, ACCOUNTS, GSI, START_BALANCE, TABLE};
use crate::client::Conn;

/// What survives from cycle to cycle.
#[derive(Debug, Default)]
pub struct Totals {
    pub counter_attempts: BTreeMap<String, u64>,
    pub counter_acked: BTreeMap<String, u64>,
    /// The last sequence number read from each shard.
    pub stream_positions: BTreeMap<String, String>,
    pub acked_items: u64,
    pub acked_writes: u64,
    pub tokens_replayed: u64,
    pub stream_records: u64,
}

async fn ok(conn: &mut Conn, op: &'static str, body: Value) -> Result<Value, String> {
    let (status, answer) = conn.call(&req(op, &body)).await?;
    if status != 200 {
        return Err(format!(
            "{op} {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    serde_json::from_slice(&answer).map_err(|e| format!("{op}: bad JSON: {e}"))
}

/// Reads `keys` with BatchGetItem (ConsistentRead), retrying UnprocessedKeys.
pub async fn batch_get(
    conn: &mut Conn,
    keys: &[String],
) -> Result<BTreeMap<String, Value>, String> {
    let mut found = BTreeMap::new();
    for chunk in keys.chunks(100) {
        let mut ask: Vec<Value> = chunk.iter().map(|k| json!({"pk": {"S": k}})).collect();
        while !ask.is_empty() {
            let a = ok(
                conn,
                "BatchGetItem",
                json!({"RequestItems": {TABLE: {"Keys": ask, "ConsistentRead": true}}}),
            )
            .await?;
            for item in a["Responses"][TABLE].as_array().into_iter().flatten() {
                if let Some(pk) = item["pk"]["S"].as_str() {
                    found.insert(pk.to_string(), item.clone());
                }
            }
            ask = a["UnprocessedKeys"][TABLE]["Keys"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
    }
    Ok(found)
}

async fn balances(conn: &mut Conn) -> Result<Vec<i64>, String> {
    let keys: Vec<String> = (0..ACCOUNTS).map(|a| format!("acct-{a}")).collect();
    let found = batch_get(conn, &keys).await?;
    Ok(keys
        .iter()
        .map(|k| {
            found
                .get(k)
                .and_then(|i| i["balance"]["N"].as_str())
                .and_then(|n| n.parse().ok())
                .unwrap_or(i64::MIN)
        })
        .collect())
}

/// Sequence numbers are decimal strings of any length: compare as numbers.
fn seq_less(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

/// Checks one cycle; returns the violations (empty: all invariants hold).
pub async fn cycle(
    conn: &mut Conn,
    gsi_key: &str,
    ledger: &Ledger,
    totals: &mut Totals,
) -> Result<Vec<String>, String> {
    let mut v = Vec::new();
    let described = conn
        .call(&req("DescribeTable", &json!({"TableName": TABLE})))
        .await?;
    if described.0 != 200 {
        v.push(format!(
            "the table was lost after the restart: {}",
            String::from_utf8_lossy(&described.1)
        ));
        return Ok(v);
    }
    // Unique items: acknowledged ones present, every present one as written.
    let attempted: Vec<String> = ledger.attempted.clone();
    let present = batch_get(conn, &attempted).await?;
    let lost: Vec<&String> = ledger
        .acked
        .iter()
        .filter(|k| !present.contains_key(*k))
        .collect();
    if !lost.is_empty() {
        v.push(format!(
            "{} acknowledged writes lost, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(3)]
        ));
    }
    for (pk, item) in &present {
        if item["v"]["S"].as_str() != Some(value_of(pk).as_str())
            || item["g"]["S"].as_str() != Some(gsi_key)
        {
            v.push(format!("{pk} holds a value nobody wrote: {item}"));
        }
    }
    // The GSI equals what the base implies for this cycle's key.
    let mut in_gsi = BTreeSet::new();
    let mut start: Option<Value> = None;
    loop {
        let mut q = json!({"TableName": TABLE, "IndexName": GSI,
            "KeyConditionExpression": "g = :g", "ExpressionAttributeValues": {":g": {"S": gsi_key}}});
        if let Some(s) = start.take() {
            q["ExclusiveStartKey"] = s;
        }
        let a = ok(conn, "Query", q).await?;
        for item in a["Items"].as_array().into_iter().flatten() {
            if item["v"]["S"].as_str().is_none() {
                v.push(format!(
                    "GSI entry without its projected attributes: {item}"
                ));
            }
            in_gsi.insert(item["pk"]["S"].as_str().unwrap_or_default().to_string());
        }
        match a.get("LastEvaluatedKey") {
            Some(k) if !k.is_null() => start = Some(k.clone()),
            _ => break,
        }
    }
    let base: BTreeSet<String> = present.keys().cloned().collect();
    if in_gsi != base {
        v.push(format!("GSI {GSI} holds {} items for {gsi_key}, the base table {}: only in GSI {:?}, only in base {:?}",
            in_gsi.len(), base.len(),
            in_gsi.difference(&base).take(3).collect::<Vec<_>>(),
            base.difference(&in_gsi).take(3).collect::<Vec<_>>()));
    }
    // Bank: the total is conserved, no balance negative.
    let before = balances(conn).await?;
    let total: i64 = before.iter().sum();
    if total != START_BALANCE * ACCOUNTS as i64 || before.iter().any(|b| *b < 0) {
        v.push(format!(
            "bank balances {before:?} (total {total}): a transfer was half-applied or lost"
        ));
    }
    // Counters: between what was acknowledged and what was attempted, across all cycles.
    for (k, n) in &ledger.counter_attempts {
        *totals.counter_attempts.entry(k.clone()).or_default() += n;
    }
    for (k, n) in &ledger.counter_acked {
        let top = totals.counter_acked.entry(k.clone()).or_default();
        *top = (*top).max(*n);
    }
    let keys: Vec<String> = totals.counter_attempts.keys().cloned().collect();
    let counters = batch_get(conn, &keys).await?;
    for k in &keys {
        let now: u64 = counters
            .get(k)
            .and_then(|i| i["n"]["N"].as_str())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let acked = totals.counter_acked.get(k).copied().unwrap_or(0);
        let tried = totals.counter_attempts.get(k).copied().unwrap_or(0);
        if now < acked || now > tried {
            v.push(format!(
                "counter {k} = {now}, acknowledged up to {acked}, attempted {tried}"
            ));
        }
        // The next cycle must not see it go down either.
        totals.counter_acked.insert(k.clone(), acked.max(now));
    }
    // Tokens: replaying an acknowledged transfer answers 200 and applies nothing.
    for t in ledger.transfers.iter().rev().take(2) {
        let (status, answer) = conn.call(&req("TransactWriteItems", t)).await?;
        let after = balances(conn).await?;
        totals.tokens_replayed += 1;
        if status != 200 || after != before {
            v.push(format!(
                "replayed token {}: {status} {}, balances {before:?} -> {after:?}",
                t["ClientRequestToken"],
                String::from_utf8_lossy(&answer)
            ));
        }
    }
    stream(conn, ledger, totals, &described.1, &mut v).await?;
    totals.acked_items += ledger.acked.len() as u64;
    totals.acked_writes += ledger.acked_writes;
    Ok(v)
}

/// Reads the stream's new records: sequence numbers increase in every shard, and there
/// are at least as many new records as acknowledged writes.
async fn stream(
    conn: &mut Conn,
    ledger: &Ledger,
    totals: &mut Totals,
    described: &[u8],
    v: &mut Vec<String>,
) -> Result<(), String> {
    let d: Value = serde_json::from_slice(described).map_err(|e| e.to_string())?;
    let Some(arn) = d["Table"]["LatestStreamArn"].as_str() else {
        v.push("the table's stream is gone".into());
        return Ok(());
    };
    let s = ok(
        conn,
        "DynamoDBStreams_20120810.DescribeStream",
        json!({"StreamArn": arn}),
    )
    .await?;
    let mut new_records = 0u64;
    for shard in s["StreamDescription"]["Shards"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = shard["ShardId"].as_str().unwrap_or_default().to_string();
        let last = totals.stream_positions.get(&id).cloned();
        let mut it = json!({"StreamArn": arn, "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"});
        if let Some(seq) = &last {
            it["ShardIteratorType"] = json!("AFTER_SEQUENCE_NUMBER");
            it["SequenceNumber"] = json!(seq);
        }
        let mut iter = ok(conn, "DynamoDBStreams_20120810.GetShardIterator", it).await?
            ["ShardIterator"]
            .clone();
        let mut prev = last;
        while iter.is_string() {
            let page = ok(
                conn,
                "DynamoDBStreams_20120810.GetRecords",
                json!({"ShardIterator": iter}),
            )
            .await?;
            let records = page["Records"].as_array().cloned().unwrap_or_default();
            for r in &records {
                let seq = r["dynamodb"]["SequenceNumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if let Some(p) = &prev {
                    if !seq_less(p, &seq) {
                        v.push(format!("shard {id}: sequence number {seq} after {p}"));
                    }
                }
                prev = Some(seq);
            }
            new_records += records.len() as u64;
            if records.is_empty() {
                break;
            }
            iter = page["NextShardIterator"].clone();
        }
        if let Some(p) = prev {
            totals.stream_positions.insert(id, p);
        }
    }
    totals.stream_records += new_records;
    if new_records < ledger.acked_writes {
        v.push(format!(
            "{new_records} new stream records for {} acknowledged writes",
            ledger.acked_writes
        ));
    }
    Ok(())
}
