//! The crash harness's clients: each loops over unique conditional puts, counter
//! increments (ADD, so a counter only grows), batch writes of unique items and bank
//! transfers (TransactWriteItems with a ClientRequestToken), and records in a shared
//! [`Ledger`] what was attempted and what was acknowledged (a 200 read in full before the
//! kill). A request whose answer never came is unknown: it may or may not be applied.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::client::Endpoint;
use crate::workload::{Expect, Req};

/// The table every cycle writes to.
pub const TABLE: &str = "crash";
/// The global secondary index on `g`.
pub const GSI: &str = "by_g";
/// Bank accounts and their starting balance.
pub const ACCOUNTS: usize = 8;
pub const START_BALANCE: i64 = 100;
/// Counter keys shared by all clients.
pub const COUNTERS: usize = 4;

pub fn req(op: &'static str, body: &Value) -> Req {
    Req {
        op,
        body: Bytes::from(body.to_string()),
        expect: Expect::Ok,
        then: None,
    }
}

/// The value a unique item `pk` carries: anything else is a value nobody wrote.
pub fn value_of(pk: &str) -> String {
    format!("v-{pk}")
}

/// What one cycle's clients did.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Unique items attempted (put or batch), each with its GSI key.
    pub attempted: Vec<String>,
    /// Unique items acknowledged.
    pub acked: Vec<String>,
    /// Per counter: increments attempted, and the highest value an acknowledged ADD saw.
    pub counter_attempts: BTreeMap<String, u64>,
    pub counter_acked: BTreeMap<String, u64>,
    /// Acknowledged transfers' TransactWriteItems bodies (replayed to test the tokens).
    pub transfers: Vec<Value>,
    /// Acknowledged writes of every kind (each yields stream records).
    pub acked_writes: u64,
    /// Answers other than 200 or a condition/transaction cancellation.
    pub unexpected: Vec<String>,
}

/// Runs one client until it is aborted (the kill) or its connection fails.
pub async fn client(
    endpoint: Arc<Endpoint>,
    ledger: Arc<Mutex<Ledger>>,
    gsi_key: String,
    id: usize,
    seed: u64,
) {
    let Ok(mut conn) = endpoint.connect().await else {
        return;
    };
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut n = 0u64;
    loop {
        n += 1;
        let kind = rng.random_range(0..4u8);
        let (req, unique, counter, transfer) = match kind {
            0 => {
                let pk = format!("{gsi_key}-p{id}-{n}");
                let body = json!({"TableName": TABLE,
                    "Item": {"pk": {"S": pk}, "g": {"S": gsi_key}, "v": {"S": value_of(&pk)}},
                    "ConditionExpression": "attribute_not_exists(pk)"});
                (req("PutItem", &body), vec![pk], None, None)
            }
            1 => {
                let pks: Vec<String> = (0..5).map(|i| format!("{gsi_key}-b{id}-{n}-{i}")).collect();
                let puts: Vec<Value> = pks
                    .iter()
                    .map(|pk| {
                        json!({"PutRequest": {"Item":
                    {"pk": {"S": pk}, "g": {"S": gsi_key}, "v": {"S": value_of(pk)}}}})
                    })
                    .collect();
                let body = json!({"RequestItems": {TABLE: puts}});
                (req("BatchWriteItem", &body), pks, None, None)
            }
            2 => {
                let key = format!("counter-{}", rng.random_range(0..COUNTERS));
                let body = json!({"TableName": TABLE, "Key": {"pk": {"S": key}},
                    "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}},
                    "ReturnValues": "UPDATED_NEW"});
                (req("UpdateItem", &body), vec![], Some(key), None)
            }
            _ => {
                let from = rng.random_range(0..ACCOUNTS);
                let to = (from + rng.random_range(1..ACCOUNTS)) % ACCOUNTS;
                let amount = rng.random_range(1..=20).to_string();
                let body = json!({"ClientRequestToken": format!("{gsi_key}-t{id}-{n}"),
                    "TransactItems": [
                    {"Update": {"TableName": TABLE, "Key": {"pk": {"S": format!("acct-{from}")}},
                        "UpdateExpression": "SET balance = balance - :a",
                        "ConditionExpression": "balance >= :a",
                        "ExpressionAttributeValues": {":a": {"N": amount}}}},
                    {"Update": {"TableName": TABLE, "Key": {"pk": {"S": format!("acct-{to}")}},
                        "UpdateExpression": "SET balance = balance + :a",
                        "ExpressionAttributeValues": {":a": {"N": amount}}}}]});
                (req("TransactWriteItems", &body), vec![], None, Some(body))
            }
        };
        if let Ok(mut l) = ledger.lock() {
            l.attempted.extend(unique.iter().cloned());
            if let Some(k) = &counter {
                *l.counter_attempts.entry(k.clone()).or_default() += 1;
            }
        }
        let Ok((status, body)) = conn.call(&req).await else {
            return;
        };
        let Ok(mut l) = ledger.lock() else { return };
        if status != 200 {
            let text = String::from_utf8_lossy(&body);
            let refused = text.contains("ConditionalCheckFailed")
                || text.contains("TransactionCanceled")
                || text.contains("TransactionConflict");
            if !refused {
                l.unexpected.push(format!("{} {status}: {text}", req.op));
            }
            continue;
        }
        l.acked_writes += 1;
        let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if kind == 1 {
            // Items left in UnprocessedItems were not written.
            let unprocessed = answer["UnprocessedItems"].to_string();
            l.acked.extend(
                unique
                    .into_iter()
                    .filter(|pk| !unprocessed.contains(pk.as_str())),
            );
        } else {
            l.acked.extend(unique);
        }
        if let Some(k) = counter {
            let seen = answer["Attributes"]["n"]["N"]
                .as_str()
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
            let top = l.counter_acked.entry(k).or_default();
            *top = (*top).max(seen);
        }
        if let Some(t) = transfer {
            l.transfers.push(t);
        }
    }
}
