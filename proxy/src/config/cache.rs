//! `[cache]`: the DAX-style cache's TTLs, byte budget, consistency mode and stream
//! following, and `serve_stale_on_error` (beyond DAX). Owns the defaults of [`CacheConfig`] and [`FollowConfig`].

use std::time::Duration;

use crate::cache::{CacheConfig, Consistency};

use super::error::ConfigError;
use super::section::{duration, section};

/// The default cache budget: 256 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

section! {
    /// `[cache]` as written in the file, the environment or flags.
    pub struct RawCache { section: "cache", env_prefix: "CACHE_" }
    {
        /// The cache in front of the upstream. Flag `--no-cache` turns it off.
        enabled: bool = true, env "CACHE";
        /// How long a cached item lives (0: no time expiry).
        item_ttl: String = "5m".into();
        /// How long a cached Query or Scan page lives (0: query caching off).
        query_ttl: String = "5m".into();
        /// How long "no such item" is cached (default: item_ttl; may only shorten it;
        /// 0: off).
        negative_ttl: String;
        /// One byte budget for items and pages together.
        max_bytes: u64 = DEFAULT_CACHE_BYTES;
        /// `coherent` or `dax`.
        consistency: String = "coherent".into();
        /// Follow the upstream's DynamoDB Streams and invalidate by their records.
        follow_streams: bool = false;
        /// How often the streams are polled.
        follow_interval: String = "1s".into();
        /// Answer GetItem from an expired (still held) item when the upstream fails
        /// (beyond DAX; off by default).
        serve_stale_on_error: bool = false;
        /// How long past item_ttl an item is held for that.
        stale_for: String = "1h".into();
    }
}

/// `[cache] follow_streams` and `follow_interval`.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// Poll a remote upstream's streams and invalidate the keys of their records.
    pub enabled: bool,
    /// How often the streams are polled.
    pub interval: Duration,
}

impl RawCache {
    /// Checks the section.
    pub fn validate(&self) -> Result<(CacheConfig, FollowConfig), ConfigError> {
        let item_ttl = duration("cache.item_ttl", &self.item_ttl())?;
        let query_ttl = duration("cache.query_ttl", &self.query_ttl())?;
        let negative_ttl = match self.negative_ttl() {
            None => Some(item_ttl),
            Some(text) => {
                let d = duration("cache.negative_ttl", &text)?;
                if d.is_zero() {
                    None
                } else if item_ttl.is_zero() {
                    Some(d)
                } else {
                    Some(d.min(item_ttl))
                }
            }
        };
        let consistency = match self.consistency().as_str() {
            "coherent" => Consistency::Coherent,
            "dax" => Consistency::Dax,
            other => {
                return Err(ConfigError::setting(
                    "cache.consistency",
                    format!("{other:?} must be \"coherent\" or \"dax\""),
                ))
            }
        };
        let max_bytes = self.max_bytes();
        if max_bytes == 0 {
            return Err(ConfigError::setting(
                "cache.max_bytes",
                "must be at least 1 (use --no-cache to turn the cache off)",
            ));
        }
        let cache = CacheConfig {
            enabled: self.enabled(),
            item_ttl,
            query_ttl,
            negative_ttl,
            max_bytes,
            consistency,
            stale_for: match self.serve_stale_on_error() {
                false => None,
                true => Some(duration("cache.stale_for", &self.stale_for())?),
            },
        };
        let follow = FollowConfig {
            enabled: self.follow_streams(),
            interval: duration("cache.follow_interval", &self.follow_interval())?,
        };
        if follow.interval.is_zero() {
            return Err(ConfigError::setting(
                "cache.follow_interval",
                "must be more than 0",
            ));
        }
        Ok((cache, follow))
    }

    /// The validated defaults. They are valid (`built_in_defaults_validate` checks it);
    /// were they not, the cache would be off rather than the program stopped.
    fn validated_defaults() -> (CacheConfig, FollowConfig) {
        RawCache::defaults().validate().unwrap_or((
            CacheConfig {
                enabled: false,
                item_ttl: Duration::ZERO,
                query_ttl: Duration::ZERO,
                negative_ttl: None,
                max_bytes: 1,
                consistency: Consistency::Coherent,
                stale_for: None,
            },
            FollowConfig {
                enabled: false,
                interval: Duration::from_secs(1),
            },
        ))
    }
}

impl Default for CacheConfig {
    /// The documented defaults of `[cache]`.
    fn default() -> Self {
        RawCache::validated_defaults().0
    }
}

impl Default for FollowConfig {
    /// The documented defaults of `follow_streams` and `follow_interval`.
    fn default() -> Self {
        RawCache::validated_defaults().1
    }
}
