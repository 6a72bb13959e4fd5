//! Servers the bench starts itself on free ports: daxlite in its modes (cached over the
//! embedded engine, `--no-cache`, cached over another endpoint) and the limit server (this
//! binary's `limit-server`). Each prints a banner with its URL; the child is killed on drop.
//! A mode that needs a flag this daxlite binary lacks fails with a message naming it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a spawned server may take to print its banner.
const BANNER_TIMEOUT: Duration = Duration::from_secs(30);

/// A server process the bench started.
#[derive(Debug)]
pub struct Spawned {
    child: Child,
    pub url: String,
    pub pid: u32,
    /// The command line, for the report.
    pub command: String,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the daxlite binary supports, learned from its `--help`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DaxliteFeatures {
    /// `--no-cache` exists, i.e. the binary has a cache.
    pub cache: bool,
    /// `--upstream URL` exists.
    pub upstream: bool,
}

/// Finds the daxlite binary: the given path, else next to this executable, else PATH.
pub fn daxlite_binary(given: Option<&Path>) -> PathBuf {
    if let Some(p) = given {
        // Servers start in the temp dir: a relative path must not depend on it.
        return std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    }
    if let Ok(exe) = std::env::current_exe() {
        let sibling = exe.with_file_name("daxlite");
        if sibling.is_file() {
            return sibling;
        }
    }
    PathBuf::from("daxlite")
}

/// Asks the binary which flags it has.
pub fn daxlite_features(bin: &Path) -> Result<DaxliteFeatures, String> {
    let out = Command::new(bin).arg("--help").output().map_err(|e| {
        format!(
            "cannot run {} --help: {e} (build it: cargo build --release -p daxlite)",
            bin.display()
        )
    })?;
    let help = String::from_utf8_lossy(&out.stdout);
    Ok(DaxliteFeatures {
        cache: help.contains("--no-cache"),
        upstream: help.contains("--upstream"),
    })
}

/// The daxlite spawn modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaxliteMode {
    /// The cache over the embedded engine (daxlite's default).
    Cached,
    /// The embedded engine alone (`--no-cache`).
    Uncached,
    /// The cache in front of another endpoint (`--upstream URL`).
    Over(String),
}

/// The daxlite flags of a mode, or why this binary cannot run it.
pub fn daxlite_args(
    mode: &DaxliteMode,
    f: DaxliteFeatures,
) -> Result<(Vec<String>, Option<String>), String> {
    let mut args: Vec<String> = ["--port", "0", "--in-memory", "--log-level", "warn"]
        .map(String::from)
        .to_vec();
    let mut note = None;
    match mode {
        DaxliteMode::Cached => {
            if !f.cache {
                return Err("spawn mode `cached` needs a daxlite with a cache (flags --no-cache/--upstream, issue 6); \
                            this binary has none yet — use `uncached` (today's daxlite is the engine alone)"
                    .into());
            }
        }
        DaxliteMode::Uncached => {
            if f.cache {
                args.push("--no-cache".into());
            } else {
                note =
                    Some("this daxlite has no cache yet: plain daxlite is the engine alone".into());
            }
        }
        DaxliteMode::Over(url) => {
            if !f.upstream {
                return Err(format!(
                    "spawn mode `over={url}` needs daxlite's --upstream flag (issue 6); this binary lacks it"
                ));
            }
            args.push("--upstream".into());
            args.push(url.clone());
        }
    }
    Ok((args, note))
}

/// Starts daxlite with exactly `args` and extra environment variables (the soak).
pub fn spawn_daxlite_with(
    bin: &Path,
    args: &[String],
    envs: &[(String, String)],
) -> Result<Spawned, String> {
    let mut cmd = Command::new(bin);
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    start(cmd, "daxlite listening on ")
}

/// `n` free loopback ports (all bound at once, so they differ, then released: a process
/// started right after can listen on them).
pub fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}")))
        .collect::<Result<_, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string()))
        .collect()
}

/// Starts this binary's limit server.
pub fn spawn_limit(item_size: usize) -> Result<Spawned, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let mut cmd = Command::new(exe);
    cmd.args([
        "limit-server",
        "--port",
        "0",
        "--item-size",
        &item_size.to_string(),
    ]);
    start(cmd, "limit server listening on ")
}

fn start(mut cmd: Command, banner: &'static str) -> Result<Spawned, String> {
    // Run in the temp dir so no config/daxlite.toml of the working directory applies.
    cmd.current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let command = format!("{cmd:?}").replace('"', "");
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {command}: {e}"))?;
    let pid = child.id();
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err(format!("{command}: no stdout"));
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if !sent {
                if let Some(url) = banner_url(&line, banner) {
                    let _ = tx.send(url);
                    sent = true;
                }
            }
        }
    });
    let mut spawned = Spawned {
        child,
        url: String::new(),
        pid,
        command,
    };
    match rx.recv_timeout(BANNER_TIMEOUT) {
        Ok(url) => {
            spawned.url = url;
            Ok(spawned)
        }
        Err(_) => {
            let status = spawned.child.try_wait().ok().flatten();
            Err(format!(
                "{} printed no banner `{banner}http://...` within {}s{}",
                spawned.command,
                BANNER_TIMEOUT.as_secs(),
                status
                    .map(|s| format!(" (exited: {s})"))
                    .unwrap_or_default()
            ))
        }
    }
}

/// The URL in a banner line such as `daxlite listening on http://127.0.0.1:8000 (...)`.
pub fn banner_url(line: &str, banner: &str) -> Option<String> {
    let at = line.find(banner)? + banner.len();
    let url = line[at..].split_whitespace().next()?;
    url.starts_with("http://").then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_banners() {
        assert_eq!(
            banner_url(
                "daxlite listening on http://127.0.0.1:41234 (embedded engine, in memory)",
                "daxlite listening on "
            ),
            Some("http://127.0.0.1:41234".into())
        );
        assert_eq!(banner_url("starting", "daxlite listening on "), None);
    }

    #[test]
    fn modes_needing_missing_flags_fail_clearly() {
        let today = DaxliteFeatures::default();
        let e = daxlite_args(&DaxliteMode::Cached, today)
            .err()
            .unwrap_or_default();
        assert!(e.contains("needs a daxlite with a cache"), "{e}");
        let e = daxlite_args(&DaxliteMode::Over("http://x:1".into()), today)
            .err()
            .unwrap_or_default();
        assert!(e.contains("--upstream"), "{e}");
        let (args, note) = daxlite_args(&DaxliteMode::Uncached, today).unwrap_or_default();
        assert!(!args.contains(&"--no-cache".to_string()) && note.is_some());
        let full = DaxliteFeatures {
            cache: true,
            upstream: true,
        };
        let (args, _) = daxlite_args(&DaxliteMode::Uncached, full).unwrap_or_default();
        assert!(args.contains(&"--no-cache".to_string()));
        let (args, _) =
            daxlite_args(&DaxliteMode::Over("http://x:1".into()), full).unwrap_or_default();
        assert!(args.ends_with(&["--upstream".to_string(), "http://x:1".to_string()]));
    }
}
