//! `[limits]`: overload and slow-client protection of the front door — a cap on open
//! connections, bounds on in-flight requests per process and per connection (answered at
//! once with ThrottlingException beyond them), and header / body read timeouts against
//! slowloris clients. Every setting is off (0) by default; the semantics are in
//! `proxy/docs/OVERLOAD.md`.

use std::time::Duration;

use crate::overload::Limits;

use super::error::ConfigError;
use super::section::{duration, section};

section! {
    /// `[limits]` as written in the file, the environment or flags.
    pub struct RawLimits { section: "limits", env_prefix: "LIMITS_" }
    {
        /// Open client connections at most (0: no cap); the accept loop waits beyond it.
        max_connections: u32 = 0;
        /// Requests being served at once by the process (0: no bound).
        max_in_flight: u32 = 0;
        /// Requests being served at once on one connection (h2 streams; 0: no bound).
        max_in_flight_per_connection: u32 = 0;
        /// How long a client may take to send a request head (HTTP/1.1; 0: off).
        header_read_timeout: String = "0".into();
        /// How long a client may take to send a request body (0: off).
        body_read_timeout: String = "0".into();
    }
}

/// 0 means "off".
fn positive(n: u32) -> Option<usize> {
    (n > 0).then_some(n as usize)
}

fn timeout(name: &str, text: &str) -> Result<Option<Duration>, ConfigError> {
    let d = duration(name, text)?;
    Ok((!d.is_zero()).then_some(d))
}

impl RawLimits {
    /// Checks the section.
    pub fn validate(&self) -> Result<Limits, ConfigError> {
        Ok(Limits {
            max_connections: positive(self.max_connections()),
            max_in_flight: positive(self.max_in_flight()),
            max_in_flight_per_connection: positive(self.max_in_flight_per_connection()),
            header_read_timeout: timeout(
                "limits.header_read_timeout",
                &self.header_read_timeout(),
            )?,
            body_read_timeout: timeout("limits.body_read_timeout", &self.body_read_timeout())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_off_and_durations_parse() {
        let off = RawLimits::defaults().validate().ok();
        assert!(off.as_ref().is_some_and(Limits::is_off), "{off:?}");
        let raw = RawLimits {
            max_in_flight: Some(4),
            header_read_timeout: Some("250ms".into()),
            ..RawLimits::default()
        };
        let l = raw.validate().ok();
        assert_eq!(l.as_ref().and_then(|l| l.max_in_flight), Some(4));
        assert_eq!(
            l.and_then(|l| l.header_read_timeout),
            Some(Duration::from_millis(250))
        );
        let bad = RawLimits {
            body_read_timeout: Some("soon".into()),
            ..RawLimits::default()
        };
        assert!(bad.validate().is_err());
    }
}
