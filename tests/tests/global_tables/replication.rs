//! Continuous replication between the three regions: every kind of write converging,
//! conflicting writes and a partition healing, a replica stopped and restarted from its
//! data directory.

use super::support::*;
use super::*;

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
