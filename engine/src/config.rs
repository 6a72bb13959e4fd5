//! The engine's settings, already validated by whoever built them (the proxy's config).

use crate::capacity::Throttling;
use crate::storage::Backend;

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub backend: Backend,
    /// redb's page cache for a data file on disk, in bytes (0: a quarter of the
    /// machine's memory, see `storage::page_cache`).
    pub page_cache_bytes: u64,
    /// The region in ARNs (DynamoDB Local's `-sharedDb` behaviour: one namespace for all).
    pub region: String,
    /// The account id in ARNs.
    pub account: String,
    /// How long a new table stays CREATING (DynamoDB takes seconds; tests want control).
    pub create_delay_ms: i64,
    /// How long a deleted table stays DELETING before it is gone.
    pub delete_delay_ms: i64,
    /// How long UpdateTable leaves a table UPDATING.
    pub update_delay_ms: i64,
    /// How long stream records are kept before the background task trims them
    /// (DynamoDB: 24 hours).
    pub stream_retention_ms: i64,
    /// The most bytes of records one stream keeps; past it the oldest are trimmed first
    /// (readers get TrimmedDataAccessException, as after retention). Bounds memory and
    /// disk by a size, not only by time (0: no cap; DynamoDB has none).
    pub stream_max_bytes: u64,
    /// A stream's open shard is closed and a child shard opened once it holds this many
    /// records (0: never by count; DynamoDB rolls shards by time only).
    pub stream_shard_max_records: u64,
    /// ... or once it is this old (DynamoDB: about 4 hours; 0: never by age).
    pub stream_shard_max_age_ms: i64,
    /// How long a shard iterator stays usable (DynamoDB: 15 minutes).
    pub stream_iterator_ttl_ms: i64,
    /// How often the background task runs: TTL sweep, stream rollover and trimming
    /// (DynamoDB deletes expired items within about 48 hours; tests want 1 second).
    pub ttl_sweep_interval_ms: i64,
    /// The most expired items one sweep deletes (the rest wait for the next sweep).
    pub ttl_sweep_batch: usize,
    /// How long TTL stays ENABLING / DISABLING after UpdateTimeToLive (DynamoDB: up to
    /// an hour; expired items are deleted only once ENABLED).
    pub ttl_transition_ms: i64,
    /// After a TTL change, further changes are refused for this long ("Time to live has
    /// been modified multiple times within a fixed interval"; DynamoDB: 1 hour; 0: off).
    pub ttl_change_cooldown_ms: i64,
    /// How long a Kinesis destination stays ENABLING / UPDATING / DISABLING (0: settled
    /// before the next request).
    pub kinesis_transition_ms: i64,
    /// How far LatestRestorableDateTime trails now (DynamoDB: about 5 minutes; 0 lets
    /// tests restore to the moment they just wrote).
    pub pitr_lag_ms: i64,
    /// The folder exports are written to: S3 bucket `B` is its sub-folder `B`, which must
    /// exist (as a bucket must).
    pub export_root: std::path::PathBuf,
    /// `[export] store = "s3"`: buckets are on an S3-compatible endpoint instead of
    /// folders under `export_root` (`buckets`).
    pub export_s3: Option<crate::buckets::S3Settings>,
    /// What is throttled (`capacity::Throttling`; off, as DynamoDB Local). A table's
    /// `daxlite:throttling` tag overrides it.
    pub throttling: Throttling,
    /// The other `[capacity]` settings: series, partition limits, the peak rule.
    pub capacity: crate::capacity::Options,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            backend: Backend::InMemory,
            page_cache_bytes: 0,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            create_delay_ms: 0,
            delete_delay_ms: 0,
            update_delay_ms: 0,
            stream_retention_ms: 24 * 3_600_000,
            stream_max_bytes: 256 << 20,
            stream_shard_max_records: 0,
            stream_shard_max_age_ms: 4 * 3_600_000,
            stream_iterator_ttl_ms: 15 * 60_000,
            ttl_sweep_interval_ms: 1_000,
            ttl_sweep_batch: 1_000,
            ttl_transition_ms: 0,
            ttl_change_cooldown_ms: 0,
            kinesis_transition_ms: 0,
            pitr_lag_ms: 0,
            export_root: std::path::PathBuf::from("./daxlite-exports"),
            export_s3: None,
            throttling: Throttling::Off,
            capacity: Default::default(),
        }
    }
}
