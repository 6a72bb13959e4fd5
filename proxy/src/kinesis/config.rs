//! `[kinesis]`: where Kinesis Data Streams destinations publish (any Kinesis-compatible
//! endpoint: AWS, LocalStack, kinesalite), the signing region, and the publisher's
//! batching, timeouts and backoff. Credentials come from the AWS default chain (the
//! environment, profile, SSO, container and instance metadata); for an endpoint on this
//! machine from the environment or placeholders.

use std::time::Duration;

use http::Uri;

use crate::config::engine::is_region_name;
use crate::config::error::ConfigError;
use crate::config::section::{duration, section};

section! {
    /// `[kinesis]` as written in the file or the environment.
    pub struct RawKinesis { section: "kinesis", env_prefix: "KINESIS_" }
    {
        /// The Kinesis endpoint (default: `https://kinesis.<region>.amazonaws.com`).
        endpoint: String;
        /// The region requests are signed for (default: `[engine] region`).
        region: String;
        /// The most records in one PutRecords call (1–500).
        batch_records: usize = 500;
        /// How long one call may take.
        timeout: String = "10s".into();
        /// The first wait after a failed call; doubles up to `max_backoff`.
        backoff: String = "100ms".into();
        /// The longest wait between retries.
        max_backoff: String = "5s".into();
        /// How often an idle publisher looks for new destinations and changes.
        poll_interval: String = "500ms".into();
        /// How long a destination stays ENABLING / UPDATING / DISABLING (ms; 0: settled
        /// before the next request).
        transition_ms: i64 = 0;
    }
}

/// The validated `[kinesis]` section.
#[derive(Debug, Clone)]
pub struct KinesisConfig {
    pub endpoint: Uri,
    pub region: String,
    pub batch_records: usize,
    pub timeout: Duration,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub poll_interval: Duration,
    pub transition_ms: i64,
}

impl KinesisConfig {
    /// The built-in defaults without validation (`Config::ephemeral`'s last resort).
    pub fn fallback(region: &str) -> KinesisConfig {
        let endpoint = format!("https://kinesis.{region}.amazonaws.com")
            .parse()
            .unwrap_or_else(|_| Uri::from_static("https://kinesis.us-east-1.amazonaws.com"));
        KinesisConfig {
            endpoint,
            region: region.to_string(),
            batch_records: 500,
            timeout: Duration::from_secs(10),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            poll_interval: Duration::from_millis(500),
            transition_ms: 0,
        }
    }
}

impl RawKinesis {
    /// Checks the section; `engine_region` is the default signing region.
    pub fn validate(&self, engine_region: &str) -> Result<KinesisConfig, ConfigError> {
        let region = self.region().unwrap_or_else(|| engine_region.to_string());
        if !is_region_name(&region) {
            return Err(ConfigError::setting(
                "kinesis.region",
                format!("{region:?} is not a region name"),
            ));
        }
        let text = self
            .endpoint()
            .unwrap_or_else(|| format!("https://kinesis.{region}.amazonaws.com"));
        let endpoint: Uri = text.trim().parse().map_err(|_| {
            ConfigError::setting("kinesis.endpoint", format!("{text:?} is not a URL"))
        })?;
        if !matches!(endpoint.scheme_str(), Some("http") | Some("https"))
            || endpoint.host().is_none()
        {
            return Err(ConfigError::setting(
                "kinesis.endpoint",
                format!("{text:?} must be an http:// or https:// URL with a host"),
            ));
        }
        let batch_records = match self.batch_records() {
            n @ 1..=500 => n,
            _ => {
                return Err(ConfigError::setting(
                    "kinesis.batch_records",
                    "must be from 1 to 500 (PutRecords' limit)",
                ))
            }
        };
        let positive = |name: &str, text: String| -> Result<Duration, ConfigError> {
            let d = duration(name, &text)?;
            if d.is_zero() {
                return Err(ConfigError::setting(name, "must be more than 0"));
            }
            Ok(d)
        };
        let backoff = positive("kinesis.backoff", self.backoff())?;
        let max_backoff = positive("kinesis.max_backoff", self.max_backoff())?;
        if max_backoff < backoff {
            return Err(ConfigError::setting(
                "kinesis.max_backoff",
                "must be at least kinesis.backoff",
            ));
        }
        let transition_ms = self.transition_ms();
        if transition_ms < 0 {
            return Err(ConfigError::setting(
                "kinesis.transition_ms",
                "must be 0 or more",
            ));
        }
        Ok(KinesisConfig {
            endpoint,
            region,
            batch_records,
            timeout: positive("kinesis.timeout", self.timeout())?,
            backoff,
            max_backoff,
            poll_interval: positive("kinesis.poll_interval", self.poll_interval())?,
            transition_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn defaults_name_the_regional_endpoint() {
        let c = RawKinesis::defaults().validate("eu-west-1").unwrap();
        assert_eq!(
            c.endpoint.to_string(),
            "https://kinesis.eu-west-1.amazonaws.com/"
        );
        assert_eq!(c.batch_records, 500);
    }

    #[test]
    fn bad_settings_are_named() {
        let mut raw = RawKinesis::defaults();
        raw.endpoint = Some("ftp://x".into());
        let e = raw.validate("us-east-1").unwrap_err().to_string();
        assert!(e.contains("kinesis.endpoint"), "{e}");
        let mut raw = RawKinesis::defaults();
        raw.batch_records = Some(501);
        let e = raw.validate("us-east-1").unwrap_err().to_string();
        assert!(e.contains("kinesis.batch_records"), "{e}");
    }
}
