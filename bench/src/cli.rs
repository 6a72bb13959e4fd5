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
    /// Run a mixed workload against daxlite (in memory and on disk) and sample its memory.
    Soak(SoakArgs),
    /// Kill -9 daxlite at random moments under concurrent writes and check, after each
    /// restart, that no acknowledged write is lost and nothing is half-applied.
    Crash(CrashArgs),
    /// Bulk-load a table provisioned at a few WCU with throttling on, without and with
    /// auto scaling, retrying as the SDK's standard mode does.
    Capacity(CapacityArgs),
    /// Drive daxlite with `[limits] max_in_flight` at 10× its bound: latency of the
    /// admitted requests, the refusals, and memory.
    Overload(OverloadArgs),
    /// Spawn 2 or 3 daxlite regions with a global table, write at a fixed rate into
    /// one, and measure the replication lag and the sending region's CPU per write.
    Global(GlobalArgs),
}

#[derive(Debug, Args)]
pub struct OverloadArgs {
    /// The server's `[limits] max_in_flight`.
    #[arg(long, default_value_t = 8)]
    pub max_in_flight: u32,
    /// Concurrent connections as a multiple of the bound, each with one request in flight.
    #[arg(long, default_value_t = 10)]
    pub factor: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// `get` (cached GetItem: handlers rarely wait, so few are in flight at once) or `put`
    /// (PutItem: each handler waits for its commit, so the bound is reached).
    #[arg(long, default_value = "put")]
    pub op: String,
    /// The daxlite binary (default: next to this one, then `daxlite` on PATH).
    #[arg(long)]
    pub daxlite: Option<PathBuf>,
    #[command(flatten)]
    pub output: Outputs,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Writes per second offered to the first region (open loop).
    #[arg(long, default_value_t = 2000)]
    pub rate: u64,
    /// Seconds of load per phase (regional table, then global table).
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// Regions (daxlite processes): 2 or 3.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..=3))]
    pub regions: u8,
    /// Keep-alive connections writing into the first region.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Every n-th write is probed: GetItem in the second region until it shows.
    #[arg(long, default_value_t = 50)]
    pub sample_every: u64,
    /// Padding bytes per item.
    #[arg(long, default_value_t = 100)]
    pub item_size: usize,
    /// Keep the regions' data in memory (`--in-memory`) instead of temp data dirs.
    #[arg(long)]
    pub in_memory: bool,
    /// The daxlite binary (default: next to this one, then `daxlite` on PATH).
    #[arg(long)]
    pub daxlite: Option<PathBuf>,
    #[command(flatten)]
    pub output: Outputs,
}

#[derive(Debug, Args)]
pub struct CrashArgs {
    /// Kill and restart cycles.
    #[arg(long, default_value_t = 50)]
    pub cycles: u32,
    /// Concurrent clients during each load phase.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// The kill comes between these many milliseconds after the load starts.
    #[arg(long, default_value_t = 20)]
    pub min_load_ms: u64,
    #[arg(long, default_value_t = 150)]
    pub max_load_ms: u64,
    /// The daxlite binary (default: next to this one, then `daxlite` on PATH).
    #[arg(long)]
    pub daxlite: Option<PathBuf>,
    /// Seed of the kill moments and the clients (printed on failure).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Start daxlite with the seeded bug DAXLITE_SEEDED_BUG=skip-fsync: the run must fail.
    #[arg(long)]
    pub seeded_bug: bool,
    /// One line per cycle on stderr.
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct CapacityArgs {
    /// The table's provisioned write capacity (and the auto scaler's minimum).
    #[arg(long, default_value_t = 5)]
    pub wcu: i64,
    /// Seconds of load per run.
    #[arg(long, default_value_t = 20.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// Keep-alive connections, each one writer.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Attempts per call, as the SDK's standard retry mode counts them (3 by default).
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u32,
    /// Padding bytes per item (about 1 KB: one write unit each).
    #[arg(long, default_value_t = 900)]
    pub item_size: usize,
    /// The server's `[capacity] autoscaling_minute` (a minute of the auto scaler).
    #[arg(long, default_value = "1s")]
    pub minute: String,
    /// The daxlite binary (default: next to this one, then `daxlite` on PATH).
    #[arg(long)]
    pub daxlite: Option<PathBuf>,
    #[command(flatten)]
    pub output: Outputs,
}

#[derive(Debug, Args)]
pub struct SoakArgs {
    /// Measured seconds per mode (e.g. 60, or 3600 for the one-hour figure).
    #[arg(long, default_value_t = 60.0, value_parser = parse_seconds)]
    pub duration: f64,
    /// Storage modes to run, in order: `memory` (--in-memory), `disk` (a temp data dir).
    #[arg(long, value_delimiter = ',', default_value = "memory,disk")]
    pub modes: Vec<String>,
    /// The daxlite binary (default: next to this one, then `daxlite` on PATH).
    #[arg(long)]
    pub daxlite: Option<PathBuf>,
    /// The key space: items stay at most this many however long the soak runs.
    #[arg(long, default_value_t = 20_000)]
    pub keys: u64,
    /// Approximate item size in bytes.
    #[arg(long, default_value_t = 400)]
    pub item_size: usize,
    /// Keep-alive connections (one request in flight on each).
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Seconds between samples.
    #[arg(long, default_value_t = 1.0)]
    pub sample_interval: f64,
    /// Samples before this second are not held to the bound.
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    /// The server's stream size cap (DAXLITE_STREAM_MAX_BYTES), counted as live data.
    #[arg(long, default_value_t = 16 << 20)]
    pub stream_max_bytes: u64,
    /// The server's cache budget (DAXLITE_CACHE_MAX_BYTES), added to the bound.
    #[arg(long, default_value_t = 16 << 20)]
    pub cache_max_bytes: u64,
    /// The bound: RSS <= factor x live data + cache budget + overhead.
    #[arg(long, default_value_t = 2.0)]
    pub rss_factor: f64,
    /// The bound's fixed overhead in MB.
    #[arg(long, default_value_t = 64)]
    pub rss_overhead_mb: u64,
    /// Exit non-zero when a sample after warm-up exceeds the bound or a request fails.
    #[arg(long)]
    pub check: bool,
    /// Seed of the request mix.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run the cache and the engine as two processes and inject faults in turn: upstream
    /// restarts (SIGKILL), client disconnects mid-request, TTL storms. Errors inside a
    /// fault's window are reported as injected; any other error fails `--check`.
    #[arg(long)]
    pub faults: bool,
    /// Seconds between faults (with `--faults`).
    #[arg(long, default_value_t = 60.0, value_parser = parse_seconds)]
    pub fault_every: f64,
    /// Expired items written by one TTL storm (with `--faults`).
    #[arg(long, default_value_t = 5_000)]
    pub storm_items: u64,
    #[command(flatten)]
    pub output: Outputs,
}

/// `60`, `60s`, `5m` or `1h` as seconds.
fn parse_seconds(s: &str) -> Result<f64, String> {
    let (num, unit) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((at, _)) => (&s[..at], &s[at..]),
        None => (s, "s"),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?}: expected seconds, e.g. 60s, 5m or 1h"))?;
    let scale = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("{s:?}: unit must be s, m or h")),
    };
    if n.is_finite() && n > 0.0 {
        Ok(n * scale)
    } else {
        Err(format!("{s:?}: must be positive"))
    }
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
    /// URL), `limit` (the limit server), `ddb-local=URL` or `NAME=URL` (already running);
    /// `cached-verify`/`uncached-verify` add `[auth] verify = true` with the bench's key,
    /// `cached-iam`/`uncached-iam` also give that key a policy (`--policy-statements`).
    #[arg(long, value_delimiter = ',', default_value = "limit,uncached")]
    pub spawn: Vec<String>,
    /// The daxlite binary (default: next to this one, then `daxlite` on PATH).
    #[arg(long)]
    pub daxlite: Option<PathBuf>,
    /// The PID of a server given as `NAME=URL`, `name=PID`.
    #[arg(long = "pid", value_name = "NAME=PID")]
    pub pids: Vec<String>,
    /// Statements of the identity policy the `-iam` spawn modes give the bench's key
    /// (`cached-iam`, `uncached-iam`; `-verify` modes verify signatures without policies).
    #[arg(long, default_value_t = 10)]
    pub policy_statements: usize,
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
    /// PutItem of a key never written before (the fair comparison for `partiql-insert`).
    PutNew,
    /// ExecuteStatement `INSERT INTO ... VALUE {...}` of a key never written before
    /// (INSERT is never an upsert).
    PartiqlInsert,
    /// PutItem of a fresh key, then DeleteItem of it, on each connection in turn: every
    /// DeleteItem removes an existing item (DeleteItem's cost = 2 × this − `put-new`).
    Delete,
    /// BatchWriteItem of `--batch` items with keys never written before (a bulk load:
    /// items/s = ops/s × batch).
    BatchWrite,
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
    /// Keys per BatchGetItem / items per Scan page / items per BatchWriteItem (at most 25).
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
    /// Report the read capacity each daxlite target's engine consumed, per 1,000 reads
    /// (spawned daxlites run with the capacity series on; a cache hit consumes nothing).
    #[arg(long)]
    pub report_capacity: bool,
    #[command(flatten)]
    pub output: Outputs,
}

/// Where a command writes its JSON, text table and SVG chart.
#[derive(Debug, Clone, Args)]
pub struct Outputs {
    /// Directory for the JSON, table and SVG chart.
    #[arg(long, default_value = "bench-results")]
    pub out: PathBuf,
    /// File name stem of the outputs (default: the workload name, or `soak`).
    #[arg(long)]
    pub name: Option<String>,
}

impl Outputs {
    /// The stem (`--name`, else `default`).
    pub fn stem(&self, default: &str) -> String {
        self.name.clone().unwrap_or_else(|| default.to_string())
    }

    /// Creates the directory and returns the `.json`, `.txt` and `.svg` paths of `stem`.
    pub fn paths(&self, stem: &str) -> Result<[PathBuf; 3], String> {
        std::fs::create_dir_all(&self.out)
            .map_err(|e| format!("cannot create {}: {e}", self.out.display()))?;
        Ok(["json", "txt", "svg"].map(|ext| self.out.join(format!("{stem}.{ext}"))))
    }
}

/// `wrote a, b, c`: the files a command wrote, as one line.
pub fn wrote(paths: &[&std::path::Path]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!("wrote {}", names.join(", "))
}
