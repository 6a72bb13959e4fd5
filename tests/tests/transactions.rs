//! Batches and transactions through aws-sdk-dynamodb: BatchWriteItem / BatchGetItem
//! round trips, TransactionCanceledException with its CancellationReasons as the SDK
//! parses them, and ClientRequestToken replays.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, KeysAndAttributes, PutRequest,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::{create_pk_table, ddb_test, TestServer};

async fn table(client: &Client) -> String {
    create_pk_table(client, "tx", None).await
}

fn key(pk: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([("pk".to_string(), AttributeValue::S(pk.to_string()))])
}

fn add_one(table: &str, pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(table)
                .set_key(Some(key(pk)))
                .update_expression("ADD n :one")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .build()
                .unwrap(),
        )
        .build()
}

ddb_test!(batch_write_then_batch_get, |mode| async move {
    let server = TestServer::start(mode).await;
    let client = server.client();
    let t = table(&client).await;
    let writes: Vec<WriteRequest> = (0..25)
        .map(|i| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(key(&format!("k{i}"))))
                        .build()
                        .unwrap(),
                )
                .build()
        })
        .collect();
    let out = client
        .batch_write_item()
        .request_items(&t, writes)
        .send()
        .await
        .unwrap();
    assert_eq!(out.unprocessed_items().map(HashMap::len), Some(0));
    let keys = KeysAndAttributes::builder()
        .set_keys(Some((0..30).map(|i| key(&format!("k{i}"))).collect()))
        .consistent_read(true)
        .build()
        .unwrap();
    let got = client
        .batch_get_item()
        .request_items(&t, keys)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.responses().and_then(|r| r.get(&t)).map(Vec::len),
        Some(25)
    );
    assert_eq!(got.unprocessed_keys().map(HashMap::len), Some(0));
});

ddb_test!(
    cancellation_reasons_reach_the_sdk_and_tokens_replay,
    |mode| async move {
        let server = TestServer::start(mode).await;
        let client = server.client();
        let t = table(&client).await;
        client
            .put_item()
            .table_name(&t)
            .set_item(Some(key("taken")))
            .send()
            .await
            .unwrap();
        let check = TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&t)
                    .set_key(Some(key("taken")))
                    .condition_expression("attribute_not_exists(pk)")
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .unwrap(),
            )
            .build();
        let err = client
            .transact_write_items()
            .transact_items(add_one(&t, "c"))
            .transact_items(check)
            .send()
            .await
            .err()
            .map(|e| e.into_service_error());
        let Some(TransactWriteItemsError::TransactionCanceledException(e)) = err else {
            panic!("expected TransactionCanceledException, got {err:?}");
        };
        let reasons = e.cancellation_reasons();
        assert_eq!(reasons.len(), 2);
        assert_eq!(reasons[0].code(), Some("None"));
        assert_eq!(reasons[0].message(), None);
        assert_eq!(reasons[1].code(), Some("ConditionalCheckFailed"));
        assert_eq!(reasons[1].item().map(|i| i.contains_key("pk")), Some(true));

        for _ in 0..3 {
            client
                .transact_write_items()
                .client_request_token("same-token")
                .transact_items(add_one(&t, "c"))
                .send()
                .await
                .unwrap();
        }
        let n = client
            .get_item()
            .table_name(&t)
            .set_key(Some(key("c")))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        assert_eq!(
            n.item().and_then(|i| i.get("n")),
            Some(&AttributeValue::N("1".into()))
        );
        let mismatch = client
            .transact_write_items()
            .client_request_token("same-token")
            .transact_items(add_one(&t, "d"))
            .send()
            .await
            .err()
            .map(|e| e.into_service_error());
        assert!(
            matches!(
                mismatch,
                Some(TransactWriteItemsError::IdempotentParameterMismatchException(_))
            ),
            "{mismatch:?}"
        );
    }
);
