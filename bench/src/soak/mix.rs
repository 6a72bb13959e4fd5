//! The soak's request mix over one table with a GSI, an LSI, a stream and Time to Live:
//! overwriting puts (some already expired, so the sweeper deletes them), updates that
//! move GSI entries, deletes, gets, base and index queries, batch writes and
//! transactions with fresh ClientRequestTokens. Keys are drawn from a fixed key space,
//! so the live data stays the same size however many requests run.

use bytes::Bytes;
use rand::Rng;
use serde_json::{json, Value};

use crate::workload::{Expect, Req};

/// Items per partition key.
const PER_PARTITION: u64 = 10;
/// Distinct GSI partition values.
const GSI_VALUES: u64 = 64;

/// A TTL value an hour in the past: expired, so the sweeper deletes the item. (DynamoDB
/// ignores expiry times more than five years in the past, so an older constant would
/// never expire.)
fn expired_at() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .saturating_sub(3600)
}

/// The table and request builder of one soak.
#[derive(Debug, Clone)]
pub struct Mix {
    pub table: String,
    pub keys: u64,
    payload: String,
}

fn req(op: &'static str, body: &Value) -> Req {
    Req {
        op,
        body: Bytes::from(body.to_string()),
        expect: Expect::Ok,
        then: None,
    }
}

impl Mix {
    pub fn new(table: &str, keys: u64, item_size: usize) -> Mix {
        Mix {
            table: table.to_string(),
            keys: keys.max(PER_PARTITION),
            payload: "x".repeat(item_size.saturating_sub(40).max(1)),
        }
    }

    pub fn create_table(&self) -> Req {
        req(
            "CreateTable",
            &json!({
                "TableName": self.table,
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                    {"AttributeName": "g", "AttributeType": "S"},
                    {"AttributeName": "l", "AttributeType": "N"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
                "GlobalSecondaryIndexes": [{"IndexName": "by-g",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"}}],
                "LocalSecondaryIndexes": [{"IndexName": "by-l",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "l", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}}],
                "StreamSpecification": {"StreamEnabled": true,
                                        "StreamViewType": "NEW_AND_OLD_IMAGES"},
            }),
        )
    }

    pub fn enable_ttl(&self) -> Req {
        req(
            "UpdateTimeToLive",
            &json!({"TableName": self.table,
                    "TimeToLiveSpecification": {"Enabled": true, "AttributeName": "exp"}}),
        )
    }

    pub fn describe_table(&self) -> Req {
        req("DescribeTable", &json!({"TableName": self.table}))
    }

    fn key(&self, i: u64) -> Value {
        json!({"pk": {"S": format!("p{:06}", i / PER_PARTITION)},
               "sk": {"N": (i % PER_PARTITION).to_string()}})
    }

    /// Item `i`; `expired` items carry a TTL timestamp in the past.
    fn item<R: Rng + ?Sized>(&self, rng: &mut R, i: u64, expired: bool) -> Value {
        let mut item = self.key(i);
        item["g"] = json!({"S": format!("g{}", rng.random_range(0..GSI_VALUES))});
        item["l"] = json!({"N": rng.random_range(0..1_000_000u32).to_string()});
        item["payload"] = json!({"S": self.payload});
        if expired {
            item["exp"] = json!({"N": expired_at().to_string()});
        }
        item
    }

    /// One load request: a put of item `i` (for the preload).
    pub fn load<R: Rng + ?Sized>(&self, rng: &mut R, i: u64) -> Req {
        req(
            "PutItem",
            &json!({"TableName": self.table, "Item": self.item(rng, i, false)}),
        )
    }

    /// One BatchWriteItem of a TTL storm: `n` (≤ 25) already-expired items on keys outside
    /// the key space (`storm<round>-<i>`), which the sweeper must delete.
    pub fn storm_batch<R: Rng + ?Sized>(&self, rng: &mut R, round: u64, first: u64, n: u64) -> Req {
        let puts: Vec<Value> = (first..first + n.min(25))
            .map(|i| {
                let mut item = self.item(rng, i % PER_PARTITION, true);
                item["pk"] = json!({"S": format!("storm{round}-{}", i / PER_PARTITION)});
                json!({"PutRequest": {"Item": item}})
            })
            .collect();
        req(
            "BatchWriteItem",
            &json!({"RequestItems": {self.table.clone(): puts}}),
        )
    }

    /// One page of a consistent Scan counting the items TTL storms left
    /// (`begins_with(pk, "storm")`), from `start`.
    pub fn count_storm_items(&self, start: Option<&Value>) -> Req {
        let mut body = json!({"TableName": self.table, "Select": "COUNT", "ConsistentRead": true,
            "FilterExpression": "begins_with(pk, :s)",
            "ExpressionAttributeValues": {":s": {"S": "storm"}}});
        if let Some(k) = start {
            body["ExclusiveStartKey"] = k.clone();
        }
        req("Scan", &body)
    }

    /// The next request of the mix.
    pub fn next<R: Rng + ?Sized>(&self, rng: &mut R, serial: u64) -> Req {
        let i = rng.random_range(0..self.keys);
        let t = &self.table;
        match rng.random_range(0..100u32) {
            0..=29 => req(
                "PutItem",
                &json!({"TableName": t, "Item": self.item(rng, i, false)}),
            ),
            30..=34 => req(
                "PutItem",
                &json!({"TableName": t, "Item": self.item(rng, i, true)}),
            ),
            35..=49 => req(
                "UpdateItem",
                &json!({"TableName": t, "Key": self.key(i),
                    "UpdateExpression": "SET g = :g ADD n :one",
                    "ExpressionAttributeValues": {
                        ":g": {"S": format!("g{}", rng.random_range(0..GSI_VALUES))},
                        ":one": {"N": "1"}}}),
            ),
            50..=57 => req("DeleteItem", &json!({"TableName": t, "Key": self.key(i)})),
            58..=79 => req("GetItem", &json!({"TableName": t, "Key": self.key(i)})),
            80..=87 => req(
                "Query",
                &json!({"TableName": t, "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": {
                        ":p": {"S": format!("p{:06}", i / PER_PARTITION)}}}),
            ),
            88..=91 => req(
                "Query",
                &json!({"TableName": t, "IndexName": "by-g", "Limit": 10,
                    "KeyConditionExpression": "g = :g",
                    "ExpressionAttributeValues": {
                        ":g": {"S": format!("g{}", rng.random_range(0..GSI_VALUES))}}}),
            ),
            92..=95 => {
                let start = i - i % PER_PARTITION;
                let puts: Vec<Value> = (start..start + PER_PARTITION)
                    .map(|k| json!({"PutRequest": {"Item": self.item(rng, k, false)}}))
                    .collect();
                req(
                    "BatchWriteItem",
                    &json!({"RequestItems": {t.clone(): puts}}),
                )
            }
            _ => {
                let other = (i + 1) % self.keys;
                req(
                    "TransactWriteItems",
                    &json!({"ClientRequestToken": format!("soak-{serial}-{}", rng.random::<u32>()),
                        "TransactItems": [
                            {"Put": {"TableName": t, "Item": self.item(rng, i, false)}},
                            {"Update": {"TableName": t, "Key": self.key(other),
                                "UpdateExpression": "ADD n :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}}]}),
                )
            }
        }
    }
}

/// The bytes of the table and its indexes, from a DescribeTable answer.
pub fn live_bytes(describe: &[u8]) -> u64 {
    let Ok(v) = serde_json::from_slice::<Value>(describe) else {
        return 0;
    };
    let t = &v["Table"];
    let mut total = t["TableSizeBytes"].as_u64().unwrap_or(0);
    for list in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        for ix in t[list].as_array().into_iter().flatten() {
            total += ix["IndexSizeBytes"].as_u64().unwrap_or(0);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_request_is_json_and_keys_stay_in_the_key_space() {
        let mix = Mix::new("t", 100, 200);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut ops = std::collections::BTreeSet::new();
        for n in 0..2_000 {
            let r = mix.next(&mut rng, n);
            let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            assert!(v.is_object(), "{}", r.op);
            ops.insert(r.op);
        }
        assert_eq!(ops.len(), 7, "{ops:?}");
    }

    #[test]
    fn a_storm_batch_writes_expired_items_outside_the_key_space() {
        let mix = Mix::new("t", 100, 200);
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let r = mix.storm_batch(&mut rng, 3, 20, 40);
        let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let puts = v["RequestItems"]["t"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(puts.len(), 25);
        for p in &puts {
            let item = &p["PutRequest"]["Item"];
            assert!(item["pk"]["S"]
                .as_str()
                .is_some_and(|k| k.starts_with("storm3-")));
            let exp: u64 = item["exp"]["N"]
                .as_str()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let now = expired_at() + 3600;
            assert!(
                exp < now && exp + 5 * 365 * 86_400 > now,
                "expired, within five years: {exp}"
            );
        }
    }

    #[test]
    fn live_bytes_adds_the_indexes() {
        let d = br#"{"Table":{"TableSizeBytes":100,"GlobalSecondaryIndexes":[{"IndexSizeBytes":20}],"LocalSecondaryIndexes":[{"IndexSizeBytes":3}]}}"#;
        assert_eq!(live_bytes(d), 123);
        assert_eq!(live_bytes(b"nope"), 0);
    }
}
