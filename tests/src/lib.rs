//! The end-to-end test harness: starts the real daxlite server on an ephemeral loopback
//! port and hands out `aws-sdk-dynamodb` clients (and a raw HTTP helper) pointed at it —
//! exactly how users reach daxlite.

pub mod identities;
pub mod isolation;
pub mod kinesalite;
pub mod linearizability;
pub mod tools;

use std::sync::Arc;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::Client;
use daxlite::{Config, RunningServer};
use daxlite_engine::clock::{Clock, ManualClock};
use daxlite_engine::{Backend, Engine, EngineConfig};

/// How a test server answers data-plane calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The embedded engine alone (`[cache] enabled = false`).
    Engine,
    /// The write-through cache in front of the embedded engine (the default).
    Cached,
}

impl Mode {
    /// `Config::ephemeral()` with the cache on or off for this mode.
    pub fn config(self) -> Config {
        let mut config = Config::ephemeral();
        config.cache.enabled = self == Mode::Cached;
        config
    }
}

/// Defines one end-to-end test that runs twice: against the engine alone and through the
/// cache (in the style of ripgrep's `rgtest!`). `ddb_test!(name, |mode| async move { .. })`
/// becomes the tests `name::engine` and `name::cached`; the body starts its server with
/// `mode` (`TestServer::start(mode)`, `mode.config()`), so every assertion is checked in
/// both modes and "the cache is transparent" holds for each of them.
/// `cargo test -p daxlite-tests ::engine` (or `::cached`) runs one mode only.
#[macro_export]
macro_rules! ddb_test {
    ($name:ident, |$mode:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($mode: $crate::Mode) {
                $body.await
            }

            #[tokio::test]
            async fn engine() {
                run($crate::Mode::Engine).await
            }

            #[tokio::test]
            async fn cached() {
                run($crate::Mode::Cached).await
            }
        }
    };
}

/// A daxlite server for one test; stops when dropped or when `stop` is awaited.
pub struct TestServer {
    pub url: String,
    pub addr: std::net::SocketAddr,
    /// The admin listener's address, when the config has one.
    pub admin: Option<std::net::SocketAddr>,
    server: Option<RunningServer>,
}

impl TestServer {
    /// An in-memory server with default settings in `mode`: the cache on, as users run
    /// daxlite, or the embedded engine alone. End-to-end tests run in both modes through
    /// [`ddb_test!`], proving the cache transparent.
    pub async fn start(mode: Mode) -> TestServer {
        Self::start_with(mode.config(), None).await
    }

    /// A server over `config`, optionally with a manual clock for the engine.
    pub async fn start_with(config: Config, clock: Option<ManualClock>) -> TestServer {
        let clock: Arc<dyn Clock> = match clock {
            Some(c) => Arc::new(c),
            None => Arc::new(daxlite_engine::clock::SystemClock),
        };
        let engine = Engine::open_with_clock(config.engine.clone(), clock).expect("engine");
        let server = daxlite::start_with_engine(&config, engine)
            .await
            .expect("server");
        let addr = server.addr;
        TestServer {
            url: format!("http://{addr}"),
            addr,
            admin: server.admin_addr,
            server: Some(server),
        }
    }

    /// A server in `mode` keeping its data in `dir`.
    pub async fn start_on_disk(mode: Mode, dir: &std::path::Path) -> TestServer {
        let mut config = mode.config();
        config.engine.backend = Backend::Dir(dir.to_path_buf());
        Self::start_with(config, None).await
    }

    /// A server in `mode` whose engine uses `engine` settings (delays, region) and a manual
    /// clock.
    pub async fn start_with_engine_config(
        mode: Mode,
        engine: EngineConfig,
        clock: ManualClock,
    ) -> TestServer {
        let mut config = mode.config();
        config.engine = engine;
        Self::start_with(config, Some(clock)).await
    }

    pub fn client(&self) -> Client {
        client_for(&self.url)
    }

    /// Stops the server gracefully and waits until the engine closed.
    pub async fn stop(mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

/// An SDK client for any endpoint, with fixed test credentials and no retries (so a test
/// sees every error the server gives).
pub fn client_for(url: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "daxlite-tests",
        ))
        .endpoint_url(url)
        .http_client(http)
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// An AttributeDefinition.
pub fn attr(
    name: &str,
    t: aws_sdk_dynamodb::types::ScalarAttributeType,
) -> aws_sdk_dynamodb::types::AttributeDefinition {
    aws_sdk_dynamodb::types::AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .unwrap()
}

/// A KeySchemaElement.
pub fn key(
    name: &str,
    t: aws_sdk_dynamodb::types::KeyType,
) -> aws_sdk_dynamodb::types::KeySchemaElement {
    aws_sdk_dynamodb::types::KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .unwrap()
}

/// Creates an on-demand table with partition key `pk` (S) and, if given, sort key `sk` of
/// that type; returns its unique name.
pub async fn create_pk_table(
    client: &Client,
    prefix: &str,
    sort: Option<aws_sdk_dynamodb::types::ScalarAttributeType>,
) -> String {
    let name = unique_name(prefix);
    create_named_pk_table(client, &name, sort).await;
    name
}

/// [`create_pk_table`] with the name given.
pub async fn create_named_pk_table(
    client: &Client,
    name: &str,
    sort: Option<aws_sdk_dynamodb::types::ScalarAttributeType>,
) {
    use aws_sdk_dynamodb::types::{BillingMode, KeyType, ScalarAttributeType};
    let mut req = client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest);
    if let Some(t) = sort {
        req = req
            .attribute_definitions(attr("sk", t))
            .key_schema(key("sk", KeyType::Range));
    }
    req.send().await.expect("create table");
}

/// A table name unique within the process.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{prefix}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// The `__type` suffix and message of an SDK error, for exact assertions.
pub fn error_parts<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> (String, String)
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let meta = err.as_service_error().map(|e| {
        (
            e.code().unwrap_or("").to_string(),
            e.message().unwrap_or("").to_string(),
        )
    });
    meta.unwrap_or_else(|| ("<not a service error>".to_string(), format!("{err:?}")))
}

/// A raw HTTP answer.
pub struct RawReply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl RawReply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A well-formed (unverified) SigV4 Authorization header for raw requests.
pub const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000";

/// Sends one raw HTTP request (method, headers, body) and reads the whole answer.
pub async fn raw(
    addr: std::net::SocketAddr,
    method: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> RawReply {
    raw_at(addr, method, "/", headers, body).await
}

/// [`raw`] to another path (`/metrics`, the admin listener's endpoints).
pub async fn raw_at(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> RawReply {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(Full::new(bytes::Bytes::from(body)))
        .expect("request");
    let resp = sender.send_request(req).await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    RawReply {
        status,
        headers,
        body,
    }
}

/// A raw DynamoDB call: POST with the JSON 1.0 content type, a target and a valid-looking signature.
pub async fn call(addr: std::net::SocketAddr, target: &str, body: &str) -> RawReply {
    raw(
        addr,
        "POST",
        &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target),
            ("authorization", AUTH),
            ("x-amz-date", "20240101T000000Z"),
        ],
        body.as_bytes().to_vec(),
    )
    .await
}

/// A raw DynamoDB call that must succeed (200), for calls made for their effect (on the
/// cache, its counters, an upstream's tally); answers the reply for further checks.
pub async fn call_ok(addr: std::net::SocketAddr, target: &str, body: &str) -> RawReply {
    let r = call(addr, target, body).await;
    assert_eq!(r.status, 200, "{target} {body}: {}", r.text());
    r
}

/// Asserts a raw reply is the DynamoDB error `type_suffix` with `message` (None: no message).
pub fn assert_error(reply: &RawReply, status: u16, type_name: &str, message: Option<&str>) {
    let v = reply.json();
    assert_eq!(reply.status, status, "status; body {}", reply.text());
    assert_eq!(
        v["__type"].as_str(),
        Some(type_name),
        "type; body {}",
        reply.text()
    );
    assert_eq!(
        v["message"].as_str(),
        message,
        "message; body {}",
        reply.text()
    );
}
