//! Transactions are serializable: concurrent list-append histories over HTTP —
//! TransactWriteItems appending unique values with `list_append`, TransactGetItems reading
//! every list — checked by `daxlite_tests::isolation` (Elle-style G0 / G1a / G1b / G1c /
//! G2), against the engine and through the cache. The seeded bug: a "read transaction"
//! made of two separate GetItems around a TransactWriteItems (read skew), which the
//! checker must report as a G2 cycle.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::types::{AttributeValue, Get, TransactGetItem, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use daxlite_tests::isolation::{check, Anomaly, Mop, Outcome, Txn};
use daxlite_tests::{create_pk_table, error_parts, Mode, TestServer};

const KEYS: usize = 4;

fn key_name(k: usize) -> String {
    format!("k{k}")
}

/// Clients × transactions per client (`DAXLITE_ISO_TXNS` = transactions in all).
fn shape() -> (usize, usize) {
    let total = std::env::var("DAXLITE_ISO_TXNS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(240);
    (8, total.div_ceil(8))
}

fn append_update(table: &str, key: &str, value: u64) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .key("pk", AttributeValue::S(key.into()))
        .update_expression("SET #l = list_append(if_not_exists(#l, :e), :v)")
        .expression_attribute_names("#l", "l")
        .expression_attribute_values(":e", AttributeValue::L(vec![]))
        .expression_attribute_values(
            ":v",
            AttributeValue::L(vec![AttributeValue::N(value.to_string())]),
        )
        .build()
        .unwrap();
    TransactWriteItem::builder().update(update).build()
}

fn list_of(item: Option<&std::collections::HashMap<String, AttributeValue>>) -> Vec<u64> {
    let Some(AttributeValue::L(l)) = item.and_then(|i| i.get("l")) else {
        return Vec::new();
    };
    l.iter()
        .map(|v| match v {
            AttributeValue::N(n) => n.parse().expect("a number the history appended"),
            other => panic!("not a number: {other:?}"),
        })
        .collect()
}

/// Appends `value` to each of `keys` in one transaction.
async fn write_txn(c: &Client, table: &str, keys: &[usize], value: u64) -> Txn {
    let mut req = c.transact_write_items();
    for k in keys {
        req = req.transact_items(append_update(table, &key_name(*k), value));
    }
    let outcome = match req.send().await {
        Ok(_) => Outcome::Committed,
        Err(e) if error_parts(&e).0 == "TransactionCanceledException" => Outcome::Aborted,
        Err(_) => Outcome::Unknown,
    };
    let ops = keys
        .iter()
        .map(|k| Mop::Append {
            key: key_name(*k),
            value,
        })
        .collect();
    Txn { ops, outcome }
}

/// Reads every list in one TransactGetItems (None: refused, nothing observed).
async fn read_txn(c: &Client, table: &str) -> Option<Txn> {
    let mut req = c.transact_get_items();
    for k in 0..KEYS {
        let get = Get::builder()
            .table_name(table)
            .key("pk", AttributeValue::S(key_name(k)))
            .build()
            .unwrap();
        req = req.transact_items(TransactGetItem::builder().get(get).build());
    }
    let out = req.send().await.ok()?;
    let ops = out
        .responses()
        .iter()
        .enumerate()
        .map(|(k, r)| Mop::Read {
            key: key_name(k),
            list: list_of(r.item()),
        })
        .collect();
    Some(Txn {
        ops,
        outcome: Outcome::Committed,
    })
}

async fn history(mode: Mode) -> (Vec<Txn>, Vec<Anomaly>) {
    let s = TestServer::start(mode).await;
    let table = create_pk_table(&s.client(), "iso", None).await;
    let (clients, per_client) = shape();
    let next = Arc::new(AtomicU64::new(1));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, table, next) = (s.client(), table.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (c as u64 + 1);
            let mut rnd = move || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            };
            let mut txns = Vec::new();
            for _ in 0..per_client {
                if rnd() % 2 == 0 {
                    let mut keys: Vec<usize> = (0..KEYS).filter(|_| rnd() % 2 == 0).collect();
                    if keys.is_empty() {
                        keys.push((rnd() % KEYS as u64) as usize);
                    }
                    let value = next.fetch_add(1, Ordering::Relaxed);
                    txns.push(write_txn(&client, &table, &keys, value).await);
                } else if let Some(t) = read_txn(&client, &table).await {
                    txns.push(t);
                }
            }
            txns
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    // A final read fixes the order of appends no concurrent read saw (as Elle's final reads).
    all.push(read_txn(&s.client(), &table).await.expect("the final read"));
    s.stop().await;
    let found = check(&all);
    (all, found)
}

async fn serializable(mode: Mode) {
    let (h, found) = history(mode).await;
    let committed = h.iter().filter(|t| t.outcome == Outcome::Committed).count();
    let aborted = h.iter().filter(|t| t.outcome == Outcome::Aborted).count();
    let reads = h
        .iter()
        .filter(|t| {
            t.ops
                .iter()
                .any(|m| matches!(m, Mop::Read { list, .. } if !list.is_empty()))
        })
        .count();
    println!(
        "{mode:?}: {} transactions ({committed} committed, {aborted} cancelled), {reads} reads that saw appends, {} anomalies",
        h.len(),
        found.len()
    );
    assert!(
        reads > 0,
        "no read observed an append: the history checks nothing"
    );
    assert!(found.is_empty(), "anomalies: {found:?}");
}

#[tokio::test]
async fn transactions_show_no_g0_g1_g2_anomaly_against_the_engine() {
    serializable(Mode::Engine).await;
}

#[tokio::test]
async fn transactions_show_no_g0_g1_g2_anomaly_through_the_cache() {
    serializable(Mode::Cached).await;
}

#[tokio::test]
async fn the_isolation_checker_catches_the_seeded_read_skew() {
    let s = TestServer::start(Mode::Engine).await;
    let c = s.client();
    let table = create_pk_table(&c, "skew", None).await;
    let get = |k: usize| {
        let (c, table) = (c.clone(), table.clone());
        async move {
            let out = c
                .get_item()
                .table_name(table)
                .key("pk", AttributeValue::S(key_name(k)))
                .consistent_read(true)
                .send()
                .await
                .unwrap();
            Mop::Read {
                key: key_name(k),
                list: list_of(out.item()),
            }
        }
    };
    // The seeded bug: one "read transaction" whose two reads straddle a write transaction.
    let first = get(0).await;
    let writer = write_txn(&c, &table, &[0, 1], 1).await;
    let second = get(1).await;
    let last = read_txn(&c, &table).await.expect("the final read");
    let history = vec![
        writer,
        Txn {
            ops: vec![first, second],
            outcome: Outcome::Committed,
        },
        last,
    ];
    let found = check(&history);
    assert!(
        found.iter().any(|a| matches!(a, Anomaly::G2(_))),
        "read skew not found: {found:?} in {history:?}"
    );
    s.stop().await;
}
