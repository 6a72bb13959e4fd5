//! Global tables across three daxlite servers on loopback (us-east-1, eu-west-1,
//! us-west-2), each with its own engine and the other two as `[[global.peer]]`:
//! replica creation with backfill, DescribeTable's `Replicas`, replica deletion, and
//! the ReplicaUpdates validation rows, all through aws-sdk-dynamodb.

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
    config.peers = REGIONS
        .iter()
        .zip(addrs)
        .filter(|(r, _)| **r != region)
        .map(|(r, a)| Peer {
            region: r.to_string(),
            url: format!("http://{a}").parse().expect("url"),
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

/// Scans `table` in every region until all agree (and `done` holds for the items), at
/// most `within` after the call; answers the common items.
async fn converge(
    servers: &[TestServer],
    table: &str,
    within: Duration,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let start = Instant::now();
    loop {
        let mut scans = Vec::new();
        for s in servers {
            scans.push(scan(&s.client(), table).await);
        }
        if scans.windows(2).all(|w| w[0] == w[1]) && done(&scans[0]) {
            return scans.swap_remove(0);
        }
        assert!(
            start.elapsed() < within,
            "the regions did not converge within {within:?}: {:#?}",
            scans.iter().map(|s| s.len()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A global table in all three regions, made from us-east-1.
async fn global_table(servers: &[TestServer], prefix: &str) -> String {
    let east = servers[0].client();
    let table = create_pk_table(&east, prefix, None).await;
    for region in ["eu-west-1", "us-west-2"] {
        east.update_table()
            .table_name(&table)
            .replica_updates(create(region))
            .send()
            .await
            .expect("create replica");
        wait_for(&east, &table, region, Some(ReplicaStatus::Active)).await;
    }
    table
}

async fn put(client: &Client, table: &str, pk: &str, v: &str) {
    client
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()))
        .item("v", AttributeValue::S(v.into()))
        .send()
        .await
        .expect("put");
}

async fn get_v(client: &Client, table: &str, pk: &str) -> Option<String> {
    let out = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .send()
        .await
        .expect("get");
    out.item()
        .and_then(|i| i.get("v"))
        .and_then(|v| v.as_s().ok())
        .cloned()
}

/// POSTs `{"RegionName": region}` to the admin endpoint `path` of `server`.
async fn admin(server: &TestServer, path: &str, region: &str) {
    let addr = server.admin.expect("admin listener");
    let body = format!(r#"{{"RegionName":"{region}"}}"#);
    let r = daxlite_tests::raw_at(
        addr,
        "POST",
        path,
        &[("content-type", "application/json")],
        body.into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{path}: {}", r.text());
}

/// Pauses (or resumes) replication between every pair of regions.
async fn partition_all(servers: &[TestServer], paused: bool) {
    let path = if paused {
        "/global/pause"
    } else {
        "/global/resume"
    };
    for (i, s) in servers.iter().enumerate() {
        for (j, region) in REGIONS.iter().enumerate() {
            if i != j {
                admin(s, path, region).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_write_in_every_region_converges() {
    let servers = three_regions().await;
    let table = global_table(&servers, "global-all").await;
    let (east, eu, west) = (
        servers[0].client(),
        servers[1].client(),
        servers[2].client(),
    );
    // The cache in front of us-west-2 holds k1 before us-east-1 changes it.
    put(&east, &table, "k1", "first").await;
    let start = Instant::now();
    while get_v(&west, &table, "k1").await.as_deref() != Some("first") {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "k1 never reached us-west-2"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // us-east-1: puts, an update, a delete.
    for i in 0..10 {
        put(&east, &table, &format!("k{i}"), &format!("east{i}")).await;
    }
    east.update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("k1".into()))
        .update_expression("SET v = :v, n = :n")
        .expression_attribute_values(":v", AttributeValue::S("updated".into()))
        .expression_attribute_values(":n", AttributeValue::N("7".into()))
        .send()
        .await
        .expect("update");
    east.delete_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("k2".into()))
        .send()
        .await
        .expect("delete");
    // eu-west-1: a batch (puts and a delete) and a transaction.
    use aws_sdk_dynamodb::types::{
        DeleteRequest, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
    };
    let mut batch: Vec<WriteRequest> = (20..30)
        .map(|i| {
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .item("pk", AttributeValue::S(format!("b{i}")))
                        .item("v", AttributeValue::S("eu".into()))
                        .build()
                        .expect("put request"),
                )
                .build()
        })
        .collect();
    batch.push(
        WriteRequest::builder()
            .delete_request(
                DeleteRequest::builder()
                    .key("pk", AttributeValue::S("k3".into()))
                    .build()
                    .expect("delete request"),
            )
            .build(),
    );
    // k3 must exist in eu-west-1 before its deletion there means anything.
    let start = Instant::now();
    while get_v(&eu, &table, "k3").await.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "k3 never reached eu-west-1"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    eu.batch_write_item()
        .request_items(&table, batch)
        .send()
        .await
        .expect("batch");
    eu.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&table)
                        .item("pk", AttributeValue::S("t1".into()))
                        .item("v", AttributeValue::S("txn".into()))
                        .build()
                        .expect("put"),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&table)
                        .key("pk", AttributeValue::S("t2".into()))
                        .update_expression("SET v = :v")
                        .expression_attribute_values(":v", AttributeValue::S("txn".into()))
                        .build()
                        .expect("update"),
                )
                .build(),
        )
        .send()
        .await
        .expect("transaction");
    // us-west-2: PartiQL.
    for statement in [
        format!("INSERT INTO \"{table}\" VALUE {{'pk': 'p1', 'v': 'partiql'}}"),
        format!("DELETE FROM \"{table}\" WHERE pk = 'k4'"),
    ] {
        west.execute_statement()
            .statement(statement)
            .send()
            .await
            .expect("partiql");
    }
    let items = converge(&servers, &table, Duration::from_secs(2), |items| {
        items.len() == 10 - 3 + 10 + 2 + 1
    })
    .await;
    let text = items.join("\n");
    for gone in ["\"k2\"", "\"k3\"", "\"k4\""] {
        assert!(!text.contains(gone), "{gone} was deleted: {text}");
    }
    for here in ["updated", "partiql", "\"b29\"", "\"t2\""] {
        assert!(text.contains(here), "{here} is missing: {text}");
    }
    // The cache in front of us-west-2 dropped k1 when the replicated update arrived.
    assert_eq!(get_v(&west, &table, "k1").await.as_deref(), Some("updated"));
    // ReplicationLatency per receiving region.
    let metrics = daxlite_tests::raw_at(servers[0].addr, "GET", "/metrics", &[], Vec::new()).await;
    let text = metrics.text();
    assert!(
        text.contains("daxlite_global_replication_latency_ms")
            && text.contains("region=\"us-west-2\""),
        "{text}"
    );
    for s in servers {
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_writes_converge_to_one_winner() {
    let servers = three_regions().await;
    let table = global_table(&servers, "global-lww").await;
    let clients: Vec<Client> = servers.iter().map(TestServer::client).collect();
    // The same keys written at once in all three regions.
    for round in 0..20 {
        let pk = format!("c{round}");
        let (a, b, c) = tokio::join!(
            put(&clients[0], &table, &pk, "us-east-1"),
            put(&clients[1], &table, &pk, "eu-west-1"),
            put(&clients[2], &table, &pk, "us-west-2"),
        );
        let _ = (a, b, c);
    }
    let items = converge(&servers, &table, Duration::from_secs(2), |items| {
        items.len() == 20
    })
    .await;
    assert_eq!(items.len(), 20);

    // Cut every region off, write one key in two regions, the later in us-east-1 (the
    // smaller region name, so the clock decides, not the tie-break), then heal.
    partition_all(&servers, true).await;
    put(&clients[2], &table, "x", "from us-west-2").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    put(&clients[0], &table, "x", "from us-east-1").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        get_v(&clients[1], &table, "x").await,
        None,
        "nothing reaches a cut-off region"
    );
    assert_eq!(
        get_v(&clients[2], &table, "x").await.as_deref(),
        Some("from us-west-2"),
        "each region reads its own write while cut off"
    );
    partition_all(&servers, false).await;
    converge(&servers, &table, Duration::from_secs(2), |items| {
        items.len() == 21
    })
    .await;
    for c in &clients {
        assert_eq!(
            get_v(c, &table, "x").await.as_deref(),
            Some("from us-east-1"),
            "the later write wins everywhere"
        );
    }
    for s in servers {
        s.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_replica_catches_up_with_nothing_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let setup = Setup {
        dir: Some(dir.path().to_path_buf()),
        ..Setup::default()
    };
    let addrs = addresses();
    let mut servers = three_regions_with(&setup, &addrs).await;
    let table = global_table(&servers, "global-restart").await;
    for i in 0..10 {
        put(&servers[0].client(), &table, &format!("a{i}"), "before").await;
    }
    converge(&servers, &table, Duration::from_secs(2), |items| {
        items.len() == 10
    })
    .await;
    // us-west-2 writes, then goes down at once (its shipper may not have sent them yet).
    let west = servers.remove(2);
    for i in 0..5 {
        put(
            &west.client(),
            &table,
            &format!("w{i}"),
            "west, just before it stopped",
        )
        .await;
    }
    west.stop().await;
    // Life goes on in the two others: puts, updates and deletes.
    for i in 0..10 {
        put(
            &servers[0].client(),
            &table,
            &format!("a{i}"),
            "while west was down",
        )
        .await;
    }
    for i in 0..3 {
        servers[1]
            .client()
            .delete_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(format!("a{i}")))
            .send()
            .await
            .expect("delete");
    }
    put(&servers[1].client(), &table, "e1", "eu while west was down").await;
    // us-west-2 comes back from its data directory and catches up.
    servers.push(start_region(2, &addrs, &setup).await);
    let items = converge(&servers, &table, Duration::from_secs(5), |items| {
        items.len() == 7 + 5 + 1
    })
    .await;
    let text = items.join("\n");
    assert!(!text.contains("\"before\""), "every update arrived: {text}");
    assert!(
        text.contains("\"w4\""),
        "west's last writes were shipped: {text}"
    );
    // Its membership survived the restart: its new writes replicate.
    put(&servers[2].client(), &table, "after", "west after restart").await;
    converge(&servers, &table, Duration::from_secs(2), |items| {
        items.len() == 14
    })
    .await;
    let d = servers[2]
        .client()
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.table().map(|t| t.replicas().len()),
        Some(2),
        "us-west-2 lists the two other regions"
    );
    for s in servers {
        s.stop().await;
    }
}

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
