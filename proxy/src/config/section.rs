//! The [`section!`] macro every config section is written with: one line per setting
//! (name, type, default, environment variable) generates the raw TOML struct, its
//! built-in defaults, its `DAXLITE_*` environment layer, its merge, accessors that fall
//! back to the default, and the [`Setting`] list `config/daxlite.toml` is checked against.

use std::path::PathBuf;
use std::time::Duration;

use super::duration::parse_duration;
use super::error::ConfigError;

/// One setting as documented: `section.key`, its environment variable, and its default
/// rendered as TOML (None: no built-in default, e.g. an optional address).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub section: &'static str,
    pub key: &'static str,
    pub env: Option<String>,
    pub default: Option<toml::Value>,
}

/// A value read from one `DAXLITE_*` variable. Strings and paths are taken as written;
/// numbers and booleans are trimmed first.
pub trait FromEnv: Sized {
    fn from_env(text: String) -> Option<Self>;
}

impl FromEnv for String {
    fn from_env(text: String) -> Option<Self> {
        Some(text)
    }
}

impl FromEnv for PathBuf {
    fn from_env(text: String) -> Option<Self> {
        Some(PathBuf::from(text))
    }
}

macro_rules! from_env_by_parse {
    ($($t:ty),*) => {
        $(impl FromEnv for $t {
            fn from_env(text: String) -> Option<Self> {
                text.trim().parse().ok()
            }
        })*
    };
}
from_env_by_parse!(bool, u16, u32, u64, usize, i64);

/// Reads variable `name` as a `T`; a value that does not parse is an error naming it.
pub fn env_value<T: FromEnv>(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>, ConfigError> {
    match get(name) {
        None => Ok(None),
        Some(text) => match T::from_env(text.clone()) {
            Some(v) => Ok(Some(v)),
            None => Err(ConfigError::Env {
                variable: name.to_string(),
                value: text,
            }),
        },
    }
}

/// The environment variable of setting `key` in a section whose variables start with
/// `prefix` (`server.port` → `DAXLITE_PORT`, `cache.item_ttl` → `DAXLITE_CACHE_ITEM_TTL`).
pub fn env_name(prefix: &str, key: &str) -> String {
    format!("DAXLITE_{prefix}{}", key.to_ascii_uppercase())
}

/// Parses the duration setting `name` (`0`, `250ms`, `30s`, `5m`, `1h`).
pub fn duration(name: &str, text: &str) -> Result<Duration, ConfigError> {
    parse_duration(text).ok_or_else(|| {
        ConfigError::setting(
            name,
            format!("{text:?} is not a duration (0, 250ms, 30s, 5m or 1h)"),
        )
    })
}

/// A default rendered as TOML, for the documentation check.
pub fn toml_of<T: serde::Serialize>(v: &T) -> Option<toml::Value> {
    toml::Value::try_from(v).ok()
}

/// Defines one config section. Each setting is written once:
///
/// ```text
/// /// doc
/// key: Type = default_expr,        // env DAXLITE_<PREFIX><KEY>
/// key: Type = default_expr, env "NAME",   // env DAXLITE_NAME (a historical name)
/// key: Type, env none,             // no default, file only
/// ```
///
/// A setting without `= default` has no built-in default; its accessor returns an
/// `Option`. The accessor of a setting with a default returns the value itself.
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $raw:ident { section: $section:literal, env_prefix: $prefix:literal }
        {
            $(
                $(#[doc = $doc:literal])*
                $key:ident : $ty:ty $(= $default:expr)? $(, env $env:tt)?;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, Clone, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $raw {
            $( $(#[doc = $doc])* pub $key: Option<$ty>, )*
        }

        impl $raw {
            /// The section's name in the TOML file.
            pub const SECTION: &'static str = $section;

            /// Every setting of the section at its built-in default.
            pub fn defaults() -> Self {
                $raw { $( $key: $crate::config::section::section!(@default $($default)?), )* }
            }

            /// The settings set by `DAXLITE_*` variables.
            #[allow(unused_variables)]
            pub fn from_env(
                get: &dyn Fn(&str) -> Option<String>,
            ) -> Result<Self, ConfigError> {
                Ok($raw {
                    $( $key: $crate::config::section::section!(
                        @env get, $prefix, $key, $ty, $($env)?
                    ), )*
                })
            }

            /// Settings in `over` replace those here.
            pub fn merge(&mut self, over: &Self) {
                $( if over.$key.is_some() { self.$key = over.$key.clone(); } )*
            }

            /// The section's settings as documented in `config/daxlite.toml`.
            pub fn settings() -> Vec<$crate::config::section::Setting> {
                #[allow(unused_variables)]
                let defaults = Self::defaults();
                vec![ $( $crate::config::section::Setting {
                    section: $section,
                    key: stringify!($key),
                    env: $crate::config::section::section!(@env_name $prefix, $key, $($env)?),
                    default: $crate::config::section::section!(@toml defaults.$key, $($default)?),
                }, )* ]
            }

            $( $crate::config::section::section!(@get $key, $ty, $($default)?); )*
        }
    };

    (@default $default:expr) => { Some($default) };
    (@default) => { None };

    (@toml $value:expr, $default:expr) => {
        $value.as_ref().and_then($crate::config::section::toml_of)
    };
    (@toml $value:expr,) => { None };

    (@env $get:ident, $prefix:literal, $key:ident, $ty:ty, none) => { None };
    (@env $get:ident, $prefix:literal, $key:ident, $ty:ty, $env:literal) => {
        $crate::config::section::env_value::<$ty>($get, concat!("DAXLITE_", $env))?
    };
    (@env $get:ident, $prefix:literal, $key:ident, $ty:ty,) => {
        $crate::config::section::env_value::<$ty>(
            $get,
            &$crate::config::section::env_name($prefix, stringify!($key)),
        )?
    };

    (@env_name $prefix:literal, $key:ident, none) => { None };
    (@env_name $prefix:literal, $key:ident, $env:literal) => {
        Some(concat!("DAXLITE_", $env).to_string())
    };
    (@env_name $prefix:literal, $key:ident,) => {
        Some($crate::config::section::env_name($prefix, stringify!($key)))
    };

    (@get $key:ident, $ty:ty, $default:expr) => {
        /// The setting, or its default.
        pub fn $key(&self) -> $ty {
            self.$key.clone().unwrap_or_else(|| $default)
        }
    };
    (@get $key:ident, $ty:ty,) => {
        /// The setting, if set anywhere (it has no built-in default).
        pub fn $key(&self) -> Option<$ty> {
            self.$key.clone()
        }
    };
}

pub(crate) use section;
