//! The DAX-style cache end to end: daxlite with its cache in front of (a) the embedded
//! engine and (b) a second daxlite (engine only, `--no-cache`) reached over HTTP as a
//! remote upstream; hit and miss counts read from `/metrics`; write-through; the
//! fill-versus-write race (ordered by a gated upstream, no sleeps); and a fake upstream for faults (500 on a write, errors passed
//! through byte for byte, no retry of a non-idempotent write, throttled reads retried, throttled writes
//! passed through).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use daxlite::cache::{CacheConfig, Cached};
use daxlite::upstream::{Embedded, Remote, RemoteConfig, Reply, Request, Upstream};
use daxlite::{Config, RunningServer};
use daxlite_engine::wire::Operation;
use daxlite_tests::{call, client_for, unique_name, TestServer};

/// A daxlite under test plus whatever it needs alive.
struct Front {
    addr: SocketAddr,
    server: Option<RunningServer>,
    _backend: Option<TestServer>,
}

impl Front {
    fn client(&self) -> Client {
        client_for(&format!("http://{}", self.addr))
    }

    async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

fn remote_to(addr: SocketAddr, retries: u32) -> Remote {
    remote_with(addr, retries, Duration::from_secs(5))
}

fn remote_with(addr: SocketAddr, retries: u32, timeout: Duration) -> Remote {
    let url = format!("http://{addr}").parse().unwrap();
    let mut rc = RemoteConfig::new(url, "us-east-1");
    rc.timeout = timeout;
    rc.retry.max_retries = retries;
    rc.retry.base = Duration::from_millis(1);
    let creds = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "t");
    Remote::with_static_credentials(rc, creds).unwrap()
}

#[path = "cache/admin.rs"]
mod admin;
#[path = "cache/faults.rs"]
mod faults;
#[path = "cache/pages.rs"]
mod pages;
#[path = "cache/writes.rs"]
mod writes;

/// Holds back one GetItem answer of a [`Gated`] upstream once armed: the upstream has
/// answered (`answered` is notified) but the cache has not seen the answer yet, until
/// `release` — so a test orders "the fill read the old state" before its next step and
/// "the fill inserts" after it, with no sleep.
#[derive(Default)]
struct Gate {
    armed: std::sync::atomic::AtomicBool,
    answered: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

/// An upstream passing every call to `inner`, except the GetItem answer a [`Gate`] holds.
struct Gated<U> {
    inner: U,
    gate: Arc<Gate>,
}

impl<U: Upstream> Upstream for Gated<U> {
    async fn call(&self, req: Request) -> Reply {
        let is_get = req.op == Operation::GetItem;
        let reply = self.inner.call(req).await;
        if is_get && self.gate.armed.swap(false, Ordering::SeqCst) {
            self.gate.answered.notify_one();
            self.gate.release.notified().await;
        }
        reply
    }

    fn supports(&self, op: Operation) -> bool {
        self.inner.supports(op)
    }

    fn forwards_unknown(&self) -> bool {
        self.inner.forwards_unknown()
    }

    async fn call_unknown(&self, target: String, body: bytes::Bytes) -> Reply {
        self.inner.call_unknown(target, body).await
    }

    fn close(&self) {
        self.inner.close()
    }
}

/// daxlite with the cache over the embedded engine (behind `gate`, if given).
async fn over_engine(gate: Option<Arc<Gate>>) -> Front {
    over_engine_with(CacheConfig::default(), gate).await
}

/// daxlite with the cache (`cache` settings) over the embedded engine (behind `gate`).
async fn over_engine_with(cache: CacheConfig, gate: Option<Arc<Gate>>) -> Front {
    let config = Config::ephemeral();
    let engine = daxlite_engine::Engine::open(config.engine.clone()).unwrap();
    let gate = gate.unwrap_or_default();
    let cached = Cached::new(
        Gated {
            inner: Embedded::new(engine),
            gate,
        },
        cache,
    );
    let server = daxlite::serve_upstream(&config, cached).await.unwrap();
    Front {
        addr: server.addr,
        server: Some(server),
        _backend: None,
    }
}

/// daxlite with the cache over a second daxlite (engine only) on another port (behind
/// `gate`, if given).
async fn over_remote(gate: Option<Arc<Gate>>) -> (Front, SocketAddr) {
    let mut backend_config = Config::ephemeral();
    backend_config.cache.enabled = false;
    let backend = TestServer::start_with(backend_config, None).await;
    let backend_addr = backend.addr;
    let config = Config::ephemeral();
    let cached = Cached::new(
        Gated {
            inner: remote_to(backend_addr, 3),
            gate: gate.unwrap_or_default(),
        },
        CacheConfig::default(),
    );
    let server = daxlite::serve_upstream(&config, cached).await.unwrap();
    let front = Front {
        addr: server.addr,
        server: Some(server),
        _backend: Some(backend),
    };
    (front, backend_addr)
}

async fn create_table(addr: SocketAddr, name: &str) {
    let body = format!(
        r#"{{"TableName":"{name}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST"}}"#
    );
    let r = call(addr, "DynamoDB_20120810.CreateTable", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// The value of a counter for one table in the Prometheus text at `/metrics`.
async fn counter(addr: SocketAddr, name: &str, table: &str) -> u64 {
    let resp = metrics_text(addr).await;
    let label = format!("table=\"{table}\"");
    resp.lines()
        .filter(|l| l.starts_with(name) && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
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
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    String::from_utf8_lossy(&body).into_owned()
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

async fn get_v(c: &Client, table: &str, pk: &str) -> Option<String> {
    let out = c
        .get_item()
        .table_name(table)
        .key("pk", s(pk))
        .send()
        .await
        .unwrap();
    out.item
        .and_then(|i| i.get("v").and_then(|v| v.as_s().ok().cloned()))
}

async fn write_through_and_hits(front: &Front) {
    let table = unique_name("cache");
    create_table(front.addr, &table).await;
    let c = front.client();
    c.put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s("one"))
        .send()
        .await
        .unwrap();
    // Put cached the item: the first read is already a hit.
    assert_eq!(get_v(&c, &table, "a").await.as_deref(), Some("one"));
    assert_eq!(
        counter(front.addr, "daxlite_item_cache_hits", &table).await,
        1
    );
    assert_eq!(
        counter(front.addr, "daxlite_item_cache_misses", &table).await,
        0
    );
    // Update (no ReturnValues asked): the cache learns ALL_NEW, the caller gets nothing.
    let up = c
        .update_item()
        .table_name(&table)
        .key("pk", s("a"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", s("two"))
        .send()
        .await
        .unwrap();
    assert!(up.attributes.is_none());
    assert_eq!(get_v(&c, &table, "a").await.as_deref(), Some("two"));
    // Delete caches "absent".
    c.delete_item()
        .table_name(&table)
        .key("pk", s("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_v(&c, &table, "a").await, None);
    assert_eq!(
        counter(front.addr, "daxlite_item_cache_hits", &table).await,
        3
    );
    // A key never written: one miss, then a (negative) hit.
    assert_eq!(get_v(&c, &table, "zz").await, None);
    assert_eq!(get_v(&c, &table, "zz").await, None);
    assert_eq!(
        counter(front.addr, "daxlite_item_cache_misses", &table).await,
        1
    );
    assert_eq!(
        counter(front.addr, "daxlite_item_cache_hits", &table).await,
        4
    );
}

#[tokio::test]
async fn write_through_and_hits_over_the_engine() {
    let f = over_engine(None).await;
    write_through_and_hits(&f).await;
    f.stop().await;
}

#[tokio::test]
async fn write_through_and_hits_over_a_remote_daxlite() {
    let (f, _) = over_remote(None).await;
    write_through_and_hits(&f).await;
    f.stop().await;
}

/// Hits answer byte for byte what the uncached upstream answers, for many projections.
#[tokio::test]
async fn hit_bodies_equal_the_upstream_bodies() {
    let (f, backend) = over_remote(None).await;
    let table = unique_name("bytes");
    create_table(f.addr, &table).await;
    for i in 0..20 {
        let item = format!(
            r#"{{"TableName":"{table}","Item":{{"pk":{{"S":"k{i}"}},"n":{{"N":"{i}.50"}},"m":{{"M":{{"x":{{"L":[{{"S":"a"}},{{"N":"00{i}"}}]}},"y":{{"BOOL":true}}}}}},"b":{{"B":"AAE="}},"ss":{{"SS":["q","p"]}}}}}}"#
        );
        let r = call(f.addr, "DynamoDB_20120810.PutItem", &item).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let projections = [
        "",
        r#","ProjectionExpression":"n""#,
        r#","ProjectionExpression":"m.x[1], b""#,
        r##","ProjectionExpression":"#m.y, nothere","ExpressionAttributeNames":{"#m":"m"}"##,
        r#","AttributesToGet":["ss","pk"]"#,
        r#","ReturnConsumedCapacity":"TOTAL""#,
        r#","ProjectionExpression":"n","ReturnConsumedCapacity":"INDEXES""#,
    ];
    for i in [0, 7, 19, 42] {
        for p in projections {
            let body = format!(r#"{{"TableName":"{table}","Key":{{"pk":{{"S":"k{i}"}}}}{p}}}"#);
            let cached = call(f.addr, "DynamoDB_20120810.GetItem", &body).await;
            let again = call(f.addr, "DynamoDB_20120810.GetItem", &body).await;
            let direct = call(backend, "DynamoDB_20120810.GetItem", &body).await;
            assert_eq!(direct.status, 200, "{}", direct.text());
            let direct_text = direct.text();
            // The upstream charges capacity; a hit reports 0 units.
            let expected = direct_text.replace("\"CapacityUnits\":0.5", "\"CapacityUnits\":0.0");
            if p.contains("Capacity") {
                assert_eq!(again.text(), expected, "{body}");
            } else {
                assert_eq!(cached.text(), direct_text, "{body}");
                assert_eq!(again.text(), direct_text, "{body}");
            }
        }
    }
    f.stop().await;
}

/// ConsistentRead never touches the cache; eventually consistent reads stay cached.
#[tokio::test]
async fn consistent_read_bypasses_the_cache() {
    let (f, backend) = over_remote(None).await;
    let table = unique_name("strong");
    create_table(f.addr, &table).await;
    let c = f.client();
    let direct = client_for(&format!("http://{backend}"));
    c.put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s("old"))
        .send()
        .await
        .unwrap();
    // Someone writes behind the cache's back.
    direct
        .put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s("new"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_v(&c, &table, "a").await.as_deref(), Some("old"));
    let strong = c
        .get_item()
        .table_name(&table)
        .key("pk", s("a"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let v = strong
        .item
        .and_then(|i| i.get("v").and_then(|v| v.as_s().ok().cloned()));
    assert_eq!(v.as_deref(), Some("new"));
    f.stop().await;
}

/// A fill that read the old value before a write must not land after the write.
async fn fill_versus_write(front: &Front, gate: &Gate) {
    let table = unique_name("race");
    create_table(front.addr, &table).await;
    let c = front.client();
    // The key does not exist: the read misses and its fill reads "absent" upstream; the
    // gate holds that answer back from the cache.
    gate.armed.store(true, Ordering::SeqCst);
    let reader = {
        let c = c.clone();
        let table = table.clone();
        tokio::spawn(async move { get_v(&c, &table, "a").await })
    };
    gate.answered.notified().await;
    // The fill has read "absent" and waits; the write overtakes it and finishes.
    c.put_item()
        .table_name(&table)
        .item("pk", s("a"))
        .item("v", s("new"))
        .send()
        .await
        .unwrap();
    gate.release.notify_one();
    let seen = reader.await.unwrap();
    assert_eq!(seen, None, "the read answers what it read");
    // After both: the cache must hold "new", never the late fill's "absent".
    assert_eq!(get_v(&c, &table, "a").await.as_deref(), Some("new"));
}

#[tokio::test]
async fn a_late_fill_never_overwrites_a_write_over_the_engine() {
    let gate = Arc::new(Gate::default());
    let f = over_engine(Some(gate.clone())).await;
    fill_versus_write(&f, &gate).await;
    f.stop().await;
}

#[tokio::test]
async fn a_late_fill_never_overwrites_a_write_over_a_remote_daxlite() {
    let gate = Arc::new(Gate::default());
    let (f, _) = over_remote(Some(gate.clone())).await;
    fill_versus_write(&f, &gate).await;
    f.stop().await;
}

/// A graceful stop (what SIGTERM triggers: `main.rs` sends the same stop signal) lets a
/// request in flight finish: the gate holds a GetItem inside the server while the stop
/// begins; the listener closes (new connections are refused), the stop waits, and once
/// released the request gets its full 200 answer before the stop completes.
#[tokio::test]
async fn a_request_in_flight_finishes_during_a_graceful_stop() {
    let gate = Arc::new(Gate::default());
    let mut f = over_engine(Some(gate.clone())).await;
    let addr = f.addr;
    let table = unique_name("drain");
    create_table(addr, &table).await;
    gate.armed.store(true, Ordering::SeqCst);
    let get = format!(r#"{{"TableName":"{table}","Key":{{"pk":{{"S":"a"}}}}}}"#);
    let reader = tokio::spawn(async move { call(addr, "DynamoDB_20120810.GetItem", &get).await });
    gate.answered.notified().await;
    let server = f.server.take().expect("running");
    let stopping = tokio::spawn(server.shutdown());
    // The stop has begun once the listener is gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "still accepting");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        !stopping.is_finished(),
        "the stop did not wait for the request"
    );
    gate.release.notify_one();
    let r = reader.await.unwrap();
    assert_eq!((r.status, r.text()), (200, "{}".to_string()));
    stopping.await.unwrap();
}

// ---- a controllable fake upstream ----

#[derive(Default)]
struct Fake {
    gets: AtomicUsize,
    puts: AtomicUsize,
    /// Answers to hand out: 0 = ok, else the fault mode.
    get_version: AtomicUsize,
    throttle_next_get: AtomicUsize,
    /// While 1, every PutItem is throttled (not applied); counts them in `throttled_puts`.
    throttle_puts: AtomicUsize,
    throttled_puts: AtomicUsize,
    pages: AtomicUsize,
    batches: AtomicUsize,
}

const PUT_500: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"applied? who knows"}"#;
const COND_FAIL: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed", "odd spacing": 1}"#;
const THROTTLE: &str =
    r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}"#;

async fn fake_upstream(state: Arc<Fake>) -> SocketAddr {
    use http_body_util::{BodyExt, Full};
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let state = state.clone();
                    async move {
                        let target = req
                            .headers()
                            .get("x-amz-target")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        let signed = req.headers().contains_key("authorization");
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let (status, out): (u16, String) = match target.as_str() {
                            _ if !signed => (400, "{}".into()),
                            "DynamoDB_20120810.DescribeTable" => (200, r#"{"Table":{"TableName":"t","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}}"#.into()),
                            "DynamoDB_20120810.GetItem" => {
                                state.gets.fetch_add(1, Ordering::SeqCst);
                                if state.throttle_next_get.swap(0, Ordering::SeqCst) == 1 {
                                    (400, THROTTLE.into())
                                } else {
                                    let v = state.get_version.load(Ordering::SeqCst);
                                    (200, format!(r#"{{"Item":{{"pk":{{"S":"a"}},"v":{{"N":"{v}"}}}}}}"#))
                                }
                            }
                            "DynamoDB_20120810.BatchWriteItem"
                                if String::from_utf8_lossy(&body).contains(r#""RequestItems":{"faults-"#) =>
                            {
                                // Tables `faults-*`: applied, then the upstream fails.
                                state.puts.fetch_add(1, Ordering::SeqCst);
                                state.get_version.fetch_add(1, Ordering::SeqCst);
                                (500, PUT_500.into())
                            }
                            "DynamoDB_20120810.BatchWriteItem" => (200, fake_batch_write(&body)),
                            "DynamoDB_20120810.TransactWriteItems" => {
                                state.puts.fetch_add(1, Ordering::SeqCst);
                                state.get_version.fetch_add(1, Ordering::SeqCst);
                                (500, PUT_500.into())
                            }
                            "DynamoDB_20120810.BatchGetItem" => {
                                state.batches.fetch_add(1, Ordering::SeqCst);
                                (200, fake_batch(&body))
                            }
                            "DynamoDB_20120810.Query" | "DynamoDB_20120810.Scan" => {
                                let n = state.pages.fetch_add(1, Ordering::SeqCst);
                                (200, format!(r#"{{"Count":1,"Items":[{{"pk":{{"S":"a"}},"v":{{"N":"{n}"}}}}],"ScannedCount":1}}"#))
                            }
                            "DynamoDB_20120810.PutItem"
                                if String::from_utf8_lossy(&body).contains(r#""TableName":"ok"#) =>
                            {
                                (200, "{}".into())
                            }
                            "DynamoDB_20120810.PutItem"
                                if state.throttle_puts.load(Ordering::SeqCst) == 1 =>
                            {
                                state.throttled_puts.fetch_add(1, Ordering::SeqCst);
                                (400, THROTTLE.into())
                            }
                            "DynamoDB_20120810.PutItem" => {
                                state.puts.fetch_add(1, Ordering::SeqCst);
                                // The write is applied, then the upstream fails.
                                state.get_version.fetch_add(1, Ordering::SeqCst);
                                (500, PUT_500.into())
                            }
                            "DynamoDB_20120810.DeleteItem" => (400, COND_FAIL.into()),
                            "DynamoDB_20120810.SomeFutureOperation" => (200, format!(r#"{{"echo":{}}}"#, String::from_utf8_lossy(&body))),
                            _ => (400, "{}".into()),
                        };
                        let mut resp = http::Response::new(Full::new(bytes::Bytes::from(out)));
                        *resp.status_mut() =
                            http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
                        resp.headers_mut().insert(
                            "x-amzn-requestid",
                            http::HeaderValue::from_static("FAKEREQUESTID"),
                        );
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                // A connection error ends this test peer's connection; the test sees
                // its effect on the client side.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn faults_from_a_fake_upstream() {
    let state = Arc::new(Fake::default());
    let fake = fake_upstream(state.clone()).await;
    let config = Config::ephemeral();
    let cached = Cached::new(remote_to(fake, 3), CacheConfig::default());
    let server = daxlite::serve_upstream(&config, cached).await.unwrap();
    let addr = server.addr;
    let get = r#"{"TableName":"t","Key":{"pk":{"S":"a"}}}"#;

    // Miss then hit.
    let r = call(addr, "DynamoDB_20120810.GetItem", get).await;
    assert_eq!(r.text(), r#"{"Item":{"pk":{"S":"a"},"v":{"N":"0"}}}"#);
    assert_eq!(
        r.headers
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok()),
        Some("FAKEREQUESTID")
    );
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.GetItem", get).await;
    assert_eq!(state.gets.load(Ordering::SeqCst), 1);

    // A 500 on a write: passed through byte for byte, not retried, and the key dropped.
    let put = r#"{"TableName":"t","Item":{"pk":{"S":"a"},"v":{"N":"9"}}}"#;
    let r = call(addr, "DynamoDB_20120810.PutItem", put).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.text(), PUT_500);
    assert_eq!(
        state.puts.load(Ordering::SeqCst),
        1,
        "a non-idempotent write was retried"
    );
    let r = call(addr, "DynamoDB_20120810.GetItem", get).await;
    assert_eq!(r.text(), r#"{"Item":{"pk":{"S":"a"},"v":{"N":"1"}}}"#);
    assert_eq!(state.gets.load(Ordering::SeqCst), 2);

    // A definite refusal: byte for byte, and the cache keeps its entry.
    let del = r#"{"TableName":"t","Key":{"pk":{"S":"a"}}}"#;
    let r = call(addr, "DynamoDB_20120810.DeleteItem", del).await;
    assert_eq!((r.status, r.text()), (400, COND_FAIL.to_string()));
    let r = call(addr, "DynamoDB_20120810.GetItem", get).await;
    assert_eq!(r.text(), r#"{"Item":{"pk":{"S":"a"},"v":{"N":"1"}}}"#);
    assert_eq!(
        state.gets.load(Ordering::SeqCst),
        2,
        "the entry was kept: a hit"
    );

    // The rest uses its own table, so its hit and miss counters (process-wide metrics)
    // are not shared with the other tests; the fake serves any table alike.
    let u = unique_name("faults");
    let get_u = format!(r#"{{"TableName":"{u}","Key":{{"pk":{{"S":"a"}}}}}}"#);
    let item = |v: usize| format!(r#"{{"Item":{{"pk":{{"S":"a"}},"v":{{"N":"{v}"}}}}}}"#);
    let counts = || async {
        (
            counter(addr, "daxlite_item_cache_hits", &u).await,
            counter(addr, "daxlite_item_cache_misses", &u).await,
        )
    };
    assert_eq!(
        call(addr, "DynamoDB_20120810.GetItem", &get_u).await.text(),
        item(1)
    );
    assert_eq!(
        call(addr, "DynamoDB_20120810.GetItem", &get_u).await.text(),
        item(1)
    );
    assert_eq!(state.gets.load(Ordering::SeqCst), 3);
    assert_eq!(counts().await, (1, 1), "a miss, then a hit");

    // Throttling of a write: passed through unchanged at once, never retried (the
    // client's SDK owns retries and UnprocessedItems); the cache keeps its entry, since
    // nothing changed upstream.
    state.throttle_puts.store(1, Ordering::SeqCst);
    let put_u = format!(r#"{{"TableName":"{u}","Item":{{"pk":{{"S":"a"}},"v":{{"N":"9"}}}}}}"#);
    let r = call(addr, "DynamoDB_20120810.PutItem", &put_u).await;
    state.throttle_puts.store(0, Ordering::SeqCst);
    assert_eq!((r.status, r.text()), (400, THROTTLE.to_string()));
    assert_eq!(
        state.throttled_puts.load(Ordering::SeqCst),
        1,
        "a throttled write is not retried"
    );
    assert_eq!(state.puts.load(Ordering::SeqCst), 1, "nothing applied");
    assert_eq!(
        call(addr, "DynamoDB_20120810.GetItem", &get_u).await.text(),
        item(1)
    );
    assert_eq!(state.gets.load(Ordering::SeqCst), 3);
    assert_eq!(counts().await, (2, 1), "the entry was kept: a hit");

    // A 500 on a batch write and on a transaction (applied upstream, then failed): passed
    // through, not retried, and the key dropped — the next read is a miss that sees the
    // applied value.
    let batch = format!(
        r#"{{"RequestItems":{{"{u}":[{{"PutRequest":{{"Item":{{"pk":{{"S":"a"}},"v":{{"N":"9"}}}}}}}}]}}}}"#
    );
    let tx = format!(
        r#"{{"TransactItems":[{{"Put":{{"TableName":"{u}","Item":{{"pk":{{"S":"a"}},"v":{{"N":"9"}}}}}}}}]}}"#
    );
    for (n, (op, body)) in [("BatchWriteItem", batch), ("TransactWriteItems", tx)]
        .into_iter()
        .enumerate()
    {
        let r = call(addr, &format!("DynamoDB_20120810.{op}"), &body).await;
        assert_eq!((r.status, r.text()), (500, PUT_500.to_string()), "{op}");
        assert_eq!(state.puts.load(Ordering::SeqCst), 2 + n, "{op} was retried");
        let r = call(addr, "DynamoDB_20120810.GetItem", &get_u).await;
        assert_eq!(r.text(), item(n + 2), "{op}: the stale entry was served");
        assert_eq!(state.gets.load(Ordering::SeqCst), 4 + n, "{op}: not a miss");
        assert_eq!(counts().await, (2, 2 + n as u64), "{op}");
    }

    // Throttling on a read is retried; ConsistentRead bypasses the cache.
    state.throttle_next_get.store(1, Ordering::SeqCst);
    let strong = r#"{"TableName":"t","Key":{"pk":{"S":"a"}},"ConsistentRead":true}"#;
    let r = call(addr, "DynamoDB_20120810.GetItem", strong).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(state.gets.load(Ordering::SeqCst), 7);

    // Operations daxlite does not know are forwarded, not refused.
    let r = call(addr, "DynamoDB_20120810.SomeFutureOperation", r#"{"x":1}"#).await;
    assert_eq!(
        (r.status, r.text()),
        (200, r#"{"echo":{"x":1}}"#.to_string())
    );
    server.shutdown().await;
}

async fn pages_after_a_write(consistency: daxlite::cache::Consistency) -> (usize, usize) {
    let t = unique_name("ok");
    let state = Arc::new(Fake::default());
    let fake = fake_upstream(state.clone()).await;
    let config = Config::ephemeral();
    let cache = CacheConfig {
        consistency,
        ..CacheConfig::default()
    };
    let server = daxlite::serve_upstream(&config, Cached::new(remote_to(fake, 0), cache))
        .await
        .unwrap();
    let addr = server.addr;
    let q = format!(
        r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"a"}}}}}}"#
    );
    let q2 = format!(
        r#"{{"ExpressionAttributeValues":{{":p":{{"S":"a"}}}},"KeyConditionExpression":"pk = :p","TableName":"{t}","ReturnConsumedCapacity":"NONE"}}"#
    );
    let scan = format!(r#"{{"TableName":"{t}"}}"#);
    let (q, q2, scan) = (q.as_str(), q2.as_str(), scan.as_str());
    let first = call(addr, "DynamoDB_20120810.Query", q).await;
    let hit = call(addr, "DynamoDB_20120810.Query", q2).await;
    assert_eq!(first.text(), hit.text());
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.Scan", scan).await;
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.Scan", scan).await;
    assert_eq!(state.pages.load(Ordering::SeqCst), 2, "one miss per page");
    assert_eq!(counter(addr, "daxlite_query_cache_hits", &t).await, 1);
    assert_eq!(counter(addr, "daxlite_scan_cache_hits", &t).await, 1);
    // ConsistentRead never touches the cache.
    let strong = format!(r#"{{"TableName":"{t}","ConsistentRead":true}}"#);
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.Scan", &strong).await;
    assert_eq!(state.pages.load(Ordering::SeqCst), 3);
    let put = format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"v":{{"N":"1"}}}}}}"#);
    let r = call(addr, "DynamoDB_20120810.PutItem", &put).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let before = state.pages.load(Ordering::SeqCst);
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.Query", q).await;
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.Scan", scan).await;
    let after = state.pages.load(Ordering::SeqCst);
    server.shutdown().await;
    (before, after)
}

#[tokio::test]
async fn coherent_mode_drops_pages_on_writes_and_dax_mode_keeps_them() {
    let (before, after) = pages_after_a_write(daxlite::cache::Consistency::Coherent).await;
    assert_eq!(
        after - before,
        2,
        "coherent: the write made both pages stale"
    );
    let (before, after) = pages_after_a_write(daxlite::cache::Consistency::Dax).await;
    assert_eq!(after, before, "dax: pages stay until their TTL");
}

/// The fake's BatchWriteItem: requests for `later` stay unprocessed.
fn fake_batch_write(body: &[u8]) -> String {
    let req: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut unprocessed = serde_json::Map::new();
    for (table, reqs) in req["RequestItems"].as_object().into_iter().flatten() {
        let later: Vec<serde_json::Value> = reqs
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["PutRequest"]["Item"]["pk"]["S"] == "later")
            .cloned()
            .collect();
        if !later.is_empty() {
            unprocessed.insert(table.clone(), serde_json::Value::Array(later));
        }
    }
    serde_json::json!({ "UnprocessedItems": unprocessed }).to_string()
}

/// The fake's BatchGetItem: `gone` does not exist, `later` stays unprocessed.
fn fake_batch(body: &[u8]) -> String {
    let req: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let mut responses = serde_json::Map::new();
    let mut unprocessed = serde_json::Map::new();
    for (table, spec) in req["RequestItems"].as_object().into_iter().flatten() {
        assert!(
            spec.get("ProjectionExpression").is_none(),
            "misses fetch full items"
        );
        let mut items = Vec::new();
        let mut later = Vec::new();
        for k in spec["Keys"].as_array().into_iter().flatten() {
            match k["pk"]["S"].as_str().unwrap_or("") {
                "gone" => {}
                "later" => later.push(k.clone()),
                pk => items
                    .push(serde_json::json!({"pk": {"S": pk}, "v": {"N": "7"}, "w": {"S": "x"}})),
            }
        }
        responses.insert(table.clone(), serde_json::Value::Array(items));
        if !later.is_empty() {
            unprocessed.insert(table.clone(), serde_json::json!({ "Keys": later }));
        }
    }
    serde_json::json!({"Responses": responses, "UnprocessedKeys": unprocessed}).to_string()
}

#[tokio::test]
async fn batch_get_is_split_per_key() {
    let state = Arc::new(Fake::default());
    let fake = fake_upstream(state.clone()).await;
    let config = Config::ephemeral();
    let server = daxlite::serve_upstream(
        &config,
        Cached::new(remote_to(fake, 0), CacheConfig::default()),
    )
    .await
    .unwrap();
    let addr = server.addr;
    let t = unique_name("batch");
    let keys = |list: &[&str]| {
        list.iter()
            .map(|k| format!(r#"{{"pk":{{"S":"{k}"}}}}"#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let body = format!(
        r#"{{"RequestItems":{{"{t}":{{"Keys":[{}],"ProjectionExpression":"v"}}}}}}"#,
        keys(&["a", "b", "gone", "later"])
    );
    let r = call(addr, "DynamoDB_20120810.BatchGetItem", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        v["Responses"][&t],
        serde_json::json!([{"v": {"N": "7"}}, {"v": {"N": "7"}}])
    );
    assert_eq!(
        v["UnprocessedKeys"][&t],
        serde_json::json!({"Keys": [{"pk": {"S": "later"}}], "ProjectionExpression": "v"})
    );
    assert_eq!(state.batches.load(Ordering::SeqCst), 1);

    // Every processed key is cached now, "gone" as absent; "later" was not cached.
    let body = format!(
        r#"{{"RequestItems":{{"{t}":{{"Keys":[{}]}}}},"ReturnConsumedCapacity":"TOTAL"}}"#,
        keys(&["b", "gone", "a"])
    );
    let r = call(addr, "DynamoDB_20120810.BatchGetItem", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["Responses"][&t].as_array().map(Vec::len), Some(2));
    assert_eq!(v["UnprocessedKeys"], serde_json::json!({}));
    assert_eq!(
        v["ConsumedCapacity"][0]["CapacityUnits"],
        serde_json::json!(0.0)
    );
    assert_eq!(state.batches.load(Ordering::SeqCst), 1, "all hits");
    let get = format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}}}}}}"#);
    let r = call(addr, "DynamoDB_20120810.GetItem", &get).await;
    assert_eq!(
        r.text(),
        r#"{"Item":{"pk":{"S":"a"},"v":{"N":"7"},"w":{"S":"x"}}}"#
    );
    assert_eq!(state.gets.load(Ordering::SeqCst), 0);
    assert_eq!(counter(addr, "daxlite_item_cache_hits", &t).await, 4);
    assert_eq!(counter(addr, "daxlite_item_cache_misses", &t).await, 4);
    let body = format!(
        r#"{{"RequestItems":{{"{t}":{{"Keys":[{}]}}}}}}"#,
        keys(&["later"])
    );
    daxlite_tests::call_ok(addr, "DynamoDB_20120810.BatchGetItem", &body).await;
    assert_eq!(
        state.batches.load(Ordering::SeqCst),
        2,
        "unprocessed keys are never cached"
    );
    server.shutdown().await;
}
