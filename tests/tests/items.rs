//! Items through aws-sdk-dynamodb: PutItem, GetItem, UpdateItem and DeleteItem with their
//! parameters, every AttributeValue type, and DynamoDB's errors as the SDK surfaces them.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeValue as AV, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::{create_pk_table, ddb_test, error_parts, Mode, TestServer};

async fn table(c: &Client, range: bool) -> String {
    create_pk_table(c, "items", range.then_some(ScalarAttributeType::N)).await
}

fn s(v: &str) -> AV {
    AV::S(v.to_string())
}

fn n(v: &str) -> AV {
    AV::N(v.to_string())
}

ddb_test!(
    every_type_round_trips_with_canonical_numbers,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = table(&c, false).await;
        let mut item = HashMap::new();
        item.insert("pk".to_string(), s("k1"));
        item.insert("num".to_string(), n("1.50"));
        item.insert("big".to_string(), n("1E+3"));
        item.insert("bin".to_string(), AV::B(Blob::new(vec![0u8, 1, 2, 255])));
        item.insert("t".to_string(), AV::Bool(true));
        item.insert("nul".to_string(), AV::Null(true));
        item.insert("ss".to_string(), AV::Ss(vec!["a".into(), "b".into()]));
        item.insert("ns".to_string(), AV::Ns(vec!["1".into(), "2.0".into()]));
        item.insert(
            "bs".to_string(),
            AV::Bs(vec![Blob::new(vec![1u8]), Blob::new(vec![2u8])]),
        );
        item.insert(
            "l".to_string(),
            AV::L(vec![
                s("x"),
                n("7"),
                AV::M(HashMap::from([("in".to_string(), s(""))])),
            ]),
        );
        item.insert("empty".to_string(), s(""));
        c.put_item()
            .table_name(&t)
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
        let got = c
            .get_item()
            .table_name(&t)
            .key("pk", s("k1"))
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_default();
        assert_eq!(got.get("num"), Some(&n("1.5")));
        assert_eq!(got.get("big"), Some(&n("1000")));
        assert_eq!(
            got.get("bin"),
            Some(&AV::B(Blob::new(vec![0u8, 1, 2, 255])))
        );
        assert_eq!(got.get("t"), Some(&AV::Bool(true)));
        assert_eq!(got.get("nul"), Some(&AV::Null(true)));
        assert_eq!(got.get("empty"), Some(&s("")));
        let mut ns = got
            .get("ns")
            .and_then(|v| v.as_ns().ok())
            .cloned()
            .unwrap_or_default();
        ns.sort();
        assert_eq!(ns, ["1", "2"]);
        assert_eq!(
            got.get("l").and_then(|v| v.as_l().ok()).map(Vec::len),
            Some(3)
        );
        assert_eq!(got.len(), 11);
        // A missing item answers without `Item`.
        let missing = c
            .get_item()
            .table_name(&t)
            .key("pk", s("nope"))
            .send()
            .await
            .unwrap();
        assert!(missing.item.is_none());
        srv.stop().await;
    }
);

ddb_test!(
    conditions_return_values_and_the_failed_item,
    |mode| async move {
        let srv = TestServer::start(mode).await;
        let c = srv.client();
        let t = table(&c, true).await;
        c.put_item()
            .table_name(&t)
            .item("pk", s("a"))
            .item("sk", n("1"))
            .item("v", n("10"))
            .send()
            .await
            .unwrap();
        // attribute_not_exists on an existing item fails, and ALL_OLD ships the item in the error.
        let err = c
            .put_item()
            .table_name(&t)
            .item("pk", s("a"))
            .item("sk", n("1"))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await
            .expect_err("condition passed");
        assert_eq!(
            error_parts(&err),
            (
                "ConditionalCheckFailedException".into(),
                "The conditional request failed".into()
            )
        );
        match err.into_service_error() {
            PutItemError::ConditionalCheckFailedException(e) => {
                assert_eq!(e.item().and_then(|i| i.get("v")), Some(&n("10")));
            }
            other => panic!("{other:?}"),
        }
        // PutItem with ALL_OLD returns the replaced item.
        let out = c
            .put_item()
            .table_name(&t)
            .item("pk", s("a"))
            .item("sk", n("1"))
            .item("v", n("11"))
            .condition_expression("v = :ten")
            .expression_attribute_values(":ten", n("10"))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .unwrap();
        assert_eq!(out.attributes().and_then(|a| a.get("v")), Some(&n("10")));
        // UpdateItem: SET with arithmetic, list_append and if_not_exists, UPDATED_NEW.
        let out = c
            .update_item()
            .table_name(&t)
            .key("pk", s("a"))
            .key("sk", n("1"))
            .update_expression(
                "SET v = v + :one, #l = list_append(if_not_exists(#l, :empty), :more) ADD c :one",
            )
            .expression_attribute_names("#l", "log")
            .expression_attribute_values(":one", n("1"))
            .expression_attribute_values(":empty", AV::L(vec![]))
            .expression_attribute_values(":more", AV::L(vec![s("x")]))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .unwrap();
        let attrs = out.attributes().cloned().unwrap_or_default();
        assert_eq!(attrs.get("v"), Some(&n("12")));
        assert_eq!(attrs.get("c"), Some(&n("1")));
        assert_eq!(attrs.get("log"), Some(&AV::L(vec![s("x")])));
        assert!(
            !attrs.contains_key("pk"),
            "UPDATED_NEW returns only updated attributes"
        );
        // A failed update condition.
        let err = c
            .update_item()
            .table_name(&t)
            .key("pk", s("a"))
            .key("sk", n("1"))
            .update_expression("REMOVE v")
            .condition_expression("v > :big")
            .expression_attribute_values(":big", n("100"))
            .send()
            .await
            .expect_err("condition passed");
        assert!(matches!(
            err.into_service_error(),
            UpdateItemError::ConditionalCheckFailedException(_)
        ));
        // DeleteItem with ALL_OLD.
        let out = c
            .delete_item()
            .table_name(&t)
            .key("pk", s("a"))
            .key("sk", n("1"))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .unwrap();
        assert_eq!(out.attributes().and_then(|a| a.get("v")), Some(&n("12")));
        let gone = c
            .get_item()
            .table_name(&t)
            .key("pk", s("a"))
            .key("sk", n("1"))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        assert!(gone.item.is_none());
        srv.stop().await;
    }
);

// Engine mode only: these are the engine's own capacity figures; through the cache a hit
// costs 0 units, which tests/tests/cache.rs checks.
#[tokio::test]
async fn projections_and_consumed_capacity() {
    let srv = TestServer::start(Mode::Engine).await;
    let c = srv.client();
    let t = table(&c, false).await;
    let nested = AV::M(HashMap::from([
        ("b".to_string(), AV::L(vec![n("0"), n("1"), n("2")])),
        ("c".to_string(), s("x")),
    ]));
    let out = c
        .put_item()
        .table_name(&t)
        .item("pk", s("p"))
        .item("a", nested)
        .item("z", s("big"))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let cc = out.consumed_capacity().expect("no capacity");
    assert_eq!(
        (cc.table_name(), cc.capacity_units()),
        (Some(t.as_str()), Some(1.0))
    );
    let got = c
        .get_item()
        .table_name(&t)
        .key("pk", s("p"))
        .projection_expression("a.b[1], #z")
        .expression_attribute_names("#z", "z")
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    let item = got.item().cloned().unwrap_or_default();
    let expected = AV::M(HashMap::from([("b".to_string(), AV::L(vec![n("1")]))]));
    assert_eq!(item.get("a"), Some(&expected));
    assert_eq!(item.get("z"), Some(&s("big")));
    assert!(!item.contains_key("pk"));
    assert_eq!(
        got.consumed_capacity().and_then(|c| c.capacity_units()),
        Some(0.5),
        "eventually consistent read of < 4 KB"
    );
    srv.stop().await;
}

ddb_test!(item_errors_as_the_sdk_sees_them, |mode| async move {
    let srv = TestServer::start(mode).await;
    let c = srv.client();
    let t = table(&c, true).await;
    let err = c
        .put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .send()
        .await
        .expect_err("no error");
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".into(),
            "One or more parameter values were invalid: Missing the key sk in the item".into()
        )
    );
    let err = c
        .put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .item("sk", s("x"))
        .send()
        .await
        .expect_err("no error");
    assert_eq!(
        error_parts(&err).1,
        "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"
    );
    let err = c
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .send()
        .await
        .expect_err("no error");
    assert_eq!(
        error_parts(&err).1,
        "The provided key element does not match the schema"
    );
    // 400 KB: 409,600 bytes pass, one more fails.
    let overhead = "pk".len() + 1 + "sk".len() + 2 + "v".len();
    let fits = "x".repeat(409_600 - overhead);
    c.put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .item("sk", n("1"))
        .item("v", s(&fits))
        .send()
        .await
        .unwrap();
    let too_big = "x".repeat(409_601 - overhead);
    let err = c
        .put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .item("sk", n("1"))
        .item("v", s(&too_big))
        .send()
        .await
        .expect_err("no error");
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".into(),
            "Item size has exceeded the maximum allowed size".into()
        )
    );
    let err = c
        .get_item()
        .table_name("missing-table")
        .key("pk", s("a"))
        .send()
        .await
        .expect_err("no error");
    assert_eq!(
        error_parts(&err),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found".into()
        )
    );
    let err = c
        .update_item()
        .table_name(&t)
        .key("pk", s("a"))
        .key("sk", n("1"))
        .update_expression("SET #unused = :v")
        .expression_attribute_names("#unused", "x")
        .expression_attribute_names("#extra", "y")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .expect_err("no error");
    assert_eq!(
        error_parts(&err).1,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#extra}"
    );
    let err = c
        .update_item()
        .table_name(&t)
        .key("pk", s("a"))
        .key("sk", n("1"))
        .update_expression("SET sk = :v")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .expect_err("no error");
    assert_eq!(error_parts(&err).1, "One or more parameter values were invalid: Cannot update attribute sk. This attribute is part of the key");
    let err = c
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .key("sk", n("1"))
        .projection_expression("a, a.b")
        .send()
        .await
        .expect_err("no error");
    assert!(
        error_parts(&err).1.starts_with(
            "Invalid ProjectionExpression: Two document paths overlap with each other"
        ),
        "{:?}",
        error_parts(&err)
    );
    srv.stop().await;
});

ddb_test!(concurrent_adds_are_all_applied, |mode| async move {
    let srv = TestServer::start(mode).await;
    let c = srv.client();
    let t = table(&c, false).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (c, t) = (c.clone(), t.clone());
        tasks.push(tokio::spawn(async move {
            c.update_item()
                .table_name(&t)
                .key("pk", s("counter"))
                .update_expression("ADD n :one")
                .expression_attribute_values(":one", n("1"))
                .send()
                .await
                .is_ok()
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap_or(false));
    }
    let got = c
        .get_item()
        .table_name(&t)
        .key("pk", s("counter"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(got.item().and_then(|i| i.get("n")), Some(&n("50")));
    let d = c
        .describe_table()
        .table_name(&t)
        .send()
        .await
        .unwrap()
        .table
        .expect("no table");
    assert_eq!(d.item_count(), Some(1));
    srv.stop().await;
});

ddb_test!(items_survive_a_restart, |mode| async move {
    let dir = tempfile::tempdir().unwrap();
    let t;
    {
        let srv = TestServer::start_on_disk(mode, dir.path()).await;
        let c = srv.client();
        t = table(&c, false).await;
        for i in 0..20 {
            c.put_item()
                .table_name(&t)
                .item("pk", s(&format!("k{i}")))
                .item("i", n(&i.to_string()))
                .send()
                .await
                .unwrap();
        }
        c.delete_item()
            .table_name(&t)
            .key("pk", s("k3"))
            .send()
            .await
            .unwrap();
        srv.stop().await;
    }
    let srv = TestServer::start_on_disk(mode, dir.path()).await;
    let c = srv.client();
    for i in 0..20 {
        let got = c
            .get_item()
            .table_name(&t)
            .key("pk", s(&format!("k{i}")))
            .send()
            .await
            .unwrap();
        if i == 3 {
            assert!(got.item.is_none());
        } else {
            assert_eq!(
                got.item().and_then(|x| x.get("i")),
                Some(&n(&i.to_string()))
            );
        }
    }
    let d = c
        .describe_table()
        .table_name(&t)
        .send()
        .await
        .unwrap()
        .table
        .expect("no table");
    assert_eq!(d.item_count(), Some(19));
    srv.stop().await;
});
