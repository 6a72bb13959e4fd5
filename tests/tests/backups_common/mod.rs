//! Helpers shared by backups.rs and pitr.rs (a module of each: every test file is its
//! own crate).

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue as AV, BackupStatus, TableStatus};
use aws_sdk_dynamodb::Client;

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
