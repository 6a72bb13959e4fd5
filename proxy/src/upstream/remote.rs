//! The remote upstream: any DynamoDB-compatible endpoint (AWS DynamoDB, ScyllaDB
//! Alternator, DynamoDB Local, another daxlite) over a pooled keep-alive hyper client with
//! rustls for https. Every request is re-signed with SigV4 (`aws-sigv4`) using credentials
//! from the `aws-config` default chain — the client's signature covers our host, so it can
//! never be forwarded as is. The body goes out byte for byte; the upstream's status, body
//! and `x-amzn-RequestId` come back untouched. Retries follow [`super::retry`].

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
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
    uri_text: String,
    host: HeaderValue,
    config: RemoteConfig,
    budget: RetryBudget,
    credentials: CredentialSource,
}

/// Where signing credentials come from: the default chain (cached until shortly before
/// they expire), or fixed ones when the chain found none (local upstreams need none).
struct CredentialSource {
    chain: Option<SharedCredentialsProvider>,
    cached: Mutex<Option<Credentials>>,
    /// After the chain found nothing, it is not asked again before this time (no storm of
    /// metadata-service lookups, one per request).
    retry_after: Mutex<Option<std::time::Instant>>,
}

/// How long a failed credential lookup is remembered.
const CHAIN_RETRY: Duration = Duration::from_secs(60);

/// Used when the default chain has no credentials: local endpoints accept any signature;
/// AWS answers UnrecognizedClientException, which is passed through.
const FALLBACK_ACCESS_KEY: &str = "daxlite";

impl CredentialSource {
    async fn load(region: &str) -> CredentialSource {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .http_client(http)
            .load()
            .await;
        let chain = sdk.credentials_provider();
        let source = CredentialSource {
            chain,
            cached: Mutex::new(None),
            retry_after: Mutex::new(None),
        };
        if source.fetch().await.is_none() {
            tracing::warn!(
                "no AWS credentials found in the default chain; signing upstream requests with placeholder credentials"
            );
        }
        source
    }

    async fn fetch(&self) -> Option<Credentials> {
        let chain = self.chain.as_ref()?;
        let now = std::time::Instant::now();
        let waiting = self
            .retry_after
            .lock()
            .ok()
            .and_then(|r| *r)
            .is_some_and(|t| now < t);
        if waiting {
            return None;
        }
        match chain.provide_credentials().await {
            Ok(c) => {
                if let Ok(mut slot) = self.cached.lock() {
                    *slot = Some(c.clone());
                }
                Some(c)
            }
            Err(e) => {
                tracing::debug!(error = %e, "credential chain failed");
                if let Ok(mut r) = self.retry_after.lock() {
                    *r = Some(now + CHAIN_RETRY);
                }
                None
            }
        }
    }

    /// For an upstream on this machine (DynamoDB Local, another daxlite): credentials from
    /// the environment when set, else placeholders — never the cloud metadata services,
    /// which a loopback endpoint does not need.
    fn local() -> CredentialSource {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let credentials = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(id), Some(secret)) => {
                Credentials::new(id, secret, env("AWS_SESSION_TOKEN"), None, "environment")
            }
            _ => Credentials::new(FALLBACK_ACCESS_KEY, "daxlite", None, None, "daxlite"),
        };
        CredentialSource {
            chain: None,
            cached: Mutex::new(Some(credentials)),
            retry_after: Mutex::new(None),
        }
    }

    /// Credentials valid for at least another minute.
    async fn get(&self) -> Credentials {
        let fresh = self.cached.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|c| {
                    c.expiry()
                        .is_none_or(|e| e > SystemTime::now() + Duration::from_secs(60))
                })
                .cloned()
        });
        if let Some(c) = fresh {
            return c;
        }
        match self.fetch().await {
            Some(c) => c,
            None => Credentials::new(FALLBACK_ACCESS_KEY, "daxlite", None, None, "daxlite"),
        }
    }
}

/// Whether the upstream URL names this machine (127.0.0.0/8, ::1 or localhost).
fn is_loopback(url: &Uri) -> bool {
    match url.host() {
        Some("localhost") => true,
        Some(h) => h
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

impl Remote {
    /// Builds the client and loads credentials: the default chain (env, profile, SSO,
    /// container and instance metadata) for a remote endpoint, the environment or
    /// placeholders for one on this machine.
    pub async fn connect(config: RemoteConfig) -> Result<Remote, String> {
        let credentials = if is_loopback(&config.url) {
            CredentialSource::local()
        } else {
            CredentialSource::load(&config.region).await
        };
        Remote::with_credentials(config, credentials)
    }

    /// A remote upstream that signs with fixed credentials (tests, explicit keys).
    pub fn with_static_credentials(
        config: RemoteConfig,
        credentials: Credentials,
    ) -> Result<Remote, String> {
        let source = CredentialSource {
            chain: None,
            cached: Mutex::new(Some(credentials)),
            retry_after: Mutex::new(None),
        };
        Remote::with_credentials(config, source)
    }

    fn with_credentials(
        config: RemoteConfig,
        credentials: CredentialSource,
    ) -> Result<Remote, String> {
        let host = config
            .url
            .authority()
            .ok_or_else(|| format!("upstream: {} has no host", config.url))?;
        let host = HeaderValue::from_str(host.as_str())
            .map_err(|_| format!("upstream: {} has an invalid host", config.url))?;
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
        let uri = config.url.clone();
        let mut uri_text = uri.to_string();
        if uri.path() == "/" && !uri_text.ends_with('/') {
            uri_text.push('/');
        }
        Ok(Remote {
            inner: Arc::new(Inner {
                client,
                uri,
                uri_text,
                host,
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
        let mut req = http::Request::builder()
            .method(http::Method::POST)
            .uri(inner.uri.clone())
            .header(header::HOST, inner.host.clone())
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", target)
            .body(Full::new(body.clone()))
            .map_err(|e| AttemptError::NotSent(e.to_string()))?;
        let credentials = inner.credentials.get().await;
        self.sign(&mut req, credentials, body)
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
        body: &[u8],
    ) -> Result<(), String> {
        let identity = credentials.into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.inner.config.region)
            .name("dynamodb")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let headers = req
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
        let signable = SignableRequest::new(
            "POST",
            &self.inner.uri_text,
            headers,
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        instructions.apply_to_request_http1x(req);
        Ok(())
    }
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
            assert_eq!(super::is_loopback(&uri), local, "{url}");
        }
    }
}
