//! The `Upstream` contract: whatever answers DynamoDB requests behind the front door —
//! the embedded engine now, a remote endpoint or the cache decorator later. Requests and
//! replies are raw bytes plus the operation, so nothing is re-serialised on the way.

mod embedded;

use std::future::Future;

use bytes::Bytes;
use daxlite_engine::wire::{ApiError, Operation};

pub use embedded::Embedded;

/// One DynamoDB call as the front door decoded it.
#[derive(Debug, Clone)]
pub struct Request {
    pub op: Operation,
    /// The JSON body, decompressed, exactly as the client sent it.
    pub body: Bytes,
}

/// The upstream's answer: HTTP status and JSON body, ready to send.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
}

impl Reply {
    pub fn ok(body: impl Into<Bytes>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
        }
    }

    pub fn error(err: &ApiError) -> Reply {
        Reply {
            status: err.status(),
            body: Bytes::from(err.to_body()),
        }
    }
}

/// Anything that answers DynamoDB calls. Runs once per request that passed the front
/// door's protocol and authentication checks.
pub trait Upstream: Send + Sync + 'static {
    fn call(&self, req: Request) -> impl Future<Output = Reply> + Send;

    /// Whether this upstream answers `op` (the front door answers UnknownOperationException
    /// for the rest, before authentication, as DynamoDB does for unknown targets).
    fn supports(&self, op: Operation) -> bool;

    /// Runs when the server stops, after in-flight requests drained.
    fn close(&self) {}
}
