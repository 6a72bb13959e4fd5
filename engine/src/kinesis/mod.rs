//! Kinesis Data Streams destinations of a table (Enable/Disable/Describe/Update
//! KinesisStreamingDestination): each destination's state, kept in the table's catalog
//! entry (`TableDef::kinesis`), and the outbox (`outbox`) the write path fills with one
//! change record per item change while a destination is live. The engine does no
//! network I/O: the proxy's `kinesis` module reads the outbox, publishes with PutRecords
//! and acknowledges what Kinesis accepted (the outbox head is the saved position).
//!
//! Status lifecycle (proxy/docs/KINESIS.md): Enable → ENABLING → ACTIVE, Update → UPDATING →
//! ACTIVE, Disable → DISABLING → DISABLED, and ENABLE_FAILED (with a description) when
//! the publisher finds the stream missing. Transitional states settle after
//! `kinesis_transition_ms` (0: before the next request).

pub mod outbox;
pub mod record;

use serde::{Deserialize, Serialize};

use crate::catalog;
use crate::ctx::Ctx;
use crate::wire::ApiResult;

/// ApproximateCreationDateTimePrecision's values (the API default is MILLISECOND).
pub const PRECISIONS: &[&str] = &["MILLISECOND", "MICROSECOND"];

/// One Kinesis destination of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Destination {
    pub stream_arn: String,
    /// The stored status: ENABLING, ACTIVE, UPDATING, DISABLING, DISABLED or
    /// ENABLE_FAILED. What callers see is [`Destination::status`].
    pub state: String,
    /// When `state` was set.
    pub changed_ms: i64,
    /// ApproximateCreationDateTimePrecision as a caller set it (`None`: never set; the
    /// records use MILLISECOND and Describe shows no precision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    /// DestinationStatusDescription (why ENABLE_FAILED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Destination {
    /// The status a caller sees at `now_ms`: transitional states settle once
    /// `transition_ms` passed.
    pub fn status(&self, now_ms: i64, transition_ms: i64) -> &str {
        let settled = now_ms >= self.changed_ms.saturating_add(transition_ms);
        match self.state.as_str() {
            "ENABLING" | "UPDATING" if settled => "ACTIVE",
            "DISABLING" if settled => "DISABLED",
            s => s,
        }
    }

    /// Whether item changes are recorded for it (enabled and not failed or disabled).
    pub fn live(&self) -> bool {
        matches!(self.state.as_str(), "ENABLING" | "ACTIVE" | "UPDATING")
    }

    /// The precision records use.
    pub fn micros(&self) -> bool {
        self.precision.as_deref() == Some("MICROSECOND")
    }

    /// The stream's name: the text after `stream/` in its ARN.
    pub fn stream_name(&self) -> &str {
        stream_name(&self.stream_arn).unwrap_or_default()
    }
}

/// The stream name of `arn:<partition>:kinesis:<region>:<account>:stream/<name>`, if the
/// ARN has that shape.
pub fn stream_name(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (arn_word, _partition, service, _region, _account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = resource.strip_prefix("stream/")?;
    let valid = arn_word == "arn"
        && service == "kinesis"
        && !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    valid.then_some(name)
}

/// The region of a stream ARN (`None` when it is not one).
pub fn stream_region(arn: &str) -> Option<&str> {
    stream_name(arn)?;
    arn.split(':').nth(3)
}

/// A live destination, as the publisher needs it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Live {
    pub table: String,
    pub table_id: u64,
    /// The table's key attribute names (partition, then sort key).
    pub keys: Vec<String>,
    pub stream_arn: String,
}

/// Every live destination (at most one per table).
pub fn live(ctx: &Ctx) -> ApiResult<Vec<Live>> {
    let txn = ctx.store.read()?;
    let now = ctx.now_ms();
    Ok(catalog::list(&txn)?
        .into_iter()
        .filter(|def| !def.is_gone(now, ctx.config.delete_delay_ms))
        .filter_map(|def| {
            let d = def.kinesis.iter().find(|d| d.live())?;
            Some(Live {
                table: def.name.clone(),
                table_id: def.id,
                keys: def.keys.names().map(str::to_string).collect(),
                stream_arn: d.stream_arn.clone(),
            })
        })
        .collect())
}

/// Marks the live destination `stream_arn` of `table` ENABLE_FAILED with `reason`, and
/// empties the table's outbox.
pub async fn fail(ctx: &Ctx, table: &str, stream_arn: &str, reason: &str) -> ApiResult<()> {
    let (table, arn, reason) = (
        table.to_string(),
        stream_arn.to_string(),
        reason.to_string(),
    );
    let now = ctx.now_ms();
    ctx.store
        .write(move |txn| {
            let Some(mut def) = catalog::load_for_write(txn, &table)? else {
                return Ok(());
            };
            let Some(d) = def
                .kinesis
                .iter_mut()
                .find(|d| d.stream_arn == arn && d.live())
            else {
                return Ok(());
            };
            d.state = "ENABLE_FAILED".into();
            d.changed_ms = now;
            d.description = Some(reason);
            outbox::clear(txn, def.id)?;
            catalog::save(txn, &def)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(state: &str) -> Destination {
        Destination {
            stream_arn: "arn:aws:kinesis:us-east-1:000000000000:stream/s".into(),
            state: state.into(),
            changed_ms: 1000,
            precision: None,
            description: None,
        }
    }

    #[test]
    fn transitional_states_settle() {
        assert_eq!(dest("ENABLING").status(1000, 0), "ACTIVE");
        assert_eq!(dest("ENABLING").status(1000, 10), "ENABLING");
        assert_eq!(dest("UPDATING").status(1010, 10), "ACTIVE");
        assert_eq!(dest("DISABLING").status(1010, 10), "DISABLED");
        assert_eq!(dest("ENABLE_FAILED").status(9999, 0), "ENABLE_FAILED");
        assert!(dest("UPDATING").live());
        assert!(!dest("DISABLING").live());
    }

    #[test]
    fn stream_arns() {
        assert_eq!(
            stream_name("arn:aws:kinesis:us-east-1:000000000000:stream/ddb-changes"),
            Some("ddb-changes")
        );
        assert_eq!(
            stream_region("arn:aws:kinesis:eu-west-1:1:stream/x"),
            Some("eu-west-1")
        );
        assert_eq!(stream_name("arn:aws:sqs:us-east-1:0:stream/x"), None);
        assert_eq!(stream_name("arn:aws:kinesis:us-east-1:0:stream/"), None);
        assert_eq!(stream_name("arn:aws:kinesis:us-east-1:0:table/x"), None);
        assert_eq!(stream_name("nonsense"), None);
    }
}
