//! `[upstream]`: what answers behind the cache — the embedded engine or a remote
//! DynamoDB-compatible endpoint, with its signing region, timeout and retries.

use crate::upstream::RemoteConfig;

use super::engine::is_region_name;
use super::error::ConfigError;
use super::section::{duration, section};

section! {
    /// `[upstream]` as written in the file, the environment or flags.
    pub struct RawUpstream { section: "upstream", env_prefix: "UPSTREAM_" }
    {
        /// `embedded` or an endpoint URL. Flag `--upstream`.
        url: String = "embedded".into(), env "UPSTREAM";
        /// The region remote requests are signed for (default: the region in an AWS
        /// endpoint's host name, else `[engine] region`).
        region: String;
        /// How long one attempt may take.
        timeout: String = "10s".into();
        /// Retries after the first attempt.
        max_retries: u32 = 3;
    }
}

/// What answers behind the cache.
#[derive(Debug, Clone)]
pub enum UpstreamConfig {
    /// The engine in this process.
    Embedded,
    /// A DynamoDB-compatible endpoint.
    Remote(RemoteConfig),
}

/// The region of an AWS DynamoDB endpoint host (`dynamodb.eu-west-1.amazonaws.com`).
fn region_of_host(host: &str) -> Option<String> {
    let rest = host.strip_prefix("dynamodb.")?;
    let (region, tail) = rest.split_once('.')?;
    tail.starts_with("amazonaws.com")
        .then(|| region.to_string())
}

impl RawUpstream {
    /// Checks the section; `engine_region` is the last fallback for the signing region.
    pub fn validate(&self, engine_region: &str) -> Result<UpstreamConfig, ConfigError> {
        let url = self.url();
        let url = url.trim();
        if url.is_empty() || url == "embedded" {
            return Ok(UpstreamConfig::Embedded);
        }
        let uri: http::Uri = url.parse().map_err(|_| {
            ConfigError::setting(
                "upstream.url",
                format!("{url:?} is neither \"embedded\" nor a URL"),
            )
        })?;
        if !matches!(uri.scheme_str(), Some("http") | Some("https")) {
            return Err(ConfigError::setting(
                "upstream.url",
                format!("{url:?} must start with http:// or https://"),
            ));
        }
        let host = uri
            .host()
            .ok_or_else(|| ConfigError::setting("upstream.url", format!("{url:?} has no host")))?;
        let region = self
            .region()
            .or_else(|| region_of_host(host))
            .unwrap_or_else(|| engine_region.to_string());
        if !is_region_name(&region) {
            return Err(ConfigError::setting(
                "upstream.region",
                format!("{region:?} is not a region name"),
            ));
        }
        let mut remote = RemoteConfig::new(uri, region);
        remote.timeout = duration("upstream.timeout", &self.timeout())?;
        if remote.timeout.is_zero() {
            return Err(ConfigError::setting(
                "upstream.timeout",
                "must be more than 0",
            ));
        }
        remote.retry.max_retries = self.max_retries();
        Ok(UpstreamConfig::Remote(remote))
    }
}
