//! `[server]`: where the front door listens and how large a request body may be.

use std::net::{IpAddr, SocketAddr};

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
    }
}

/// The validated `[server]`.
#[derive(Debug, Clone)]
pub struct Server {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
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
        Ok(Server {
            listen: SocketAddr::new(ip, self.port()),
            max_body_bytes,
        })
    }
}
