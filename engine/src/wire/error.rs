//! `ApiError`: every error daxlite answers with, as DynamoDB spells it — the `__type`
//! namespace, the HTTP status, whether SDKs retry it, and the JSON body (with `Item` or
//! `CancellationReasons` where DynamoDB adds them).

use std::fmt;

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
    ExpiredIteratorException,
    TrimmedDataAccessException,
    InternalServerError,
    ServiceUnavailable,
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
            ExpiredIteratorException => "ExpiredIteratorException",
            TrimmedDataAccessException => "TrimmedDataAccessException",
            InternalServerError => "InternalServerError",
            ServiceUnavailable => "ServiceUnavailable",
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

/// An error answer: code, optional message, and extra top-level JSON fields.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(Box<Inner>);

#[derive(Debug, Clone, PartialEq)]
struct Inner {
    code: ErrorCode,
    message: Option<String>,
    extra: Vec<(&'static str, serde_json::Value)>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError(Box::new(Inner {
            code,
            message: Some(message.into()),
            extra: Vec::new(),
        }))
    }

    /// An error whose body has no `message` (DynamoDB's bare SerializationException, ...).
    pub fn bare(code: ErrorCode) -> Self {
        ApiError(Box::new(Inner {
            code,
            message: None,
            extra: Vec::new(),
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

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalServerError, message)
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

impl std::error::Error for ApiError {}

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
}
