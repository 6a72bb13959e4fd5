//! The admin listener end to end (invalidate an item and its partition's pages, a table,
//! everything; stats as JSON; refusals) and the metrics docs/CACHE.md names: request duration
//! by outcome, invalidations by cause, cache size gauges.

use std::net::SocketAddr;

use daxlite::cache::{CacheConfig, Cached};
use daxlite::upstream::Embedded;
use daxlite::Config;
use daxlite_tests::{call, unique_name};
use serde_json::Value;

use super::{counter, create_table, metrics_text};

/// One admin request: (status, JSON answer).
async fn admin(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    admin_as(addr, method, path, body, None).await
}

/// One admin request with an optional `Authorization` header.
async fn admin_as(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    authorization: Option<&str>,
) -> (u16, Value) {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let req = req
        .body(Full::new(bytes::Bytes::from(body.to_string())))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn admin_listener_invalidates_flushes_and_reports() {
    let mut config = Config::ephemeral();
    config.admin = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let engine = daxlite_engine::Engine::open(config.engine.clone()).unwrap();
    let cached = Cached::new(Embedded::new(engine), CacheConfig::default());
    let server = daxlite::serve_upstream(&config, cached).await.unwrap();
    let (addr, Some(admin_addr)) = (server.addr, server.admin_addr) else {
        panic!("no admin listener")
    };
    let t = unique_name("admin");
    create_table(addr, &t).await;
    let put = format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"v":{{"S":"x"}}}}}}"#);
    assert_eq!(
        call(addr, "DynamoDB_20120810.PutItem", &put).await.status,
        200
    );
    let get = format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}}}}}}"#);
    let query = format!(
        r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"a"}}}}}}"#
    );
    let misses = |m: &'static str| {
        let t = t.clone();
        async move { counter(addr, m, &t).await }
    };
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.GetItem", &get).await;
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.Query", &query).await;
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.Query", &query).await;
    assert_eq!(
        misses("daxlite_item_cache_misses").await,
        0,
        "the put cached the item"
    );
    assert_eq!(misses("daxlite_query_cache_misses").await, 1);

    // Stats.
    let (status, stats) = admin(admin_addr, "GET", "/stats", "").await;
    assert_eq!(status, 200, "{stats}");
    assert!(stats["entries"].as_u64().unwrap_or(0) >= 2, "{stats}");
    assert!(stats["cache_bytes"].as_u64().unwrap_or(0) > 0, "{stats}");
    assert_eq!(stats["max_bytes"], serde_json::json!(256 * 1024 * 1024));
    assert_eq!(stats["consistency"], "coherent");

    // One item (and its partition's pages).
    let item = format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}}}}}}"#);
    let (status, answer) = admin(admin_addr, "POST", "/invalidate-item", &item).await;
    assert_eq!(status, 200, "{answer}");
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.GetItem", &get).await;
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.Query", &query).await;
    assert_eq!(misses("daxlite_item_cache_misses").await, 1);
    assert_eq!(misses("daxlite_query_cache_misses").await, 2);

    // The table, then everything.
    let table = format!(r#"{{"TableName":"{t}"}}"#);
    assert_eq!(
        admin(admin_addr, "POST", "/invalidate-table", &table)
            .await
            .0,
        200
    );
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.GetItem", &get).await;
    assert_eq!(misses("daxlite_item_cache_misses").await, 2);
    assert_eq!(admin(admin_addr, "POST", "/flush", "").await.0, 200);
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.GetItem", &get).await;
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.GetItem", &get).await;
    assert_eq!(misses("daxlite_item_cache_misses").await, 3);

    // Refusals.
    assert_eq!(admin(admin_addr, "GET", "/flush", "").await.0, 405);
    assert_eq!(admin(admin_addr, "POST", "/nothing", "").await.0, 404);
    let bad = format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"N":"1"}}}}}}"#);
    assert_eq!(
        admin(admin_addr, "POST", "/invalidate-item", &bad).await.0,
        400
    );
    assert_eq!(
        admin(admin_addr, "POST", "/invalidate-table", "{}").await.0,
        400
    );

    // Metrics: duration by outcome, invalidations by cause, size gauges.
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.DescribeTable", &table).await;
    let text = metrics_text(addr).await;
    for (op, outcome) in [
        ("GetItem", "hit"),
        ("GetItem", "miss"),
        ("Query", "hit"),
        ("PutItem", "write"),
        ("DescribeTable", "pass-through"),
    ] {
        let needle = format!(r#"operation="{op}",outcome="{outcome}""#);
        assert!(
            text.lines()
                .any(|l| l.starts_with("daxlite_request_duration_seconds") && l.contains(&needle)),
            "no duration for {needle}"
        );
    }
    assert!(
        text.contains(r#"daxlite_invalidations{cause="admin"}"#),
        "{text}"
    );
    let gauge = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && !l.starts_with('#'))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
    };
    // The size gauges have no labels, and the other tests' servers in this process share
    // the metrics recorder: each scrape publishes this server's values, but another
    // server may publish its own in between, so a few scrapes are allowed.
    let mut text = text;
    for _ in 0..20 {
        let bytes = gauge(&text, "daxlite_cache_bytes ").is_some_and(|b| b > 0.0);
        let used =
            gauge(&text, "daxlite_cache_memory_utilization ").is_some_and(|u| u > 0.0 && u < 1.0);
        if bytes && used {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        text = metrics_text(addr).await;
    }
    assert!(
        gauge(&text, "daxlite_cache_bytes ").is_some_and(|b| b > 0.0),
        "{text}"
    );
    assert!(gauge(&text, "daxlite_cache_memory_utilization ").is_some_and(|u| u > 0.0 && u < 1.0));
    server.shutdown().await;
}

#[tokio::test]
async fn the_admin_listener_is_off_by_default() {
    let server = daxlite::serve_upstream(
        &Config::ephemeral(),
        Cached::new(
            Embedded::new(daxlite_engine::Engine::open(Config::ephemeral().engine).unwrap()),
            CacheConfig::default(),
        ),
    )
    .await
    .unwrap();
    assert!(server.admin_addr.is_none());
    server.shutdown().await;
}

#[tokio::test]
async fn admin_token_is_required_and_exposed_addresses_need_one() {
    let mut config = Config::ephemeral();
    config.admin = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    config.admin_token = Some("s3cret-token".into());
    let engine = daxlite_engine::Engine::open(config.engine.clone()).unwrap();
    let cached = Cached::new(Embedded::new(engine), CacheConfig::default());
    let server = daxlite::serve_upstream(&config, cached).await.unwrap();
    let Some(admin_addr) = server.admin_addr else {
        panic!("no admin listener")
    };
    for wrong in [
        None,
        Some("Bearer nope"),
        Some("s3cret-token"),
        Some("Bearer s3cret-tokenX"),
    ] {
        let (status, body) = admin_as(admin_addr, "GET", "/stats", "", wrong).await;
        assert_eq!(status, 401, "{wrong:?}: {body}");
    }
    let (status, body) =
        admin_as(admin_addr, "GET", "/stats", "", Some("Bearer s3cret-token")).await;
    assert_eq!(status, 200, "{body}");
    server.shutdown().await;

    // Every interface, no token: refused at start, naming the setting.
    let mut config = Config::ephemeral();
    config.admin = Some(SocketAddr::from(([0, 0, 0, 0], 0)));
    let engine = daxlite_engine::Engine::open(config.engine.clone()).unwrap();
    let cached = Cached::new(Embedded::new(engine), CacheConfig::default());
    let err = match daxlite::serve_upstream(&config, cached).await {
        Ok(_) => panic!("a non-loopback admin listener without a token started"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("admin.token"), "{err}");
}
