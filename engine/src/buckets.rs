//! Where the "S3 buckets" of export and import live, behind one `object_store`
//! [`ObjectStore`]: a local folder by default (bucket `B` is the sub-folder `<root>/B`,
//! which must exist, as a bucket must), or any S3-compatible endpoint (AWS S3, MinIO,
//! moto's server) through `object_store`'s `AmazonS3`. Export and import only ever see
//! the trait object, so they read and write both the same way.
//!
//! Credentials for S3 come from the environment and the default AWS chain as
//! `AmazonS3Builder::from_env` reads it (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`, web identity, container and instance credentials). For an
//! endpoint on this machine (MinIO, moto) with no keys in the environment, placeholder
//! keys are used instead — the cloud metadata services are never asked, as for a
//! loopback upstream.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::{ObjectStore, RetryConfig};

use crate::config::EngineConfig;

/// `[export] s3_*`: an S3-compatible endpoint for exports and imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The endpoint URL (None: AWS S3 in `region`).
    pub endpoint: Option<String>,
    /// The region requests are signed for.
    pub region: String,
    /// Path-style URLs (`<endpoint>/<bucket>/<key>`) rather than virtual-hosted ones
    /// (`<bucket>.<endpoint host>/<key>`).
    pub path_style: bool,
}

/// One bucket, local folder or S3.
pub type Bucket = Arc<dyn ObjectStore>;

/// Why a bucket cannot be used, as an export's or import's FailureCode sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketError {
    /// The bucket does not exist (FailureCode `S3NoSuchBucket`).
    NoSuchBucket,
    /// Any other failure of the object store (FailureCode `UNKNOWN`).
    Other(String),
}

impl BucketError {
    /// The FailureCode DynamoDB reports for it.
    pub fn code(&self) -> &'static str {
        match self {
            BucketError::NoSuchBucket => "S3NoSuchBucket",
            BucketError::Other(_) => "UNKNOWN",
        }
    }

    /// The FailureMessage: S3's own words for a missing bucket.
    pub fn message(&self, bucket: &str) -> String {
        match self {
            BucketError::NoSuchBucket => format!(
                "The specified bucket does not exist (Service: Amazon S3; Status Code: 404; Error Code: NoSuchBucket; Bucket: {bucket})"
            ),
            BucketError::Other(m) => m.clone(),
        }
    }
}

impl From<object_store::Error> for BucketError {
    /// A missing bucket is told apart by S3's error code in the reply (a 404 from a PUT
    /// or a list names `NoSuchBucket`); anything else is reported as it came.
    fn from(e: object_store::Error) -> Self {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        if text.contains("NoSuchBucket") {
            BucketError::NoSuchBucket
        } else {
            tracing::warn!(error = %text, "object store failure");
            BucketError::Other(e.to_string())
        }
    }
}

/// A name a bucket can have in either store: no path separators, no `.`/`..`.
fn valid_name(bucket: &str) -> bool {
    !bucket.is_empty()
        && !matches!(bucket, "." | "..")
        && !bucket.contains(['/', '\\', '\0'])
        && !bucket.chars().any(char::is_control)
}

/// Opens bucket `bucket` where the config says buckets live. A local bucket that does
/// not exist fails here; an S3 one fails on its first request.
pub fn open(config: &EngineConfig, bucket: &str) -> Result<Bucket, BucketError> {
    if !valid_name(bucket) {
        return Err(BucketError::NoSuchBucket);
    }
    match &config.export_s3 {
        None => {
            let dir = config.export_root.join(bucket);
            if !dir.is_dir() {
                return Err(BucketError::NoSuchBucket);
            }
            let store = LocalFileSystem::new_with_prefix(&dir)?;
            Ok(Arc::new(store))
        }
        Some(s3) => Ok(Arc::new(s3_builder(s3, bucket).build()?)),
    }
}

/// Whether an endpoint URL names this machine.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `<scheme>://<bucket>.<host>[:port]` for a virtual-hosted custom endpoint.
fn virtual_hosted(endpoint: &str, bucket: &str) -> String {
    match endpoint.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{bucket}.{rest}"),
        None => format!("https://{bucket}.{endpoint}"),
    }
}

fn s3_builder(s3: &S3Settings, bucket: &str) -> AmazonS3Builder {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut b = AmazonS3Builder::from_env()
        .with_bucket_name(bucket)
        .with_region(&s3.region)
        .with_virtual_hosted_style_request(!s3.path_style)
        .with_retry(RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(30),
            ..RetryConfig::default()
        });
    if let Some(endpoint) = &s3.endpoint {
        let endpoint = endpoint.trim_end_matches('/');
        let url = match s3.path_style {
            true => endpoint.to_string(),
            false => virtual_hosted(endpoint, bucket),
        };
        b = b
            .with_endpoint(url)
            .with_allow_http(endpoint.starts_with("http://"));
        let keys = env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some();
        if is_loopback(endpoint) && !keys {
            b = b
                .with_access_key_id("daxlite")
                .with_secret_access_key("daxlite");
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:9000"));
        assert!(is_loopback("http://localhost:9000/"));
        assert!(is_loopback("http://[::1]:9000"));
        assert!(!is_loopback("https://s3.eu-west-1.amazonaws.com"));
        assert!(!is_loopback("http://10.0.0.1:9000"));
    }

    #[test]
    fn virtual_hosted_endpoints_carry_the_bucket() {
        assert_eq!(
            virtual_hosted("http://localhost:9000", "b"),
            "http://b.localhost:9000"
        );
    }

    #[test]
    fn bad_bucket_names_are_missing_buckets() {
        let config = EngineConfig::default();
        for name in ["", ".", "..", "a/b", "a\\b", "a\nb"] {
            assert_eq!(
                open(&config, name).err(),
                Some(BucketError::NoSuchBucket),
                "{name:?}"
            );
        }
    }
}
