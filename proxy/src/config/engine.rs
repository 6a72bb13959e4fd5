//! `[engine]`: the embedded engine's region, account, table-state delays, streams, Time
//! to Live and point-in-time recovery. The defaults are the engine's own
//! (`EngineConfig::default()`), so each value is written once, in the crate that uses it.

use daxlite_engine::{Backend, EngineConfig};

use super::error::ConfigError;
use super::section::section;

/// The delay DynamoDB Local's `-delayTransientStatuses` stands for.
pub const TRANSIENT_DELAY_MS: i64 = 1_000;

fn d() -> EngineConfig {
    EngineConfig::default()
}

section! {
    /// `[engine]` as written in the file, the environment or flags.
    pub struct RawEngine { section: "engine", env_prefix: "" }
    {
        /// The region in ARNs and the health answer. Flag `--region`.
        region: String = d().region;
        /// The account id in ARNs (12 digits).
        account: String = d().account;
        /// How long a new table stays CREATING (ms). `--delay-transient-statuses` sets
        /// the three delays to [`TRANSIENT_DELAY_MS`].
        create_table_delay_ms: i64 = d().create_delay_ms;
        /// How long a deleted table stays DELETING (ms).
        delete_table_delay_ms: i64 = d().delete_delay_ms;
        /// How long UpdateTable leaves a table UPDATING (ms).
        update_table_delay_ms: i64 = d().update_delay_ms;
        /// How long stream records are kept (ms).
        stream_retention_ms: i64 = d().stream_retention_ms;
        /// The most bytes of records one stream keeps; the oldest are trimmed first
        /// (0: no cap).
        stream_max_bytes: u64 = d().stream_max_bytes;
        /// Records after which a stream's open shard rolls over (0: never by count).
        stream_shard_max_records: u64 = d().stream_shard_max_records;
        /// Age after which a stream's open shard rolls over (ms; 0: never by age).
        stream_shard_max_age_ms: i64 = d().stream_shard_max_age_ms;
        /// How long a shard iterator stays usable (ms).
        stream_iterator_ttl_ms: i64 = d().stream_iterator_ttl_ms;
        /// How often the background task runs (ms).
        ttl_sweep_interval_ms: i64 = d().ttl_sweep_interval_ms;
        /// The most expired items one sweep deletes.
        ttl_sweep_batch: usize = d().ttl_sweep_batch;
        /// How long TTL stays ENABLING / DISABLING (ms).
        ttl_transition_ms: i64 = d().ttl_transition_ms;
        /// How long further TTL changes are refused after one (ms; 0: off).
        ttl_change_cooldown_ms: i64 = d().ttl_change_cooldown_ms;
        /// How far LatestRestorableDateTime trails now (ms; DynamoDB: about 5 minutes).
        pitr_lag_ms: i64 = d().pitr_lag_ms;
    }
}

/// `engine.NAME` must be 0 or more.
fn non_negative(name: &str, n: i64) -> Result<i64, ConfigError> {
    match n {
        n if n >= 0 => Ok(n),
        n => Err(ConfigError::setting(
            format!("engine.{name}"),
            format!("{n} must not be negative"),
        )),
    }
}

/// `engine.NAME` must be 1 or more.
fn positive(name: &str, n: i64) -> Result<i64, ConfigError> {
    match n {
        n if n > 0 => Ok(n),
        n => Err(ConfigError::setting(
            format!("engine.{name}"),
            format!("{n} must be at least 1"),
        )),
    }
}

/// Whether `region` looks like a region name (letters, digits and dashes).
pub fn is_region_name(region: &str) -> bool {
    !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl RawEngine {
    /// Checks the section and builds the engine's settings on `backend`.
    pub fn validate(&self, backend: Backend) -> Result<EngineConfig, ConfigError> {
        let region = self.region();
        if !is_region_name(&region) {
            return Err(ConfigError::setting(
                "engine.region",
                format!("{region:?} is not a region name"),
            ));
        }
        let account = self.account();
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::setting(
                "engine.account",
                format!("{account:?} must be 12 digits"),
            ));
        }
        Ok(EngineConfig {
            backend,
            region,
            account,
            create_delay_ms: non_negative("create_table_delay_ms", self.create_table_delay_ms())?,
            delete_delay_ms: non_negative("delete_table_delay_ms", self.delete_table_delay_ms())?,
            update_delay_ms: non_negative("update_table_delay_ms", self.update_table_delay_ms())?,
            stream_retention_ms: positive("stream_retention_ms", self.stream_retention_ms())?,
            stream_max_bytes: self.stream_max_bytes(),
            stream_shard_max_records: self.stream_shard_max_records(),
            stream_shard_max_age_ms: non_negative(
                "stream_shard_max_age_ms",
                self.stream_shard_max_age_ms(),
            )?,
            stream_iterator_ttl_ms: positive(
                "stream_iterator_ttl_ms",
                self.stream_iterator_ttl_ms(),
            )?,
            ttl_sweep_interval_ms: positive("ttl_sweep_interval_ms", self.ttl_sweep_interval_ms())?,
            ttl_sweep_batch: match self.ttl_sweep_batch() {
                0 => {
                    return Err(ConfigError::setting(
                        "engine.ttl_sweep_batch",
                        "must be at least 1",
                    ))
                }
                n => n,
            },
            ttl_transition_ms: non_negative("ttl_transition_ms", self.ttl_transition_ms())?,
            ttl_change_cooldown_ms: non_negative(
                "ttl_change_cooldown_ms",
                self.ttl_change_cooldown_ms(),
            )?,
            pitr_lag_ms: non_negative("pitr_lag_ms", self.pitr_lag_ms())?,
            // Set from `[storage]` by the composer.
            page_cache_bytes: d().page_cache_bytes,
            // Set from `[kinesis]` by the composer.
            kinesis_transition_ms: d().kinesis_transition_ms,
            // Set from `[export]` by the composer.
            export_root: d().export_root,
            export_s3: d().export_s3,
            // Set by `[capacity]` (`config::capacity`).
            throttling: d().throttling,
            capacity: d().capacity,
        })
    }
}
