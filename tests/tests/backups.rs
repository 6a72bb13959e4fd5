//! On-demand backups through aws-sdk-dynamodb against the real server: CreateBackup →
//! AVAILABLE, DescribeBackup, ListBackups (types, paging, time bounds), DeleteBackup,
//! RestoreTableFromBackup with its overrides and what a restore leaves out, the exact
//! errors, and a restore under a reused name not being served old cache entries.

use crate::backups_common::{items, put, wait_active, wait_available};
#[allow(dead_code)]
use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BackupStatus, BillingMode, GlobalSecondaryIndex, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ProvisionedThroughput,
    ScalarAttributeType, StreamSpecification, StreamViewType, TableStatus, Tag,
    TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;
use daxlite_tests::{
    assert_error, attr, call, create_pk_table, ddb_test, error_parts, key, unique_name, TestServer,
};

async fn backup(c: &Client, table: &str, name: &str) -> String {
    let out = c
        .create_backup()
        .table_name(table)
        .backup_name(name)
        .send()
        .await
        .unwrap();
    let arn = out.backup_details().unwrap().backup_arn().to_string();
    wait_available(c, &arn).await;
    arn
}

fn is_backup_arn(arn: &str, table: &str) -> bool {
    let Some(id) = arn.strip_prefix(&format!(
        "arn:aws:dynamodb:us-east-1:000000000000:table/{table}/backup/"
    )) else {
        return false;
    };
    let b = id.as_bytes();
    b.len() == 23
        && b[..14].iter().all(u8::is_ascii_digit)
        && b[14] == b'-'
        && b[15..]
            .iter()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
}

ddb_test!(
    create_describe_list_and_delete_a_backup,
    |mode| async move {
        let server = TestServer::start(mode).await;
        let c = server.client();
        let table = create_pk_table(&c, "bk", None).await;
        put(&c, &table, "a", "1").await;
        let out = c
            .create_backup()
            .table_name(&table)
            .backup_name("first")
            .send()
            .await
            .unwrap();
        let d = out.backup_details().unwrap();
        let arn = d.backup_arn().to_string();
        assert!(is_backup_arn(&arn, &table), "{arn}");
        assert_eq!(d.backup_type().as_str(), "USER");
        assert!(matches!(
            d.backup_status(),
            BackupStatus::Creating | BackupStatus::Available
        ));
        assert!(d.backup_size_bytes().unwrap_or(0) > 0);
        // The id's digits are the creation time in milliseconds.
        let id = arn.rsplit('/').next().unwrap();
        let ms: i64 = id[1..14].parse().unwrap();
        let created = d.backup_creation_date_time();
        // (within a millisecond: the wire's epoch-seconds float rounds the fraction)
        let created_ms = created.secs() * 1000 + i64::from(created.subsec_nanos() / 1_000_000);
        assert!((created_ms - ms).abs() <= 1, "{created_ms} vs {ms}");
        wait_available(&c, &arn).await;

        let desc = c.describe_backup().backup_arn(&arn).send().await.unwrap();
        let desc = desc.backup_description().unwrap();
        let source = desc.source_table_details().unwrap();
        assert_eq!(source.table_name(), table);
        assert_eq!(source.item_count(), Some(1));
        assert_eq!(
            source.billing_mode().map(|b| b.as_str()),
            Some("PAY_PER_REQUEST")
        );
        assert!(desc.source_table_feature_details().is_some());

        // By table ARN too.
        let table_arn = format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}");
        let second = c
            .create_backup()
            .table_name(&table_arn)
            .backup_name("second")
            .send()
            .await
            .unwrap();
        let second = second.backup_details().unwrap().backup_arn().to_string();
        wait_available(&c, &second).await;

        let listed = c.list_backups().table_name(&table).send().await.unwrap();
        let arns: Vec<&str> = listed
            .backup_summaries()
            .iter()
            .filter_map(|s| s.backup_arn())
            .collect();
        assert_eq!(arns, [arn.as_str(), second.as_str()]);
        assert!(listed.last_evaluated_backup_arn().is_none());

        // Paging with Limit=1 visits each backup once; the last page has no LastEvaluatedBackupArn.
        let mut seen = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = c
                .list_backups()
                .table_name(&table)
                .limit(1)
                .set_exclusive_start_backup_arn(start.clone())
                .send()
                .await
                .unwrap();
            seen.extend(
                page.backup_summaries()
                    .iter()
                    .filter_map(|s| s.backup_arn().map(String::from)),
            );
            match page.last_evaluated_backup_arn() {
                Some(next) => start = Some(next.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, [arn.clone(), second.clone()]);

        // LowerBound is inclusive, UpperBound exclusive.
        let t = aws_smithy_types::DateTime::from_millis(ms);
        let from = c
            .list_backups()
            .table_name(&table)
            .time_range_lower_bound(t)
            .send()
            .await
            .unwrap();
        assert_eq!(from.backup_summaries().len(), 2);
        let before = c
            .list_backups()
            .table_name(&table)
            .time_range_upper_bound(t)
            .send()
            .await
            .unwrap();
        assert_eq!(before.backup_summaries().len(), 0);

        let deleted = c.delete_backup().backup_arn(&arn).send().await.unwrap();
        let status = deleted
            .backup_description()
            .and_then(|d| d.backup_details())
            .map(|d| d.backup_status().clone());
        assert_eq!(status, Some(BackupStatus::Deleted));
        let err = c
            .describe_backup()
            .backup_arn(&arn)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error_parts(&err),
            (
                "BackupNotFoundException".to_string(),
                format!("Backup not found: {arn}")
            )
        );
        let listed = c.list_backups().table_name(&table).send().await.unwrap();
        assert_eq!(listed.backup_summaries().len(), 1);
        server.stop().await;
    }
);

ddb_test!(backup_errors_are_exact, |mode| async move {
    let server = TestServer::start(mode).await;
    let c = server.client();
    let err = c
        .create_backup()
        .table_name("no-such-table")
        .backup_name("b-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "TableNotFoundException".to_string(),
            "Table not found: no-such-table".to_string()
        )
    );
    let table = create_pk_table(&c, "bkerr", None).await;
    let r = call(
        server.addr,
        "DynamoDB_20120810.CreateBackup",
        &format!(r#"{{"TableName":"{table}","BackupName":"ab"}}"#),
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.validate#ValidationException",
        Some("1 validation error detected: Value 'ab' at 'backupName' failed to satisfy constraint: Member must have length greater than or equal to 3"),
    );
    let unknown = format!(
        "arn:aws:dynamodb:us-east-1:000000000000:table/{table}/backup/01700000000000-0badf00d"
    );
    let err = c
        .describe_backup()
        .backup_arn(&unknown)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_parts(&err),
        (
            "BackupNotFoundException".to_string(),
            format!("Backup not found: {unknown}")
        )
    );
    let err = c
        .delete_backup()
        .backup_arn(&unknown)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).0, "BackupNotFoundException");
    let r = call(
        server.addr,
        "DynamoDB_20120810.ListBackups",
        r#"{"Limit":101,"BackupType":"NOPE"}"#,
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazon.coral.validate#ValidationException",
        Some("2 validation errors detected: Value '101' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100; Value 'NOPE' at 'backupType' failed to satisfy constraint: Member must satisfy enum value set: [USER, SYSTEM, AWS_BACKUP, ALL]"),
    );
    // A table that does not exist lists nothing.
    let none = c
        .list_backups()
        .table_name("no-such-table")
        .send()
        .await
        .unwrap();
    assert!(none.backup_summaries().is_empty());
    server.stop().await;
});

ddb_test!(
    restore_from_a_backup_makes_an_independent_table,
    |mode| async move {
        let server = TestServer::start(mode).await;
        let c = server.client();
        let table = create_pk_table(&c, "rs", None).await;
        put(&c, &table, "a", "1").await;
        put(&c, &table, "b", "2").await;
        let out = c
            .create_backup()
            .table_name(&table)
            .backup_name("snap")
            .send()
            .await
            .unwrap();
        let arn = out.backup_details().unwrap().backup_arn().to_string();
        let created = *out.backup_details().unwrap().backup_creation_date_time();
        // Writes after the backup are not in it, even while it is still being copied.
        put(&c, &table, "c", "3").await;
        c.delete_item()
            .table_name(&table)
            .key("pk", AV::S("a".into()))
            .send()
            .await
            .unwrap();
        wait_available(&c, &arn).await;

        let target = unique_name("restored");
        let r = c
            .restore_table_from_backup()
            .target_table_name(&target)
            .backup_arn(&arn)
            .send()
            .await
            .unwrap();
        let d = r.table_description().unwrap();
        assert_eq!(d.table_status(), Some(&TableStatus::Creating));
        let summary = d.restore_summary().unwrap();
        assert_eq!(summary.source_backup_arn(), Some(arn.as_str()));
        assert_eq!(
            summary.source_table_arn(),
            Some(format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}").as_str())
        );
        assert_eq!(summary.restore_date_time(), &created);
        assert!(summary.restore_in_progress());

        let t = wait_active(&c, &target).await;
        assert!(!t.restore_summary().unwrap().restore_in_progress());
        assert_eq!(t.item_count(), Some(2));
        assert_eq!(
            items(&c, &target).await,
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        // Independent: writes to one do not show in the other.
        put(&c, &target, "z", "9").await;
        assert_eq!(
            items(&c, &table).await,
            [("b".into(), "2".into()), ("c".into(), "3".into())]
        );

        let err = c
            .restore_table_from_backup()
            .target_table_name(&table)
            .backup_arn(&arn)
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error_parts(&err),
            (
                "TableAlreadyExistsException".to_string(),
                format!("Table already exists: {table}")
            )
        );
        server.stop().await;
    }
);

ddb_test!(
    restore_applies_overrides_and_leaves_out_stream_ttl_tags_pitr,
    |mode| async move {
        let server = TestServer::start(mode).await;
        let c = server.client();
        let table = unique_name("full");
        let tp = ProvisionedThroughput::builder()
            .read_capacity_units(5)
            .write_capacity_units(5)
            .build()
            .unwrap();
        c.create_table()
            .table_name(&table)
            .attribute_definitions(attr("pk", ScalarAttributeType::S))
            .attribute_definitions(attr("g", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name("by-g")
                    .key_schema(key("g", KeyType::Hash))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .provisioned_throughput(tp.clone())
                    .build()
                    .unwrap(),
            )
            .provisioned_throughput(tp)
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()
                    .unwrap(),
            )
            .tags(Tag::builder().key("team").value("a").build().unwrap())
            .deletion_protection_enabled(true)
            .send()
            .await
            .unwrap();
        c.update_time_to_live()
            .table_name(&table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name("exp")
                    .build()
                    .unwrap(),
            )
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
        c.put_item()
            .table_name(&table)
            .item("pk", AV::S("a".into()))
            .item("g", AV::S("x".into()))
            .send()
            .await
            .unwrap();
        let arn = backup(&c, &table, "full").await;
        let desc = c.describe_backup().backup_arn(&arn).send().await.unwrap();
        let features = desc
            .backup_description()
            .and_then(|d| d.source_table_feature_details())
            .unwrap();
        assert_eq!(features.global_secondary_indexes().len(), 1);
        assert_eq!(
            features
                .stream_description()
                .and_then(|s| s.stream_view_type())
                .map(|v| v.as_str()),
            Some("NEW_IMAGE")
        );
        assert_eq!(
            features
                .time_to_live_description()
                .and_then(|t| t.attribute_name()),
            Some("exp")
        );

        // As it was: the GSI answers queries on the restored table, with the backup's capacity.
        let same = unique_name("same");
        c.restore_table_from_backup()
            .target_table_name(&same)
            .backup_arn(&arn)
            .send()
            .await
            .unwrap();
        let t = wait_active(&c, &same).await;
        assert_eq!(
            t.provisioned_throughput()
                .and_then(|p| p.read_capacity_units()),
            Some(5)
        );
        assert_eq!(t.global_secondary_indexes().len(), 1);
        let q = c
            .query()
            .table_name(&same)
            .index_name("by-g")
            .key_condition_expression("g = :g")
            .expression_attribute_values(":g", AV::S("x".into()))
            .send()
            .await
            .unwrap();
        assert_eq!(q.count(), 1);

        // Overridden: no GSIs, on demand.
        let target = unique_name("bare");
        c.restore_table_from_backup()
            .target_table_name(&target)
            .backup_arn(&arn)
            .set_global_secondary_index_override(Some(vec![]))
            .billing_mode_override(BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        let t = wait_active(&c, &target).await;
        assert!(t.global_secondary_indexes().is_empty());
        assert_eq!(
            t.billing_mode_summary()
                .and_then(|b| b.billing_mode())
                .map(|b| b.as_str()),
            Some("PAY_PER_REQUEST")
        );
        assert_eq!(
            t.attribute_definitions().len(),
            1,
            "g is no longer a key attribute"
        );
        for restored in [&same, &target] {
            let t = c
                .describe_table()
                .table_name(restored.as_str())
                .send()
                .await
                .unwrap();
            let t = t.table().unwrap();
            assert!(t.stream_specification().is_none());
            assert!(t.latest_stream_arn().is_none());
            assert_eq!(t.deletion_protection_enabled(), Some(false));
            let ttl = c
                .describe_time_to_live()
                .table_name(restored.as_str())
                .send()
                .await
                .unwrap();
            assert_eq!(
                ttl.time_to_live_description()
                    .and_then(|d| d.time_to_live_status())
                    .map(|s| s.as_str()),
                Some("DISABLED")
            );
            let tags = c
                .list_tags_of_resource()
                .resource_arn(t.table_arn().unwrap())
                .send()
                .await
                .unwrap();
            assert!(tags.tags().is_empty());
            let pitr = c
                .describe_continuous_backups()
                .table_name(restored.as_str())
                .send()
                .await
                .unwrap();
            let status = pitr
                .continuous_backups_description()
                .and_then(|d| d.point_in_time_recovery_description())
                .and_then(|p| p.point_in_time_recovery_status())
                .map(|s| s.as_str().to_string());
            assert_eq!(status.as_deref(), Some("DISABLED"));
        }
        let err = c
            .restore_table_from_backup()
            .target_table_name(unique_name("bad"))
            .backup_arn(&arn)
            .set_global_secondary_index_override(Some(vec![GlobalSecondaryIndex::builder()
                .index_name("nope")
                .key_schema(key("g", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .unwrap()]))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_parts(&err).0, "ValidationException");
        server.stop().await;
    }
);

ddb_test!(
    a_restore_under_a_reused_name_serves_no_old_entries,
    |mode| async move {
        let server = TestServer::start(mode).await;
        let c = server.client();
        let source = create_pk_table(&c, "src", None).await;
        put(&c, &source, "k", "new").await;
        let arn = backup(&c, &source, "src").await;
        let reused = create_pk_table(&c, "reused", None).await;
        put(&c, &reused, "k", "old").await;
        let get = |table: String| {
            let c = c.clone();
            async move {
                let out = c
                    .get_item()
                    .table_name(table)
                    .key("pk", AV::S("k".into()))
                    .send()
                    .await
                    .unwrap();
                out.item()
                    .and_then(|i| i.get("v"))
                    .and_then(|v| v.as_s().ok())
                    .cloned()
            }
        };
        // Read twice: the second read is a cache hit in cached mode.
        assert_eq!(get(reused.clone()).await.as_deref(), Some("old"));
        assert_eq!(get(reused.clone()).await.as_deref(), Some("old"));
        c.delete_table().table_name(&reused).send().await.unwrap();
        c.restore_table_from_backup()
            .target_table_name(&reused)
            .backup_arn(&arn)
            .send()
            .await
            .unwrap();
        wait_active(&c, &reused).await;
        assert_eq!(get(reused.clone()).await.as_deref(), Some("new"));
        server.stop().await;
    }
);
