//! `[admin]`: the optional admin listener's address (off unless set) and its bearer token
//! (required for an address that is not loopback).

use std::net::SocketAddr;

use super::error::ConfigError;
use super::section::section;

section! {
    /// `[admin]` as written in the file or the environment.
    pub struct RawAdmin { section: "admin", env_prefix: "ADMIN_" }
    {
        /// `host:port` of the admin listener; empty or absent: off.
        listen: String;
        /// `Authorization: Bearer <token>` every admin request must carry; empty or
        /// absent: none (then only a loopback address may be used).
        token: String;
    }
}

/// What `[admin]` validates into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminConfig {
    pub listen: Option<SocketAddr>,
    pub token: Option<String>,
}

/// Refuses a non-loopback admin address without a token.
pub fn check_exposure(listen: Option<SocketAddr>, token: Option<&str>) -> Result<(), ConfigError> {
    match listen {
        Some(a) if !a.ip().is_loopback() && token.is_none() => Err(ConfigError::setting(
            "admin.token",
            format!("the admin listener on {a} is reachable from other hosts: set admin.token (or listen on 127.0.0.1)"),
        )),
        _ => Ok(()),
    }
}

impl RawAdmin {
    /// Checks the section: the address (None when the listener is off) and the token.
    pub fn validate(&self) -> Result<AdminConfig, ConfigError> {
        let listen = match self.listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(a.parse::<SocketAddr>().map_err(|_| {
                ConfigError::setting(
                    "admin.listen",
                    format!("{a:?} is not an address such as \"127.0.0.1:8001\""),
                )
            })?),
        };
        let token = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        check_exposure(listen, token.as_deref())?;
        Ok(AdminConfig { listen, token })
    }
}
