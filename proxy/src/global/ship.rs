//! One shipper per (table, peer region): follows the table's stream through the
//! engine's typed view (`Engine::replication_changes`, which carries each change's
//! version), sends every change made in this region to the peer (`ApplyChanges`), and
//! saves its position (`global.ship.<region>.<table>`, in the data file) once the peer
//! acknowledged — so delivery is at least once (harmless: applying a version twice is a
//! no-op) and a peer that was down, paused or restarted catches up from there.
//!
//! The shipper wakes on the engine's change feed (a commit of any table), so a change
//! leaves as soon as it is committed; what committed meanwhile goes in the next batch.
//! Saving the position is kept off that path: an acknowledged position is saved at most
//! every `SAVE_EVERY`, concurrently with the next batch's call, or when the shipper goes
//! idle (a restart re-ships at most that window: harmless, see above).
//!
//! Changes that came from another region are skipped (no re-replication), and so are
//! changes stamped at or before `since` (made before the peer joined; the backfill copied
//! their result). `[global] replication_delay_ms` holds each change back until that long
//! after its commit; the admin pause stops shipping to a region until resumed.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use daxlite_engine::replication::Change;
use daxlite_engine::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::broadcast;

use super::{inbound, State};
use crate::metrics as m;
use crate::upstream::{Embedded, Remote};

/// How many changes one ApplyChanges call carries at most.
const BATCH: usize = 200;
/// How long an idle shipper waits for the change feed before looking again.
const IDLE: Duration = Duration::from_millis(250);
/// How often an acknowledged position is saved at most while changes keep coming.
const SAVE_EVERY: Duration = Duration::from_millis(200);
/// The longest wait between retries to an unreachable peer.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A shipper's saved position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    /// Changes stamped at or before this clock are not shipped.
    since: u64,
    /// The stream followed (a new label: the stream was replaced).
    label: Option<String>,
    /// The last sequence number handled.
    seq: u64,
}

fn name(table: &str, region: &str) -> String {
    format!("global.ship.{region}.{table}")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn save_some(engine: &Engine, key: &str, pos: Option<Position>) {
    if let Some(p) = pos {
        save(engine, key, &p).await;
    }
}

async fn save(engine: &Engine, key: &str, pos: &Position) {
    let bytes = serde_json::to_vec(pos).unwrap_or_default();
    if let Err(e) = engine.save_position(key, &bytes).await {
        tracing::warn!(error = %e, "global tables: saving a shipper position failed");
    }
}

/// Forgets the saved position of the shipper of `table` to `region`.
pub async fn forget(engine: &Embedded, table: &str, region: &str) {
    if let Err(e) = engine
        .engine()
        .save_position(&name(table, region), b"")
        .await
    {
        tracing::warn!(error = %e, "global tables: forgetting a shipper position failed");
    }
}

/// Takes whatever the change feed holds, without waiting.
fn drain(feed: &mut broadcast::Receiver<daxlite_engine::changes::Changes>) {
    loop {
        match feed.try_recv() {
            Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
            Err(_) => return,
        }
    }
}

fn shipped(c: &Change) -> Value {
    json!({"Keys": c.keys, "NewImage": c.new, "Clock": c.clock})
}

/// Re-seeds `region` after its position fell behind what the stream kept: ships every
/// item and deletion this region made last (stamped after `since`), page by page, and
/// answers the stream's head as it was before the first page was read (None when the
/// table or the peer failed: retried later).
async fn reseed(
    state: &State,
    peer: &Remote,
    engine: &Engine,
    table: &str,
    region: &str,
    since: u64,
) -> Option<(String, u64)> {
    tracing::warn!(%table, %region, "global tables: changes were trimmed before they were shipped; re-seeding the replica from the table's current state");
    let started = std::time::Instant::now();
    let mut after: Option<Vec<u8>> = None;
    let mut head = None;
    let mut sent = 0usize;
    loop {
        let page = engine
            .replication_snapshot(table, after.as_deref(), BATCH)
            .ok()??;
        let head = head.get_or_insert(page.head).clone();
        let body: Vec<Value> = page
            .changes
            .iter()
            .filter(|c| c.clock > since)
            .map(shipped)
            .collect();
        sent += body.len();
        if !body.is_empty() {
            if let Err(e) = inbound::send_changes(peer, table, &state.own, body).await {
                tracing::debug!(%table, %region, error = %e, "global tables: re-seed failed; retrying");
                return None;
            }
        }
        match page.next {
            Some(next) => {
                tracing::info!(%table, %region, sent, "global tables: re-seeding");
                after = Some(next);
            }
            None => {
                tracing::info!(%table, %region, sent, seconds = started.elapsed().as_secs_f64(), "global tables: re-seeded");
                return Some(head);
            }
        }
    }
}

/// Waits `backoff` (or until the pause set changes) after a failed call to the peer, and
/// doubles it up to `MAX_BACKOFF`.
async fn back_off(
    backoff: &mut Duration,
    paused: &mut tokio::sync::watch::Receiver<std::collections::HashSet<String>>,
) {
    tokio::select! {
        _ = tokio::time::sleep(*backoff) => {}
        _ = paused.changed() => {}
    }
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
}

/// Ships `table` to `region` until aborted.
pub async fn run(
    state: Arc<State>,
    peer: Remote,
    table: String,
    region: String,
    since: Option<u64>,
) {
    let engine = state.engine.engine().clone();
    let key = name(&table, &region);
    let saved = match engine.load_position(&key) {
        Ok(Some(b)) if !b.is_empty() => serde_json::from_slice::<Position>(&b).ok(),
        _ => None,
    };
    let mut pos = match saved {
        Some(p) => p,
        None => {
            let p = Position {
                since: since.unwrap_or(0),
                ..Position::default()
            };
            save(&engine, &key, &p).await;
            p
        }
    };
    let mut feed = engine.changes();
    let mut paused = state.paused.subscribe();
    let delay = state.delay.as_millis() as i64;
    let mut backoff = Duration::from_millis(20);
    // The position acknowledged but not saved yet, and when one was saved last.
    let mut unsaved: Option<Position> = None;
    let mut saved_at = std::time::Instant::now();
    loop {
        if paused.borrow_and_update().contains(&region) {
            let _ = paused.changed().await;
            continue;
        }
        drain(&mut feed);
        let batch = match engine.replication_changes(&table, pos.label.as_deref(), pos.seq, BATCH) {
            Ok(Some(b)) => b,
            Ok(None) | Err(_) => {
                tokio::time::sleep(IDLE).await;
                continue;
            }
        };
        if pos.label.as_deref() != Some(batch.label.as_str()) {
            pos.label = Some(batch.label.clone());
            pos.seq = 0;
        }
        if batch.trimmed {
            // The changes since the position are gone (retention or the size cap): send
            // the table's current state instead, then go on from the stream's head.
            let Some((label, seq)) =
                reseed(&state, &peer, &engine, &table, &region, pos.since).await
            else {
                back_off(&mut backoff, &mut paused).await;
                continue;
            };
            backoff = Duration::from_millis(20);
            pos.label = Some(label);
            pos.seq = seq;
            save(&engine, &key, &pos).await;
            unsaved = None;
            continue;
        }
        let Some(first) = batch.changes.first() else {
            if let Some(p) = unsaved.take() {
                save(&engine, &key, &p).await;
                saved_at = std::time::Instant::now();
                continue;
            }
            tokio::select! {
                _ = feed.recv() => {}
                _ = tokio::time::sleep(IDLE) => {}
                _ = paused.changed() => {}
            }
            continue;
        };
        let now = now_ms();
        if first.at_ms + delay > now {
            let wait = (first.at_ms + delay - now).clamp(1, 60_000) as u64;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            continue;
        }
        let due: Vec<&Change> = batch
            .changes
            .iter()
            .take_while(|c| c.at_ms + delay <= now)
            .collect();
        let ship: Vec<&Change> = due
            .iter()
            .copied()
            .filter(|c| c.from.is_none() && c.clock > pos.since)
            .collect();
        // Due to be saved: the last acknowledged position, saved while this batch is sent.
        let saving = if saved_at.elapsed() >= SAVE_EVERY {
            unsaved.take()
        } else {
            None
        };
        if saving.is_some() {
            saved_at = std::time::Instant::now();
        }
        if !ship.is_empty() {
            let body = ship.iter().map(|c| shipped(c)).collect();
            let (sent, ()) = tokio::join!(
                inbound::send_changes(&peer, &table, &state.own, body),
                save_some(&engine, &key, saving)
            );
            if let Err(e) = sent {
                tracing::debug!(%table, %region, error = %e, "global tables: shipping failed; retrying");
                back_off(&mut backoff, &mut paused).await;
                continue;
            }
            backoff = Duration::from_millis(20);
            let done = now_ms();
            for c in &ship {
                metrics::histogram!(m::GLOBAL_REPLICATION_LATENCY, "region" => region.clone())
                    .record((done - c.at_ms).max(0) as f64);
            }
        } else {
            save_some(&engine, &key, saving).await;
        }
        if let Some(last) = due.last() {
            pos.seq = last.seq;
            unsaved = Some(pos.clone());
        }
    }
}
