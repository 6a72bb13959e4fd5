//! The operator's and the group's controls: the admin listener's pause / resume of
//! replication to a region ([`Control`]), TTL changes made group-wide, and the refusal
//! to disable the stream of a table in a group.

use std::sync::Arc;

use bytes::Bytes;
use daxlite_engine::wire::{ApiError, Operation};
use serde_json::{json, Value};

use super::{inbound, Global, State};
use crate::admin::Answer;

impl Global {
    /// The replication controls (the admin listener's pause / resume), when there are
    /// peers.
    pub fn control(&self) -> Option<Control> {
        self.state.as_ref().map(|s| Control(Arc::clone(s)))
    }
}

/// Pauses and resumes replication to a region (the admin listener's
/// `POST /global/pause` and `/global/resume`, `{"RegionName"}`).
#[derive(Clone)]
pub struct Control(Arc<State>);

impl Control {
    pub fn pause(&self, region: &str, paused: bool) -> Answer {
        self.0.pause(region, paused)
    }
}

/// The table a replicated request names, its `TableName` made the bare name (a table ARN
/// is this region's; the peers know the table by its name).
fn table_of(v: &mut serde_json::Map<String, Value>) -> Option<String> {
    let name = crate::auth::authorize::table_name(v.get("TableName")?.as_str()?).to_string();
    v.insert("TableName".into(), Value::String(name.clone()));
    Some(name)
}

impl State {
    /// A TTL change of a table in a group is made in every member too (TTL is one of
    /// the settings DynamoDB keeps group-wide).
    pub(super) fn replicate_ttl(self: &Arc<Self>, body: &Bytes) {
        self.replicate_setting(Operation::UpdateTimeToLive, body, |_| {});
    }

    /// An UpdateTable of a table in a group is made in every member too, less what
    /// stays regional (DynamoDB keeps DeletionProtectionEnabled per replica; tags, PITR,
    /// resource policies and Contributor Insights have operations of their own): GSI
    /// creation and deletion (each member backfills its own), billing mode, throughput,
    /// SSE, table class, warm and on-demand throughput.
    pub(super) fn replicate_table_update(self: &Arc<Self>, body: &Bytes) {
        self.replicate_setting(Operation::UpdateTable, body, |v| {
            v.remove("DeletionProtectionEnabled");
            // The stream cannot change in a group (refused before the change).
            v.remove("StreamSpecification");
        });
    }

    /// Sends a member's successful `op` (its body less what `regional` removes) to every
    /// other member of the table's group, which applies it to its engine only.
    fn replicate_setting(
        self: &Arc<Self>,
        op: Operation,
        body: &Bytes,
        regional: impl FnOnce(&mut serde_json::Map<String, Value>),
    ) {
        let Ok(Value::Object(mut v)) = serde_json::from_slice::<Value>(body) else {
            return;
        };
        let Some(table) = table_of(&mut v) else {
            return;
        };
        let members = self.members(&table);
        if members.is_empty() {
            return;
        }
        regional(&mut v);
        if v.keys().all(|k| k == "TableName") {
            return;
        }
        let body = Value::Object(v);
        let state = Arc::clone(self);
        tokio::spawn(async move {
            for (r, _) in members {
                if let Some(peer) = state.peer(&r) {
                    if let Err(e) = inbound::send_setting(peer, op, &body).await {
                        tracing::warn!(region = %r, %table, operation = op.name(), error = %e, "global tables: replicating a group-wide setting failed");
                    }
                }
            }
        });
    }

    /// The admin command: pause or resume shipping to `region`.
    pub(super) fn pause(&self, region: &str, paused: bool) -> Answer {
        if self.peer(region).is_none() {
            return Answer::bad(404, format!("{region:?} is not a peer region"));
        }
        self.paused.send_modify(|set| {
            if paused {
                set.insert(region.to_string());
            } else {
                set.remove(region);
            }
        });
        Answer::ok(json!({ "Region": region, "ReplicationPaused": paused }))
    }

    /// Disabling the stream of a table in a group is refused, as DynamoDB does.
    pub(super) fn check_stream_change(&self, body: &[u8]) -> Result<(), ApiError> {
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return Ok(());
        };
        let table = crate::auth::authorize::table_name(v["TableName"].as_str().unwrap_or_default());
        let off = v["StreamSpecification"]["StreamEnabled"].as_bool() == Some(false);
        if off && !self.members(table).is_empty() {
            return Err(ApiError::validation(
                "One or more parameter values were invalid: Disabling Stream is not allowed for a Global Table replica.",
            ));
        }
        Ok(())
    }
}
