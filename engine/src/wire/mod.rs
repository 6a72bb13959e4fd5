//! The protocol contract shared by the engine and the proxy, with no I/O: the table of
//! operations, the error type, and the request-shape helpers that produce DynamoDB's
//! SerializationException and ValidationException messages.

pub mod error;
pub mod operation;
pub mod shape;

pub use error::{ApiError, ApiResult, ErrorCode};
pub use operation::{OpKind, Operation};
