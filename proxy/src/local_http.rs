//! A tiny plain-HTTP client for the commands that talk to a running daxlite (or any
//! DynamoDB-compatible endpoint) from the outside: `daxlite health` (the container's
//! HEALTHCHECK, where the base image has no curl) and `daxlite mcp`. Plain HTTP only —
//! these reach a local or sidecar endpoint. DynamoDB calls are SigV4-signed as an SDK
//! signs them, with `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (any value when the
//! endpoint does not verify signatures; `daxlite` when unset) for `AWS_REGION`
//! (`us-east-1` when unset).

use std::time::Duration;

use aws_credential_types::Credentials;
use bytes::Bytes;
use http::{header, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The largest answer read (a Scan page is at most 1 MB of items, plus JSON overhead).
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// An HTTP answer: status and body.
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

/// A client of one endpoint (`http://host:port`).
#[derive(Clone)]
pub struct LocalHttp {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl LocalHttp {
    /// A client of `endpoint`; refuses anything but an `http://` URL with a host.
    pub fn new(endpoint: &str, timeout: Duration) -> Result<LocalHttp, String> {
        let uri: Uri = endpoint
            .parse()
            .map_err(|e| format!("bad endpoint {endpoint:?}: {e}"))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(format!(
                "endpoint {endpoint:?} must be a plain http://host:port URL"
            ));
        }
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        Ok(LocalHttp {
            base: endpoint.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        })
    }

    /// `GET <endpoint><path>`.
    pub async fn get(&self, path: &str) -> Result<Answer, String> {
        let req = Request::builder()
            .method(Method::GET)
            .uri(format!("{}{path}", self.base))
            .body(Full::new(Bytes::new()))
            .map_err(|e| e.to_string())?;
        self.send(req).await
    }

    /// One DynamoDB JSON call: `POST /` with `X-Amz-Target: DynamoDB_20120810.<op>`,
    /// signed.
    pub async fn dynamodb(&self, operation: &str, body: &Value) -> Result<Answer, String> {
        let uri = format!("{}/", self.base);
        let body = Bytes::from(body.to_string());
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(&uri)
            .header(header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())?;
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let credentials = Credentials::new(
            env("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "daxlite".into()),
            env("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "daxlite".into()),
            env("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        daxlite::upstream::signing::sign(&mut req, credentials, &region, "dynamodb", &uri, &body)?;
        self.send(req).await
    }

    async fn send(&self, req: Request<Full<Bytes>>) -> Result<Answer, String> {
        let uri = req.uri().to_string();
        let call = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| format!("{uri}: {e}"))?;
            let status = resp.status().as_u16();
            let body = http_body_util::Limited::new(resp.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| format!("{uri}: reading the answer: {e}"))?
                .to_bytes();
            Ok(Answer { status, body })
        };
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| format!("{uri}: no answer within {:?}", self.timeout))?
    }
}

/// `daxlite health`: GETs `/health` and exits 0 on a 200, 1 otherwise (message on stderr).
pub async fn health(url: &str) -> std::process::ExitCode {
    let (endpoint, path) = match url
        .find("://")
        .and_then(|s| url[s + 3..].find('/').map(|p| s + 3 + p))
    {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, "/health"),
    };
    let client = match LocalHttp::new(endpoint, Duration::from_secs(3)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("daxlite health: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match client.get(path).await {
        Ok(a) if a.status == 200 => {
            println!("{}", String::from_utf8_lossy(&a.body));
            std::process::ExitCode::SUCCESS
        }
        Ok(a) => {
            eprintln!("daxlite health: {endpoint}{path} answered {}", a.status);
            std::process::ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("daxlite health: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
