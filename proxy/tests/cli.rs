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
