//! The front door's per-request work, in DynamoDB's order of checks: body size → method
//! and content type → target → JSON (only where an earlier error must defer to it) →
//! authentication → the upstream. Every answer carries `x-amzn-RequestId`, `x-amz-crc32`
//! and the content type the client used.

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
use crate::auth::authorize::{self, KeyNames, Schemas};
use crate::auth::decisions;
use crate::auth::identity::{Identities, Identity};
use crate::auth::resource::{self, ResourcePolicies};
use crate::auth::sigv4::{self, Keys};
use crate::auth::simulate;
use crate::metrics as m;
use crate::upstream::{Reply, Request, Upstream};
use crate::{compression, cors};

/// What the service needs besides the upstream.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Request bodies above this many bytes get 413 (DynamoDB: 16 MiB).
    pub max_body_bytes: usize,
    /// The region named in `GET /`'s health answer.
    pub region: String,
    /// `[auth] verify`: the keys signatures are verified with (None: shape checks only).
    pub auth: Option<Arc<Keys>>,
    /// The identities whose requests are authorized by their policies (None: no key
    /// has policies, and the request path does nothing more).
    pub identities: Option<Arc<Identities>>,
    /// `[capacity] retry_after`: `x-amz-retry-after` (ms) on throttling answers (None:
    /// not sent, as DynamoDB).
    pub retry_after_ms: Option<u64>,
    /// `[limits] body_read_timeout`: how long a body may take to arrive (None: no bound).
    pub body_read_timeout: Option<std::time::Duration>,
}

pub struct Service<U> {
    upstream: U,
    config: ServiceConfig,
    prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Key schemas for `dynamodb:LeadingKeys` (used only with policies).
    schemas: Schemas,
    /// Parsed resource-based policies (used only with policies).
    resource_policies: ResourcePolicies,
    /// Bumped whenever `schemas` or `resource_policies` forget: remembered authorization
    /// decisions older than it are not used.
    decided: decisions::Generation,
}

pub type HttpResponse = Response<Full<Bytes>>;

const XML_UNKNOWN: &str = "<UnknownOperationException/>\n";

/// The admin listener reaches the upstream through the service; the policy simulator is
/// answered here, with the service's identities and resource-based policies.
impl<U: Upstream + Administer> Administer for Service<U> {
    async fn admin(&self, cmd: Command) -> Option<Answer> {
        match cmd {
            Command::Simulate(q) => Some(self.simulate(&q).await),
            Command::CapacitySeries => Some(
                self.upstream
                    .capacity_series()
                    .map(Answer::ok)
                    .unwrap_or_else(|| {
                        Answer::bad(
                            404,
                            "no capacity series: the upstream is not the embedded engine".into(),
                        )
                    }),
            ),
            cmd => self.upstream.admin(cmd).await,
        }
    }
}

impl<U: Upstream> Service<U> {
    pub fn new(upstream: U, config: ServiceConfig) -> Arc<Self> {
        Arc::new(Service {
            upstream,
            config,
            prometheus: m::prometheus(),
            schemas: Schemas::default(),
            resource_policies: ResourcePolicies::default(),
            decided: decisions::Generation::default(),
        })
    }

    pub fn upstream(&self) -> &U {
        &self.upstream
    }

    /// Answers one HTTP request. The GET endpoints answer at once; everything else goes
    /// through [`Service::route`], and this is the one place that renders its reply or
    /// rejection and records the request's span outcome and metrics.
    pub async fn handle(&self, req: http::Request<Incoming>) -> HttpResponse {
        let started = Instant::now();
        let request_id = RequestId::new();
        let (parts, body) = req.into_parts();
        let cors = cors::is_cors(&parts.headers);
        let mut resp = self.answer(parts, body, request_id.as_str(), started).await;
        if cors {
            cors::add_simple(resp.headers_mut());
        }
        resp
    }

    /// The answer to a request refused by an overload bound (`crate::overload`):
    /// ThrottlingException in the client's JSON flavour, with `x-amz-retry-after` when
    /// `[capacity] retry_after` is set. Nothing of the request is read.
    pub fn overloaded(&self, headers: &HeaderMap) -> HttpResponse {
        let reply_type = match headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.split(';').next())
            .map(str::trim)
        {
            Some("application/x-amz-json-1.1") => "application/x-amz-json-1.1",
            Some("application/json") => "application/json",
            _ => "application/x-amz-json-1.0",
        };
        let reply = Reply::error(&crate::overload::throttled());
        let mut resp = json_reply(
            reply,
            RequestId::new().as_str(),
            HeaderValue::from_static(reply_type),
            None,
        );
        if let Some(ms) = self.config.retry_after_ms {
            resp.headers_mut()
                .insert(crate::retry_after::HEADER, HeaderValue::from(ms));
        }
        if cors::is_cors(headers) {
            cors::add_simple(resp.headers_mut());
        }
        resp
    }

    /// [`Service::handle`] without the CORS headers: preflights, oversized request heads,
    /// the GET endpoints, then DynamoDB requests through [`Service::route`].
    async fn answer(
        &self,
        parts: http::request::Parts,
        body: Incoming,
        request_id: &str,
        started: Instant,
    ) -> HttpResponse {
        if parts.method == Method::OPTIONS && cors::is_cors(&parts.headers) {
            let mut resp = plain(StatusCode::OK, request_id, Bytes::new(), None);
            cors::add_preflight(&parts.headers, resp.headers_mut());
            return resp;
        }
        if let Some(status) = oversized_head(&parts) {
            return plain(status, request_id, Bytes::new(), None);
        }
        if parts.method == Method::GET {
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .or_else(|| parts.uri.authority().map(|a| a.as_str()));
            return self.handle_get(parts.uri.path(), host, request_id);
        }
        let coding = compression::negotiate(&parts.headers);
        let mut ex = Exchange::default();
        let routed = self.route(&parts, body, request_id, &mut ex).await;
        let answered = routed.is_ok();
        let mut error_type: Option<String> = None;
        let (status, outcome, resp) = match routed {
            Ok(reply) => {
                if reply.status >= 400 {
                    error_type = m::error_type_of(&reply.body).map(str::to_string);
                }
                let outcome = ex.outcome.unwrap_or_else(|| reply.outcome.label());
                let retry_after = self
                    .config
                    .retry_after_ms
                    .filter(|_| crate::retry_after::applies(reply.status, &reply.body));
                let mut resp = json_reply(reply, request_id, ex.reply_type, coding);
                if let Some(ms) = retry_after {
                    resp.headers_mut()
                        .insert(crate::retry_after::HEADER, HeaderValue::from(ms));
                }
                (resp.status().as_u16(), outcome, resp)
            }
            Err(rejection) => {
                if let Rejection::Api(e) = &rejection {
                    error_type = Some(e.code().name().to_string());
                }
                let (status, resp) = rejection.render(request_id, ex.reply_type, coding);
                (status, "rejected", resp)
            }
        };
        // Requests refused before their target was read are not counted.
        if let Some(label) = ex.label {
            m::request_done(label, status, started, outcome, error_type.as_deref());
        }
        if let Some(span) = &ex.span {
            span.record("outcome", outcome);
            if answered {
                tracing::debug!(parent: span, status, elapsed_us = started.elapsed().as_micros() as u64, "answered");
            }
        }
        resp
    }

    /// The checks in DynamoDB's order, then the upstream: a reply, or why not. What is
    /// learned on the way (the reply's content type, the metrics label, the span) is
    /// written to `ex` for [`Service::handle`] to render and record.
    async fn route(
        &self,
        parts: &http::request::Parts,
        body: Incoming,
        request_id: &str,
        ex: &mut Exchange,
    ) -> Result<Reply, Rejection> {
        // 1. Body size, before reading more than the limit.
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.config.max_body_bytes as u64) {
            return Err(Rejection::TooLarge);
        }
        let collect = Limited::new(body, self.config.max_body_bytes).collect();
        let collected = match self.config.body_read_timeout {
            None => collect.await,
            Some(limit) => tokio::time::timeout(limit, collect)
                .await
                .map_err(|_| Rejection::BodyTimeout)?,
        };
        let body = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return Err(Rejection::TooLarge)
            }
            Err(_) => return Err(Rejection::Unreadable),
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
            return Err(Rejection::NotDynamoDb);
        }
        // The signature covers the body as sent (a cheap reference-counted copy, only
        // when verification is on).
        let raw_body = self.config.auth.as_ref().map(|_| body.clone());
        // A body that cannot be decoded is answered in JSON 1.0, whatever was sent.
        let body = compression::decode_request(&parts.headers, body, self.config.max_body_bytes)
            .map_err(|e| match e {
                compression::DecodeError::TooLarge => Rejection::TooLarge,
                // DynamoDB answers an undecodable body with HTTP 500 (Alternator's
                // `test_compressed_request.py`, checked on DynamoDB).
                compression::DecodeError::Undecodable => Rejection::Api(ApiError::new(
                    ErrorCode::InternalServerError,
                    "Internal server error",
                )),
            })?;
        ex.reply_type = HeaderValue::from_static(match json_type {
            Some("application/x-amz-json-1.1") => "application/x-amz-json-1.1",
            Some("application/json") => "application/json",
            _ => "application/x-amz-json-1.0",
        });
        // 3. Target.
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let get = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let known = Operation::from_target(target);
        if known.is_none() && !target.is_empty() && self.upstream.forwards_unknown() {
            ex.label = Some("unknown");
            auth::check(get("authorization"), get("x-amz-date"), get("date"))
                .and_then(|h| self.verify(&h, parts, raw_body.as_deref()))?;
            ex.outcome = Some("pass-through");
            return Ok(self.upstream.call_unknown(target.to_string(), body).await);
        }
        let Some(op) = known.filter(|op| self.upstream.supports(*op)) else {
            ex.label = Some(target_name(target));
            return Err(json_error_first(&body)
                .unwrap_or_else(|| ApiError::bare(ErrorCode::UnknownOperationException))
                .into());
        };
        ex.label = Some(op.name());
        // Debug level: at info the fmt layer formats these fields for every request
        // (4.6 µs of a 25 µs GetItem), for logs that print nothing per request.
        let span = tracing::debug_span!(
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
        let span = ex.span.insert(span);
        // 4. Authentication: the shape always (unparseable JSON is reported first), the
        // signature when `[auth] verify` is on.
        let header = auth::check(get("authorization"), get("x-amz-date"), get("date"))
            .map_err(|err| json_error_first(&body).unwrap_or(err))?;
        self.verify(&header, parts, raw_body.as_deref())?;
        // 5. Authorization by the caller's policies, before the cache is consulted.
        if let Some(ids) = &self.config.identities {
            // Any caller's table change (policies or not) makes learned key schemas stale,
            // and with them every remembered decision.
            self.observe(op);
            let access_key = header.credential.split('/').next().unwrap_or_default();
            if let Some(identity) = ids.get(access_key) {
                let peer = parts
                    .extensions
                    .get::<std::net::SocketAddr>()
                    .map(|a| a.ip());
                let secure = parts
                    .extensions
                    .get::<crate::tls::SecureTransport>()
                    .is_some();
                let request = decisions::Request {
                    op,
                    body: &body,
                    peer,
                    secure,
                };
                let generation = self.decided.current();
                match identity.decisions.get(&request, generation) {
                    Some(decision) => decision?,
                    None => {
                        let mut learned = false;
                        let decision = self
                            .authorize(identity, op, &body, peer, secure, &mut learned)
                            .await;
                        // A decision made while learning from the upstream (which may
                        // have failed) is not remembered; the next one will be.
                        if !learned {
                            identity.decisions.put(&request, generation, &decision);
                        }
                        decision?
                    }
                }
            }
        }
        let reply = self
            .upstream
            .call(Request { op, body })
            .instrument(span.clone())
            .await;
        if self.config.identities.is_some() {
            // Again once the change is made: a fetch racing it is not kept.
            self.observe(op);
        }
        Ok(reply)
    }

    /// Forgets what `op` may change: learned key schemas and resource-based policies,
    /// and so every remembered decision.
    fn observe(&self, op: Operation) {
        let schemas = self.schemas.observe(op);
        if self.resource_policies.observe(op) || schemas {
            self.decided.bump();
        }
    }

    /// The resource-based policy governing each tuple's resource (cached; read from the
    /// upstream with GetResourcePolicy on a miss; `learned` set when it was).
    async fn resource_policies_for(
        &self,
        tuples: &[authorize::Tuple],
        learned: &mut bool,
    ) -> Vec<Option<Arc<crate::auth::policy::Policy>>> {
        let mut out = Vec::with_capacity(tuples.len());
        for t in tuples {
            let Some(arn) = resource::governing_arn(&t.resource) else {
                out.push(None);
                continue;
            };
            let generation = match self.resource_policies.get(arn) {
                Ok(known) => {
                    out.push(known);
                    continue;
                }
                Err(g) => g,
            };
            *learned = true;
            let req = serde_json::json!({ "ResourceArn": arn }).to_string();
            // Boxed: a miss is rare, and the upstream's future inline would make every
            // authorized request's future that much larger to move.
            let reply = Box::pin(self.upstream.call(Request {
                op: Operation::GetResourcePolicy,
                body: Bytes::from(req),
            }))
            .await;
            match resource::from_reply(reply.is_success(), &reply.body) {
                Some(known) => {
                    self.resource_policies.fill(arn, generation, known.clone());
                    out.push(known);
                }
                None => {
                    tracing::warn!(
                        resource = arn,
                        status = reply.status,
                        "GetResourcePolicy failed; authorizing without a resource-based policy"
                    );
                    out.push(None);
                }
            }
        }
        out
    }

    /// Evaluates the caller's policies for every tuple of the request; the first denied
    /// one answers AccessDeniedException.
    async fn authorize(
        &self,
        identity: &Identity,
        op: Operation,
        body: &[u8],
        peer: Option<std::net::IpAddr>,
        secure: bool,
        learned: &mut bool,
    ) -> Result<(), ApiError> {
        let map: serde_json::Map<String, serde_json::Value> = if body.is_empty() {
            serde_json::Map::new()
        } else {
            serde_json::from_slice(body)
                .map_err(|_| ApiError::bare(ErrorCode::SerializationException))?
        };
        let mut keys = std::collections::HashMap::new();
        if identity.needs_leading_keys {
            for table in authorize::tables_needing_keys(op, &map) {
                if keys.contains_key(&table) {
                    continue;
                }
                if let Some(k) = self.schemas.get(&table) {
                    keys.insert(table, k);
                    continue;
                }
                *learned = true;
                let req = serde_json::json!({ "TableName": table }).to_string();
                // Boxed, like the resource policy's fetch: learned once per table.
                let reply = Box::pin(self.upstream.call(Request {
                    op: Operation::DescribeTable,
                    body: Bytes::from(req),
                }))
                .await;
                if !reply.is_success() {
                    // No such table: the key is absent, and the upstream answers the
                    // request with ResourceNotFoundException.
                    continue;
                }
                if let Some(names) = KeyNames::from_describe(&reply.body) {
                    self.schemas.put(&table, names);
                    if let Some(k) = self.schemas.get(&table) {
                        keys.insert(table, k);
                    }
                }
            }
        }
        // The contexts hold only the keys the identity's policies read, unless a
        // resource-based policy governing the request reads others: then once more in full.
        let mut full = false;
        loop {
            let builder = authorize::Builder {
                region: &self.config.region,
                identity,
                keys: &keys,
                full,
            };
            let Some(mut tuples) = builder.tuples(op, &map) else {
                return Ok(());
            };
            for t in &mut tuples {
                self.add_request_keys(&mut t.ctx, peer, secure);
            }
            let resource = self.resource_policies_for(&tuples, learned).await;
            let more = resource
                .iter()
                .flatten()
                .any(|p| p.keys_read().any(|k| !identity.reads(k)));
            if more && !full {
                full = true;
                continue;
            }
            authorize::check(identity, &tuples, &resource)?;
            return resource::check_new_policy(op, &map, identity, &self.config.region);
        }
    }

    /// The condition keys that come from the request's connection and time.
    fn add_request_keys(
        &self,
        ctx: &mut crate::auth::policy::Context,
        peer: Option<std::net::IpAddr>,
        secure: bool,
    ) {
        if ctx.wants("aws:CurrentTime") || ctx.wants("aws:EpochTime") {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            let (current, epoch) = authorize::time_keys(now.as_secs());
            ctx.set("aws:CurrentTime", vec![current]);
            ctx.set("aws:EpochTime", vec![epoch]);
        }
        if let Some(ip) = peer {
            ctx.set_with("aws:SourceIp", || vec![ip.to_canonical().to_string()]);
        }
        if secure {
            ctx.set("aws:SecureTransport", vec!["true".into()]);
        }
    }

    /// `POST /admin/simulate`: what a request of `q` would get, resource-based policies
    /// included.
    async fn simulate(&self, q: &simulate::Query) -> Answer {
        let subject = match simulate::resolve(
            self.config.auth.as_deref(),
            self.config.identities.as_deref(),
            q,
        ) {
            Ok(s) => s,
            Err(m) => return Answer::bad(400, m),
        };
        let tuple = authorize::Tuple {
            action: q.action.clone(),
            resource: q.resource.clone(),
            ctx: Default::default(),
        };
        let policy = match subject {
            simulate::Subject::Identity(_) => self
                .resource_policies_for(std::slice::from_ref(&tuple), &mut false)
                .await
                .pop()
                .flatten(),
            _ => None,
        };
        Answer::ok(simulate::decide(&subject, q, policy.as_ref()).to_json(q))
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

    /// `GET /` answers `healthy: <Host> ` with the host the client used, as DynamoDB does
    /// (`dynamodb.<region>.amazonaws.com` when the request names none).
    fn handle_get(&self, path: &str, host: Option<&str>, request_id: &str) -> HttpResponse {
        match path {
            "/" => plain(
                StatusCode::OK,
                request_id,
                Bytes::from(match host {
                    Some(h) => format!("healthy: {h} "),
                    None => format!("healthy: dynamodb.{}.amazonaws.com ", self.config.region),
                }),
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

/// What the front door learned about a request on its way through [`Service::route`].
struct Exchange {
    /// The content type replies are sent in (the client's JSON flavour).
    reply_type: HeaderValue,
    /// The metrics label (`operation`), once the target is read; None: not counted.
    label: Option<&'static str>,
    /// The outcome recorded for a reply when it is not the reply's own (pass-through).
    outcome: Option<&'static str>,
    /// The request span, once the operation is known.
    span: Option<tracing::Span>,
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange {
            reply_type: HeaderValue::from_static("application/x-amz-json-1.0"),
            label: None,
            outcome: None,
            span: None,
        }
    }
}

/// Why the front door answered without the upstream.
#[derive(Debug)]
enum Rejection {
    /// 413 with an empty body: the body is larger than `max_body_bytes` (declared, read
    /// or decompressed).
    TooLarge,
    /// 400 with an empty body: the body could not be read.
    Unreadable,
    /// 408 with an empty body and `connection: close`: the body did not arrive within
    /// `[limits] body_read_timeout`.
    BodyTimeout,
    /// 404 with DynamoDB's XML UnknownOperationException: not a POST of a JSON type.
    NotDynamoDb,
    /// A DynamoDB JSON error.
    Api(ApiError),
}

impl From<ApiError> for Rejection {
    fn from(err: ApiError) -> Self {
        Rejection::Api(err)
    }
}

impl Rejection {
    /// The status and the response for this rejection; JSON errors in `reply_type`.
    fn render(
        self,
        request_id: &str,
        reply_type: HeaderValue,
        coding: Option<compression::Coding>,
    ) -> (u16, HttpResponse) {
        match self {
            Rejection::TooLarge => (413, too_large(request_id)),
            Rejection::Unreadable => (
                400,
                plain(StatusCode::BAD_REQUEST, request_id, Bytes::new(), None),
            ),
            Rejection::BodyTimeout => {
                let mut resp = plain(StatusCode::REQUEST_TIMEOUT, request_id, Bytes::new(), None);
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                (408, resp)
            }
            Rejection::NotDynamoDb => (
                404,
                plain(
                    StatusCode::NOT_FOUND,
                    request_id,
                    Bytes::from_static(XML_UNKNOWN.as_bytes()),
                    None,
                ),
            ),
            Rejection::Api(err) => (
                err.status(),
                json_reply(Reply::error(&err), request_id, reply_type, coding),
            ),
        }
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

/// A JSON answer, compressed with `coding` when the client asked and it is large enough;
/// `x-amz-crc32` covers the bytes sent (compressed or not), as on DynamoDB.
fn json_reply(
    reply: Reply,
    request_id: &str,
    content_type: HeaderValue,
    coding: Option<compression::Coding>,
) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let compressed = coding.and_then(|c| Some((c, compression::compress(&reply.body, c)?)));
    let (body, encoding) = match compressed {
        Some((c, bytes)) => (bytes, Some(c)),
        None => (reply.body, None),
    };
    let crc = crc32fast::hash(&body);
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, content_type);
    if let Some(c) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(c.name()));
    }
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
    h.insert(header::SERVER, HeaderValue::from_static("Server"));
}

/// The longest request target (path and query) served: longer ones get 414.
const MAX_TARGET_BYTES: usize = 8 * 1024;
/// The largest header section served (names, values and their separators): larger ones
/// get 431.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// 414 / 431 for a request head over the limits (DynamoDB Local's statuses; DynamoDB's
/// own limits are not documented). hyper refuses heads past its buffer itself, with the
/// same statuses.
fn oversized_head(parts: &http::request::Parts) -> Option<StatusCode> {
    let target = parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_TARGET_BYTES {
        return Some(StatusCode::URI_TOO_LONG);
    }
    let mut total = 0;
    for (name, value) in &parts.headers {
        total += name.as_str().len() + value.len() + 4;
        if total > MAX_HEADER_BYTES {
            return Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        }
    }
    None
}

/// A 52-character request id in DynamoDB's alphabet (upper-case letters and digits),
/// kept on the stack. Unique, not secret: a per-thread splitmix64 stream seeded once from
/// the OS, so no system call and no allocation per request.
struct RequestId([u8; 52]);

impl RequestId {
    fn new() -> RequestId {
        use std::cell::Cell;
        const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        thread_local! {
            static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
        }
        let mut out = [b'0'; 52];
        STATE.with(|state| {
            let mut word = 0u64;
            for (i, byte) in out.iter_mut().enumerate() {
                if i % 12 == 0 {
                    let s = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
                    state.set(s);
                    let mut z = s;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    word = z ^ (z >> 31);
                }
                *byte = ALPHABET[(word % 36) as usize];
                word /= 36;
            }
        });
        RequestId(out)
    }

    fn as_str(&self) -> &str {
        // Every byte is from ALPHABET, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or("0")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_52_uppercase_alphanumerics() {
        let id = super::RequestId::new().as_str().to_string();
        assert_eq!(id.len(), 52);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert_ne!(id, super::RequestId::new().as_str());
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
