//! [`Engine`]: opens the store and runs operations — JSON in, JSON out — with no HTTP.

use std::sync::Arc;

use crate::api::{self, Ctx};
use crate::clock::{Clock, SystemClock};
use crate::config::EngineConfig;
use crate::storage::Store;
use crate::wire::{ApiResult, Operation};

/// The embedded DynamoDB. Cheap to clone; clones share one store.
#[derive(Clone)]
pub struct Engine {
    ctx: Arc<Ctx>,
}

impl Engine {
    /// Opens (or creates) the store the config names, with the system clock.
    pub fn open(config: EngineConfig) -> Result<Engine, String> {
        Self::open_with_clock(config, Arc::new(SystemClock))
    }

    /// Opens the store with a given clock (tests pass a `ManualClock`).
    pub fn open_with_clock(config: EngineConfig, clock: Arc<dyn Clock>) -> Result<Engine, String> {
        let store = Store::open(&config.backend)?;
        Ok(Engine {
            ctx: Arc::new(Ctx {
                store,
                clock,
                config,
            }),
        })
    }

    /// Runs one operation on a request body and returns the response body.
    pub async fn call(&self, op: Operation, body: &[u8]) -> ApiResult<Vec<u8>> {
        api::dispatch(&self.ctx, op, body).await
    }

    /// Whether `op` is implemented (the others answer UnknownOperationException).
    pub fn supports(&self, op: Operation) -> bool {
        api::is_built(op)
    }

    /// Finishes the writes already accepted and stops the writer.
    pub fn close(&self) {
        self.ctx.store.close();
    }
}
