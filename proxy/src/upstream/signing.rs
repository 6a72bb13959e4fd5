//! SigV4 signing of outgoing AWS requests and where its credentials come from: the
//! `aws-config` default chain (env, profile, SSO, container and instance metadata) for a
//! remote endpoint, the environment or placeholders for one on this machine. Shared by
//! the remote upstream (service `dynamodb`) and the Kinesis publisher (service
//! `kinesis`).

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign as sigv4_sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::Uri;
use http_body_util::Full;

/// Where signing credentials come from: the default chain (cached until shortly before
/// they expire), or fixed ones when the chain found none (local upstreams need none).
pub(crate) struct CredentialSource {
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
    /// Always these credentials (tests, explicit keys).
    pub(crate) fn fixed(credentials: Credentials) -> CredentialSource {
        CredentialSource {
            chain: None,
            cached: Mutex::new(Some(credentials)),
            retry_after: Mutex::new(None),
        }
    }

    /// The source for `url`: [`CredentialSource::local`] on this machine, else the
    /// default chain for `region`.
    pub(crate) async fn for_endpoint(url: &Uri, region: &str) -> CredentialSource {
        if is_loopback(url) {
            CredentialSource::local()
        } else {
            CredentialSource::load(region).await
        }
    }

    pub(crate) async fn load(region: &str) -> CredentialSource {
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
    pub(crate) fn local() -> CredentialSource {
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
    pub(crate) async fn get(&self) -> Credentials {
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
pub(crate) fn is_loopback(url: &Uri) -> bool {
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

/// Signs `req` (a POST of `body` to `uri`) with SigV4 for `service` in `region`.
pub fn sign(
    req: &mut http::Request<Full<Bytes>>,
    credentials: Credentials,
    region: &str,
    service: &str,
    uri: &str,
    body: &[u8],
) -> Result<(), String> {
    let identity = credentials.into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)));
    let signable = SignableRequest::new("POST", uri, headers, SignableBody::Bytes(body))
        .map_err(|e| e.to_string())?;
    let (instructions, _) = sigv4_sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    instructions.apply_to_request_http1x(req);
    Ok(())
}
