//! Property test of multi-attribute GSI keys: for random items (each index key attribute
//! present or not, so the index is sparse) and random valid key conditions (every
//! partition attribute by `=`, a left-to-right prefix of the sort attributes, the last one
//! with any operator), a paginated index Query answers exactly the items a Scan of the
//! base table with the same condition (plus `attribute_exists` of every index key
//! attribute) finds, in the order of the tuple of sort values (then the base key), or
//! reversed with ScanIndexForward=false.

use std::cmp::Ordering;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::api::testkit::ok;
use crate::wire::Operation::{CreateTable, PutItem, Query, Scan};
use crate::{Engine, EngineConfig};

/// Partition attributes h1 (S), h2 (N); sort attributes r1 (S), r2 (N), r3 (B).
async fn create(e: &Engine) {
    ok(e, CreateTable, json!({
        "TableName": "mtab", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
            {"AttributeName": "h1", "AttributeType": "S"}, {"AttributeName": "h2", "AttributeType": "N"},
            {"AttributeName": "r1", "AttributeType": "S"}, {"AttributeName": "r2", "AttributeType": "N"},
            {"AttributeName": "r3", "AttributeType": "B"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{"IndexName": "multi",
            "KeySchema": [{"AttributeName": "h1", "KeyType": "HASH"}, {"AttributeName": "h2", "KeyType": "HASH"},
                          {"AttributeName": "r1", "KeyType": "RANGE"}, {"AttributeName": "r2", "KeyType": "RANGE"},
                          {"AttributeName": "r3", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}]
    }))
    .await;
}

const R1: [&str; 4] = ["a", "ab", "abc", "b"];
const R2: [i64; 4] = [-10, 0, 1, 10];
const R3: [&str; 4] = ["AA==", "AAE=", "AQ==", "AQI="]; // [0], [0,1], [1], [1,2]

fn value(attr: usize, i: usize) -> Value {
    match attr {
        0 => json!({"S": if i.is_multiple_of(2) { "x" } else { "y" }}),
        1 => json!({"N": (i % 2).to_string()}),
        2 => json!({"S": R1[i % 4]}),
        3 => json!({"N": R2[i % 4].to_string()}),
        _ => json!({"B": R3[i % 4]}),
    }
}

const NAMES: [&str; 5] = ["h1", "h2", "r1", "r2", "r3"];

#[derive(Debug, Clone)]
struct ItemSpec {
    pk: u8,
    sk: u8,
    /// Per key attribute: absent, or the index of its value.
    attrs: [Option<usize>; 5],
}

fn item_spec() -> impl Strategy<Value = ItemSpec> {
    let attr = || prop_oneof![1 => Just(None), 6 => (0usize..4).prop_map(Some)];
    (0u8..6, 0u8..3, [attr(), attr(), attr(), attr(), attr()])
        .prop_map(|(pk, sk, attrs)| ItemSpec { pk, sk, attrs })
}

/// The last sort attribute's operator.
#[derive(Debug, Clone)]
enum LastOp {
    Cmp(&'static str, usize),
    Between(usize, usize),
    BeginsWith(usize),
}

#[derive(Debug, Clone)]
struct QuerySpec {
    hash: [usize; 2],
    /// Equality values of the leading sort attributes, then the last one's operator.
    eq: Vec<usize>,
    last: Option<LastOp>,
    forward: bool,
    limit: Option<u8>,
}

fn last_op() -> impl Strategy<Value = LastOp> {
    prop_oneof![
        (
            prop_oneof![Just("="), Just("<"), Just("<="), Just(">"), Just(">=")],
            0usize..4
        )
            .prop_map(|(op, v)| LastOp::Cmp(op, v)),
        (0usize..4, 0usize..4).prop_map(|(a, b)| LastOp::Between(a.min(b), a.max(b))),
        (0usize..4).prop_map(LastOp::BeginsWith),
    ]
}

fn query_spec() -> impl Strategy<Value = QuerySpec> {
    (
        [0usize..2, 0usize..2],
        0usize..3,
        proptest::collection::vec(0usize..4, 2),
        proptest::option::of(last_op()),
        any::<bool>(),
        proptest::option::of(1u8..4),
    )
        .prop_map(|(hash, depth, eqs, last, forward, limit)| {
            let eq = match &last {
                Some(_) => eqs[..depth].to_vec(),
                None => Vec::new(),
            };
            QuerySpec {
                hash,
                eq,
                last,
                forward,
                limit,
            }
        })
}

/// The key condition and its values; begins_with on the N attribute is skipped (it is
/// rejected, as DynamoDB rejects it) by turning it into `=`.
fn condition(q: &QuerySpec) -> (String, Map<String, Value>) {
    let mut parts = vec!["h1 = :h1".to_string(), "h2 = :h2".to_string()];
    let mut values = Map::new();
    values.insert(":h1".into(), value(0, q.hash[0]));
    values.insert(":h2".into(), value(1, q.hash[1]));
    for (i, v) in q.eq.iter().enumerate() {
        parts.push(format!("{} = :e{i}", NAMES[2 + i]));
        values.insert(format!(":e{i}"), value(2 + i, *v));
    }
    if let Some(last) = &q.last {
        let attr = 2 + q.eq.len();
        let name = NAMES[attr];
        parts.push(match last {
            LastOp::Cmp(op, v) => {
                values.insert(":l".into(), value(attr, *v));
                format!("{name} {op} :l")
            }
            LastOp::Between(a, b) => {
                values.insert(":lo".into(), value(attr, *a));
                values.insert(":hi".into(), value(attr, *b));
                format!("{name} BETWEEN :lo AND :hi")
            }
            LastOp::BeginsWith(v) if attr == 3 => {
                values.insert(":l".into(), value(attr, *v));
                format!("{name} = :l")
            }
            LastOp::BeginsWith(v) => {
                values.insert(":l".into(), value(attr, *v));
                format!("begins_with({name}, :l)")
            }
        });
    }
    (parts.join(" AND "), values)
}

fn cmp_value(a: &Value, b: &Value) -> Ordering {
    if let (Some(x), Some(y)) = (a["N"].as_str(), b["N"].as_str()) {
        let (x, y): (f64, f64) = (x.parse().unwrap(), y.parse().unwrap());
        return x.partial_cmp(&y).unwrap();
    }
    if let (Some(x), Some(y)) = (a["B"].as_str(), b["B"].as_str()) {
        use base64::Engine as _;
        let d = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).unwrap();
        return d(x).cmp(&d(y));
    }
    a["S"].as_str().cmp(&b["S"].as_str())
}

fn tuple_order(a: &Value, b: &Value) -> Ordering {
    for name in ["r1", "r2", "r3", "pk", "sk"] {
        match cmp_value(&a[name], &b[name]) {
            Ordering::Equal => continue,
            other => return other,
        }
    }
    Ordering::Equal
}

async fn all_pages(e: &Engine, op: crate::wire::Operation, mut body: Value) -> Vec<Value> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let r = ok(e, op, body.clone()).await;
        out.extend(r["Items"].as_array().cloned().unwrap_or_default());
        match r.get("LastEvaluatedKey") {
            Some(k) => body["ExclusiveStartKey"] = k.clone(),
            None => return out,
        }
    }
    panic!("no last page");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]
    #[test]
    fn index_query_equals_filtering_the_table(
        items in proptest::collection::vec(item_spec(), 0..30),
        queries in proptest::collection::vec(query_spec(), 1..6),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let e = Engine::open(EngineConfig::default()).unwrap();
            create(&e).await;
            for it in &items {
                let mut item = Map::new();
                item.insert("pk".into(), json!({"S": format!("p{}", it.pk)}));
                item.insert("sk".into(), json!({"N": it.sk.to_string()}));
                for (attr, v) in it.attrs.iter().enumerate() {
                    if let Some(v) = v {
                        item.insert(NAMES[attr].into(), value(attr, *v));
                    }
                }
                ok(&e, PutItem, json!({"TableName": "mtab", "Item": item})).await;
            }
            for q in &queries {
                let (cond, values) = condition(q);
                let mut body = json!({"TableName": "mtab", "IndexName": "multi",
                    "KeyConditionExpression": cond, "ExpressionAttributeValues": values,
                    "ScanIndexForward": q.forward});
                if let Some(l) = q.limit {
                    body["Limit"] = json!(l);
                }
                let got = all_pages(&e, Query, body).await;
                let exists: Vec<String> =
                    NAMES.iter().map(|n| format!("attribute_exists({n})")).collect();
                let filter = format!("{cond} AND {}", exists.join(" AND "));
                let mut want = all_pages(&e, Scan, json!({"TableName": "mtab",
                    "FilterExpression": filter, "ExpressionAttributeValues": values})).await;
                want.sort_by(tuple_order);
                if !q.forward {
                    want.reverse();
                }
                assert_eq!(got, want, "{q:?} {cond}");
            }
        });
    }
}
