//! The HTTP side of the load generator: one keep-alive HTTP/1.1 connection per worker (so
//! `--connections N` means exactly N sockets), and SigV4 signing with `aws-sigv4`. Identical
//! bodies reuse their signature for a few minutes unless `--sign-every-request`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use crate::workload::Req;

/// How long a cached signature is reused (AWS accepts 15 minutes of skew).
const SIGNATURE_REUSE: Duration = Duration::from_secs(240);
/// Bound on cached signatures per target.
const SIGNATURE_CACHE_MAX: usize = 200_000;

/// An endpoint: where to connect and how to sign for it.
#[derive(Debug)]
pub struct Endpoint {
    pub url: String,
    /// `host:port` to connect to and to sign as the Host header.
    pub authority: String,
    host: HeaderValue,
    signer: Signer,
}

impl Endpoint {
    /// Parses `http://host:port[/]`.
    pub fn new(url: &str, signer: Signer) -> Result<Self, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| format!("bad target URL {url:?}: {e}"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "{url}: https targets are not supported yet (use http, e.g. through a local daxlite --upstream)"
                ))
            }
            _ => return Err(format!("bad target URL {url:?}: expected http://host:port")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("bad target URL {url:?}: no host"))?;
        let authority = if authority.port().is_some() {
            authority.to_string()
        } else {
            format!("{}:80", authority.host())
        };
        let host = HeaderValue::from_str(&authority)
            .map_err(|e| format!("bad host {authority:?}: {e}"))?;
        Ok(Endpoint {
            url: url.trim_end_matches('/').to_string(),
            authority,
            host,
            signer,
        })
    }

    /// Opens one keep-alive connection.
    pub async fn connect(self: &Arc<Self>) -> Result<Conn, String> {
        let stream = tokio::net::TcpStream::connect(&self.authority)
            .await
            .map_err(|e| format!("connect {}: {e}", self.authority))?;
        let _ = stream.set_nodelay(true);
        let (send, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake {}: {e}", self.authority))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            endpoint: Arc::clone(self),
            send,
        })
    }
}

/// One connection; `call` sends one request and reads the whole answer.
pub struct Conn {
    endpoint: Arc<Endpoint>,
    send: http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    /// Sends `req` and returns the status and body. Reconnects once if the server closed
    /// the idle connection.
    pub async fn call(&mut self, req: &Req) -> Result<(u16, Bytes), String> {
        if self.send.is_closed() || self.send.ready().await.is_err() {
            *self = self.endpoint.connect().await?;
        }
        let (date, auth) = self.endpoint.signer.sign(&self.endpoint.authority, req)?;
        let request = http::Request::builder()
            .method("POST")
            .uri("/")
            .header(HOST, self.endpoint.host.clone())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.0"),
            )
            .header(X_AMZ_TARGET, target_value(req.op))
            .header("x-amz-date", date)
            .header(AUTHORIZATION, auth)
            .body(Full::new(req.body.clone()))
            .map_err(|e| format!("request: {e}"))?;
        let response = self
            .send
            .send_request(request)
            .await
            .map_err(|e| format!("send: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("read body: {e}"))?
            .to_bytes();
        Ok((status, body))
    }
}

const X_AMZ_TARGET: http::header::HeaderName =
    http::header::HeaderName::from_static("x-amz-target");

fn target_header(op: &str) -> String {
    format!("DynamoDB_20120810.{op}")
}

/// The `X-Amz-Target` value of an operation, without allocating for the common ones.
fn target_value(op: &str) -> HeaderValue {
    let fixed = match op {
        "GetItem" => "DynamoDB_20120810.GetItem",
        "PutItem" => "DynamoDB_20120810.PutItem",
        "UpdateItem" => "DynamoDB_20120810.UpdateItem",
        "BatchGetItem" => "DynamoDB_20120810.BatchGetItem",
        "BatchWriteItem" => "DynamoDB_20120810.BatchWriteItem",
        "Query" => "DynamoDB_20120810.Query",
        "Scan" => "DynamoDB_20120810.Scan",
        _ => {
            return HeaderValue::from_str(&target_header(op))
                .unwrap_or(HeaderValue::from_static(""))
        }
    };
    HeaderValue::from_static(fixed)
}

#[derive(Clone)]
struct Signed {
    at: Instant,
    date: HeaderValue,
    auth: HeaderValue,
}

/// Signs requests with SigV4 for service `dynamodb`.
pub struct Signer {
    identity: Identity,
    region: String,
    every_request: bool,
    cache: Mutex<HashMap<(&'static str, Bytes), Signed>>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("region", &self.region)
            .finish()
    }
}

impl Signer {
    pub fn new(access_key: &str, secret_key: &str, region: &str, every_request: bool) -> Self {
        let identity = Credentials::new(access_key, secret_key, None, None, "daxlite-bench").into();
        Signer {
            identity,
            region: region.to_string(),
            every_request,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The `X-Amz-Date` and `Authorization` header values for `req` sent to `host`.
    pub fn sign(&self, host: &str, req: &Req) -> Result<(HeaderValue, HeaderValue), String> {
        if !self.every_request {
            let cache = self.cache.lock().map_err(|_| "signature cache poisoned")?;
            if let Some(s) = cache.get(&(req.op, req.body.clone())) {
                if s.at.elapsed() < SIGNATURE_REUSE {
                    return Ok((s.date.clone(), s.auth.clone()));
                }
            }
        }
        let signed = self.sign_now(host, req)?;
        if !self.every_request {
            let mut cache = self.cache.lock().map_err(|_| "signature cache poisoned")?;
            if cache.len() >= SIGNATURE_CACHE_MAX {
                cache.clear();
            }
            cache.insert((req.op, req.body.clone()), signed.clone());
        }
        Ok((signed.date, signed.auth))
    }

    fn sign_now(&self, host: &str, req: &Req) -> Result<Signed, String> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("dynamodb")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| format!("signing params: {e}"))?
            .into();
        let target = target_header(req.op);
        let headers = [
            ("host", host),
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", target.as_str()),
        ];
        let uri = format!("http://{host}/");
        let signable = SignableRequest::new(
            "POST",
            &uri,
            headers.into_iter(),
            SignableBody::Bytes(&req.body),
        )
        .map_err(|e| format!("signable request: {e}"))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| format!("sign: {e}"))?
            .into_parts();
        let mut date = None;
        let mut auth = None;
        for (name, value) in instructions.headers() {
            let v = HeaderValue::from_str(value).map_err(|e| format!("signature header: {e}"))?;
            match name {
                "x-amz-date" => date = Some(v),
                "authorization" => auth = Some(v),
                _ => {}
            }
        }
        match (date, auth) {
            (Some(date), Some(auth)) => Ok(Signed {
                at: Instant::now(),
                date,
                auth,
            }),
            _ => Err("signing produced no Authorization header".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Expect;

    #[test]
    fn signs_and_reuses_signatures_of_identical_bodies() {
        let s = Signer::new("AKID", "secret", "us-east-1", false);
        let req = Req {
            op: "GetItem",
            body: Bytes::from_static(b"{}"),
            expect: Expect::Ok,
        };
        let (d1, a1) = s
            .sign("127.0.0.1:8000", &req)
            .unwrap_or_else(|e| panic!("{e}"));
        let a = a1.to_str().unwrap_or("");
        assert!(a.starts_with("AWS4-HMAC-SHA256 Credential=AKID/"), "{a}");
        assert!(a.contains("/us-east-1/dynamodb/aws4_request"));
        assert!(
            a.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target"),
            "{a}"
        );
        let (d2, a2) = s
            .sign("127.0.0.1:8000", &req)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((d1, a1), (d2, a2));
    }
}
