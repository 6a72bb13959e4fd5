//! Engine-level tests of TransactGetItems and TransactWriteItems: docs/LIMITS.md A5 at each
//! boundary with exact messages, cancellation reasons, idempotency (also across a
//! reopen of an on-disk store), and a concurrent bank-transfer invariant check.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::api::testkit::{big, call, create_tables, engine, fail, ok, IPM, RNF, TCE, VE};
use crate::clock::ManualClock;
use crate::storage::Backend;
use crate::wire::Operation::{
    GetItem, PutItem, TransactGetItems as TGet, TransactWriteItems as TWrite,
};
use crate::{Engine, EngineConfig};

fn put(pk: &str) -> Value {
    json!({"Put": {"TableName": "hash", "Item": {"pk": {"S": pk}}}})
}

fn add(pk: &str) -> Value {
    json!({"Update": {"TableName": "hash", "Key": {"pk": {"S": pk}},
        "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}})
}

async fn n_of(e: &Engine, pk: &str) -> Value {
    ok(
        e,
        GetItem,
        json!({"TableName": "hash", "Key": {"pk": {"S": pk}}, "ConsistentRead": true}),
    )
    .await["Item"]["n"]
        .clone()
}

#[tokio::test]
async fn writes_apply_together_and_gets_read_them() {
    let e = engine().await;
    let out = ok(
        &e,
        TWrite,
        json!({"TransactItems": [put("a"), add("b"),
        {"ConditionCheck": {"TableName": "range", "Key": {"pk": {"S": "x"}, "sk": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(pk)"}}],
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(
        out["ConsumedCapacity"],
        // Transactional writes mirror the units into WriteCapacityUnits (captured from
        // DynamoDB in rusoto/rusoto#1919).
        json!([{"TableName": "hash", "CapacityUnits": 4.0, "WriteCapacityUnits": 4.0},
               {"TableName": "range", "CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}])
    );
    let got = ok(
        &e,
        TGet,
        json!({"TransactItems": [
        {"Get": {"TableName": "hash", "Key": {"pk": {"S": "b"}}}},
        {"Get": {"TableName": "hash", "Key": {"pk": {"S": "none"}}}},
        {"Get": {"TableName": "hash", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "#p",
            "ExpressionAttributeNames": {"#p": "pk"}}}],
        "ReturnConsumedCapacity": "TOTAL"}),
    )
    .await;
    assert_eq!(
        got["Responses"],
        json!([{"Item": {"pk": {"S": "b"}, "n": {"N": "1"}}}, {}, {"Item": {"pk": {"S": "a"}}}])
    );
    assert_eq!(
        got["ConsumedCapacity"],
        json!([{"TableName": "hash", "CapacityUnits": 6.0, "ReadCapacityUnits": 6.0}])
    );
    // A Delete in a transaction.
    ok(
        &e,
        TWrite,
        json!({"TransactItems": [{"Delete": {"TableName": "hash", "Key": {"pk": {"S": "a"}}}}]}),
    )
    .await;
    let got = ok(
        &e,
        GetItem,
        json!({"TableName": "hash", "Key": {"pk": {"S": "a"}}}),
    )
    .await;
    assert_eq!(got, json!({}));
}

#[tokio::test]
async fn every_failed_condition_is_reported_and_nothing_applies() {
    let e = engine().await;
    ok(
        &e,
        PutItem,
        json!({"TableName": "hash", "Item": {"pk": {"S": "old"}, "v": {"N": "7"}}}),
    )
    .await;
    let (t, m, body) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [
        add("fresh"),
        {"Put": {"TableName": "hash", "Item": {"pk": {"S": "old"}},
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        {"ConditionCheck": {"TableName": "hash", "Key": {"pk": {"S": "nobody"}},
            "ConditionExpression": "attribute_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]}),
    )
    .await;
    assert_eq!(t, TCE);
    assert_eq!(m, "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, ConditionalCheckFailed]");
    assert_eq!(
        body["CancellationReasons"],
        json!([
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed",
         "Item": {"pk": {"S": "old"}, "v": {"N": "7"}}},
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}])
    );
    assert_eq!(n_of(&e, "fresh").await, Value::Null);
}

#[tokio::test]
async fn validation_errors_stop_at_the_first_bad_action() {
    let e = engine().await;
    let (t, m, body) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [
        put("a"),
        {"Delete": {"TableName": "hash", "Key": {"pk": {"N": "1"}}}},
        {"ConditionCheck": {"TableName": "hash", "Key": {"pk": {"S": "z"}},
            "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": "hash", "Item": {"pk": {"S": "big"}, "b": big(409_600)}}}]}),
    )
    .await;
    assert_eq!(t, TCE);
    assert!(m.ends_with("[None, ValidationError, None, None]"), "{m}");
    assert_eq!(
        body["CancellationReasons"][1],
        json!({"Code": "ValidationError", "Message": "The provided key element does not match the schema"})
    );
    let (_, _, body) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [
        {"Put": {"TableName": "hash", "Item": {"pk": {"S": "big"}, "b": big(409_600)}}}]}),
    )
    .await;
    assert_eq!(
        body["CancellationReasons"][0]["Message"],
        "Item size has exceeded the maximum allowed size"
    );
    let (_, _, body) = fail(&e, TWrite, json!({"TransactItems": [
        {"Update": {"TableName": "hash", "Key": {"pk": {"S": "k"}}, "UpdateExpression": "SET pk = :v",
            "ExpressionAttributeValues": {":v": {"S": "x"}}}}]})).await;
    assert_eq!(body["CancellationReasons"][0]["Message"],
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key");
}

#[tokio::test]
async fn request_level_problems_are_plain_validation_errors() {
    let e = engine().await;
    let (t, m, _) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [
        {"ConditionCheck": {"TableName": "hash", "Key": {"pk": {"S": "a"}},
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":unused": {"S": "x"}}}}]}),
    )
    .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (
            VE,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
        )
    );
    let (t, m, _) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [
        {"ConditionCheck": {"TableName": "hash", "Key": {"pk": {"S": "a"}},
            "ConditionExpression": "attribute_exists("}}]}),
    )
    .await;
    assert_eq!(t, VE);
    assert!(
        m.starts_with("Invalid ConditionExpression: Syntax error"),
        "{m}"
    );
    let (_, m, _) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [
        {"ConditionCheck": {"TableName": "hash", "Key": {"pk": {"S": "a"}}}}]}),
    )
    .await;
    assert_eq!(m, "1 validation error detected: Value null at 'transactItems.1.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null");
    let (_, m, _) = fail(&e, TWrite, json!({"TransactItems": [{}]})).await;
    assert_eq!(
        m,
        "TransactItems can only contain one of Check, Put, Update or Delete"
    );
    let (_, m, _) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [put("a")], "ReturnItemCollectionMetrics": "X"}),
    )
    .await;
    assert_eq!(m, "1 validation error detected: Value 'X' at 'returnItemCollectionMetrics' failed to satisfy constraint: Member must satisfy enum value set: [SIZE, NONE]");
    let (t, m, _) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [
        {"Put": {"TableName": "nope", "Item": {"pk": {"S": "a"}}}}]}),
    )
    .await;
    assert_eq!(
        (t.as_str(), m.as_str()),
        (RNF, "Requested resource not found")
    );
}

#[tokio::test]
async fn limits_100_actions_one_item_each_and_4_mb() {
    let e = engine().await;
    let many = |n: usize| json!({"TransactItems": (0..n).map(|i| put(&format!("k{i}"))).collect::<Vec<_>>()});
    ok(&e, TWrite, many(100)).await;
    let (t, m, _) = fail(&e, TWrite, many(101)).await;
    assert_eq!(t, VE);
    assert!(
        m.starts_with("1 validation error detected: Value '["),
        "{m}"
    );
    assert!(m.ends_with("]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"), "{m}");
    let (_, m, _) = fail(&e, TWrite, json!({"TransactItems": []})).await;
    assert_eq!(m, "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1");
    let gets = |n: usize| {
        json!({"TransactItems": (0..n)
        .map(|i| json!({"Get": {"TableName": "hash", "Key": {"pk": {"S": format!("k{i}")}}}}))
        .collect::<Vec<_>>()})
    };
    assert_eq!(
        ok(&e, TGet, gets(100)).await["Responses"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    let (_, m, _) = fail(&e, TGet, gets(101)).await;
    assert!(
        m.ends_with("Member must have length less than or equal to 100"),
        "{m}"
    );

    const ONE_ITEM: &str = "Transaction request cannot include multiple operations on one item";
    let (t, m, _) = fail(
        &e,
        TWrite,
        json!({"TransactItems": [
        {"Put": {"TableName": "range", "Item": {"pk": {"S": "a"}, "sk": {"N": "5"}}}},
        {"ConditionCheck": {"TableName": "range", "Key": {"pk": {"S": "a"}, "sk": {"N": "5.0"}},
            "ConditionExpression": "attribute_not_exists(pk)"}}]}),
    )
    .await;
    assert_eq!((t.as_str(), m.as_str()), (VE, ONE_ITEM));
    let (_, m, _) = fail(
        &e,
        TGet,
        json!({"TransactItems": [
        {"Get": {"TableName": "hash", "Key": {"pk": {"S": "a"}}}},
        {"Get": {"TableName": "hash", "Key": {"pk": {"S": "a"}}}}]}),
    )
    .await;
    assert_eq!(m, ONE_ITEM);

    // 4 MB of payload: ten 400 KB items pass, eleven do not.
    let puts = |n: usize| {
        json!({"TransactItems": (0..n)
        .map(|i| json!({"Put": {"TableName": "hash", "Item": {"pk": {"S": format!("b{i:02}")}, "b": big(400_000)}}}))
        .collect::<Vec<_>>()})
    };
    ok(&e, TWrite, puts(10)).await;
    let (t, m, _) = fail(&e, TWrite, puts(11)).await;
    assert_eq!(t, VE);
    assert!(m.contains("4 MB"), "{m}");
    // Deleting more than 4 MB of stored items is a small payload: allowed.
    ok(&e, TWrite, puts(10)).await;
    ok(&e, TWrite, json!({"TransactItems": (10..20)
        .map(|i| json!({"Put": {"TableName": "hash", "Item": {"pk": {"S": format!("b{i:02}")}, "b": big(400_000)}}}))
        .collect::<Vec<_>>()})).await;
    ok(
        &e,
        TWrite,
        json!({"TransactItems": (0..20)
        .map(|i| json!({"Delete": {"TableName": "hash", "Key": {"pk": {"S": format!("b{i:02}")}}}}))
        .collect::<Vec<_>>()}),
    )
    .await;
}

fn tokened(token: &str, pk: &str) -> Value {
    json!({"TransactItems": [add(pk)], "ClientRequestToken": token})
}

#[tokio::test]
async fn client_request_token_is_idempotent_for_ten_minutes() {
    let clock = ManualClock::new(1_700_000_000_000);
    let e = Engine::open_with_clock(EngineConfig::default(), Arc::new(clock.clone())).unwrap();
    create_tables(&e).await;
    ok(&e, TWrite, tokened(&"t".repeat(36), "c")).await;
    let (t, m, _) = fail(&e, TWrite, tokened(&"t".repeat(37), "c")).await;
    assert_eq!(t, VE);
    assert_eq!(m, format!("1 validation error detected: Value '{}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36", "t".repeat(37)));
    let (_, m, _) = fail(&e, TWrite, tokened("", "c")).await;
    assert!(
        m.ends_with("Member must have length greater than or equal to 1"),
        "{m}"
    );

    ok(&e, TWrite, tokened("tok", "c")).await;
    assert_eq!(n_of(&e, "c").await, json!({"N": "2"}));
    // Replays, also asking for capacity: success, no new effect, read units reported.
    clock.advance(9 * 60 * 1000);
    let mut again = tokened("tok", "c");
    again["ReturnConsumedCapacity"] = json!("TOTAL");
    let out = ok(&e, TWrite, again).await;
    assert_eq!(
        out["ConsumedCapacity"],
        json!([{"TableName": "hash", "CapacityUnits": 2.0, "ReadCapacityUnits": 2.0}])
    );
    assert_eq!(n_of(&e, "c").await, json!({"N": "2"}));
    let (t, _, _) = fail(&e, TWrite, tokened("tok", "other")).await;
    assert_eq!(t, IPM);
    // Ten minutes after completion the token is free again.
    clock.advance(60 * 1000);
    ok(&e, TWrite, tokened("tok", "other")).await;
    assert_eq!(n_of(&e, "other").await, json!({"N": "1"}));
    // A cancelled transaction does not bind its token.
    let mut bad = tokened("tok2", "c");
    bad["TransactItems"][0]["Update"]["ConditionExpression"] = json!("attribute_not_exists(pk)");
    fail(&e, TWrite, bad).await;
    ok(&e, TWrite, tokened("tok2", "c")).await;
    assert_eq!(n_of(&e, "c").await, json!({"N": "3"}));
}

#[tokio::test]
async fn tokens_survive_a_reopen_of_an_on_disk_store() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        backend: Backend::Dir(dir.path().to_path_buf()),
        ..EngineConfig::default()
    };
    let clock = ManualClock::new(1_700_000_000_000);
    let e = Engine::open_with_clock(config.clone(), Arc::new(clock.clone())).unwrap();
    create_tables(&e).await;
    ok(&e, TWrite, tokened("persist", "p")).await;
    e.close();
    drop(e);
    clock.advance(5 * 60 * 1000);
    let e = Engine::open_with_clock(config, Arc::new(clock.clone())).unwrap();
    ok(&e, TWrite, tokened("persist", "p")).await;
    assert_eq!(n_of(&e, "p").await, json!({"N": "1"}));
    let (t, _, _) = fail(&e, TWrite, tokened("persist", "q")).await;
    assert_eq!(t, IPM);
    e.close();
}

/// Many tasks move money between accounts with conditional transactions while others
/// read every account in one TransactGetItems. Checked, not only printed: every
/// cancellation is counted by its reasons (the only possible one is the first item's
/// ConditionalCheckFailed; a TransactionConflict is counted and must stay 0, as the README
/// claims), no snapshot sees a half-applied transfer or a negative balance, and the final
/// balances equal an independent ledger of the committed transfers (each applied whole,
/// no cancelled one applied at all) — so the total is conserved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bank_transfers_conserve_the_total() {
    use std::collections::BTreeMap;
    const ACCOUNTS: usize = 8;
    const START: i64 = 100;
    const TASKS: usize = 16;
    const TRANSFERS: usize = 40;
    let e = engine().await;
    for a in 0..ACCOUNTS {
        ok(
            &e,
            PutItem,
            json!({"TableName": "hash",
            "Item": {"pk": {"S": format!("acct{a}")}, "balance": {"N": START.to_string()}}}),
        )
        .await;
    }
    let total = START * ACCOUNTS as i64;
    let balances_of = |v: &Value| -> Vec<i64> {
        v["Responses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["Item"]["balance"]["N"]
                    .as_str()
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
            })
            .collect()
    };
    let read_all = json!({"TransactItems": (0..ACCOUNTS)
        .map(|a| json!({"Get": {"TableName": "hash", "Key": {"pk": {"S": format!("acct{a}")}}}}))
        .collect::<Vec<_>>()});
    /// What one task saw.
    #[derive(Default)]
    struct Tally {
        /// (from, to, amount) of every committed transfer.
        committed: Vec<(usize, usize, i64)>,
        /// Cancellations by their reason codes, e.g. "ConditionalCheckFailed,None".
        cancelled: BTreeMap<String, usize>,
        /// Snapshots whose total differed or that held a negative balance.
        bad_snapshots: usize,
        /// TransactionConflict reasons or TransactionConflictException answers.
        conflicts: usize,
    }
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let e = e.clone();
        let read_all = read_all.clone();
        handles.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let mut seed = task as u64 * 7919 + 1;
            let mut next = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            for _ in 0..TRANSFERS {
                let from = (next() % ACCOUNTS as u64) as usize;
                let to = (from + 1 + (next() % (ACCOUNTS as u64 - 1)) as usize) % ACCOUNTS;
                let amount = (next() % 60 + 1) as i64;
                let body = json!({"TransactItems": [
                    {"Update": {"TableName": "hash", "Key": {"pk": {"S": format!("acct{from}")}},
                        "UpdateExpression": "SET balance = balance - :amt",
                        "ConditionExpression": "balance >= :amt",
                        "ExpressionAttributeValues": {":amt": {"N": amount.to_string()}}}},
                    {"Update": {"TableName": "hash", "Key": {"pk": {"S": format!("acct{to}")}},
                        "UpdateExpression": "SET balance = balance + :amt",
                        "ExpressionAttributeValues": {":amt": {"N": amount.to_string()}}}}]});
                match call(&e, TWrite, &body).await {
                    Ok(_) => tally.committed.push((from, to, amount)),
                    Err((t, message, body)) if t == TCE => {
                        let codes: Vec<&str> = body["CancellationReasons"]
                            .as_array()
                            .expect("a cancellation carries its reasons")
                            .iter()
                            .map(|r| r["Code"].as_str().unwrap_or("<no code>"))
                            .collect();
                        if codes.contains(&"TransactionConflict") {
                            tally.conflicts += 1;
                        }
                        assert_eq!(
                            message,
                            format!(
                                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                                codes.join(", ")
                            )
                        );
                        *tally.cancelled.entry(codes.join(",")).or_default() += 1;
                    }
                    Err((t, _, _)) if t.ends_with("TransactionConflictException") => {
                        tally.conflicts += 1
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
                let snap = balances_of(&call(&e, TGet, &read_all).await.unwrap());
                if snap.iter().sum::<i64>() != total || snap.iter().any(|b| *b < 0) {
                    tally.bad_snapshots += 1;
                }
            }
            tally
        }));
    }
    let mut all = Tally::default();
    for h in handles {
        let t = h.await.unwrap();
        all.committed.extend(t.committed);
        for (k, v) in t.cancelled {
            *all.cancelled.entry(k).or_default() += v;
        }
        all.bad_snapshots += t.bad_snapshots;
        all.conflicts += t.conflicts;
    }
    let balances = balances_of(&call(&e, TGet, &read_all).await.unwrap());
    // The ledger: the start balances plus every committed transfer, applied whole.
    let mut ledger = vec![START; ACCOUNTS];
    for (from, to, amount) in &all.committed {
        ledger[*from] -= amount;
        ledger[*to] += amount;
    }
    let cancelled: usize = all.cancelled.values().sum();
    eprintln!(
        "bank: {} committed, {cancelled} cancelled {:?}, {} conflicts, {} invariant violations",
        all.committed.len(),
        all.cancelled,
        all.conflicts,
        all.bad_snapshots
    );
    assert_eq!(all.committed.len() + cancelled, TASKS * TRANSFERS);
    assert!(!all.committed.is_empty(), "no transfer committed");
    assert!(
        cancelled > 0,
        "no transfer was refused: the condition was never exercised"
    );
    assert_eq!(
        all.cancelled.keys().collect::<Vec<_>>(),
        ["ConditionalCheckFailed,None"],
        "the only possible cancellation is the source account's condition"
    );
    assert_eq!(
        all.conflicts, 0,
        "a transaction conflict cannot arise (README)"
    );
    assert_eq!(
        all.bad_snapshots, 0,
        "a snapshot saw a half-applied transfer"
    );
    assert_eq!(
        balances, ledger,
        "final balances against the committed transfers"
    );
    assert_eq!(balances.iter().sum::<i64>(), total);
}

/// One ClientRequestToken sent by many clients at once: every call succeeds (each sees
/// the original finished — never TransactionInProgressException, since no transaction is
/// in flight between writer groups), and the transaction applies exactly once. With the
/// same token and different parameters, the late ones get IdempotentParameterMismatch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_replayed_concurrently_applies_once() {
    const CLIENTS: usize = 16;
    let e = engine().await;
    let mut handles = Vec::new();
    for _ in 0..CLIENTS {
        let e = e.clone();
        handles.push(tokio::spawn(async move {
            call(&e, TWrite, &tokened("shared", "once")).await
        }));
    }
    for h in handles {
        let r = h.await.unwrap();
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(n_of(&e, "once").await, json!({"N": "1"}), "applied once");
    // Different transactions racing under the now-taken token: every one is refused and
    // none applies.
    let mut handles = Vec::new();
    for i in 0..CLIENTS {
        let e = e.clone();
        handles.push(tokio::spawn(async move {
            call(&e, TWrite, &tokened("shared", &format!("other{i}"))).await
        }));
    }
    for h in handles {
        let (t, _, _) = h.await.unwrap().expect_err("a mismatch was accepted");
        assert_eq!(t, IPM);
    }
    for i in 0..CLIENTS {
        assert_eq!(n_of(&e, &format!("other{i}")).await, Value::Null);
    }
}
