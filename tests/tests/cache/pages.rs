//! Query and Scan pages cached in front of the real engine: hit and miss counts from
//! `/metrics`, pages and LastEvaluatedKey byte-identical between hit and miss, coherent
//! invalidation by partition (base table and LSI) and by table (Scan, GSI), and `dax`
//! mode's staleness until the TTL.

use std::net::SocketAddr;
use std::time::Duration;

use daxlite::cache::{CacheConfig, Consistency};
use daxlite_tests::{call, unique_name};

use super::{counter, over_engine_with, over_remote};

/// pk S, sk N; LSI `byL` (pk, l N); GSI `byG` (g S).
async fn create_indexed_table(addr: SocketAddr, name: &str) {
    let body = format!(
        r#"{{"TableName":"{name}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}},{{"AttributeName":"sk","AttributeType":"N"}},{{"AttributeName":"l","AttributeType":"N"}},{{"AttributeName":"g","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"sk","KeyType":"RANGE"}}],"LocalSecondaryIndexes":[{{"IndexName":"byL","KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}},{{"AttributeName":"l","KeyType":"RANGE"}}],"Projection":{{"ProjectionType":"ALL"}}}}],"GlobalSecondaryIndexes":[{{"IndexName":"byG","KeySchema":[{{"AttributeName":"g","KeyType":"HASH"}}],"Projection":{{"ProjectionType":"ALL"}}}}],"BillingMode":"PAY_PER_REQUEST"}}"#
    );
    let r = call(addr, "DynamoDB_20120810.CreateTable", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

async fn put(addr: SocketAddr, table: &str, pk: &str, sk: u32, v: &str) {
    let body = format!(
        r#"{{"TableName":"{table}","Item":{{"pk":{{"S":"{pk}"}},"sk":{{"N":"{sk}"}},"l":{{"N":"{}"}},"g":{{"S":"g"}},"v":{{"S":"{v}"}}}}}}"#,
        100 - sk
    );
    let r = call(addr, "DynamoDB_20120810.PutItem", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// One page: the raw answer body.
async fn page(addr: SocketAddr, op: &str, body: &str) -> String {
    let r = call(addr, &format!("DynamoDB_20120810.{op}"), body).await;
    assert_eq!(r.status, 200, "{op} {body}: {}", r.text());
    r.text()
}

fn query_on(table: &str, pk: &str, extra: &str) -> String {
    format!(
        r##"{{"TableName":"{table}","KeyConditionExpression":"#k = :p","ExpressionAttributeNames":{{"#k":"pk"}},"ExpressionAttributeValues":{{":p":{{"S":"{pk}"}}}}{extra}}}"##
    )
}

/// Hits and misses of a table's Query and Scan pages so far.
struct Counts {
    qh: u64,
    qm: u64,
    sh: u64,
    sm: u64,
}

async fn counts(addr: SocketAddr, t: &str) -> Counts {
    Counts {
        qh: counter(addr, "daxlite_query_cache_hits", t).await,
        qm: counter(addr, "daxlite_query_cache_misses", t).await,
        sh: counter(addr, "daxlite_scan_cache_hits", t).await,
        sm: counter(addr, "daxlite_scan_cache_misses", t).await,
    }
}

#[tokio::test]
async fn pages_hit_miss_and_coherent_invalidation_by_partition_over_the_engine() {
    let f = over_engine_with(CacheConfig::default(), None).await;
    pages_hit_miss_and_coherent_invalidation(f.addr).await;
    f.stop().await;
}

#[tokio::test]
async fn pages_hit_miss_and_coherent_invalidation_by_partition_over_a_remote_daxlite() {
    let (f, _) = over_remote(None).await;
    pages_hit_miss_and_coherent_invalidation(f.addr).await;
    f.stop().await;
}

async fn pages_hit_miss_and_coherent_invalidation(addr: SocketAddr) {
    let t = unique_name("pages");
    create_indexed_table(addr, &t).await;
    for sk in 1..=5 {
        put(addr, &t, "a", sk, "one").await;
    }
    for sk in 1..=3 {
        put(addr, &t, "b", sk, "one").await;
    }

    // First page of partition a: a miss, then a byte-identical hit; the strong read
    // (never cached) answers the same bytes.
    let q1 = query_on(&t, "a", r#","Limit":2"#);
    let miss = page(addr, "Query", &q1).await;
    let hit = page(addr, "Query", &q1).await;
    assert_eq!(miss, hit);
    assert!(miss.contains("LastEvaluatedKey"), "{miss}");
    let strong = page(
        addr,
        "Query",
        &query_on(&t, "a", r#","Limit":2,"ConsistentRead":true"#),
    )
    .await;
    assert_eq!(strong, miss);
    let c = counts(addr, &t).await;
    assert_eq!((c.qm, c.qh), (1, 1));

    // ReturnConsumedCapacity does not change the key; a hit reports 0 units and is
    // otherwise byte for byte the engine's answer.
    let with_cap = page(
        addr,
        "Query",
        &query_on(&t, "a", r#","Limit":2,"ReturnConsumedCapacity":"TOTAL""#),
    )
    .await;
    let strong = page(
        addr,
        "Query",
        &query_on(
            &t,
            "a",
            r#","Limit":2,"ConsistentRead":true,"ReturnConsumedCapacity":"TOTAL""#,
        ),
    )
    .await;
    let mut expected: serde_json::Value = serde_json::from_str(&strong).unwrap_or_default();
    expected["ConsumedCapacity"]["CapacityUnits"] = serde_json::json!(0.0);
    assert_eq!(with_cap, expected.to_string());
    let c = counts(addr, &t).await;
    assert_eq!((c.qm, c.qh), (1, 2));

    // The next page, from the LastEvaluatedKey: its own entry.
    let lek: serde_json::Value = serde_json::from_str(&miss).unwrap_or_default();
    let start = serde_json::to_string(&lek["LastEvaluatedKey"]).unwrap_or_default();
    let q2 = query_on(
        &t,
        "a",
        &format!(r#","Limit":2,"ExclusiveStartKey":{start}"#),
    );
    let miss2 = page(addr, "Query", &q2).await;
    assert_eq!(page(addr, "Query", &q2).await, miss2);
    assert_ne!(miss2, miss);

    // Legacy KeyConditions, an LSI Query of partition a, a GSI Query and a Scan.
    let legacy = format!(
        r#"{{"TableName":"{t}","KeyConditions":{{"pk":{{"ComparisonOperator":"EQ","AttributeValueList":[{{"S":"a"}}]}}}}}}"#
    );
    let lsi = query_on(&t, "a", r#","IndexName":"byL""#);
    let gsi = format!(
        r#"{{"TableName":"{t}","IndexName":"byG","KeyConditionExpression":"g = :g","ExpressionAttributeValues":{{":g":{{"S":"g"}}}}}}"#
    );
    let scan = format!(r#"{{"TableName":"{t}","Limit":3}}"#);
    for q in [&legacy, &lsi, &gsi] {
        let m = page(addr, "Query", q).await;
        assert_eq!(page(addr, "Query", q).await, m);
    }
    let scanned = page(addr, "Scan", &scan).await;
    assert_eq!(page(addr, "Scan", &scan).await, scanned);
    let c = counts(addr, &t).await;
    assert_eq!((c.qm, c.qh, c.sm, c.sh), (5, 6, 1, 1));

    // A write to partition b: partition a's base-table and LSI pages stay; the Scan and
    // GSI pages are dead.
    put(addr, &t, "b", 9, "two").await;
    for q in [&q1, &q2, &legacy, &lsi] {
        page(addr, "Query", q).await;
    }
    let c = counts(addr, &t).await;
    assert_eq!(
        (c.qm, c.qh),
        (5, 10),
        "partition a's pages survive a write to b"
    );
    page(addr, "Query", &gsi).await;
    page(addr, "Scan", &scan).await;
    let c = counts(addr, &t).await;
    assert_eq!((c.qm, c.sm), (6, 2), "GSI and Scan pages die on any write");

    // A write to partition a: every page of a is dead and the next answer is fresh.
    put(addr, &t, "a", 1, "two").await;
    let fresh = page(addr, "Query", &q1).await;
    assert!(fresh.contains("two"), "{fresh}");
    for q in [&q2, &legacy, &lsi] {
        page(addr, "Query", q).await;
    }
    let c = counts(addr, &t).await;
    assert_eq!((c.qm, c.qh), (10, 10), "every page of partition a missed");

    // Batch and transactional writes to a kill a's pages as well.
    let bw = format!(
        r#"{{"RequestItems":{{"{t}":[{{"PutRequest":{{"Item":{{"pk":{{"S":"a"}},"sk":{{"N":"2"}},"v":{{"S":"three"}}}}}}}}]}}}}"#
    );
    let r = call(addr, "DynamoDB_20120810.BatchWriteItem", &bw).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(page(addr, "Query", &q1).await.contains("three"));
    let tw = format!(
        r#"{{"TransactItems":[{{"Update":{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}},"sk":{{"N":"1"}}}},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{{":v":{{"S":"four"}}}}}}}}]}}"#
    );
    let r = call(addr, "DynamoDB_20120810.TransactWriteItems", &tw).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(page(addr, "Query", &q1).await.contains("four"));
    let c = counts(addr, &t).await;
    assert_eq!((c.qm, c.qh), (12, 10));
}

#[tokio::test]
async fn dax_mode_pages_stay_stale_until_their_ttl() {
    let cache = CacheConfig {
        consistency: Consistency::Dax,
        query_ttl: Duration::from_millis(300),
        ..CacheConfig::default()
    };
    let f = over_engine_with(cache, None).await;
    let addr = f.addr;
    let t = unique_name("daxpages");
    create_indexed_table(addr, &t).await;
    put(addr, &t, "a", 1, "one").await;
    let q = query_on(&t, "a", "");
    let before = page(addr, "Query", &q).await;
    put(addr, &t, "a", 1, "two").await;
    let stale = page(addr, "Query", &q).await;
    assert_eq!(stale, before, "dax: a write does not touch cached pages");
    assert!(stale.contains("one"));
    // The TTL (moka's clock, real time) ends it: poll instead of one fixed sleep.
    let mut fresh = stale;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        fresh = page(addr, "Query", &q).await;
        if fresh.contains("two") {
            break;
        }
    }
    assert!(fresh.contains("two"), "still stale after 2 s: {fresh}");
    f.stop().await;
}

/// Read-your-writes under concurrency (coherent mode): every client writes its own item
/// of one shared partition and then reads the partition with an eventually consistent
/// Query; whatever the others do meanwhile, it must see its own latest write.
#[tokio::test]
async fn concurrent_writers_always_read_their_own_writes_through_cached_pages() {
    let f = over_engine_with(CacheConfig::default(), None).await;
    let addr = f.addr;
    let t = unique_name("ryw");
    create_indexed_table(addr, &t).await;
    let mut tasks = Vec::new();
    for client in 0..6u32 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let q = query_on(&t, "a", "");
            for round in 0..15 {
                let v = format!("c{client}r{round}");
                put(addr, &t, "a", client, &v).await;
                let seen = page(addr, "Query", &q).await;
                assert!(
                    seen.contains(&format!(r#""S":"{v}""#)),
                    "client {client} lost {v}: {seen}"
                );
                // A read of another partition and a Scan in between, to keep pages moving.
                page(addr, "Query", &query_on(&t, "b", "")).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let c = counts(addr, &t).await;
    assert!(c.qh > 0, "some pages were served from the cache");
    f.stop().await;
}
