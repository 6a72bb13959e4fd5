//! The optional admin listener (`[admin] listen`, off by default; bind it to loopback or
//! a private interface — it has no authentication of its own): `POST /invalidate-item`
//! `{"TableName","Key"}`, `POST /invalidate-table` `{"TableName"}`, `POST /flush`, and
//! `GET /stats` (JSON), `GET /capacity/series` (the engine's per-minute capacity series),
//! and `POST /simulate` (the policy simulator, answered by the service:
//! `crate::auth::simulate`). It serves on its own port, so it never shares the DynamoDB
//! front door's request path.
//!
//! What can be administered is the [`Administer`] trait (the cache implements it; the
//! other upstreams keep its default, "nothing here"), so the upstream contract knows
//! nothing of admin types and this module imports nothing of the server.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The largest admin request body read.
const MAX_BODY: usize = 64 * 1024;

/// One admin request, decoded.
#[derive(Debug, Clone)]
pub enum Command {
    InvalidateItem {
        table: String,
        key: Value,
    },
    InvalidateTable {
        table: String,
    },
    Flush,
    Stats,
    /// The engine's per-minute capacity series (`GET /capacity/series`).
    CapacitySeries,
    /// Global tables: pause (or resume) shipping changes to a peer region.
    Replication {
        region: String,
        paused: bool,
    },
    /// The policy simulator's question (`crate::auth::simulate::Query`).
    Simulate(crate::auth::simulate::Query),
}

/// An admin answer: status and JSON.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(body: Value) -> Answer {
        Answer { status: 200, body }
    }

    pub fn bad(status: u16, message: String) -> Answer {
        Answer {
            status,
            body: json!({ "error": message }),
        }
    }
}

/// Something the admin listener can send commands to.
pub trait Administer: Send + Sync + 'static {
    /// Runs for each decoded admin request. `None`: nothing here to administer (no cache
    /// in front of this upstream).
    fn admin(&self, cmd: Command) -> impl Future<Output = Option<Answer>> + Send {
        let _ = cmd;
        async { None }
    }
}

/// Decodes method, path and body into a command, or the answer to send instead.
pub fn decode(method: &Method, path: &str, body: &[u8]) -> Result<Command, Answer> {
    let table_of = |v: &Value| -> Result<String, Answer> {
        v.get("TableName")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| Answer::bad(400, "TableName (a string) is required".into()))
    };
    let json = || -> Result<Value, Answer> {
        serde_json::from_slice(body).map_err(|e| Answer::bad(400, format!("body is not JSON: {e}")))
    };
    match (method, path) {
        (&Method::POST, "/invalidate-item") => {
            let v = json()?;
            let table = table_of(&v)?;
            let key = v
                .get("Key")
                .filter(|k| k.is_object())
                .cloned()
                .ok_or_else(|| Answer::bad(400, "Key (an attribute map) is required".into()))?;
            Ok(Command::InvalidateItem { table, key })
        }
        (&Method::POST, "/invalidate-table") => Ok(Command::InvalidateTable {
            table: table_of(&json()?)?,
        }),
        (&Method::POST, "/flush") => Ok(Command::Flush),
        (&Method::POST, path @ ("/global/pause" | "/global/resume")) => {
            let v = json()?;
            let region = v
                .get("RegionName")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| Answer::bad(400, "RegionName (a string) is required".into()))?;
            Ok(Command::Replication {
                region,
                paused: path == "/global/pause",
            })
        }
        (&Method::GET, "/stats") => Ok(Command::Stats),
        (&Method::GET, "/capacity/series") => Ok(Command::CapacitySeries),
        (&Method::POST, "/simulate") => crate::auth::simulate::Query::from_json(&json()?)
            .map(Command::Simulate)
            .map_err(|m| Answer::bad(400, m)),
        (
            _,
            "/invalidate-item" | "/invalidate-table" | "/flush" | "/stats" | "/global/pause"
            | "/global/resume" | "/capacity/series" | "/simulate",
        ) => Err(Answer::bad(
            405,
            format!("{method} is not allowed on {path}"),
        )),
        _ => Err(Answer::bad(404, format!("no admin endpoint {path}"))),
    }
}

/// Whether the request carries `Authorization: Bearer <token>` (compared in constant time).
fn authorized(headers: &http::HeaderMap, token: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let given = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let (a, b) = (given.as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn handle<A: Administer>(
    target: &A,
    req: http::Request<Incoming>,
    token: Option<&str>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let answer = if !authorized(&parts.headers, token) {
        Answer::bad(
            401,
            "the admin listener needs Authorization: Bearer <admin.token>".into(),
        )
    } else {
        match Limited::new(body, MAX_BODY).collect().await {
            Err(_) => Answer::bad(413, format!("admin bodies are limited to {MAX_BODY} bytes")),
            Ok(body) => match decode(&parts.method, parts.uri.path(), &body.to_bytes()) {
                Err(answer) => answer,
                Ok(cmd) => match target.admin(cmd).await {
                    Some(answer) => answer,
                    None => Answer::bad(
                        404,
                        "nothing here administers that (the cache is off, or no [[global.peer]])"
                            .into(),
                    ),
                },
            },
        }
    };
    let bytes = serde_json::to_vec(&answer.body).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(bytes)));
    *resp.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// Serves the admin endpoints on `listener` until `stop` turns true.
pub async fn serve<A: Administer>(
    listener: TcpListener,
    service: Arc<A>,
    mut stop: watch::Receiver<bool>,
    token: Option<Arc<str>>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let svc = Arc::clone(&service);
                let token = token.clone();
                tokio::spawn(async move {
                    let handler = service_fn(move |req| {
                        let svc = Arc::clone(&svc);
                        let token = token.clone();
                        async move { Ok::<_, Infallible>(handle(svc.as_ref(), req, token.as_deref()).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), handler)
                        .await;
                });
            }
            _ = stop.changed() => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_commands_and_refuses_the_rest() {
        let item = decode(
            &Method::POST,
            "/invalidate-item",
            br#"{"TableName":"t","Key":{"pk":{"S":"a"}}}"#,
        );
        assert!(matches!(item, Ok(Command::InvalidateItem { ref table, .. }) if table == "t"));
        assert!(matches!(
            decode(&Method::POST, "/flush", b""),
            Ok(Command::Flush)
        ));
        assert!(matches!(
            decode(&Method::GET, "/stats", b""),
            Ok(Command::Stats)
        ));
        let status = |r: Result<Command, Answer>| r.err().map(|a| a.status);
        assert_eq!(status(decode(&Method::GET, "/flush", b"")), Some(405));
        assert_eq!(status(decode(&Method::POST, "/nope", b"")), Some(404));
        assert_eq!(
            status(decode(&Method::POST, "/invalidate-table", b"{}")),
            Some(400)
        );
        assert_eq!(
            status(decode(
                &Method::POST,
                "/invalidate-item",
                br#"{"TableName":"t"}"#
            )),
            Some(400)
        );
        assert_eq!(
            status(decode(&Method::POST, "/invalidate-item", b"nope")),
            Some(400)
        );
    }
}
