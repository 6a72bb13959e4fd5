//! The `daxlite` binary as users start it: the banner, DynamoDB Local's flags, invalid
//! settings, and a clean stop on SIGTERM; HTTPS (`cli/tls.rs`) and `policy-check`
//! (`cli/policy_check.rs`).

// Test code: a panic is how a test fails, helpers outside `#[test]` functions included
// (clippy.toml's `allow-unwrap-in-tests` covers only the test functions).
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "cli/policy_check.rs"]
mod policy_check;
#[path = "cli/tls.rs"]
mod tls;

fn daxlite() -> Command {
    Command::new(env!("CARGO_BIN_EXE_daxlite"))
}

/// Spawns daxlite with `args` and reads its banner (the first line it prints).
fn spawn_banner(args: &[&str]) -> (std::process::Child, String) {
    let mut child = daxlite()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("no stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    (child, line)
}

#[test]
fn starts_with_dynamodb_local_flags_prints_the_banner_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, line) = spawn_banner(&[
        "-port",
        "0",
        "-sharedDb",
        "-dbPath",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        line.starts_with("daxlite listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(line.contains(&dir.path().display().to_string()), "{line}");
    assert!(dir.path().join("daxlite.redb").exists());
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(killed);
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "daxlite did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn invalid_settings_fail_at_start_naming_the_setting() {
    let out = daxlite()
        .args(["--in-memory", "--region", "bad region!"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("engine.region"), "{err}");
    let out = daxlite()
        .env("DAXLITE_PORT", "notaport")
        .arg("--in-memory")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DAXLITE_PORT"));
}

#[test]
fn version_names_the_git_commit() {
    let out = daxlite().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let commit = text
        .trim()
        .strip_prefix(concat!("daxlite ", env!("CARGO_PKG_VERSION"), " (commit "))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{commit}"
    );
}

#[test]
fn the_other_dynamodb_local_flags_are_accepted() {
    let out = daxlite()
        .args([
            "-cors",
            "*",
            "-optimizeDbBeforeStartup",
            "-disableTelemetry",
            "-inMemory",
        ])
        .arg("check-config")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("daxlite: config ok (listen 127.0.0.1:8000, embedded engine, in memory"),
        "{stdout}"
    );
    let help = daxlite().arg("-help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Usage: daxlite") && help.contains("--disable-telemetry"),
        "{help}"
    );
}

/// deploy/systemd/daxlite.service's ExecStart, with its paths moved into a temp dir.
#[test]
fn the_systemd_unit_flags_are_accepted() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let unit = std::fs::read_to_string(root.join("deploy/systemd/daxlite.service")).unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let data = tempfile::tempdir().unwrap();
    let config = root.join("deploy/systemd/daxlite.toml");
    let args: Vec<String> = exec
        .split_whitespace()
        .skip(1)
        .map(|a| match a {
            "/etc/daxlite/daxlite.toml" => config.display().to_string(),
            "/var/lib/daxlite" => data.path().display().to_string(),
            other => other.to_string(),
        })
        .collect();
    let out = daxlite().args(&args).arg("check-config").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{args:?}: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("data in {}", data.path().display())),
        "{stdout}"
    );
    // A bad value in the same position is refused, naming it.
    let out = daxlite()
        .args(&args)
        .args(["--port", "x", "check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn health_probes_a_running_server() {
    let mut child = daxlite()
        .args(["--in-memory", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let ok = daxlite()
        .args(["health", "--url", &format!("{url}/health")])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout).trim(),
        "{\"status\":\"ok\"}"
    );
    // Nothing listens there any more.
    let down = daxlite()
        .args(["health", "--url", &format!("{url}/health")])
        .output()
        .unwrap();
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stderr).starts_with("daxlite health: "));
}
