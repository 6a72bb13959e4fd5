//! Query, Scan and secondary indexes through aws-sdk-dynamodb: key conditions, ordering,
//! pagination that resumes exactly, filters, projections, parallel scan, GSI/LSI reads and
//! their exact errors.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BillingMode, GlobalSecondaryIndex, KeyType, LocalSecondaryIndex,
    Projection, ProjectionType, ScalarAttributeType, Select,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::{attr, ddb_test, error_parts, key, unique_name, TestServer};

fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

fn n(v: i64) -> AV {
    AV::N(v.to_string())
}

/// pk (S) + sk (N), a GSI on g (S) projecting ALL, an LSI on l (N) projecting KEYS_ONLY.
async fn table(c: &Client) -> String {
    let name = unique_name("q");
    c.create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .attribute_definitions(attr("g", ScalarAttributeType::S))
        .attribute_definitions(attr("l", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-g")
                .key_schema(key("g", KeyType::Hash))
                .key_schema(key("sk", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by-l")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("l", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    name
}

/// 3 partitions × 20 items; every third item has g, every other has l.
async fn load(c: &Client, t: &str) {
    for p in 0..3 {
        for i in 0..20i64 {
            let mut req = c
                .put_item()
                .table_name(t)
                .item("pk", s(&format!("p{p}")))
                .item("sk", n(i - 5))
                .item("v", n(i));
            if i % 3 == 0 {
                req = req.item("g", s(&format!("g{}", i % 2)));
            }
            if i % 2 == 0 {
                req = req.item("l", n(100 - i));
            }
            req.send().await.unwrap();
        }
    }
}

fn sks(items: &[HashMap<String, AV>]) -> Vec<i64> {
    items
        .iter()
        .filter_map(|i| {
            i.get("sk")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok())
        })
        .collect()
}

ddb_test!(query_orders_filters_and_pages_exactly, |mode| async move {
    let srv = TestServer::start(mode).await;
    let c = srv.client();
    let t = table(&c).await;
    load(&c, &t).await;
    // Numeric sort keys in numeric order (negative numbers first), both directions.
    let out = c
        .query()
        .table_name(&t)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p1"))
        .send()
        .await
        .unwrap();
    assert_eq!(sks(out.items()), (-5..15).collect::<Vec<_>>());
    assert_eq!((out.count(), out.scanned_count()), (20, 20));
    let out = c
        .query()
        .table_name(&t)
        .key_condition_expression("pk = :p AND sk BETWEEN :a AND :b")
        .expression_attribute_values(":p", s("p1"))
        .expression_attribute_values(":a", n(-2))
        .expression_attribute_values(":b", n(3))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    assert_eq!(sks(out.items()), vec![3, 2, 1, 0, -1, -2]);
    // Limit counts evaluated items; a filter reduces Count but not ScannedCount; paging with
    // LastEvaluatedKey returns every match exactly once.
    let mut seen = Vec::new();
    let mut start = None;
    let mut pages = 0;
    loop {
        let out = c
            .query()
            .table_name(&t)
            .key_condition_expression("pk = :p")
            .filter_expression("v >= :min")
            .expression_attribute_values(":p", s("p2"))
            .expression_attribute_values(":min", n(7))
            .limit(3)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.scanned_count() <= 3);
        seen.extend(sks(out.items()));
        start = out.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    assert_eq!(seen, (2..15).collect::<Vec<_>>());
    assert_eq!(
        pages, 7,
        "20 items, Limit 3: 7 pages (the last one empty-handed stops without a key)"
    );
    // Select COUNT.
    let out = c
        .query()
        .table_name(&t)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p0"))
        .select(Select::Count)
        .send()
        .await
        .unwrap();
    assert_eq!((out.count(), out.items().len()), (20, 0));
    srv.stop().await;
});

ddb_test!(
    secondary_indexes_are_sparse_and_follow_writes,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = table(&c).await;
        load(&c, &t).await;
        let q = |g: &str| {
            c.query()
                .table_name(&t)
                .index_name("by-g")
                .key_condition_expression("g = :g")
                .expression_attribute_values(":g", s(g))
        };
        // i % 3 == 0 and i even → g0: i in {0, 6, 12, 18} per partition, 3 partitions.
        let out = q("g0").send().await.unwrap();
        assert_eq!(out.count(), 12);
        assert!(
            out.items().iter().all(|i| i.contains_key("v")),
            "ALL projection carries every attribute"
        );
        // Update moves an item between index partitions; delete removes it.
        c.update_item()
            .table_name(&t)
            .key("pk", s("p0"))
            .key("sk", n(-5))
            .update_expression("SET g = :g")
            .expression_attribute_values(":g", s("g1"))
            .send()
            .await
            .unwrap();
        assert_eq!(q("g0").send().await.unwrap().count(), 11);
        c.delete_item()
            .table_name(&t)
            .key("pk", s("p1"))
            .key("sk", n(1))
            .send()
            .await
            .unwrap();
        assert_eq!(q("g0").send().await.unwrap().count(), 10);
        // The LSI (KEYS_ONLY) orders by l within the partition and carries only keys.
        let out = c
            .query()
            .table_name(&t)
            .index_name("by-l")
            .key_condition_expression("pk = :p AND l < :l")
            .expression_attribute_values(":p", s("p2"))
            .expression_attribute_values(":l", n(90))
            .send()
            .await
            .unwrap();
        let ls: Vec<String> = out
            .items()
            .iter()
            .filter_map(|i| i.get("l").and_then(|v| v.as_n().ok()).cloned())
            .collect();
        assert_eq!(ls, ["82", "84", "86", "88"]);
        let keys: BTreeSet<&str> = out
            .items()
            .iter()
            .flat_map(|i| i.keys().map(String::as_str))
            .collect();
        assert_eq!(keys, BTreeSet::from(["l", "pk", "sk"]));
        let d = c
            .describe_table()
            .table_name(&t)
            .send()
            .await
            .unwrap()
            .table
            .expect("no table");
        assert_eq!(
            d.global_secondary_indexes()
                .first()
                .and_then(|g| g.item_count()),
            Some(20),
            "21 items had g; one was deleted"
        );
        assert_eq!(d.item_count(), Some(59));
        // GSIs are eventually consistent only.
        let err = q("g0")
            .consistent_read(true)
            .send()
            .await
            .expect_err("consistent GSI read");
        assert_eq!(
            error_parts(&err),
            (
                "ValidationException".into(),
                "Consistent reads are not supported on global secondary indexes".into()
            )
        );
        srv.stop().await;
    }
);

ddb_test!(
    parallel_scan_covers_the_table_exactly_once,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = table(&c).await;
        load(&c, &t).await;
        let mut all = Vec::new();
        for segment in 0..4 {
            let mut start = None;
            loop {
                let out = c
                    .scan()
                    .table_name(&t)
                    .segment(segment)
                    .total_segments(4)
                    .limit(7)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .unwrap();
                for item in out.items() {
                    let pk = item
                        .get("pk")
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default();
                    all.push((
                        pk,
                        sks(std::slice::from_ref(item))
                            .first()
                            .copied()
                            .unwrap_or(i64::MIN),
                    ));
                }
                start = out.last_evaluated_key().cloned();
                if start.is_none() {
                    break;
                }
            }
        }
        assert_eq!(all.len(), 60);
        let unique: BTreeSet<_> = all.iter().cloned().collect();
        assert_eq!(unique.len(), 60, "no item in two segments");
        let out = c
            .scan()
            .table_name(&t)
            .filter_expression("attribute_exists(g)")
            .select(Select::Count)
            .send()
            .await
            .unwrap();
        assert_eq!((out.count(), out.scanned_count()), (21, 60));
        let err = c
            .scan()
            .table_name(&t)
            .segment(4)
            .total_segments(4)
            .send()
            .await
            .expect_err("bad segment accepted");
        assert_eq!(error_parts(&err).0, "ValidationException");
        srv.stop().await;
    }
);

ddb_test!(key_condition_errors, |mode| async move {
    let srv = TestServer::start(mode).await;
    let c = srv.client();
    let t = table(&c).await;
    let cases = [
        (
            "pk = :p OR sk = :s",
            "Invalid operator used in KeyConditionExpression: OR",
        ),
        (
            "pk = :p AND pk = :p",
            "KeyConditionExpressions must only contain one condition per key",
        ),
        ("sk = :s", "Query condition missed key schema element: pk"),
    ];
    for (expr, message) in cases {
        let mut req = c.query().table_name(&t).key_condition_expression(expr);
        if expr.contains(":p") {
            req = req.expression_attribute_values(":p", s("x"));
        }
        if expr.contains(":s") {
            req = req.expression_attribute_values(":s", n(1));
        }
        let err = req
            .send()
            .await
            .err()
            .unwrap_or_else(|| panic!("{expr} accepted"));
        assert_eq!(
            error_parts(&err),
            ("ValidationException".into(), message.into()),
            "{expr}"
        );
    }
    let err = c
        .query()
        .table_name(&t)
        .index_name("nope")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("x"))
        .send()
        .await
        .expect_err("missing index accepted");
    assert_eq!(error_parts(&err).0, "ValidationException");
    srv.stop().await;
});
