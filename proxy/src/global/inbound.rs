//! The calls between regions, on the DynamoDB front door under the daxlite-private
//! target prefix `DaxliteGlobal_20261201.` (a peer is any daxlite listed in
//! `[[global.peer]]`; with `[auth] verify` on they are signed like any request):
//!
//! - `ApplyChanges` `{"TableName", "Region", "Changes": [{"Keys", "NewImage" (absent or
//!   null: a deletion), "Clock"}]}` → `{"Applied": n, "Dropped": m}`: each change is
//!   applied through the engine's one write path if its version (`Clock`, `Region`)
//!   beats the stored one (last writer wins), else dropped silently.
//! - `SetGroup` `{"TableName", "Members": [every region of the group]}` → `{}`: this
//!   region joins the group (marks the table replicated, ships to the other members),
//!   changes its members, or leaves it (not among `Members`, or alone in it).
//! - `UpdateTimeToLive` (UpdateTimeToLive's own body) → its answer: a member's TTL
//!   change, applied to this region's table only (TTL is a group-wide setting).
//! - `UpdateTable` (UpdateTable's body less the regional members) → its answer: a
//!   member's change of the group-wide settings, applied to this region's table only,
//!   less what this region's replica overrides.
//! - `UpdateReplicaTable` (an UpdateTable body) → its answer: this region's replica
//!   getting its overrides (`overrides::requests`), applied as sent.
//! - `SetOverrides` `{"TableName", "Region", "Overrides" (null: none)}` → `{}`: a
//!   replica's overrides, kept for DescribeTable's `Replicas` (and, for this region's own,
//!   for `UpdateTable` above).

use std::sync::Arc;

use bytes::Bytes;
use daxlite_engine::model::{value, Item};
use daxlite_engine::replication::{Incoming, Version};
use daxlite_engine::wire::{ApiError, ErrorCode, Operation};
use serde_json::{json, Value};

use super::{reply_json, State, Status, TARGET_PREFIX};
use crate::metrics as m;
use crate::upstream::{Remote, Upstream};

async fn send(peer: &Remote, call: &str, body: Value) -> Result<Value, String> {
    call_peer(peer, call, body).await.map_err(|e| e.to_string())
}

/// One call to `peer`; its DynamoDB error as it answered it.
async fn call_peer(peer: &Remote, call: &str, body: Value) -> Result<Value, ApiError> {
    let reply = peer
        .call_unknown(
            format!("{TARGET_PREFIX}{call}"),
            Bytes::from(body.to_string()),
        )
        .await;
    reply_json(reply)
}

/// Has `peer` apply an UpdateTable (`body`) to its own replica as sent — its overrides
/// being set — answering its error as such (the caller's answer).
pub async fn apply_override(peer: &Remote, body: &Value) -> Result<(), ApiError> {
    call_peer(peer, "UpdateReplicaTable", body.clone())
        .await
        .map(|_| ())
}

/// Tells `peer` the overrides of `region`'s replica of `table` (None: it has none).
pub async fn send_overrides(
    peer: &Remote,
    table: &str,
    region: &str,
    value: &Option<Value>,
) -> Result<(), String> {
    send(
        peer,
        "SetOverrides",
        json!({"TableName": table, "Region": region, "Overrides": value}),
    )
    .await
    .map(|_| ())
}

/// Tells `peer` the group of `table` is `members`.
pub async fn send_group(peer: &Remote, table: &str, members: &[String]) -> Result<(), String> {
    send(
        peer,
        "SetGroup",
        json!({"TableName": table, "Members": members}),
    )
    .await
    .map(|_| ())
}

/// Sends the group-wide part of a member's UpdateTimeToLive or UpdateTable (`body`) to
/// `peer`, as the call of that name.
pub async fn send_setting(peer: &Remote, op: Operation, body: &Value) -> Result<(), String> {
    send(peer, op.name(), body.clone()).await.map(|_| ())
}

/// Ships `changes` of `table`, accepted in region `from`, to `peer`.
pub async fn send_changes(
    peer: &Remote,
    table: &str,
    from: &str,
    changes: Vec<Value>,
) -> Result<(), String> {
    send(
        peer,
        "ApplyChanges",
        json!({"TableName": table, "Region": from, "Changes": changes}),
    )
    .await
    .map(|_| ())
}

fn invalid(what: &str) -> ApiError {
    ApiError::validation(format!("invalid replication call: {what}"))
}

fn item_of(v: &Value) -> Result<Option<Item>, ApiError> {
    if v.is_null() {
        return Ok(None);
    }
    let mut deferred = value::Deferred::new();
    let item = value::decode_item(v, &mut deferred)?;
    match deferred.first {
        Some(e) => Err(e),
        None => Ok(Some(item)),
    }
}

impl State {
    /// Answers one call from a peer (`call`: the target after the prefix).
    pub(super) async fn inbound(
        self: &Arc<Self>,
        call: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        let v: Value = serde_json::from_slice(body).map_err(|_| {
            ApiError::new(
                ErrorCode::SerializationException,
                "Unexpected value type in payload",
            )
        })?;
        let table = v["TableName"]
            .as_str()
            .ok_or_else(|| invalid("TableName"))?
            .to_string();
        match call {
            "ApplyChanges" => self.apply_changes(&table, &v).await,
            // A member's TTL change or UpdateTable, group-wide settings only: applied
            // here only, never sent on (for UpdateTable the cache above forgets the
            // table: `cache::Cached::call_unknown`).
            "UpdateTimeToLive" | "UpdateTable" | "UpdateReplicaTable" => {
                let op = if call == "UpdateTimeToLive" {
                    Operation::UpdateTimeToLive
                } else {
                    Operation::UpdateTable
                };
                // A group-wide change keeps this region's own overrides; the change
                // that sets them (`UpdateReplicaTable`) is applied as sent.
                let mut sent = v.clone();
                if let (Some(own), Some(m), true) = (
                    self.overrides.get(&table, &self.own),
                    sent.as_object_mut(),
                    call == "UpdateTable",
                ) {
                    super::overrides::keep(&own, m);
                }
                let reply = self
                    .engine
                    .call(crate::upstream::Request {
                        op,
                        body: Bytes::from(sent.to_string()),
                    })
                    .await;
                reply_json(reply)
            }
            "SetOverrides" => {
                let region = v["Region"].as_str().ok_or_else(|| invalid("Region"))?;
                let value = Some(v["Overrides"].clone()).filter(|o| !o.is_null());
                self.set_overrides(&table, region, value).await;
                Ok(json!({}))
            }
            "SetGroup" => {
                let members: Vec<String> = v["Members"]
                    .as_array()
                    .ok_or_else(|| invalid("Members"))?
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect();
                self.set_group(&table, members).await?;
                Ok(json!({}))
            }
            _ => Err(ApiError::bare(ErrorCode::UnknownOperationException)),
        }
    }

    async fn apply_changes(&self, table: &str, v: &Value) -> Result<Value, ApiError> {
        let region = v["Region"].as_str().ok_or_else(|| invalid("Region"))?;
        if self.peer(region).is_none() {
            return Err(invalid("Region is not a peer"));
        }
        let mut changes = Vec::new();
        for c in v["Changes"].as_array().ok_or_else(|| invalid("Changes"))? {
            let clock = c["Clock"].as_u64().ok_or_else(|| invalid("Clock"))?;
            changes.push(Incoming {
                new: item_of(&c["NewImage"])?,
                keys: item_of(&c["Keys"])?.unwrap_or_default(),
                version: Version {
                    clock,
                    region: region.to_string(),
                },
            });
        }
        let won = self
            .engine
            .engine()
            .apply_replicated(table, changes)
            .await?;
        let applied = won.iter().filter(|w| **w).count() as u64;
        let dropped = won.len() as u64 - applied;
        metrics::counter!(m::GLOBAL_APPLIED, "outcome" => "applied").increment(applied);
        metrics::counter!(m::GLOBAL_APPLIED, "outcome" => "dropped").increment(dropped);
        Ok(json!({"Applied": applied, "Dropped": dropped}))
    }

    /// Joins, changes or leaves the group of `table` (`members`: all its regions).
    async fn set_group(
        self: &Arc<Self>,
        table: &str,
        members: Vec<String>,
    ) -> Result<(), ApiError> {
        let old = self.members(table);
        let others: Vec<String> = members
            .iter()
            .filter(|r| **r != self.own && self.peer(r).is_some())
            .cloned()
            .collect();
        // Not a member, or the only one left: the table is regional again.
        if !members.contains(&self.own) || others.is_empty() {
            self.groups
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(table);
            for (r, _) in &old {
                self.stop_shipper(table, r).await;
            }
            match self.engine.engine().set_replicated(table, false).await {
                Ok(_) => {}
                Err(e) if e.code() == ErrorCode::ResourceNotFoundException => {}
                Err(e) => return Err(e),
            }
            self.persist().await;
            return Ok(());
        }
        let since = self.engine.engine().set_replicated(table, true).await?;
        {
            let mut groups = self
                .groups
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let list = others
                .iter()
                .map(|r| {
                    let status = old
                        .iter()
                        .find(|(o, _)| o == r)
                        .map(|(_, s)| *s)
                        .unwrap_or(Status::Active);
                    (r.clone(), status)
                })
                .collect();
            groups.insert(table.to_string(), list);
        }
        for (r, _) in old.iter().filter(|(r, _)| !others.contains(r)) {
            self.stop_shipper(table, r).await;
        }
        self.persist().await;
        for r in &others {
            self.ensure_shipper(table, r, Some(since));
        }
        Ok(())
    }
}
