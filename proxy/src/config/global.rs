//! `[global]`: the other regions of this daxlite's global tables. Each
//! `[[global.peer]]` names one region and the URL of the daxlite process that serves it
//! (this process's own region is `[engine] region`, flag `--region`);
//! `replication_delay_ms` holds every change back before it is shipped (chaos testing).
//! File only.

use super::engine::is_region_name;
use super::error::ConfigError;
use super::section::section;

section! {
    /// One `[[global.peer]]` table as written in the file.
    pub struct RawPeer { section: "global.peer", env_prefix: "GLOBAL_PEER_" }
    {
        /// The region the peer serves (its `--region`).
        region: String, env none;
        /// The peer's DynamoDB endpoint, `http://` or `https://`.
        url: String, env none;
        /// The key replication calls to this peer are signed with (one of the peer's
        /// `[auth] credentials` when it verifies signatures); with `secret_key`. Unset:
        /// the default AWS credential chain.
        access_key: String, env none;
        /// The secret of `access_key` (never logged).
        secret_key: String, env none;
    }
}

/// `[global]` as written in the file: the peers (a layer that lists any replaces the
/// others' list).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGlobal {
    #[serde(default)]
    pub peer: Vec<RawPeer>,
    /// Hold each change back this long before shipping it (default 0).
    #[serde(default)]
    pub replication_delay_ms: Option<u64>,
}

/// One validated peer region.
#[derive(Clone, PartialEq, Eq)]
pub struct Peer {
    pub region: String,
    pub url: http::Uri,
    /// `(access_key, secret_key)` to sign calls to it with (None: the default chain).
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("region", &self.region)
            .field("url", &self.url)
            .field(
                "access_key",
                &self.credentials.as_ref().map(|(k, _)| k.as_str()),
            )
            .finish_non_exhaustive()
    }
}

impl RawGlobal {
    /// Settings in `over` replace those here.
    pub fn merge(&mut self, over: &Self) {
        if !over.peer.is_empty() {
            self.peer = over.peer.clone();
        }
        if over.replication_delay_ms.is_some() {
            self.replication_delay_ms = over.replication_delay_ms;
        }
    }

    /// The settings of `[global]` itself (its peers are [`RawPeer`]'s).
    pub fn settings() -> Vec<super::section::Setting> {
        vec![super::section::Setting {
            section: "global",
            key: "replication_delay_ms",
            env: None,
            default: Some(toml::Value::Integer(0)),
        }]
    }

    /// `replication_delay_ms` (0 when unset).
    pub fn replication_delay(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.replication_delay_ms.unwrap_or(0))
    }

    /// Checks every peer: a region name other than `own_region`, named once, and an
    /// http(s) URL with a host.
    pub fn validate(&self, own_region: &str) -> Result<Vec<Peer>, ConfigError> {
        let mut out: Vec<Peer> = Vec::new();
        for (i, p) in self.peer.iter().enumerate() {
            let key = |k: &str| format!("global.peer[{i}].{k}");
            let region = p
                .region()
                .ok_or_else(|| ConfigError::setting(key("region"), "required"))?;
            if !is_region_name(&region) {
                return Err(ConfigError::setting(
                    key("region"),
                    format!("{region:?} is not a region name"),
                ));
            }
            if region == own_region {
                return Err(ConfigError::setting(
                    key("region"),
                    format!("{region:?} is this process's own region (engine.region)"),
                ));
            }
            if out.iter().any(|o| o.region == region) {
                return Err(ConfigError::setting(
                    key("region"),
                    format!("{region:?} is listed twice"),
                ));
            }
            let text = p
                .url()
                .ok_or_else(|| ConfigError::setting(key("url"), "required"))?;
            let url: http::Uri = text
                .parse()
                .map_err(|_| ConfigError::setting(key("url"), format!("{text:?} is not a URL")))?;
            if !matches!(url.scheme_str(), Some("http") | Some("https")) || url.host().is_none() {
                return Err(ConfigError::setting(
                    key("url"),
                    format!("{text:?} must be an http:// or https:// URL"),
                ));
            }
            let credentials = match (p.access_key(), p.secret_key()) {
                (Some(k), Some(s)) if !k.is_empty() && !s.is_empty() => Some((k, s)),
                (None, None) => None,
                _ => {
                    return Err(ConfigError::setting(
                        key("access_key"),
                        "access_key and secret_key go together (both non-empty)",
                    ))
                }
            };
            out.push(Peer {
                region,
                url,
                credentials,
            });
        }
        Ok(out)
    }
}
