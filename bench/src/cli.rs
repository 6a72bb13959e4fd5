//! The command line: `run` against given endpoints, `compare` against servers the bench
//! spawns itself, and `limit-server` (the ceiling for any HTTP server on this machine).
//! Flags only; validation of names and URLs happens in `targets` and `spawn`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Load generator for DynamoDB-compatible endpoints: daxlite with and without its cache,
/// DynamoDB Local, AWS, and a minimal limit server, measured side by side.
#[derive(Debug, Parser)]
#[command(name = "daxlite-bench", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure endpoints that are already running (`--target name=url`).
    Run(RunArgs),
    /// Spawn the servers to compare on free ports, measure them, stop them.
    Compare(CompareArgs),
    /// Serve a fixed GetItem-sized answer to every request (used by `--spawn limit`).
    LimitServer(LimitArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// An endpoint to measure, `name=http://host:port`; repeat for several (the first is the
    /// reference for ratios).
    #[arg(long = "target", value_name = "NAME=URL", required = true)]
    pub targets: Vec<String>,
    /// The PID of a target's server process, `name=PID`, to report its CPU per request.
    #[arg(long = "pid", value_name = "NAME=PID")]
    pub pids: Vec<String>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// What to spawn, comma separated, in order: `cached` (daxlite, cache over its engine),
    /// `uncached` (daxlite --no-cache: engine only), `over=URL` (daxlite's cache in front of
    /// URL), `limit` (the limit server), `ddb-local=URL` or `NAME=URL` (already running).
    #[arg(long, value_delimiter = ',', default_value = "limit,uncached")]
    pub spawn: Vec<String>,
    /// The daxlite binary (default: next to this one, then `daxlite` on PATH).
    #[arg(long)]
    pub daxlite: Option<PathBuf>,
    /// The PID of a server given as `NAME=URL`, `name=PID`.
    #[arg(long = "pid", value_name = "NAME=PID")]
    pub pids: Vec<String>,
    #[command(flatten)]
    pub bench: BenchArgs,
}

#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Port to listen on (0: a free one; the banner line names it).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Size of the item whose GetItem answer is served (the body is that answer).
    #[arg(long, default_value_t = 200)]
    pub item_size: usize,
    /// Tokio worker threads.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// The workloads: one DynamoDB operation each, or a read/write mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadKind {
    Get,
    BatchGet,
    Put,
    Update,
    Query,
    ScanPage,
    Mixed,
    /// ExecuteStatement `SELECT * ... WHERE pk = ? AND sk = ?`: a PartiQL GetItem.
    PartiqlGet,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The workload.
    #[arg(long, value_enum, default_value = "get")]
    pub workload: WorkloadKind,
    /// Reads per operation in `mixed` (the rest are PutItem).
    #[arg(long, default_value_t = 0.8)]
    pub read_ratio: f64,
    /// Zipfian key popularity with exponent S (e.g. 0.99); uniform when absent.
    #[arg(long, value_name = "S")]
    pub zipf: Option<f64>,
    /// Approximate item size in bytes, as DynamoDB counts it.
    #[arg(long, default_value_t = 200)]
    pub item_size: usize,
    /// Number of items.
    #[arg(long, default_value_t = 10_000)]
    pub keys: u64,
    /// Items per partition key (the `query` workload reads one partition).
    #[arg(long, default_value_t = 10)]
    pub items_per_partition: u64,
    /// Keys per BatchGetItem / items per Scan page.
    #[arg(long, default_value_t = 25)]
    pub batch: usize,
    /// Skip the (untimed) preload: table creation and loading every item.
    #[arg(long)]
    pub no_preload: bool,
    /// Table name.
    #[arg(long, default_value = "daxlite-bench")]
    pub table: String,
    /// Untimed warm-up per target before its first round, seconds.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Measured seconds per target (split over the rounds).
    #[arg(long, default_value_t = 20.0)]
    pub duration: f64,
    /// Measured operations per target instead of a duration (split over the rounds).
    #[arg(long)]
    pub ops: Option<u64>,
    /// Rounds; targets are interleaved A B C A B C ... so drift hits all alike.
    #[arg(long, default_value_t = 4)]
    pub rounds: u32,
    /// Keep-alive connections per target (one request in flight on each).
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Open loop: this many requests per second per target, latency measured from the
    /// intended send time (no coordinated omission). Closed loop when absent.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Tokio worker threads of the load generator (default: the number of CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Sign every request anew instead of reusing the signature of an identical body
    /// (signatures stay valid for minutes; reuse keeps the generator cheap).
    #[arg(long)]
    pub sign_every_request: bool,
    /// Region in the SigV4 scope.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Access key for SigV4.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", default_value = "daxlitebench")]
    pub access_key: String,
    /// Secret key for SigV4.
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        default_value = "daxlitebench",
        hide_env_values = true
    )]
    pub secret_key: String,
    /// Seed for keys and values (printed; a run replays from it).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Directory for the JSON, table and SVG chart.
    #[arg(long, default_value = "bench-results")]
    pub out: PathBuf,
    /// File name stem of the outputs (default: the workload name).
    #[arg(long)]
    pub name: Option<String>,
}
