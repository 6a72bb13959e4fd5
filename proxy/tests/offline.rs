//! `daxlite export` and `daxlite import` on a data directory, as users run them: a table
//! written by the engine, exported by the binary (AWS's layout in the export root, even
//! with PITR off), imported back by the binary into a new table with the same items, and
//! the exit codes of a missing table and a missing bucket.

#![allow(clippy::unwrap_used)] // test helpers: a failed call is a failed test

use std::path::Path;
use std::process::{Command, Output};

use daxlite_engine::wire::Operation;
use daxlite_engine::{Backend, Engine, EngineConfig};
use serde_json::{json, Value};

fn daxlite(data: &Path, exports: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_daxlite"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("DAXLITE_EXPORT_ROOT", exports)
        .env("DAXLITE_LOG", "info")
        .env_remove("DAXLITE_EXPORT_S3_ENDPOINT")
        .env_remove("DAXLITE_EXPORT_STORE")
        .output()
        .unwrap()
}

fn engine(data: &Path) -> Engine {
    Engine::open(EngineConfig {
        backend: Backend::Dir(data.to_path_buf()),
        ..EngineConfig::default()
    })
    .unwrap()
}

async fn call(e: &Engine, op: Operation, body: Value) -> Value {
    let out = e.call(op, body.to_string().as_bytes()).await.unwrap();
    serde_json::from_slice(&out).unwrap()
}

async fn scan(e: &Engine, table: &str) -> Vec<String> {
    let out = call(e, Operation::Scan, json!({ "TableName": table })).await;
    let mut items: Vec<String> = out["Items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let sorted: std::collections::BTreeMap<_, _> = i.as_object().unwrap().iter().collect();
            format!("{sorted:?}")
        })
        .collect();
    items.sort();
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_then_import_on_a_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    std::fs::create_dir(exports.path().join("bkt")).unwrap();
    let keys = json!({
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    });
    {
        let e = engine(data.path());
        let mut create = keys.clone();
        create["TableName"] = json!("Orders");
        call(&e, Operation::CreateTable, create).await;
        for i in 0..120 {
            call(
                &e,
                Operation::PutItem,
                json!({"TableName": "Orders", "Item": {
                    "pk": {"S": format!("o{i}")}, "n": {"N": i.to_string()},
                    "tags": {"SS": ["a", "b"]}, "raw": {"B": "AAH+/w=="}}}),
            )
            .await;
        }
        e.close();
    }

    let out = daxlite(
        data.path(),
        exports.path(),
        &[
            "export", "--table", "Orders", "--bucket", "bkt", "--prefix", "nightly",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &answer["ExportDescription"];
    assert_eq!(d["ExportStatus"], "COMPLETED", "{answer}");
    assert_eq!(d["ItemCount"], 120);
    assert!(stderr.contains("export completed"), "{stderr}");
    let id = d["ExportArn"].as_str().unwrap().rsplit('/').next().unwrap();
    let base = exports.path().join(format!("bkt/nightly/AWSDynamoDB/{id}"));
    for f in [
        "_started",
        "manifest-files.json",
        "manifest-summary.json",
        "manifest-summary.md5",
    ] {
        assert!(base.join(f).is_file(), "{f}");
    }
    let summary: Value =
        serde_json::from_slice(&std::fs::read(base.join("manifest-summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["itemCount"], 120);

    let mut params = keys.clone();
    params["TableName"] = json!("Orders-copy");
    let prefix = format!("nightly/AWSDynamoDB/{id}/data/");
    let out = daxlite(
        data.path(),
        exports.path(),
        &[
            "import",
            "--bucket",
            "bkt",
            "--prefix",
            &prefix,
            "--compression",
            "GZIP",
            "--table-creation-parameters",
            &params.to_string(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &answer["ImportTableDescription"];
    assert_eq!(d["ImportStatus"], "COMPLETED", "{answer}");
    assert_eq!(d["ImportedItemCount"], 120);

    let e = engine(data.path());
    assert_eq!(scan(&e, "Orders-copy").await, scan(&e, "Orders").await);
    e.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_exit_non_zero() {
    let data = tempfile::tempdir().unwrap();
    let exports = tempfile::tempdir().unwrap();
    let out = daxlite(
        data.path(),
        exports.path(),
        &["export", "--table", "Nope", "--bucket", "bkt"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TableNotFoundException: Table not found: Nope"),
        "{stderr}"
    );

    let params = json!({"TableName": "Tbl",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST"});
    let out = daxlite(
        data.path(),
        exports.path(),
        &[
            "import",
            "--bucket",
            "no-such-bucket",
            "--table-creation-parameters",
            &params.to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        answer["ImportTableDescription"]["FailureCode"],
        "S3NoSuchBucket"
    );
}
