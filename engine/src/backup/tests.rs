//! Crash recovery of backups and restores: an engine reopened on a data file holding a
//! backup still CREATING and a half-loaded restore removes the one and finishes the other.

use serde_json::json;

use crate::api::testkit::{fail, ok};
use crate::catalog::{self, RestoreInfo};
use crate::storage::items::Stored;
use crate::wire::Operation;
use crate::{Backend, Engine, EngineConfig};

async fn wait<F, Fut>(mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if done().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out");
}

#[tokio::test]
async fn reopening_finishes_interrupted_restores_and_drops_unfinished_backups() {
    let dir = tempfile::tempdir().unwrap();
    let config = EngineConfig {
        backend: Backend::Dir(dir.path().to_path_buf()),
        ..EngineConfig::default()
    };
    let e = Engine::open(config.clone()).unwrap();
    ok(
        &e,
        Operation::CreateTable,
        json!({"TableName": "src",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"}),
    )
    .await;
    for i in 0..50 {
        ok(
            &e,
            Operation::PutItem,
            json!({"TableName": "src", "Item": {"pk": {"S": format!("k{i}")}}}),
        )
        .await;
    }
    let out = ok(
        &e,
        Operation::CreateBackup,
        json!({"TableName": "src", "BackupName": "bkp"}),
    )
    .await;
    let arn = out["BackupDetails"]["BackupArn"]
        .as_str()
        .unwrap()
        .to_string();
    wait(|| {
        let (e, arn) = (e.clone(), arn.clone());
        async move {
            let d = ok(&e, Operation::DescribeBackup, json!({"BackupArn": arn})).await;
            d["BackupDescription"]["BackupDetails"]["BackupStatus"] == "AVAILABLE"
        }
    })
    .await;

    // What a crash would leave: a half-loaded restore (one stray item, CREATING) and a
    // backup still CREATING.
    let ctx = e.ctx().clone();
    let stuck_backup = ctx
        .store
        .write({
            let arn = arn.clone();
            move |txn| {
                let mut def = catalog::load_for_write(txn, "src")?.unwrap();
                def.name = "half".into();
                def.id = catalog::next_table_id(txn)?;
                def.active_at_ms = i64::MAX;
                def.restore = Some(RestoreInfo {
                    source_backup_arn: Some(arn.clone()),
                    source_table_arn: "arn:aws:dynamodb:us-east-1:000000000000:table/src".into(),
                    restore_ms: 0,
                    in_progress: true,
                });
                catalog::save(txn, &def)?;
                let item = crate::model::value::decode_item(
                    &json!({"pk": {"S": "stray"}}),
                    &mut crate::model::value::Deferred::new(),
                )
                .unwrap();
                let key = crate::keys::key_from_item(&def, &item)?;
                crate::storage::items::put(txn, &key.storage, &Stored::encode(&item))?;
                let id = super::id_of_arn(&arn).unwrap();
                let mut meta = super::load_for_write(txn, id)?.unwrap();
                meta.id = super::new_id(1);
                meta.arn = super::arn("us-east-1", "000000000000", "src", &meta.id);
                meta.status = super::BackupStatus::Creating;
                super::save(txn, &meta)?;
                Ok(meta.arn)
            }
        })
        .await
        .unwrap();
    drop(ctx);
    e.close();
    drop(e);

    let e = Engine::open(config).unwrap();
    wait(|| {
        let e = e.clone();
        async move {
            let d = ok(&e, Operation::DescribeTable, json!({"TableName": "half"})).await;
            d["Table"]["TableStatus"] == "ACTIVE"
        }
    })
    .await;
    let scan = ok(&e, Operation::Scan, json!({"TableName": "half"})).await;
    assert_eq!(scan["Count"], 50, "{scan}");
    assert!(!scan.to_string().contains("stray"));
    let (kind, _, _) = fail(
        &e,
        Operation::DescribeBackup,
        json!({"BackupArn": stuck_backup}),
    )
    .await;
    assert_eq!(
        kind,
        "com.amazonaws.dynamodb.v20120810#BackupNotFoundException"
    );
    e.close();
}
