//! `[capacity]`: throttling (CAPACITY.md §2), off by default as DynamoDB Local ignores
//! provisioned throughput (a table's `daxlite:throttling` tag overrides the setting);
//! the optional per-partition limits and on-demand peak rule; the per-minute series and
//! the auto scaler's minute; `x-amz-retry-after` on throttling answers.

use daxlite_engine::capacity::{Options, Throttling};

use super::error::ConfigError;
use super::section::{duration, section};

section! {
    /// `[capacity]` as written in the file, the environment or flags.
    pub struct RawCapacity { section: "capacity", env_prefix: "CAPACITY_" }
    {
        /// `off`, `provisioned` (token buckets of provisioned tables and GSIs) or `all`
        /// (also on-demand tables' OnDemandThroughput maxima and account quota).
        throttling: String = "off".into();
        /// Per partition-key value limits: 3,000 RCU / 1,000 WCU per second.
        partition_limits: bool = false;
        /// On-demand tables throttle above twice their previous peak.
        peak_rule: bool = false;
        /// Keep the per-minute series even with no scalable target.
        series: bool = false;
        /// Minutes of series kept per table and GSI.
        series_minutes: usize = 60;
        /// The length of a minute for the series and the auto scaler (`1s` runs a
        /// minute per second).
        autoscaling_minute: String = "60s".into();
        /// `x-amz-retry-after` on throttling answers (`0`: not sent, as DynamoDB).
        retry_after: String = "0".into();
    }
}

impl RawCapacity {
    /// Checks `throttling`.
    pub fn validate(&self) -> Result<Throttling, ConfigError> {
        let text = self.throttling();
        Throttling::parse(&text).ok_or_else(|| {
            ConfigError::setting(
                "capacity.throttling",
                format!("{text:?} must be \"off\", \"provisioned\" or \"all\""),
            )
        })
    }

    /// Checks the other settings of the engine.
    pub fn options(&self) -> Result<Options, ConfigError> {
        let minute = duration("capacity.autoscaling_minute", &self.autoscaling_minute())?;
        if minute.as_millis() == 0 {
            return Err(ConfigError::setting(
                "capacity.autoscaling_minute",
                "must be longer than 0",
            ));
        }
        let keep = self.series_minutes();
        if !(1..=10_080).contains(&keep) {
            return Err(ConfigError::setting(
                "capacity.series_minutes",
                format!("{keep} must be between 1 and 10080 (a week)"),
            ));
        }
        Ok(Options {
            series: self.series(),
            series_minutes: keep,
            minute_ms: minute.as_millis().min(i64::MAX as u128) as i64,
            partition_limits: self.partition_limits(),
            peak_rule: self.peak_rule(),
        })
    }

    /// `retry_after` in milliseconds (None: not sent).
    pub fn retry_after_ms(&self) -> Result<Option<u64>, ConfigError> {
        let d = duration("capacity.retry_after", &self.retry_after())?;
        Ok(match d.as_millis() {
            0 => None,
            ms => Some(ms.min(u64::MAX as u128) as u64),
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

    #[test]
    fn other_settings() {
        let d = RawCapacity::defaults();
        assert_eq!(d.options().ok(), Some(Options::default()));
        assert_eq!(d.retry_after_ms().ok(), Some(None));
        let raw: RawCapacity = toml::from_str(
            "retry_after = \"250ms\"\nautoscaling_minute = \"1s\"\npartition_limits = true",
        )
        .expect("toml");
        assert_eq!(raw.retry_after_ms().ok(), Some(Some(250)));
        let o = raw.options().expect("valid");
        assert_eq!(o.minute_ms, 1_000);
        assert!(o.partition_limits);
        let raw: RawCapacity = toml::from_str("autoscaling_minute = \"0\"").expect("toml");
        let e = raw.options().expect_err("zero");
        assert!(e.to_string().contains("capacity.autoscaling_minute"), "{e}");
        let raw: RawCapacity = toml::from_str("retry_after = \"soon\"").expect("toml");
        assert!(raw.retry_after_ms().is_err());
    }
}
