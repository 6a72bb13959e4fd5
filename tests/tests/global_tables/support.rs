//! Helpers of the replication tests: a global table in all three regions, convergence
//! by full scans, puts and gets, the admin listener's pause / resume.

use super::*;

/// Scans `table` in every region until all agree (and `done` holds for the items), at
/// most `within` after the call; answers the common items.
pub async fn converge(
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
pub async fn global_table(servers: &[TestServer], prefix: &str) -> String {
    let east = servers[0].client();
    let table = create_pk_table(&east, prefix, None).await;
    add_replicas(&east, &table).await;
    table
}

/// Makes `table` (of us-east-1, through `east`) a global table in the other two regions.
pub async fn add_replicas(east: &Client, table: &str) {
    for region in ["eu-west-1", "us-west-2"] {
        east.update_table()
            .table_name(table)
            .replica_updates(create(region))
            .send()
            .await
            .expect("create replica");
        wait_for(east, table, region, Some(ReplicaStatus::Active)).await;
    }
}

pub async fn put(client: &Client, table: &str, pk: &str, v: &str) {
    client
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()))
        .item("v", AttributeValue::S(v.into()))
        .send()
        .await
        .expect("put");
}

pub async fn get_v(client: &Client, table: &str, pk: &str) -> Option<String> {
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
pub async fn admin(server: &TestServer, path: &str, region: &str) {
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
pub async fn partition_all(servers: &[TestServer], paused: bool) {
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
