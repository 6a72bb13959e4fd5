//! ExportTableToPointInTime, DescribeExport and ListExports through aws-sdk-dynamodb
//! against the real server, with the export root in a temporary folder: the exact
//! errors, a missing bucket failing the export, AWS's layout checked file by file
//! (checksums, manifests, item lines), an export at a past time, ClientToken idempotency
//! and paging.

#[allow(dead_code)]
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backups_common::{arn_of, pitr_table, put};
use aws_sdk_dynamodb::types::{AttributeValue as AV, ExportFormat, ExportStatus};
use aws_sdk_dynamodb::Client;
use aws_smithy_types::DateTime;
use daxlite_engine::clock::ManualClock;
use daxlite_tests::{create_pk_table, ddb_test, error_parts, Mode, TestServer};
use md5::{Digest, Md5};

const T0: i64 = 1_700_000_000_000;

async fn start(mode: Mode, root: &Path, clock: Option<ManualClock>) -> TestServer {
    let mut config = mode.config();
    config.engine.export_root = root.to_path_buf();
    TestServer::start_with(config, clock).await
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

/// The gunzipped lines of every data file an export's manifest lists.
fn export_lines(bucket: &Path, manifest_summary_key: &str) -> Vec<serde_json::Value> {
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bucket.join(manifest_summary_key)).unwrap()).unwrap();
    let files =
        std::fs::read_to_string(bucket.join(summary["manifestFilesS3Key"].as_str().unwrap()))
            .unwrap();
    let mut out = Vec::new();
    for line in files.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = entry["dataFileS3Key"].as_str().unwrap();
        assert!(key.starts_with("inc/AWSDynamoDB/data/"), "{key}");
        let text = gunzip(&std::fs::read(bucket.join(key)).unwrap());
        out.extend(
            text.lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()),
        );
    }
    out.sort_by_key(|v| {
        v["Keys"]["pk"]["S"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    });
    out
}

ddb_test!(
    an_incremental_export_has_one_line_per_changed_key,
    |mode| async move {
        use aws_sdk_dynamodb::types::{ExportType, ExportViewType, IncrementalExportSpecification};
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("bucket")).unwrap();
        let clock = ManualClock::new(T0);
        let server = start(mode, root.path(), Some(clock.clone())).await;
        let c = server.client();
        let table = pitr_table(&c, "exp-inc").await;
        clock.advance(1_000);
        put(&c, &table, "keep", "old").await;
        put(&c, &table, "gone", "x").await;
        let from = T0 + 2_000;
        clock.advance(2_000);
        put(&c, &table, "ins", "new").await;
        put(&c, &table, "keep", "new").await;
        put(&c, &table, "tmp", "t").await;
        c.delete_item()
            .table_name(&table)
            .key("pk", AV::S("tmp".into()))
            .send()
            .await
            .unwrap();
        c.delete_item()
            .table_name(&table)
            .key("pk", AV::S("gone".into()))
            .send()
            .await
            .unwrap();
        clock.advance(20 * 60_000);
        let to = T0 + 20 * 60_000;

        let export = |view: ExportViewType, from: i64, to: i64| {
            c.export_table_to_point_in_time()
                .table_arn(arn_of(&table))
                .s3_bucket("bucket")
                .s3_prefix("inc")
                .export_type(ExportType::IncrementalExport)
                .incremental_export_specification(
                    IncrementalExportSpecification::builder()
                        .export_from_time(DateTime::from_millis(from))
                        .export_to_time(DateTime::from_millis(to))
                        .export_view_type(view)
                        .build(),
                )
                .send()
        };
        let err = export(ExportViewType::NewImage, from, from + 2_000)
            .await
            .unwrap_err();
        assert_eq!(
        error_parts(&err),
        (
            "InvalidExportTimeException".to_string(),
            "Difference between export period from time and export period to time is less than 15 minutes".to_string()
        )
    );

        let out = export(ExportViewType::NewAndOldImages, from, to)
            .await
            .unwrap();
        let d = out.export_description().unwrap();
        assert_eq!(
            d.export_type().map(|t| t.as_str()),
            Some("INCREMENTAL_EXPORT")
        );
        assert!(d.export_time().is_none());
        let done = wait_done(&c, d.export_arn().unwrap()).await;
        assert_eq!(
            done.export_status(),
            Some(&ExportStatus::Completed),
            "{done:?}"
        );
        assert_eq!(done.item_count(), Some(3));
        let bucket = root.path().join("bucket");
        let lines = export_lines(&bucket, done.export_manifest().unwrap());
        let summary: serde_json::Value = serde_json::from_slice(
            &std::fs::read(bucket.join(done.export_manifest().unwrap())).unwrap(),
        )
        .unwrap();
        assert_eq!(summary["exportType"], "INCREMENTAL_EXPORT");
        assert_eq!(summary["outputView"], "NEW_AND_OLD_IMAGES");
        let s = |v: &serde_json::Value, img: &str| v[img]["v"]["S"].as_str().map(String::from);
        // gone: deleted (OldImage only); ins: inserted (NewImage only); keep: both.
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0]["Keys"], serde_json::json!({"pk": {"S": "gone"}}));
        assert_eq!(
            (s(&lines[0], "OldImage"), lines[0].get("NewImage").is_none()),
            (Some("x".into()), true)
        );
        assert_eq!(
            (s(&lines[1], "NewImage"), lines[1].get("OldImage").is_none()),
            (Some("new".into()), true)
        );
        assert_eq!(
            (s(&lines[2], "OldImage"), s(&lines[2], "NewImage")),
            (Some("old".into()), Some("new".into()))
        );
        assert_eq!(
            lines[2]["Metadata"]["WriteTimestampMicros"]["N"],
            ((T0 + 3_000) * 1000).to_string().as_str()
        );

        let out = export(ExportViewType::NewImage, from, to).await.unwrap();
        let done = wait_done(&c, out.export_description().unwrap().export_arn().unwrap()).await;
        let lines = export_lines(&bucket, done.export_manifest().unwrap());
        assert_eq!(
            lines[0],
            serde_json::json!({"Metadata": lines[0]["Metadata"].clone(), "Keys": {"pk": {"S": "gone"}}})
        );
        assert!(lines[2].get("OldImage").is_none());
        server.stop().await;
    }
);

ddb_test!(an_ion_export_writes_ion_lines, |mode| async move {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bucket")).unwrap();
    let server = start(mode, root.path(), None).await;
    let c = server.client();
    let table = pitr_table(&c, "exp-ion").await;
    c.put_item()
        .table_name(&table)
        .item("pk", AV::S("a".into()))
        .item("n", AV::N("103".into()))
        .item("ss", AV::Ss(vec!["x".into()]))
        .send()
        .await
        .unwrap();
    let out = c
        .export_table_to_point_in_time()
        .table_arn(arn_of(&table))
        .s3_bucket("bucket")
        .export_format(ExportFormat::Ion)
        .send()
        .await
        .unwrap();
    let done = wait_done(&c, out.export_description().unwrap().export_arn().unwrap()).await;
    assert_eq!(
        done.export_status(),
        Some(&ExportStatus::Completed),
        "{done:?}"
    );
    assert_eq!(done.export_format(), Some(&ExportFormat::Ion));
    let bucket = root.path().join("bucket");
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(bucket.join(done.export_manifest().unwrap())).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["outputFormat"], "ION");
    let files =
        std::fs::read_to_string(bucket.join(summary["manifestFilesS3Key"].as_str().unwrap()))
            .unwrap();
    let entry: serde_json::Value = serde_json::from_str(files.lines().next().unwrap()).unwrap();
    let key = entry["dataFileS3Key"].as_str().unwrap();
    assert!(key.ends_with(".ion.gz"), "{key}");
    let text = gunzip(&std::fs::read(bucket.join(key)).unwrap());
    assert_eq!(
        text,
        "$ion_1_0 {Item:{\"n\":103.,\"pk\":\"a\",\"ss\":$dynamodb_SS::[\"x\"]}}\n"
    );
    server.stop().await;
});
