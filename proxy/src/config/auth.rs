//! `[auth]`: opt-in SigV4 verification of incoming requests and the accepted keys.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::auth::identity::{default_principal, Identities, Identity};
use crate::auth::policy::Policy;
use crate::auth::sigv4::Keys;

use super::error::ConfigError;
use super::section::section;

/// The variables that together give one credential (and replace the file's list).
pub const ACCESS_KEY_ENV: &str = "DAXLITE_AUTH_ACCESS_KEY";
pub const SECRET_KEY_ENV: &str = "DAXLITE_AUTH_SECRET_KEY";

section! {
    /// `[auth]` as written in the file or the environment.
    pub struct RawAuth { section: "auth", env_prefix: "AUTH_" }
    {
        /// Verify every request's signature against `credentials`.
        verify: bool = false;
        /// The accepted keys (a layer that has any replaces the others'); from the
        /// environment: [`ACCESS_KEY_ENV`] with [`SECRET_KEY_ENV`].
        credentials: Vec<RawCredential>, env none;
    }
}

/// One accepted access key. `Debug` never shows the secret.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCredential {
    pub access_key: String,
    pub secret_key: String,
    /// The principal ARN (default `arn:aws:iam::000000000000:user/<access_key>`).
    #[serde(default)]
    pub principal: Option<String>,
    /// Identity-policy documents: inline JSON, or paths ending in `.json` (relative to
    /// the config file). None: full access.
    #[serde(default)]
    pub policies: Option<Vec<String>>,
    /// The folder of the config file this entry came from (policy paths are relative to it).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

/// What `[auth]` validates into: the keys signatures are verified with, and the
/// identities whose requests are authorized by policies (None when no key has any).
#[derive(Debug, Clone, Default)]
pub struct AuthConfig {
    pub keys: Option<Arc<Keys>>,
    pub identities: Option<Arc<Identities>>,
}

impl std::fmt::Debug for RawCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawCredential")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

impl RawAuth {
    /// The environment layer: the generated settings plus the one credential pair.
    pub fn from_env_with_credentials(
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<RawAuth, ConfigError> {
        let mut raw = RawAuth::from_env(get)?;
        raw.credentials = match (get(ACCESS_KEY_ENV), get(SECRET_KEY_ENV)) {
            (None, None) => None,
            (Some(access_key), Some(secret_key)) => Some(vec![RawCredential {
                access_key,
                secret_key,
                principal: None,
                policies: None,
                base_dir: None,
            }]),
            _ => {
                return Err(ConfigError::EnvPair {
                    first: ACCESS_KEY_ENV,
                    second: SECRET_KEY_ENV,
                })
            }
        };
        Ok(raw)
    }

    /// Checks the section: the keys to verify signatures with (None when verification
    /// is off) and the identities with policies (read and parsed here: a malformed
    /// policy stops daxlite at start).
    pub fn validate(&self) -> Result<AuthConfig, ConfigError> {
        let creds = self.credentials.as_deref().unwrap_or_default();
        if !self.verify() {
            if creds.iter().any(|c| c.policies.is_some()) {
                return Err(ConfigError::setting(
                    "auth.credentials",
                    "policies are only enforced on verified requests: set auth.verify = true",
                ));
            }
            return Ok(AuthConfig::default());
        }
        if creds.is_empty() {
            return Err(ConfigError::setting("auth.credentials", format!("auth.verify = true needs at least one {{ access_key, secret_key }} (or {ACCESS_KEY_ENV} and {SECRET_KEY_ENV})")));
        }
        for c in creds {
            if c.access_key.trim().is_empty() || c.secret_key.is_empty() {
                return Err(ConfigError::setting(
                    "auth.credentials",
                    "access_key and secret_key must not be empty",
                ));
            }
            if c.access_key.contains('/') {
                return Err(ConfigError::setting(
                    "auth.credentials",
                    format!("access_key {:?} must not contain '/'", c.access_key),
                ));
            }
        }
        let keys =
            Arc::new(Keys::new(creds.iter().map(|c| {
                (c.access_key.trim().to_string(), c.secret_key.clone())
            })));
        let mut by_key = HashMap::new();
        for c in creds {
            let access_key = c.access_key.trim();
            let Some(docs) = &c.policies else {
                if c.principal.is_some() {
                    // A principal alone changes nothing (full access): still check it.
                    let p = c.principal.as_deref().unwrap_or_default();
                    Identity::new(p, Vec::new()).map_err(|e| {
                        ConfigError::setting("auth.credentials", format!("{access_key}: {e}"))
                    })?;
                }
                continue;
            };
            let mut policies = Vec::with_capacity(docs.len());
            for (i, doc) in docs.iter().enumerate() {
                let (text, origin) = if doc.trim_end().ends_with(".json") {
                    let path = match &c.base_dir {
                        Some(dir) => dir.join(doc.trim()),
                        None => PathBuf::from(doc.trim()),
                    };
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        ConfigError::setting(
                            "auth.credentials",
                            format!("{access_key}: policy file {}: {e}", path.display()),
                        )
                    })?;
                    (text, format!("policy file {}", path.display()))
                } else {
                    (doc.clone(), format!("policy {}", i + 1))
                };
                let policy = Policy::parse(&text).map_err(|e| {
                    ConfigError::setting("auth.credentials", format!("{access_key}: {origin}: {e}"))
                })?;
                policies.push(policy);
            }
            let principal = c
                .principal
                .clone()
                .unwrap_or_else(|| default_principal(access_key));
            let identity = Identity::new(&principal, policies).map_err(|e| {
                ConfigError::setting("auth.credentials", format!("{access_key}: {e}"))
            })?;
            by_key.insert(access_key.to_string(), Arc::new(identity));
        }
        let identities = (!by_key.is_empty()).then(|| Arc::new(Identities::new(by_key)));
        Ok(AuthConfig {
            keys: Some(keys),
            identities,
        })
    }
}
