//! The replication delay, TTL settings and deletions across regions, and a lag
//! measurement under load.

use super::support::*;
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_delay_holds_changes_back() {
    let setup = Setup {
        delay_ms: 500,
        ..Setup::default()
    };
    let servers = three_regions_with(&setup, &addresses()).await;
    let table = global_table(&servers, "global-delay").await;
    put(&servers[0].client(), &table, "d", "delayed").await;
    let written = Instant::now();
    let eu = servers[1].client();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        get_v(&eu, &table, "d").await,
        None,
        "not there before the delay"
    );
    while get_v(&eu, &table, "d").await.is_none() {
        assert!(written.elapsed() < Duration::from_secs(3), "never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(written.elapsed() >= Duration::from_millis(500));
    for s in servers {
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_settings_and_ttl_deletions_replicate() {
    // Only us-east-1 sweeps within the test: the others see its deletions replicated.
    let setup = Setup {
        ttl_sweep_ms: Some([100, 600_000, 600_000]),
        ..Setup::default()
    };
    let servers = three_regions_with(&setup, &addresses()).await;
    let table = global_table(&servers, "global-ttl").await;
    let east = servers[0].client();
    east.update_time_to_live()
        .table_name(&table)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("exp")
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("ttl");
    let start = Instant::now();
    loop {
        let d = servers[1]
            .client()
            .describe_time_to_live()
            .table_name(&table)
            .send()
            .await
            .expect("describe ttl");
        let name = d
            .time_to_live_description()
            .and_then(|t| t.attribute_name().map(str::to_string));
        if name.as_deref() == Some("exp") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "TTL setting never replicated"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    put(&east, &table, "keep", "no exp").await;
    let a_minute_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        - 60;
    east.put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("expired".into()))
        .item("exp", AttributeValue::N(a_minute_ago.to_string()))
        .send()
        .await
        .expect("put");
    converge(&servers, &table, Duration::from_secs(3), |items| {
        items.len() == 1 && items[0].contains("keep")
    })
    .await;
    for s in servers {
        s.stop().await;
    }
}

/// Replication lag under load (a measurement, not a check; run with `--ignored
/// --nocapture`): 8 writers put 2,000 items in us-east-1 while it replicates to the two
/// others; prints the write rate and the lag quantiles from `/metrics`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn replication_lag_under_load() {
    let servers = three_regions().await;
    let table = global_table(&servers, "global-lag").await;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (client, table) = (servers[0].client(), table.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..250 {
                put(&client, &table, &format!("w{w}-{i}"), "load").await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    let took = start.elapsed();
    converge(&servers, &table, Duration::from_secs(30), |items| {
        items.len() == 2000
    })
    .await;
    let converged = start.elapsed();
    // The exporter folds samples into quantiles every 5 s.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let metrics = daxlite_tests::raw_at(servers[0].addr, "GET", "/metrics", &[], Vec::new()).await;
    println!(
        "2000 puts in {took:?} ({:.0}/s); all three regions equal after {converged:?}",
        2000.0 / took.as_secs_f64()
    );
    for line in metrics
        .text()
        .lines()
        .filter(|l| l.starts_with("daxlite_global_replication_latency_ms"))
    {
        println!("{line}");
    }
    for s in servers {
        s.stop().await;
    }
}

/// A replica cut off while its changes are trimmed from the stream (here by a small
/// `stream_max_bytes`; in AWS by 24 h retention) is re-seeded when it comes back: the
/// overwrites, the new items and the deletions it missed all reach it, and its own
/// writes made meanwhile stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_behind_the_trimmed_stream_is_re_seeded() {
    let setup = Setup {
        ttl_sweep_ms: Some([100, 100, 100]),
        stream_max_bytes: Some(8 * 1024),
        ..Setup::default()
    };
    let servers = three_regions_with(&setup, &addresses()).await;
    let table = global_table(&servers, "global-reseed").await;
    let east = servers[0].client();
    for i in 0..20 {
        put(&east, &table, &format!("k{i}"), "old").await;
    }
    converge(&servers, &table, Duration::from_secs(5), |items| {
        items.len() == 20
    })
    .await;
    // Cut us-west-2 off from us-east-1 only.
    admin(&servers[0], "/global/pause", "us-west-2").await;
    for i in 0..10 {
        east.delete_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(format!("k{i}")))
            .send()
            .await
            .expect("delete");
    }
    for i in 10..20 {
        put(&east, &table, &format!("k{i}"), "new").await;
    }
    let filler = "x".repeat(300);
    for i in 0..100 {
        put(&east, &table, &format!("f{i}"), &filler).await;
    }
    // us-west-2's own write meanwhile, shipped to the others as usual.
    put(&servers[2].client(), &table, "w", "west").await;
    // The background task trims the stream down to its cap (every 100 ms here).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    admin(&servers[0], "/global/resume", "us-west-2").await;
    let items = converge(&servers, &table, Duration::from_secs(10), |items| {
        items.len() == 10 + 100 + 1
    })
    .await;
    assert!(
        items.iter().all(|i| !i.contains("\"old\"")),
        "an overwrite was missed"
    );
    for s in servers {
        s.stop().await;
    }
}

/// Settings DynamoDB keeps group-wide follow an UpdateTable made in any member: a GSI
/// created in us-east-1 appears (backfilled) in the other regions and answers Queries
/// there, the table class changes everywhere; deletion protection stays regional.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_wide_table_settings_follow_an_update_table() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndexUpdate,
        KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType, TableClass,
    };
    let servers = three_regions().await;
    let table = global_table(&servers, "global-settings").await;
    let east = servers[0].client();
    put(&east, &table, "a", "x").await;
    east.update_table()
        .table_name(&table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("v")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name("byV")
                        .key_schema(
                            KeySchemaElement::builder()
                                .attribute_name("v")
                                .key_type(KeyType::Hash)
                                .build()
                                .expect("key"),
                        )
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .expect("gsi"),
                )
                .build(),
        )
        .send()
        .await
        .expect("create GSI");
    // By ARN: the peers are told the table's name.
    let arn = east
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("describe")
        .table()
        .and_then(|t| t.table_arn())
        .expect("TableArn")
        .to_string();
    east.update_table()
        .table_name(&arn)
        .table_class(TableClass::StandardInfrequentAccess)
        .send()
        .await
        .expect("table class");
    east.update_table()
        .table_name(&table)
        .deletion_protection_enabled(true)
        .send()
        .await
        .expect("deletion protection");
    let start = Instant::now();
    for s in &servers[1..] {
        let c = s.client();
        loop {
            let d = c
                .describe_table()
                .table_name(&table)
                .send()
                .await
                .expect("describe");
            let t = d.table().expect("table");
            let gsi_active = t.global_secondary_indexes().iter().any(|g| {
                g.index_name() == Some("byV")
                    && g.index_status() == Some(&aws_sdk_dynamodb::types::IndexStatus::Active)
            });
            let class = t
                .table_class_summary()
                .and_then(|c| c.table_class())
                .cloned();
            if gsi_active && class == Some(TableClass::StandardInfrequentAccess) {
                assert_eq!(t.deletion_protection_enabled(), Some(false), "regional");
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "settings never reached the region: GSI active {gsi_active}, class {class:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let q = c
            .query()
            .table_name(&table)
            .index_name("byV")
            .key_condition_expression("v = :v")
            .expression_attribute_values(":v", AttributeValue::S("x".into()))
            .send()
            .await
            .expect("query the replicated index");
        assert_eq!(q.count(), 1, "the GSI was backfilled");
    }
    for s in servers {
        s.stop().await;
    }
}

/// With signature verification on in every region, each signs its calls to the others
/// with the key its `[[global.peer]]` entry names: replicas are made and writes in every
/// region converge.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_sign_with_their_own_keys_when_regions_verify() {
    let setup = Setup {
        peer_key: true,
        ..Setup::default()
    };
    let servers = three_regions_with(&setup, &addresses()).await;
    let table = global_table(&servers, "global-signed").await;
    for (i, s) in servers.iter().enumerate() {
        put(&s.client(), &table, &format!("k{i}"), "v").await;
    }
    converge(&servers, &table, Duration::from_secs(5), |items| {
        items.len() == 3
    })
    .await;
    for s in servers {
        s.stop().await;
    }
}

/// Replica overrides (ReplicaUpdates `Update`): us-west-2's own read capacity, table
/// class and GSI read capacity are set from us-east-1, shown in every region's
/// `Replicas`, kept when a group-wide throughput change reaches us-west-2, and refused for
/// the local region with DynamoDB's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_overrides_apply_in_their_region_and_show_everywhere() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ProvisionedThroughput, ProvisionedThroughputOverride,
        ReplicaGlobalSecondaryIndex, ScalarAttributeType, TableClass,
        UpdateReplicationGroupMemberAction,
    };
    let servers = three_regions().await;
    let east = servers[0].client();
    let table = daxlite_tests::unique_name("global-overrides");
    let pt = |r: i64, w: i64| {
        ProvisionedThroughput::builder()
            .read_capacity_units(r)
            .write_capacity_units(w)
            .build()
            .expect("throughput")
    };
    let key = |n: &str| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(KeyType::Hash)
            .build()
            .expect("key")
    };
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attr")
    };
    east.create_table()
        .table_name(&table)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("g"))
        .key_schema(key("pk"))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("byG")
                .key_schema(key("g"))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .provisioned_throughput(pt(1, 1))
                .build()
                .expect("gsi"),
        )
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(pt(5, 5))
        .send()
        .await
        .expect("create");
    add_replicas(&east, &table).await;
    let update = |region: &str| UpdateReplicationGroupMemberAction::builder().region_name(region);
    let group_update =
        |a: UpdateReplicationGroupMemberAction| ReplicationGroupUpdate::builder().update(a).build();
    east.update_table()
        .table_name(&table)
        .replica_updates(group_update(
            update("us-west-2")
                .provisioned_throughput_override(
                    ProvisionedThroughputOverride::builder()
                        .read_capacity_units(7)
                        .build(),
                )
                .table_class_override(TableClass::StandardInfrequentAccess)
                .global_secondary_indexes(
                    ReplicaGlobalSecondaryIndex::builder()
                        .index_name("byG")
                        .provisioned_throughput_override(
                            ProvisionedThroughputOverride::builder()
                                .read_capacity_units(3)
                                .build(),
                        )
                        .build()
                        .expect("replica gsi"),
                )
                .build()
                .expect("update"),
        ))
        .send()
        .await
        .expect("override us-west-2");
    let describe = |c: Client| {
        let table = table.clone();
        async move {
            c.describe_table()
                .table_name(&table)
                .send()
                .await
                .expect("describe")
                .table()
                .cloned()
                .expect("table")
        }
    };
    // In us-west-2 itself: its table has the overridden settings.
    let west = describe(servers[2].client()).await;
    assert_eq!(
        west.provisioned_throughput()
            .and_then(|p| p.read_capacity_units()),
        Some(7)
    );
    assert_eq!(
        west.table_class_summary().and_then(|c| c.table_class()),
        Some(&TableClass::StandardInfrequentAccess)
    );
    assert_eq!(
        west.global_secondary_indexes()[0]
            .provisioned_throughput()
            .and_then(|p| p.read_capacity_units()),
        Some(3)
    );
    // Every other member shows them in Replicas.
    for s in &servers[..2] {
        let t = describe(s.client()).await;
        let r = t
            .replicas()
            .iter()
            .find(|r| r.region_name() == Some("us-west-2"))
            .expect("us-west-2 listed");
        assert_eq!(
            r.provisioned_throughput_override()
                .and_then(|o| o.read_capacity_units()),
            Some(7)
        );
        assert_eq!(
            r.replica_table_class_summary()
                .and_then(|c| c.table_class()),
            Some(&TableClass::StandardInfrequentAccess)
        );
        assert_eq!(r.global_secondary_indexes()[0].index_name(), Some("byG"));
    }
    // A group-wide throughput change: us-west-2 keeps its read override.
    east.update_table()
        .table_name(&table)
        .provisioned_throughput(pt(9, 8))
        .send()
        .await
        .expect("group-wide throughput");
    let start = Instant::now();
    loop {
        let eu = describe(servers[1].client()).await;
        let west = describe(servers[2].client()).await;
        let rw = |t: &aws_sdk_dynamodb::types::TableDescription| {
            t.provisioned_throughput()
                .map(|p| (p.read_capacity_units(), p.write_capacity_units()))
        };
        if rw(&eu) == Some((Some(9), Some(8))) && rw(&west) == Some((Some(7), Some(8))) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "eu {:?}, west {:?}",
            rw(&eu),
            rw(&west)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The local region cannot be updated through ReplicaUpdates.
    let err = east
        .update_table()
        .table_name(&table)
        .replica_updates(group_update(
            update("us-east-1")
                .table_class_override(TableClass::Standard)
                .build()
                .expect("update"),
        ))
        .send()
        .await
        .expect_err("local region");
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".to_string(),
            "Cannot add, delete, or update the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required.".to_string()
        )
    );
    for s in servers {
        s.stop().await;
    }
}
