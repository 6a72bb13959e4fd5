//! Storage failures as errors: every redb error converts into DynamoDB's 500 with the
//! redb error kept as its source (so `?` works on redb calls), and [`OpenError`] says
//! which file or directory a store could not be opened on.

use std::error::Error;
use std::fmt;
use std::path::PathBuf;

use crate::wire::ApiError;

/// Converts any storage failure into DynamoDB's 500 InternalServerError, keeping the
/// cause (logged once where the error leaves the engine, never sent to clients).
pub fn internal<E: Into<Box<dyn Error + Send + Sync>>>(e: E) -> ApiError {
    ApiError::storage(e)
}

macro_rules! storage_errors {
    ($($t:ty),*) => {
        $(impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ApiError::storage(e)
            }
        })*
    };
}
storage_errors!(
    redb::Error,
    redb::StorageError,
    redb::TransactionError,
    redb::TableError,
    redb::CommitError
);

/// Why a store could not be opened, naming the file or directory.
#[derive(Debug)]
pub enum OpenError {
    /// The data directory could not be created.
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// The data file could not be opened or created.
    Open {
        file: PathBuf,
        source: redb::DatabaseError,
    },
    /// The in-memory store could not be created.
    InMemory(redb::DatabaseError),
    /// The file's tables could not be set up (or read back).
    Initialise(Box<dyn Error + Send + Sync>),
    /// The file was written by a daxlite with another on-disk format.
    FormatVersion { found: u64, supported: u64 },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::CreateDir { dir, source } => {
                write!(f, "cannot create data directory {}: {source}", dir.display())
            }
            OpenError::Open { file, source } => {
                write!(f, "cannot open {}: {source}", file.display())
            }
            OpenError::InMemory(e) => write!(f, "cannot create in-memory store: {e}"),
            OpenError::Initialise(e) => write!(f, "cannot initialise store: {e}"),
            OpenError::FormatVersion { found, supported } => write!(
                f,
                "the data directory holds format version {found}; this daxlite reads version {supported}"
            ),
        }
    }
}

impl Error for OpenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            OpenError::CreateDir { source, .. } => Some(source),
            OpenError::Open { source, .. } => Some(source),
            OpenError::InMemory(e) => Some(e),
            OpenError::Initialise(e) => Some(e.as_ref()),
            OpenError::FormatVersion { .. } => None,
        }
    }
}

macro_rules! initialise_errors {
    ($($t:ty),*) => {
        $(impl From<$t> for OpenError {
            /// A redb failure while setting up the file's tables.
            fn from(e: $t) -> Self {
                OpenError::Initialise(Box::new(e))
            }
        })*
    };
}
initialise_errors!(
    redb::StorageError,
    redb::TransactionError,
    redb::TableError,
    redb::CommitError
);
