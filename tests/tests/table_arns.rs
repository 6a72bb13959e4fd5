//! A table ARN where a request takes a TableName, through aws-sdk-dynamodb, engine and
//! cache: item operations, batches, transactions and DescribeTable reach the table by its
//! ARN; a write by ARN is seen by the next read by name through the cache (and the other
//! way round); an index ARN, another account's ARN or a malformed one is refused with the
//! TableName ValidationException.

use aws_sdk_dynamodb::types::{
    AttributeValue, Get, KeysAndAttributes, Put, TransactGetItem, TransactWriteItem,
};
use daxlite_tests::{create_pk_table, ddb_test, error_parts, TestServer};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

ddb_test!(a_table_arn_names_the_table, |mode| async move {
    let srv = TestServer::start(mode).await;
    let c = srv.client();
    let t = create_pk_table(&c, "by-arn", None).await;
    let arn = c
        .describe_table()
        .table_name(&t)
        .send()
        .await
        .expect("describe")
        .table()
        .and_then(|d| d.table_arn())
        .expect("TableArn")
        .to_string();
    let described = c
        .describe_table()
        .table_name(&arn)
        .send()
        .await
        .expect("describe by ARN");
    assert_eq!(
        described.table().and_then(|d| d.table_name()),
        Some(t.as_str())
    );

    c.put_item()
        .table_name(&arn)
        .item("pk", s("a"))
        .item("v", s("1"))
        .send()
        .await
        .expect("put by ARN");
    // Read by name twice (the second may be a cache hit), then write by ARN: the next read
    // by name sees the new value.
    for _ in 0..2 {
        let got = c
            .get_item()
            .table_name(&t)
            .key("pk", s("a"))
            .send()
            .await
            .expect("get");
        assert_eq!(got.item().and_then(|i| i.get("v")), Some(&s("1")));
    }
    c.put_item()
        .table_name(&arn)
        .item("pk", s("a"))
        .item("v", s("2"))
        .send()
        .await
        .expect("overwrite by ARN");
    let got = c
        .get_item()
        .table_name(&t)
        .key("pk", s("a"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.item().and_then(|i| i.get("v")),
        Some(&s("2")),
        "no stale read"
    );
    // And the other way round: read by ARN, write by name, read by ARN.
    let by_arn = || c.get_item().table_name(&arn).key("pk", s("a")).send();
    assert_eq!(
        by_arn()
            .await
            .expect("get by ARN")
            .item()
            .and_then(|i| i.get("v")),
        Some(&s("2"))
    );
    c.update_item()
        .table_name(&t)
        .key("pk", s("a"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", s("3"))
        .send()
        .await
        .expect("update by name");
    assert_eq!(
        by_arn()
            .await
            .expect("get by ARN")
            .item()
            .and_then(|i| i.get("v")),
        Some(&s("3"))
    );

    let q = c
        .query()
        .table_name(&arn)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("a"))
        .send()
        .await
        .expect("query by ARN");
    assert_eq!(q.count(), 1);
    let b = c
        .batch_get_item()
        .request_items(
            &arn,
            KeysAndAttributes::builder()
                .keys(std::collections::HashMap::from([(
                    "pk".to_string(),
                    s("a"),
                )]))
                .build()
                .expect("keys"),
        )
        .send()
        .await
        .expect("batch get by ARN");
    let found: usize = b
        .responses()
        .map(|r| r.values().map(Vec::len).sum())
        .unwrap_or(0);
    assert_eq!(found, 1);
    c.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&arn)
                        .item("pk", s("b"))
                        .build()
                        .expect("put"),
                )
                .build(),
        )
        .send()
        .await
        .expect("transact write by ARN");
    let tg = c
        .transact_get_items()
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name(&arn)
                        .key("pk", s("b"))
                        .build()
                        .expect("get"),
                )
                .build(),
        )
        .send()
        .await
        .expect("transact get by ARN");
    assert!(tg.responses()[0].item().is_some());

    for bad in [
        format!("{arn}/index/ByV"),
        arn.replace(":table/", ":tablex/"),
        arn.replacen(":dynamodb:", ":s3:", 1),
    ] {
        let err = c
            .get_item()
            .table_name(&bad)
            .key("pk", s("a"))
            .send()
            .await
            .expect_err("not a table ARN of this account");
        let (code, msg) = error_parts(&err);
        assert_eq!(code, "ValidationException", "{bad}: {msg}");
        assert!(
            msg.contains(
                "failed to satisfy constraint: Member must satisfy regular expression pattern"
            ),
            "{bad}: {msg}"
        );
    }
    srv.stop().await;
});
