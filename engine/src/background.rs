//! The engine's background task: every `ttl_sweep_interval_ms` it sweeps expired items
//! (TTL), maintains the streams (shard rollover, retention trimming) and trims the
//! point-in-time recovery journal to each table's window. Started by
//! `Engine::open` when a tokio runtime is running, stopped by `Engine::close`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::ctx::Ctx;
use crate::streams::maintain::{self, Settings};
use crate::wire::ApiResult;

/// A running background task.
pub struct Background {
    stop: watch::Sender<bool>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Background {
    /// Starts the task on the current tokio runtime (none without a runtime).
    pub fn start(ctx: Arc<Ctx>) -> Option<Background> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (stop, mut stopped) = watch::channel(false);
        let every = Duration::from_millis(ctx.config.ttl_sweep_interval_ms.max(1) as u64);
        // Only a weak handle between ticks: once the engine is closed and dropped, the store
        // (and its file lock) is released even before this task notices the stop.
        let weak = Arc::downgrade(&ctx);
        drop(ctx);
        let handle = runtime.spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tokio::time::sleep(every) => {}
                }
                let Some(ctx) = weak.upgrade() else { break };
                if let Err(e) = tick(&ctx).await {
                    e.log_cause();
                    tracing::warn!(error = %e, "background task failed; retrying next tick");
                }
            }
        });
        Some(Background {
            stop,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Stops the task; a tick in progress is abandoned (its commit, if queued, still
    /// completes in the writer).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
        if let Some(h) = self.handle.lock().ok().and_then(|mut h| h.take()) {
            h.abort();
        }
    }
}

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    pub expired_deleted: usize,
    pub records_trimmed: u64,
    /// Point-in-time recovery journal entries past their table's recovery window, and
    /// expired SYSTEM backups, dropped.
    pub journal_trimmed: u64,
}

/// One round of background work: the TTL sweep, then stream maintenance.
pub async fn tick(ctx: &Ctx) -> ApiResult<TickReport> {
    let expired_deleted = crate::ttl::sweep(ctx).await?;
    let now = ctx.now_ms();
    let settings = Settings {
        retention_ms: ctx.config.stream_retention_ms,
        shard_max_records: ctx.config.stream_shard_max_records,
        shard_max_age_ms: ctx.config.stream_shard_max_age_ms,
        max_bytes: ctx.config.stream_max_bytes,
    };
    let records_trimmed = ctx
        .store
        .write(move |txn| maintain::run(txn, now, &settings))
        .await?;
    let journal_trimmed = ctx
        .store
        .write(move |txn| crate::backup::journal::maintain(txn, now))
        .await?;
    // Auto scaling: one atomic load when no scalable target exists.
    crate::autoscaling::scaler::catch_up(ctx).await?;
    Ok(TickReport {
        expired_deleted,
        records_trimmed,
        journal_trimmed,
    })
}
