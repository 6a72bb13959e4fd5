//! Global tables across three daxlite servers on loopback (us-east-1, eu-west-1,
//! us-west-2), each with its own engine and the other two as `[[global.peer]]`:
//! replica creation with backfill, DescribeTable's `Replicas`, replica deletion, and
//! the ReplicaUpdates validation rows, all through aws-sdk-dynamodb; continuous
//! replication in `global_tables/replication.rs`.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeValue, CreateReplicationGroupMemberAction, DeleteReplicationGroupMemberAction,
    ReplicaStatus, ReplicationGroupUpdate, StreamViewType,
};
use aws_sdk_dynamodb::Client;
use daxlite::config::Peer;
use daxlite_tests::{create_pk_table, error_parts, Mode, TestServer};

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "us-west-2"];

/// How the three regions are started.
#[derive(Default, Clone)]
struct Setup {
    /// Keep each region's data in `<dir>/<region>` (restartable).
    dir: Option<std::path::PathBuf>,
    /// `[global] replication_delay_ms`.
    delay_ms: u64,
    /// Each region's TTL sweep interval (None: the default).
    ttl_sweep_ms: Option<[i64; 3]>,
    /// `[engine] stream_max_bytes` of every region (None: the default).
    stream_max_bytes: Option<u64>,
    /// Every region verifies signatures (`[auth] verify`, keys AKIDTEST and PEERKEY) and
    /// signs its calls to the others with PEERKEY.
    peer_key: bool,
}

/// Three free loopback addresses.
fn addresses() -> Vec<std::net::SocketAddr> {
    // Reserve three ports, then let each server bind its own.
    let listeners: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("addr"))
        .collect()
}

/// Region `i` of three at `addrs`, knowing the other two as peers, with an admin
/// listener.
async fn start_region(i: usize, addrs: &[std::net::SocketAddr], setup: &Setup) -> TestServer {
    let region = REGIONS[i];
    let mut config = Mode::Cached.config();
    config.listen = addrs[i];
    config.admin = Some("127.0.0.1:0".parse().expect("admin addr"));
    config.engine.region = region.to_string();
    config.service.region = region.to_string();
    if let Some(dir) = &setup.dir {
        config.engine.backend = daxlite_engine::Backend::Dir(dir.join(region));
    }
    config.replication_delay = Duration::from_millis(setup.delay_ms);
    if let Some(sweep) = setup.ttl_sweep_ms {
        config.engine.ttl_sweep_interval_ms = sweep[i];
    }
    if let Some(max) = setup.stream_max_bytes {
        config.engine.stream_max_bytes = max;
    }
    if setup.peer_key {
        config.service.auth = Some(std::sync::Arc::new(daxlite::auth::sigv4::Keys::new([
            ("AKIDTEST".to_string(), "secret".to_string()),
            ("PEERKEY".to_string(), "peersecret".to_string()),
        ])));
    }
    config.peers = REGIONS
        .iter()
        .zip(addrs)
        .filter(|(r, _)| **r != region)
        .map(|(r, a)| Peer {
            region: r.to_string(),
            url: format!("http://{a}").parse().expect("url"),
            credentials: setup
                .peer_key
                .then(|| ("PEERKEY".to_string(), "peersecret".to_string())),
        })
        .collect();
    TestServer::start_with(config, None).await
}

/// Three servers, each knowing the other two as peers.
async fn three_regions() -> Vec<TestServer> {
    three_regions_with(&Setup::default(), &addresses()).await
}

async fn three_regions_with(setup: &Setup, addrs: &[std::net::SocketAddr]) -> Vec<TestServer> {
    let mut servers = Vec::new();
    for i in 0..3 {
        servers.push(start_region(i, addrs, setup).await);
    }
    servers
}

fn create(region: &str) -> ReplicationGroupUpdate {
    ReplicationGroupUpdate::builder()
        .create(
            CreateReplicationGroupMemberAction::builder()
                .region_name(region)
                .build()
                .expect("action"),
        )
        .build()
}

fn delete(region: &str) -> ReplicationGroupUpdate {
    ReplicationGroupUpdate::builder()
        .delete(
            DeleteReplicationGroupMemberAction::builder()
                .region_name(region)
                .build()
                .expect("action"),
        )
        .build()
}

async fn scan(client: &Client, table: &str) -> Vec<String> {
    let out = client
        .scan()
        .table_name(table)
        .consistent_read(true)
        .send()
        .await
        .expect("scan");
    // Each item with its attributes in name order, so equal items print alike.
    let mut items: Vec<String> = out
        .items()
        .iter()
        .map(|i| {
            format!(
                "{:?}",
                i.iter().collect::<std::collections::BTreeMap<_, _>>()
            )
        })
        .collect();
    items.sort();
    items
}

async fn replica_status(client: &Client, table: &str, region: &str) -> Option<ReplicaStatus> {
    let d = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe");
    d.table()?
        .replicas()
        .iter()
        .find(|r| r.region_name() == Some(region))
        .and_then(|r| r.replica_status().cloned())
}

async fn wait_for(client: &Client, table: &str, region: &str, want: Option<ReplicaStatus>) {
    let start = Instant::now();
    while replica_status(client, table, region).await != want {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "replica {region} never reached {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_is_created_with_the_existing_items_and_deleted() {
    let servers = three_regions().await;
    let (east, west) = (servers[0].client(), servers[1].client());
    let table = create_pk_table(&east, "global", None).await;
    for i in 0..25 {
        east.put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S(format!("k{i}")))
            .item("v", AttributeValue::N(i.to_string()))
            .send()
            .await
            .expect("put");
    }
    // A regional table has none of the global keys.
    let d = east
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("describe");
    let t = d.table().expect("table");
    assert!(t.global_table_version().is_none());
    assert!(t.replicas().is_empty());

    let out = east
        .update_table()
        .table_name(&table)
        .replica_updates(create("eu-west-1"))
        .send()
        .await
        .expect("create replica");
    let t = out.table_description().expect("description");
    assert_eq!(t.table_status().map(|s| s.as_str()), Some("UPDATING"));
    wait_for(&east, &table, "eu-west-1", Some(ReplicaStatus::Active)).await;

    let d = east
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("describe");
    let t = d.table().expect("table");
    assert_eq!(t.global_table_version(), Some("2019.11.21"));
    assert_eq!(t.replicas().len(), 1, "only the other region is listed");
    let stream = t.stream_specification().expect("stream turned on");
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type(),
        Some(&StreamViewType::NewAndOldImages)
    );
    // The replica is a real table in the peer, with every item copied.
    let source = scan(&east, &table).await;
    assert_eq!(source.len(), 25);
    assert_eq!(scan(&west, &table).await, source);
    let peer = west
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("peer table");
    let peer_stream = peer.table().and_then(|t| t.stream_specification()).cloned();
    assert_eq!(
        peer_stream.and_then(|s| s.stream_view_type().cloned()),
        Some(StreamViewType::NewAndOldImages)
    );
    // The third region has no copy.
    assert!(servers[2]
        .client()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .is_err());

    east.update_table()
        .table_name(&table)
        .replica_updates(delete("eu-west-1"))
        .send()
        .await
        .expect("delete replica");
    wait_for(&east, &table, "eu-west-1", None).await;
    let d = east
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("describe");
    assert!(d.table().and_then(|t| t.global_table_version()).is_none());
    let gone = west.describe_table().table_name(&table).send().await;
    let err = gone.expect_err("the replica table is deleted");
    assert_eq!(error_parts(&err).0, "ResourceNotFoundException");

    // Deleting the source table while it has a replica ends its membership: a new table
    // of that name is regional.
    east.update_table()
        .table_name(&table)
        .replica_updates(create("us-west-2"))
        .send()
        .await
        .expect("create replica");
    wait_for(&east, &table, "us-west-2", Some(ReplicaStatus::Active)).await;
    east.delete_table()
        .table_name(&table)
        .send()
        .await
        .expect("delete table");
    create_pk_table_named(&east, &table).await;
    let d = east
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("describe");
    assert!(d.table().and_then(|t| t.global_table_version()).is_none());
    assert_eq!(
        scan(&servers[2].client(), &table).await.len(),
        25,
        "the replica stays"
    );
    for s in servers {
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replica_updates_validation_rows() {
    let servers = three_regions().await;
    let east = servers[0].client();
    let table = create_pk_table(&east, "global-v", None).await;
    let err_of = |r: Result<_, aws_sdk_dynamodb::error::SdkError<_, _>>| {
        let e = r.expect_err("rejected");
        error_parts(&e)
    };
    let v = |m: &str| ("ValidationException".to_string(), m.to_string());

    let r = east
        .update_table()
        .table_name(&table)
        .replica_updates(create("us-east-1"))
        .send()
        .await;
    assert_eq!(err_of(r), v("Cannot add or delete the local region through ReplicaUpdates. Use CreateTable, DeleteTable, or UpdateTable as required."));
    let r = east
        .update_table()
        .table_name(&table)
        .replica_updates(create("ap-south-1"))
        .send()
        .await;
    assert_eq!(err_of(r), v("Region ap-south-1 is not supported. The latest version of global tables are only supported in the following regions: [eu-west-1, us-east-1, us-west-2]"));
    let r = east
        .update_table()
        .table_name(&table)
        .replica_updates(create("eu-west-1"))
        .replica_updates(create("us-west-2"))
        .send()
        .await;
    assert_eq!(err_of(r), v("Update table operation with more than one create or delete replica actions not allowed"));
    let r = east
        .update_table()
        .table_name(&table)
        .replica_updates(create("eu-west-1"))
        .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
        .send()
        .await;
    assert_eq!(
        err_of(r),
        v("Requests that modify replicas or witnesses must not also modify other fields")
    );
    let r = east
        .update_table()
        .table_name(&table)
        .replica_updates(ReplicationGroupUpdate::builder().build())
        .send()
        .await;
    assert_eq!(
        err_of(r),
        v("There are no actions specified in the Replica Update Action of the request.")
    );
    let r = east
        .update_table()
        .table_name(&table)
        .replica_updates(delete("us-west-2"))
        .send()
        .await;
    assert_eq!(err_of(r), v("Update global table operation failed because one or more replicas were not part of the global table. Please retry the request without these replicas: [us-west-2]."));
    // Multi-Region strong consistency is not built: refused as DynamoDB refuses regions
    // that cannot serve it, never accepted as an eventual group.
    let r = east
        .update_table()
        .table_name(&table)
        .replica_updates(create("eu-west-1"))
        .replica_updates(create("us-west-2"))
        .multi_region_consistency(aws_sdk_dynamodb::types::MultiRegionConsistency::Strong)
        .send()
        .await;
    assert_eq!(err_of(r), v("Unsupported Region(s) specified for global tables with MultiRegionConsistency set to STRONG: [eu-west-1]."));
    let d = east
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("describe");
    assert!(
        d.table().is_some_and(|t| t.replicas().is_empty()),
        "no replica was made"
    );
    // A table of that name already in the peer.
    create_pk_table_named(&servers[2].client(), &table).await;
    let r = east
        .update_table()
        .table_name(&table)
        .replica_updates(create("us-west-2"))
        .send()
        .await;
    assert_eq!(err_of(r), v(&format!("Failed to create a the new replica of table with name: '{table}' because one or more replicas already existed as tables.")));
    // A missing table.
    let r = east
        .update_table()
        .table_name("missing")
        .replica_updates(create("eu-west-1"))
        .send()
        .await;
    assert_eq!(err_of(r).0, "ResourceNotFoundException");
    for s in servers {
        s.stop().await;
    }
}

async fn create_pk_table_named(client: &Client, name: &str) {
    use aws_sdk_dynamodb::types::{BillingMode, KeyType, ScalarAttributeType};
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(daxlite_tests::attr("pk", ScalarAttributeType::S))
        .key_schema(daxlite_tests::key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create");
}

#[path = "global_tables/chaos.rs"]
mod chaos;
#[path = "global_tables/replication.rs"]
mod replication;
#[path = "global_tables/sigkill.rs"]
mod sigkill;
#[path = "global_tables/support.rs"]
mod support;

/// The legacy 2017.11.29 operations answer as AWS does today (spec §1.4).
#[tokio::test]
async fn legacy_global_table_operations_answer_as_aws_does_today() {
    let server = TestServer::start(Mode::Cached).await;
    let c = server.client();
    let table = create_pk_table(&c, "legacy-gt", None).await;
    let err = c
        .create_global_table()
        .global_table_name(&table)
        .replication_group(
            aws_sdk_dynamodb::types::Replica::builder()
                .region_name("us-east-1")
                .build(),
        )
        .send()
        .await
        .expect_err("create");
    assert_eq!(
        error_parts(&err),
        (
            "ValidationException".to_string(),
            daxlite_engine::api::legacy_global::NOT_SUPPORTED.to_string()
        )
    );
    let err = c
        .describe_global_table()
        .global_table_name(&table)
        .send()
        .await
        .expect_err("describe");
    assert_eq!(
        error_parts(&err),
        (
            "GlobalTableNotFoundException".to_string(),
            format!("Global table not found: Global table with name: '{table}' does not exist.")
        )
    );
    let err = c
        .describe_global_table_settings()
        .global_table_name(&table)
        .send()
        .await
        .expect_err("settings");
    assert_eq!(
        error_parts(&err),
        (
            "GlobalTableNotFoundException".to_string(),
            format!("Global table with name: '{table}' does not exist.")
        )
    );
    let list = c.list_global_tables().send().await.expect("list");
    assert!(list.global_tables().is_empty());
    server.stop().await;
}
