//! Global tables, version 2019.11.21, across daxlite processes (docs/GLOBAL.md): each
//! region is one daxlite process with its own data; `[[global.peer]]` names the others.
//! [`Global`] wraps the embedded engine: UpdateTable with `ReplicaUpdates` adds or
//! removes a replica in a peer (the peer's table is made by its own CreateTable and
//! backfilled through its own PutItem), and DescribeTable shows `Replicas` and
//! `GlobalTableVersion`. Without peers every call goes straight to the engine.
//!
//! Built so far: membership on the region that issued the Create (in memory), the
//! replica's creation and backfill, its deletion. Not yet: continuous replication of
//! later writes, the membership seen from the replica's side, persistence of the group.

pub mod merge;
mod peer;
pub mod validate;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use daxlite_engine::wire::{ApiError, ErrorCode, Operation};
use serde_json::{json, Map, Value};

use crate::admin::Administer;
use crate::config::Peer;
use crate::upstream::{Embedded, Remote, RemoteConfig, Reply, Request, Upstream};
use validate::Action;

/// Where one replica stands, as ReplicaStatus reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Creating,
    CreationFailed,
    Active,
    Deleting,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Creating => "CREATING",
            Status::CreationFailed => "CREATION_FAILED",
            Status::Active => "ACTIVE",
            Status::Deleting => "DELETING",
        }
    }
}

/// The replica groups this region takes part in, and its peers.
pub struct State {
    own: String,
    peers: Vec<(String, Remote)>,
    /// Table name → the other regions of its group.
    groups: Mutex<HashMap<String, Vec<(String, Status)>>>,
    engine: Embedded,
}

/// The embedded engine with global tables in front (`state` None: no peers, nothing added).
pub struct Global {
    inner: Embedded,
    state: Option<Arc<State>>,
}

impl Global {
    /// `peers` empty: a plain pass-through.
    pub async fn new(inner: Embedded, own: &str, peers: &[Peer]) -> Result<Global, String> {
        if peers.is_empty() {
            return Ok(Global { inner, state: None });
        }
        let mut remotes = Vec::new();
        for p in peers {
            let remote = Remote::connect(RemoteConfig::new(p.url.clone(), p.region.clone()))
                .await
                .map_err(|e| format!("global.peer {}: {e}", p.region))?;
            remotes.push((p.region.clone(), remote));
        }
        let state = State {
            own: own.to_string(),
            peers: remotes,
            groups: Mutex::new(HashMap::new()),
            engine: inner.clone(),
        };
        Ok(Global {
            inner,
            state: Some(Arc::new(state)),
        })
    }
}

impl Administer for Global {}

impl Upstream for Global {
    async fn call(&self, req: Request) -> Reply {
        let Some(state) = &self.state else {
            return self.inner.call(req).await;
        };
        match req.op {
            Operation::UpdateTable if mentions(&req.body, b"\"ReplicaUpdates\"") => {
                match state.update(&req.body).await {
                    Ok(v) => Reply::ok(v.to_string()),
                    Err(e) => Reply::error(&e),
                }
            }
            Operation::DescribeTable => {
                let reply = self.inner.call(req).await;
                if !reply.is_success() {
                    return reply;
                }
                match serde_json::from_slice::<Value>(&reply.body) {
                    Ok(mut v) => {
                        state.annotate(&mut v["Table"]);
                        Reply::ok(v.to_string())
                    }
                    Err(_) => reply,
                }
            }
            Operation::DeleteTable => {
                let reply = self.inner.call(req).await;
                // This region's table is gone: so is its membership (the other regions'
                // replicas stay, as in DynamoDB).
                if reply.is_success() {
                    if let Ok(v) = serde_json::from_slice::<Value>(&reply.body) {
                        if let Some(name) = v["TableDescription"]["TableName"].as_str() {
                            state
                                .groups
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .remove(name);
                        }
                    }
                }
                reply
            }
            _ => self.inner.call(req).await,
        }
    }

    fn supports(&self, op: Operation) -> bool {
        self.inner.supports(op)
    }

    fn close(&self) {
        self.inner.close();
    }
}

/// Whether `needle` occurs in `body` (a cheap pre-check before parsing).
fn mentions(body: &[u8], needle: &[u8]) -> bool {
    body.windows(needle.len()).any(|w| w == needle)
}

fn internal() -> ApiError {
    ApiError::new(ErrorCode::InternalServerError, "Internal server error")
}

/// An engine call's JSON answer, or its error.
pub(crate) async fn call_json(
    u: &impl Upstream,
    op: Operation,
    body: Value,
) -> Result<Value, ApiError> {
    let reply = u
        .call(Request {
            op,
            body: Bytes::from(body.to_string()),
        })
        .await;
    reply_json(reply)
}

pub(crate) fn reply_json(reply: Reply) -> Result<Value, ApiError> {
    let v: Value = serde_json::from_slice(&reply.body).map_err(|_| internal())?;
    if reply.is_success() {
        return Ok(v);
    }
    let code = v
        .get("__type")
        .and_then(Value::as_str)
        .and_then(|t| t.rsplit('#').next())
        .and_then(|t| {
            [
                ErrorCode::ValidationException,
                ErrorCode::ResourceNotFoundException,
                ErrorCode::ResourceInUseException,
                ErrorCode::LimitExceededException,
            ]
            .into_iter()
            .find(|c| c.name() == t)
        });
    let message = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    Err(match code {
        Some(code) => ApiError::new(code, message),
        None => internal(),
    })
}

impl State {
    fn members(&self, table: &str) -> Vec<(String, Status)> {
        self.groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(table)
            .cloned()
            .unwrap_or_default()
    }

    fn set(&self, table: &str, region: &str, status: Option<Status>) {
        let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner);
        let list = groups.entry(table.to_string()).or_default();
        list.retain(|(r, _)| r != region);
        if let Some(s) = status {
            list.push((region.to_string(), s));
        }
        if list.is_empty() {
            groups.remove(table);
        }
    }

    fn peer(&self, region: &str) -> Option<&Remote> {
        self.peers.iter().find(|(r, _)| r == region).map(|(_, p)| p)
    }

    /// Adds `GlobalTableVersion` and `Replicas` to a TableDescription in a group.
    fn annotate(&self, table: &mut Value) {
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
                json!({
                    "RegionName": r,
                    "ReplicaStatus": s.label(),
                    "GlobalTableSettingsReplicationMode": "ENABLED_WITH_OVERRIDES",
                })
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

    /// UpdateTable with `ReplicaUpdates`.
    async fn update(self: &Arc<Self>, body: &[u8]) -> Result<Value, ApiError> {
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
            })?
            .to_string();
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
        let action = validate::check(
            &body,
            &validate::Group {
                table: &name,
                own: &self.own,
                peers: &peers,
                members: &members,
            },
        )?;
        match action {
            Action::Create(region) => {
                let peer = self.peer(&region).ok_or_else(internal)?.clone();
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
                self.set(&name, &region, Some(Status::Creating));
                let state = Arc::clone(self);
                let table = described["Table"].clone();
                tokio::spawn(async move {
                    let status = match peer::create_replica(&state.engine, &peer, &table).await {
                        Ok(()) => Status::Active,
                        Err(e) => {
                            tracing::warn!(%region, error = %e, "replica creation failed");
                            Status::CreationFailed
                        }
                    };
                    if let Some(n) = table["TableName"].as_str() {
                        state.set(n, &region, Some(status));
                    }
                });
            }
            Action::Delete(region) => {
                let peer = self.peer(&region).ok_or_else(internal)?.clone();
                self.set(&name, &region, Some(Status::Deleting));
                let state = Arc::clone(self);
                let table = name.clone();
                tokio::spawn(async move {
                    match call_json(&peer, Operation::DeleteTable, json!({"TableName": table}))
                        .await
                    {
                        Ok(_) => state.set(&table, &region, None),
                        Err(e) if e.code() == ErrorCode::ResourceNotFoundException => {
                            state.set(&table, &region, None)
                        }
                        Err(e) => {
                            tracing::warn!(%region, error = %e, "replica deletion failed");
                            state.set(&table, &region, Some(Status::Active));
                        }
                    }
                });
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
}
