//! ImportTable, DescribeImport and ListImports through aws-sdk-dynamodb against the real
//! server, reading "S3" from a temporary export root: DYNAMODB_JSON (gzipped, blank
//! lines, concatenated objects) and CSV, the counters, bad entries, a missing bucket,
//! an empty prefix, the exact errors, and an export → import round trip.

#[allow(dead_code)]
use crate::backups_common::assert_no_bucket_import;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue as AV, BillingMode, CsvOptions, ExportFormat, ExportStatus,
    ImportStatus, InputCompressionType, InputFormat, InputFormatOptions, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, S3BucketSource, ScalarAttributeType, TableCreationParameters,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::{ddb_test, error_parts, unique_name, Mode, TestServer};

async fn start(mode: Mode, root: &Path) -> TestServer {
    let mut config = mode.config();
    config.engine.export_root = root.to_path_buf();
    TestServer::start_with(config, None).await
}

fn write(root: &Path, key: &str, bytes: &[u8]) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// pk S, sk N, on demand.
fn params(table: &str) -> TableCreationParameters {
    TableCreationParameters::builder()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::N)
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
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .build()
        .unwrap()
}

fn source(bucket: &str, prefix: &str) -> S3BucketSource {
    S3BucketSource::builder()
        .s3_bucket(bucket)
        .s3_key_prefix(prefix)
        .build()
        .unwrap()
}

async fn wait_import(c: &Client, arn: &str) -> aws_sdk_dynamodb::types::ImportTableDescription {
    for _ in 0..500 {
        let d = c.describe_import().import_arn(arn).send().await.unwrap();
        let d = d.import_table_description().unwrap().clone();
        if d.import_status() != Some(&ImportStatus::InProgress) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("import {arn} never finished");
}

async fn scan_all(c: &Client, table: &str) -> Vec<std::collections::HashMap<String, AV>> {
    let out = c.scan().table_name(table).send().await.unwrap();
    let mut items = out.items().to_vec();
    items.sort_by_key(|i| format!("{:?}{:?}", i.get("pk"), i.get("sk")));
    items
}

fn line(pk: &str, sk: u32, extra: &str) -> String {
    format!(r#"{{"Item":{{"pk":{{"S":"{pk}"}},"sk":{{"N":"{sk}"}}{extra}}}}}"#)
}

ddb_test!(import_gzipped_dynamodb_json, |mode| async move {
    let root = tempfile::tempdir().unwrap();
    let server = start(mode, root.path()).await;
    let c = server.client();
    let text = format!(
        "{}\n\n   \n{}{}\n",
        line("a", 1, r#","v":{"S":"x"}"#),
        line("b", 2, r#","bin":{"B":"AAH+/w=="}"#),
        line("c", 3, r#","l":{"L":[{"N":"1"},{"NULL":true}]}"#)
    );
    write(root.path(), "bkt/in/part-1.json.gz", &gzip(text.as_bytes()));
    write(root.path(), "bkt/in/empty.json.gz", b"");
    write(
        root.path(),
        "bkt/other/ignored.json.gz",
        &gzip(line("z", 9, "").as_bytes()),
    );
    let table = unique_name("imp");
    let out = c
        .import_table()
        .s3_bucket_source(source("bkt", "in/"))
        .input_format(InputFormat::DynamodbJson)
        .input_compression_type(InputCompressionType::Gzip)
        .table_creation_parameters(params(&table))
        .send()
        .await
        .unwrap();
    let d = out.import_table_description().unwrap();
    assert_eq!(d.import_status(), Some(&ImportStatus::InProgress));
    assert_eq!(d.processed_item_count(), 0);
    assert!(d.end_time().is_none());
    assert!(d.processed_size_bytes().is_none());
    assert!(d.client_token().is_some());
    assert_eq!(
        d.cloud_watch_log_group_arn(),
        Some("arn:aws:logs:us-east-1:000000000000:log-group:/aws-dynamodb/imports:*")
    );
    let table_id = d.table_id().unwrap().to_string();
    let arn = d.import_arn().unwrap().to_string();
    assert!(arn.starts_with(&format!(
        "arn:aws:dynamodb:us-east-1:000000000000:table/{table}/import/"
    )));

    let done = wait_import(&c, &arn).await;
    assert_eq!(
        done.import_status(),
        Some(&ImportStatus::Completed),
        "{done:?}"
    );
    assert_eq!(done.processed_item_count(), 3);
    assert_eq!(done.imported_item_count(), 3);
    assert_eq!(done.error_count(), 0);
    assert_eq!(done.processed_size_bytes(), Some(text.len() as i64));
    assert_eq!(done.table_id(), Some(table_id.as_str()));
    let t = c.describe_table().table_name(&table).send().await.unwrap();
    let t = t.table().unwrap();
    assert_eq!(t.table_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(t.table_id(), Some(table_id.as_str()));
    let items = scan_all(&c, &table).await;
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[1].get("bin"),
        Some(&AV::B(aws_smithy_types::Blob::new(vec![0, 1, 254, 255])))
    );

    // The table exists now: a second import onto it is refused.
    let err = c
        .import_table()
        .s3_bucket_source(source("bkt", "in/"))
        .input_format(InputFormat::DynamodbJson)
        .table_creation_parameters(params(&table))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "ResourceInUseException".to_string(),
            format!("Table already exists: {table}")
        )
    );
    let listed = c
        .list_imports()
        .table_arn(t.table_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.import_summary_list().len(), 1);
    server.stop().await;
});

ddb_test!(
    bad_entries_fail_the_import_but_keep_good_items,
    |mode| async move {
        let root = tempfile::tempdir().unwrap();
        let server = start(mode, root.path()).await;
        let c = server.client();
        let bad = [
            r#"{"NotAnItem": {"pk": {"S": "x"}, "sk": {"N": "1"}}}"#,
            r#"{"Item": {"sk": {"N": "1"}}}"#,
            r#"{"Item": {"pk": {"S": "x"}, "sk": {"S": "1"}}}"#,
            r#"{"Item": "#,
            r#"{"Item": {"pk": {"S": "x"}, "sk": {"N": "1"}, "": {"S": "v"}}}"#,
        ];
        for (i, b) in bad.iter().enumerate() {
            write(
                root.path(),
                &format!("bkt/mixed/bad-{i}.json"),
                format!("{b}\n{}\n", line("never", 1, "")).as_bytes(),
            );
        }
        let dupes = [
            line("dup", 1, ""),
            line("dup", 2, ""),
            line("one", 3, ""),
            line("dup", 1, r#","w":{"S":"2"}"#),
            line("dup", 2, ""),
        ];
        write(
            root.path(),
            "bkt/mixed/good.json",
            dupes.join("\n").as_bytes(),
        );
        let table = unique_name("imp-bad");
        let out = c
            .import_table()
            .s3_bucket_source(source("bkt", "mixed/"))
            .input_format(InputFormat::DynamodbJson)
            .table_creation_parameters(params(&table))
            .send()
            .await
            .unwrap();
        let done = wait_import(
            &c,
            out.import_table_description()
                .unwrap()
                .import_arn()
                .unwrap(),
        )
        .await;
        assert_eq!(done.import_status(), Some(&ImportStatus::Failed));
        assert_eq!(done.failure_code(), Some("ItemValidationError"));
        assert_eq!(
        done.failure_message(),
        Some("Some of the items failed validation checks and were not imported. Please check CloudWatch error logs for more details.")
    );
        assert_eq!(done.error_count(), 5);
        assert_eq!(
            done.imported_item_count(),
            5,
            "every write counts, duplicates too"
        );
        assert_eq!(done.processed_item_count(), 10);
        let items = scan_all(&c, &table).await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert!(items
            .iter()
            .all(|i| i.get("pk") != Some(&AV::S("never".into()))));
        server.stop().await;
    }
);

ddb_test!(import_source_failures_and_errors, |mode| async move {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("empty-bucket")).unwrap();
    let server = start(mode, root.path()).await;
    let c = server.client();
    let table = unique_name("imp-nobucket");
    let out = c
        .import_table()
        .s3_bucket_source(source("no-such-bucket", ""))
        .input_format(InputFormat::DynamodbJson)
        .table_creation_parameters(params(&table))
        .send()
        .await
        .unwrap();
    let done = wait_import(
        &c,
        out.import_table_description()
            .unwrap()
            .import_arn()
            .unwrap(),
    )
    .await;
    assert_no_bucket_import(&c, &done, &table).await;

    // A prefix that matches nothing: COMPLETED, and the empty table is kept.
    let empty = unique_name("imp-empty");
    let out = c
        .import_table()
        .s3_bucket_source(source("empty-bucket", "nothing/here/"))
        .input_format(InputFormat::DynamodbJson)
        .table_creation_parameters(params(&empty))
        .send()
        .await
        .unwrap();
    let done = wait_import(
        &c,
        out.import_table_description()
            .unwrap()
            .import_arn()
            .unwrap(),
    )
    .await;
    assert_eq!(done.import_status(), Some(&ImportStatus::Completed));
    let t = c.describe_table().table_name(&empty).send().await.unwrap();
    assert_eq!(t.table().unwrap().item_count(), Some(0));

    let mut provisioned = params(&unique_name("imp-prov"));
    provisioned.billing_mode = Some(BillingMode::Provisioned);
    let err = c
        .import_table()
        .s3_bucket_source(source("empty-bucket", ""))
        .input_format(InputFormat::DynamodbJson)
        .table_creation_parameters(provisioned)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".to_string(),
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED".to_string()
        )
    );
    let unknown =
        "arn:aws:dynamodb:us-east-1:000000000000:table/some-table/import/01700000000000-0badf00d";
    let err = c
        .describe_import()
        .import_arn(unknown)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).0, "ImportNotFoundException");
    let malformed =
        "arn:aws:dynamodb:us-east-1:000000000000:table/x/import/01658528578619-c4d4e311";
    let err = c
        .describe_import()
        .import_arn(malformed)
        .send()
        .await
        .unwrap_err();
    let (code, message) = error_parts(&err);
    assert_eq!(code, "ValidationException");
    assert!(message.contains("Invalid Import ARN"), "{message}");
    let err = c.list_imports().page_size(26).send().await.unwrap_err();
    assert_eq!(error_parts(&err).0, "ValidationException");
    server.stop().await;
});

ddb_test!(import_csv_with_header_or_header_list, |mode| async move {
    let root = tempfile::tempdir().unwrap();
    let server = start(mode, root.path()).await;
    let c = server.client();
    write(
        root.path(),
        "bkt/csv/a.csv",
        b"pk;sk;note\na;1;\"x;y\"\nb;2;\n",
    );
    write(root.path(), "bkt/csv2/a.csv", b"c|3|hello\n");
    let table = unique_name("imp-csv");
    let out = c
        .import_table()
        .s3_bucket_source(source("bkt", "csv/"))
        .input_format(InputFormat::Csv)
        .input_format_options(
            InputFormatOptions::builder()
                .csv(CsvOptions::builder().delimiter(";").build())
                .build(),
        )
        .table_creation_parameters(params(&table))
        .send()
        .await
        .unwrap();
    let done = wait_import(
        &c,
        out.import_table_description()
            .unwrap()
            .import_arn()
            .unwrap(),
    )
    .await;
    assert_eq!(
        done.import_status(),
        Some(&ImportStatus::Completed),
        "{done:?}"
    );
    let items = scan_all(&c, &table).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].get("sk"), Some(&AV::N("1".into())));
    assert_eq!(items[0].get("note"), Some(&AV::S("x;y".into())));
    assert!(!items[1].contains_key("note"));

    let table2 = unique_name("imp-csv2");
    let out = c
        .import_table()
        .s3_bucket_source(source("bkt", "csv2/"))
        .input_format(InputFormat::Csv)
        .input_format_options(
            InputFormatOptions::builder()
                .csv(
                    CsvOptions::builder()
                        .delimiter("|")
                        .header_list("pk")
                        .header_list("sk")
                        .header_list("greeting")
                        .build(),
                )
                .build(),
        )
        .table_creation_parameters(params(&table2))
        .send()
        .await
        .unwrap();
    let done = wait_import(
        &c,
        out.import_table_description()
            .unwrap()
            .import_arn()
            .unwrap(),
    )
    .await;
    assert_eq!(done.imported_item_count(), 1);
    let items = scan_all(&c, &table2).await;
    assert_eq!(items[0].get("greeting"), Some(&AV::S("hello".into())));
    server.stop().await;
});

ddb_test!(export_then_import_reproduces_the_table, |mode| async move {
    round_trip(mode, ExportFormat::DynamodbJson, InputFormat::DynamodbJson).await;
});

ddb_test!(an_ion_export_imports_back_as_ion, |mode| async move {
    round_trip(mode, ExportFormat::Ion, InputFormat::Ion).await;
});

/// Export a table in `format`, import its data files as `input`: the same items.
async fn round_trip(mode: Mode, format: ExportFormat, input: InputFormat) {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("bkt")).unwrap();
    let server = start(mode, root.path()).await;
    let c = server.client();
    let table = unique_name("rt-src");
    c.create_table()
        .set_attribute_definitions(Some(params(&table).attribute_definitions))
        .set_key_schema(Some(params(&table).key_schema))
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
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
    for i in 0..40u32 {
        c.put_item()
            .table_name(&table)
            .item("pk", AV::S(format!("p{}", i % 7)))
            .item("sk", AV::N(i.to_string()))
            .item(
                "m",
                AV::M([("x".to_string(), AV::Ss(vec!["a".into(), "b".into()]))].into()),
            )
            .item(
                "b",
                AV::B(aws_smithy_types::Blob::new(vec![i as u8, 0, 255])),
            )
            .item("f", AV::Bool(i % 2 == 0))
            .item("ns", AV::Ns(vec!["1.5".into(), format!("-{i}e3")]))
            .item(
                "l",
                AV::L(vec![AV::Null(true), AV::S("q\"\n\u{e9}".into())]),
            )
            .send()
            .await
            .unwrap();
    }
    let out = c
        .export_table_to_point_in_time()
        .table_arn(format!(
            "arn:aws:dynamodb:us-east-1:000000000000:table/{table}"
        ))
        .s3_bucket("bkt")
        .s3_prefix("rt")
        .export_format(format)
        .send()
        .await
        .unwrap();
    let arn = out
        .export_description()
        .unwrap()
        .export_arn()
        .unwrap()
        .to_string();
    for _ in 0..500 {
        let d = c.describe_export().export_arn(&arn).send().await.unwrap();
        if d.export_description().unwrap().export_status() != Some(&ExportStatus::InProgress) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let id = arn.rsplit('/').next().unwrap();
    let copy = unique_name("rt-copy");
    let out = c
        .import_table()
        .s3_bucket_source(source("bkt", &format!("rt/AWSDynamoDB/{id}/data/")))
        .input_format(input)
        .input_compression_type(InputCompressionType::Gzip)
        .table_creation_parameters(params(&copy))
        .send()
        .await
        .unwrap();
    let done = wait_import(
        &c,
        out.import_table_description()
            .unwrap()
            .import_arn()
            .unwrap(),
    )
    .await;
    assert_eq!(
        done.import_status(),
        Some(&ImportStatus::Completed),
        "{done:?}"
    );
    assert_eq!(done.imported_item_count(), 40);
    assert_eq!(scan_all(&c, &copy).await, scan_all(&c, &table).await);
    server.stop().await;
}
