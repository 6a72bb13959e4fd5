//! [`ConfigError`]: why a configuration was refused, naming the setting, the variable or
//! the file. Its text is what `daxlite` prints before exiting with status 2.

use std::fmt;
use std::path::PathBuf;

/// Why a configuration was refused.
#[derive(Debug)]
pub enum ConfigError {
    /// A setting's value is invalid: `setting` is `section.key`.
    Setting { setting: String, message: String },
    /// A `[[trigger]]` is invalid (the message names `trigger[i].key`).
    Trigger(String),
    /// A `DAXLITE_*` variable's value does not parse as its setting's type.
    Env { variable: String, value: String },
    /// Two variables that only make sense together were not both set.
    EnvPair {
        first: &'static str,
        second: &'static str,
    },
    /// The config file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The config file is not valid TOML or names an unknown setting.
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
}

impl ConfigError {
    /// Setting `setting` (`section.key`) is refused because of `message`.
    pub fn setting(setting: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Setting {
            setting: setting.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Setting { setting, message } => write!(f, "{setting}: {message}"),
            ConfigError::Trigger(message) => f.write_str(message),
            ConfigError::Env { variable, value } => {
                write!(f, "invalid value {value:?} for {variable}")
            }
            ConfigError::EnvPair { first, second } => write!(f, "{first} and {second} go together"),
            ConfigError::Read { path, source } => {
                write!(f, "cannot read config {}: {source}", path.display())
            }
            ConfigError::Parse { path, source } => {
                write!(f, "invalid config {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            ConfigError::Parse { source, .. } => Some(source),
            _ => None,
        }
    }
}
