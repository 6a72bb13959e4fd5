//! The HTTP side of the load generator: one keep-alive HTTP/1.1 connection per worker (so
//! `--connections N` means exactly N sockets); each request carries DynamoDB's headers and a
//! SigV4 signature from `sign.rs`.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use crate::sign::Signer;
use crate::workload::{target_header, Req};

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
