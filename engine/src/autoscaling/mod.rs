//! Application Auto Scaling for DynamoDB capacity (CAPACITY.md §4): the
//! `AnyScaleFrontendService` JSON API on the same port (`api`), its state (`model`,
//! saved as one JSON document in the data file's `meta` table) and the target-tracking
//! scaler (`scaler`) that reads the consumed-capacity series (`capacity::series`) per
//! minute of the engine's clock and changes throughput through UpdateTable.
//!
//! With no scalable target registered nothing here runs: the scaler returns after one
//! atomic load and the request path records no consumption.

pub mod api;
pub mod model;
pub mod scaler;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::capacity::Meter;
use crate::storage::{internal, Store, META};
use crate::wire::ApiResult;
use model::State;

/// The `meta` key the state is saved under.
const STATE_KEY: &str = "autoscaling";

/// The auto scaling state of one engine.
#[derive(Debug)]
pub struct Autoscaling {
    state: Mutex<State>,
    /// Whether any scalable target exists (the scaler's and the request path's check).
    active: AtomicBool,
    /// One scaler run at a time (the background tick and the Describe calls).
    running: tokio::sync::Mutex<()>,
    /// Told whether a target exists, so the series record only then.
    meter: Arc<Meter>,
}

impl Autoscaling {
    /// The state saved in the data file (none: empty).
    pub fn load(store: &Store, meter: Arc<Meter>) -> ApiResult<Autoscaling> {
        let txn = store.read()?;
        let state = match txn.open_table(META) {
            Ok(meta) => match meta.get(STATE_KEY).map_err(internal)? {
                Some(v) => serde_json::from_slice(v.value()).map_err(internal)?,
                None => State::default(),
            },
            Err(redb::TableError::TableDoesNotExist(_)) => State::default(),
            Err(e) => return Err(internal(e)),
        };
        let active = !state.targets.is_empty();
        meter.series.set_autoscaling(active);
        Ok(Autoscaling {
            state: Mutex::new(state),
            active: AtomicBool::new(active),
            running: Default::default(),
            meter,
        })
    }

    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// A copy of the state.
    pub fn snapshot(&self) -> State {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Changes the state with `f` and saves it; answers what `f` answered.
    pub async fn change<R>(
        &self,
        store: &Store,
        f: impl FnOnce(&mut State) -> ApiResult<R>,
    ) -> ApiResult<R> {
        let (out, bytes) = {
            let mut state = self
                .state
                .lock()
                .map_err(|_| crate::wire::ApiError::internal("Internal server error"))?;
            let out = f(&mut state)?;
            let active = !state.targets.is_empty();
            self.active.store(active, Ordering::Relaxed);
            self.meter.series.set_autoscaling(active);
            (out, serde_json::to_vec(&*state).map_err(internal)?)
        };
        store
            .write(move |txn| {
                let mut meta = txn.open_table(META).map_err(internal)?;
                meta.insert(STATE_KEY, bytes.as_slice()).map_err(internal)?;
                Ok(())
            })
            .await?;
        Ok(out)
    }

    /// Holds the scaler's turn.
    pub async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.running.lock().await
    }
}
