//! `[console]`: the web console at `/console/` on the main port. On by default when
//! daxlite listens on loopback; beyond loopback it needs `[admin] token` (which every
//! console request must then carry) or it is off.

use std::net::SocketAddr;

use super::error::ConfigError;
use super::section::section;

section! {
    /// `[console]` as written in the file or the environment.
    pub struct RawConsole { section: "console", env_prefix: "CONSOLE_" }
    {
        /// The web console at `/console/`.
        enabled: bool = true, env "CONSOLE";
    }
}

/// What `[console]` validates into.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// Whether `/console/` is served at all.
    pub enabled: bool,
    /// The `[admin] token` every console request must carry (None: loopback, none needed).
    pub token: Option<String>,
}

impl RawConsole {
    /// Checks the section against where the front door listens and the admin token: a
    /// listener beyond loopback serves the console only with a token; without one the
    /// console is off (and says so at start).
    pub fn validate(
        &self,
        listen: SocketAddr,
        admin_token: Option<&str>,
    ) -> Result<ConsoleConfig, ConfigError> {
        if !self.enabled() {
            return Ok(ConsoleConfig::default());
        }
        if listen.ip().is_loopback() {
            return Ok(ConsoleConfig {
                enabled: true,
                token: admin_token.map(str::to_string),
            });
        }
        match admin_token {
            Some(t) => Ok(ConsoleConfig {
                enabled: true,
                token: Some(t.to_string()),
            }),
            None => {
                tracing::warn!(
                    %listen,
                    "the web console is off: daxlite listens beyond loopback and [admin] token is not set"
                );
                Ok(ConsoleConfig::default())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_open_beyond_needs_the_token_or_is_off() {
        let on = RawConsole::defaults();
        let lo: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8000".parse().unwrap();
        assert_eq!(
            on.validate(lo, None).unwrap(),
            ConsoleConfig {
                enabled: true,
                token: None
            }
        );
        assert_eq!(on.validate(any, None).unwrap(), ConsoleConfig::default());
        assert_eq!(
            on.validate(any, Some("s")).unwrap().token.as_deref(),
            Some("s")
        );
        let off = RawConsole {
            enabled: Some(false),
        };
        assert!(!off.validate(lo, None).unwrap().enabled);
    }
}
