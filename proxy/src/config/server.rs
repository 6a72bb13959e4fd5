//! `[server]`: where the front door listens, how large a request body may be, and the
//! PEM certificate and key it serves HTTPS with (`tls_cert` / `tls_key`; off unless set).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use super::error::ConfigError;
use super::section::section;

/// DynamoDB's request size limit.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

section! {
    /// `[server]` as written in the file, the environment or flags.
    pub struct RawServer { section: "server", env_prefix: "" }
    {
        /// Address to listen on (`localhost` means 127.0.0.1). Flag `--host`.
        host: String = "127.0.0.1".into();
        /// Port to listen on. Flag `--port` (DynamoDB Local: `-port`).
        port: u16 = 8000;
        /// Request bodies above this many bytes get 413.
        max_body_bytes: usize = DEFAULT_MAX_BODY_BYTES;
        /// PEM certificate chain (leaf first) to serve HTTPS with; with `tls_key`.
        tls_cert: PathBuf;
        /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `tls_cert`.
        tls_key: PathBuf;
    }
}

/// `tls_cert` and `tls_key`: the PEM files HTTPS is served with (read again on SIGHUP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The validated `[server]`.
#[derive(Debug, Clone)]
pub struct Server {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub tls: Option<TlsFiles>,
}

impl RawServer {
    /// Checks the section.
    pub fn validate(&self) -> Result<Server, ConfigError> {
        let host = self.host();
        let ip: IpAddr = match host.parse() {
            Ok(ip) => ip,
            Err(_) if host == "localhost" => IpAddr::from([127, 0, 0, 1]),
            Err(_) => {
                return Err(ConfigError::setting(
                    "server.host",
                    format!("{host:?} is not an IP address"),
                ))
            }
        };
        let max_body_bytes = self.max_body_bytes();
        if max_body_bytes == 0 {
            return Err(ConfigError::setting(
                "server.max_body_bytes",
                "must be at least 1",
            ));
        }
        let tls = match (self.tls_cert(), self.tls_key()) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let files = TlsFiles { cert, key };
                // Read now, so a missing or malformed file is refused before anything starts.
                crate::tls::server_config(&files)?;
                Some(files)
            }
            (Some(_), None) => {
                return Err(ConfigError::setting(
                    "server.tls_key",
                    "server.tls_cert is set: set server.tls_key too (the certificate's private key, PEM)",
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::setting(
                    "server.tls_cert",
                    "server.tls_key is set: set server.tls_cert too (the certificate chain, PEM)",
                ))
            }
        };
        Ok(Server {
            listen: SocketAddr::new(ip, self.port()),
            max_body_bytes,
            tls,
        })
    }
}
