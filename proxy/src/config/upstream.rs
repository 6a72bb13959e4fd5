//! `[upstream]`: what answers behind the cache — the embedded engine or a remote
//! DynamoDB-compatible endpoint, with its signing region, timeout and retries, the
//! endpoint of its DynamoDB Streams API (`streams_url`) and its load-shedding bound.

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
        /// Where DynamoDB Streams calls go (default: `streams.dynamodb.REGION.amazonaws.com`
        /// for an AWS endpoint, else `url`).
        streams_url: String;
        /// Calls in flight to a remote upstream at most (0: no bound).
        max_in_flight: u32 = 0;
        /// Calls waiting for one of those beyond it; more are shed with ThrottlingException.
        max_queued: u32 = 0;
    }
}

/// What answers behind the cache.
#[derive(Debug, Clone)]
// Built once at start and moved, never copied per request: the size does not matter.
#[allow(clippy::large_enum_variant)]
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

/// AWS's DynamoDB Streams endpoint for an AWS DynamoDB endpoint host
/// (`dynamodb.eu-west-1.amazonaws.com` → `https://streams.dynamodb.eu-west-1.amazonaws.com`);
/// None for any other host, whose Streams API is served at the same URL.
fn streams_endpoint(host: &str) -> Option<http::Uri> {
    let region = region_of_host(host)?;
    let tail = host
        .strip_prefix("dynamodb.")?
        .strip_prefix(region.as_str())?;
    format!("https://streams.dynamodb.{region}{tail}")
        .parse()
        .ok()
}

/// An http:// or https:// URL with a host, or an error naming `setting`.
fn http_url(setting: &str, url: &str) -> Result<http::Uri, ConfigError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| ConfigError::setting(setting, format!("{url:?} is not a URL")))?;
    if !matches!(uri.scheme_str(), Some("http") | Some("https")) || uri.host().is_none() {
        return Err(ConfigError::setting(
            setting,
            format!("{url:?} must be an http:// or https:// URL with a host"),
        ));
    }
    Ok(uri)
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
            .map(str::to_string)
            .ok_or_else(|| ConfigError::setting("upstream.url", format!("{url:?} has no host")))?;
        let region = self
            .region()
            .or_else(|| region_of_host(&host))
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
        remote.streams_url = match self.streams_url() {
            Some(text) => Some(http_url("upstream.streams_url", text.trim())?),
            None => streams_endpoint(&host),
        };
        remote.shed = (self.max_in_flight() > 0)
            .then(|| (self.max_in_flight() as usize, self.max_queued() as usize));
        Ok(UpstreamConfig::Remote(remote))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(raw: RawUpstream) -> Option<crate::upstream::RemoteConfig> {
        match raw.validate("us-east-1") {
            Ok(UpstreamConfig::Remote(r)) => Some(r),
            _ => None,
        }
    }

    #[test]
    fn the_streams_endpoint_is_derived_for_aws_and_is_the_url_elsewhere() {
        let aws = remote(RawUpstream {
            url: Some("https://dynamodb.eu-west-1.amazonaws.com".into()),
            ..RawUpstream::default()
        });
        assert_eq!(
            aws.and_then(|r| r.streams_url).map(|u| u.to_string()),
            Some("https://streams.dynamodb.eu-west-1.amazonaws.com/".into())
        );
        let china = remote(RawUpstream {
            url: Some("https://dynamodb.cn-north-1.amazonaws.com.cn".into()),
            ..RawUpstream::default()
        });
        assert_eq!(
            china.and_then(|r| r.streams_url).map(|u| u.to_string()),
            Some("https://streams.dynamodb.cn-north-1.amazonaws.com.cn/".into())
        );
        let local = remote(RawUpstream {
            url: Some("http://127.0.0.1:8001".into()),
            ..RawUpstream::default()
        });
        assert!(local.is_some_and(|r| r.streams_url.is_none() && r.shed.is_none()));
        let set = remote(RawUpstream {
            url: Some("https://dynamodb.eu-west-1.amazonaws.com".into()),
            streams_url: Some("http://127.0.0.1:9000".into()),
            max_in_flight: Some(8),
            max_queued: Some(16),
            ..RawUpstream::default()
        });
        assert!(set.is_some_and(
            |r| r.streams_url.is_some_and(|u| u.port_u16() == Some(9000))
                && r.shed == Some((8, 16))
        ));
        let bad = RawUpstream {
            url: Some("http://127.0.0.1:8001".into()),
            streams_url: Some("ftp://x".into()),
            ..RawUpstream::default()
        };
        assert!(bad.validate("us-east-1").is_err());
    }
}
