//! daxlite: a local DynamoDB and a DAX-style cache behind one front door that speaks the
//! plain DynamoDB HTTP API. This crate owns the front door (`server`, `service`, `auth`),
//! the upstreams behind it (`upstream`), configuration (`config`) and metrics.

pub mod admin;
pub mod auth;
pub mod backoff;
pub mod cache;
pub mod compression;
pub mod config;
pub mod console;
pub mod cors;
pub mod error;
pub mod fuzz;
pub mod global;
pub mod kinesis;
pub mod metrics;
pub mod overload;
pub mod retry_after;
pub mod server;
pub mod service;
pub mod stream_reader;
pub mod tls;
pub mod triggers;
pub mod upstream;

use std::sync::Arc;

pub use config::Config;
pub use error::StartError;
pub use server::RunningServer;

/// Builds everything a validated config describes and starts serving.
pub async fn start(config: &Config) -> Result<RunningServer, StartError> {
    match &config.upstream {
        config::UpstreamConfig::Embedded => {
            let engine = daxlite_engine::Engine::open(config.engine.clone())?;
            start_with_engine(config, engine).await
        }
        config::UpstreamConfig::Remote(remote) => {
            let upstream = upstream::Remote::connect(remote.clone())
                .await
                .map_err(StartError::Upstream)?;
            start_with_remote(config, upstream).await
        }
    }
}

/// Starts serving with an already opened engine (tests pass one with a manual clock),
/// with the configured triggers, the Kinesis publisher, and with the cache following the
/// engine's change feed.
pub async fn start_with_engine(
    config: &Config,
    engine: daxlite_engine::Engine,
) -> Result<RunningServer, StartError> {
    let embedded = upstream::Embedded::new(engine.clone());
    let embedded = global::Global::new(
        embedded,
        &config.engine.region,
        &config.peers,
        config.replication_delay,
    )
    .await
    .map_err(StartError::Upstream)?;
    let server = if config.cache.enabled {
        let feed = engine.changes();
        let control = embedded.control();
        let cached = cache::Cached::new(embedded, config.cache.clone()).with_control(control);
        let (server, service) = serve(config, cached, Some(&engine)).await?;
        let follower =
            cache::follow::follow_engine(Arc::downgrade(&service), feed, server.stopping());
        server.with_tasks(vec![follower])
    } else {
        serve(config, embedded, Some(&engine)).await?.0
    };
    let triggers = triggers::spawn(&engine, &config.triggers, &server.stopping());
    let server = match triggers {
        Ok(tasks) => server.with_tasks(tasks),
        Err(e) => {
            server.shutdown().await;
            return Err(StartError::Trigger(e));
        }
    };
    match kinesis::spawn(&engine, &config.kinesis, &server.stopping()).await {
        Ok(task) => Ok(server.with_tasks(vec![task])),
        Err(e) => {
            server.shutdown().await;
            Err(StartError::Kinesis(e))
        }
    }
}

/// Starts serving in front of a remote upstream; with `[cache] follow_streams`, the
/// cache follows the upstream's DynamoDB Streams.
pub async fn start_with_remote(
    config: &Config,
    remote: upstream::Remote,
) -> Result<RunningServer, StartError> {
    if config.cache.enabled && config.follow.enabled {
        let cached = cache::Cached::new(remote, config.cache.clone());
        let (server, service) = serve(config, cached, None).await?;
        let follower = cache::follow_streams::follow_streams(
            Arc::downgrade(&service),
            config.follow.interval,
            server.stopping(),
        );
        Ok(server.with_tasks(vec![follower]))
    } else {
        start_with_upstream(config, remote).await
    }
}

/// Starts serving in front of any upstream, with the cache around it unless disabled.
pub async fn start_with_upstream<U: upstream::Upstream + admin::Administer>(
    config: &Config,
    upstream: U,
) -> Result<RunningServer, StartError> {
    if config.cache.enabled {
        let cached = cache::Cached::new(upstream, config.cache.clone());
        serve_upstream(config, cached).await
    } else {
        serve_upstream(config, upstream).await
    }
}

/// Serves exactly `upstream` (already wrapped as wanted).
pub async fn serve_upstream<U: upstream::Upstream + admin::Administer>(
    config: &Config,
    upstream: U,
) -> Result<RunningServer, StartError> {
    Ok(serve(config, upstream, None).await?.0)
}

/// Serves `upstream` and hands back the service too (for background tasks); with
/// `[console]` on, the web console and its sampler (`engine`: where triggers keep their
/// positions, for the console's stream page).
async fn serve<U: upstream::Upstream + admin::Administer>(
    config: &Config,
    upstream: U,
    engine: Option<&daxlite_engine::Engine>,
) -> Result<(RunningServer, Arc<service::Service<U>>), StartError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            setting: "server",
            addr: config.listen,
            source,
        })?;
    config::admin::check_exposure(config.admin, config.admin_token.as_deref())
        .map_err(StartError::Config)?;
    let admin = match config.admin {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| StartError::Listen {
                    setting: "admin.listen",
                    addr,
                    source,
                })?,
        ),
        None => None,
    };
    let tls = match &config.tls {
        Some(files) => Some(Arc::new(tls::Tls::load(files).map_err(StartError::Config)?)),
        None => None,
    };
    let service = service::Service::new(upstream, config.service.clone());
    let console = console::Console::new(&config.console, &config.triggers);
    let server = server::serve(
        listener,
        admin.map(|l| (l, config.admin_token.clone().map(Arc::from))),
        Arc::clone(&service),
        console.clone(),
        tls,
        &config.limits,
    );
    let server = match console {
        Some(c) => {
            if let Some(e) = engine {
                c.with_engine(e);
            }
            let sampler = console::spawn_sampler(c, Arc::downgrade(&service), server.stopping());
            server.with_tasks(vec![sampler])
        }
        None => server,
    };
    Ok((server, service))
}
