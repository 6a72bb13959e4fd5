//! daxlite: a local DynamoDB and a DAX-style cache behind one front door that speaks the
//! plain DynamoDB HTTP API. This crate owns the front door (`server`, `service`, `auth`),
//! the upstreams behind it (`upstream`), configuration (`config`) and metrics.

pub mod admin;
pub mod auth;
pub mod cache;
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
    match &config.upstream {
        config::UpstreamConfig::Embedded => {
            let engine = daxlite_engine::Engine::open(config.engine.clone())?;
            start_with_engine(config, engine).await
        }
        config::UpstreamConfig::Remote(remote) => {
            let upstream = upstream::Remote::connect(remote.clone()).await?;
            start_with_upstream(config, upstream).await
        }
    }
}

/// Starts serving with an already opened engine (tests pass one with a manual clock).
pub async fn start_with_engine(
    config: &Config,
    engine: daxlite_engine::Engine,
) -> Result<RunningServer, String> {
    start_with_upstream(config, upstream::Embedded::new(engine)).await
}

/// Starts serving in front of any upstream, with the cache around it unless disabled.
pub async fn start_with_upstream<U: upstream::Upstream>(
    config: &Config,
    upstream: U,
) -> Result<RunningServer, String> {
    if config.cache.enabled {
        let cached = cache::Cached::new(upstream, config.cache.clone());
        serve_upstream(config, cached).await
    } else {
        serve_upstream(config, upstream).await
    }
}

/// Serves exactly `upstream` (already wrapped as wanted).
pub async fn serve_upstream<U: upstream::Upstream>(
    config: &Config,
    upstream: U,
) -> Result<RunningServer, String> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let admin = match config.admin {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| format!("admin.listen: cannot listen on {addr}: {e}"))?,
        ),
        None => None,
    };
    let service = service::Service::new(upstream, config.service.clone());
    Ok(server::serve(listener, admin, Arc::clone(&service)))
}
