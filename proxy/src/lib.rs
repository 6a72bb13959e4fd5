//! daxlite: a local DynamoDB and a DAX-style cache behind one front door that speaks the
//! plain DynamoDB HTTP API. This crate owns the front door (`server`, `service`, `auth`),
//! the upstreams behind it (`upstream`), configuration (`config`) and metrics.

pub mod auth;
pub mod config;
pub mod metrics;
pub mod server;
pub mod service;
pub mod upstream;

use std::sync::Arc;

pub use config::Config;
pub use server::RunningServer;

/// Builds everything a validated config describes and starts serving.
pub async fn start(config: &Config) -> Result<RunningServer, String> {
    let engine = daxlite_engine::Engine::open(config.engine.clone())?;
    start_with_engine(config, engine).await
}

/// Starts serving with an already opened engine (tests pass one with a manual clock).
pub async fn start_with_engine(
    config: &Config,
    engine: daxlite_engine::Engine,
) -> Result<RunningServer, String> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let service = service::Service::new(upstream::Embedded::new(engine), config.service.clone());
    Ok(server::serve(listener, Arc::clone(&service)))
}
