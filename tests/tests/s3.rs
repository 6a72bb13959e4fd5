//! Export to and import from a real S3-compatible server (moto's, started by the test:
//! `s3_common`), through `[export] s3_endpoint`: the export's objects listed and read
//! back with an S3 client (AWS's layout, checksums against S3's own ETags, item lines),
//! an import of that export into a new table with identical items, a ZSTD import, a
//! missing bucket failing both with S3NoSuchBucket, and the jobs' progress in /metrics.

#[allow(dead_code)]
use std::collections::BTreeSet;
use std::time::Duration;

use crate::backups_common::{arn_of, assert_no_bucket_import, pitr_table};
use crate::s3_common::Moto;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, ExportStatus, ImportStatus,
    InputCompressionType, InputFormat, KeySchemaElement, KeyType, S3BucketSource,
    ScalarAttributeType, TableCreationParameters,
};
use aws_sdk_dynamodb::Client;
use daxlite_engine::buckets::S3Settings;
use daxlite_tests::{ddb_test, unique_name, Mode, TestServer};
use futures::TryStreamExt;
use md5::{Digest, Md5};
use object_store::path::Path;
use object_store::ObjectStore;
use serde_json::Value;

async fn start(mode: Mode, moto: &Moto) -> TestServer {
    let mut config = mode.config();
    config.engine.export_s3 = Some(S3Settings {
        endpoint: Some(moto.url()),
        region: "us-east-1".into(),
        path_style: true,
    });
    TestServer::start_with(config, None).await
}

async fn export(c: &Client, table: &str, bucket: &str, prefix: Option<&str>) -> String {
    let out = c
        .export_table_to_point_in_time()
        .table_arn(arn_of(table))
        .s3_bucket(bucket)
        .set_s3_prefix(prefix.map(str::to_string))
        .send()
        .await
        .unwrap();
    out.export_description()
        .unwrap()
        .export_arn()
        .unwrap()
        .to_string()
}

async fn wait_export(c: &Client, arn: &str) -> aws_sdk_dynamodb::types::ExportDescription {
    for _ in 0..1000 {
        let d = c.describe_export().export_arn(arn).send().await.unwrap();
        let d = d.export_description().unwrap().clone();
        if d.export_status() != Some(&ExportStatus::InProgress) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("export {arn} never finished");
}

async fn import(
    c: &Client,
    bucket: &str,
    prefix: &str,
    table: &str,
    compression: InputCompressionType,
) -> aws_sdk_dynamodb::types::ImportTableDescription {
    let params = TableCreationParameters::builder()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .build()
        .unwrap();
    let out = c
        .import_table()
        .s3_bucket_source(
            S3BucketSource::builder()
                .s3_bucket(bucket)
                .s3_key_prefix(prefix)
                .build()
                .unwrap(),
        )
        .input_format(InputFormat::DynamodbJson)
        .input_compression_type(compression)
        .table_creation_parameters(params)
        .send()
        .await
        .unwrap();
    let arn = out
        .import_table_description()
        .unwrap()
        .import_arn()
        .unwrap()
        .to_string();
    for _ in 0..1000 {
        let d = c.describe_import().import_arn(&arn).send().await.unwrap();
        let d = d.import_table_description().unwrap().clone();
        if d.import_status() != Some(&ImportStatus::InProgress) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("import {arn} never finished");
}

/// Every item of a table, as sorted debug strings (attribute order fixed).
async fn items(c: &Client, table: &str) -> Vec<String> {
    let out = c.scan().table_name(table).send().await.unwrap();
    assert!(out.last_evaluated_key().is_none(), "one page expected");
    let mut got: Vec<String> = out
        .items()
        .iter()
        .map(|i| {
            let sorted: std::collections::BTreeMap<_, _> = i.iter().collect();
            format!("{sorted:?}")
        })
        .collect();
    got.sort();
    got
}

async fn object(store: &dyn ObjectStore, key: &str) -> Vec<u8> {
    store
        .get(&Path::from(key))
        .await
        .unwrap_or_else(|e| panic!("{key}: {e}"))
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

fn b64_md5(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(Md5::digest(bytes))
}

fn gunzip(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}

ddb_test!(export_to_s3_and_import_back, |mode| async move {
    let moto = Moto::start().await;
    let bucket = "daxlite-s3-export";
    moto.create_bucket(bucket).await;
    let server = start(mode, &moto).await;
    let c = server.client();
    let table = pitr_table(&c, "s3-exp").await;
    for i in 0..40 {
        c.put_item()
            .table_name(&table)
            .item("pk", AV::S(format!("k{i}")))
            .item("n", AV::N(i.to_string()))
            .item("b", AV::B(vec![0, 1, 254, 255, i as u8].into()))
            .item("l", AV::L(vec![AV::Null(true), AV::Bool(i % 2 == 0)]))
            .send()
            .await
            .unwrap();
    }
    let arn = export(&c, &table, bucket, Some("snap/2024")).await;
    let id = arn.rsplit('/').next().unwrap().to_string();
    let done = wait_export(&c, &arn).await;
    assert_eq!(
        done.export_status(),
        Some(&ExportStatus::Completed),
        "{:?}",
        done.failure_message()
    );
    assert_eq!(done.item_count(), Some(40));
    let base = format!("snap/2024/AWSDynamoDB/{id}");
    assert_eq!(
        done.export_manifest(),
        Some(format!("{base}/manifest-summary.json").as_str())
    );

    // The objects, as S3 lists them.
    let s3 = moto.bucket(bucket);
    let listed: Vec<object_store::ObjectMeta> = s3.list(None).try_collect().await.unwrap();
    let keys: BTreeSet<String> = listed.iter().map(|o| o.location.to_string()).collect();
    let fixed: BTreeSet<String> = [
        "_started",
        "manifest-files.json",
        "manifest-files.md5",
        "manifest-summary.json",
        "manifest-summary.md5",
    ]
    .iter()
    .map(|f| format!("{base}/{f}"))
    .collect();
    assert!(fixed.is_subset(&keys), "{keys:?}");
    let data: Vec<&String> = keys.difference(&fixed).collect();
    assert!(!data.is_empty());
    for k in &data {
        assert!(
            k.starts_with(&format!("{base}/data/")) && k.ends_with(".json.gz"),
            "{k}"
        );
    }
    assert!(object(&*s3, &format!("{base}/_started")).await.is_empty());

    // The manifests and their checksums.
    let files = object(&*s3, &format!("{base}/manifest-files.json")).await;
    assert_eq!(
        String::from_utf8(object(&*s3, &format!("{base}/manifest-files.md5")).await).unwrap(),
        b64_md5(&files)
    );
    let summary = object(&*s3, &format!("{base}/manifest-summary.json")).await;
    assert_eq!(
        String::from_utf8(object(&*s3, &format!("{base}/manifest-summary.md5")).await).unwrap(),
        b64_md5(&summary)
    );
    let summary: Value = serde_json::from_slice(&summary).unwrap();
    assert_eq!(summary["version"], "2020-06-30");
    assert_eq!(summary["exportArn"], arn.as_str());
    assert_eq!(summary["s3Bucket"], bucket);
    assert_eq!(summary["s3Prefix"], "snap/2024");
    assert_eq!(summary["itemCount"], 40);
    assert_eq!(summary["outputFormat"], "DYNAMODB_JSON");
    assert_eq!(
        summary["manifestFilesS3Key"],
        format!("{base}/manifest-files.json").as_str()
    );

    // Each data file: its manifest line against S3's own ETag, and its item lines.
    let mut lines_total = 0;
    let mut item_count = 0;
    for line in String::from_utf8(files).unwrap().lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        let key = entry["dataFileS3Key"].as_str().unwrap();
        let bytes = object(&*s3, key).await;
        assert_eq!(entry["md5Checksum"], b64_md5(&bytes).as_str());
        let meta = listed.iter().find(|o| o.location.as_ref() == key).unwrap();
        let s3_etag = meta.e_tag.as_deref().unwrap().trim_matches('"');
        assert_eq!(entry["etag"], s3_etag, "the etag is S3's own");
        item_count += entry["itemCount"].as_u64().unwrap();
        for l in gunzip(&bytes).lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            let item = v["Item"].as_object().unwrap();
            assert!(item["pk"]["S"].as_str().unwrap().starts_with('k'));
            assert!(item["b"]["B"].is_string(), "B is base64: {l}");
            lines_total += 1;
        }
    }
    assert_eq!((lines_total, item_count), (40, 40));

    // Import the export's data files into a new table: the same items.
    let target = unique_name("s3-imp");
    let imported = import(
        &c,
        bucket,
        &format!("{base}/data/"),
        &target,
        InputCompressionType::Gzip,
    )
    .await;
    assert_eq!(
        imported.import_status(),
        Some(&ImportStatus::Completed),
        "{:?}",
        imported.failure_message()
    );
    assert_eq!(imported.imported_item_count(), 40);
    assert_eq!(imported.error_count(), 0);
    assert_eq!(items(&c, &target).await, items(&c, &table).await);

    // The jobs' progress in /metrics.
    let metrics = metrics_text(server.addr).await;
    let value = |kind: &str, job: &str, name: &str| -> Option<f64> {
        metrics
            .lines()
            .find(|l| {
                l.starts_with(name)
                    && l.contains(&format!("kind=\"{kind}\""))
                    && l.contains(&format!("job=\"{job}\""))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
    };
    assert_eq!(
        value("export", &id, "daxlite_job_items_done"),
        Some(40.0),
        "{metrics}"
    );
    assert!(value("export", &id, "daxlite_job_bytes_done").is_some_and(|b| b > 0.0));
    let import_id = imported
        .import_arn()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        value("import", &import_id, "daxlite_job_items_done"),
        Some(40.0)
    );
    server.stop().await;
});

ddb_test!(import_zstd_from_s3, |mode| async move {
    let moto = Moto::start().await;
    let bucket = "daxlite-s3-zstd";
    moto.create_bucket(bucket).await;
    let s3 = moto.bucket(bucket);
    let text: String = (0..25)
        .map(|i| format!("{{\"Item\":{{\"pk\":{{\"S\":\"z{i}\"}},\"v\":{{\"N\":\"{i}\"}}}}}}\n"))
        .collect();
    // Two zstd frames in one object, and an object outside the prefix.
    let mut body = zstd::encode_all(text.as_bytes(), 3).unwrap();
    body.extend(zstd::encode_all(&b"\n"[..], 3).unwrap());
    s3.put(&Path::from("in/part-1.json.zst"), body.into())
        .await
        .unwrap();
    s3.put(
        &Path::from("input-other/x.json.zst"),
        zstd::encode_all(&b"{\"Item\":{\"pk\":{\"S\":\"no\"}}}"[..], 3)
            .unwrap()
            .into(),
    )
    .await
    .unwrap();
    let server = start(mode, &moto).await;
    let c = server.client();
    let table = unique_name("s3-zstd");
    let done = import(&c, bucket, "in/", &table, InputCompressionType::Zstd).await;
    assert_eq!(
        done.import_status(),
        Some(&ImportStatus::Completed),
        "{:?}",
        done.failure_message()
    );
    assert_eq!(done.imported_item_count(), 25);
    assert_eq!(done.processed_size_bytes(), Some(text.len() as i64 + 1));
    assert_eq!(items(&c, &table).await.len(), 25);
    server.stop().await;
});

ddb_test!(
    a_missing_s3_bucket_fails_export_and_import,
    |mode| async move {
        let moto = Moto::start().await;
        let server = start(mode, &moto).await;
        let c = server.client();
        let table = pitr_table(&c, "s3-nobucket").await;
        let arn = export(&c, &table, "no-such-bucket", None).await;
        let done = wait_export(&c, &arn).await;
        assert_eq!(done.export_status(), Some(&ExportStatus::Failed));
        assert_eq!(done.failure_code(), Some("S3NoSuchBucket"));
        let message = done.failure_message().unwrap();
        assert!(
            message.contains("The specified bucket does not exist"),
            "{message}"
        );
        let target = unique_name("s3-nobucket-imp");
        let imported = import(
            &c,
            "no-such-bucket",
            "",
            &target,
            InputCompressionType::None,
        )
        .await;
        assert_no_bucket_import(&c, &imported, &target).await;
        server.stop().await;
    }
);

async fn metrics_text(addr: std::net::SocketAddr) -> String {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::TokioIo;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("/metrics")
        .header("host", addr.to_string())
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}
