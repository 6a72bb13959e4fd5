//! Configuration in two phases: `RawConfig` layers (built-in defaults < the config file
//! < `DAXLITE_*` environment < command-line flags), then one validated [`Config`] that
//! builds the engine, the upstream and the server. Nothing reads unvalidated settings.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::time::Duration;

use daxlite_engine::{Backend, EngineConfig};
use serde::Deserialize;

pub mod duration;

pub use duration::parse_duration;

use crate::auth::sigv4::Keys;
use crate::cache::{CacheConfig, Consistency};
use crate::service::ServiceConfig;
use crate::triggers::{RawTrigger, TriggerConfig};
use crate::upstream::RemoteConfig;

/// DynamoDB's request size limit.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The delay DynamoDB Local's `-delayTransientStatuses` stands for.
pub const TRANSIENT_DELAY_MS: i64 = 1_000;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub engine: RawEngine,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub upstream: RawUpstream,
    #[serde(default)]
    pub cache: RawCache,
    /// `[[trigger]]` tables (file only; a layer that has any replaces the others').
    #[serde(default)]
    pub trigger: Vec<RawTrigger>,
    #[serde(default)]
    pub admin: RawAdmin,
    #[serde(default)]
    pub auth: RawAuth,
}

/// `[auth]`: opt-in SigV4 verification of incoming requests.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub verify: Option<bool>,
    /// The accepted keys (a layer that has any replaces the others').
    pub credentials: Option<Vec<RawCredential>>,
}

/// One accepted access key. `Debug` never shows the secret.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for RawCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawCredential")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    /// `host:port` of the admin listener; empty or absent: off.
    pub listen: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    /// `embedded` or an endpoint URL.
    pub url: Option<String>,
    pub region: Option<String>,
    pub timeout: Option<String>,
    pub max_retries: Option<u32>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCache {
    pub enabled: Option<bool>,
    pub item_ttl: Option<String>,
    pub query_ttl: Option<String>,
    pub negative_ttl: Option<String>,
    pub max_bytes: Option<u64>,
    pub consistency: Option<String>,
    pub follow_streams: Option<bool>,
    pub follow_interval: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub max_body_bytes: Option<usize>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStorage {
    pub in_memory: Option<bool>,
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEngine {
    pub region: Option<String>,
    pub account: Option<String>,
    pub create_table_delay_ms: Option<i64>,
    pub delete_table_delay_ms: Option<i64>,
    pub update_table_delay_ms: Option<i64>,
    pub stream_retention_ms: Option<i64>,
    pub stream_shard_max_records: Option<u64>,
    pub stream_shard_max_age_ms: Option<i64>,
    pub stream_iterator_ttl_ms: Option<i64>,
    pub ttl_sweep_interval_ms: Option<i64>,
    pub ttl_sweep_batch: Option<usize>,
    pub ttl_transition_ms: Option<i64>,
    pub ttl_change_cooldown_ms: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub level: Option<String>,
}

macro_rules! overlay {
    ($dst:expr, $src:expr, $($field:ident).+) => {
        if $src.$($field).+.is_some() { $dst.$($field).+ = $src.$($field).+.clone(); }
    };
}

impl RawConfig {
    /// Every setting at its documented default.
    pub fn defaults() -> RawConfig {
        RawConfig {
            server: RawServer {
                host: Some("127.0.0.1".into()),
                port: Some(8000),
                max_body_bytes: Some(DEFAULT_MAX_BODY_BYTES),
            },
            storage: RawStorage {
                in_memory: Some(false),
                data_dir: Some(PathBuf::from("./daxlite-data")),
            },
            engine: RawEngine {
                region: Some("us-east-1".into()),
                account: Some("000000000000".into()),
                create_table_delay_ms: Some(0),
                delete_table_delay_ms: Some(0),
                update_table_delay_ms: Some(0),
                stream_retention_ms: Some(24 * 3_600_000),
                stream_shard_max_records: Some(0),
                stream_shard_max_age_ms: Some(4 * 3_600_000),
                stream_iterator_ttl_ms: Some(15 * 60_000),
                ttl_sweep_interval_ms: Some(1_000),
                ttl_sweep_batch: Some(1_000),
                ttl_transition_ms: Some(0),
                ttl_change_cooldown_ms: Some(0),
            },
            log: RawLog {
                level: Some("info".into()),
            },
            upstream: RawUpstream {
                url: Some("embedded".into()),
                region: None,
                timeout: Some("10s".into()),
                max_retries: Some(3),
            },
            cache: RawCache {
                enabled: Some(true),
                item_ttl: Some("5m".into()),
                query_ttl: Some("5m".into()),
                negative_ttl: None,
                max_bytes: Some(DEFAULT_CACHE_BYTES),
                consistency: Some("coherent".into()),
                follow_streams: Some(false),
                follow_interval: Some("1s".into()),
            },
            trigger: Vec::new(),
            admin: RawAdmin { listen: None },
            auth: RawAuth {
                verify: Some(false),
                credentials: None,
            },
        }
    }

    /// Reads a TOML config file; unknown settings are errors that name the setting.
    pub fn from_file(path: &Path) -> Result<RawConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("invalid config {}: {e}", path.display()))
    }

    /// Reads the `DAXLITE_*` environment variables.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<RawConfig, String> {
        fn parse<T: std::str::FromStr>(name: &str, v: Option<String>) -> Result<Option<T>, String> {
            v.map(|s| {
                s.trim()
                    .parse::<T>()
                    .map_err(|_| format!("invalid value {s:?} for {name}"))
            })
            .transpose()
        }
        Ok(RawConfig {
            server: RawServer {
                host: get("DAXLITE_HOST"),
                port: parse("DAXLITE_PORT", get("DAXLITE_PORT"))?,
                max_body_bytes: parse("DAXLITE_MAX_BODY_BYTES", get("DAXLITE_MAX_BODY_BYTES"))?,
            },
            storage: RawStorage {
                in_memory: parse("DAXLITE_IN_MEMORY", get("DAXLITE_IN_MEMORY"))?,
                data_dir: get("DAXLITE_DATA_DIR").map(PathBuf::from),
            },
            engine: RawEngine {
                region: get("DAXLITE_REGION"),
                account: get("DAXLITE_ACCOUNT"),
                create_table_delay_ms: parse(
                    "DAXLITE_CREATE_TABLE_DELAY_MS",
                    get("DAXLITE_CREATE_TABLE_DELAY_MS"),
                )?,
                delete_table_delay_ms: parse(
                    "DAXLITE_DELETE_TABLE_DELAY_MS",
                    get("DAXLITE_DELETE_TABLE_DELAY_MS"),
                )?,
                update_table_delay_ms: parse(
                    "DAXLITE_UPDATE_TABLE_DELAY_MS",
                    get("DAXLITE_UPDATE_TABLE_DELAY_MS"),
                )?,
                stream_retention_ms: parse(
                    "DAXLITE_STREAM_RETENTION_MS",
                    get("DAXLITE_STREAM_RETENTION_MS"),
                )?,
                stream_shard_max_records: parse(
                    "DAXLITE_STREAM_SHARD_MAX_RECORDS",
                    get("DAXLITE_STREAM_SHARD_MAX_RECORDS"),
                )?,
                stream_shard_max_age_ms: parse(
                    "DAXLITE_STREAM_SHARD_MAX_AGE_MS",
                    get("DAXLITE_STREAM_SHARD_MAX_AGE_MS"),
                )?,
                stream_iterator_ttl_ms: parse(
                    "DAXLITE_STREAM_ITERATOR_TTL_MS",
                    get("DAXLITE_STREAM_ITERATOR_TTL_MS"),
                )?,
                ttl_sweep_interval_ms: parse(
                    "DAXLITE_TTL_SWEEP_INTERVAL_MS",
                    get("DAXLITE_TTL_SWEEP_INTERVAL_MS"),
                )?,
                ttl_sweep_batch: parse("DAXLITE_TTL_SWEEP_BATCH", get("DAXLITE_TTL_SWEEP_BATCH"))?,
                ttl_transition_ms: parse(
                    "DAXLITE_TTL_TRANSITION_MS",
                    get("DAXLITE_TTL_TRANSITION_MS"),
                )?,
                ttl_change_cooldown_ms: parse(
                    "DAXLITE_TTL_CHANGE_COOLDOWN_MS",
                    get("DAXLITE_TTL_CHANGE_COOLDOWN_MS"),
                )?,
            },
            log: RawLog {
                level: get("DAXLITE_LOG"),
            },
            upstream: RawUpstream {
                url: get("DAXLITE_UPSTREAM"),
                region: get("DAXLITE_UPSTREAM_REGION"),
                timeout: get("DAXLITE_UPSTREAM_TIMEOUT"),
                max_retries: parse(
                    "DAXLITE_UPSTREAM_MAX_RETRIES",
                    get("DAXLITE_UPSTREAM_MAX_RETRIES"),
                )?,
            },
            cache: RawCache {
                enabled: parse("DAXLITE_CACHE", get("DAXLITE_CACHE"))?,
                item_ttl: get("DAXLITE_CACHE_ITEM_TTL"),
                query_ttl: get("DAXLITE_CACHE_QUERY_TTL"),
                negative_ttl: get("DAXLITE_CACHE_NEGATIVE_TTL"),
                max_bytes: parse("DAXLITE_CACHE_MAX_BYTES", get("DAXLITE_CACHE_MAX_BYTES"))?,
                consistency: get("DAXLITE_CACHE_CONSISTENCY"),
                follow_streams: parse(
                    "DAXLITE_CACHE_FOLLOW_STREAMS",
                    get("DAXLITE_CACHE_FOLLOW_STREAMS"),
                )?,
                follow_interval: get("DAXLITE_CACHE_FOLLOW_INTERVAL"),
            },
            trigger: Vec::new(),
            admin: RawAdmin {
                listen: get("DAXLITE_ADMIN_LISTEN"),
            },
            auth: RawAuth {
                verify: parse("DAXLITE_AUTH_VERIFY", get("DAXLITE_AUTH_VERIFY"))?,
                credentials: match (
                    get("DAXLITE_AUTH_ACCESS_KEY"),
                    get("DAXLITE_AUTH_SECRET_KEY"),
                ) {
                    (None, None) => None,
                    (Some(access_key), Some(secret_key)) => Some(vec![RawCredential {
                        access_key,
                        secret_key,
                    }]),
                    _ => {
                        return Err(
                            "DAXLITE_AUTH_ACCESS_KEY and DAXLITE_AUTH_SECRET_KEY go together"
                                .into(),
                        )
                    }
                },
            },
        })
    }

    /// Settings in `over` replace those here.
    pub fn merge(mut self, over: &RawConfig) -> RawConfig {
        overlay!(self, over, server.host);
        overlay!(self, over, server.port);
        overlay!(self, over, server.max_body_bytes);
        overlay!(self, over, storage.in_memory);
        overlay!(self, over, storage.data_dir);
        overlay!(self, over, engine.region);
        overlay!(self, over, engine.account);
        overlay!(self, over, engine.create_table_delay_ms);
        overlay!(self, over, engine.delete_table_delay_ms);
        overlay!(self, over, engine.update_table_delay_ms);
        overlay!(self, over, engine.stream_retention_ms);
        overlay!(self, over, engine.stream_shard_max_records);
        overlay!(self, over, engine.stream_shard_max_age_ms);
        overlay!(self, over, engine.stream_iterator_ttl_ms);
        overlay!(self, over, engine.ttl_sweep_interval_ms);
        overlay!(self, over, engine.ttl_sweep_batch);
        overlay!(self, over, engine.ttl_transition_ms);
        overlay!(self, over, engine.ttl_change_cooldown_ms);
        overlay!(self, over, log.level);
        overlay!(self, over, upstream.url);
        overlay!(self, over, upstream.region);
        overlay!(self, over, upstream.timeout);
        overlay!(self, over, upstream.max_retries);
        overlay!(self, over, cache.enabled);
        overlay!(self, over, cache.item_ttl);
        overlay!(self, over, cache.query_ttl);
        overlay!(self, over, cache.negative_ttl);
        overlay!(self, over, cache.max_bytes);
        overlay!(self, over, cache.consistency);
        overlay!(self, over, cache.follow_streams);
        overlay!(self, over, cache.follow_interval);
        if !over.trigger.is_empty() {
            self.trigger = over.trigger.clone();
        }
        overlay!(self, over, admin.listen);
        overlay!(self, over, auth.verify);
        overlay!(self, over, auth.credentials);
        self
    }

    /// Checks every setting and builds the validated config.
    pub fn validate(self) -> Result<Config, String> {
        let d = RawConfig::defaults();
        let r = d.merge(&self);
        let host = r.server.host.unwrap_or_default();
        let ip: IpAddr = host
            .parse()
            .or_else(|_| {
                if host == "localhost" {
                    Ok("127.0.0.1".parse())
                } else {
                    Err(())
                }
                .and_then(|r| r.map_err(|_| ()))
            })
            .map_err(|_| format!("server.host: {host:?} is not an IP address"))?;
        let port = r.server.port.unwrap_or(8000);
        let max_body_bytes = r.server.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 {
            return Err("server.max_body_bytes: must be at least 1".into());
        }
        let backend = if r.storage.in_memory.unwrap_or(false) {
            Backend::InMemory
        } else {
            let dir = r
                .storage
                .data_dir
                .unwrap_or_else(|| PathBuf::from("./daxlite-data"));
            if dir.as_os_str().is_empty() {
                return Err("storage.data_dir: must not be empty".into());
            }
            Backend::Dir(dir)
        };
        let region = r.engine.region.unwrap_or_default();
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!("engine.region: {region:?} is not a region name"));
        }
        let account = r.engine.account.unwrap_or_default();
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("engine.account: {account:?} must be 12 digits"));
        }
        let delay = |name: &str, v: Option<i64>| -> Result<i64, String> {
            match v.unwrap_or(0) {
                n if n >= 0 => Ok(n),
                n => Err(format!("engine.{name}: {n} must not be negative")),
            }
        };
        let positive = |name: &str, v: Option<i64>| -> Result<i64, String> {
            match v.unwrap_or(0) {
                n if n > 0 => Ok(n),
                n => Err(format!("engine.{name}: {n} must be at least 1")),
            }
        };
        let engine = EngineConfig {
            backend,
            region: region.clone(),
            account,
            create_delay_ms: delay("create_table_delay_ms", r.engine.create_table_delay_ms)?,
            delete_delay_ms: delay("delete_table_delay_ms", r.engine.delete_table_delay_ms)?,
            update_delay_ms: delay("update_table_delay_ms", r.engine.update_table_delay_ms)?,
            stream_retention_ms: positive("stream_retention_ms", r.engine.stream_retention_ms)?,
            stream_shard_max_records: r.engine.stream_shard_max_records.unwrap_or(0),
            stream_shard_max_age_ms: delay(
                "stream_shard_max_age_ms",
                r.engine.stream_shard_max_age_ms,
            )?,
            stream_iterator_ttl_ms: positive(
                "stream_iterator_ttl_ms",
                r.engine.stream_iterator_ttl_ms,
            )?,
            ttl_sweep_interval_ms: positive(
                "ttl_sweep_interval_ms",
                r.engine.ttl_sweep_interval_ms,
            )?,
            ttl_sweep_batch: match r.engine.ttl_sweep_batch.unwrap_or(1_000) {
                0 => return Err("engine.ttl_sweep_batch: must be at least 1".into()),
                n => n,
            },
            ttl_transition_ms: delay("ttl_transition_ms", r.engine.ttl_transition_ms)?,
            ttl_change_cooldown_ms: delay(
                "ttl_change_cooldown_ms",
                r.engine.ttl_change_cooldown_ms,
            )?,
        };
        let log_level = r.log.level.unwrap_or_else(|| "info".into());
        if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
            return Err(format!(
                "log.level: {log_level:?} is not a valid log filter"
            ));
        }
        let upstream = validate_upstream(&r.upstream, &region)?;
        let cache = validate_cache(&r.cache)?;
        let follow = FollowConfig {
            enabled: r.cache.follow_streams.unwrap_or(false),
            interval: duration(
                "cache.follow_interval",
                r.cache.follow_interval.as_ref(),
                "1s",
            )?,
        };
        if follow.interval.is_zero() {
            return Err("cache.follow_interval: must be more than 0".into());
        }
        let triggers = crate::triggers::config::validate(&r.trigger)?;
        if !triggers.is_empty() && matches!(upstream, UpstreamConfig::Remote(_)) {
            return Err(
                "trigger: triggers follow the embedded engine's streams; they need upstream.url = \"embedded\"".into(),
            );
        }
        let admin = match r.admin.listen.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) => Some(a.parse::<SocketAddr>().map_err(|_| {
                format!("admin.listen: {a:?} is not an address such as \"127.0.0.1:8001\"")
            })?),
        };
        let auth = validate_auth(&r.auth)?;
        Ok(Config {
            listen: SocketAddr::new(ip, port),
            service: ServiceConfig {
                max_body_bytes,
                region,
                auth,
            },
            engine,
            log_level,
            upstream,
            cache,
            follow,
            triggers,
            admin,
        })
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub service: ServiceConfig,
    pub engine: EngineConfig,
    pub log_level: String,
    pub upstream: UpstreamConfig,
    pub cache: CacheConfig,
    /// `[cache] follow_streams`: invalidate by the upstream's DynamoDB Streams.
    pub follow: FollowConfig,
    /// `[[trigger]]`: HTTP endpoints that get a table's stream records.
    pub triggers: Vec<TriggerConfig>,
    /// `[admin] listen`: the admin listener's address (None: off).
    pub admin: Option<SocketAddr>,
}

/// `[cache] follow_streams` and `follow_interval`.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    /// Poll a remote upstream's streams and invalidate the keys of their records.
    pub enabled: bool,
    /// How often the streams are polled.
    pub interval: Duration,
}

impl Default for FollowConfig {
    fn default() -> Self {
        FollowConfig {
            enabled: false,
            interval: Duration::from_secs(1),
        }
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

/// The default cache budget: 256 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

fn duration(name: &str, v: Option<&String>, default: &str) -> Result<Duration, String> {
    let text = v.map(String::as_str).unwrap_or(default);
    parse_duration(text)
        .ok_or_else(|| format!("{name}: {text:?} is not a duration (0, 250ms, 30s, 5m or 1h)"))
}

/// The region of an AWS DynamoDB endpoint host (`dynamodb.eu-west-1.amazonaws.com`).
fn region_of_host(host: &str) -> Option<String> {
    let rest = host.strip_prefix("dynamodb.")?;
    let (region, tail) = rest.split_once('.')?;
    tail.starts_with("amazonaws.com")
        .then(|| region.to_string())
}

fn validate_upstream(r: &RawUpstream, engine_region: &str) -> Result<UpstreamConfig, String> {
    let url = r.url.as_deref().unwrap_or("embedded").trim();
    if url.is_empty() || url == "embedded" {
        return Ok(UpstreamConfig::Embedded);
    }
    let uri: http::Uri = url
        .parse()
        .map_err(|_| format!("upstream.url: {url:?} is neither \"embedded\" nor a URL"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(format!(
                "upstream.url: {url:?} must start with http:// or https://"
            ))
        }
    }
    let host = uri
        .host()
        .ok_or_else(|| format!("upstream.url: {url:?} has no host"))?;
    let region = r
        .region
        .clone()
        .or_else(|| region_of_host(host))
        .unwrap_or_else(|| engine_region.to_string());
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(format!("upstream.region: {region:?} is not a region name"));
    }
    let mut remote = RemoteConfig::new(uri, region);
    remote.timeout = duration("upstream.timeout", r.timeout.as_ref(), "10s")?;
    if remote.timeout.is_zero() {
        return Err("upstream.timeout: must be more than 0".into());
    }
    remote.retry.max_retries = r.max_retries.unwrap_or(3);
    Ok(UpstreamConfig::Remote(remote))
}

/// `[auth]`: the keys to verify signatures with, or None when verification is off.
fn validate_auth(r: &RawAuth) -> Result<Option<Arc<Keys>>, String> {
    if !r.verify.unwrap_or(false) {
        return Ok(None);
    }
    let creds = r.credentials.as_deref().unwrap_or_default();
    if creds.is_empty() {
        return Err("auth.credentials: auth.verify = true needs at least one { access_key, secret_key } (or DAXLITE_AUTH_ACCESS_KEY and DAXLITE_AUTH_SECRET_KEY)".into());
    }
    for c in creds {
        if c.access_key.trim().is_empty() || c.secret_key.is_empty() {
            return Err("auth.credentials: access_key and secret_key must not be empty".into());
        }
        if c.access_key.contains('/') {
            return Err(format!(
                "auth.credentials: access_key {:?} must not contain '/'",
                c.access_key
            ));
        }
    }
    Ok(Some(Arc::new(Keys::new(creds.iter().map(|c| {
        (c.access_key.trim().to_string(), c.secret_key.clone())
    })))))
}

fn validate_cache(r: &RawCache) -> Result<CacheConfig, String> {
    let item_ttl = duration("cache.item_ttl", r.item_ttl.as_ref(), "5m")?;
    let query_ttl = duration("cache.query_ttl", r.query_ttl.as_ref(), "5m")?;
    let negative_ttl = match &r.negative_ttl {
        None => Some(item_ttl),
        Some(text) => {
            let d = duration("cache.negative_ttl", Some(text), "5m")?;
            if d.is_zero() {
                None
            } else if item_ttl.is_zero() {
                Some(d)
            } else {
                Some(d.min(item_ttl))
            }
        }
    };
    let consistency = match r.consistency.as_deref().unwrap_or("coherent") {
        "coherent" => Consistency::Coherent,
        "dax" => Consistency::Dax,
        other => {
            return Err(format!(
                "cache.consistency: {other:?} must be \"coherent\" or \"dax\""
            ))
        }
    };
    let max_bytes = r.max_bytes.unwrap_or(DEFAULT_CACHE_BYTES);
    if max_bytes == 0 {
        return Err(
            "cache.max_bytes: must be at least 1 (use --no-cache to turn the cache off)".into(),
        );
    }
    Ok(CacheConfig {
        enabled: r.enabled.unwrap_or(true),
        item_ttl,
        query_ttl,
        negative_ttl,
        max_bytes,
        consistency,
    })
}

impl Config {
    /// An in-memory server on an ephemeral loopback port (tests, embedding).
    pub fn ephemeral() -> Config {
        let mut raw = RawConfig::default();
        raw.server.port = Some(0);
        raw.storage.in_memory = Some(true);
        match raw.validate() {
            Ok(c) => c,
            Err(_) => Config {
                listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                service: ServiceConfig {
                    max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                    region: "us-east-1".into(),
                    auth: None,
                },
                engine: EngineConfig::default(),
                log_level: "info".into(),
                upstream: UpstreamConfig::Embedded,
                cache: CacheConfig::default(),
                follow: FollowConfig::default(),
                triggers: Vec::new(),
                admin: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_override_in_order_and_errors_name_the_setting() {
        let file: RawConfig =
            toml::from_str("[server]\nport = 9000\n[storage]\nin_memory = true\n")
                .unwrap_or_default();
        let env = RawConfig::from_env(|k| (k == "DAXLITE_PORT").then(|| "9100".to_string()))
            .unwrap_or_default();
        let c = RawConfig::default()
            .merge(&file)
            .merge(&env)
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.listen.port(), 9100);
        assert!(matches!(c.engine.backend, Backend::InMemory));
        assert_eq!(c.listen.ip().to_string(), "127.0.0.1");

        let bad: Result<RawConfig, _> = toml::from_str("[server]\nprot = 1\n");
        assert!(bad
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
            .contains("prot"));
        let mut raw = RawConfig::default();
        raw.engine.region = Some("".into());
        assert!(raw
            .validate()
            .err()
            .unwrap_or_default()
            .starts_with("engine.region"));
        assert!(RawConfig::from_env(|k| (k == "DAXLITE_PORT").then(|| "x".to_string())).is_err());
    }

    #[test]
    fn the_documented_config_files_parse_with_every_example_uncommented() {
        for text in [
            include_str!("../../../config/daxlite.toml"),
            include_str!("../../../config/sidecar-aws.toml"),
        ] {
            let raw: RawConfig = toml::from_str(text).unwrap_or_else(|e| panic!("{e}"));
            assert!(raw.validate().is_ok());
        }
        // The documented examples themselves: `# key = value` lines under their tables.
        let uncommented: String = include_str!("../../../config/daxlite.toml")
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.split_once(" = ").is_some_and(|(k, _)| {
                        !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                    }) =>
                {
                    rest
                }
                // Commented-out array-of-tables headers such as `# [[trigger]]`.
                Some(rest) if rest.starts_with("[[") && rest.ends_with("]]") => rest,
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let raw: RawConfig = toml::from_str(&uncommented).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(raw.admin.listen.as_deref(), Some("127.0.0.1:8001"));
        assert_eq!(raw.trigger.len(), 1);
        assert_eq!(raw.auth.credentials.as_ref().map(Vec::len), Some(1));
        assert_eq!(raw.auth.verify, Some(false));
    }

    #[test]
    fn upstream_and_cache_settings() {
        let c = RawConfig::default()
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(c.upstream, UpstreamConfig::Embedded));
        assert!(c.cache.enabled);
        assert_eq!(c.cache.item_ttl, Duration::from_secs(300));
        assert_eq!(c.cache.negative_ttl, Some(Duration::from_secs(300)));
        assert_eq!(c.cache.max_bytes, DEFAULT_CACHE_BYTES);

        let mut raw = RawConfig::default();
        raw.upstream.url = Some("https://dynamodb.eu-west-1.amazonaws.com".into());
        raw.cache.negative_ttl = Some("0".into());
        raw.cache.consistency = Some("dax".into());
        let c = raw.validate().unwrap_or_else(|e| panic!("{e}"));
        match &c.upstream {
            UpstreamConfig::Remote(r) => assert_eq!(r.region, "eu-west-1"),
            UpstreamConfig::Embedded => panic!("expected a remote upstream"),
        }
        assert_eq!(c.cache.negative_ttl, None);
        assert_eq!(c.cache.consistency, Consistency::Dax);
        assert_eq!(c.admin, None, "the admin listener is off by default");

        let mut raw = RawConfig::default();
        raw.admin.listen = Some("127.0.0.1:8001".into());
        let c = raw.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.admin, Some(SocketAddr::from(([127, 0, 0, 1], 8001))));
        let mut raw = RawConfig::default();
        raw.admin.listen = Some("nowhere".into());
        assert!(raw
            .validate()
            .err()
            .unwrap_or_default()
            .starts_with("admin.listen"));
        let env =
            RawConfig::from_env(|k| (k == "DAXLITE_ADMIN_LISTEN").then(|| "127.0.0.1:0".into()))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(env.admin.listen.as_deref(), Some("127.0.0.1:0"));

        let mut raw = RawConfig::default();
        raw.upstream.url = Some("ftp://x".into());
        assert!(raw
            .validate()
            .err()
            .unwrap_or_default()
            .starts_with("upstream.url"));
        let mut raw = RawConfig::default();
        raw.cache.item_ttl = Some("5 parsecs".into());
        assert!(raw
            .validate()
            .err()
            .unwrap_or_default()
            .starts_with("cache.item_ttl"));
    }
}

#[cfg(test)]
mod stream_ttl_settings {
    use super::*;

    #[test]
    fn stream_and_ttl_settings_have_defaults_env_and_checks() {
        let c = RawConfig::default()
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engine.stream_retention_ms, 86_400_000);
        assert_eq!(c.engine.stream_iterator_ttl_ms, 900_000);
        assert_eq!(c.engine.ttl_sweep_interval_ms, 1_000);
        assert_eq!(c.engine.ttl_change_cooldown_ms, 0);
        let env = RawConfig::from_env(|k| match k {
            "DAXLITE_STREAM_SHARD_MAX_RECORDS" => Some("5".into()),
            "DAXLITE_TTL_CHANGE_COOLDOWN_MS" => Some("3600000".into()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let c = env.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.engine.stream_shard_max_records, 5);
        assert_eq!(c.engine.ttl_change_cooldown_ms, 3_600_000);
        let mut bad = RawConfig::default();
        bad.engine.ttl_sweep_interval_ms = Some(0);
        assert_eq!(
            bad.validate().err().as_deref(),
            Some("engine.ttl_sweep_interval_ms: 0 must be at least 1")
        );
        let file: RawConfig = toml::from_str("[engine]\nstream_retention_ms = 60000\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.engine.stream_retention_ms, Some(60_000));
    }
}

#[cfg(test)]
mod auth_settings {
    use super::*;

    #[test]
    fn verification_is_off_by_default_and_needs_credentials() {
        let c = RawConfig::default()
            .validate()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(c.service.auth.is_none());
        let env = RawConfig::from_env(|k| (k == "DAXLITE_AUTH_VERIFY").then(|| "true".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = env.validate().err().unwrap_or_default();
        assert!(err.starts_with("auth.credentials:"), "{err}");
        let env = RawConfig::from_env(|k| match k {
            "DAXLITE_AUTH_VERIFY" => Some("true".into()),
            "DAXLITE_AUTH_ACCESS_KEY" => Some("AKID".into()),
            "DAXLITE_AUTH_SECRET_KEY" => Some("s3cret".into()),
            _ => None,
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let c = env.validate().unwrap_or_else(|e| panic!("{e}"));
        let keys = c.service.auth.clone().unwrap_or_default();
        assert_eq!(keys.secret("AKID"), Some("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"), "Debug hides secrets");
        assert!(
            RawConfig::from_env(|k| (k == "DAXLITE_AUTH_ACCESS_KEY").then(|| "AKID".into()))
                .is_err()
        );
        let file: RawConfig = toml::from_str(
            "[auth]\nverify = true\ncredentials = [{ access_key = \"A\", secret_key = \"B\" }, { access_key = \"C\", secret_key = \"D\" }]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let c = file.validate().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.service.auth.map(|k| k.len()), Some(2));
    }
}
