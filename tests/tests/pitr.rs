//! Point-in-time recovery through aws-sdk-dynamodb against the real server:
//! Describe/UpdateContinuousBackups (exact shapes and errors), RestoreTableToPointInTime
//! to a chosen second and to the latest restorable time (a manual clock moves time), and
//! the SYSTEM backup DeleteTable makes of a table with PITR.

use crate::backups_common::{items, put, wait_active};
#[allow(dead_code)]
use aws_sdk_dynamodb::types::{
    AttributeValue as AV, BackupTypeFilter, PointInTimeRecoverySpecification,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_types::DateTime;
use daxlite_engine::clock::ManualClock;
use daxlite_engine::EngineConfig;
use daxlite_tests::{
    assert_error, call, call_ok, create_pk_table, ddb_test, error_parts, unique_name, TestServer,
};

const T0: i64 = 1_700_000_000_000;

async fn set_pitr(c: &Client, table: &str, on: bool) {
    c.update_continuous_backups()
        .table_name(table)
        .point_in_time_recovery_specification(
            PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(on)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

ddb_test!(continuous_backups_shapes_and_errors, |mode| async move {
    let clock = ManualClock::new(T0);
    let server =
        TestServer::start_with_engine_config(mode, EngineConfig::default(), clock.clone()).await;
    let c = server.client();
    let table = create_pk_table(&c, "pitr", None).await;
    let body = format!(r#"{{"TableName":"{table}"}}"#);
    let r = call_ok(
        server.addr,
        "DynamoDB_20120810.DescribeContinuousBackups",
        &body,
    )
    .await;
    assert_eq!(
        r.json(),
        serde_json::json!({"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}})
    );
    let r = call(
        server.addr,
        "DynamoDB_20120810.DescribeContinuousBackups",
        r#"{"TableName":"nope-table"}"#,
    )
    .await;
    assert_error(
        &r,
        400,
        "com.amazonaws.dynamodb.v20120810#TableNotFoundException",
        Some("Table not found: nope-table"),
    );

    for bad in [36, 0] {
        let body = format!(
            r#"{{"TableName":"{table}","PointInTimeRecoverySpecification":{{"PointInTimeRecoveryEnabled":true,"RecoveryPeriodInDays":{bad}}}}}"#
        );
        let r = call(
            server.addr,
            "DynamoDB_20120810.UpdateContinuousBackups",
            &body,
        )
        .await;
        let constraint = if bad == 36 {
            "Member must have value less than or equal to 35"
        } else {
            "Member must have value greater than or equal to 1"
        };
        assert_error(&r, 400, "com.amazon.coral.validate#ValidationException", Some(&format!(
            "1 validation error detected: Value '{bad}' at 'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy constraint: {constraint}"
        )));
    }

    set_pitr(&c, &table, true).await;
    clock.advance(2_000);
    let d = c
        .describe_continuous_backups()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let p = d
        .continuous_backups_description()
        .unwrap()
        .point_in_time_recovery_description()
        .unwrap();
    assert_eq!(
        p.point_in_time_recovery_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
    assert_eq!(p.recovery_period_in_days(), Some(35));
    assert_eq!(
        p.earliest_restorable_date_time(),
        Some(&DateTime::from_millis(T0))
    );
    assert_eq!(
        p.latest_restorable_date_time(),
        Some(&DateTime::from_millis(T0 + 2_000))
    );
    // A second enable keeps the window; a table ARN works as TableName.
    let arn = format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}");
    set_pitr(&c, &arn, true).await;
    let d = c
        .describe_continuous_backups()
        .table_name(&arn)
        .send()
        .await
        .unwrap();
    let p = d
        .continuous_backups_description()
        .unwrap()
        .point_in_time_recovery_description()
        .unwrap();
    assert_eq!(
        p.earliest_restorable_date_time(),
        Some(&DateTime::from_millis(T0))
    );

    set_pitr(&c, &table, false).await;
    let r = call_ok(
        server.addr,
        "DynamoDB_20120810.DescribeContinuousBackups",
        &body_of(&table),
    )
    .await;
    assert_eq!(
        r.json()["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"],
        serde_json::json!({"PointInTimeRecoveryStatus": "DISABLED"})
    );
    server.stop().await;
});

fn body_of(table: &str) -> String {
    format!(r#"{{"TableName":"{table}"}}"#)
}

ddb_test!(restore_to_a_point_in_time, |mode| async move {
    let clock = ManualClock::new(T0);
    let server =
        TestServer::start_with_engine_config(mode, EngineConfig::default(), clock.clone()).await;
    let c = server.client();
    let table = create_pk_table(&c, "pitr-restore", None).await;

    let err = c
        .restore_table_to_point_in_time()
        .source_table_name(&table)
        .target_table_name(unique_name("never"))
        .use_latest_restorable_time(true)
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

    set_pitr(&c, &table, true).await;
    clock.advance(1_000);
    put(&c, &table, "a", "1").await;
    clock.advance(1_000);
    let t = T0 + 2_000;
    clock.advance(1_000);
    put(&c, &table, "b", "2").await;
    put(&c, &table, "a", "changed").await;
    clock.advance(500);
    c.delete_item()
        .table_name(&table)
        .key("pk", AV::S("a".into()))
        .send()
        .await
        .unwrap();
    clock.advance(1_000);

    let target = unique_name("at-t");
    let r = c
        .restore_table_to_point_in_time()
        .source_table_name(&table)
        .target_table_name(&target)
        .restore_date_time(DateTime::from_millis(t))
        .send()
        .await
        .unwrap();
    let summary = r.table_description().unwrap().restore_summary().unwrap();
    assert!(summary.source_backup_arn().is_none());
    assert_eq!(summary.restore_date_time(), &DateTime::from_millis(t));
    assert!(summary.restore_in_progress());
    wait_active(&c, &target).await;
    assert_eq!(items(&c, &target).await, [("a".into(), "1".into())]);

    // Latest: the current state; by ARN.
    let latest = unique_name("latest");
    let arn = format!("arn:aws:dynamodb:us-east-1:000000000000:table/{table}");
    c.restore_table_to_point_in_time()
        .source_table_arn(&arn)
        .target_table_name(&latest)
        .use_latest_restorable_time(true)
        .send()
        .await
        .unwrap();
    wait_active(&c, &latest).await;
    assert_eq!(items(&c, &latest).await, [("b".into(), "2".into())]);

    // Before the window (PITR was enabled at T0) and after it.
    for outside in [T0 - 1_000, T0 + 60_000] {
        let err = c
            .restore_table_to_point_in_time()
            .source_table_name(&table)
            .target_table_name(unique_name("outside"))
            .restore_date_time(DateTime::from_millis(outside))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_parts(&err).0, "InvalidRestoreTimeException");
    }
    let err = c
        .restore_table_to_point_in_time()
        .source_table_name("no-such-table")
        .target_table_name(unique_name("x"))
        .use_latest_restorable_time(true)
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
    let err = c
        .restore_table_to_point_in_time()
        .source_table_name(&table)
        .target_table_name(&latest)
        .use_latest_restorable_time(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_parts(&err).0, "TableAlreadyExistsException");
    server.stop().await;
});

ddb_test!(
    deleting_a_table_with_pitr_makes_a_system_backup,
    |mode| async move {
        let clock = ManualClock::new(T0);
        let server =
            TestServer::start_with_engine_config(mode, EngineConfig::default(), clock.clone())
                .await;
        let c = server.client();
        let table = create_pk_table(&c, "sys", None).await;
        set_pitr(&c, &table, true).await;
        put(&c, &table, "a", "1").await;
        c.delete_table().table_name(&table).send().await.unwrap();

        let user = c.list_backups().table_name(&table).send().await.unwrap();
        assert!(
            user.backup_summaries().is_empty(),
            "SYSTEM backups are not listed by default"
        );
        for kind in [BackupTypeFilter::System, BackupTypeFilter::All] {
            let listed = c
                .list_backups()
                .table_name(&table)
                .backup_type(kind)
                .send()
                .await
                .unwrap();
            assert_eq!(listed.backup_summaries().len(), 1);
        }
        let listed = c
            .list_backups()
            .backup_type(BackupTypeFilter::System)
            .send()
            .await
            .unwrap();
        let s = listed
            .backup_summaries()
            .iter()
            .find(|s| s.table_name() == Some(table.as_str()))
            .unwrap();
        assert_eq!(
            s.backup_name(),
            Some(format!("{table}$DeletedTableBackup").as_str())
        );
        assert_eq!(s.backup_type().map(|t| t.as_str()), Some("SYSTEM"));
        assert_eq!(s.backup_status().map(|t| t.as_str()), Some("AVAILABLE"));
        assert_eq!(
            s.backup_expiry_date_time(),
            Some(&DateTime::from_millis(T0 + 35 * 86_400_000))
        );
        let target = unique_name("undeleted");
        c.restore_table_from_backup()
            .target_table_name(&target)
            .backup_arn(s.backup_arn().unwrap())
            .send()
            .await
            .unwrap();
        wait_active(&c, &target).await;
        assert_eq!(items(&c, &target).await, [("a".into(), "1".into())]);

        // Expired after 35 days: the background task drops it.
        clock.advance(35 * 86_400_000);
        for _ in 0..300 {
            let listed = c
                .list_backups()
                .table_name(&table)
                .backup_type(BackupTypeFilter::All)
                .send()
                .await
                .unwrap();
            if listed.backup_summaries().is_empty() {
                server.stop().await;
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the expired SYSTEM backup is still listed");
    }
);
