//! [`Engine`]: opens the store and runs operations — JSON in, JSON out — with no HTTP.

use std::sync::Arc;

use crate::api;
use crate::background::{self, Background, TickReport};
use crate::clock::{Clock, SystemClock};
use crate::config::EngineConfig;
use crate::ctx::Ctx;
use crate::storage::{OpenError, Store};
use crate::wire::{ApiResult, Operation};

/// The embedded DynamoDB. Cheap to clone; clones share one store.
#[derive(Clone)]
pub struct Engine {
    ctx: Arc<Ctx>,
    background: Arc<Option<Background>>,
}

impl Engine {
    /// Opens (or creates) the store the config names, with the system clock.
    pub fn open(config: EngineConfig) -> Result<Engine, OpenError> {
        Self::open_with_clock(config, Arc::new(SystemClock))
    }

    /// Opens the store with a given clock (tests pass a `ManualClock`), and starts the
    /// background task (TTL sweep, stream maintenance) when a tokio runtime is running.
    pub fn open_with_clock(
        config: EngineConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Engine, OpenError> {
        let store = Store::open(&config.backend, config.page_cache_bytes)?;
        let meter = Arc::new(crate::capacity::Meter::default());
        let o = &config.capacity;
        meter
            .series
            .configure(o.series, o.minute_ms, o.series_minutes);
        meter.hot.configure(o.partition_limits, o.peak_rule);
        let autoscaling = crate::autoscaling::Autoscaling::load(&store, meter.clone())
            .map_err(|e| OpenError::Initialise(Box::new(e)))?;
        let ctx = Arc::new_cyclic(|me| Ctx {
            store,
            clock,
            config,
            me: me.clone(),
            meter,
            autoscaling,
        });
        let background = Background::start(ctx.clone());
        // Backups and restores a crash interrupted, found before any request can start one.
        let interrupted = crate::backup::load::Interrupted::find(&ctx)
            .map_err(|e| OpenError::Initialise(Box::new(e)))?;
        if !interrupted.is_empty() {
            ctx.spawn("backup-recovery", move |ctx| {
                crate::backup::load::recover(ctx, interrupted)
            });
        }
        if background.is_none() {
            tracing::warn!("no tokio runtime: TTL sweeping and stream trimming are off");
        }
        Ok(Engine {
            ctx,
            background: Arc::new(background),
        })
    }

    /// The shared context (engine-internal tests reach storage through it).
    #[cfg(test)]
    pub(crate) fn ctx(&self) -> &Arc<Ctx> {
        &self.ctx
    }

    /// Runs one round of background work now (tests move the clock, then call this).
    pub async fn run_background_once(&self) -> Result<TickReport, crate::wire::ApiError> {
        logged(background::tick(&self.ctx).await)
    }

    /// Runs one operation on a request body and returns the response body.
    pub async fn call(&self, op: Operation, body: &[u8]) -> ApiResult<Vec<u8>> {
        logged(api::dispatch(&self.ctx, op, body).await)
    }

    /// The per-minute capacity series of every table and GSI (`capacity::series`), as
    /// the admin endpoint answers them.
    pub fn capacity_series(&self) -> serde_json::Value {
        self.ctx.meter.series.to_json()
    }

    /// Whether `op` is implemented (the others answer UnknownOperationException).
    pub fn supports(&self, op: Operation) -> bool {
        api::is_built(op)
    }

    /// The change feed: after each commit, the table and key of every item it wrote
    /// (see [`crate::changes`]). A receiver that falls behind gets `Lagged` and must
    /// assume anything changed.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<crate::changes::Changes> {
        self.ctx.store.changes()
    }

    /// The position consumer `name` saved last (`storage::positions`), if any.
    pub fn load_position(&self, name: &str) -> ApiResult<Option<Vec<u8>>> {
        logged(crate::storage::positions::load(&self.ctx.store, name))
    }

    /// Durably saves consumer `name`'s position (a redb table of its own).
    pub async fn save_position(&self, name: &str, position: &[u8]) -> ApiResult<()> {
        logged(crate::storage::positions::save(&self.ctx.store, name, position).await)
    }

    /// The tables whose Kinesis destination is live (`crate::kinesis`), for the
    /// publisher.
    pub fn kinesis_destinations(&self) -> ApiResult<Vec<crate::kinesis::Live>> {
        logged(crate::kinesis::live(&self.ctx))
    }

    /// Up to `limit` changes of table `table_id` still to publish, oldest first.
    pub fn kinesis_pending(
        &self,
        table_id: u64,
        limit: usize,
    ) -> ApiResult<Vec<(u64, crate::kinesis::outbox::OutboxRecord)>> {
        logged(crate::kinesis::outbox::read(
            &self.ctx.store,
            table_id,
            limit,
        ))
    }

    /// Durably forgets the changes of `table_id` up to sequence `through`: Kinesis
    /// acknowledged them.
    pub async fn kinesis_ack(&self, table_id: u64, through: u64) -> ApiResult<()> {
        let write = self
            .ctx
            .store
            .write(move |txn| crate::kinesis::outbox::ack(txn, table_id, through));
        logged(write.await)
    }

    /// Marks a table's destination ENABLE_FAILED with `reason` (the stream is missing)
    /// and drops what it had still to publish.
    pub async fn kinesis_failed(
        &self,
        table: &str,
        stream_arn: &str,
        reason: &str,
    ) -> ApiResult<()> {
        logged(crate::kinesis::fail(&self.ctx, table, stream_arn, reason).await)
    }

    /// The region in ARNs and records.
    pub fn region(&self) -> &str {
        &self.ctx.config.region
    }

    /// Exports a table as it is now, without the API and without PITR (`daxlite
    /// export`), and waits for the export to end (`export::offline`).
    pub async fn export_now(
        &self,
        request: crate::export::offline::Request,
    ) -> ApiResult<crate::export::ExportMeta> {
        logged(crate::export::offline::run(&self.ctx, request).await)
    }

    /// Global tables: marks `table` as in a replica group (or not); answers the clock
    /// after which every local change is stamped (`replication::set_replicated`).
    pub async fn set_replicated(&self, table: &str, on: bool) -> ApiResult<u64> {
        logged(crate::replication::set_replicated(&self.ctx, table, on).await)
    }

    /// Global tables: applies changes shipped from another region, each if its version
    /// wins (`replication::apply`); answers which were applied.
    pub async fn apply_replicated(
        &self,
        table: &str,
        changes: Vec<crate::replication::Incoming>,
    ) -> ApiResult<Vec<bool>> {
        logged(crate::replication::apply(&self.ctx, table, changes).await)
    }

    /// Global tables: the shipper's view of a table's stream
    /// (`replication::read_changes`).
    pub fn replication_changes(
        &self,
        table: &str,
        label: Option<&str>,
        after: u64,
        limit: usize,
    ) -> ApiResult<Option<crate::replication::Changes>> {
        logged(crate::replication::read_changes(
            &self.ctx, table, label, after, limit,
        ))
    }

    /// Global tables: one page of a table's current state for re-seeding a replica that
    /// fell behind (`replication::snapshot::read`).
    pub fn replication_snapshot(
        &self,
        table: &str,
        after: Option<&[u8]>,
        limit: usize,
    ) -> ApiResult<Option<crate::replication::snapshot::Snapshot>> {
        logged(crate::replication::snapshot::read(
            &self.ctx, table, after, limit,
        ))
    }

    /// Stops the background task, finishes the writes already accepted and stops the
    /// writer.
    pub fn close(&self) {
        if let Some(b) = self.background.as_ref() {
            b.stop();
        }
        self.ctx.store.close();
    }
}

/// The engine's edge: an error leaving it logs its cause here, once.
fn logged<T>(result: ApiResult<T>) -> ApiResult<T> {
    if let Err(e) = &result {
        e.log_cause();
    }
    result
}
