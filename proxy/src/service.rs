//! The front door's per-request work, in DynamoDB's order of checks: body size → method
//! and content type → target → JSON (only where an earlier error must defer to it) →
//! authentication → the upstream. Every answer carries `x-amzn-RequestId`, `x-amz-crc32`
//! and the content type the client used.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use daxlite_engine::wire::{ApiError, ErrorCode, Operation};
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use tracing::Instrument;

use crate::admin::{Administer, Answer, Command};
use crate::auth;
use crate::auth::sigv4::{self, Keys};
use crate::metrics as m;
use crate::upstream::{Reply, Request, Upstream};

/// What the service needs besides the upstream.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Request bodies above this many bytes get 413 (DynamoDB: 16 MiB).
    pub max_body_bytes: usize,
    /// The region named in `GET /`'s health answer.
    pub region: String,
    /// `[auth] verify`: the keys signatures are verified with (None: shape checks only).
    pub auth: Option<Arc<Keys>>,
}

pub struct Service<U> {
    upstream: U,
    config: ServiceConfig,
    prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

pub type HttpResponse = Response<Full<Bytes>>;

const XML_UNKNOWN: &str = "<UnknownOperationException/>\n";

/// The admin listener reaches the upstream through the service.
impl<U: Upstream + Administer> Administer for Service<U> {
    fn admin(&self, cmd: Command) -> impl std::future::Future<Output = Option<Answer>> + Send {
        self.upstream.admin(cmd)
    }
}

impl<U: Upstream> Service<U> {
    pub fn new(upstream: U, config: ServiceConfig) -> Arc<Self> {
        Arc::new(Service {
            upstream,
            config,
            prometheus: m::prometheus(),
        })
    }

    pub fn upstream(&self) -> &U {
        &self.upstream
    }

    pub async fn handle(&self, req: http::Request<Incoming>) -> HttpResponse {
        let started = Instant::now();
        let request_id = request_id();
        let (parts, body) = req.into_parts();
        if parts.method == Method::GET {
            return self.handle_get(parts.uri.path(), &request_id);
        }
        // 1. Body size, before reading more than the limit.
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.config.max_body_bytes as u64) {
            return too_large(&request_id);
        }
        let body = match Limited::new(body, self.config.max_body_bytes)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return too_large(&request_id)
            }
            Err(_) => return plain(StatusCode::BAD_REQUEST, &request_id, Bytes::new(), None),
        };
        // 2. Method and content type.
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let json_type = match content_type.split(';').next().unwrap_or("").trim() {
            t @ ("application/x-amz-json-1.0"
            | "application/x-amz-json-1.1"
            | "application/json") => Some(t),
            _ => None,
        };
        if parts.method != Method::POST || (json_type.is_none() && !body.is_empty()) {
            return plain(
                StatusCode::NOT_FOUND,
                &request_id,
                Bytes::from_static(XML_UNKNOWN.as_bytes()),
                None,
            );
        }
        let reply_type = HeaderValue::from_static(match json_type {
            Some("application/x-amz-json-1.1") => "application/x-amz-json-1.1",
            Some("application/json") => "application/json",
            _ => "application/x-amz-json-1.0",
        });
        // The signature covers the body as sent (a cheap reference-counted copy, only
        // when verification is on).
        let raw_body = self.config.auth.as_ref().map(|_| body.clone());
        let body = match decode_content(&parts.headers, body, self.config.max_body_bytes) {
            Ok(b) => b,
            Err(resp) => return resp(&request_id),
        };
        // 3. Target.
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let known = Operation::from_target(target);
        if known.is_none() && !target.is_empty() && self.upstream.forwards_unknown() {
            let get = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
            if let Err(err) = auth::check(get("authorization"), get("x-amz-date"), get("date"))
                .and_then(|h| self.verify(&h, &parts, raw_body.as_deref()))
            {
                m::request_done("unknown", err.status(), started, "rejected");
                return json_reply(Reply::error(&err), &request_id, reply_type);
            }
            let reply = self.upstream.call_unknown(target.to_string(), body).await;
            m::request_done("unknown", reply.status, started, "pass-through");
            return json_reply(reply, &request_id, reply_type);
        }
        let op = known.filter(|op| self.upstream.supports(*op));
        let Some(op) = op else {
            let err = json_error_first(&body)
                .unwrap_or_else(|| ApiError::bare(ErrorCode::UnknownOperationException));
            m::request_done(target_name(target), err.status(), started, "rejected");
            return json_reply(Reply::error(&err), &request_id, reply_type);
        };
        let span = tracing::info_span!(
            "request",
            operation = op.name(),
            table = tracing::field::Empty,
            outcome = tracing::field::Empty,
            id = %request_id,
        );
        if !span.is_disabled() {
            if let Some(t) = table_hint(&body) {
                span.record("table", t);
            }
        }
        // 4. Authentication (signatures are checked for shape; verification is opt-in later).
        let get = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let checked = auth::check(get("authorization"), get("x-amz-date"), get("date"));
        if let Err(err) = checked {
            let err = json_error_first(&body).unwrap_or(err);
            span.record("outcome", "rejected");
            m::request_done(op.name(), err.status(), started, "rejected");
            return json_reply(Reply::error(&err), &request_id, reply_type);
        }
        if let Err(err) = checked.and_then(|h| self.verify(&h, &parts, raw_body.as_deref())) {
            span.record("outcome", "rejected");
            m::request_done(op.name(), err.status(), started, "rejected");
            return json_reply(Reply::error(&err), &request_id, reply_type);
        }
        let reply = self
            .upstream
            .call(Request { op, body })
            .instrument(span.clone())
            .await;
        let outcome = reply.outcome.label();
        span.record("outcome", outcome);
        m::request_done(op.name(), reply.status, started, outcome);
        tracing::debug!(parent: &span, status = reply.status, elapsed_us = started.elapsed().as_micros() as u64, "answered");
        json_reply(reply, &request_id, reply_type)
    }

    /// Verifies the signature when `[auth] verify` is on; nothing to do otherwise.
    fn verify(
        &self,
        header: &auth::AuthHeader<'_>,
        parts: &http::request::Parts,
        raw_body: Option<&[u8]>,
    ) -> Result<(), ApiError> {
        let Some(keys) = self.config.auth.as_deref() else {
            return Ok(());
        };
        let get = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let date = get("x-amz-date").unwrap_or_default();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let req = sigv4::Signed {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            authority: parts.uri.authority().map(|a| a.as_str()),
            headers: &parts.headers,
            body: raw_body.unwrap_or_default(),
        };
        sigv4::verify(header, date, &req, keys, now)
    }

    fn handle_get(&self, path: &str, request_id: &str) -> HttpResponse {
        match path {
            "/" => plain(
                StatusCode::OK,
                request_id,
                Bytes::from(format!(
                    "healthy: dynamodb.{}.amazonaws.com ",
                    self.config.region
                )),
                Some("text/plain"),
            ),
            "/health" => plain(
                StatusCode::OK,
                request_id,
                Bytes::from_static(b"{\"status\":\"ok\"}"),
                Some("application/json"),
            ),
            "/metrics" => {
                self.upstream.refresh_gauges();
                let text = self
                    .prometheus
                    .as_ref()
                    .map(|p| p.render())
                    .unwrap_or_default();
                plain(
                    StatusCode::OK,
                    request_id,
                    Bytes::from(text),
                    Some("text/plain; version=0.0.4"),
                )
            }
            _ => plain(
                StatusCode::NOT_FOUND,
                request_id,
                Bytes::from_static(XML_UNKNOWN.as_bytes()),
                None,
            ),
        }
    }
}

/// The `TableName` of a request body for the request span, found without parsing the
/// body (a plain string value only; anything unusual is simply not recorded).
fn table_hint(body: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"TableName\"";
    let at = body.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let rest = body.get(at..)?;
    let colon = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest.get(colon) != Some(&b':') {
        return None;
    }
    let rest = rest.get(colon + 1..)?;
    let open = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    if rest.get(open) != Some(&b'"') {
        return None;
    }
    let rest = rest.get(open + 1..)?;
    let len = rest.iter().position(|b| *b == b'"' || *b == b'\\')?;
    if rest.get(len) != Some(&b'"') {
        return None;
    }
    std::str::from_utf8(rest.get(..len)?).ok()
}

fn target_name(target: &str) -> &'static str {
    if target.is_empty() {
        "none"
    } else {
        "unknown"
    }
}

/// When an earlier check fails, DynamoDB still reports unparseable JSON first.
fn json_error_first(body: &[u8]) -> Option<ApiError> {
    if body.is_empty() {
        return None;
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Ok(_) => None,
        Err(_) => Some(ApiError::bare(ErrorCode::SerializationException)),
    }
}

type ErrorResponse = Box<dyn FnOnce(&str) -> HttpResponse>;

/// Undoes `Content-Encoding: gzip` (or deflate), bounded by the same size limit.
fn decode_content(headers: &HeaderMap, body: Bytes, limit: usize) -> Result<Bytes, ErrorResponse> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut out = Vec::new();
    let read = match encoding.trim() {
        "" | "identity" => return Ok(body),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&body[..])
            .take(limit as u64 + 1)
            .read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(&body[..])
            .take(limit as u64 + 1)
            .read_to_end(&mut out),
        _ => {
            return Err(Box::new(|id: &str| {
                json_reply(
                    Reply::error(&ApiError::bare(ErrorCode::SerializationException)),
                    id,
                    HeaderValue::from_static("application/x-amz-json-1.0"),
                )
            }))
        }
    };
    match read {
        Ok(_) if out.len() > limit => Err(Box::new(|id: &str| too_large(id))),
        Ok(_) => Ok(Bytes::from(out)),
        Err(_) => Err(Box::new(|id: &str| {
            json_reply(
                Reply::error(&ApiError::bare(ErrorCode::SerializationException)),
                id,
                HeaderValue::from_static("application/x-amz-json-1.0"),
            )
        })),
    }
}

fn too_large(request_id: &str) -> HttpResponse {
    plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        request_id,
        Bytes::new(),
        None,
    )
}

fn json_reply(reply: Reply, request_id: &str, content_type: HeaderValue) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let crc = crc32fast::hash(&reply.body);
    let mut resp = Response::new(Full::new(reply.body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    insert_common(h, request_id, crc);
    if let Some(upstream_id) = reply.request_id {
        h.insert("x-amzn-requestid", upstream_id);
    }
    resp
}

fn plain(
    status: StatusCode,
    request_id: &str,
    body: Bytes,
    content_type: Option<&'static str>,
) -> HttpResponse {
    let crc = crc32fast::hash(&body);
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Some(ct) = content_type {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    insert_common(h, request_id, crc);
    resp
}

fn insert_common(h: &mut HeaderMap, request_id: &str, crc: u32) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    h.insert("x-amz-crc32", HeaderValue::from(crc));
}

/// A 52-character request id in DynamoDB's alphabet (upper-case letters and digits).
/// Unique, not secret: a per-thread splitmix64 stream seeded once from the OS, so no
/// system call per request.
fn request_id() -> String {
    use std::cell::Cell;
    const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    let mut out = String::with_capacity(52);
    STATE.with(|state| {
        let mut word = 0u64;
        for i in 0..52 {
            if i % 12 == 0 {
                let s = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
                state.set(s);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                word = z ^ (z >> 31);
            }
            out.push(char::from(ALPHABET[(word % 36) as usize]));
            word /= 36;
        }
    });
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_52_uppercase_alphanumerics() {
        let id = super::request_id();
        assert_eq!(id.len(), 52);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_ne!(id, super::request_id());
    }

    #[test]
    fn table_hint_reads_plain_table_names_only() {
        use super::table_hint;
        assert_eq!(
            table_hint(br#"{"Key":{},"TableName" : "t-1"}"#),
            Some("t-1")
        );
        assert_eq!(table_hint(br#"{"TableName":"a\"b"}"#), None);
        assert_eq!(table_hint(br#"{"TableName":5}"#), None);
        assert_eq!(table_hint(br#"{"RequestItems":{}}"#), None);
    }
}
