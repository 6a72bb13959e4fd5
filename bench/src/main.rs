//! `daxlite-bench`: measures DynamoDB-compatible endpoints side by side — daxlite with and
//! without its cache, DynamoDB Local, anything given by URL — against the limit server, in
//! interleaved rounds, and writes a table, a JSON file and an SVG chart.

mod capacity;
mod capacity_chart;
mod chart;
mod cli;
mod client;
mod consumed;
mod crash;
mod global;
mod iam;
mod keys;
mod limit_server;
mod measure;
mod overload;
mod report;
mod sign;
mod soak;
mod spawn;
mod targets;
mod workload;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;

use cli::{BenchArgs, Cli, Command};
use client::Endpoint;
use measure::Plan;
use sign::Signer;
use targets::{parse_pair, Target};
use workload::Workload;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::LimitServer(a) => limit_server::main(&a),
        Command::Soak(a) => soak::main(&a),
        Command::Crash(a) => crash::main(&a),
        Command::Capacity(a) => capacity::main(&a),
        Command::Overload(a) => overload::main(&a),
        Command::Global(a) => global::main(&a),
        Command::Run(a) => {
            given_targets(&a.targets, &a.pids, &a.bench).and_then(|t| bench(t, &a.bench))
        }
        Command::Compare(a) => spawn_targets(&a).and_then(|t| bench(t, &a.bench)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("daxlite-bench: {e}");
            ExitCode::from(1)
        }
    }
}

fn signer(args: &BenchArgs) -> Signer {
    Signer::new(
        &args.access_key,
        &args.secret_key,
        &args.region,
        args.sign_every_request,
    )
}

fn given_targets(
    specs: &[String],
    pids: &[String],
    args: &BenchArgs,
) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    for spec in specs {
        let (name, url) = parse_pair(spec)?;
        targets.push(Target::new(
            &name,
            Endpoint::new(&url, signer(args))?,
            "given".into(),
        ));
    }
    attach_pids(&mut targets, pids)?;
    Ok(targets)
}

fn attach_pids(targets: &mut [Target], pids: &[String]) -> Result<(), String> {
    for p in pids {
        let (name, pid) = parse_pair(p)?;
        let pid: u32 = pid.parse().map_err(|_| format!("--pid {p}: not a PID"))?;
        let t = targets
            .iter_mut()
            .find(|t| t.name == name)
            .ok_or_else(|| format!("--pid {p}: no target named {name}"))?;
        if measure::pid_cpu(&pid.to_string()).is_none() {
            return Err(format!("--pid {p}: cannot read /proc/{pid}/stat"));
        }
        t.pids.push(pid);
    }
    Ok(())
}

fn spawn_targets(a: &cli::CompareArgs) -> Result<Vec<Target>, String> {
    let bin = spawn::daxlite_binary(a.daxlite.as_deref());
    let mut features = None;
    let mut targets = Vec::new();
    for spec in &a.spawn {
        let spec = spec.trim();
        let (name, value) = match spec.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (spec, None),
        };
        let (base, auth) = iam::split_mode(name);
        let mode = match (base, value) {
            ("limit", None) => None,
            ("cached", None) => Some(spawn::DaxliteMode::Cached),
            ("uncached", None) => Some(spawn::DaxliteMode::Uncached),
            (_, _) if auth.is_some() => {
                return Err(format!(
                    "spawn mode {name:?}: -verify and -iam go with cached or uncached"
                ))
            }
            ("over", Some(url)) => Some(spawn::DaxliteMode::Over(url.to_string())),
            ("ddb-local", None) => {
                return Err("give DynamoDB Local's URL: ddb-local=http://127.0.0.1:8100 (start it with \
                            ../shared/tools/dynamodb-local 8100; pass --pid ddb-local=PID for its CPU)"
                    .into())
            }
            (n, Some(url)) => {
                let t = Target::new(n, Endpoint::new(url, signer(&a.bench))?, "given".into());
                targets.push(t);
                continue;
            }
            (n, None) => return Err(format!("unknown spawn mode {n:?} (cached, uncached, cached-verify, cached-iam, uncached-verify, uncached-iam, over=URL, limit, NAME=URL)")),
        };
        let (spawned, note) = match &mode {
            None => (spawn::spawn_limit(a.bench.item_size)?, None),
            Some(m) => {
                let f = match features {
                    Some(f) => f,
                    None => *features.insert(spawn::daxlite_features(&bin)?),
                };
                let (mut args, note) = spawn::daxlite_args(m, f)?;
                let envs: Vec<(String, String)> = match a.bench.report_capacity {
                    true => vec![(consumed::ENV.0.into(), consumed::ENV.1.into())],
                    false => Vec::new(),
                };
                match auth {
                    None => (spawn::spawn_daxlite_with(&bin, &args, &envs)?, note),
                    Some(auth) => {
                        let policy = iam::policy(a.policy_statements.max(1), &a.bench.table);
                        let text = iam::config_text(
                            auth,
                            &a.bench.access_key,
                            &a.bench.secret_key,
                            &policy,
                        );
                        let file = iam::write_config(&std::env::temp_dir(), name, &text)?;
                        args.push("--config".into());
                        args.push(file.display().to_string());
                        let spawned = spawn::spawn_daxlite_with(&bin, &args, &envs);
                        // Read at start; nothing reads it again.
                        let _ = std::fs::remove_file(&file);
                        (spawned?, note)
                    }
                }
            }
        };
        let label = match &mode {
            Some(spawn::DaxliteMode::Over(_)) => "over",
            _ => name,
        };
        eprintln!(
            "started {label}: {} (pid {}) {}",
            spawned.url, spawned.pid, spawned.command
        );
        let mut t = Target::new(
            label,
            Endpoint::new(&spawned.url, signer(&a.bench))?,
            spawned.command.clone(),
        );
        t.is_limit = mode.is_none();
        t.pids.push(spawned.pid);
        t.notes.extend(note);
        t.spawned = Some(spawned);
        targets.push(t);
    }
    attach_pids(&mut targets, &a.pids)?;
    Ok(targets)
}

fn bench(targets: Vec<Target>, args: &BenchArgs) -> Result<(), String> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(t) = args.threads {
        builder.worker_threads(t.max(1));
    }
    let runtime = builder
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    runtime.block_on(bench_async(targets, args))
}

async fn bench_async(mut targets: Vec<Target>, args: &BenchArgs) -> Result<(), String> {
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    eprintln!("seed {seed}");
    let load_before = report::load_average();
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let workload = Arc::new(Workload::new(args));
    let conns = args.connections.max(1);

    for t in &mut targets {
        t.connect(conns)
            .await
            .map_err(|e| format!("{}: {e}", t.name))?;
        if t.is_limit {
            continue;
        }
        if !args.no_preload {
            let at = Instant::now();
            eprintln!(
                "{}: preloading {} items of ~{} bytes",
                t.name, workload.keys, args.item_size
            );
            if let Err(e) = t.preload(&workload).await {
                t.skipped = Some(format!("preload failed: {e}"));
                eprintln!("{}: {}", t.name, e);
                continue;
            }
            eprintln!(
                "{}: preloaded in {:.1} s",
                t.name,
                at.elapsed().as_secs_f64()
            );
        }
        t.probe(&workload, seed)
            .await
            .map_err(|e| format!("{}: probe: {e}", t.name))?;
        if let Some(why) = &t.skipped {
            eprintln!("{}: skipped: {why}", t.name);
        }
    }

    let rounds = args.rounds.max(1);
    let slice = Duration::from_secs_f64((args.duration / rounds as f64).max(0.1));
    let plan = |r: u32, seed_offset: u64, duration: Duration| Plan {
        duration: if args.ops.is_some() {
            Duration::from_secs(3600)
        } else {
            duration
        },
        ops: args.ops.map(|o| (o / rounds as u64).max(1)),
        rate: args.rate,
        seed: seed.wrapping_add(seed_offset).wrapping_add(r as u64 * 7919),
    };

    if args.warmup > 0.0 {
        for (i, t) in targets
            .iter_mut()
            .enumerate()
            .filter(|(_, t)| t.skipped.is_none())
        {
            eprintln!("{}: warm-up {:.1} s", t.name, args.warmup);
            let mut p = plan(u32::MAX, i as u64, Duration::from_secs_f64(args.warmup));
            p.ops = None;
            p.duration = Duration::from_secs_f64(args.warmup);
            let (_, c) =
                measure::round(std::mem::take(&mut t.conns), &workload, p, &[], None).await;
            t.conns = c;
        }
    }

    let active = targets.iter().filter(|t| t.skipped.is_none()).count() as u64;
    let bar = if std::io::stdout().is_terminal() {
        indicatif::ProgressBar::new(if args.ops.is_some() {
            rounds as u64 * active
        } else {
            rounds as u64 * active * slice.as_millis() as u64
        })
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {percent}% {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    // --report-capacity: each daxlite's consumed read units before the rounds.
    let mut units_before: Vec<Option<f64>> = Vec::new();
    for t in &targets {
        units_before.push(
            match args.report_capacity && !t.is_limit && t.skipped.is_none() {
                true => Some(consumed::read_units(&t.url, &args.table).await?),
                false => None,
            },
        );
    }
    for r in 0..rounds {
        for (i, t) in targets.iter_mut().enumerate() {
            if t.skipped.is_some() {
                continue;
            }
            bar.set_message(format!("round {}/{rounds}: {}", r + 1, t.name));
            let ticker = if args.ops.is_none() { Some(&bar) } else { None };
            let (round, c) = measure::round(
                std::mem::take(&mut t.conns),
                &workload,
                plan(r, i as u64, slice),
                &t.pids,
                ticker,
            )
            .await;
            t.conns = c;
            if args.ops.is_some() {
                bar.inc(1);
            }
            if round.unknown_operation && round.errors == round.ops {
                t.skipped = Some(
                    "operation not supported by this server (UnknownOperationException)".into(),
                );
                continue;
            }
            t.rounds.push(round);
        }
    }
    bar.finish_and_clear();

    let mut reports: Vec<report::TargetReport> = targets.iter().map(report::summarize).collect();
    report::add_ratios(&mut reports);
    let reads_per_op = consumed::reads_per_op(args);
    for ((r, t), before) in reports.iter_mut().zip(&targets).zip(&units_before) {
        let reads = r.ops as f64 * reads_per_op;
        if let (Some(before), true) = (before, reads > 0.0) {
            let after = consumed::read_units(&t.url, &args.table).await?;
            r.rcu_per_1000_reads = Some((after - before) / reads * 1000.0);
        }
    }
    let settings = json!({
        "workload": args.workload,
        "read_ratio": args.read_ratio,
        "zipf": args.zipf,
        "item_size": args.item_size,
        "keys": args.keys,
        "items_per_partition": args.items_per_partition,
        "batch": args.batch,
        "preload": !args.no_preload,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "ops": args.ops,
        "rounds": rounds,
        "connections": conns,
        "rate": args.rate,
        "bench_threads": args.threads,
        "sign_every_request": args.sign_every_request,
        "seed": seed,
        "report_capacity": args.report_capacity,
    });
    let full = report::Report {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        started_unix_s: started,
        machine: report::Machine {
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            load_average_before: load_before,
            load_average_after: report::load_average(),
            clock_ticks_per_s: measure::clock_ticks(),
        },
        settings,
        targets: reports,
    };
    let table = report::table(&full);
    print!("{table}");

    let stem = args
        .output
        .stem(&format!("{:?}", args.workload).to_lowercase());
    let [json_path, table_path, svg_path] = args.output.paths(&stem)?;
    let text = serde_json::to_string_pretty(&full).map_err(|e| format!("json: {e}"))?;
    std::fs::write(&json_path, text + "\n").map_err(|e| format!("{}: {e}", json_path.display()))?;
    let header = format!(
        "$ {}\nload average before/after: {} / {}\n\n",
        full.command, full.machine.load_average_before, full.machine.load_average_after
    );
    std::fs::write(&table_path, header + &table)
        .map_err(|e| format!("{}: {e}", table_path.display()))?;
    let title = format!(
        "{stem}: {} connections, {}-byte items, {} keys{}",
        conns,
        args.item_size,
        args.keys,
        args.zipf
            .map(|s| format!(", zipf {s}"))
            .unwrap_or_else(|| ", uniform".into())
    );
    chart::write(&svg_path, &title, &full.targets)?;
    eprintln!("{}", cli::wrote(&[&table_path, &json_path, &svg_path]));
    drop(targets);
    Ok(())
}
