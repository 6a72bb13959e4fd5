//! `ApiError`: every error daxlite answers with, as DynamoDB spells it — the `__type`
//! namespace, the HTTP status, whether SDKs retry it, and the JSON body (with `Item` or
//! `CancellationReasons` where DynamoDB adds them).
//!
//! An error may carry its cause ([`ApiError::source`], e.g. the redb error behind a 500):
//! it is logged once where the error leaves the engine and never sent to clients. Its
//! [`Fault`] says whose failure it was; the writer rolls a group back on a storage fault.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The error codes DynamoDB answers with. Each knows its namespace and HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    // com.amazon.coral.validate#
    ValidationException,
    // com.amazon.coral.service#
    SerializationException,
    UnknownOperationException,
    MissingAuthenticationTokenException,
    IncompleteSignatureException,
    InvalidSignatureException,
    UnrecognizedClientException,
    AccessDeniedException,
    InternalFailure,
    // com.amazonaws.dynamodb.v20120810#
    ResourceNotFoundException,
    ResourceInUseException,
    ConditionalCheckFailedException,
    DuplicateItemException,
    LimitExceededException,
    TransactionCanceledException,
    TransactionConflictException,
    TransactionInProgressException,
    IdempotentParameterMismatchException,
    ItemCollectionSizeLimitExceededException,
    ProvisionedThroughputExceededException,
    RequestLimitExceeded,
    ThrottlingException,
    TableNotFoundException,
    TableAlreadyExistsException,
    TableInUseException,
    BackupNotFoundException,
    BackupInUseException,
    ContinuousBackupsUnavailableException,
    PointInTimeRecoveryUnavailableException,
    InvalidRestoreTimeException,
    InvalidExportTimeException,
    ExportNotFoundException,
    ExportConflictException,
    ImportNotFoundException,
    ImportConflictException,
    ExpiredIteratorException,
    TrimmedDataAccessException,
    PolicyNotFoundException,
    GlobalTableNotFoundException,
    InternalServerError,
    ServiceUnavailable,
    // Application Auto Scaling (com.amazonaws.applicationautoscaling#)
    ObjectNotFoundException,
}

impl ErrorCode {
    /// The error's bare name, as it appears after the `#` of `__type`.
    pub fn name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ValidationException => "ValidationException",
            SerializationException => "SerializationException",
            UnknownOperationException => "UnknownOperationException",
            MissingAuthenticationTokenException => "MissingAuthenticationTokenException",
            IncompleteSignatureException => "IncompleteSignatureException",
            InvalidSignatureException => "InvalidSignatureException",
            UnrecognizedClientException => "UnrecognizedClientException",
            AccessDeniedException => "AccessDeniedException",
            InternalFailure => "InternalFailure",
            ResourceNotFoundException => "ResourceNotFoundException",
            ResourceInUseException => "ResourceInUseException",
            ConditionalCheckFailedException => "ConditionalCheckFailedException",
            DuplicateItemException => "DuplicateItemException",
            LimitExceededException => "LimitExceededException",
            TransactionCanceledException => "TransactionCanceledException",
            TransactionConflictException => "TransactionConflictException",
            TransactionInProgressException => "TransactionInProgressException",
            IdempotentParameterMismatchException => "IdempotentParameterMismatchException",
            ItemCollectionSizeLimitExceededException => "ItemCollectionSizeLimitExceededException",
            ProvisionedThroughputExceededException => "ProvisionedThroughputExceededException",
            RequestLimitExceeded => "RequestLimitExceeded",
            ThrottlingException => "ThrottlingException",
            TableNotFoundException => "TableNotFoundException",
            TableAlreadyExistsException => "TableAlreadyExistsException",
            TableInUseException => "TableInUseException",
            BackupNotFoundException => "BackupNotFoundException",
            BackupInUseException => "BackupInUseException",
            ContinuousBackupsUnavailableException => "ContinuousBackupsUnavailableException",
            PointInTimeRecoveryUnavailableException => "PointInTimeRecoveryUnavailableException",
            InvalidRestoreTimeException => "InvalidRestoreTimeException",
            InvalidExportTimeException => "InvalidExportTimeException",
            ExportNotFoundException => "ExportNotFoundException",
            ExportConflictException => "ExportConflictException",
            ImportNotFoundException => "ImportNotFoundException",
            ImportConflictException => "ImportConflictException",
            ExpiredIteratorException => "ExpiredIteratorException",
            TrimmedDataAccessException => "TrimmedDataAccessException",
            PolicyNotFoundException => "PolicyNotFoundException",
            GlobalTableNotFoundException => "GlobalTableNotFoundException",
            InternalServerError => "InternalServerError",
            ServiceUnavailable => "ServiceUnavailable",
            ObjectNotFoundException => "ObjectNotFoundException",
        }
    }

    /// The `__type` namespace DynamoDB puts before the `#`.
    pub fn namespace(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ValidationException => "com.amazon.coral.validate",
            SerializationException
            | UnknownOperationException
            | MissingAuthenticationTokenException
            | IncompleteSignatureException
            | InvalidSignatureException
            | UnrecognizedClientException
            | AccessDeniedException
            | InternalFailure => "com.amazon.coral.service",
            ObjectNotFoundException => "com.amazonaws.applicationautoscaling",
            _ => "com.amazonaws.dynamodb.v20120810",
        }
    }

    /// The HTTP status DynamoDB answers this error with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InternalServerError | ErrorCode::InternalFailure => 500,
            ErrorCode::ServiceUnavailable => 503,
            _ => 400,
        }
    }

    /// Whether the AWS SDKs retry this error (DynamoDB's error-handling guide).
    pub fn retryable(self) -> bool {
        use ErrorCode::*;
        matches!(
            self,
            InternalServerError
                | InternalFailure
                | ServiceUnavailable
                | ThrottlingException
                | ProvisionedThroughputExceededException
                | RequestLimitExceeded
                | LimitExceededException
                | ItemCollectionSizeLimitExceededException
                | UnrecognizedClientException
                | TransactionInProgressException
        )
    }
}

/// Whose failure an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request's (validation, conditions, missing tables, ...) or the server's
    /// refusal (throttling, shutting down): nothing in storage went wrong.
    Request,
    /// Storage failed (or its contents were unreadable): a write job that returns this
    /// may have written part of its work, so its whole group is rolled back.
    Storage,
}

/// The cause behind an error, shared so [`ApiError`] stays cheap to clone.
pub type Source = Arc<dyn Error + Send + Sync>;

/// An error answer: code, optional message, and extra top-level JSON fields; and, for
/// the logs only, its fault and cause.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(Box<Inner>);

#[derive(Debug, Clone)]
struct Inner {
    code: ErrorCode,
    message: Option<String>,
    extra: Vec<(&'static str, serde_json::Value)>,
    fault: Fault,
    source: Option<Source>,
}

/// Two errors are equal when clients see the same answer (the cause is not compared).
impl PartialEq for Inner {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
            && self.message == other.message
            && self.extra == other.extra
            && self.fault == other.fault
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(Box::new(Inner {
            code,
            message: Some(message.into()),
            extra: Vec::new(),
            fault: Fault::Request,
            source: None,
        }))
    }

    /// An error whose body has no `message` (DynamoDB's bare SerializationException, ...).
    pub fn bare(code: ErrorCode) -> Self {
        ApiError(Box::new(Inner {
            code,
            message: None,
            extra: Vec::new(),
            fault: Fault::Request,
            source: None,
        }))
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationException, message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::SerializationException, message)
    }

    /// "One or more parameter values were invalid: ..." — DynamoDB's common prefix.
    pub fn invalid_parameter(detail: impl fmt::Display) -> Self {
        Self::validation(format!(
            "One or more parameter values were invalid: {detail}"
        ))
    }

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceNotFoundException, message)
    }

    pub fn resource_in_use(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ResourceInUseException, message)
    }

    /// A 500 InternalServerError: a storage fault (the writer rolls its group back).
    pub fn internal(message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorCode::InternalServerError, message);
        e.0.fault = Fault::Storage;
        e
    }

    /// A storage failure: DynamoDB's 500 "Internal server error", keeping `cause` for
    /// the log.
    pub fn storage(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        Self::internal("Internal server error").with_source(cause)
    }

    /// Keeps `cause` as this error's source (logged, never sent).
    pub fn with_source(mut self, cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        self.0.source = Some(Arc::from(cause.into()));
        self
    }

    /// Whose failure this is.
    pub fn fault(&self) -> Fault {
        self.0.fault
    }

    /// Whether storage failed (the writer's cue to roll back).
    pub fn is_storage_failure(&self) -> bool {
        self.0.fault == Fault::Storage
    }

    /// Logs the error's cause, if it has one; runs once, where the error leaves the
    /// engine.
    pub fn log_cause(&self) {
        if let Some(cause) = &self.0.source {
            tracing::error!(error = %cause, code = self.0.code.name(), "storage failure");
        }
    }

    /// Adds a top-level field to the error body (`Item`, `CancellationReasons`).
    pub fn with_extra(mut self, key: &'static str, value: serde_json::Value) -> Self {
        self.0.extra.push((key, value));
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    pub fn status(&self) -> u16 {
        self.0.code.status()
    }

    /// `namespace#Name`, the `__type` of the body.
    pub fn type_name(&self) -> String {
        format!("{}#{}", self.0.code.namespace(), self.0.code.name())
    }

    /// The JSON body DynamoDB sends for this error.
    pub fn to_body(&self) -> Vec<u8> {
        let mut map = serde_json::Map::new();
        map.insert("__type".into(), serde_json::Value::String(self.type_name()));
        if let Some(m) = &self.0.message {
            map.insert("message".into(), serde_json::Value::String(m.clone()));
        }
        for (k, v) in &self.0.extra {
            map.insert((*k).into(), v.clone());
        }
        serde_json::to_vec(&serde_json::Value::Object(map)).unwrap_or_default()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.message {
            Some(m) => write!(f, "{}: {}", self.0.code.name(), m),
            None => f.write_str(self.0.code.name()),
        }
    }
}

impl Error for ApiError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn Error + 'static))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_namespaced_type_and_message() {
        let e = ApiError::validation("bad");
        let v: serde_json::Value = serde_json::from_slice(&e.to_body()).unwrap_or_default();
        assert_eq!(v["__type"], "com.amazon.coral.validate#ValidationException");
        assert_eq!(v["message"], "bad");
        let e = ApiError::bare(ErrorCode::SerializationException);
        assert_eq!(
            String::from_utf8(e.to_body()).unwrap_or_default(),
            r#"{"__type":"com.amazon.coral.service#SerializationException"}"#
        );
        assert_eq!(
            ApiError::resource_not_found("x").type_name(),
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
        );
        assert_eq!(ApiError::internal("x").status(), 500);
    }

    #[test]
    fn the_cause_is_kept_for_the_log_and_never_sent() {
        let io = std::io::Error::other("disk on fire");
        let e = ApiError::storage(io);
        assert!(e.is_storage_failure());
        assert_eq!(e.fault(), Fault::Storage);
        assert_eq!(
            Error::source(&e).map(|s| s.to_string()).as_deref(),
            Some("disk on fire")
        );
        let body = String::from_utf8(e.to_body()).unwrap_or_default();
        assert_eq!(
            body,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#
        );
        assert!(!e.to_string().contains("fire"));
        assert!(!ApiError::validation("x").is_storage_failure());
        assert!(Error::source(&ApiError::validation("x")).is_none());
        assert_eq!(e, ApiError::internal("Internal server error"));
    }
}
