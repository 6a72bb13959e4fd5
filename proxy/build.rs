//! Records the git commit the binary is built from, for `daxlite --version`: the
//! `DAXLITE_GIT_COMMIT` environment variable when set (a container build, where `.git` is
//! not copied in), else `git rev-parse --short HEAD`, else `unknown` (no git, or not a
//! checkout, e.g. `cargo install` from a source archive). Reruns when HEAD moves.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=DAXLITE_GIT_COMMIT");
    let commit = match std::env::var("DAXLITE_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_string()),
    };
    // HEAD lives in the git dir (a worktree's own one); the branch it names lives in the
    // common dir, as a loose ref or in packed-refs.
    if let Some(dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) {
        watch(&dir.join("HEAD"));
        if let Ok(head) = std::fs::read_to_string(dir.join("HEAD")) {
            if let Some(name) = head.trim().strip_prefix("ref: ") {
                let common = git(&["rev-parse", "--git-common-dir"])
                    .map(PathBuf::from)
                    .unwrap_or_else(|| dir.clone());
                watch(&common.join(name));
                watch(&common.join("packed-refs"));
            }
        }
    }
    println!("cargo:rustc-env=DAXLITE_GIT_COMMIT={commit}");
}
