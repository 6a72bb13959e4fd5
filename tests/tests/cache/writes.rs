//! Multi-key and returning writes through the cache, over the real engine (and the fake
//! upstream for UnprocessedItems): BatchWriteItem applies every processed request (a Put
//! caches the canonical item, a Delete caches absent) and skips `UnprocessedItems`;
//! TransactWriteItems stores Puts and Deletes and invalidates Updates before answering;
//! UpdateItem answers every ReturnValues exactly, refreshing the cache where ALL_NEW
//! tells the new state (NONE, ALL_NEW) and invalidating where it cannot (ALL_OLD,
//! UPDATED_OLD, UPDATED_NEW).

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use daxlite::cache::{CacheConfig, Cached};
use daxlite::Config;
use daxlite_tests::{call, unique_name};

use super::{counter, create_table, fake_upstream, over_engine, remote_to, Fake};

async fn ok(addr: SocketAddr, op: &str, body: &str) -> String {
    let r = call(addr, &format!("DynamoDB_20120810.{op}"), body).await;
    assert_eq!(r.status, 200, "{op} {body}: {}", r.text());
    r.text()
}

fn get(t: &str, pk: &str) -> String {
    format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"{pk}"}}}}}}"#)
}

fn strong(t: &str, pk: &str) -> String {
    format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"{pk}"}}}},"ConsistentRead":true}}"#)
}

/// (hits, misses) of the item cache for a table.
async fn item_counts(addr: SocketAddr, t: &str) -> (u64, u64) {
    (
        counter(addr, "daxlite_item_cache_hits", t).await,
        counter(addr, "daxlite_item_cache_misses", t).await,
    )
}

#[tokio::test]
async fn batch_and_transaction_writes_refresh_the_item_cache_over_the_engine() {
    let f = over_engine(None).await;
    let addr = f.addr;
    let t = unique_name("bw");
    create_table(addr, &t).await;
    for pk in ["a", "b"] {
        let body =
            format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"{pk}"}},"v":{{"S":"old"}}}}}}"#);
        ok(addr, "PutItem", &body).await;
    }
    // "c" is cached as absent.
    assert_eq!(ok(addr, "GetItem", &get(&t, "c")).await, "{}");
    assert_eq!(item_counts(addr, &t).await, (0, 1));

    let bw = format!(
        r#"{{"RequestItems":{{"{t}":[{{"PutRequest":{{"Item":{{"pk":{{"S":"a"}},"n":{{"N":"1.50"}},"v":{{"S":"new"}}}}}}}},{{"PutRequest":{{"Item":{{"pk":{{"S":"c"}},"v":{{"S":"new"}}}}}}}},{{"DeleteRequest":{{"Key":{{"pk":{{"S":"b"}}}}}}}}]}}}}"#
    );
    ok(addr, "BatchWriteItem", &bw).await;
    // Every key is a hit now, and the hit is byte for byte the engine's answer.
    for pk in ["a", "b", "c"] {
        let hit = ok(addr, "GetItem", &get(&t, pk)).await;
        assert_eq!(hit, ok(addr, "GetItem", &strong(&t, pk)).await, "{pk}");
    }
    assert_eq!(item_counts(addr, &t).await, (3, 1));
    assert!(ok(addr, "GetItem", &get(&t, "a"))
        .await
        .contains(r#""n":{"N":"1.5"}"#));

    // A transaction: Put d, Update a, Delete c, ConditionCheck b.
    let tw = format!(
        r#"{{"TransactItems":[{{"Put":{{"TableName":"{t}","Item":{{"pk":{{"S":"d"}},"v":{{"S":"tx"}}}}}}}},{{"Update":{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}}}},"UpdateExpression":"SET v = :v","ExpressionAttributeValues":{{":v":{{"S":"tx"}}}}}}}},{{"Delete":{{"TableName":"{t}","Key":{{"pk":{{"S":"c"}}}}}}}},{{"ConditionCheck":{{"TableName":"{t}","Key":{{"pk":{{"S":"b"}}}},"ConditionExpression":"attribute_not_exists(pk)"}}}}]}}"#
    );
    ok(addr, "TransactWriteItems", &tw).await;
    let (h, m) = item_counts(addr, &t).await;
    assert_eq!(
        ok(addr, "GetItem", &get(&t, "d")).await,
        ok(addr, "GetItem", &strong(&t, "d")).await
    );
    assert_eq!(ok(addr, "GetItem", &get(&t, "c")).await, "{}");
    assert_eq!(
        item_counts(addr, &t).await,
        (h + 2, m),
        "Put and Delete were stored"
    );
    let a = ok(addr, "GetItem", &get(&t, "a")).await;
    assert!(a.contains(r#""v":{"S":"tx"}"#), "{a}");
    assert_eq!(
        item_counts(addr, &t).await,
        (h + 2, m + 1),
        "the Update was invalidated"
    );

    // A cancelled transaction leaves the cache as it was.
    let cancelled = format!(
        r#"{{"TransactItems":[{{"Put":{{"TableName":"{t}","Item":{{"pk":{{"S":"d"}},"v":{{"S":"never"}}}},"ConditionExpression":"attribute_not_exists(pk)"}}}}]}}"#
    );
    let r = call(addr, "DynamoDB_20120810.TransactWriteItems", &cancelled).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(ok(addr, "GetItem", &get(&t, "d")).await.contains("tx"));
    assert_eq!(item_counts(addr, &t).await, (h + 3, m + 1));
    f.stop().await;
}

#[tokio::test]
async fn update_item_return_values_over_the_engine() {
    let f = over_engine(None).await;
    let addr = f.addr;
    let t = unique_name("rv");
    create_table(addr, &t).await;
    let body = format!(
        r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"v":{{"N":"0"}},"w":{{"S":"x"}}}}}}"#
    );
    ok(addr, "PutItem", &body).await;
    let update = |rv: &str, n: u32| {
        let rv = if rv.is_empty() {
            String::new()
        } else {
            format!(r#","ReturnValues":"{rv}""#)
        };
        format!(
            r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}}}},"UpdateExpression":"SET v = :n","ExpressionAttributeValues":{{":n":{{"N":"{n}"}}}}{rv}}}"#
        )
    };
    // (ReturnValues, expected answer, whether the next read is a hit)
    let cases = [
        ("", "{}".to_string(), true),
        ("NONE", "{}".to_string(), true),
        (
            "ALL_NEW",
            r#"{"Attributes":{"pk":{"S":"a"},"v":{"N":"3"},"w":{"S":"x"}}}"#.to_string(),
            true,
        ),
        (
            "UPDATED_NEW",
            r#"{"Attributes":{"v":{"N":"4"}}}"#.to_string(),
            false,
        ),
        (
            "ALL_OLD",
            r#"{"Attributes":{"pk":{"S":"a"},"v":{"N":"4"},"w":{"S":"x"}}}"#.to_string(),
            false,
        ),
        (
            "UPDATED_OLD",
            r#"{"Attributes":{"v":{"N":"5"}}}"#.to_string(),
            false,
        ),
    ];
    for (i, (rv, expected, hit)) in cases.into_iter().enumerate() {
        let n = i as u32 + 1;
        let answer = ok(addr, "UpdateItem", &update(rv, n)).await;
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        let expected: serde_json::Value = serde_json::from_str(&expected).unwrap_or_default();
        assert_eq!(answer, expected, "ReturnValues {rv:?}");
        let before = item_counts(addr, &t).await;
        let read = ok(addr, "GetItem", &get(&t, "a")).await;
        assert!(
            read.contains(&format!(r#""v":{{"N":"{n}"}}"#)),
            "{rv:?}: {read}"
        );
        let after = item_counts(addr, &t).await;
        let (dh, dm) = (after.0 - before.0, after.1 - before.1);
        assert_eq!(
            (dh, dm),
            if hit { (1, 0) } else { (0, 1) },
            "ReturnValues {rv:?}"
        );
    }
    f.stop().await;
}

#[tokio::test]
async fn batch_write_skips_unprocessed_items() {
    let state = Arc::new(Fake::default());
    let fake = fake_upstream(state.clone()).await;
    let config = Config::ephemeral();
    let server = daxlite::serve_upstream(
        &config,
        Cached::new(remote_to(fake, 0), CacheConfig::default()),
    )
    .await
    .unwrap();
    let addr = server.addr;
    let t = unique_name("unproc");
    let bw = format!(
        r#"{{"RequestItems":{{"{t}":[{{"PutRequest":{{"Item":{{"pk":{{"S":"a"}},"v":{{"N":"5"}}}}}}}},{{"PutRequest":{{"Item":{{"pk":{{"S":"later"}},"v":{{"N":"6"}}}}}}}}]}}}}"#
    );
    let answer = ok(addr, "BatchWriteItem", &bw).await;
    assert!(answer.contains("later"), "{answer}");
    // "a" was applied: cached; "later" was not: the read goes upstream.
    assert_eq!(
        ok(addr, "GetItem", &get(&t, "a")).await,
        r#"{"Item":{"pk":{"S":"a"},"v":{"N":"5"}}}"#
    );
    assert_eq!(state.gets.load(Ordering::SeqCst), 0);
    ok(addr, "GetItem", &get(&t, "later")).await;
    assert_eq!(state.gets.load(Ordering::SeqCst), 1);
    server.shutdown().await;
}

/// A TransactWriteItems replayed with its ClientRequestToken succeeds without applying
/// again; the cache must not store the replay's (older) item over a newer write.
#[tokio::test]
async fn a_replayed_transaction_never_caches_its_older_items() {
    let f = over_engine(None).await;
    let addr = f.addr;
    let t = unique_name("replay");
    create_table(addr, &t).await;
    let tx = format!(
        r#"{{"ClientRequestToken":"tok-1","TransactItems":[{{"Put":{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"v":{{"S":"tx"}}}}}}}}]}}"#
    );
    ok(addr, "TransactWriteItems", &tx).await;
    let put = format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"v":{{"S":"newer"}}}}}}"#);
    ok(addr, "PutItem", &put).await;
    ok(addr, "TransactWriteItems", &tx).await;
    let read = ok(addr, "GetItem", &get(&t, "a")).await;
    assert!(read.contains("newer"), "{read}");
    assert_eq!(read, ok(addr, "GetItem", &strong(&t, "a")).await);
    f.stop().await;
}

/// TransactGetItems and ConsistentRead pass through: they neither read nor fill the cache.
#[tokio::test]
async fn transact_get_items_never_touch_the_cache() {
    let f = over_engine(None).await;
    let addr = f.addr;
    let t = unique_name("tget");
    create_table(addr, &t).await;
    let body = format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"v":{{"S":"x"}}}}}}"#);
    ok(addr, "PutItem", &body).await;
    let tg = format!(
        r#"{{"TransactItems":[{{"Get":{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}}}}}}}},{{"Get":{{"TableName":"{t}","Key":{{"pk":{{"S":"b"}}}}}}}}]}}"#
    );
    let answer = ok(addr, "TransactGetItems", &tg).await;
    assert!(answer.contains(r#""v":{"S":"x"}"#), "{answer}");
    ok(addr, "GetItem", &strong(&t, "b")).await;
    assert_eq!(item_counts(addr, &t).await, (0, 0));
    // "b" was not cached as absent by either read: the first eventual read misses.
    assert_eq!(ok(addr, "GetItem", &get(&t, "b")).await, "{}");
    assert_eq!(item_counts(addr, &t).await, (0, 1));
    f.stop().await;
}
