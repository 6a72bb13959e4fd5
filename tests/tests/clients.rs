//! The client-compatibility matrix: the same scenario (a table with a GSI and a stream;
//! put/get/query/update/delete, a failed condition, batch write/get, a transaction, the
//! stream read back) run by other languages' SDKs against a daxlite this test starts —
//! boto3 and the AWS CLI (tests/clients/python/scenario.py), the AWS SDK for JavaScript
//! v3 with lib-dynamodb's DocumentClient (tests/clients/js/scenario.mjs) — and the GUI
//! dynamodb-admin started against it, its pages fetched (tests/clients/js/admin.mjs).
//! The Rust SDK runs the same operations in every other suite. Versions are pinned in
//! tests/clients/python/requirements.txt and tests/clients/js/package.json, installed
//! into target/clients/ on first use; a missing python3, node or npm FAILS, loudly.
//! One server mode (the cache, as users run daxlite); the suites prove it transparent.
//! boto3 also drives Application Auto Scaling (tests/clients/python/autoscaling.py) in
//! two phases around a restart on one data directory: targets, policies, activities and
//! the decrease counter survive it.

use std::process::Command;

use daxlite_tests::tools::{node_script, python_bin, repo_file, run_ok};
use daxlite_tests::{Mode, TestServer};
use serde_json::Value;

/// Runs `cmd` (blocking, off the server's runtime) and parses its last stdout line.
async fn scenario(mut cmd: Command, what: &'static str) -> Value {
    let out = tokio::task::spawn_blocking(move || run_ok(&mut cmd, what))
        .await
        .unwrap();
    let last = out.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{what}: {e}: {out}"));
    assert_eq!(v["ok"], true, "{what}: {v}");
    v
}

fn python(kind: &str, url: &str) -> Command {
    let mut cmd = Command::new(python_bin().join("python"));
    cmd.arg(repo_file("tests/clients/python/scenario.py"))
        .args([kind, url, &format!("clients_{kind}")]);
    cmd
}

fn node(script: &str, url: &str, table: &str) -> Command {
    let mut cmd = node_script(script);
    cmd.args([url, table]);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_runs_the_scenario() {
    let server = TestServer::start(Mode::Cached).await;
    let v = scenario(python("boto3", &server.url), "boto3 scenario").await;
    assert_eq!(v["stream_records"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_runs_the_scenario() {
    let server = TestServer::start(Mode::Cached).await;
    let v = scenario(python("awscli", &server.url), "AWS CLI scenario").await;
    assert_eq!(v["stream_records"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn javascript_sdk_v3_runs_the_scenario() {
    let server = TestServer::start(Mode::Cached).await;
    let cmd = node("scenario.mjs", &server.url, "clients_js");
    let v = scenario(cmd, "AWS SDK for JavaScript v3 scenario").await;
    assert_eq!(v["stream_records"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_admin_lists_tables_and_items() {
    let server = TestServer::start(Mode::Cached).await;
    let cmd = node("admin.mjs", &server.url, "clients_admin");
    let v = scenario(cmd, "dynamodb-admin pages").await;
    assert_eq!(v["items"], 2);
}

fn python_aas(phase: &str, url: &str) -> Command {
    let mut cmd = Command::new(python_bin().join("python"));
    cmd.arg(repo_file("tests/clients/python/autoscaling.py"))
        .args([phase, url, "clients_aas"]);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_drives_application_auto_scaling_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_on_disk(Mode::Cached, dir.path()).await;
    let v = scenario(python_aas("before", &server.url), "boto3 auto scaling").await;
    assert_eq!(
        (v["targets"].clone(), v["activities"].clone()),
        (2.into(), 2.into())
    );
    server.stop().await;
    let server = TestServer::start_on_disk(Mode::Cached, dir.path()).await;
    let v = scenario(
        python_aas("after", &server.url),
        "boto3 auto scaling, restarted",
    )
    .await;
    assert_eq!(v["targets"], 2);
    server.stop().await;
}
