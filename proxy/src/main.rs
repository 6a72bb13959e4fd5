//! The `daxlite` command: reads flags (DynamoDB Local's single-dash flags too), builds
//! the validated config, starts the server, prints the start banner, reloads the TLS
//! certificate on SIGHUP, and stops cleanly on SIGTERM or Ctrl-C. `daxlite export` /
//! `daxlite import` run an export or import on the data directory instead, with no server
//! (`offline`); `daxlite policy-check` answers what IAM would (`policy_check`); `daxlite
//! health` probes a running server's `/health` (the container HEALTHCHECK); `daxlite mcp`
//! serves the Model Context Protocol on stdio over a running server (`mcp`).

mod local_http;
mod mcp;
mod offline;
mod policy_check;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use daxlite::config::{RawConfig, TRANSIENT_DELAY_MS};

/// `daxlite --version`: the crate version and the git commit it was built from
/// (`build.rs`; `unknown` outside a git checkout).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("DAXLITE_GIT_COMMIT"),
    ")"
);

/// A local DynamoDB and a DAX-style cache, speaking the plain DynamoDB HTTP API.
#[derive(Debug, Parser)]
#[command(name = "daxlite", version = VERSION)]
struct Cli {
    /// A TOML config file (default: config/daxlite.toml when it exists).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long)]
    host: Option<String>,
    /// The port to listen on (DynamoDB Local: -port).
    #[arg(long)]
    port: Option<u16>,
    /// Keep all data in memory (DynamoDB Local: -inMemory).
    #[arg(long)]
    in_memory: bool,
    /// Where data lives (DynamoDB Local: -dbPath).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// One namespace for every credential and region (always on; DynamoDB Local: -sharedDb).
    #[arg(long)]
    shared_db: bool,
    /// Keep tables CREATING/DELETING/UPDATING for a second (DynamoDB Local: -delayTransientStatuses).
    #[arg(long)]
    delay_transient_statuses: bool,
    /// The region in ARNs and the health answer.
    #[arg(long)]
    region: Option<String>,
    /// `embedded` (default) or the URL of a DynamoDB-compatible endpoint to cache in front of.
    #[arg(long)]
    upstream: Option<String>,
    /// Serve without the cache (engine only, or a plain re-signing pass-through).
    #[arg(long)]
    no_cache: bool,
    /// Serve HTTPS with a self-signed certificate for localhost/127.0.0.1, generated into
    /// the data directory (or a temporary folder with --in-memory); the banner names it.
    #[arg(long)]
    tls_self_signed: bool,
    /// Log filter, e.g. info or daxlite=debug.
    #[arg(long)]
    log_level: Option<String>,
    /// DynamoDB Local's -cors: the origins allowed for browsers. daxlite answers every
    /// request carrying Origin with `Access-Control-Allow-Origin: *`, as DynamoDB does;
    /// only `*` is applied (a narrower list is reported at start and not enforced).
    #[arg(long, value_name = "ORIGINS")]
    cors: Option<String>,
    /// DynamoDB Local's -optimizeDbBeforeStartup: accepted; daxlite's data file needs no
    /// optimising before start (it opens in constant time), so this does nothing.
    #[arg(long)]
    optimize_db_before_startup: bool,
    /// DynamoDB Local's -disableTelemetry: accepted; daxlite sends no telemetry at all.
    #[arg(long)]
    disable_telemetry: bool,
    /// Instead of serving: an export or import on the data directory, a policy check, a
    /// health probe, or the MCP server.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Offline(offline::Command),
    /// What IAM would answer a request: allowed or denied, why, and the statement that
    /// decided (exit 0 allowed, 1 denied, 2 error).
    PolicyCheck(policy_check::PolicyCheckArgs),
    /// GET a running server's /health; exit 0 on 200, 1 otherwise (for a container
    /// HEALTHCHECK on a base image without curl).
    Health(HealthArgs),
    /// A Model Context Protocol server on stdio over a running DynamoDB endpoint.
    Mcp(mcp::McpArgs),
    /// Load the config (defaults, file, DAXLITE_* environment, these flags), report
    /// what it would serve and exit: 0 when valid, 2 with the offending setting if not.
    CheckConfig,
}

#[derive(Debug, Args)]
struct HealthArgs {
    /// The URL probed.
    #[arg(long, default_value = "http://127.0.0.1:8000/health")]
    url: String,
}

/// Maps DynamoDB Local's single-dash flags onto ours so existing scripts keep working.
fn translate_args(args: impl Iterator<Item = String>) -> Vec<String> {
    args.map(|a| match a.as_str() {
        "-port" => "--port".to_string(),
        "-inMemory" => "--in-memory".to_string(),
        "-dbPath" => "--data-dir".to_string(),
        "-sharedDb" => "--shared-db".to_string(),
        "-delayTransientStatuses" => "--delay-transient-statuses".to_string(),
        "-cors" => "--cors".to_string(),
        "-optimizeDbBeforeStartup" => "--optimize-db-before-startup".to_string(),
        "-disableTelemetry" => "--disable-telemetry".to_string(),
        "-help" => "--help".to_string(),
        _ => a,
    })
    .collect()
}

fn raw_from_cli(cli: &Cli) -> RawConfig {
    let mut raw = RawConfig::default();
    raw.server.host = cli.host.clone();
    raw.server.port = cli.port;
    if cli.in_memory {
        raw.storage.in_memory = Some(true);
    }
    raw.storage.data_dir = cli.data_dir.clone();
    raw.engine.region = cli.region.clone();
    if cli.delay_transient_statuses {
        raw.engine.create_table_delay_ms = Some(TRANSIENT_DELAY_MS);
        raw.engine.delete_table_delay_ms = Some(TRANSIENT_DELAY_MS);
        raw.engine.update_table_delay_ms = Some(TRANSIENT_DELAY_MS);
    }
    raw.log.level = cli.log_level.clone();
    raw.upstream.url = cli.upstream.clone();
    if cli.no_cache {
        raw.cache.enabled = Some(false);
    }
    raw
}

fn load(cli: &Cli) -> Result<daxlite::Config, daxlite::StartError> {
    let mut config = load_raw(cli).map_err(daxlite::StartError::Config)?;
    if cli.tls_self_signed {
        if config.tls.is_some() {
            return Err(daxlite::StartError::Config(
                daxlite::config::ConfigError::setting(
                    "server.tls_cert",
                    "--tls-self-signed generates the certificate: leave server.tls_cert and server.tls_key unset",
                ),
            ));
        }
        let dir = match &config.engine.backend {
            daxlite_engine::Backend::Dir(d) => d.clone(),
            daxlite_engine::Backend::InMemory => {
                std::env::temp_dir().join(format!("daxlite-tls-{}", std::process::id()))
            }
        };
        let files = daxlite::tls::self_signed::ensure(&dir).map_err(|m| {
            daxlite::StartError::Config(daxlite::config::ConfigError::setting(
                "--tls-self-signed",
                m,
            ))
        })?;
        config.tls = Some(files);
    }
    Ok(config)
}

fn load_raw(cli: &Cli) -> Result<daxlite::Config, daxlite::config::ConfigError> {
    let file = match &cli.config {
        Some(path) => RawConfig::from_file(path)?,
        None => {
            let default = PathBuf::from("config/daxlite.toml");
            if default.is_file() {
                RawConfig::from_file(&default)?
            } else {
                RawConfig::default()
            }
        }
    };
    let env = RawConfig::from_env(|k| std::env::var(k).ok())?;
    RawConfig::default()
        .merge(&file)
        .merge(&env)
        .merge(&raw_from_cli(cli))
        .validate()
}

/// Reloads the TLS certificate and key on each SIGHUP (new connections get them; a
/// failed reload keeps the old ones and logs why).
fn reload_on_hangup(tls: std::sync::Arc<daxlite::tls::Tls>) {
    #[cfg(unix)]
    {
        let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
        match hangup {
            Ok(mut hangup) => {
                tokio::spawn(async move {
                    while hangup.recv().await.is_some() {
                        match tls.reload() {
                            Ok(()) => tracing::info!(
                                cert = %tls.files().cert.display(),
                                "SIGHUP: TLS certificate reloaded"
                            ),
                            Err(e) => tracing::error!(
                                error = %e,
                                "SIGHUP: TLS certificate not reloaded; the old one is still served"
                            ),
                        }
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for SIGHUP"),
        }
    }
    #[cfg(not(unix))]
    let _ = tls;
}

/// Installs the SIGTERM and Ctrl-C handlers now (before the banner, so a supervisor that
/// signals as soon as it sees the banner is handled) and resolves when one fires.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        if let Some(mut term) = term {
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
            return;
        }
        let _ = ctrl_c.await;
    }
}

/// What answers behind the front door, and the cache, for the banner and check-config.
fn describe(config: &daxlite::Config) -> String {
    let behind = match &config.upstream {
        daxlite::config::UpstreamConfig::Embedded => match &config.engine.backend {
            daxlite_engine::Backend::InMemory => "embedded engine, in memory".to_string(),
            daxlite_engine::Backend::Dir(d) => format!("embedded engine, data in {}", d.display()),
        },
        daxlite::config::UpstreamConfig::Remote(r) => {
            format!("upstream {}, region {}", r.url, r.region)
        }
    };
    let cache = if config.cache.enabled {
        format!("cache {} MiB", config.cache.max_bytes / (1024 * 1024))
    } else {
        "no cache".to_string()
    };
    format!("{behind}, {cache}")
}

/// The subcommands that reach a running server: no config, no engine.
/// What `main` does after a subcommand: exit, or load the config for an offline command
/// or check-config.
enum Next {
    Exit(std::process::ExitCode),
    Offline(offline::Command),
    PolicyCheck(policy_check::PolicyCheckArgs),
    CheckConfig,
}

/// Runs the subcommands that need no config (health, mcp).
fn client_command(command: Command) -> Next {
    type Job = Box<dyn FnOnce(&tokio::runtime::Runtime) -> std::process::ExitCode>;
    let job: Job = match command {
        Command::Offline(c) => return Next::Offline(c),
        Command::PolicyCheck(a) => return Next::PolicyCheck(a),
        Command::CheckConfig => return Next::CheckConfig,
        Command::Health(h) => Box::new(move |rt| rt.block_on(local_http::health(&h.url))),
        Command::Mcp(m) => Box::new(move |rt| mcp::run(m, rt)),
    };
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Next::Exit(job(&rt)),
        Err(e) => {
            eprintln!("daxlite: cannot start the runtime: {e}");
            Next::Exit(std::process::ExitCode::from(1))
        }
    }
}

fn main() -> std::process::ExitCode {
    let mut cli = Cli::parse_from(translate_args(std::env::args()));
    let (offline, check_only, policy) = match cli.command.take().map(client_command) {
        Some(Next::Exit(code)) => return code,
        Some(Next::Offline(c)) => (Some(c), true, None),
        Some(Next::CheckConfig) => (None, true, None),
        Some(Next::PolicyCheck(a)) => (None, true, Some(a)),
        None => (None, false, None),
    };
    let config = match load(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("daxlite: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    if let Some(args) = policy {
        return policy_check::run(&config, args);
    }
    if check_only && offline.is_none() {
        println!(
            "daxlite: config ok (listen {}, {})",
            config.listen,
            describe(&config)
        );
        return std::process::ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("daxlite: cannot start the runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    if let Some(cors) = cli.cors.as_deref().filter(|c| c.trim() != "*") {
        tracing::warn!(
            "-cors {cors:?}: daxlite answers every Origin with `*` (DynamoDB's answer); the narrower list is not enforced"
        );
    }
    if let Some(command) = offline {
        return runtime.block_on(async move {
            let engine = match daxlite_engine::Engine::open(config.engine.clone()) {
                Ok(e) => e,
                Err(e) => {
                    eprintln!("daxlite: cannot open the data: {e}");
                    return std::process::ExitCode::from(1);
                }
            };
            offline::run(&engine, command).await
        });
    }
    runtime.block_on(async move {
        let stopping = stop_signal();
        let server = match daxlite::start(&config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("daxlite: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        let (scheme, tls) = match server.tls() {
            Some(tls) => {
                let cert = tls.files().cert.display().to_string();
                tracing::info!(cert = %cert, "serving HTTPS; SIGHUP reloads the certificate");
                reload_on_hangup(std::sync::Arc::clone(tls));
                ("https", format!(", TLS certificate {cert}"))
            }
            None => ("http", String::new()),
        };
        println!(
            "daxlite listening on {scheme}://{} ({}{tls})",
            server.addr,
            describe(&config)
        );
        let stopper = server.stopper();
        tokio::spawn(async move {
            stopping.await;
            tracing::info!("stopping: draining requests");
            let _ = stopper.send(true);
        });
        server.wait().await;
        std::process::ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dynamodb_local_flags_are_aliases() {
        let args = [
            "daxlite",
            "-port",
            "8001",
            "-inMemory",
            "-sharedDb",
            "-dbPath",
            "/tmp/x",
            "-cors",
            "*",
            "-optimizeDbBeforeStartup",
            "-disableTelemetry",
            "-help",
        ]
        .map(String::from);
        let translated = super::translate_args(args.into_iter());
        assert_eq!(
            translated,
            [
                "daxlite",
                "--port",
                "8001",
                "--in-memory",
                "--shared-db",
                "--data-dir",
                "/tmp/x",
                "--cors",
                "*",
                "--optimize-db-before-startup",
                "--disable-telemetry",
                "--help"
            ]
        );
    }
}
