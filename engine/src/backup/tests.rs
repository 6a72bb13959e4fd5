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
    for _ in 0..60_000 {
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

/// Figures for the README (run by hand: `cargo test -p daxlite-engine --release
/// measure_backup_restore_export_import -- --ignored --nocapture`; ITEMS=n to size it).
#[tokio::test]
#[ignore]
async fn measure_backup_restore_export_import() {
    use std::time::Instant;
    let n: usize = std::env::var("ITEMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    std::fs::create_dir(exports.path().join("bkt")).unwrap();
    let config = EngineConfig {
        backend: Backend::Dir(dir.path().to_path_buf()),
        export_root: exports.path().to_path_buf(),
        ..EngineConfig::default()
    };
    let e = Engine::open(config).unwrap();
    ok(
        &e,
        Operation::CreateTable,
        json!({"TableName": "big",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"}),
    )
    .await;
    ok(
        &e,
        Operation::UpdateContinuousBackups,
        json!({"TableName": "big",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true}}),
    )
    .await;
    let ctx = e.ctx().clone();
    let pad = "x".repeat(200);
    let t = Instant::now();
    for start in (0..n).step_by(10_000) {
        let pad = pad.clone();
        let now = ctx.now_ms();
        ctx.store
            .write(move |txn| {
                let def = catalog::load_for_write(txn, "big")?.unwrap();
                for i in start..(start + 10_000).min(n) {
                    let item = crate::model::value::decode_item(
                        &json!({"pk": {"S": format!("k{i:08}")}, "v": {"S": pad}, "n": {"N": i.to_string()}}),
                        &mut crate::model::value::Deferred::new(),
                    )
                    .unwrap();
                    let key = crate::keys::key_from_item(&def, &item)?;
                    crate::write::on_write(txn, &def, &key.storage, None, Some(&Stored::encode(&item)),
                        &crate::streams::Origin::caller(now))?;
                }
                Ok(())
            })
            .await
            .unwrap();
    }
    let bytes = {
        let txn = ctx.store.read().unwrap();
        let def = catalog::load(&txn, "big").unwrap().unwrap();
        catalog::stats(&txn, def.id).unwrap().bytes
    };
    println!("loaded {n} items ({bytes} bytes) in {:?}", t.elapsed());

    let t = Instant::now();
    let out = ok(
        &e,
        Operation::CreateBackup,
        json!({"TableName": "big", "BackupName": "bkp"}),
    )
    .await;
    println!("CreateBackup answered in {:?}", t.elapsed());
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
    let s = t.elapsed().as_secs_f64();
    println!(
        "backup AVAILABLE after {s:.2}s: {:.0} items/s, {:.1} MB/s",
        n as f64 / s,
        bytes as f64 / 1e6 / s
    );

    let t = Instant::now();
    ok(
        &e,
        Operation::RestoreTableFromBackup,
        json!({"TargetTableName": "copy", "BackupArn": arn}),
    )
    .await;
    wait(|| {
        let e = e.clone();
        async move {
            let d = ok(&e, Operation::DescribeTable, json!({"TableName": "copy"})).await;
            d["Table"]["TableStatus"] == "ACTIVE"
        }
    })
    .await;
    let s = t.elapsed().as_secs_f64();
    println!("restore ACTIVE after {s:.2}s: {:.0} items/s", n as f64 / s);

    let t = Instant::now();
    let out = ok(
        &e,
        Operation::ExportTableToPointInTime,
        json!({
        "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/big", "S3Bucket": "bkt"}),
    )
    .await;
    let export = out["ExportDescription"]["ExportArn"]
        .as_str()
        .unwrap()
        .to_string();
    wait(|| {
        let (e, export) = (e.clone(), export.clone());
        async move {
            let d = ok(&e, Operation::DescribeExport, json!({"ExportArn": export})).await;
            d["ExportDescription"]["ExportStatus"] != "IN_PROGRESS"
        }
    })
    .await;
    let s = t.elapsed().as_secs_f64();
    println!(
        "export COMPLETED after {s:.2}s: {:.1} MB/s of items",
        bytes as f64 / 1e6 / s
    );

    let id = export.rsplit('/').next().unwrap();
    let t = Instant::now();
    let out = ok(
        &e,
        Operation::ImportTable,
        json!({"ClientToken": "t", "InputFormat": "DYNAMODB_JSON",
        "InputCompressionType": "GZIP",
        "S3BucketSource": {"S3Bucket": "bkt", "S3KeyPrefix": format!("AWSDynamoDB/{id}/data/")},
        "TableCreationParameters": {"TableName": "imported", "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}}),
    )
    .await;
    let import = out["ImportTableDescription"]["ImportArn"]
        .as_str()
        .unwrap()
        .to_string();
    wait(|| {
        let (e, import) = (e.clone(), import.clone());
        async move {
            let d = ok(&e, Operation::DescribeImport, json!({"ImportArn": import})).await;
            d["ImportTableDescription"]["ImportStatus"] != "IN_PROGRESS"
        }
    })
    .await;
    let s = t.elapsed().as_secs_f64();
    println!(
        "import COMPLETED after {s:.2}s: {:.0} items/s",
        n as f64 / s
    );
    e.close();
}
