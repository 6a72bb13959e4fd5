//! The workloads as DynamoDB JSON: the item layout (partition `pk`, sort key `sk`, a
//! payload sized to `--item-size`), one request per operation, and the check each
//! response must pass (status 200, the item present where it must be, the item counts).

use bytes::Bytes;
use rand::Rng;
use serde_json::{json, Value};

use crate::cli::{BenchArgs, WorkloadKind};
use crate::keys::KeyDist;

/// Up to this many keys, GetItem bodies are built once up front.
const PREBUILT_MAX: u64 = 2_000_000;

/// What a successful response must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Status 200 only.
    Ok,
    /// A GetItem answer with the item.
    Item,
    /// A BatchGetItem answer with this many items (minus any UnprocessedKeys).
    Items(usize),
    /// A Query/Scan answer with exactly this many items.
    Count(usize),
    /// A Query/Scan answer with at most this many items.
    AtMost(usize),
    /// A BatchWriteItem answer with no UnprocessedItems.
    AllWritten,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Req {
    /// The operation, e.g. `GetItem` (the `X-Amz-Target` suffix).
    pub op: &'static str,
    pub body: Bytes,
    pub expect: Expect,
    /// The request the same connection sends next (the `delete` workload deletes the item
    /// its previous request wrote).
    pub then: Option<std::sync::Arc<Req>>,
}

/// The `X-Amz-Target` header value of an operation name, e.g. `DynamoDB_20120810.GetItem`.
/// An operation already carrying its prefix (`DynamoDBStreams_20120810.GetRecords`) or
/// written as a whole target (`AnyScaleFrontendService.X`) is kept as it is.
pub fn target_header(op: &str) -> String {
    if op.contains('.') {
        return op.to_string();
    }
    format!("DynamoDB_20120810.{op}")
}

/// The item layout and request builder shared by preload and the timed workloads.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub table: String,
    pub keys: u64,
    pub per_partition: u64,
    pub batch: usize,
    pub read_ratio: f64,
    payload: String,
    /// GetItem requests built once per key (the hot path of `get` and `mixed`).
    gets: Vec<Req>,
    items: KeyDist,
    partitions: KeyDist,
}

impl Workload {
    pub fn new(args: &BenchArgs) -> Self {
        let keys = args.keys.max(1);
        let per_partition = args.items_per_partition.clamp(1, keys);
        let partitions = keys.div_ceil(per_partition);
        // DynamoDB's size: names + values. pk (2 + 8), sk (2 + ~3), v (1 + ~3), "payload" (7).
        let overhead = 10 + 5 + 4 + 7;
        let payload = "x".repeat(args.item_size.saturating_sub(overhead).max(1));
        let mut w = Workload {
            kind: args.workload,
            table: args.table.clone(),
            keys,
            per_partition,
            batch: args.batch.clamp(1, 100),
            read_ratio: args.read_ratio.clamp(0.0, 1.0),
            payload,
            items: KeyDist::new(keys, args.zipf),
            partitions: KeyDist::new(partitions, args.zipf),
            gets: Vec::new(),
        };
        if matches!(w.kind, WorkloadKind::Get | WorkloadKind::Mixed) && keys <= PREBUILT_MAX {
            w.gets = (0..keys).map(|i| w.build_get(i)).collect();
        }
        w
    }

    fn key(&self, i: u64) -> Value {
        json!({
            "pk": {"S": format!("p{:07}", i / self.per_partition)},
            "sk": {"N": (i % self.per_partition).to_string()},
        })
    }

    /// The full item with index `i` and version `v`.
    pub fn item(&self, i: u64, v: u64) -> Value {
        json!({
            "pk": {"S": format!("p{:07}", i / self.per_partition)},
            "sk": {"N": (i % self.per_partition).to_string()},
            "v": {"N": v.to_string()},
            "payload": {"S": self.payload},
        })
    }

    /// The CreateTable request of the bench table.
    pub fn create_table(&self) -> Req {
        let body = json!({
            "TableName": self.table,
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        });
        req("CreateTable", &body, Expect::Ok)
    }

    pub fn describe_table(&self) -> Req {
        req(
            "DescribeTable",
            &json!({"TableName": self.table}),
            Expect::Ok,
        )
    }

    /// PutItem of item `i`.
    pub fn put(&self, i: u64, v: u64) -> Req {
        let body = json!({"TableName": self.table, "Item": self.item(i, v)});
        req("PutItem", &body, Expect::Ok)
    }

    /// BatchWriteItem of the items `range` (at most 25).
    pub fn batch_write(&self, range: std::ops::Range<u64>) -> Req {
        let puts: Vec<Value> = range
            .map(|i| json!({"PutRequest": {"Item": self.item(i, 0)}}))
            .collect();
        let body = json!({"RequestItems": {self.table.clone(): puts}});
        req("BatchWriteItem", &body, Expect::Ok)
    }

    pub fn get(&self, i: u64) -> Req {
        match self.gets.get(i as usize) {
            Some(r) => r.clone(),
            None => self.build_get(i),
        }
    }

    fn build_get(&self, i: u64) -> Req {
        let body = json!({"TableName": self.table, "Key": self.key(i)});
        req("GetItem", &body, Expect::Item)
    }

    /// ExecuteStatement reading item `i` by its whole key (served by the item cache).
    pub fn partiql_get(&self, i: u64) -> Req {
        let key = self.key(i);
        let body = json!({
            "Statement": format!("SELECT * FROM \"{}\" WHERE pk = ? AND sk = ?", self.table),
            "Parameters": [key["pk"], key["sk"]],
        });
        req("ExecuteStatement", &body, Expect::Count(1))
    }

    /// A key no earlier request used: a random 64-bit partition, so connections, rounds and
    /// runs against the same server never collide.
    fn fresh_item<R: Rng + ?Sized>(&self, rng: &mut R) -> Value {
        json!({
            "pk": {"S": format!("n{:016x}", rng.random::<u64>())},
            "sk": {"N": "0"},
            "v": {"N": "0"},
            "payload": {"S": self.payload},
        })
    }

    /// ExecuteStatement inserting a fresh item, each value a `?` parameter, in
    /// DynamoDB's grammar: `VALUE {'pk': ?, 'sk': ?, 'v': ?, 'payload': ?}`.
    fn partiql_insert(&self, item: &Value) -> Req {
        let body = json!({
            "Statement": format!(
                "INSERT INTO \"{}\" VALUE {{'pk': ?, 'sk': ?, 'v': ?, 'payload': ?}}",
                self.table
            ),
            "Parameters": [item["pk"], item["sk"], item["v"], item["payload"]],
        });
        req("ExecuteStatement", &body, Expect::Ok)
    }

    /// The next timed request.
    pub fn next<R: Rng + ?Sized>(&self, rng: &mut R) -> Req {
        match self.kind {
            WorkloadKind::Get => self.get(self.items.sample(rng)),
            WorkloadKind::BatchGet => {
                let n = self.batch.min(self.keys as usize);
                let mut picked: Vec<u64> = Vec::with_capacity(n);
                while picked.len() < n {
                    let k = self.items.sample(rng);
                    if !picked.contains(&k) {
                        picked.push(k);
                    }
                }
                let keys: Vec<Value> = picked.iter().map(|&i| self.key(i)).collect();
                let body = json!({"RequestItems": {self.table.clone(): {"Keys": keys}}});
                req("BatchGetItem", &body, Expect::Items(n))
            }
            WorkloadKind::Put => self.put(self.items.sample(rng), rng.random_range(0..1_000_000)),
            WorkloadKind::Update => {
                let body = json!({
                    "TableName": self.table,
                    "Key": self.key(self.items.sample(rng)),
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": rng.random_range(0..1_000_000u32).to_string()}},
                });
                req("UpdateItem", &body, Expect::Ok)
            }
            WorkloadKind::Query => {
                let p = self.partitions.sample(rng);
                let first = p * self.per_partition;
                let count = (self.keys - first).min(self.per_partition) as usize;
                let body = json!({
                    "TableName": self.table,
                    "KeyConditionExpression": "pk = :p",
                    "ExpressionAttributeValues": {":p": {"S": format!("p{p:07}")}},
                });
                req("Query", &body, Expect::Count(count))
            }
            WorkloadKind::ScanPage => {
                let start = self.items.sample(rng);
                let body = json!({
                    "TableName": self.table,
                    "Limit": self.batch,
                    "ExclusiveStartKey": self.key(start),
                });
                req("Scan", &body, Expect::AtMost(self.batch))
            }
            WorkloadKind::PartiqlGet => self.partiql_get(self.items.sample(rng)),
            WorkloadKind::PutNew => {
                let body = json!({"TableName": self.table, "Item": self.fresh_item(rng)});
                req("PutItem", &body, Expect::Ok)
            }
            WorkloadKind::PartiqlInsert => self.partiql_insert(&self.fresh_item(rng)),
            WorkloadKind::Delete => {
                let item = self.fresh_item(rng);
                let key = json!({"pk": item["pk"], "sk": item["sk"]});
                let delete = json!({"TableName": self.table, "Key": key});
                let put = json!({"TableName": self.table, "Item": item});
                let mut first = req("PutItem", &put, Expect::Ok);
                first.then = Some(std::sync::Arc::new(req("DeleteItem", &delete, Expect::Ok)));
                first
            }
            WorkloadKind::BatchWrite => {
                let puts: Vec<Value> = (0..self.batch.min(25))
                    .map(|_| json!({"PutRequest": {"Item": self.fresh_item(rng)}}))
                    .collect();
                let body = json!({"RequestItems": {self.table.clone(): puts}});
                req("BatchWriteItem", &body, Expect::AllWritten)
            }
            WorkloadKind::Mixed => {
                if rng.random_bool(self.read_ratio) {
                    self.get(self.items.sample(rng))
                } else {
                    self.put(self.items.sample(rng), rng.random_range(0..1_000_000))
                }
            }
        }
    }
}

fn req(op: &'static str, body: &Value, expect: Expect) -> Req {
    Req {
        op,
        body: Bytes::from(body.to_string()),
        expect,
        then: None,
    }
}

/// Why a response failed its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Not 200: the status and the error `__type` (without its namespace), if any.
    Status(u16, String),
    /// 200 but the content is not what the request implies.
    Content(String),
}

impl Failure {
    /// A short label for counting failures by kind.
    pub fn label(&self) -> String {
        match self {
            Failure::Status(s, t) if t.is_empty() => format!("HTTP {s}"),
            Failure::Status(s, t) => format!("HTTP {s} {t}"),
            Failure::Content(m) => m.clone(),
        }
    }

    /// The server does not know this operation (yet).
    pub fn is_unknown_operation(&self) -> bool {
        matches!(self, Failure::Status(_, t) if t == "UnknownOperationException")
    }
}

/// The error `__type` of a DynamoDB error body, without its namespace.
pub fn error_type(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return String::new();
    };
    let t = v.get("__type").and_then(Value::as_str).unwrap_or("");
    t.rsplit('#').next().unwrap_or(t).to_string()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Checks one response against what its request implies.
pub fn check(expect: Expect, status: u16, body: &[u8]) -> Result<(), Failure> {
    if status != 200 {
        return Err(Failure::Status(status, error_type(body)));
    }
    match expect {
        Expect::Ok => Ok(()),
        Expect::AllWritten => {
            let v: Value = serde_json::from_slice(body)
                .map_err(|_| Failure::Content("BatchWriteItem: body is not JSON".into()))?;
            let left: usize = v
                .get("UnprocessedItems")
                .and_then(Value::as_object)
                .map(|t| t.values().filter_map(Value::as_array).map(Vec::len).sum())
                .unwrap_or(0);
            if left == 0 {
                Ok(())
            } else {
                Err(Failure::Content(format!(
                    "BatchWriteItem: {left} items unprocessed"
                )))
            }
        }
        // Cheap on purpose: the key `"Item":` appears only when the item exists.
        Expect::Item => {
            if contains(body, b"\"Item\"") {
                Ok(())
            } else {
                Err(Failure::Content("GetItem: item missing".into()))
            }
        }
        Expect::Items(n) => {
            let v: Value = serde_json::from_slice(body)
                .map_err(|_| Failure::Content("BatchGetItem: body is not JSON".into()))?;
            let got: usize = v
                .get("Responses")
                .and_then(Value::as_object)
                .map(|t| t.values().filter_map(Value::as_array).map(Vec::len).sum())
                .unwrap_or(0);
            let unprocessed: usize = v
                .get("UnprocessedKeys")
                .and_then(Value::as_object)
                .map(|t| {
                    t.values()
                        .filter_map(|k| k.get("Keys").and_then(Value::as_array))
                        .map(Vec::len)
                        .sum()
                })
                .unwrap_or(0);
            if got + unprocessed == n {
                Ok(())
            } else {
                Err(Failure::Content(format!(
                    "BatchGetItem: {got} items for {n} keys"
                )))
            }
        }
        Expect::Count(n) | Expect::AtMost(n) => {
            let v: Value = serde_json::from_slice(body)
                .map_err(|_| Failure::Content("body is not JSON".into()))?;
            let count = v
                .get("Items")
                .and_then(Value::as_array)
                .map(Vec::len)
                .ok_or_else(|| Failure::Content("Items missing".into()))?;
            let ok = match expect {
                Expect::Count(_) => count == n,
                _ => count <= n,
            };
            if ok {
                Ok(())
            } else {
                Err(Failure::Content(format!("{count} items, expected {n}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_status_item_and_counts() {
        assert_eq!(
            check(Expect::Item, 200, br#"{"Item":{"pk":{"S":"a"}}}"#),
            Ok(())
        );
        assert!(check(Expect::Item, 200, b"{}").is_err());
        let e = check(
            Expect::Ok,
            400,
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#UnknownOperationException"}"#,
        );
        assert!(matches!(e, Err(ref f) if f.is_unknown_operation()));
        assert_eq!(
            check(Expect::Count(2), 200, br#"{"Items":[{},{}],"Count":2}"#),
            Ok(())
        );
        assert!(check(Expect::Count(3), 200, br#"{"Items":[{},{}]}"#).is_err());
        assert_eq!(check(Expect::Count(1), 200, br#"{"Items":[{}]}"#), Ok(()));
        assert_eq!(
            check(Expect::AllWritten, 200, br#"{"UnprocessedItems":{}}"#),
            Ok(())
        );
        assert!(check(
            Expect::AllWritten,
            200,
            br#"{"UnprocessedItems":{"t":[{"PutRequest":{}}]}}"#
        )
        .is_err());

        assert_eq!(
            check(
                Expect::Items(2),
                200,
                br#"{"Responses":{"t":[{}]},"UnprocessedKeys":{"t":{"Keys":[{}]}}}"#
            ),
            Ok(())
        );
    }

    fn args(extra: &[&str]) -> BenchArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let argv = std::iter::once("x").chain(extra.iter().copied());
        match Only::try_parse_from(argv) {
            Ok(o) => o.bench,
            Err(e) => panic!("bench arguments do not parse: {e}"),
        }
    }

    #[test]
    fn delete_deletes_the_item_its_put_wrote_and_batch_write_caps_at_25() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let w = Workload::new(&args(&["--workload", "delete"]));
        let put = w.next(&mut rng);
        let delete = put.then.clone().expect("a DeleteItem follows the PutItem");
        assert_eq!((put.op, delete.op), ("PutItem", "DeleteItem"));
        let item: Value = serde_json::from_slice(&put.body).unwrap();
        let key: Value = serde_json::from_slice(&delete.body).unwrap();
        assert_eq!(key["Key"]["pk"], item["Item"]["pk"]);
        assert_eq!(key["Key"]["sk"], item["Item"]["sk"]);
        assert!(delete.then.is_none());
        assert_ne!(w.next(&mut rng).body, put.body, "every put is a fresh key");

        let w = Workload::new(&args(&["--workload", "batch-write", "--batch", "100"]));
        let batch: Value = serde_json::from_slice(&w.next(&mut rng).body).unwrap();
        assert_eq!(
            batch["RequestItems"]["daxlite-bench"]
                .as_array()
                .map(Vec::len),
            Some(25)
        );
    }
}
