//! `[log]`: the tracing filter.

use super::error::ConfigError;
use super::section::section;

section! {
    /// `[log]` as written in the file, the environment or flags.
    pub struct RawLog { section: "log", env_prefix: "" }
    {
        /// A tracing filter (`info`, `daxlite=debug`, ...). Flag `--log-level`.
        level: String = "info".into(), env "LOG";
    }
}

impl RawLog {
    /// Checks the section: the filter must parse.
    pub fn validate(&self) -> Result<String, ConfigError> {
        let level = self.level();
        if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
            return Err(ConfigError::setting(
                "log.level",
                format!("{level:?} is not a valid log filter"),
            ));
        }
        Ok(level)
    }
}
