//! `[auth]`: opt-in SigV4 verification of incoming requests and the accepted keys.

use std::sync::Arc;

use serde::Deserialize;

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

    /// Checks the section: the keys to verify signatures with, or None when verification
    /// is off.
    pub fn validate(&self) -> Result<Option<Arc<Keys>>, ConfigError> {
        if !self.verify() {
            return Ok(None);
        }
        let creds = self.credentials.as_deref().unwrap_or_default();
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
        Ok(Some(Arc::new(Keys::new(creds.iter().map(|c| {
            (c.access_key.trim().to_string(), c.secret_key.clone())
        })))))
    }
}
