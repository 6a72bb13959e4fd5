//! The `Upstream` contract: whatever answers DynamoDB requests behind the front door —
//! the embedded engine, a remote endpoint, or the cache decorator around either. Requests
//! and replies are raw bytes plus the operation, so nothing is re-serialised on the way.

mod embedded;
pub mod remote;
pub mod retry;
pub mod signing;

use std::future::Future;

use bytes::Bytes;
use daxlite_engine::wire::{ApiError, ErrorCode, Operation};

pub use embedded::Embedded;
pub use remote::{Remote, RemoteConfig};

/// One DynamoDB call as the front door decoded it.
#[derive(Debug, Clone)]
pub struct Request {
    pub op: Operation,
    /// The JSON body, decompressed, exactly as the client sent it.
    pub body: Bytes,
}

/// How a request was answered, for the request-duration histogram and the request span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    /// Answered from the cache.
    Hit,
    /// A cacheable read that went upstream and filled the cache.
    Miss,
    /// A write through the cache (forwarded, then the cache updated or invalidated).
    Write,
    /// Forwarded without touching the cache.
    #[default]
    PassThrough,
}

impl Outcome {
    /// The `outcome` label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Hit => "hit",
            Outcome::Miss => "miss",
            Outcome::Write => "write",
            Outcome::PassThrough => "pass-through",
        }
    }
}

/// The upstream's answer: HTTP status and JSON body, ready to send.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    /// The upstream's `x-amzn-RequestId`, passed back untouched (remote upstreams only).
    pub request_id: Option<http::HeaderValue>,
    /// Set by the cache; upstreams leave the default (pass-through).
    pub outcome: Outcome,
}

impl Reply {
    pub fn ok(body: impl Into<Bytes>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
            request_id: None,
            outcome: Outcome::PassThrough,
        }
    }

    pub fn error(err: &ApiError) -> Reply {
        Reply {
            status: err.status(),
            body: Bytes::from(err.to_body()),
            request_id: None,
            outcome: Outcome::PassThrough,
        }
    }

    /// The reply labelled with how it was answered.
    pub fn outcome(mut self, outcome: Outcome) -> Reply {
        self.outcome = outcome;
        self
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// A 5xx: for a write, the outcome is unknown (it may or may not have been applied).
    pub fn is_fault(&self) -> bool {
        self.status >= 500
    }
}

/// Anything that answers DynamoDB calls. Runs once per request that passed the front
/// door's protocol and authentication checks.
pub trait Upstream: Send + Sync + 'static {
    fn call(&self, req: Request) -> impl Future<Output = Reply> + Send;

    /// Whether this upstream answers `op` (the front door answers UnknownOperationException
    /// for the rest, before authentication, as DynamoDB does for unknown targets).
    fn supports(&self, op: Operation) -> bool;

    /// Whether targets that [`Operation`] does not know are forwarded (remote upstreams:
    /// unlike DAX, nothing answers NotImplemented). The front door then authenticates the
    /// request and calls [`Upstream::call_unknown`] instead of rejecting it.
    fn forwards_unknown(&self) -> bool {
        false
    }

    /// Runs for an `X-Amz-Target` that [`Operation`] does not know, when
    /// [`Upstream::forwards_unknown`] is true: the raw target and body are forwarded.
    fn call_unknown(&self, target: String, body: Bytes) -> impl Future<Output = Reply> + Send {
        let _ = (target, body);
        async { Reply::error(&ApiError::bare(ErrorCode::UnknownOperationException)) }
    }

    /// Runs before `GET /metrics` renders: publishes gauges that are cheaper to read on
    /// demand than to keep current on every request (the cache's size).
    fn refresh_gauges(&self) {}

    /// The engine's per-minute capacity series (admin `GET /capacity/series`); None:
    /// not an embedded engine.
    fn capacity_series(&self) -> Option<serde_json::Value> {
        None
    }

    /// Runs when the server stops, after in-flight requests drained.
    fn close(&self) {}
}
