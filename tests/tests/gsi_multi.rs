//! Multi-attribute GSI keys (DynamoDB, November 2025) through aws-sdk-dynamodb: up to four
//! partition and four sort attributes in a GSI's KeySchema (tables and LSIs keep one
//! HASH and one RANGE), CreateTable/UpdateTable rules, DescribeTable, sparse membership
//! and moves, Query's rules (every partition attribute by `=`, sort attributes left to
//! right, only the last one with an inequality), tuple ordering both ways, pagination,
//! ExclusiveStartKey, filters, legacy KeyConditions, Scan, projections, capacity, the
//! cache, and a restart. Every error is checked for status, `__type` and message; where
//! each message comes from is in engine/docs/multi-attribute-keys.md.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BillingMode, ComparisonOperator, Condition, GlobalSecondaryIndex,
    KeyType, LocalSecondaryIndex, Projection, ProjectionType, ReturnConsumedCapacity,
    ScalarAttributeType as T,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::{attr, ddb_test, key, unique_name, TestServer};

fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

fn n(v: i64) -> AV {
    AV::N(v.to_string())
}

fn b(v: &[u8]) -> AV {
    AV::B(aws_sdk_dynamodb::primitives::Blob::new(v.to_vec()))
}

const VE: &str = "ValidationException";

/// Asserts an SDK call failed with HTTP 400, `code` and exactly `message`.
fn expect_err<O: std::fmt::Debug, E>(
    r: Result<O, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
) where
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    let err = match r {
        Ok(o) => panic!("expected {code}: {message}, got {o:?}"),
        Err(e) => e,
    };
    let status = err.raw_response().map(|r| r.status().as_u16());
    let svc = err
        .as_service_error()
        .unwrap_or_else(|| panic!("not a service error: {err:?}"));
    assert_eq!(
        (status, svc.code(), svc.message()),
        (Some(400), Some(code), Some(message)),
    );
}

fn ks(hash: &[&str], range: &[&str]) -> Vec<aws_sdk_dynamodb::types::KeySchemaElement> {
    let h = hash.iter().map(|a| key(a, KeyType::Hash));
    let r = range.iter().map(|a| key(a, KeyType::Range));
    h.chain(r).collect()
}

fn projection(kind: ProjectionType, non_key: &[&str]) -> Projection {
    let mut p = Projection::builder().projection_type(kind);
    for a in non_key {
        p = p.non_key_attributes(*a);
    }
    p.build()
}

fn gsi_of(
    name: &str,
    schema: Vec<aws_sdk_dynamodb::types::KeySchemaElement>,
) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .set_key_schema(Some(schema))
        .projection(projection(ProjectionType::All, &[]))
        .build()
        .unwrap()
}

/// A table keyed by `pk` (S) with `defs` defined and `gsis`; answers the CreateTable result.
async fn create(
    c: &Client,
    defs: &[(&str, T)],
    gsis: Vec<GlobalSecondaryIndex>,
) -> Result<
    String,
    SdkError<aws_sdk_dynamodb::operation::create_table::CreateTableError, HttpResponse>,
> {
    let name = unique_name("gm");
    let mut req = c
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", T::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .set_global_secondary_indexes((!gsis.is_empty()).then_some(gsis));
    for (a, t) in defs {
        req = req.attribute_definitions(attr(a, t.clone()));
    }
    req.send().await.map(|_| name)
}

/// pk (S); GSI `idx`: h1 (S), h2 (S) | r1 (S), r2 (N); GSI `keys`: the same key, KEYS_ONLY;
/// GSI `inc`: h1 | r2, INCLUDE [x].
async fn std_table(c: &Client) -> String {
    let mut keys_only = gsi_of("keys", ks(&["h1", "h2"], &["r1", "r2"]));
    keys_only.projection = Some(projection(ProjectionType::KeysOnly, &[]));
    let mut inc = gsi_of("inc", ks(&["h1"], &["r2", "r1"]));
    inc.projection = Some(projection(ProjectionType::Include, &["x"]));
    create(
        c,
        &[("h1", T::S), ("h2", T::S), ("r1", T::S), ("r2", T::N)],
        vec![
            gsi_of("idx", ks(&["h1", "h2"], &["r1", "r2"])),
            keys_only,
            inc,
        ],
    )
    .await
    .unwrap()
}

async fn put(c: &Client, t: &str, pairs: &[(&str, AV)]) {
    let mut req = c.put_item().table_name(t);
    for (k, v) in pairs {
        req = req.item(*k, v.clone());
    }
    req.send().await.unwrap();
}

/// Five items in partition (x, y): (r1, r2) = (a,1) (a,2) (b,1) (b,3) (c,0), pk p0..p4.
async fn load(c: &Client, t: &str) {
    for (i, (r1, r2)) in [("a", 1), ("a", 2), ("b", 1), ("b", 3), ("c", 0)]
        .iter()
        .enumerate()
    {
        put(
            c,
            t,
            &[
                ("pk", s(&format!("p{i}"))),
                ("h1", s("x")),
                ("h2", s("y")),
                ("r1", s(r1)),
                ("r2", n(*r2)),
                ("x", s("xv")),
                ("o", s("ov")),
            ],
        )
        .await;
    }
}

type QueryResult = Result<
    aws_sdk_dynamodb::operation::query::QueryOutput,
    SdkError<aws_sdk_dynamodb::operation::query::QueryError, HttpResponse>,
>;

fn values(vals: &[(&str, AV)]) -> HashMap<String, AV> {
    vals.iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

async fn q(c: &Client, t: &str, kce: &str, vals: &[(&str, AV)]) -> QueryResult {
    c.query()
        .table_name(t)
        .index_name("idx")
        .key_condition_expression(kce)
        .set_expression_attribute_values(Some(values(vals)))
        .send()
        .await
}

fn pks(items: &[HashMap<String, AV>]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["pk"].as_s().unwrap().clone())
        .collect()
}

/// Expression attribute values by placeholder.
type Vals = Vec<(&'static str, AV)>;

/// `:a` = x and `:b` = y: the partition (h1, h2) of the loaded items.
fn hv() -> Vals {
    vec![(":a", s("x")), (":b", s("y"))]
}

fn with(extra: &[(&'static str, AV)]) -> Vals {
    let mut v = hv();
    v.extend(extra.iter().cloned());
    v
}

ddb_test!(
    create_and_describe_show_the_key_schema_as_given,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let defs: Vec<(&str, T)> = vec![
            ("h1", T::S),
            ("h2", T::N),
            ("h3", T::B),
            ("h4", T::S),
            ("r1", T::N),
            ("r2", T::S),
            ("r3", T::B),
            ("r4", T::S),
        ];
        let max = gsi_of(
            "max",
            ks(&["h1", "h2", "h3", "h4"], &["r1", "r2", "r3", "r4"]),
        );
        let two = gsi_of("two-hash", ks(&["h1", "h2"], &[]));
        let one = gsi_of("one-two", ks(&["h4"], &["r2", "r1"]));
        let t = create(&c, &defs, vec![max, two, one]).await.unwrap();
        put(
            &c,
            &t,
            &[
                ("pk", s("1")),
                ("h1", s("a")),
                ("h2", n(1)),
                ("h3", b(&[1])),
                ("h4", s("d")),
                ("r1", n(5)),
                ("r2", s("e")),
                ("r3", b(&[2])),
                ("r4", s("f")),
            ],
        )
        .await;
        put(&c, &t, &[("pk", s("2")), ("h1", s("a")), ("h2", n(1))]).await;
        let d = c.describe_table().table_name(&t).send().await.unwrap();
        let table = d.table().unwrap();
        assert_eq!(table.key_schema().len(), 1);
        let by_name: HashMap<&str, _> = table
            .global_secondary_indexes()
            .iter()
            .map(|g| (g.index_name().unwrap(), g))
            .collect();
        let schema = |name: &str| -> Vec<(String, String)> {
            by_name[name]
                .key_schema()
                .iter()
                .map(|k| {
                    (
                        k.attribute_name().to_string(),
                        k.key_type().as_str().to_string(),
                    )
                })
                .collect()
        };
        let want = |h: &[&str], r: &[&str]| -> Vec<(String, String)> {
            h.iter()
                .map(|a| (a.to_string(), "HASH".to_string()))
                .chain(r.iter().map(|a| (a.to_string(), "RANGE".to_string())))
                .collect()
        };
        assert_eq!(
            schema("max"),
            want(&["h1", "h2", "h3", "h4"], &["r1", "r2", "r3", "r4"])
        );
        assert_eq!(schema("two-hash"), want(&["h1", "h2"], &[]));
        assert_eq!(schema("one-two"), want(&["h4"], &["r2", "r1"]));
        for (name, count) in [("max", 1), ("two-hash", 2), ("one-two", 1)] {
            let g = by_name[name];
            assert_eq!(
                g.index_status().map(|s| s.as_str()),
                Some("ACTIVE"),
                "{name}"
            );
            assert_eq!(g.item_count(), Some(count), "{name}");
            assert!(g.index_size_bytes().unwrap_or(0) > 0, "{name}");
        }
        // The 8-attribute key answers a Query by all eight.
        let out = c.query().table_name(&t).index_name("max")
        .key_condition_expression("h1 = :h1 AND h2 = :h2 AND h3 = :h3 AND h4 = :h4 AND r1 = :r1 AND r2 = :r2 AND r3 = :r3 AND r4 = :r4")
        .set_expression_attribute_values(Some(values(&[(":h1", s("a")), (":h2", n(1)), (":h3", b(&[1])),
            (":h4", s("d")), (":r1", n(5)), (":r2", s("e")), (":r3", b(&[2])), (":r4", s("f"))])))
        .send().await.unwrap();
        assert_eq!(pks(out.items()), vec!["1"]);
        srv.stop().await;
    }
);

ddb_test!(
    create_table_rejects_invalid_multi_attribute_key_schemas,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let defs: Vec<(&str, T)> = ["a", "b", "c", "d", "e", "f"]
            .iter()
            .map(|a| (*a, T::S))
            .collect();
        let cases: Vec<(Vec<aws_sdk_dynamodb::types::KeySchemaElement>, &str)> = vec![
            (
                ks(&["a", "b", "c", "d", "e"], &[]),
                "The KeySchema exceeds the maximum allowed number of HASH key attributes",
            ),
            (
                ks(&["a"], &["b", "c", "d", "e", "f"]),
                "The KeySchema exceeds the maximum allowed number of RANGE key attributes",
            ),
            (
                vec![
                    key("a", KeyType::Hash),
                    key("b", KeyType::Range),
                    key("c", KeyType::Hash),
                ],
                "All HASH key attributes must precede RANGE key attributes in the KeySchema",
            ),
            (
                vec![key("a", KeyType::Range), key("b", KeyType::Hash)],
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ),
            (
                ks(&[], &["a", "b"]),
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            ),
            (
                ks(&["a", "a"], &[]),
                "The KeySchema contains multiple key attributes with the same name",
            ),
            (
                ks(&["a", "b"], &["a"]),
                "The KeySchema contains multiple key attributes with the same name",
            ),
            (
                ks(&["a"], &["b", "b"]),
                "The KeySchema contains multiple key attributes with the same name",
            ),
            // The two-element case keeps its historical text.
            (
                ks(&["a"], &["a"]),
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ),
        ];
        for (schema, msg) in cases {
            // Only the attributes the schema names are defined (an unused one is its own error).
            let used: Vec<(&str, T)> = defs
                .iter()
                .filter(|(a, _)| schema.iter().any(|k| k.attribute_name() == *a))
                .cloned()
                .collect();
            expect_err(
                create(&c, &used, vec![gsi_of("gix", schema.clone())]).await,
                VE,
                msg,
            );
        }
        // A key attribute with no definition.
        expect_err(
        create(&c, &[("a", T::S)], vec![gsi_of("gix", ks(&["a", "b"], &[]))]).await,
        VE,
        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [b], AttributeDefinitions: [pk, a]",
    );
        // Tables and LSIs keep one HASH and at most one RANGE.
        let r = c
            .create_table()
            .table_name(unique_name("gm"))
            .attribute_definitions(attr("pk", T::S))
            .attribute_definitions(attr("a", T::S))
            .attribute_definitions(attr("b", T::S))
            .set_key_schema(Some(ks(&["pk"], &["a", "b"])))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        expect_err(r, VE, "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), KeySchemaElement(attributeName=a, keyType=RANGE), KeySchemaElement(attributeName=b, keyType=RANGE)]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2");
        let r = c
            .create_table()
            .table_name(unique_name("gm"))
            .attribute_definitions(attr("pk", T::S))
            .attribute_definitions(attr("a", T::S))
            .set_key_schema(Some(ks(&["pk", "a"], &[])))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        expect_err(
            r,
            VE,
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        );
        let r = c
            .create_table()
            .table_name(unique_name("gm"))
            .attribute_definitions(attr("pk", T::S))
            .attribute_definitions(attr("sk", T::S))
            .attribute_definitions(attr("l", T::S))
            .set_key_schema(Some(ks(&["pk"], &["sk"])))
            .local_secondary_indexes(
                LocalSecondaryIndex::builder()
                    .index_name("lix")
                    .set_key_schema(Some(ks(&["pk"], &["sk", "l"])))
                    .projection(projection(ProjectionType::All, &[]))
                    .build()
                    .unwrap(),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        expect_err(r, VE, "1 validation error detected: Value '[KeySchemaElement(attributeName=pk, keyType=HASH), KeySchemaElement(attributeName=sk, keyType=RANGE), KeySchemaElement(attributeName=l, keyType=RANGE)]' at 'localSecondaryIndexes.1.member.keySchema' failed to satisfy constraint: Member must have length less than or equal to 2");
        srv.stop().await;
    }
);

ddb_test!(
    update_table_creates_and_backfills_a_multi_attribute_gsi,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = create(&c, &[], vec![]).await.unwrap();
        for i in 0..6i64 {
            let mut item = vec![("pk", s(&format!("p{i}"))), ("a", s("A")), ("b", n(i % 2))];
            if i != 5 {
                item.push(("c", s(&format!("c{}", 9 - i))));
            }
            put(&c, &t, &item).await;
        }
        let create_action = |schema| {
            aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                .create(
                    aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                        .index_name("later")
                        .set_key_schema(Some(schema))
                        .projection(projection(ProjectionType::All, &[]))
                        .build()
                        .unwrap(),
                )
                .build()
        };
        let defs = || vec![attr("a", T::S), attr("b", T::N), attr("c", T::S)];
        let bad = c
            .update_table()
            .table_name(&t)
            .set_attribute_definitions(Some(defs()))
            .global_secondary_index_updates(create_action(vec![
                key("a", KeyType::Hash),
                key("c", KeyType::Range),
                key("b", KeyType::Hash),
            ]))
            .send()
            .await;
        expect_err(
            bad,
            VE,
            "All HASH key attributes must precede RANGE key attributes in the KeySchema",
        );
        let five: Vec<_> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|x| attr(x, T::S))
            .collect();
        let bad = c
            .update_table()
            .table_name(&t)
            .set_attribute_definitions(Some(five))
            .global_secondary_index_updates(create_action(ks(&["a", "b", "c", "d", "e"], &[])))
            .send()
            .await;
        expect_err(
            bad,
            VE,
            "The KeySchema exceeds the maximum allowed number of HASH key attributes",
        );
        c.update_table()
            .table_name(&t)
            .set_attribute_definitions(Some(defs()))
            .global_secondary_index_updates(create_action(ks(&["a", "b"], &["c"])))
            .send()
            .await
            .unwrap();
        // Backfilled: every item with all three attributes, ordered by c within (a, b).
        let mut got = Vec::new();
        for _ in 0..200 {
            let d = c.describe_table().table_name(&t).send().await.unwrap();
            let g = &d.table().unwrap().global_secondary_indexes()[0];
            if g.index_status().map(|s| s.as_str()) == Some("ACTIVE") {
                assert_eq!(g.item_count(), Some(5));
                assert_eq!(g.key_schema().len(), 3);
                got = c
                    .query()
                    .table_name(&t)
                    .index_name("later")
                    .key_condition_expression("a = :a AND b = :b")
                    .set_expression_attribute_values(Some(values(&[(":a", s("A")), (":b", n(0))])))
                    .send()
                    .await
                    .unwrap()
                    .items()
                    .to_vec();
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(pks(&got), vec!["p4", "p2", "p0"]);
        srv.stop().await;
    }
);

ddb_test!(
    membership_is_sparse_and_changes_move_entries,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = std_table(&c).await;
        // Missing r2: not in idx (nor in keys); in inc? inc needs h1 and r2 too: no.
        put(
            &c,
            &t,
            &[
                ("pk", s("m")),
                ("h1", s("x")),
                ("h2", s("y")),
                ("r1", s("a")),
            ],
        )
        .await;
        let all = |c: Client, t: String| async move {
            pks(q(&c, &t, "h1 = :a AND h2 = :b", &hv())
                .await
                .unwrap()
                .items())
        };
        assert!(all(c.clone(), t.clone()).await.is_empty());
        c.update_item()
            .table_name(&t)
            .key("pk", s("m"))
            .update_expression("SET r2 = :v")
            .expression_attribute_values(":v", n(7))
            .send()
            .await
            .unwrap();
        assert_eq!(all(c.clone(), t.clone()).await, vec!["m"]);
        // Changing one sort attribute moves the entry within the partition …
        let by_r1 = |r1: &'static str| {
            let (c, t) = (c.clone(), t.clone());
            async move {
                pks(q(
                    &c,
                    &t,
                    "h1 = :a AND h2 = :b AND r1 = :r",
                    &with(&[(":r", s(r1))]),
                )
                .await
                .unwrap()
                .items())
            }
        };
        c.update_item()
            .table_name(&t)
            .key("pk", s("m"))
            .update_expression("SET r1 = :v")
            .expression_attribute_values(":v", s("z"))
            .send()
            .await
            .unwrap();
        assert!(by_r1("a").await.is_empty());
        assert_eq!(by_r1("z").await, vec!["m"]);
        // … changing a partition attribute moves it to another partition …
        c.update_item()
            .table_name(&t)
            .key("pk", s("m"))
            .update_expression("SET h2 = :v")
            .expression_attribute_values(":v", s("w"))
            .send()
            .await
            .unwrap();
        assert!(all(c.clone(), t.clone()).await.is_empty());
        let moved = q(
            &c,
            &t,
            "h1 = :a AND h2 = :b",
            &[(":a", s("x")), (":b", s("w"))],
        )
        .await
        .unwrap();
        assert_eq!(pks(moved.items()), vec!["m"]);
        // … and removing any key attribute takes it out.
        c.update_item()
            .table_name(&t)
            .key("pk", s("m"))
            .update_expression("REMOVE r1")
            .send()
            .await
            .unwrap();
        let gone = q(
            &c,
            &t,
            "h1 = :a AND h2 = :b",
            &[(":a", s("x")), (":b", s("w"))],
        )
        .await
        .unwrap();
        assert!(gone.items().is_empty());
        // A wrong-typed key attribute is rejected, as for single-attribute GSIs.
        let r = c
            .put_item()
            .table_name(&t)
            .item("pk", s("w"))
            .item("h1", s("x"))
            .item("h2", n(1))
            .send()
            .await;
        expect_err(r, VE, "One or more parameter values were invalid: Type mismatch for Index Key h2 Expected: S Actual: N IndexName: idx");
        let r = c
            .put_item()
            .table_name(&t)
            .item("pk", s("w"))
            .item("r2", s("1"))
            .send()
            .await;
        expect_err(r, VE, "One or more parameter values were invalid: Type mismatch for Index Key r2 Expected: N Actual: S IndexName: idx");
        let r = c
            .put_item()
            .table_name(&t)
            .item("pk", s("w"))
            .item("r1", s(""))
            .send()
            .await;
        expect_err(r, VE, "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: idx, IndexKey: r1");
        let r = c
            .update_item()
            .table_name(&t)
            .key("pk", s("m"))
            .update_expression("SET r2 = :v")
            .expression_attribute_values(":v", s("1"))
            .send()
            .await;
        expect_err(
            r,
            VE,
            "The update expression attempted to update the secondary index key to unsupported type",
        );
        srv.stop().await;
    }
);

ddb_test!(
    query_orders_by_the_tuple_of_sort_values,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = std_table(&c).await;
        load(&c, &t).await;
        let cases: Vec<(&str, Vals, Vec<&str>)> = vec![
            (
                "h1 = :a AND h2 = :b",
                hv(),
                vec!["p0", "p1", "p2", "p3", "p4"],
            ),
            (
                "h2 = :b AND h1 = :a AND r1 = :r",
                with(&[(":r", s("b"))]),
                vec!["p2", "p3"],
            ),
            (
                "h1 = :a AND h2 = :b AND r1 > :r",
                with(&[(":r", s("a"))]),
                vec!["p2", "p3", "p4"],
            ),
            (
                "h1 = :a AND h2 = :b AND r1 <= :r",
                with(&[(":r", s("b"))]),
                vec!["p0", "p1", "p2", "p3"],
            ),
            (
                "h1 = :a AND h2 = :b AND r1 BETWEEN :l AND :h",
                with(&[(":l", s("a")), (":h", s("b"))]),
                vec!["p0", "p1", "p2", "p3"],
            ),
            (
                "h1 = :a AND h2 = :b AND begins_with(r1, :r)",
                with(&[(":r", s("c"))]),
                vec!["p4"],
            ),
            (
                "h1 = :a AND h2 = :b AND r1 = :r AND r2 > :v",
                with(&[(":r", s("b")), (":v", n(1))]),
                vec!["p3"],
            ),
            (
                "h1 = :a AND h2 = :b AND r1 = :r AND r2 < :v",
                with(&[(":r", s("a")), (":v", n(2))]),
                vec!["p0"],
            ),
            (
                "h1 = :a AND h2 = :b AND r1 = :r AND r2 >= :v",
                with(&[(":r", s("a")), (":v", n(1))]),
                vec!["p0", "p1"],
            ),
            (
                "h1 = :a AND h2 = :b AND r1 = :r AND r2 BETWEEN :l AND :h",
                with(&[(":r", s("b")), (":l", n(0)), (":h", n(1))]),
                vec!["p2"],
            ),
            // Clause order in the text does not matter.
            (
                "r2 = :v AND r1 = :r AND h2 = :b AND h1 = :a",
                with(&[(":r", s("b")), (":v", n(3))]),
                vec!["p3"],
            ),
            (
                "h1 = :a AND h2 = :b",
                vec![(":a", s("x")), (":b", s("nope"))],
                vec![],
            ),
        ];
        for (kce, vals, want) in cases {
            let fwd = q(&c, &t, kce, &vals).await.unwrap();
            assert_eq!(pks(fwd.items()), want, "{kce}");
            let back = c
                .query()
                .table_name(&t)
                .index_name("idx")
                .key_condition_expression(kce)
                .set_expression_attribute_values(Some(values(&vals)))
                .scan_index_forward(false)
                .send()
                .await
                .unwrap();
            let mut rev = want.clone();
            rev.reverse();
            assert_eq!(pks(back.items()), rev, "{kce} backwards");
        }
        // Legacy KeyConditions: accepted on a multi-attribute GSI (as DynamoDB does), with
        // more than two conditions and the same rules.
        let cond = |op: ComparisonOperator, v: AV| {
            Condition::builder()
                .comparison_operator(op)
                .attribute_value_list(v)
                .build()
                .unwrap()
        };
        let out = c
            .query()
            .table_name(&t)
            .index_name("idx")
            .key_conditions("h1", cond(ComparisonOperator::Eq, s("x")))
            .key_conditions("h2", cond(ComparisonOperator::Eq, s("y")))
            .key_conditions("r1", cond(ComparisonOperator::Eq, s("a")))
            .key_conditions("r2", cond(ComparisonOperator::Gt, n(1)))
            .send()
            .await
            .unwrap();
        assert_eq!(pks(out.items()), vec!["p1"]);
        let r = c
            .query()
            .table_name(&t)
            .index_name("idx")
            .key_conditions("h1", cond(ComparisonOperator::Eq, s("x")))
            .key_conditions("h2", cond(ComparisonOperator::Eq, s("y")))
            .key_conditions("r2", cond(ComparisonOperator::Gt, n(1)))
            .send()
            .await;
        expect_err(r, VE, "RANGE key attributes r1 must have equality conditions specified in the query because a condition is present on key attribute r2");
        let r = c
            .query()
            .table_name(&t)
            .index_name("idx")
            .key_conditions("h1", cond(ComparisonOperator::Eq, s("x")))
            .key_conditions("h2", cond(ComparisonOperator::Gt, s("y")))
            .send()
            .await;
        expect_err(
            r,
            VE,
            "HASH key attributes h2 must have equality conditions specified in the query",
        );
        srv.stop().await;
    }
);

ddb_test!(
    query_rejects_invalid_multi_attribute_key_conditions,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = std_table(&c).await;
        let r1 = |v: &str| (":r", s(v));
        let cases: Vec<(&str, Vals, &str)> = vec![
        ("h1 = :a", vec![(":a", s("x"))], "HASH key attributes h2 must have equality conditions specified in the query"),
        ("r1 = :a", vec![(":a", s("x"))], "HASH key attributes h1, h2 must have equality conditions specified in the query"),
        ("h1 = :a AND h2 > :b", hv(), "HASH key attributes h2 must have equality conditions specified in the query"),
        ("h1 = :a AND h2 BETWEEN :b AND :b", hv(), "HASH key attributes h2 must have equality conditions specified in the query"),
        ("h1 = :a AND begins_with(h2, :b)", hv(), "HASH key attributes h2 must have equality conditions specified in the query"),
        ("h1 = :a AND h2 = :b AND r2 = :v", with(&[(":v", n(1))]), "RANGE key attributes r1 must have equality conditions specified in the query because a condition is present on key attribute r2"),
        ("h1 = :a AND h2 = :b AND r1 > :r AND r2 = :v", with(&[r1("a"), (":v", n(1))]), "RANGE key attributes r1 must have equality conditions specified in the query because a condition is present on key attribute r2"),
        ("h1 = :a AND h2 = :b AND begins_with(r1, :r) AND r2 > :v", with(&[r1("a"), (":v", n(1))]), "RANGE key attributes r1 must have equality conditions specified in the query because a condition is present on key attribute r2"),
        ("h1 = :a AND h2 = :b AND r1 = :r AND begins_with(r2, :v)", with(&[r1("a"), (":v", n(1))]), "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("h1 = :a AND h2 = :b AND r1 = :r AND r2 BETWEEN :v AND :w", with(&[r1("a"), (":v", n(5)), (":w", n(1))]), "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}"),
        ("h1 = :a AND h2 = :b AND r1 = :r", with(&[(":r", n(1))]), "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("h1 = :a AND h2 = :b AND r2 = :v", vec![(":a", n(1)), (":b", s("y")), (":v", n(1))], "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("h1 = :a AND h2 = :b AND o = :r", with(&[r1("a")]), "Query condition missed key schema element"),
        ("h1 = :a AND h2 = :b AND r1 = :r AND r2 = :r AND o = :r", with(&[r1("a")]), "Query key condition not supported"),
        ("h1 = :a AND h1 = :a AND h2 = :b", hv(), "KeyConditionExpressions must only contain one condition per key"),
        ("h1 = :a OR h2 = :b", hv(), "Invalid operator used in KeyConditionExpression: OR"),
        ("h1 = :a AND h2 = :b", vec![(":a", s("")), (":b", s("y"))], "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: idx, IndexKey: h1"),
        ("h1 = :a AND h2 = :b AND r1 > :r", with(&[r1("")]), "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: idx, IndexKey: r1"),
    ];
        for (kce, vals, msg) in cases {
            expect_err(q(&c, &t, kce, &vals).await, VE, msg);
        }
        // A filter may not name any key attribute of the queried index; base keys are fine.
        for a in ["h2", "r1", "r2"] {
            let r = c
                .query()
                .table_name(&t)
                .index_name("idx")
                .key_condition_expression("h1 = :a AND h2 = :b")
                .filter_expression(format!("{a} = :a"))
                .set_expression_attribute_values(Some(values(&hv())))
                .send()
                .await;
            expect_err(r, VE, &format!("Filter Expression can only contain non-primary key attributes: Primary key attribute: {a}"));
        }
        load(&c, &t).await;
        let out = c
            .query()
            .table_name(&t)
            .index_name("idx")
            .key_condition_expression("h1 = :a AND h2 = :b")
            .filter_expression("pk = :p")
            .set_expression_attribute_values(Some(values(&with(&[(":p", s("p3"))]))))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (pks(out.items()), out.scanned_count()),
            (vec!["p3".to_string()], 5)
        );
        let r = c
            .query()
            .table_name(&t)
            .index_name("idx")
            .key_condition_expression("h1 = :a AND h2 = :b")
            .set_expression_attribute_values(Some(values(&hv())))
            .consistent_read(true)
            .send()
            .await;
        expect_err(
            r,
            VE,
            "Consistent reads are not supported on global secondary indexes",
        );
        srv.stop().await;
    }
);

ddb_test!(pagination_and_exclusive_start_keys, |mode| async move {
    let srv = TestServer::start(mode).await;
    let c = srv.client();
    let t = std_table(&c).await;
    load(&c, &t).await;
    for forward in [true, false] {
        let mut seen = Vec::new();
        let mut start: Option<HashMap<String, AV>> = None;
        loop {
            let out = c
                .query()
                .table_name(&t)
                .index_name("idx")
                .key_condition_expression("h1 = :a AND h2 = :b")
                .set_expression_attribute_values(Some(values(&hv())))
                .limit(2)
                .scan_index_forward(forward)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .unwrap();
            seen.extend(pks(out.items()));
            match out.last_evaluated_key() {
                Some(k) => {
                    let mut names: Vec<&str> = k.keys().map(String::as_str).collect();
                    names.sort();
                    assert_eq!(names, vec!["h1", "h2", "pk", "r1", "r2"]);
                    start = Some(k.clone());
                }
                None => break,
            }
        }
        let mut want = vec!["p0", "p1", "p2", "p3", "p4"];
        if !forward {
            want.reverse();
        }
        assert_eq!(seen, want);
    }
    let esk = |pairs: &[(&str, AV)]| -> HashMap<String, AV> { values(pairs) };
    let query_from =
        |start: HashMap<String, AV>, kce: &'static str, vals: Vec<(&'static str, AV)>| {
            c.query()
                .table_name(&t)
                .index_name("idx")
                .key_condition_expression(kce)
                .set_expression_attribute_values(Some(values(&vals)))
                .set_exclusive_start_key(Some(start))
                .send()
        };
    let full = [
        ("pk", s("p1")),
        ("h1", s("x")),
        ("h2", s("y")),
        ("r1", s("a")),
        ("r2", n(2)),
    ];
    let out = query_from(esk(&full), "h1 = :a AND h2 = :b", hv())
        .await
        .unwrap();
    assert_eq!(pks(out.items()), vec!["p2", "p3", "p4"]);
    let invalid =
        "The provided starting key is invalid: The provided key element does not match the schema";
    expect_err(
        query_from(esk(&full[..4]), "h1 = :a AND h2 = :b", hv()).await,
        VE,
        invalid,
    );
    let mut extra = full.to_vec();
    extra.push(("o", s("ov")));
    expect_err(
        query_from(esk(&extra), "h1 = :a AND h2 = :b", hv()).await,
        VE,
        invalid,
    );
    let mut other = full.to_vec();
    other[2] = ("h2", s("q"));
    expect_err(
        query_from(esk(&other), "h1 = :a AND h2 = :b", hv()).await,
        VE,
        "The provided starting key is outside query boundaries based on provided conditions",
    );
    expect_err(
        query_from(
            esk(&full),
            "h1 = :a AND h2 = :b AND r1 = :r",
            with(&[(":r", s("b"))]),
        )
        .await,
        VE,
        "The provided starting key does not match the range key predicate",
    );
    srv.stop().await;
});

ddb_test!(
    scan_projections_and_capacity_as_for_other_gsis,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = std_table(&c).await;
        load(&c, &t).await;
        put(&c, &t, &[("pk", s("sparse")), ("h1", s("x"))]).await;
        // Scan of the index, paginated: exactly the five indexed items.
        let mut seen = Vec::new();
        let mut start = None;
        loop {
            let out = c
                .scan()
                .table_name(&t)
                .index_name("idx")
                .limit(2)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .unwrap();
            seen.extend(pks(out.items()));
            match out.last_evaluated_key() {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
        seen.sort();
        assert_eq!(seen, vec!["p0", "p1", "p2", "p3", "p4"]);
        // KEYS_ONLY: the table key and every index key attribute.
        let out = c
            .query()
            .table_name(&t)
            .index_name("keys")
            .key_condition_expression("h1 = :a AND h2 = :b")
            .set_expression_attribute_values(Some(values(&hv())))
            .limit(1)
            .send()
            .await
            .unwrap();
        let mut names: Vec<&str> = out.items()[0].keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, vec!["h1", "h2", "pk", "r1", "r2"]);
        // INCLUDE [x] on (h1 | r2, r1): sorted by r2 then r1.
        let out = c
            .query()
            .table_name(&t)
            .index_name("inc")
            .key_condition_expression("h1 = :a")
            .expression_attribute_values(":a", s("x"))
            .send()
            .await
            .unwrap();
        assert_eq!(pks(out.items()), vec!["p4", "p0", "p2", "p1", "p3"]);
        let mut names: Vec<&str> = out.items()[0].keys().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, vec!["h1", "pk", "r1", "r2", "x"]);
        // Capacity: half a unit per 4 KB read (eventually consistent), counted on the index.
        let out = c
            .query()
            .table_name(&t)
            .index_name("idx")
            .key_condition_expression("h1 = :a AND h2 = :b")
            .set_expression_attribute_values(Some(values(&hv())))
            .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
            .send()
            .await
            .unwrap();
        let cc = out.consumed_capacity().unwrap();
        assert_eq!(cc.capacity_units(), Some(0.5));
        assert_eq!(
            cc.global_secondary_indexes().unwrap()["idx"].capacity_units(),
            Some(0.5)
        );
        srv.stop().await;
    }
);

ddb_test!(cached_queries_see_index_changes, |mode| async move {
    let srv = TestServer::start(mode).await;
    let c = srv.client();
    let t = std_table(&c).await;
    load(&c, &t).await;
    let kce = "h1 = :a AND h2 = :b AND r1 = :r";
    let first = q(&c, &t, kce, &with(&[(":r", s("c"))])).await.unwrap();
    assert_eq!(pks(first.items()), vec!["p4"]);
    // The same query again (a cache hit when cached), then a write that moves p0 into it.
    assert_eq!(
        pks(q(&c, &t, kce, &with(&[(":r", s("c"))]))
            .await
            .unwrap()
            .items()),
        vec!["p4"]
    );
    c.update_item()
        .table_name(&t)
        .key("pk", s("p0"))
        .update_expression("SET r1 = :v, r2 = :w")
        .expression_attribute_values(":v", s("c"))
        .expression_attribute_values(":w", n(-1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pks(q(&c, &t, kce, &with(&[(":r", s("c"))]))
            .await
            .unwrap()
            .items()),
        vec!["p0", "p4"]
    );
    c.delete_item()
        .table_name(&t)
        .key("pk", s("p4"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        pks(q(&c, &t, kce, &with(&[(":r", s("c"))]))
            .await
            .unwrap()
            .items()),
        vec!["p0"]
    );
    srv.stop().await;
});

ddb_test!(
    multi_attribute_indexes_survive_a_restart,
    |mode| async move {
        let dir = tempfile::tempdir().unwrap();
        let t = {
            let srv = TestServer::start_on_disk(mode, dir.path()).await;
            let c = srv.client();
            let t = std_table(&c).await;
            load(&c, &t).await;
            srv.stop().await;
            t
        };
        let srv = TestServer::start_on_disk(mode, dir.path()).await;
        let c = srv.client();
        let out = q(
            &c,
            &t,
            "h1 = :a AND h2 = :b AND r1 = :r",
            &with(&[(":r", s("b"))]),
        )
        .await
        .unwrap();
        assert_eq!(pks(out.items()), vec!["p2", "p3"]);
        let d = c.describe_table().table_name(&t).send().await.unwrap();
        let g = d
            .table()
            .unwrap()
            .global_secondary_indexes()
            .iter()
            .find(|g| g.index_name() == Some("idx"))
            .unwrap();
        assert_eq!(g.key_schema().len(), 4);
        srv.stop().await;
    }
);

ddb_test!(
    range_errors_name_what_precedes_the_first_condition_after_a_gap,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let defs: Vec<(&str, T)> = vec![
            ("h", T::S),
            ("r1", T::S),
            ("r2", T::N),
            ("r3", T::S),
            ("r4", T::S),
        ];
        let t = create(
            &c,
            &defs,
            vec![gsi_of("idx", ks(&["h"], &["r1", "r2", "r3", "r4"]))],
        )
        .await
        .unwrap();
        let v = |names: &[&str]| -> (String, Vec<(&'static str, AV)>) {
            let mut kce = vec!["h = :h".to_string()];
            let mut vals = vec![(":h", s("a"))];
            for (i, n) in names.iter().enumerate() {
                let (name, op) = n.split_at(2);
                let ph: &'static str = [":v0", ":v1", ":v2", ":v3"][i];
                kce.push(format!("{name} {op} {ph}"));
                vals.push((
                    ph,
                    if name == "r2" {
                        AV::N("1".into())
                    } else {
                        s("x")
                    },
                ));
            }
            (kce.join(" AND "), vals)
        };
        let msg = |missing: &str, at: &str| {
            format!("RANGE key attributes {missing} must have equality conditions specified in the query because a condition is present on key attribute {at}")
        };
        let cases = [
            (vec!["r2="], msg("r1", "r2")),
            (vec!["r2=", "r3="], msg("r1", "r2")),
            (vec!["r1=", "r3="], msg("r2", "r3")),
            (vec!["r1=", "r4>"], msg("r2, r3", "r4")),
            (vec!["r4="], msg("r1, r2, r3", "r4")),
            (vec!["r1>", "r2>", "r3="], msg("r1, r2", "r3")),
            (vec!["r1=", "r2>", "r3="], msg("r2", "r3")),
        ];
        for (names, want) in cases {
            let (kce, vals) = v(&names);
            let r = c
                .query()
                .table_name(&t)
                .index_name("idx")
                .key_condition_expression(&kce)
                .set_expression_attribute_values(Some(values(&vals)))
                .send()
                .await;
            expect_err(r, VE, &want);
        }
        let (kce, vals) = v(&["r1=", "r2=", "r3=", "r4<"]);
        c.query()
            .table_name(&t)
            .index_name("idx")
            .key_condition_expression(&kce)
            .set_expression_attribute_values(Some(values(&vals)))
            .send()
            .await
            .unwrap();
        srv.stop().await;
    }
);

ddb_test!(
    key_condition_values_may_not_be_empty_on_any_key,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let name = unique_name("ge");
        c.create_table()
            .table_name(&name)
            .attribute_definitions(attr("pk", T::S))
            .attribute_definitions(attr("sk", T::S))
            .attribute_definitions(attr("x", T::S))
            .attribute_definitions(attr("l", T::B))
            .set_key_schema(Some(ks(&["pk"], &["sk"])))
            .global_secondary_indexes(gsi_of("one", ks(&["x"], &["sk"])))
            .local_secondary_indexes(
                LocalSecondaryIndex::builder()
                    .index_name("lsi")
                    .set_key_schema(Some(ks(&["pk"], &["l"])))
                    .projection(projection(ProjectionType::All, &[]))
                    .build()
                    .unwrap(),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        let table = |key: &str, kind: &str| {
            format!("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {kind} value. Key: {key}")
        };
        let index = |ix: &str, key: &str, kind: &str| {
            format!("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty {kind} value. IndexName: {ix}, IndexKey: {key}")
        };
        let cases: Vec<(Option<&str>, &str, Vals, String)> = vec![
            (None, "pk = :a", vec![(":a", s(""))], table("pk", "string")),
            (
                None,
                "pk = :a AND sk > :b",
                vec![(":a", s("a")), (":b", s(""))],
                table("sk", "string"),
            ),
            (
                None,
                "pk = :a AND begins_with(sk, :b)",
                vec![(":a", s("a")), (":b", s(""))],
                table("sk", "string"),
            ),
            (
                None,
                "pk = :a AND sk BETWEEN :b AND :c",
                vec![(":a", s("a")), (":b", s("")), (":c", s("z"))],
                table("sk", "string"),
            ),
            (
                Some("one"),
                "x = :a",
                vec![(":a", s(""))],
                index("one", "x", "string"),
            ),
            (
                Some("one"),
                "x = :a AND sk = :b",
                vec![(":a", s("a")), (":b", s(""))],
                index("one", "sk", "string"),
            ),
            (
                Some("lsi"),
                "pk = :a",
                vec![(":a", s(""))],
                index("lsi", "pk", "string"),
            ),
            (
                Some("lsi"),
                "pk = :a AND l < :b",
                vec![(":a", s("a")), (":b", b(&[]))],
                index("lsi", "l", "binary"),
            ),
        ];
        for (ix, kce, vals, want) in cases {
            let r = c
                .query()
                .table_name(&name)
                .set_index_name(ix.map(str::to_string))
                .key_condition_expression(kce)
                .set_expression_attribute_values(Some(values(&vals)))
                .send()
                .await;
            expect_err(r, VE, &want);
        }
        let cond = Condition::builder()
            .comparison_operator(ComparisonOperator::Gt)
            .attribute_value_list(s(""))
            .build()
            .unwrap();
        let eq = Condition::builder()
            .comparison_operator(ComparisonOperator::Eq)
            .attribute_value_list(s("a"))
            .build()
            .unwrap();
        let r = c
            .query()
            .table_name(&name)
            .key_conditions("pk", eq)
            .key_conditions("sk", cond)
            .send()
            .await;
        expect_err(r, VE, &table("sk", "string"));
        srv.stop().await;
    }
);

ddb_test!(
    partiql_refuses_selects_from_multi_attribute_indexes,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = std_table(&c).await;
        load(&c, &t).await;
        for stmt in [
            format!("SELECT pk FROM \"{t}\".\"idx\" WHERE h1 = 'x' AND h2 = 'y'"),
            format!("SELECT * FROM \"{t}\".\"keys\""),
        ] {
            let r = c.execute_statement().statement(&stmt).send().await;
            expect_err(r, VE, "PartiQL statements cannot be executed on tables with composite HASH keys or composite RANGE keys.");
        }
        // The table itself still answers, and PartiQL writes maintain the index as usual.
        let out = c
            .execute_statement()
            .statement(format!("SELECT pk FROM \"{t}\" WHERE pk = 'p1'"))
            .send()
            .await
            .unwrap();
        assert_eq!(pks(out.items()), vec!["p1"]);
        c.execute_statement()
            .statement(format!("UPDATE \"{t}\" SET r1 = 'q' WHERE pk = 'p1'"))
            .send()
            .await
            .unwrap();
        let out = q(
            &c,
            &t,
            "h1 = :a AND h2 = :b AND r1 = :r",
            &with(&[(":r", s("q"))]),
        )
        .await
        .unwrap();
        assert_eq!(pks(out.items()), vec!["p1"]);
        srv.stop().await;
    }
);

/// The same property as the engine's proptest (`api/query/multi_tests.rs`), through the
/// SDK and the server (engine alone and cached): for random items (each key attribute
/// present or not) and random valid key conditions, the paginated index Query answers
/// exactly what a Scan of the table filtered by the same condition (plus
/// `attribute_exists` of every index key attribute) finds, in tuple order (or reversed).
#[test]
fn sdk_query_equals_filtering_the_table() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let rt = tokio::runtime::Runtime::new().unwrap();
    for mode in [daxlite_tests::Mode::Engine, daxlite_tests::Mode::Cached] {
        let srv = rt.block_on(TestServer::start(mode));
        let c = srv.client();
        let attr = || proptest::option::weighted(0.85, 0usize..3);
        let item = (0u8..8, [attr(), attr(), attr(), attr()]);
        let last = (0usize..6, 0usize..3, 0usize..3);
        let query = (
            [0usize..2, 0usize..2],
            0usize..2,
            0usize..3,
            proptest::option::of(last),
            any::<bool>(),
            1i32..4,
        );
        let strategy = (
            proptest::collection::vec(item, 0..20),
            proptest::collection::vec(query, 1..4),
        );
        let mut runner = TestRunner::new(Config {
            cases: 24,
            ..Config::default()
        });
        runner
            .run(&strategy, |(items, queries)| {
                rt.block_on(async {
                    // h1 (S), h2 (N) | r1 (S), r2 (N); values from small domains so that
                    // partitions and sort values collide.
                    let t = create(
                        &c,
                        &[("h1", T::S), ("h2", T::N), ("r1", T::S), ("r2", T::N)],
                        vec![gsi_of("idx", ks(&["h1", "h2"], &["r1", "r2"]))],
                    )
                    .await
                    .unwrap();
                    let val = |attr: usize, i: usize| match attr {
                        0 => s(["x", "y", "z"][i % 3]),
                        1 => n(i as i64 % 3),
                        2 => s(["a", "ab", "b"][i % 3]),
                        _ => n([-1, 0, 7][i % 3]),
                    };
                    const NAMES: [&str; 4] = ["h1", "h2", "r1", "r2"];
                    for (pk, attrs) in &items {
                        let mut req = c.put_item().table_name(&t).item("pk", s(&format!("p{pk}")));
                        for (a, v) in attrs.iter().enumerate() {
                            if let Some(v) = v {
                                req = req.item(NAMES[a], val(a, *v));
                            }
                        }
                        req.send().await.unwrap();
                    }
                    for (hash, depth, eqv, last, forward, limit) in &queries {
                        let mut kce = vec!["h1 = :h1".to_string(), "h2 = :h2".to_string()];
                        let mut vals = vec![
                            (":h1".to_string(), val(0, hash[0])),
                            (":h2".to_string(), val(1, hash[1])),
                        ];
                        let mut depth = if last.is_some() { *depth } else { 0 };
                        if depth == 1 {
                            kce.push("r1 = :e".into());
                            vals.push((":e".into(), val(2, *eqv)));
                        } else {
                            depth = 0;
                        }
                        if let Some((op, a, b2)) = last {
                            let attr = 2 + depth;
                            let name = NAMES[attr];
                            // Both value domains are listed in ascending order, so the
                            // smaller index is the lower bound.
                            let (lo, hi) = ((*a).min(*b2), (*a).max(*b2));
                            kce.push(match op {
                                0 => format!("{name} = :l"),
                                1 => format!("{name} < :l"),
                                2 => format!("{name} >= :l"),
                                3 => format!("{name} > :l"),
                                4 => format!("{name} BETWEEN :lo AND :hi"),
                                _ if attr == 2 => format!("begins_with({name}, :l)"),
                                _ => format!("{name} <= :l"),
                            });
                            if *op == 4 {
                                vals.push((":lo".into(), val(attr, lo)));
                                vals.push((":hi".into(), val(attr, hi)));
                            } else {
                                vals.push((":l".into(), val(attr, *a)));
                            }
                        }
                        let kce = kce.join(" AND ");
                        let vals: HashMap<String, AV> = vals.into_iter().collect();
                        let mut got = Vec::new();
                        let mut start = None;
                        loop {
                            let out = c
                                .query()
                                .table_name(&t)
                                .index_name("idx")
                                .key_condition_expression(&kce)
                                .set_expression_attribute_values(Some(vals.clone()))
                                .scan_index_forward(*forward)
                                .limit(*limit)
                                .set_exclusive_start_key(start.take())
                                .send()
                                .await
                                .unwrap();
                            got.extend(out.items().iter().cloned());
                            match out.last_evaluated_key() {
                                Some(k) => start = Some(k.clone()),
                                None => break,
                            }
                        }
                        let filter =
                            format!("{kce} AND attribute_exists(r1) AND attribute_exists(r2)");
                        let mut want = Vec::new();
                        let mut start = None;
                        loop {
                            let out = c
                                .scan()
                                .table_name(&t)
                                .filter_expression(&filter)
                                .set_expression_attribute_values(Some(vals.clone()))
                                .set_exclusive_start_key(start.take())
                                .send()
                                .await
                                .unwrap();
                            want.extend(out.items().iter().cloned());
                            match out.last_evaluated_key() {
                                Some(k) => start = Some(k.clone()),
                                None => break,
                            }
                        }
                        let sort_key = |i: &HashMap<String, AV>| {
                            let num = |a: &str| i[a].as_n().unwrap().parse::<i64>().unwrap();
                            (
                                i["r1"].as_s().unwrap().clone(),
                                num("r2"),
                                i["pk"].as_s().unwrap().clone(),
                            )
                        };
                        want.sort_by_key(sort_key);
                        if !forward {
                            want.reverse();
                        }
                        assert_eq!(got, want, "{kce} {vals:?} forward={forward}");
                    }
                });
                Ok(())
            })
            .unwrap();
        rt.block_on(srv.stop());
    }
}

ddb_test!(
    a_data_file_from_before_multi_attribute_keys_reads_and_upgrades,
    |mode| async move {
        // Written by daxlite at commit 9e0646b (before multi-attribute keys): table `v1tab`
        // (pk S, sk N), GSI `byg` (g | gs, ALL), GSI `gonly` (g, KEYS_ONLY), LSI `byl`
        // (pk | l), six items pk = p{i % 2}, sk = i, g = g{i % 3}, gs = 10 - i, l = l{5 - i}.
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let gz = include_bytes!("../fixtures/format-v1-before-multi-attribute-keys.redb.gz");
        let mut bytes = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut bytes)
            .unwrap();
        std::fs::write(dir.path().join("daxlite.redb"), bytes).unwrap();
        let srv = TestServer::start_on_disk(mode, dir.path()).await;
        let c = srv.client();
        let sks = |items: &[HashMap<String, AV>]| -> Vec<String> {
            items
                .iter()
                .map(|i| i["sk"].as_n().unwrap().clone())
                .collect()
        };
        let by = |ix: &'static str, kce: &'static str, v: AV| {
            c.query()
                .table_name("v1tab")
                .index_name(ix)
                .key_condition_expression(kce)
                .expression_attribute_values(":v", v)
                .send()
        };
        assert_eq!(
            sks(by("byg", "g = :v", s("g0")).await.unwrap().items()),
            vec!["3", "0"]
        );
        assert_eq!(
            sks(by("gonly", "g = :v", s("g1")).await.unwrap().items()).len(),
            2
        );
        assert_eq!(
            sks(by("byl", "pk = :v", s("p0")).await.unwrap().items()),
            vec!["4", "2", "0"]
        );
        let d = c.describe_table().table_name("v1tab").send().await.unwrap();
        let t = d.table().unwrap();
        assert_eq!(t.item_count(), Some(6));
        let byg = t
            .global_secondary_indexes()
            .iter()
            .find(|g| g.index_name() == Some("byg"))
            .unwrap();
        assert_eq!((byg.key_schema().len(), byg.item_count()), (2, Some(6)));
        // Writes keep the old indexes right, and a multi-attribute GSI can be added.
        put(
            &c,
            "v1tab",
            &[
                ("pk", s("p0")),
                ("sk", n(9)),
                ("g", s("g0")),
                ("gs", n(-1)),
                ("l", s("l9")),
            ],
        )
        .await;
        assert_eq!(
            sks(by("byg", "g = :v", s("g0")).await.unwrap().items()),
            vec!["9", "3", "0"]
        );
        c.update_table()
            .table_name("v1tab")
            .global_secondary_index_updates(
                aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                    .create(
                        aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
                            .index_name("multi")
                            .set_key_schema(Some(ks(&["g", "pk"], &["gs", "l"])))
                            .projection(projection(ProjectionType::All, &[]))
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let mut got = Vec::new();
        for _ in 0..200 {
            let r = c
                .query()
                .table_name("v1tab")
                .index_name("multi")
                .key_condition_expression("g = :g AND pk = :p")
                .set_expression_attribute_values(Some(values(&[(":g", s("g0")), (":p", s("p0"))])))
                .send()
                .await;
            if let Ok(out) = r {
                got = sks(out.items());
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(got, vec!["9", "0"]);
        srv.stop().await;
    }
);

ddb_test!(
    multi_attribute_key_sizes_are_aggregated,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let defs: Vec<(&str, T)> = vec![
            ("h1", T::S),
            ("h2", T::N),
            ("h3", T::B),
            ("r1", T::S),
            ("r2", T::S),
        ];
        let t = create(
            &c,
            &defs,
            vec![gsi_of("idx", ks(&["h1", "h2", "h3"], &["r1", "r2"]))],
        )
        .await
        .unwrap();
        let big = |k: usize| "x".repeat(k);
        let hash_msg = |names: &str, size: usize| {
            format!("Aggregate size for HASH key attributes {names} of index idx has exceeded limit 2048 bytes, with actual size {size} bytes")
        };
        let cases: Vec<(Vals, String)> = vec![
        // Counted over the attributes present, in the index or not (r1, r2 absent here).
        (vec![("h1", s(&big(1500))), ("h3", b(&[7; 1500]))], hash_msg("h1, h3", 3000)),
        // N by DynamoDB's number size: 20 digits are 11 bytes.
        (vec![("h1", s(&big(2040))), ("h2", AV::N("12345678901234567890".into()))], hash_msg("h1, h2", 2051)),
        (vec![("r1", s(&big(700))), ("r2", s(&big(700)))],
            "Aggregate size for RANGE key attributes r1, r2 of index idx has exceeded limit 1024 bytes, with actual size 1400 bytes".to_string()),
    ];
        for (attrs, msg) in cases {
            let mut req = c.put_item().table_name(&t).item("pk", s("a"));
            for (k, v) in &attrs {
                req = req.item(*k, v.clone());
            }
            expect_err(req.send().await, VE, &msg);
        }
        // At the limits, accepted.
        put(
            &c,
            &t,
            &[
                ("pk", s("a")),
                ("h1", s(&big(1000))),
                ("h3", b(&[7; 1048])),
                ("r1", s(&big(512))),
                ("r2", s(&big(512))),
            ],
        )
        .await;
        // UpdateItem gets the same check (DynamoDB Local skips it there; see the docs).
        let r = c
            .update_item()
            .table_name(&t)
            .key("pk", s("a"))
            .update_expression("SET r2 = :v")
            .expression_attribute_values(":v", s(&big(513)))
            .send()
            .await;
        expect_err(r, VE, "Aggregate size for RANGE key attributes r1, r2 of index idx has exceeded limit 1024 bytes, with actual size 1025 bytes");
        srv.stop().await;
    }
);
