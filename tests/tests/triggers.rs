//! HTTP triggers end to end: a table's stream records POSTed to a test receiver as
//! Lambda's DynamoDB event JSON — created after the trigger started (it waits), retried
//! after the receiver answers 500, TTL deletions with Lambda's lowercase `userIdentity`,
//! and the saved position surviving a restart without redelivering acknowledged batches.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use daxlite::triggers::{config::validate, RawTrigger};
use daxlite::Config;
use daxlite_engine::Backend;
use daxlite_tests::{call, ddb_test, unique_name, Mode, TestServer};
use serde_json::Value;

/// A receiver that answers 500 to the first `fail_first` requests, then 200, and keeps
/// every request body (also the refused ones).
#[derive(Default)]
struct Receiver {
    fail_first: usize,
    requests: AtomicUsize,
    accepted: Mutex<Vec<Value>>,
}

impl Receiver {
    fn records(&self) -> Vec<Value> {
        let batches = self.accepted.lock().unwrap().clone();
        batches
            .iter()
            .flat_map(|b| b["Records"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    async fn wait_for(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let got = self.records();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn receiver(state: Arc<Receiver>) -> SocketAddr {
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
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let n = state.requests.fetch_add(1, Ordering::SeqCst);
                        let status = if n < state.fail_first {
                            500
                        } else {
                            let v: Value = serde_json::from_slice(&body).unwrap();
                            state.accepted.lock().unwrap().push(v);
                            200
                        };
                        Ok::<_, Infallible>(
                            http::Response::builder()
                                .status(status)
                                .body(Full::new(bytes::Bytes::new()))
                                .unwrap(),
                        )
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

/// Log events of the trigger loops as (message, trigger name): the injected hook that
/// orders "the trigger looked for the table and found none" before the test creates it.
static EVENTS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// A tracing layer keeping daxlite's trigger events in [`EVENTS`].
struct Capture;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        #[derive(Default)]
        struct Fields {
            message: String,
            trigger: String,
        }
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                match f.name() {
                    "message" => self.message = format!("{v:?}"),
                    "trigger" => self.trigger = format!("{v:?}"),
                    _ => {}
                }
            }
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        EVENTS
            .lock()
            .unwrap()
            .push((fields.message, fields.trigger));
    }
}

/// Installs [`Capture`] once for this test binary (daxlite's trigger module, DEBUG).
fn capture_trigger_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let only = tracing_subscriber::filter::Targets::new()
            .with_target("daxlite::triggers", tracing::Level::DEBUG);
        let subscriber = tracing_subscriber::registry().with(Capture.with_filter(only));
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
}

/// Waits until the trigger on `table` logged `message` (15 s at most).
async fn logged(table: &str, message: &str) {
    let prefix = format!("{table}\u{2192}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen = EVENTS
            .lock()
            .unwrap()
            .iter()
            .any(|(m, t)| m == message && t.starts_with(&prefix));
        if seen {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the trigger never logged {message:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn config_with_trigger(
    mode: Mode,
    table: &str,
    url: &str,
    dir: Option<&std::path::Path>,
) -> Config {
    let mut config = mode.config();
    config.engine.ttl_sweep_interval_ms = 100;
    if let Some(d) = dir {
        config.engine.backend = Backend::Dir(d.to_path_buf());
    }
    config.triggers = validate(&[RawTrigger {
        table: Some(table.into()),
        url: Some(url.into()),
        batch_size: Some(2),
        backoff: Some("20ms".into()),
        poll_interval: Some("20ms".into()),
        ..RawTrigger::default()
    }])
    .unwrap();
    config
}

async fn create_stream_table(addr: SocketAddr, name: &str) -> String {
    let body = format!(
        r#"{{"TableName":"{name}","AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}],"KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"BillingMode":"PAY_PER_REQUEST","StreamSpecification":{{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}}}"#
    );
    let r = call(addr, "DynamoDB_20120810.CreateTable", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["TableDescription"]["LatestStreamArn"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn put(addr: SocketAddr, table: &str, pk: &str, extra: &str) {
    let body = format!(r#"{{"TableName":"{table}","Item":{{"pk":{{"S":"{pk}"}}{extra}}}}}"#);
    let r = call(addr, "DynamoDB_20120810.PutItem", &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

fn pks(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            r["dynamodb"]["Keys"]["pk"]["S"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

ddb_test!(
    batches_are_delivered_as_lambda_events_and_retried_after_a_500,
    |mode| async move {
        let state = Arc::new(Receiver {
            fail_first: 1,
            ..Receiver::default()
        });
        capture_trigger_logs();
        let url = format!("http://{}/", receiver(state.clone()).await);
        let table = unique_name("trig");
        let server =
            TestServer::start_with(config_with_trigger(mode, &table, &url, None), None).await;
        // The table is created after the trigger looked for it and found none: the
        // trigger waits for it.
        logged(&table, "trigger: waiting for the table").await;
        let arn = create_stream_table(server.addr, &table).await;
        for pk in ["a", "b", "c"] {
            put(server.addr, &table, pk, "").await;
        }
        let got = state.wait_for(3).await;
        assert_eq!(pks(&got), ["a", "b", "c"], "in order, once each");
        assert!(
            state.requests.load(Ordering::SeqCst) >= 3,
            "the 500 was retried"
        );
        let batches = state.accepted.lock().unwrap().clone();
        assert!(batches
            .iter()
            .all(|b| b["Records"].as_array().unwrap().len() <= 2));
        let r = &got[0];
        assert_eq!(r["eventName"], "INSERT");
        assert_eq!(r["eventSource"], "aws:dynamodb");
        assert_eq!(r["eventVersion"], "1.1");
        assert_eq!(r["awsRegion"], "us-east-1");
        assert_eq!(r["eventSourceARN"], arn.as_str());
        assert_eq!(r["dynamodb"]["NewImage"]["pk"]["S"], "a");
        assert_eq!(r["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
        assert!(r.get("userIdentity").is_none());

        // A TTL deletion carries Lambda's lowercase userIdentity.
        let ttl = format!(
            r#"{{"TableName":"{table}","TimeToLiveSpecification":{{"Enabled":true,"AttributeName":"exp"}}}}"#
        );
        let r = call(server.addr, "DynamoDB_20120810.UpdateTimeToLive", &ttl).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let past = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            - 10;
        put(
            server.addr,
            &table,
            "d",
            &format!(r#","exp":{{"N":"{past}"}}"#),
        )
        .await;
        let got = state.wait_for(5).await;
        assert_eq!(pks(&got), ["a", "b", "c", "d", "d"]);
        assert_eq!(got[4]["eventName"], "REMOVE");
        assert_eq!(
            got[4]["userIdentity"],
            serde_json::json!({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
        );
        server.stop().await;
    }
);

ddb_test!(
    the_position_survives_a_restart_without_redelivery,
    |mode| async move {
        let dir = tempfile::tempdir().unwrap();
        let state = Arc::new(Receiver::default());
        let url = format!("http://{}/", receiver(state.clone()).await);
        let table = unique_name("trig");
        let config = config_with_trigger(mode, &table, &url, Some(dir.path()));
        let server = TestServer::start_with(config.clone(), None).await;
        create_stream_table(server.addr, &table).await;
        put(server.addr, &table, "a", "").await;
        put(server.addr, &table, "b", "").await;
        assert_eq!(pks(&state.wait_for(2).await), ["a", "b"]);
        server.stop().await;

        let server = TestServer::start_with(config, None).await;
        put(server.addr, &table, "c", "").await;
        // Batches are delivered in stream order, so a redelivered a or b would come before
        // c, and a redelivered c before d: no waiting for something not to happen.
        assert_eq!(
            pks(&state.wait_for(3).await),
            ["a", "b", "c"],
            "acknowledged batches are not delivered again"
        );
        put(server.addr, &table, "d", "").await;
        assert_eq!(
            pks(&state.wait_for(4).await),
            ["a", "b", "c", "d"],
            "acknowledged batches are not delivered again"
        );
        server.stop().await;
    }
);
