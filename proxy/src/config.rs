//! Configuration in two phases: `RawConfig` layers (built-in defaults < the config file
//! < `DAXLITE_*` environment < command-line flags), then one validated [`Config`] that
//! builds the engine, the upstream and the server. Nothing reads unvalidated settings.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use daxlite_engine::{Backend, EngineConfig};
use serde::Deserialize;

use crate::service::ServiceConfig;

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
        Ok(Config {
            listen: SocketAddr::new(ip, port),
            service: ServiceConfig {
                max_body_bytes,
                region,
            },
            engine,
            log_level,
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
                },
                engine: EngineConfig::default(),
                log_level: "info".into(),
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
