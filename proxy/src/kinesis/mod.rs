//! Kinesis Data Streams destinations: the publisher of the embedded engine's change
//! records. The engine keeps, per table with a live destination, a durable outbox of
//! change records written in the same storage transaction as each change (so a
//! destination needs no DynamoDB stream); this module starts one task per live
//! destination (`publish`) that sends them with PutRecords (`client`) and acknowledges
//! what Kinesis accepted. Settings in `config` (`[kinesis]`); docs in proxy/docs/KINESIS.md.
//!
//! The supervisor looks for destinations every `poll_interval`, so an engine without
//! destinations costs one catalog read per interval and nothing on the request path.

pub mod client;
pub mod config;
pub mod publish;

use std::collections::HashMap;

use daxlite_engine::kinesis::Live;
use daxlite_engine::Engine;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{KinesisConfig, RawKinesis};

/// Starts the supervisor; it ends when `stop` fires.
pub async fn spawn(
    engine: &Engine,
    config: &KinesisConfig,
    stop: &watch::Receiver<bool>,
) -> Result<JoinHandle<()>, String> {
    let kinesis = client::Kinesis::connect(config.clone()).await?;
    let engine = engine.clone();
    let config = config.clone();
    let mut stop = stop.clone();
    Ok(tokio::spawn(async move {
        tokio::select! {
            _ = supervise(engine, config, kinesis) => {},
            _ = stop.changed() => {},
        }
    }))
}

/// The publisher tasks, aborted when the supervisor is dropped (the server stops).
#[derive(Default)]
struct Tasks(HashMap<Live, JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in self.0.values() {
            task.abort();
        }
    }
}

/// Keeps one publisher task per live destination. Destinations change through
/// control-plane writes, which the change feed does not carry: it looks every interval.
async fn supervise(engine: Engine, config: KinesisConfig, kinesis: client::Kinesis) {
    let mut tasks = Tasks::default();
    loop {
        match engine.kinesis_destinations() {
            Ok(live) => {
                tasks.0.retain(|dest, task| {
                    let keep = live.contains(dest) && !task.is_finished();
                    if !keep {
                        task.abort();
                    }
                    keep
                });
                for dest in live {
                    if tasks.0.contains_key(&dest) {
                        continue;
                    }
                    tracing::info!(table = %dest.table, stream = %dest.stream_arn, "kinesis: publishing");
                    let task = tokio::spawn(publish::run(
                        engine.clone(),
                        kinesis.clone(),
                        config.clone(),
                        dest.clone(),
                    ));
                    tasks.0.insert(dest, task);
                }
            }
            Err(e) => tracing::warn!(error = %e, "kinesis: cannot list destinations"),
        }
        tokio::time::sleep(config.poll_interval).await;
    }
}
