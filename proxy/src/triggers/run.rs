//! One trigger's loop: find the table's stream (waiting until the table exists and has
//! one), resume from the saved position, read batches with GetShardIterator /
//! GetRecords through the embedded engine, deliver each, and save the position once the
//! receiver acknowledged it — so delivery is at least once and survives restarts. A
//! closed shard read to its end is followed by its child (shard lineage); a stream
//! replaced by a new one (disabled, then enabled again) is followed by the new one.

use std::time::Duration;

use bytes::Bytes;
use daxlite_engine::Engine;
use serde::{Deserialize, Serialize};

use super::config::{StartingPosition, TriggerConfig};
use super::deliver::{self, HttpClient};
use crate::stream_reader::{self as sr, From, ReadError};
use crate::upstream::Embedded;

/// How often a trigger looks for its table or stream while there is none.
const WAIT: Duration = Duration::from_millis(500);

/// The saved position: the last sequence number the receiver acknowledged in a shard
/// (`None`: nothing of that shard yet). Stored as JSON (`engine/FORMAT.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub stream_arn: String,
    pub shard_id: String,
    pub sequence_number: Option<String>,
    /// Start at LATEST (a new trigger with `starting_position = "LATEST"`; not saved).
    #[serde(skip)]
    pub latest: bool,
}

impl Cursor {
    fn from(&self) -> From {
        match (&self.sequence_number, self.latest) {
            (Some(seq), _) => From::After(seq.clone()),
            (None, true) => From::Latest,
            (None, false) => From::TrimHorizon,
        }
    }
}

struct Trigger {
    engine: Engine,
    up: Embedded,
    t: TriggerConfig,
    client: HttpClient,
    warned: bool,
}

/// Runs the trigger forever (the caller stops it by dropping the future).
pub async fn run(engine: Engine, t: TriggerConfig, client: HttpClient) {
    let mut trigger = Trigger {
        up: Embedded::new(engine.clone()),
        engine,
        t,
        client,
        warned: false,
    };
    loop {
        match trigger.locate().await {
            Some(cursor) => trigger.follow(cursor).await,
            None => tokio::time::sleep(WAIT).await,
        }
    }
}

impl Trigger {
    fn saved(&self) -> Option<Cursor> {
        let bytes = match self.engine.load_position(&self.t.name) {
            Ok(b) => b?,
            Err(e) => {
                tracing::warn!(trigger = %self.t.name, error = ?e, "trigger: cannot read its position");
                return None;
            }
        };
        serde_json::from_slice(&bytes).ok()
    }

    async fn save(&self, cursor: &Cursor) {
        let Ok(bytes) = serde_json::to_vec(cursor) else {
            return;
        };
        if let Err(e) = self.engine.save_position(&self.t.name, &bytes).await {
            tracing::warn!(trigger = %self.t.name, error = ?e, "trigger: cannot save its position");
        }
    }

    /// Where to read from: the saved position while its stream and shard still exist,
    /// else the table's current stream from the configured starting position.
    async fn locate(&mut self) -> Option<Cursor> {
        if let Some(saved) = self.saved() {
            if let Ok((shards, _)) = sr::shards(&self.up, &saved.stream_arn).await {
                if shards.iter().any(|s| s.id == saved.shard_id) {
                    return Some(saved);
                }
                tracing::warn!(trigger = %self.t.name, "trigger: its shard was trimmed; records were missed");
            }
        }
        let stream = match sr::table_stream(&self.up, &self.t.table).await {
            Ok(s) => s,
            Err(ReadError::NotFound) => {
                tracing::debug!(trigger = %self.t.name, "trigger: waiting for the table");
                return None;
            }
            Err(e) => {
                tracing::debug!(trigger = %self.t.name, error = %e, "trigger: DescribeTable");
                return None;
            }
        };
        let Some(arn) = stream.arn.filter(|_| stream.enabled) else {
            if !self.warned {
                tracing::warn!(trigger = %self.t.name, table = %self.t.table, "trigger: the table has no stream enabled; waiting for one");
                self.warned = true;
            }
            return None;
        };
        self.warned = false;
        let (shards, _) = sr::shards(&self.up, &arn).await.ok()?;
        let latest = self.t.starting_position == StartingPosition::Latest;
        let shard = if latest {
            shards.iter().find(|s| s.ending.is_none())
        } else {
            sr::root(&shards)
        }?;
        let cursor = Cursor {
            stream_arn: arn,
            shard_id: shard.id.clone(),
            sequence_number: None,
            latest,
        };
        if !latest {
            self.save(&cursor).await;
        }
        tracing::info!(trigger = %self.t.name, stream = %cursor.stream_arn, "trigger: following");
        Some(cursor)
    }

    /// Reads and delivers until the stream cannot be followed from `cursor` any more.
    async fn follow(&mut self, mut cursor: Cursor) {
        let poll = self.t.poll_interval;
        let mut iterator: Option<String> = None;
        loop {
            let it = match iterator.take() {
                Some(it) => it,
                None => match sr::iterator(
                    &self.up,
                    &cursor.stream_arn,
                    &cursor.shard_id,
                    &cursor.from(),
                )
                .await
                {
                    Ok(it) => it,
                    Err(ReadError::Trimmed) if cursor.sequence_number.is_some() => {
                        tracing::warn!(trigger = %self.t.name, "trigger: position past retention; records were missed");
                        cursor.sequence_number = None;
                        continue;
                    }
                    Err(ReadError::NotFound) | Err(ReadError::Trimmed) => return,
                    Err(e) => {
                        tracing::debug!(trigger = %self.t.name, error = %e, "trigger: GetShardIterator");
                        tokio::time::sleep(poll).await;
                        continue;
                    }
                },
            };
            let (records, next) = match sr::records(&self.up, &it, self.t.batch_size).await {
                Ok(r) => r,
                Err(ReadError::Expired) => continue,
                Err(ReadError::Trimmed) => {
                    cursor.sequence_number = None;
                    cursor.latest = false;
                    continue;
                }
                Err(ReadError::NotFound) => return,
                Err(e) => {
                    tracing::debug!(trigger = %self.t.name, error = %e, "trigger: GetRecords");
                    iterator = Some(it);
                    tokio::time::sleep(poll).await;
                    continue;
                }
            };
            if let Some(last) = records.last().and_then(sr::sequence_number) {
                let last = last.to_string();
                let body = deliver::event(&records, &cursor.stream_arn);
                let body = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
                if deliver::deliver(&self.client, &self.t, body).await {
                    metrics::counter!(deliver::DELIVERED_BATCHES, "trigger" => self.t.name.clone())
                        .increment(1);
                    metrics::counter!(deliver::DELIVERED_RECORDS, "trigger" => self.t.name.clone())
                        .increment(records.len() as u64);
                }
                cursor.sequence_number = Some(last);
                cursor.latest = false;
                self.save(&cursor).await;
            }
            match next {
                Some(n) => {
                    iterator = Some(n);
                    if records.is_empty() {
                        tokio::time::sleep(poll).await;
                    }
                }
                None => {
                    if !self.next_shard(&mut cursor).await {
                        tokio::time::sleep(poll).await;
                    }
                }
            }
        }
    }

    /// The shard is closed and read to its end: moves to its child, or to the table's
    /// new stream. Answers whether it moved.
    async fn next_shard(&mut self, cursor: &mut Cursor) -> bool {
        let Ok((shards, _)) = sr::shards(&self.up, &cursor.stream_arn).await else {
            return false;
        };
        let next = match sr::children(&shards, &cursor.shard_id).first() {
            Some(child) => Some((cursor.stream_arn.clone(), child.id.clone())),
            None => self.newer_stream(&cursor.stream_arn).await,
        };
        let Some((arn, shard)) = next else {
            return false;
        };
        *cursor = Cursor {
            stream_arn: arn,
            shard_id: shard,
            sequence_number: None,
            latest: false,
        };
        self.save(cursor).await;
        true
    }

    /// The table's current stream and its first shard, when it is not `arn`.
    async fn newer_stream(&self, arn: &str) -> Option<(String, String)> {
        let stream = sr::table_stream(&self.up, &self.t.table).await.ok()?;
        let latest = stream.arn.filter(|a| a != arn && stream.enabled)?;
        let (shards, _) = sr::shards(&self.up, &latest).await.ok()?;
        let root = sr::root(&shards)?.id.clone();
        tracing::info!(trigger = %self.t.name, stream = %latest, "trigger: following the table's new stream");
        Some((latest, root))
    }
}
