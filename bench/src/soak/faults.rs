//! The soak's fault schedule (`--faults`, issue R): daxlite's cache runs in front of the
//! engine as a second process (its `--upstream`), and every `--fault-every` seconds one
//! fault is injected, in turn:
//!
//! 1. **upstream restart**: the engine process is killed (SIGKILL) and started again on
//!    the same port and data directory (in memory its data is gone, as with
//!    `--in-memory`, and the table is created again); the cache answers errors while it
//!    is down;
//! 2. **client disconnects**: connections that send half a request body and close, and
//!    connections that send a whole request and close before the answer;
//! 3. **TTL storm**: `--storm-items` already-expired items written at once on keys outside
//!    the key space, which the sweeper must delete.
//!
//! Errors from the moment an upstream is killed until a few seconds after it listens again
//! count as *injected*; every other error is a failure of the soak.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::mix::Mix;
use crate::client::Endpoint;
use crate::spawn::{self, Spawned};

/// How long after an upstream listens again its errors still count as injected (the
/// cache's pooled connections to the old process fail once each).
const GRACE: Duration = Duration::from_secs(3);
/// Connections of one disconnect fault (half of each kind).
const DISCONNECTS: usize = 32;
/// Connections writing one TTL storm.
const STORM_CONNECTIONS: u64 = 4;

/// One injected fault, for the report and the plot.
#[derive(Debug, Clone, Serialize)]
pub struct FaultEvent {
    pub t_s: f64,
    pub kind: &'static str,
    pub detail: String,
}

/// When errors count as injected: until this many milliseconds after the soak's start
/// (0: no fault yet).
#[derive(Debug, Default)]
pub struct Window {
    until_ms: AtomicU64,
}

impl Window {
    pub fn covers(&self, started: Instant) -> bool {
        let until = self.until_ms.load(Ordering::Relaxed);
        until != 0 && started.elapsed().as_millis() as u64 <= until
    }

    fn open_forever(&self) {
        self.until_ms.store(u64::MAX, Ordering::Relaxed);
    }

    fn close_after(&self, started: Instant, grace: Duration) {
        let until = (started.elapsed() + grace).as_millis() as u64;
        self.until_ms.store(until.max(1), Ordering::Relaxed);
    }
}

/// The engine process behind the cache: restarted on the same port and arguments.
pub struct Upstream {
    bin: PathBuf,
    argv: Vec<String>,
    envs: Vec<(String, String)>,
    process: Option<Spawned>,
    /// The current process id, read by the sampler.
    pub pid: Arc<AtomicU32>,
    pub url: String,
}

impl Upstream {
    /// Starts the engine on a free loopback port with `storage_argv` (`--in-memory` or
    /// `--data-dir D`) and the soak's environment.
    pub fn start(
        bin: &std::path::Path,
        storage_argv: &[String],
        envs: &[(String, String)],
    ) -> Result<Upstream, String> {
        let port = spawn::free_ports(1)?.pop().ok_or("no free port")?;
        let mut argv: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--log-level".into(),
            "warn".into(),
            "--no-cache".into(),
        ];
        argv.extend(storage_argv.iter().cloned());
        let process = spawn::spawn_daxlite_with(bin, &argv, envs)?;
        Ok(Upstream {
            bin: bin.to_path_buf(),
            pid: Arc::new(AtomicU32::new(process.pid)),
            url: process.url.clone(),
            argv,
            envs: envs.to_vec(),
            process: Some(process),
        })
    }

    /// SIGKILL, then the same command again; the time until it listens.
    fn restart(&mut self) -> Result<Duration, String> {
        drop(self.process.take());
        let begun = Instant::now();
        // The port can stay briefly unavailable after the kill; retry for a few seconds.
        let mut last = String::new();
        while begun.elapsed() < Duration::from_secs(10) {
            match spawn::spawn_daxlite_with(&self.bin, &self.argv, &self.envs) {
                Ok(p) => {
                    self.pid.store(p.pid, Ordering::Relaxed);
                    self.process = Some(p);
                    return Ok(begun.elapsed());
                }
                Err(e) => last = e,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("upstream did not restart: {last}"))
    }

    pub fn command(&self) -> String {
        self.process
            .as_ref()
            .map(|p| p.command.clone())
            .unwrap_or_default()
    }
}

/// What the schedule needs from the soak.
pub struct Schedule {
    pub every: Duration,
    pub storm_items: u64,
    pub deadline: Instant,
    pub started: Instant,
    pub window: Arc<Window>,
    pub front: Arc<Endpoint>,
    pub mix: Arc<Mix>,
    pub seed: u64,
    /// The soak's failed-request counter (a failed storm write outside a window counts).
    pub errors: Arc<AtomicU64>,
    /// The upstream keeps its data in memory: after a restart the table is created again
    /// (as a test suite against `--in-memory` would), inside the fault's window.
    pub recreate_table: bool,
}

/// Runs the schedule until the deadline; the events it injected, and the upstream (the
/// caller stops it once its clients are done).
pub async fn run(
    s: Schedule,
    mut upstream: Upstream,
) -> Result<(Vec<FaultEvent>, Upstream), String> {
    let mut events = Vec::new();
    let mut round = 0u64;
    loop {
        let next = s.started + s.every * (round as u32 + 1);
        if next + s.every / 2 >= s.deadline {
            break;
        }
        tokio::time::sleep_until(next.into()).await;
        let t_s = s.started.elapsed().as_secs_f64();
        let (kind, detail) = match round % 3 {
            0 => {
                s.window.open_forever();
                let (result, upstream_back) = tokio::task::spawn_blocking(move || {
                    let r = upstream.restart();
                    (r, upstream)
                })
                .await
                .map_err(|e| format!("restart task: {e}"))?;
                upstream = upstream_back;
                let took = result?;
                let mut detail = format!("SIGKILL, listening again after {} ms", took.as_millis());
                if s.recreate_table {
                    recreate_table(&s).await?;
                    detail.push_str("; its data was in memory: table created again");
                }
                s.window.close_after(s.started, GRACE);
                ("upstream restart", detail)
            }
            1 => ("client disconnects", disconnects(&s.front.authority).await),
            _ => ("TTL storm", storm(&s, round).await?),
        };
        eprintln!("fault at t={t_s:.0}s: {kind}: {detail}");
        events.push(FaultEvent { t_s, kind, detail });
        round += 1;
    }
    Ok((events, upstream))
}

/// CreateTable and UpdateTimeToLive through the cache, retried until the new upstream
/// answers them.
async fn recreate_table(s: &Schedule) -> Result<(), String> {
    let begun = Instant::now();
    for req in [s.mix.create_table(), s.mix.enable_ttl()] {
        loop {
            let answer = match s.front.connect().await {
                Ok(mut conn) => conn.call(&req).await,
                Err(e) => Err(e),
            };
            match answer {
                Ok((200, _)) => break,
                _ if begun.elapsed() < Duration::from_secs(30) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok((status, body)) => {
                    return Err(format!(
                        "{} after the restart: {status} {}",
                        req.op,
                        String::from_utf8_lossy(&body)
                    ))
                }
                Err(e) => return Err(format!("{} after the restart: {e}", req.op)),
            }
        }
    }
    Ok(())
}

/// Half the connections send a head promising 1,000 body bytes, send 10 and close; the
/// other half send a whole GetItem and close without reading the answer.
async fn disconnects(authority: &str) -> String {
    let mut opened = 0;
    for n in 0..DISCONNECTS {
        let Ok(mut stream) = tokio::net::TcpStream::connect(authority).await else {
            continue;
        };
        opened += 1;
        let body = r#"{"TableName":"daxlite-soak","Key":{"pk":{"S":"p000000"},"sk":{"N":"0"}}}"#;
        let (length, sent) = if n % 2 == 0 {
            (1000, &body[..10])
        } else {
            (body.len(), body)
        };
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-amz-json-1.0\r\n\
             X-Amz-Target: DynamoDB_20120810.GetItem\r\nContent-Length: {length}\r\n\r\n{sent}"
        );
        let _ = stream.write_all(head.as_bytes()).await;
        drop(stream);
    }
    format!("{opened} connections closed mid-request ({DISCONNECTS} tried)")
}

/// How many items earlier TTL storms left (the sweeper should have deleted them all).
async fn storm_items_left(s: &Schedule) -> Result<u64, String> {
    let mut conn = s.front.connect().await?;
    let mut start: Option<serde_json::Value> = None;
    let mut count = 0;
    loop {
        let (status, body) = conn.call(&s.mix.count_storm_items(start.as_ref())).await?;
        if status != 200 {
            return Err(format!("Scan {status}: {}", String::from_utf8_lossy(&body)));
        }
        let page: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("Scan: {e}"))?;
        count += page["Count"].as_u64().unwrap_or(0);
        match page.get("LastEvaluatedKey") {
            Some(k) if !k.is_null() => start = Some(k.clone()),
            _ => return Ok(count),
        }
    }
}

/// `storm_items` expired items through the cache, on a few connections at once.
async fn storm(s: &Schedule, round: u64) -> Result<String, String> {
    let left = match storm_items_left(s).await {
        Ok(n) => n.to_string(),
        Err(e) => format!("unknown ({e})"),
    };
    let begun = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..STORM_CONNECTIONS {
        let (front, mix, next, failed) =
            (s.front.clone(), s.mix.clone(), next.clone(), failed.clone());
        let total = s.storm_items;
        let mut rng = SmallRng::seed_from_u64(s.seed ^ (round << 8) ^ w);
        tasks.push(tokio::spawn(async move {
            let mut conn = front.connect().await?;
            loop {
                let first = next.fetch_add(25, Ordering::Relaxed);
                if first >= total {
                    return Ok::<(), String>(());
                }
                let req = mix.storm_batch(&mut rng, round, first, (total - first).min(25));
                match conn.call(&req).await {
                    Ok((200, body)) if !has_unprocessed(&body) => {}
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| format!("storm task: {e}"))??;
    }
    let failed = failed.load(Ordering::Relaxed);
    s.errors.fetch_add(failed, Ordering::Relaxed);
    Ok(format!(
        "{} expired items written in {} ms ({failed} BatchWriteItem calls failed or left items unprocessed); {left} items of earlier storms were still there",
        s.storm_items,
        begun.elapsed().as_millis()
    ))
}

fn has_unprocessed(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["UnprocessedItems"].as_object().map(|m| !m.is_empty()))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_covers_until_closed_plus_grace() {
        let started = Instant::now();
        let w = Window::default();
        assert!(!w.covers(started), "no fault yet");
        w.open_forever();
        assert!(w.covers(started));
        w.close_after(started, Duration::from_secs(60));
        assert!(w.covers(started));
        w.close_after(started, Duration::ZERO);
        std::thread::sleep(Duration::from_millis(5));
        assert!(!w.covers(started));
    }

    #[test]
    fn unprocessed_items_are_seen() {
        assert!(has_unprocessed(br#"{"UnprocessedItems":{"t":[{}]}}"#));
        assert!(!has_unprocessed(br#"{"UnprocessedItems":{}}"#));
        assert!(!has_unprocessed(b"{}"));
    }
}
