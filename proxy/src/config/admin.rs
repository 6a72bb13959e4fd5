//! `[admin]`: the optional admin listener's address (off unless set).

use std::net::SocketAddr;

use super::error::ConfigError;
use super::section::section;

section! {
    /// `[admin]` as written in the file or the environment.
    pub struct RawAdmin { section: "admin", env_prefix: "ADMIN_" }
    {
        /// `host:port` of the admin listener; empty or absent: off.
        listen: String;
    }
}

impl RawAdmin {
    /// Checks the section: None when the listener is off.
    pub fn validate(&self) -> Result<Option<SocketAddr>, ConfigError> {
        match self.listen.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(a) => a.parse::<SocketAddr>().map(Some).map_err(|_| {
                ConfigError::setting(
                    "admin.listen",
                    format!("{a:?} is not an address such as \"127.0.0.1:8001\""),
                )
            }),
        }
    }
}
