//! [`Ctx`]: what every operation and background task needs — the store, the clock and
//! the settings — with the table lookups they share. It sits below both the operations
//! (`api`) and the background work (`ttl`, `background`), so neither imports the other.

use std::future::Future;
use std::sync::{Arc, Weak};

use redb::ReadTransaction;

use crate::capacity::{Gate, Meter};
use crate::catalog::{self, TableDef, TableStatus};
use crate::clock::Clock;
use crate::config::EngineConfig;
use crate::storage::Store;
use crate::wire::{ApiError, ApiResult};

/// What every operation needs: the store, the clock and the settings.
pub struct Ctx {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub config: EngineConfig,
    /// This context itself, so an operation can start a background job (a backup copy,
    /// a restore) that outlives its request.
    pub me: Weak<Ctx>,
    /// The throttling buckets and per-minute series (`capacity`).
    pub meter: Arc<Meter>,
    /// Application Auto Scaling's targets, policies and activities.
    pub autoscaling: crate::autoscaling::Autoscaling,
}

impl Ctx {
    /// Runs `job` on the tokio runtime with its own handle on the context; it stops early
    /// only if the engine is dropped. Errors are logged: a job reports through the state
    /// it writes (a backup's status, a table's restore summary).
    pub fn spawn<F, Fut>(&self, what: &'static str, job: F)
    where
        F: FnOnce(Arc<Ctx>) -> Fut + Send + 'static,
        Fut: Future<Output = ApiResult<()>> + Send + 'static,
    {
        let Some(ctx) = self.me.upgrade() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(job = what, "no tokio runtime: background job not started");
            return;
        };
        runtime.spawn(async move {
            if let Err(e) = job(ctx).await {
                e.log_cause();
                tracing::error!(job = what, error = %e, "background job failed");
            }
        });
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_millis()
    }

    /// Throttling for `def`, `None` when off (see `capacity::Gate::open`).
    pub fn gate(&self, def: &TableDef, op: &'static str) -> Option<Gate> {
        Gate::open(
            &self.meter,
            self.config.throttling,
            def,
            &self.config.region,
            &self.config.account,
            op,
        )
    }

    /// A table that exists (in any state but gone).
    pub fn visible_table(
        &self,
        txn: &ReadTransaction,
        name: &str,
        now: i64,
    ) -> ApiResult<Option<TableDef>> {
        Ok(catalog::load(txn, name)?.filter(|d| !d.is_gone(now, self.config.delete_delay_ms)))
    }

    /// A table the data plane may use: ACTIVE or UPDATING. CREATING and DELETING tables
    /// answer ResourceNotFoundException, as DynamoDB does.
    pub fn data_table(&self, txn: &ReadTransaction, name: &str, now: i64) -> ApiResult<TableDef> {
        match self.visible_table(txn, name, now)? {
            Some(def) if matches!(def.status(now), TableStatus::Active | TableStatus::Updating) => {
                Ok(def)
            }
            _ => Err(ApiError::resource_not_found("Requested resource not found")),
        }
    }

    /// The control plane's not-found error.
    pub fn table_not_found(&self, name: &str) -> ApiError {
        ApiError::resource_not_found(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }
}
