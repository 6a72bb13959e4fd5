//! `[capacity]`: throttling (CAPACITY.md §2). Off by default, as DynamoDB Local ignores
//! provisioned throughput; a table's `daxlite:throttling` tag overrides the setting.

use daxlite_engine::capacity::Throttling;

use super::error::ConfigError;
use super::section::section;

section! {
    /// `[capacity]` as written in the file, the environment or flags.
    pub struct RawCapacity { section: "capacity", env_prefix: "CAPACITY_" }
    {
        /// `off`, `provisioned` (token buckets of provisioned tables and GSIs) or `all`
        /// (also on-demand tables' OnDemandThroughput maxima and account quota).
        throttling: String = "off".into();
    }
}

impl RawCapacity {
    /// Checks the section.
    pub fn validate(&self) -> Result<Throttling, ConfigError> {
        let text = self.throttling();
        Throttling::parse(&text).ok_or_else(|| {
            ConfigError::setting(
                "capacity.throttling",
                format!("{text:?} must be \"off\", \"provisioned\" or \"all\""),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_setting() {
        assert_eq!(
            RawCapacity::defaults().validate().ok(),
            Some(Throttling::Off)
        );
        let raw: RawCapacity = toml::from_str(r#"throttling = "all""#).expect("toml");
        assert_eq!(raw.validate().ok(), Some(Throttling::All));
        let raw: RawCapacity = toml::from_str(r#"throttling = "sometimes""#).expect("toml");
        let e = raw.validate().expect_err("invalid");
        assert!(e.to_string().contains("capacity.throttling"), "{e}");
    }
}
