//! Helpers shared by the backup, PITR, export, import and S3 tests (a module of each:
//! every test file is its own crate).

use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BackupStatus, PointInTimeRecoverySpecification, TableStatus,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::create_pk_table;

pub async fn put(c: &Client, table: &str, pk: &str, v: &str) {
    c.put_item()
        .table_name(table)
        .item("pk", AV::S(pk.into()))
        .item("v", AV::S(v.into()))
        .send()
        .await
        .unwrap();
}

/// The items of a table as (pk, v), sorted.
pub async fn items(c: &Client, table: &str) -> Vec<(String, String)> {
    let out = c.scan().table_name(table).send().await.unwrap();
    let mut got: Vec<(String, String)> = out
        .items()
        .iter()
        .map(|i| {
            let s = |k: &str| {
                i.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            (s("pk"), s("v"))
        })
        .collect();
    got.sort();
    got
}

/// Waits until a backup is AVAILABLE.
pub async fn wait_available(c: &Client, arn: &str) {
    for _ in 0..500 {
        let d = c.describe_backup().backup_arn(arn).send().await.unwrap();
        let status = d
            .backup_description()
            .and_then(|b| b.backup_details())
            .map(|b| b.backup_status().clone());
        if status == Some(BackupStatus::Available) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("backup {arn} never became AVAILABLE");
}

/// Waits until a table is ACTIVE; answers its description.
pub async fn wait_active(c: &Client, table: &str) -> aws_sdk_dynamodb::types::TableDescription {
    for _ in 0..500 {
        let d = c.describe_table().table_name(table).send().await.unwrap();
        let t = d.table().unwrap().clone();
        if t.table_status() == Some(&TableStatus::Active) {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("table {table} never became ACTIVE");
}

/// The ARN of `table` in the test engine's account and region.
pub fn arn_of(table: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}")
}

/// A new table (`create_pk_table`) with point-in-time recovery on.
pub async fn pitr_table(c: &Client, prefix: &str) -> String {
    let table = create_pk_table(c, prefix, None).await;
    c.update_continuous_backups()
        .table_name(&table)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    table
}

/// An import whose bucket does not exist: FAILED with S3NoSuchBucket and AWS's message,
/// nothing imported, and no table `table` left behind.
pub async fn assert_no_bucket_import(
    c: &Client,
    done: &aws_sdk_dynamodb::types::ImportTableDescription,
    table: &str,
) {
    use aws_sdk_dynamodb::types::ImportStatus;
    assert_eq!(done.import_status(), Some(&ImportStatus::Failed));
    assert_eq!(done.failure_code(), Some("S3NoSuchBucket"));
    assert!(done
        .failure_message()
        .unwrap()
        .starts_with("The specified bucket does not exist"));
    assert_eq!(done.imported_item_count(), 0);
    let err = c
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        daxlite_tests::error_parts(&err).0,
        "ResourceNotFoundException"
    );
}
