//! [`StartError`]: why daxlite could not start, naming the setting, address or file at
//! fault. `main` prints it after `daxlite: ` and exits.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;

use daxlite_engine::storage::OpenError;

use crate::config::ConfigError;

/// Why daxlite could not start.
#[derive(Debug)]
pub enum StartError {
    /// The configuration was refused (it names the setting, variable or file).
    Config(ConfigError),
    /// A listener could not bind: `setting` names which (`server` or `admin.listen`).
    Listen {
        setting: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The engine's store could not be opened (the error names the file or directory).
    Engine(OpenError),
    /// The remote upstream could not be set up (`upstream.url`).
    Upstream(String),
    /// The triggers could not start (`trigger`).
    Trigger(String),
    /// The Kinesis publisher could not start (`kinesis`).
    Kinesis(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Config(e) => e.fmt(f),
            StartError::Upstream(m) | StartError::Trigger(m) | StartError::Kinesis(m) => {
                f.write_str(m)
            }
            StartError::Listen {
                setting: "server",
                addr,
                source,
            } => write!(f, "cannot listen on {addr}: {source}"),
            StartError::Listen {
                setting,
                addr,
                source,
            } => write!(f, "{setting}: cannot listen on {addr}: {source}"),
            StartError::Engine(e) => e.fmt(f),
        }
    }
}

impl Error for StartError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StartError::Listen { source, .. } => Some(source),
            StartError::Engine(e) => Some(e),
            StartError::Config(e) => Some(e),
            _ => None,
        }
    }
}

impl From<OpenError> for StartError {
    fn from(e: OpenError) -> Self {
        StartError::Engine(e)
    }
}
