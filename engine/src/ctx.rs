//! [`Ctx`]: what every operation and background task needs — the store, the clock and
//! the settings — with the table lookups they share. It sits below both the operations
//! (`api`) and the background work (`ttl`, `background`), so neither imports the other.

use std::sync::Arc;

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
    /// The throttling buckets (`capacity`).
    pub meter: Arc<Meter>,
}

impl Ctx {
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
