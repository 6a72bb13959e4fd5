//! UpdateTable `ReplicaUpdates` (Create / Delete a replica in a peer region) and the
//! `Replicas` / `GlobalTableVersion` keys of DescribeTable.
//!
//! Create: the table's stream is turned on (NEW_AND_OLD_IMAGES) and the table marked
//! replicated; the peer makes the table with its own CreateTable; every member is told
//! the new membership (each then ships to the new replica); this region starts shipping
//! to it, then backfills it with every existing item (version clock 0, so any later
//! change wins). Delete: the other members and the leaving replica are told the smaller
//! membership, then the peer's table is deleted.

use std::sync::Arc;

use daxlite_engine::wire::{ApiError, ErrorCode, Operation};
use serde_json::{json, Map, Value};

use super::validate::{self, Action};
use super::{call_json, inbound, internal, overrides, peer, State, Status};

impl State {
    /// Adds `GlobalTableVersion` and `Replicas` to a TableDescription in a group.
    pub(super) fn annotate(&self, table: &mut Value) {
        let Some(name) = table.get("TableName").and_then(Value::as_str) else {
            return;
        };
        let members = self.members(name);
        if members.is_empty() {
            return;
        }
        let replicas: Vec<Value> = members
            .iter()
            .map(|(r, s)| {
                let mut replica = json!({
                    "RegionName": r,
                    "ReplicaStatus": s.label(),
                    "GlobalTableSettingsReplicationMode": "ENABLED_WITH_OVERRIDES",
                });
                if let (Some(o), Some(m)) = (self.overrides.get(name, r), replica.as_object_mut()) {
                    overrides::describe(&o, m);
                }
                replica
            })
            .collect();
        if let Some(t) = table.as_object_mut() {
            t.insert("GlobalTableVersion".into(), "2019.11.21".into());
            t.insert("Replicas".into(), Value::Array(replicas));
            t.insert(
                "GlobalTableSettingsReplicationMode".into(),
                "ENABLED_WITH_OVERRIDES".into(),
            );
        }
    }

    /// Every region of `table`'s group, this one included.
    fn all_regions(&self, table: &str) -> Vec<String> {
        let mut all: Vec<String> = self.members(table).into_iter().map(|(r, _)| r).collect();
        all.push(self.own.clone());
        all.sort();
        all
    }

    /// UpdateTable with `ReplicaUpdates`.
    pub(super) async fn update(self: &Arc<Self>, body: &[u8]) -> Result<Value, ApiError> {
        let body: Map<String, Value> = serde_json::from_slice(body).map_err(|_| {
            ApiError::new(
                ErrorCode::SerializationException,
                "Unexpected value type in payload",
            )
        })?;
        let name = body
            .get("TableName")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ApiError::validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
            })?;
        // A table ARN names the table (the engine checks it is this region's).
        let name = crate::auth::authorize::table_name(name).to_string();
        let described = call_json(
            &self.engine,
            Operation::DescribeTable,
            json!({"TableName": name}),
        )
        .await?;
        let members: Vec<(String, bool)> = self
            .members(&name)
            .into_iter()
            .map(|(r, s)| (r, matches!(s, Status::Active | Status::CreationFailed)))
            .collect();
        let peers: Vec<String> = self.peers.iter().map(|(r, _)| r.clone()).collect();
        let group = validate::Group {
            table: &name,
            own: &self.own,
            peers: &peers,
            members: &members,
        };
        // MRSC first (not built: refused as DynamoDB refuses it), then the plain checks.
        let body = super::strong::check(&body, &group)?;
        let action = validate::check(&body, &group)?;
        match action {
            Action::Create(region) => {
                // A new replica starts from the table's settings: no overrides.
                self.share_overrides(&name, &region, None).await;
                self.create(&name, &region, &described).await?
            }
            Action::Delete(region) => self.delete(&name, &region).await?,
            Action::Update(region, update) => {
                self.update_replica(&name, &region, &update, &described["Table"])
                    .await?
            }
        }
        let mut now = call_json(
            &self.engine,
            Operation::DescribeTable,
            json!({"TableName": name}),
        )
        .await?;
        let mut table = now["Table"].take();
        self.annotate(&mut table);
        if let Some(t) = table.as_object_mut() {
            t.insert("TableStatus".into(), "UPDATING".into());
        }
        Ok(json!({ "TableDescription": table }))
    }

    /// A replica's overrides: checked against the table, applied by the replica's region
    /// to its table (its refusal is the caller's answer), then kept by every member.
    async fn update_replica(
        self: &Arc<Self>,
        name: &str,
        region: &str,
        update: &Value,
        table: &Value,
    ) -> Result<(), ApiError> {
        let old = self.overrides.get(name, region);
        let merged = overrides::merge(update, table, old.as_ref())?;
        let peer = self.peer(region).ok_or_else(internal)?.clone();
        for req in overrides::requests(name, &merged, table) {
            inbound::apply_override(&peer, &req).await?;
        }
        self.share_overrides(name, region, Some(merged)).await;
        Ok(())
    }

    /// Keeps `region`'s overrides of `name` here and tells every member.
    async fn share_overrides(&self, name: &str, region: &str, value: Option<Value>) {
        if value.is_none() && self.overrides.get(name, region).is_none() {
            return;
        }
        self.set_overrides(name, region, value.clone()).await;
        for (r, _) in self.members(name) {
            if let Some(peer) = self.peer(&r) {
                if let Err(e) = inbound::send_overrides(peer, name, region, &value).await {
                    tracing::warn!(region = %r, table = %name, error = %e, "global tables: sharing replica overrides failed");
                }
            }
        }
    }

    async fn create(
        self: &Arc<Self>,
        name: &str,
        region: &str,
        described: &Value,
    ) -> Result<(), ApiError> {
        let peer = self.peer(region).ok_or_else(internal)?.clone();
        // A table of that name in the peer already: DynamoDB's "already existed".
        match call_json(&peer, Operation::DescribeTable, json!({"TableName": name})).await {
            Ok(_) => {
                return Err(ApiError::validation(format!(
                    "Failed to create a the new replica of table with name: '{name}' because one or more replicas already existed as tables."
                )))
            }
            Err(e) if e.code() == ErrorCode::ResourceNotFoundException => {}
            Err(_) => return Err(internal()),
        }
        let stream = &described["Table"]["StreamSpecification"];
        let enabled = stream["StreamEnabled"].as_bool() == Some(true);
        if !enabled {
            call_json(
                &self.engine,
                Operation::UpdateTable,
                json!({"TableName": name, "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"}}),
            )
            .await?;
        } else if stream["StreamViewType"].as_str() != Some("NEW_AND_OLD_IMAGES") {
            return Err(ApiError::validation(
                "One or more parameter values were invalid: the table's stream must have StreamViewType NEW_AND_OLD_IMAGES to add a replica",
            ));
        }
        // From here on every local change is stamped; those after `since` are shipped.
        let since = self.engine.engine().set_replicated(name, true).await?;
        self.set(name, region, Some(Status::Creating));
        self.persist().await;
        let state = Arc::clone(self);
        let table = described["Table"].clone();
        let (name, region) = (name.to_string(), region.to_string());
        tokio::spawn(async move {
            let status = match state.build_replica(&peer, &table, &region, since).await {
                Ok(()) => Status::Active,
                Err(e) => {
                    tracing::warn!(%region, error = %e, "replica creation failed");
                    Status::CreationFailed
                }
            };
            state.set(&name, &region, Some(status));
        });
        Ok(())
    }

    /// The replica's table, the membership told to every member, shipping, backfill.
    async fn build_replica(
        self: &Arc<Self>,
        peer: &crate::upstream::Remote,
        table: &Value,
        region: &str,
        since: u64,
    ) -> Result<(), String> {
        let name = table["TableName"].as_str().unwrap_or_default().to_string();
        peer::create_table(peer, table).await?;
        let all = self.all_regions(&name);
        for r in all.iter().filter(|r| **r != self.own) {
            if let Some(p) = self.peer(r) {
                inbound::send_group(p, &name, &all)
                    .await
                    .map_err(|e| format!("telling {r} the group: {e}"))?;
            }
        }
        self.ensure_shipper(&name, region, Some(since));
        peer::backfill(&self.engine, peer, &name, &self.own).await
    }

    async fn delete(self: &Arc<Self>, name: &str, region: &str) -> Result<(), ApiError> {
        let peer = self.peer(region).ok_or_else(internal)?.clone();
        self.set(name, region, Some(Status::Deleting));
        let state = Arc::clone(self);
        let (table, region) = (name.to_string(), region.to_string());
        tokio::spawn(async move {
            let rest: Vec<String> = state
                .all_regions(&table)
                .into_iter()
                .filter(|r| *r != region)
                .collect();
            for r in rest.iter().chain(std::iter::once(&region)) {
                if *r == state.own {
                    continue;
                }
                if let Some(p) = state.peer(r) {
                    if let Err(e) = inbound::send_group(p, &table, &rest).await {
                        tracing::warn!(region = %r, error = %e, "global tables: telling a member failed");
                    }
                }
            }
            state.stop_shipper(&table, &region).await;
            match call_json(&peer, Operation::DeleteTable, json!({"TableName": table})).await {
                Ok(_) => state.set(&table, &region, None),
                Err(e) if e.code() == ErrorCode::ResourceNotFoundException => {
                    state.set(&table, &region, None)
                }
                Err(e) => {
                    tracing::warn!(%region, error = %e, "replica deletion failed");
                    state.set(&table, &region, None);
                }
            }
            if state.members(&table).is_empty() {
                let _ = state.engine.engine().set_replicated(&table, false).await;
            }
            state.persist().await;
        });
        Ok(())
    }
}
