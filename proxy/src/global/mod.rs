//! Global tables, version 2019.11.21, across daxlite processes (docs/GLOBAL.md): each
//! region is one daxlite process with its own data; `[[global.peer]]` names the others.
//! [`Global`] wraps the embedded engine: UpdateTable with `ReplicaUpdates` adds or
//! removes a replica in a peer (`replicas`), DescribeTable shows `Replicas` and
//! `GlobalTableVersion`, and every member region ships its table's committed changes to
//! the others (`ship`), which apply them with last-writer-wins (`inbound`,
//! `daxlite_engine::replication`). Without peers every call goes straight to the engine.
//!
//! The membership (which regions replicate which table) is kept by every member and
//! saved in the data file (consumer position `global.groups`), so a restart resumes
//! replicating; each shipper saves its own position.

mod control;
mod inbound;
mod overrides;
mod peer;
mod replicas;
mod ship;
mod strong;
pub mod validate;

pub use control::Control;
pub use daxlite_engine::replication::merge;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use daxlite_engine::wire::{ApiError, ErrorCode, Operation};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin::{Administer, Answer, Command};
use crate::config::Peer;
use crate::upstream::{Embedded, Remote, RemoteConfig, Reply, Request, Upstream};

/// The daxlite-private target prefix of the calls between regions (`inbound`).
pub const TARGET_PREFIX: &str = "DaxliteGlobal_20261201.";

/// The consumer position holding the membership of every group.
const GROUPS: &str = "global.groups";

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

/// The replica groups this region takes part in, its peers and its shippers.
pub struct State {
    own: String,
    peers: Vec<(String, Remote)>,
    /// Table name → the other regions of its group.
    groups: Mutex<HashMap<String, Vec<(String, Status)>>>,
    engine: Embedded,
    /// `[global] replication_delay_ms`.
    delay: Duration,
    /// Regions replication to which is paused (the admin command).
    paused: watch::Sender<HashSet<String>>,
    /// (table, region) → the task shipping that table's changes to that region.
    shippers: Mutex<HashMap<(String, String), JoinHandle<()>>>,
    /// Serialises saving the membership, so the last change is the one saved.
    saving: tokio::sync::Mutex<()>,
    /// Every replica's overrides (`overrides`), saved beside the membership.
    overrides: overrides::Overrides,
}

/// The embedded engine with global tables in front (`state` None: no peers, nothing added).
pub struct Global {
    inner: Embedded,
    state: Option<Arc<State>>,
}

impl Global {
    /// `peers` empty: a plain pass-through. Otherwise the saved groups are loaded and
    /// their shippers started.
    pub async fn new(
        inner: Embedded,
        own: &str,
        peers: &[Peer],
        delay: Duration,
    ) -> Result<Global, String> {
        if peers.is_empty() {
            return Ok(Global { inner, state: None });
        }
        let mut remotes = Vec::new();
        for p in peers {
            let config = RemoteConfig::new(p.url.clone(), p.region.clone());
            let remote = match &p.credentials {
                // The peer's own key for this region (its `[auth] credentials`).
                Some((key, secret)) => Remote::with_static_credentials(
                    config,
                    aws_credential_types::Credentials::new(
                        key,
                        secret,
                        None,
                        None,
                        "daxlite-global-peer",
                    ),
                ),
                None => Remote::connect(config).await,
            }
            .map_err(|e| format!("global.peer {}: {e}", p.region))?;
            remotes.push((p.region.clone(), remote));
        }
        let saved = inner
            .engine()
            .load_position(GROUPS)
            .map_err(|e| format!("loading the global table groups: {e}"))?;
        let groups: BTreeMap<String, Vec<String>> = saved
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let saved_overrides = inner
            .engine()
            .load_position(overrides::POSITION)
            .map_err(|e| format!("loading the replica overrides: {e}"))?;
        let state = Arc::new(State {
            own: own.to_string(),
            peers: remotes,
            groups: Mutex::new(
                groups
                    .iter()
                    .map(|(t, rs)| {
                        let list = rs.iter().map(|r| (r.clone(), Status::Active)).collect();
                        (t.clone(), list)
                    })
                    .collect(),
            ),
            engine: inner.clone(),
            delay,
            paused: watch::channel(HashSet::new()).0,
            shippers: Mutex::new(HashMap::new()),
            saving: tokio::sync::Mutex::new(()),
            overrides: overrides::Overrides::load(saved_overrides.as_deref()),
        });
        for (table, regions) in groups {
            for region in regions {
                state.ensure_shipper(&table, &region, None);
            }
        }
        Ok(Global {
            inner,
            state: Some(state),
        })
    }
}

impl Administer for Global {
    async fn admin(&self, cmd: Command) -> Option<Answer> {
        match cmd {
            Command::Replication { region, paused } => {
                self.control().map(|c| c.pause(&region, paused))
            }
            _ => None,
        }
    }
}

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
            Operation::UpdateTable => {
                if let Err(e) = state.check_stream_change(&req.body) {
                    return Reply::error(&e);
                }
                let body = req.body.clone();
                let reply = self.inner.call(req).await;
                if reply.is_success() {
                    state.replicate_table_update(&body);
                }
                reply
            }
            Operation::UpdateTimeToLive => {
                let body = req.body.clone();
                let reply = self.inner.call(req).await;
                if reply.is_success() {
                    state.replicate_ttl(&body);
                }
                reply
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
                // This region's table is gone: so is its membership; the other regions'
                // replicas stay, as in DynamoDB, and are told this region left.
                if reply.is_success() {
                    if let Ok(v) = serde_json::from_slice::<Value>(&reply.body) {
                        if let Some(name) = v["TableDescription"]["TableName"].as_str() {
                            state.left(name).await;
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

    fn capacity_series(&self) -> Option<serde_json::Value> {
        self.inner.capacity_series()
    }

    fn forwards_unknown(&self) -> bool {
        self.state.is_some()
    }

    async fn call_unknown(&self, target: String, body: Bytes) -> Reply {
        match (&self.state, target.strip_prefix(TARGET_PREFIX)) {
            (Some(state), Some(call)) => match state.inbound(call, &body).await {
                Ok(v) => Reply::ok(v.to_string()),
                Err(e) => Reply::error(&e),
            },
            _ => Reply::error(&ApiError::bare(ErrorCode::UnknownOperationException)),
        }
    }

    fn close(&self) {
        if let Some(state) = &self.state {
            let mut shippers = state
                .shippers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for (_, task) in shippers.drain() {
                task.abort();
            }
        }
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

    /// Saves every group's member regions in the data file.
    async fn persist(&self) {
        let _one = self.saving.lock().await;
        let snapshot: BTreeMap<String, Vec<String>> = self
            .groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(t, l)| (t.clone(), l.iter().map(|(r, _)| r.clone()).collect()))
            .collect();
        let bytes = serde_json::to_vec(&snapshot).unwrap_or_default();
        if let Err(e) = self.engine.engine().save_position(GROUPS, &bytes).await {
            tracing::error!(error = %e, "global tables: saving the groups failed");
        }
    }

    /// Sets (or forgets) `region`'s overrides of `table` here and saves them.
    async fn set_overrides(&self, table: &str, region: &str, value: Option<Value>) {
        let _one = self.saving.lock().await;
        self.overrides.set(table, region, value);
        let bytes = self.overrides.to_bytes();
        if let Err(e) = self
            .engine
            .engine()
            .save_position(overrides::POSITION, &bytes)
            .await
        {
            tracing::error!(error = %e, "global tables: saving the replica overrides failed");
        }
    }

    /// Starts shipping `table` to `region` unless a shipper runs already (`since`: the
    /// clock after which changes are shipped, for a shipper with no saved position).
    fn ensure_shipper(self: &Arc<Self>, table: &str, region: &str, since: Option<u64>) {
        let mut shippers = self.shippers.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (table.to_string(), region.to_string());
        if shippers.get(&key).is_some_and(|t| !t.is_finished()) {
            return;
        }
        let Some(peer) = self.peer(region).cloned() else {
            return;
        };
        let task = tokio::spawn(ship::run(
            Arc::clone(self),
            peer,
            key.0.clone(),
            key.1.clone(),
            since,
        ));
        shippers.insert(key, task);
    }

    /// Stops shipping `table` to `region` and forgets the position.
    async fn stop_shipper(&self, table: &str, region: &str) {
        let task = self
            .shippers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(table.to_string(), region.to_string()));
        if let Some(t) = task {
            t.abort();
        }
        ship::forget(&self.engine, table, region).await;
    }

    /// This region's table is gone: leaves its group and tells the other members.
    async fn left(self: &Arc<Self>, table: &str) {
        let members = self.members(table);
        if members.is_empty() {
            return;
        }
        self.groups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(table);
        for (r, _) in &members {
            self.stop_shipper(table, r).await;
        }
        self.persist().await;
        let rest: Vec<String> = members.iter().map(|(r, _)| r.clone()).collect();
        for r in &rest {
            if let Some(peer) = self.peer(r) {
                if let Err(e) = inbound::send_group(peer, table, &rest).await {
                    tracing::warn!(region = %r, error = %e, "global tables: telling a member failed");
                }
            }
        }
    }
}
