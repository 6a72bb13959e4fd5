//! The remote upstream: any DynamoDB-compatible endpoint (AWS DynamoDB, ScyllaDB
//! Alternator, DynamoDB Local, another daxlite) over a pooled keep-alive hyper client with
//! rustls for https. Every request is re-signed with SigV4 (`aws-sigv4`) using credentials
//! from the `aws-config` default chain — the client's signature covers our host, so it can
//! never be forwarded as is (credentials and signing in [`super::signing`], shared with
//! the Kinesis publisher). The body goes out byte for byte; the upstream's status, body
//! and `x-amzn-RequestId` come back untouched. Retries follow [`super::retry`].
//! DynamoDB Streams calls go to `streams_url` when one is set (AWS serves the Streams API
//! on its own endpoint); with `max_in_flight`, calls beyond the bound and its queue are
//! shed at once with ThrottlingException ([`crate::overload::Shedder`]).

use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use bytes::Bytes;
use daxlite_engine::wire::{ApiError, ErrorCode, Operation};
use http::{header, HeaderValue, Uri};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::retry::{
    idempotent, is_throttling, is_write, should_retry, Failure, RetryBudget, RetryPolicy,
};
use super::signing::{self, CredentialSource};
use super::{Reply, Request, Upstream};
use crate::metrics as m;

/// Settings of one remote upstream (validated by `config`).
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// The endpoint, e.g. `https://dynamodb.eu-west-1.amazonaws.com` or `http://127.0.0.1:8001`.
    pub url: Uri,
    /// The region requests are signed for.
    pub region: String,
    /// The whole-attempt timeout (connect, send, read the reply).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
    /// Idle keep-alive connections kept per host.
    pub max_idle_connections: usize,
    /// Where DynamoDB Streams calls go (None: `url`).
    pub streams_url: Option<Uri>,
    /// `(max_in_flight, max_queued)`: load shedding (None: unbounded).
    pub shed: Option<(usize, usize)>,
}

impl RemoteConfig {
    pub fn new(url: Uri, region: impl Into<String>) -> Self {
        RemoteConfig {
            url,
            region: region.into(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            retry: RetryPolicy::default(),
            max_idle_connections: 64,
            streams_url: None,
            shed: None,
        }
    }
}

/// A DynamoDB endpoint reached over HTTP(S). Cheap to clone.
#[derive(Clone)]
pub struct Remote {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: Uri,
    main: Endpoint,
    /// DynamoDB Streams calls' endpoint, when it is not `main`.
    streams: Option<Endpoint>,
    shedder: Option<crate::overload::Shedder>,
    config: RemoteConfig,
    budget: RetryBudget,
    credentials: CredentialSource,
}

impl Remote {
    /// Builds the client and loads credentials: the default chain (env, profile, SSO,
    /// container and instance metadata) for a remote endpoint, the environment or
    /// placeholders for one on this machine.
    pub async fn connect(config: RemoteConfig) -> Result<Remote, String> {
        let credentials = CredentialSource::for_endpoint(&config.url, &config.region).await;
        Remote::with_credentials(config, credentials)
    }

    /// A remote upstream that signs with fixed credentials (tests, explicit keys).
    pub fn with_static_credentials(
        config: RemoteConfig,
        credentials: Credentials,
    ) -> Result<Remote, String> {
        Remote::with_credentials(config, CredentialSource::fixed(credentials))
    }

    fn with_credentials(
        config: RemoteConfig,
        credentials: CredentialSource,
    ) -> Result<Remote, String> {
        let main = Endpoint::of(&config.url)?;
        let streams = config.streams_url.as_ref().map(Endpoint::of).transpose()?;
        let shedder = config
            .shed
            .map(|(n, queued)| crate::overload::Shedder::new(n, queued));
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(Arc::new(rustls::crypto::ring::default_provider()))
            .map_err(|e| format!("upstream: cannot load TLS root certificates: {e}"))?
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(config.max_idle_connections)
            .build(https);
        Ok(Remote {
            inner: Arc::new(Inner {
                client,
                uri: config.url.clone(),
                main,
                streams,
                shedder,
                budget: RetryBudget::new(500),
                config,
                credentials,
            }),
        })
    }

    pub fn url(&self) -> &Uri {
        &self.inner.uri
    }

    /// Sends one call, retrying what may be retried.
    pub async fn send(&self, op: Option<Operation>, target: &str, body: Bytes) -> Reply {
        let inner = &self.inner;
        let op_name = op.map(Operation::name).unwrap_or("unknown");
        let _ticket = match &inner.shedder {
            None => None,
            Some(s) => match s.enter().await {
                Some(t) => Some(t),
                None => return Reply::error(&crate::overload::throttled()),
            },
        };
        let idempotent = idempotent(op, &body);
        let write = is_write(op);
        let mut retries = 0u32;
        loop {
            let started = std::time::Instant::now();
            let attempt =
                tokio::time::timeout(inner.config.timeout, self.attempt(target, &body)).await;
            metrics::histogram!(m::UPSTREAM_DURATION, "operation" => op_name)
                .record(started.elapsed().as_secs_f64());
            let (failure, reply) = match attempt {
                Ok(Ok(reply)) => {
                    if is_throttling(reply.status, &reply.body) {
                        (Failure::Throttled, reply)
                    } else if reply.is_fault() {
                        (Failure::Unknown, reply)
                    } else {
                        inner.budget.earn();
                        return reply;
                    }
                }
                Ok(Err(AttemptError::NotSent(e))) => (
                    Failure::NotSent,
                    unavailable(format!("upstream unreachable: {e}")),
                ),
                Ok(Err(AttemptError::Lost(e))) => (
                    Failure::Unknown,
                    internal(format!("upstream connection lost: {e}")),
                ),
                Err(_) => (Failure::Unknown, internal("upstream timed out".to_string())),
            };
            if failure == Failure::Throttled {
                metrics::counter!(m::THROTTLED_REQUESTS, "operation" => op_name).increment(1);
            }
            if retries >= inner.config.retry.max_retries
                || !should_retry(failure, idempotent, write)
                || !inner.budget.try_spend(failure)
            {
                return reply;
            }
            tokio::time::sleep(inner.config.retry.backoff(retries)).await;
            retries += 1;
        }
    }

    async fn attempt(&self, target: &str, body: &Bytes) -> Result<Reply, AttemptError> {
        let inner = &self.inner;
        let endpoint = match &inner.streams {
            Some(e) if is_streams_target(target) => e,
            _ => &inner.main,
        };
        let mut req = http::Request::builder()
            .method(http::Method::POST)
            .uri(endpoint.uri.clone())
            .header(header::HOST, endpoint.host.clone())
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .body(Full::new(body.clone()))
            .map_err(|e| AttemptError::NotSent(e.to_string()))?;
        let credentials = inner.credentials.get().await;
        self.sign(&mut req, credentials, &endpoint.uri_text, body)
            .map_err(AttemptError::NotSent)?;
        let resp = inner.client.request(req).await.map_err(|e| {
            if e.is_connect() {
                AttemptError::NotSent(e.to_string())
            } else {
                AttemptError::Lost(e.to_string())
            }
        })?;
        let status = resp.status().as_u16();
        let request_id = resp.headers().get("x-amzn-requestid").cloned();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| AttemptError::Lost(e.to_string()))?
            .to_bytes();
        Ok(Reply {
            status,
            body,
            request_id,
            outcome: super::Outcome::PassThrough,
        })
    }

    fn sign(
        &self,
        req: &mut http::Request<Full<Bytes>>,
        credentials: Credentials,
        uri: &str,
        body: &[u8],
    ) -> Result<(), String> {
        // DynamoDB Streams signs with the service name `dynamodb` too.
        let region = &self.inner.config.region;
        signing::sign(req, credentials, region, "dynamodb", uri, body)
    }
}

/// One endpoint calls are sent to: its URI, the URI as signed, and its Host header.
struct Endpoint {
    uri: Uri,
    uri_text: String,
    host: HeaderValue,
}

impl Endpoint {
    fn of(uri: &Uri) -> Result<Endpoint, String> {
        let host = uri
            .authority()
            .ok_or_else(|| format!("upstream: {uri} has no host"))?;
        let host = HeaderValue::from_str(host.as_str())
            .map_err(|_| format!("upstream: {uri} has an invalid host"))?;
        let mut uri_text = uri.to_string();
        if uri.path() == "/" && !uri_text.ends_with('/') {
            uri_text.push('/');
        }
        Ok(Endpoint {
            uri: uri.clone(),
            uri_text,
            host,
        })
    }
}

/// Whether `target` is a DynamoDB Streams call (`DynamoDBStreams_20120810.*`).
fn is_streams_target(target: &str) -> bool {
    target
        .strip_prefix(daxlite_engine::wire::operation::STREAMS_PREFIX)
        .is_some_and(|rest| rest.starts_with('.'))
}

enum AttemptError {
    /// Nothing reached the upstream.
    NotSent(String),
    /// The request went out; the reply did not come back.
    Lost(String),
}

fn unavailable(message: String) -> Reply {
    tracing::warn!("{message}");
    Reply::error(&ApiError::new(ErrorCode::ServiceUnavailable, message))
}

fn internal(message: String) -> Reply {
    tracing::warn!("{message}");
    Reply::error(&ApiError::new(ErrorCode::InternalServerError, message))
}

/// Nothing to administer without a cache in front.
impl crate::admin::Administer for Remote {}

impl Upstream for Remote {
    async fn call(&self, req: Request) -> Reply {
        let target = format!("{}.{}", req.op.prefix(), req.op.name());
        self.send(Some(req.op), &target, req.body).await
    }

    fn supports(&self, _op: Operation) -> bool {
        true
    }

    fn forwards_unknown(&self) -> bool {
        true
    }

    async fn call_unknown(&self, target: String, body: Bytes) -> Reply {
        self.send(None, &target, body).await
    }
}

#[cfg(test)]
mod loopback_tests {
    #[test]
    fn loopback_hosts_are_recognised() {
        for (url, local) in [
            ("http://127.0.0.1:8000", true),
            ("http://localhost:8000/", true),
            ("http://[::1]:8000", true),
            ("http://127.0.0.53", true),
            ("https://dynamodb.us-east-1.amazonaws.com", false),
            ("http://10.0.0.1:8000", false),
        ] {
            let uri: super::Uri = url.parse().unwrap();
            assert_eq!(super::super::signing::is_loopback(&uri), local, "{url}");
        }
    }

    #[test]
    fn streams_targets_are_recognised() {
        assert!(super::is_streams_target(
            "DynamoDBStreams_20120810.GetRecords"
        ));
        assert!(!super::is_streams_target("DynamoDB_20120810.GetItem"));
        assert!(!super::is_streams_target(
            "DynamoDBStreams_20120810x.GetRecords"
        ));
    }
}
