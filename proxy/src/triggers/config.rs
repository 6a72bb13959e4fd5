//! `[[trigger]]` settings: the raw TOML form and its validation.

use std::time::Duration;

use serde::Deserialize;

use crate::config::duration::parse_duration;

/// One `[[trigger]]` table as written in the config file.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrigger {
    pub table: Option<String>,
    pub url: Option<String>,
    pub name: Option<String>,
    pub batch_size: Option<usize>,
    pub max_retries: Option<u32>,
    pub backoff: Option<String>,
    pub max_backoff: Option<String>,
    pub poll_interval: Option<String>,
    pub timeout: Option<String>,
    pub starting_position: Option<String>,
}

/// Where a trigger without a saved position starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// Every record still in the stream.
    TrimHorizon,
    /// Only records written after the trigger started.
    Latest,
}

/// A validated trigger.
#[derive(Debug, Clone)]
pub struct TriggerConfig {
    /// Names the saved position (default `table→url`).
    pub name: String,
    pub table: String,
    pub url: http::Uri,
    /// Records per delivery, 1–1000 (GetRecords' limit).
    pub batch_size: usize,
    /// `None`: retry a failing batch until it succeeds (its records stay in order).
    pub max_retries: Option<u32>,
    pub backoff: Duration,
    pub max_backoff: Duration,
    pub poll_interval: Duration,
    pub timeout: Duration,
    pub starting_position: StartingPosition,
}

/// The most records one GetRecords returns.
pub const MAX_BATCH: usize = 1000;

fn duration(i: usize, name: &str, v: Option<&String>, default: &str) -> Result<Duration, String> {
    let text = v.map(String::as_str).unwrap_or(default);
    parse_duration(text).ok_or_else(|| {
        format!("trigger[{i}].{name}: {text:?} is not a duration (0, 250ms, 30s, 5m or 1h)")
    })
}

/// Checks every `[[trigger]]`.
pub fn validate(raw: &[RawTrigger]) -> Result<Vec<TriggerConfig>, String> {
    let mut out: Vec<TriggerConfig> = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let table = r
            .table
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("trigger[{i}].table: required"))?;
        let url_text = r
            .url
            .clone()
            .ok_or_else(|| format!("trigger[{i}].url: required"))?;
        let url: http::Uri = url_text
            .parse()
            .map_err(|_| format!("trigger[{i}].url: {url_text:?} is not a URL"))?;
        if !matches!(url.scheme_str(), Some("http") | Some("https")) || url.host().is_none() {
            return Err(format!(
                "trigger[{i}].url: {url_text:?} must be an http:// or https:// URL"
            ));
        }
        let batch_size = r.batch_size.unwrap_or(100);
        if batch_size == 0 || batch_size > MAX_BATCH {
            return Err(format!(
                "trigger[{i}].batch_size: {batch_size} must be between 1 and {MAX_BATCH}"
            ));
        }
        let backoff = duration(i, "backoff", r.backoff.as_ref(), "1s")?;
        let max_backoff = duration(i, "max_backoff", r.max_backoff.as_ref(), "1m")?;
        if backoff.is_zero() || max_backoff < backoff {
            return Err(format!(
                "trigger[{i}].backoff: must be above 0 and at most max_backoff"
            ));
        }
        let poll_interval = duration(i, "poll_interval", r.poll_interval.as_ref(), "250ms")?;
        if poll_interval.is_zero() {
            return Err(format!("trigger[{i}].poll_interval: must be above 0"));
        }
        let timeout = duration(i, "timeout", r.timeout.as_ref(), "30s")?;
        if timeout.is_zero() {
            return Err(format!("trigger[{i}].timeout: must be above 0"));
        }
        let starting_position = match r.starting_position.as_deref().unwrap_or("TRIM_HORIZON") {
            "TRIM_HORIZON" => StartingPosition::TrimHorizon,
            "LATEST" => StartingPosition::Latest,
            other => {
                return Err(format!(
                    "trigger[{i}].starting_position: {other:?} must be TRIM_HORIZON or LATEST"
                ))
            }
        };
        let name = r
            .name
            .clone()
            .unwrap_or_else(|| format!("{table}\u{2192}{url_text}"));
        if out.iter().any(|t| t.name == name) {
            return Err(format!(
                "trigger[{i}]: another trigger has the same name {name:?} (set `name`)"
            ));
        }
        out.push(TriggerConfig {
            name,
            table,
            url,
            batch_size,
            max_retries: r.max_retries,
            backoff,
            max_backoff,
            poll_interval,
            timeout,
            starting_position,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let ok = validate(&[RawTrigger {
            table: Some("orders".into()),
            url: Some("http://127.0.0.1:9000/".into()),
            ..RawTrigger::default()
        }]);
        let t = ok.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t[0].batch_size, 100);
        assert_eq!(t[0].max_retries, None);
        assert_eq!(t[0].starting_position, StartingPosition::TrimHorizon);
        let bad = |r: RawTrigger| validate(&[r]).err().unwrap_or_default();
        assert!(bad(RawTrigger::default()).contains("table: required"));
        assert!(bad(RawTrigger {
            table: Some("t".into()),
            url: Some("ftp://x/".into()),
            ..RawTrigger::default()
        })
        .contains("http://"));
        assert!(bad(RawTrigger {
            table: Some("t".into()),
            url: Some("http://x/".into()),
            batch_size: Some(5000),
            ..RawTrigger::default()
        })
        .contains("batch_size"));
    }
}
