//! Configuration in two phases: `RawConfig` layers (built-in defaults < the config file
//! < `DAXLITE_*` environment < command-line flags), then one validated [`Config`] that
//! builds the engine, the upstream and the server. Nothing reads unvalidated settings.
//!
//! Each section owns its settings in its own module (`server`, `storage`, `engine`,
//! `log`, `upstream`, `cache`, `admin`, `auth`, `export`; triggers in `crate::triggers::config`,
//! Kinesis destinations in `crate::kinesis::config`):
//! one [`section!`](section) line per setting gives its TOML key, default and
//! environment variable, beside its validation. This module only layers and composes.
//! A new setting: one line in its section's module, and its documented line in
//! `config/daxlite.toml` (the test `every_setting_is_documented_with_its_default_and_env`
//! fails until both agree).

use std::net::SocketAddr;
use std::path::Path;

use daxlite_engine::EngineConfig;
use serde::Deserialize;

pub mod admin;
pub mod auth;
pub mod cache;
pub mod capacity;
pub mod console;
pub mod duration;
pub mod engine;
pub mod error;
pub mod export;
pub mod global;
pub mod limits;
pub mod log;
pub mod section;
pub mod server;
pub mod storage;
pub mod upstream;

pub use admin::RawAdmin;
pub use auth::{AuthConfig, RawAuth, RawCredential};
pub use cache::{FollowConfig, RawCache, DEFAULT_CACHE_BYTES};
pub use capacity::RawCapacity;
pub use console::{ConsoleConfig, RawConsole};
pub use duration::parse_duration;
pub use engine::{RawEngine, TRANSIENT_DELAY_MS};
pub use error::ConfigError;
pub use export::RawExport;
pub use global::{Peer, RawGlobal, RawPeer};
pub use limits::RawLimits;
pub use log::RawLog;
pub use server::{RawServer, TlsFiles, DEFAULT_MAX_BODY_BYTES};
pub use storage::RawStorage;
pub use upstream::{RawUpstream, UpstreamConfig};

use crate::cache::CacheConfig;
use crate::kinesis::{KinesisConfig, RawKinesis};
use crate::service::ServiceConfig;
use crate::triggers::{RawTrigger, TriggerConfig};

/// Every section, as one layer (the file, the environment, the flags or the defaults)
/// writes them; unset settings are `None`.
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
    #[serde(default)]
    pub capacity: RawCapacity,
    /// `[[trigger]]` tables (file only; a layer that has any replaces the others').
    #[serde(default)]
    pub trigger: Vec<RawTrigger>,
    #[serde(default)]
    pub admin: RawAdmin,
    #[serde(default)]
    pub auth: RawAuth,
    #[serde(default)]
    pub export: RawExport,
    #[serde(default)]
    pub kinesis: RawKinesis,
    /// `[global]` with its `[[global.peer]]` tables (file only).
    #[serde(default)]
    pub global: RawGlobal,
    #[serde(default)]
    pub console: RawConsole,
    #[serde(default)]
    pub limits: RawLimits,
}

impl RawConfig {
    /// Every setting at its documented default.
    pub fn defaults() -> RawConfig {
        RawConfig {
            server: RawServer::defaults(),
            storage: RawStorage::defaults(),
            engine: RawEngine::defaults(),
            log: RawLog::defaults(),
            upstream: RawUpstream::defaults(),
            cache: RawCache::defaults(),
            capacity: RawCapacity::defaults(),
            trigger: Vec::new(),
            admin: RawAdmin::defaults(),
            auth: RawAuth::defaults(),
            export: RawExport::defaults(),
            kinesis: RawKinesis::defaults(),
            global: RawGlobal::default(),
            console: RawConsole::defaults(),
            limits: RawLimits::defaults(),
        }
    }

    /// Reads a TOML config file; unknown settings are errors that name the setting.
    pub fn from_file(path: &Path) -> Result<RawConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut raw: RawConfig = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        // Policy files are named relative to the config file.
        let dir = path.parent().map(Path::to_path_buf);
        for c in raw.auth.credentials.iter_mut().flatten() {
            c.base_dir = dir.clone();
        }
        Ok(raw)
    }

    /// Reads the `DAXLITE_*` environment variables.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<RawConfig, ConfigError> {
        let get: &dyn Fn(&str) -> Option<String> = &get;
        Ok(RawConfig {
            server: RawServer::from_env(get)?,
            storage: RawStorage::from_env(get)?,
            engine: RawEngine::from_env(get)?,
            log: RawLog::from_env(get)?,
            upstream: RawUpstream::from_env(get)?,
            cache: RawCache::from_env(get)?,
            capacity: RawCapacity::from_env(get)?,
            trigger: Vec::new(),
            admin: RawAdmin::from_env(get)?,
            auth: RawAuth::from_env_with_credentials(get)?,
            export: RawExport::from_env(get)?,
            kinesis: RawKinesis::from_env(get)?,
            global: RawGlobal::default(),
            console: RawConsole::from_env(get)?,
            limits: RawLimits::from_env(get)?,
        })
    }

    /// Settings in `over` replace those here.
    pub fn merge(mut self, over: &RawConfig) -> RawConfig {
        self.server.merge(&over.server);
        self.storage.merge(&over.storage);
        self.engine.merge(&over.engine);
        self.log.merge(&over.log);
        self.upstream.merge(&over.upstream);
        self.cache.merge(&over.cache);
        self.capacity.merge(&over.capacity);
        if !over.trigger.is_empty() {
            self.trigger = over.trigger.clone();
        }
        self.admin.merge(&over.admin);
        self.auth.merge(&over.auth);
        self.export.merge(&over.export);
        self.kinesis.merge(&over.kinesis);
        self.global.merge(&over.global);
        self.console.merge(&over.console);
        self.limits.merge(&over.limits);
        self
    }

    /// Checks every setting (each section its own, unset ones at their defaults) and
    /// builds the validated config.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let server = self.server.validate()?;
        let limits = self.limits.validate()?;
        let backend = self.storage.validate()?;
        let mut engine = self.engine.validate(backend)?;
        engine.page_cache_bytes = self.storage.page_cache_bytes();
        (engine.export_root, engine.export_s3) = self.export.validate(&engine.region)?;
        engine.throttling = self.capacity.validate()?;
        engine.capacity = self.capacity.options()?;
        let retry_after_ms = self.capacity.retry_after_ms()?;
        let kinesis = self.kinesis.validate(&engine.region)?;
        engine.kinesis_transition_ms = kinesis.transition_ms;
        let log_level = self.log.validate()?;
        let upstream = self.upstream.validate(&engine.region)?;
        let (cache, follow) = self.cache.validate()?;
        let triggers =
            crate::triggers::config::validate(&self.trigger).map_err(ConfigError::Trigger)?;
        if !triggers.is_empty() && matches!(upstream, UpstreamConfig::Remote(_)) {
            return Err(ConfigError::setting(
                "trigger",
                "triggers follow the embedded engine's streams; they need upstream.url = \"embedded\"",
            ));
        }
        let admin = self.admin.validate()?;
        let auth = self.auth.validate()?;
        let peers = self.global.validate(&engine.region)?;
        let replication_delay = self.global.replication_delay();
        let console = self
            .console
            .validate(server.listen, admin.token.as_deref())?;
        Ok(Config {
            listen: server.listen,
            tls: server.tls,
            service: ServiceConfig {
                max_body_bytes: server.max_body_bytes,
                region: engine.region.clone(),
                auth: auth.keys,
                identities: auth.identities,
                retry_after_ms,
                body_read_timeout: limits.body_read_timeout,
            },
            limits,
            engine,
            log_level,
            upstream,
            cache,
            follow,
            triggers,
            kinesis,
            admin: admin.listen,
            admin_token: admin.token,
            console,
            peers,
            replication_delay,
        })
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `[server] tls_cert` / `tls_key`: serve HTTPS (None: plain HTTP).
    pub tls: Option<TlsFiles>,
    pub service: ServiceConfig,
    /// `[limits]`: overload and slow-client bounds (all off by default).
    pub limits: crate::overload::Limits,
    pub engine: EngineConfig,
    pub log_level: String,
    pub upstream: UpstreamConfig,
    pub cache: CacheConfig,
    /// `[cache] follow_streams`: invalidate by the upstream's DynamoDB Streams.
    pub follow: FollowConfig,
    /// `[[trigger]]`: HTTP endpoints that get a table's stream records.
    pub triggers: Vec<TriggerConfig>,
    /// `[kinesis]`: where Kinesis streaming destinations publish.
    pub kinesis: KinesisConfig,
    /// `[admin] listen`: the admin listener's address (None: off).
    pub admin: Option<SocketAddr>,
    /// `[[global.peer]]`: the other regions of this process's global tables.
    pub peers: Vec<Peer>,
    /// `[global] replication_delay_ms`: how long each change is held back before it is
    /// shipped to the other regions (chaos testing; 0 by default).
    pub replication_delay: std::time::Duration,
    /// `[admin] token`: the bearer token admin requests must carry (None: none).
    pub admin_token: Option<String>,
    /// `[console]`: the web console (off, or on with the token it needs).
    pub console: ConsoleConfig,
}

impl Config {
    /// An in-memory server on an ephemeral loopback port (tests, embedding): the
    /// defaults, validated (`built_in_defaults_validate` proves they are), with each
    /// section's own typed defaults as the fallback rather than a panic.
    pub fn ephemeral() -> Config {
        let mut raw = RawConfig::default();
        raw.server.port = Some(0);
        raw.storage.in_memory = Some(true);
        match raw.validate() {
            Ok(c) => c,
            Err(_) => {
                let engine = EngineConfig::default();
                let kinesis = crate::kinesis::KinesisConfig::fallback(&engine.region);
                Config {
                    listen: SocketAddr::from(([127, 0, 0, 1], 0)),
                    tls: None,
                    service: ServiceConfig {
                        max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                        region: engine.region.clone(),
                        auth: None,
                        identities: None,
                        retry_after_ms: None,
                        body_read_timeout: None,
                    },
                    limits: crate::overload::Limits::default(),
                    engine,
                    log_level: RawLog::defaults().level(),
                    upstream: UpstreamConfig::Embedded,
                    cache: CacheConfig::default(),
                    follow: FollowConfig::default(),
                    triggers: Vec::new(),
                    kinesis,
                    admin: None,
                    peers: Vec::new(),
                    replication_delay: std::time::Duration::ZERO,
                    admin_token: None,
                    console: ConsoleConfig::default(),
                }
            }
        }
    }
}

/// Every setting every section defines, in section order.
pub fn settings() -> Vec<section::Setting> {
    [
        RawServer::settings(),
        RawStorage::settings(),
        RawEngine::settings(),
        RawLog::settings(),
        RawUpstream::settings(),
        RawCache::settings(),
        RawCapacity::settings(),
        RawAdmin::settings(),
        RawAuth::settings(),
        RawExport::settings(),
        RawKinesis::settings(),
        RawPeer::settings(),
        RawGlobal::settings(),
        RawConsole::settings(),
        RawLimits::settings(),
    ]
    .concat()
}

#[cfg(test)]
mod tests;
