//! HTTP triggers (`[[trigger]]`): the local stand-in for "invoke AWS Lambda on changes".
//! Each trigger follows one table's stream through the embedded engine's Streams
//! operations and POSTs batches of records to a URL as Lambda's DynamoDB event JSON, at
//! least once, with retries and a position saved in the engine's store (`run`,
//! `deliver`, settings in `config`).

pub mod config;
pub mod deliver;
pub mod run;

use daxlite_engine::Engine;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{RawTrigger, StartingPosition, TriggerConfig};

/// Starts one task per trigger; each ends when `stop` fires.
pub fn spawn(
    engine: &Engine,
    triggers: &[TriggerConfig],
    stop: &watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>, String> {
    if triggers.is_empty() {
        return Ok(Vec::new());
    }
    let client = deliver::client()?;
    Ok(triggers
        .iter()
        .map(|t| {
            let engine = engine.clone();
            let t = t.clone();
            let client = client.clone();
            let mut stop = stop.clone();
            tracing::info!(trigger = %t.name, table = %t.table, url = %t.url, "trigger configured");
            tokio::spawn(async move {
                tokio::select! {
                    _ = run::run(engine, t, client) => {},
                    _ = stop.changed() => {},
                }
            })
        })
        .collect())
}
