//! Delivery: the endpoint down for 10 s, a restart with undelivered changes, the figures.

use super::*;

/// A counter's total over its labels in `/metrics`.
async fn metric(addr: SocketAddr, name: &str) -> f64 {
    let text = metrics_text(addr).await;
    text.lines()
        .filter(|l| l.starts_with(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
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

/// Writes `items` items three times each (INSERT v=1, MODIFY to 2, MODIFY to 3).
async fn write_rounds(c: &Client, table: &str, items: usize, prefix: &str) {
    for round in 1..=3 {
        for i in 0..items {
            let v = AttributeValue::N(round.to_string());
            put(c, table, &format!("{prefix}{i}"), &[("v", v)]).await;
        }
    }
}

/// Each item's records, de-duplicated, are INSERT v1, MODIFY v1→v2, MODIFY v2→v3.
fn check_rounds(records: Vec<(String, String, Value)>, items: usize, prefix: &str) {
    let items_seen = by_item(&dedup(records));
    for i in 0..items {
        let id = format!("{prefix}{i}");
        let recs = items_seen.get(&id).unwrap_or_else(|| panic!("{id} lost"));
        let versions: Vec<(String, Value, Value)> = recs
            .iter()
            .map(|r| {
                (
                    r["eventName"].as_str().unwrap().to_string(),
                    r["dynamodb"]["OldImage"]["v"]["N"].clone(),
                    r["dynamodb"]["NewImage"]["v"]["N"].clone(),
                )
            })
            .collect();
        assert_eq!(
            versions,
            vec![
                ("INSERT".into(), Value::Null, json!("1")),
                ("MODIFY".into(), json!("1"), json!("2")),
                ("MODIFY".into(), json!("2"), json!("3")),
            ],
            "{id}"
        );
    }
}

#[tokio::test]
async fn the_endpoint_down_for_ten_seconds_then_back_loses_nothing() {
    let mut k = Kinesalite::start();
    let stream = "outage";
    let arn = k.create_stream(stream, 2).await;
    let server = TestServer::start_with(config(&k, Mode::Cached), None).await;
    let c = server.client();
    let table = unique_name("koutage");
    create_table(&c, &table).await;
    enable(&c, &table, &arn).await;
    put(&c, &table, "first", &[]).await;
    assert_eq!(k.wait_for(stream, 1).await.len(), 1);
    k.stop();
    let items = 40;
    write_rounds(&c, &table, items, "i").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(metric(server.addr, "daxlite_kinesis_failed_records").await > 0.0);
    assert!(metric(server.addr, "daxlite_kinesis_lag_seconds").await > 1.0);
    k.resume();
    let got = k.wait_for(stream, 1 + 3 * items).await;
    assert!(got.len() > 3 * items, "{} records", got.len());
    check_rounds(got, items, "i");
    assert!(metric(server.addr, "daxlite_kinesis_retried_records").await > 0.0);
    assert!(
        metric(server.addr, "daxlite_kinesis_delivered_records").await >= (1 + 3 * items) as f64
    );
    server.stop().await;
}

#[tokio::test]
async fn changes_not_yet_delivered_survive_a_restart() {
    let mut k = Kinesalite::start();
    let stream = "restart";
    let arn = k.create_stream(stream, 1).await;
    let dir = tempfile::tempdir().unwrap();
    let on_disk = |k: &Kinesalite| {
        let mut c = config(k, Mode::Cached);
        c.engine.backend = Backend::Dir(dir.path().to_path_buf());
        c
    };
    let server = TestServer::start_with(on_disk(&k), None).await;
    let c = server.client();
    let table = unique_name("krestart");
    create_table(&c, &table).await;
    enable(&c, &table, &arn).await;
    put(&c, &table, "first", &[]).await;
    assert_eq!(k.wait_for(stream, 1).await.len(), 1);
    k.stop();
    let items = 20;
    write_rounds(&c, &table, items, "r").await;
    server.stop().await;
    k.resume();
    let server = TestServer::start_with(on_disk(&k), None).await;
    let got = k.wait_for(stream, 1 + 3 * items).await;
    let distinct = dedup(got.clone()).len();
    assert_eq!(distinct, 1 + 3 * items, "nothing lost, nothing invented");
    check_rounds(got, items, "r");
    server.stop().await;
}

/// CPU seconds this process used so far (user + system, from /proc/self/stat).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// Writes `n` items of about 100 bytes with BatchWriteItem (25 per call).
async fn batch_write(c: &Client, table: &str, n: usize, prefix: &str) {
    let pad = "x".repeat(80);
    for chunk in (0..n).collect::<Vec<_>>().chunks(25) {
        let requests = chunk
            .iter()
            .map(|i| {
                let item = PutRequest::builder()
                    .item("id", s(&format!("{prefix}{i}")))
                    .item("pad", s(&pad))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(item).build()
            })
            .collect::<Vec<_>>();
        let out = c
            .batch_write_item()
            .request_items(table, requests)
            .send()
            .await
            .unwrap();
        assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    }
}

/// The figures in the README (`cargo test -p daxlite-tests --test e2e kinesis::measure --
/// --ignored --nocapture`): records/s delivered to kinesalite from a backlog, and the CPU
/// of writing to a table with a destination against one without (the publisher paused
/// by the endpoint being down, so only the write path is counted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_delivery_rate_and_write_cost() {
    let mut k = Kinesalite::start();
    let stream = "bench";
    let arn = k.create_stream(stream, 4).await;
    let server = TestServer::start_with(config(&k, Mode::Engine), None).await;
    let c = server.client();
    let (plain, with) = (unique_name("kplain"), unique_name("kdest"));
    create_table(&c, &plain).await;
    create_table(&c, &with).await;
    enable(&c, &with, &arn).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    k.stop();
    let n = 20_000;
    // Warm up, then alternate to survive machine drift.
    batch_write(&c, &plain, 2_000, "w").await;
    let (mut cpu_plain, mut cpu_with) = (0.0, 0.0);
    for round in 0..2 {
        for (table, total) in [(&plain, &mut cpu_plain), (&with, &mut cpu_with)] {
            let before = cpu_seconds();
            batch_write(&c, table, n / 2, &format!("r{round}-")).await;
            *total += cpu_seconds() - before;
        }
    }
    println!(
        "write path: {n} items without a destination {cpu_plain:.2} CPU s, with one {cpu_with:.2} CPU s ({:+.1}%)",
        (cpu_with / cpu_plain - 1.0) * 100.0
    );
    k.resume();
    let started = Instant::now();
    loop {
        let done = metric(server.addr, "daxlite_kinesis_delivered_records").await;
        if done >= n as f64 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{done} delivered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "delivery: {n} change records to kinesalite in {secs:.2} s = {:.0} records/s",
        n as f64 / secs
    );
    server.stop().await;
}
