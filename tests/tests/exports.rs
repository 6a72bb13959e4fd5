//! ExportTableToPointInTime, DescribeExport and ListExports through aws-sdk-dynamodb
//! against the real server, with the export root in a temporary folder: the exact
//! errors, a missing bucket failing the export, AWS's layout checked file by file
//! (checksums, manifests, item lines), an export at a past time, ClientToken idempotency
//! and paging.

#[allow(dead_code)]
mod backups_common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeValue as AV, ExportFormat, ExportStatus, PointInTimeRecoverySpecification,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_types::DateTime;
use backups_common::put;
use daxlite_engine::clock::ManualClock;
use daxlite_tests::{create_pk_table, ddb_test, error_parts, Mode, TestServer};
use md5::{Digest, Md5};

const T0: i64 = 1_700_000_000_000;

async fn start(mode: Mode, root: &Path, clock: Option<ManualClock>) -> TestServer {
    let mut config = mode.config();
    config.engine.export_root = root.to_path_buf();
    TestServer::start_with(config, clock).await
}

fn arn_of(table: &str) -> String {
    format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}")
}

async fn pitr_table(c: &Client, prefix: &str) -> String {
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

async fn wait_done(c: &Client, arn: &str) -> aws_sdk_dynamodb::types::ExportDescription {
    for _ in 0..500 {
        let d = c.describe_export().export_arn(arn).send().await.unwrap();
        let d = d.export_description().unwrap().clone();
        if d.export_status() != Some(&ExportStatus::InProgress) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("export {arn} never finished");
}

fn b64(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(bytes)
}

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}

/// Every file under `dir`, as paths relative to it.
fn files(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

ddb_test!(export_errors_are_exact, |mode| async move {
    let root = tempfile::tempdir().unwrap();
    let server = start(mode, root.path(), None).await;
    let c = server.client();
    let table = create_pk_table(&c, "exp-off", None).await;
    let err = c
        .export_table_to_point_in_time()
        .table_arn(arn_of(&table))
        .s3_bucket("bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "PointInTimeRecoveryUnavailableException".to_string(),
            format!("Point in time recovery is not enabled for table '{table}'")
        )
    );
    let missing = arn_of("no-such-table");
    let err = c
        .export_table_to_point_in_time()
        .table_arn(&missing)
        .s3_bucket("bucket")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "TableNotFoundException".to_string(),
            format!("Table not found: {missing}")
        )
    );
    let err = c
        .describe_export()
        .export_arn(arn_of(&table))
        .send()
        .await
        .unwrap_err();
    let (code, message) = error_parts(&err);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("Invalid Export ARN"), "{message}");
    let r = daxlite_tests::call(
        server.addr,
        "DynamoDB_20120810.ExportTableToPointInTime",
        &format!(
            r#"{{"TableArn":"{}","S3Bucket":"bucket","ExportFormat":"QWERTY"}}"#,
            arn_of(&table)
        ),
    )
    .await;
    daxlite_tests::assert_error(
        &r,
        400,
        "com.amazon.coral.validate#ValidationException",
        Some("1 validation error detected: Value 'QWERTY' at 'exportFormat' failed to satisfy constraint: Member must satisfy enum value set: [ION, DYNAMODB_JSON]"),
    );
    server.stop().await;
});

ddb_test!(a_missing_bucket_fails_the_export, |mode| async move {
    let root = tempfile::tempdir().unwrap();
    let server = start(mode, root.path(), None).await;
    let c = server.client();
    let table = pitr_table(&c, "exp-nobucket").await;
    let out = c
        .export_table_to_point_in_time()
        .table_arn(arn_of(&table))
        .s3_bucket("no-such-bucket")
        .send()
        .await
        .unwrap();
    let d = out.export_description().unwrap();
    assert_eq!(d.export_status(), Some(&ExportStatus::InProgress));
    let arn = d.export_arn().unwrap().to_string();
    let done = wait_done(&c, &arn).await;
    assert_eq!(done.export_status(), Some(&ExportStatus::Failed));
    assert_eq!(done.failure_code(), Some("S3NoSuchBucket"));
    assert!(done
        .failure_message()
        .unwrap()
        .contains("The specified bucket does not exist"));
    let listed = c
        .list_exports()
        .table_arn(arn_of(&table))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.export_summaries().len(), 1);
    assert_eq!(
        listed.export_summaries()[0].export_status(),
        Some(&ExportStatus::Failed)
    );
    server.stop().await;
});

ddb_test!(a_full_export_has_aws_layout, |mode| async move {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bucket")).unwrap();
    let server = start(mode, root.path(), None).await;
    let c = server.client();
    let table = pitr_table(&c, "exp-full").await;
    for i in 0..30 {
        put(&c, &table, &format!("k{i}"), "v").await;
    }
    c.put_item()
        .table_name(&table)
        .item("pk", AV::S("bin".into()))
        .item(
            "b",
            AV::B(aws_smithy_types::Blob::new(vec![0u8, 1, 2, 255])),
        )
        .send()
        .await
        .unwrap();
    let out = c
        .export_table_to_point_in_time()
        .table_arn(arn_of(&table))
        .s3_bucket("bucket")
        .s3_prefix("exports/run1")
        .send()
        .await
        .unwrap();
    let d = out.export_description().unwrap();
    assert!(
        d.export_type().is_none(),
        "no ExportType asked, none answered"
    );
    let arn = d.export_arn().unwrap().to_string();
    let done = wait_done(&c, &arn).await;
    assert_eq!(
        done.export_status(),
        Some(&ExportStatus::Completed),
        "{done:?}"
    );
    assert_eq!(done.item_count(), Some(31));
    let id = arn.rsplit('/').next().unwrap();
    let base = format!("exports/run1/AWSDynamoDB/{id}");
    assert_eq!(
        done.export_manifest(),
        Some(format!("{base}/manifest-summary.json").as_str())
    );
    let bucket: PathBuf = root.path().join("bucket");
    let all = files(&bucket);
    let kinds: Vec<String> = all
        .iter()
        .map(|f| {
            let rest = f
                .strip_prefix(&format!("{base}/"))
                .unwrap_or_else(|| panic!("{f}"));
            if rest.starts_with("data/") {
                assert!(rest.ends_with(".json.gz"), "{rest}");
                "data".to_string()
            } else {
                rest.to_string()
            }
        })
        .collect();
    let mut distinct = kinds.clone();
    distinct.dedup();
    assert_eq!(
        distinct,
        [
            "_started",
            "data",
            "manifest-files.json",
            "manifest-files.md5",
            "manifest-summary.json",
            "manifest-summary.md5"
        ]
    );
    let read = |key: &str| std::fs::read(bucket.join(key)).unwrap();
    assert!(read(&format!("{base}/_started")).is_empty());
    let files_json = read(&format!("{base}/manifest-files.json"));
    let summary_json = read(&format!("{base}/manifest-summary.json"));
    assert_eq!(
        String::from_utf8(read(&format!("{base}/manifest-files.md5"))).unwrap(),
        b64(&Md5::digest(&files_json))
    );
    assert_eq!(
        String::from_utf8(read(&format!("{base}/manifest-summary.md5"))).unwrap(),
        b64(&Md5::digest(&summary_json))
    );
    let summary: serde_json::Value = serde_json::from_slice(&summary_json).unwrap();
    assert_eq!(summary["version"], "2020-06-30");
    assert_eq!(summary["exportArn"], arn.as_str());
    assert_eq!(summary["tableArn"], arn_of(&table).as_str());
    assert_eq!(summary["s3Bucket"], "bucket");
    assert_eq!(summary["s3Prefix"], "exports/run1");
    assert_eq!(summary["itemCount"], 31);
    assert_eq!(summary["outputFormat"], "DYNAMODB_JSON");
    let files_key = summary["manifestFilesS3Key"].as_str().unwrap();
    assert_eq!(
        read(files_key),
        files_json,
        "manifestFilesS3Key resolves from the bucket root"
    );
    assert!(summary["exportTime"].as_str().unwrap().ends_with('Z'));

    let mut total = 0;
    let mut lines = Vec::new();
    for line in String::from_utf8(files_json).unwrap().lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let data = read(entry["dataFileS3Key"].as_str().unwrap());
        assert_eq!(entry["md5Checksum"], b64(&Md5::digest(&data)).as_str());
        assert_eq!(entry["etag"], hex::encode(Md5::digest(&data)).as_str());
        let text = gunzip(&data);
        assert_eq!(
            text.lines().count() as u64,
            entry["itemCount"].as_u64().unwrap()
        );
        total += entry["itemCount"].as_u64().unwrap();
        lines.extend(text.lines().map(String::from));
    }
    assert_eq!(total, 31);
    let bin = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["Item"]["pk"]["S"] == "bin")
        .unwrap();
    assert_eq!(bin["Item"]["b"]["B"], b64(&[0u8, 1, 2, 255]).as_str());
    server.stop().await;
});

ddb_test!(
    exports_at_a_past_time_tokens_and_paging,
    |mode| async move {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("bucket")).unwrap();
        let clock = ManualClock::new(T0);
        let server = start(mode, root.path(), Some(clock.clone())).await;
        let c = server.client();
        let table = pitr_table(&c, "exp-past").await;
        clock.advance(1_000);
        put(&c, &table, "a", "1").await;
        clock.advance(1_000);
        let t = T0 + 2_000;
        clock.advance(1_000);
        put(&c, &table, "b", "2").await;
        c.delete_item()
            .table_name(&table)
            .key("pk", AV::S("a".into()))
            .send()
            .await
            .unwrap();
        clock.advance(1_000);

        let export = |token: &str, format: ExportFormat| {
            c.export_table_to_point_in_time()
                .table_arn(arn_of(&table))
                .s3_bucket("bucket")
                .export_time(DateTime::from_millis(t))
                .export_format(format)
                .client_token(token)
                .send()
        };
        let first = export("tok-1", ExportFormat::DynamodbJson).await.unwrap();
        let arn = first
            .export_description()
            .unwrap()
            .export_arn()
            .unwrap()
            .to_string();
        let done = wait_done(&c, &arn).await;
        assert_eq!(
            done.export_status(),
            Some(&ExportStatus::Completed),
            "{done:?}"
        );
        assert_eq!(done.item_count(), Some(1), "the state at t: only a");
        assert_eq!(done.export_time(), Some(&DateTime::from_millis(t)));
        // The same token and parameters: the same export. Other parameters: a conflict.
        let again = export("tok-1", ExportFormat::DynamodbJson).await.unwrap();
        assert_eq!(
            again.export_description().unwrap().export_arn(),
            Some(arn.as_str())
        );
        let err = export("tok-1", ExportFormat::Ion).await.unwrap_err();
        let (code, message) = error_parts(&err);
        assert_eq!(code, "ExportConflictException");
        assert!(
            message.starts_with("Duplicate request detected"),
            "{message}"
        );
        let err = c
            .export_table_to_point_in_time()
            .table_arn(arn_of(&table))
            .s3_bucket("bucket")
            .export_time(DateTime::from_millis(T0 - 1_000))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error_parts(&err),
            (
                "InvalidExportTimeException".to_string(),
                "Export Time is invalid".to_string()
            )
        );

        let second = export("tok-2", ExportFormat::DynamodbJson).await.unwrap();
        let second = second
            .export_description()
            .unwrap()
            .export_arn()
            .unwrap()
            .to_string();
        wait_done(&c, &second).await;
        // Newest first, one per page; FULL_EXPORT shown though no request named it.
        let page = c
            .list_exports()
            .table_arn(arn_of(&table))
            .max_results(1)
            .send()
            .await
            .unwrap();
        assert_eq!(page.export_summaries().len(), 1);
        assert_eq!(
            page.export_summaries()[0].export_arn(),
            Some(second.as_str())
        );
        assert_eq!(
            page.export_summaries()[0].export_type().map(|t| t.as_str()),
            Some("FULL_EXPORT")
        );
        let token = page.next_token().unwrap().to_string();
        let page = c
            .list_exports()
            .table_arn(arn_of(&table))
            .max_results(1)
            .next_token(token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.export_summaries()[0].export_arn(), Some(arn.as_str()));
        assert!(page.next_token().is_none());
        server.stop().await;
    }
);
