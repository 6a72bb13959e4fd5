//! Cache coherence beyond DAX: (a) two cached daxlites with `[cache] follow_streams` in
//! front of one shared daxlite (engine only) converge after a write through the other,
//! within a few poll intervals, and report the delay; (b) over the embedded engine, a
//! Time to Live deletion (which no cached write path sees) invalidates the cached item
//! through the engine's change feed.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use daxlite::upstream::{Remote, RemoteConfig};
use daxlite::{Config, RunningServer};
use daxlite_tests::{call, client_for, unique_name, Mode, TestServer};

fn remote_to(addr: SocketAddr) -> Remote {
    let url = format!("http://{addr}").parse().unwrap();
    let mut rc = RemoteConfig::new(url, "us-east-1");
    rc.timeout = Duration::from_secs(5);
    let creds = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "t");
    Remote::with_static_credentials(rc, creds).unwrap()
}

async fn following_front(upstream: SocketAddr) -> RunningServer {
    let mut config = Config::ephemeral();
    config.follow.enabled = true;
    config.follow.interval = Duration::from_millis(50);
    daxlite::start_with_remote(&config, remote_to(upstream))
        .await
        .unwrap()
}

async fn get_v(c: &Client, table: &str, pk: &str) -> Option<String> {
    let out = c
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .send()
        .await
        .unwrap();
    out.item()
        .and_then(|i| i.get("v"))
        .and_then(|v| v.as_s().ok())
        .cloned()
}

async fn put_v(c: &Client, table: &str, pk: &str, v: &str, extra: Option<(&str, AttributeValue)>) {
    let mut req = c
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S(pk.into()))
        .item("v", AttributeValue::S(v.into()));
    if let Some((k, val)) = extra {
        req = req.item(k, val);
    }
    req.send().await.unwrap();
}

/// Polls `get` until it answers `want` (or 10 s pass); answers how long it took.
async fn converge(c: &Client, table: &str, pk: &str, want: Option<&str>) -> Duration {
    let start = Instant::now();
    loop {
        let got = get_v(c, table, pk).await;
        if got.as_deref() == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still {got:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn create_table(addr: SocketAddr, name: &str, stream: bool) {
    let spec = if stream {
        r#","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"KEYS_ONLY"}"#
    } else {
        ""
    };
    let body = format!(
        r#"{{"TableName":"{name}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST"{spec}}}"#
    );
    let r = call(addr, "DynamoDB_20120810.CreateTable", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

async fn metrics_text(addr: SocketAddr) -> String {
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

/// The GetItem hit count for `table` (metrics are process-wide, so any daxlite of this
/// process answers it; a unique table keeps it to one test).
async fn hits(addr: SocketAddr, table: &str) -> u64 {
    let label = format!("table=\"{table}\"");
    metrics_text(addr)
        .await
        .lines()
        .filter(|l| l.starts_with("daxlite_item_cache_hits") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Reads `pk` through `c` until a read is a cache hit answering `want` (a follower may
/// still drop an entry for an earlier write, so the first fill may not stay); fails after
/// 10 s. Proves the entry is really cached, so a later change must invalidate it.
async fn until_cached(c: &Client, metrics: SocketAddr, table: &str, pk: &str, want: &str) {
    let start = Instant::now();
    loop {
        let before = hits(metrics, table).await;
        let got = get_v(c, table, pk).await;
        if hits(metrics, table).await > before {
            assert_eq!(got.as_deref(), Some(want), "the cached value");
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never a hit; last {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_following_caches_converge_after_a_write_through_the_other() {
    let shared = TestServer::start(Mode::Engine).await;
    let a = following_front(shared.addr).await;
    let b = following_front(shared.addr).await;
    let (ca, cb) = (
        client_for(&format!("http://{}", a.addr)),
        client_for(&format!("http://{}", b.addr)),
    );
    let table = unique_name("coh");
    create_table(shared.addr, &table, true).await;
    put_v(&ca, &table, "k", "1", None).await;
    // B holds v=1 in its cache (a hit counted), so only an invalidation can make it
    // answer the next value.
    until_cached(&cb, shared.addr, &table, "k", "1").await;

    put_v(&ca, &table, "k", "2", None).await;
    let took = converge(&cb, &table, "k", Some("2")).await;
    assert!(took < Duration::from_secs(5), "B converged in {took:?}");
    until_cached(&ca, shared.addr, &table, "k", "2").await;
    put_v(&cb, &table, "k", "3", None).await;
    converge(&ca, &table, "k", Some("3")).await;
    until_cached(&ca, shared.addr, &table, "k", "3").await;
    // A delete through B reaches A's cache too.
    cb.delete_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("k".into()))
        .send()
        .await
        .unwrap();
    converge(&ca, &table, "k", None).await;
    assert!(metrics_text(b.addr)
        .await
        .contains("daxlite_cache_follow_delay_seconds"));
    a.shutdown().await;
    b.shutdown().await;
    shared.stop().await;
}

#[tokio::test]
async fn a_ttl_deletion_invalidates_the_cached_item() {
    let mut config = Config::ephemeral();
    config.engine.ttl_sweep_interval_ms = 100;
    let server = TestServer::start_with(config, None).await;
    let c = server.client();
    let table = unique_name("cohttl");
    create_table(server.addr, &table, false).await;
    let ttl = format!(
        r#"{{"TableName":"{table}","TimeToLiveSpecification":{{"Enabled":true,"AttributeName":"exp"}}}}"#
    );
    let r = call(server.addr, "DynamoDB_20120810.UpdateTimeToLive", &ttl).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let soon = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    put_v(
        &c,
        &table,
        "k",
        "1",
        Some(("exp", AttributeValue::N(soon.to_string()))),
    )
    .await;
    // Cached (write-through: the first read is a hit), and still there until the
    // sweeper deletes it.
    assert_eq!(get_v(&c, &table, "k").await.as_deref(), Some("1"));
    assert_eq!(hits(server.addr, &table).await, 1, "the read was not a hit");
    let took = converge(&c, &table, "k", None).await;
    assert!(
        took < Duration::from_secs(8),
        "gone from the cache after {took:?}"
    );
    server.stop().await;
}
