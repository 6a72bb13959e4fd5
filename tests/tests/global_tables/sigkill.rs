//! A replica killed with SIGKILL mid-stream: us-west-2 runs as a real `daxlite` child
//! process on a data directory (the two other regions in process), is killed while
//! writes flow in both directions, restarts on the same directory and catches up —
//! every acknowledged write, its own included, ends in all three regions (full scans).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::support::*;
use super::*;

/// The `daxlite` binary next to the test binary's directory (built by the workspace
/// build; the test fails loudly without it).
fn daxlite_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test exe");
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target dir")
        .join("daxlite");
    assert!(
        bin.is_file(),
        "{} is missing: build it first (cargo build -p daxlite)",
        bin.display()
    );
    bin
}

/// us-west-2 as a child process at `addrs[2]`, its data in `dir`; answers once its
/// banner is out.
fn spawn_west(addrs: &[std::net::SocketAddr], dir: &std::path::Path) -> Child {
    let config = dir.join("west.toml");
    let peers: String = REGIONS
        .iter()
        .zip(addrs)
        .take(2)
        .map(|(r, a)| format!("[[global.peer]]\nregion = \"{r}\"\nurl = \"http://{a}\"\n"))
        .collect();
    std::fs::write(&config, peers).expect("config");
    let mut child = Command::new(daxlite_binary())
        .args([
            "--port",
            &addrs[2].port().to_string(),
            "--region",
            REGIONS[2],
        ])
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("west-data"))
        .args(["--log-level", "warn"])
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn daxlite");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("daxlite listening on ") => break,
            Some(Ok(_)) => {}
            _ => panic!("us-west-2 exited before its banner"),
        }
    }
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

/// Scans every region until all agree and hold every key of `acked`, at most `within`.
/// At most one more item may be there: the put in flight when the replica was killed
/// (done, but never acknowledged).
async fn scans_agree(clients: &[Client], table: &str, acked: &[String], within: Duration) {
    let start = Instant::now();
    let want = acked.len();
    loop {
        let mut scans = Vec::new();
        for c in clients {
            scans.push(scan(c, table).await);
        }
        let text = scans[0].join("\n");
        let all = acked
            .iter()
            .all(|pk| text.contains(&format!("S(\"{pk}\")")));
        if scans.windows(2).all(|w| w[0] == w[1]) && all && scans[0].len() <= want + 1 {
            return;
        }
        assert!(
            start.elapsed() < within,
            "the regions did not converge within {within:?}: {:?} items, want {want}",
            scans.iter().map(Vec::len).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Puts `prefix0, prefix1, …` through `client` until `stop`; answers how many were
/// acknowledged.
fn writer(
    client: Client,
    table: String,
    prefix: &'static str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        let mut n = 0;
        while !stop.load(Ordering::Relaxed) {
            let ok = client
                .put_item()
                .table_name(&table)
                .item("pk", AttributeValue::S(format!("{prefix}{n}")))
                .item("v", AttributeValue::S("x".into()))
                .send()
                .await
                .is_ok();
            if !ok {
                break;
            }
            n += 1;
        }
        n
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_stream_catches_up_with_nothing_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let addrs = addresses();
    let setup = Setup::default();
    let east = start_region(0, &addrs, &setup).await;
    let eu = start_region(1, &addrs, &setup).await;
    let mut west = spawn_west(&addrs, dir.path());
    let west_client = daxlite_tests::client_for(&format!("http://{}", addrs[2]));
    let servers = vec![east, eu];
    let table = global_table(&servers, "global-sigkill").await;
    let (east, eu) = (servers_client(&addrs, 0), servers_client(&addrs, 1));
    // Writes flow into us-east-1 and into us-west-2; us-west-2 is killed mid-stream.
    let stop = Arc::new(AtomicBool::new(false));
    let east_writes = writer(east.clone(), table.clone(), "e", stop.clone());
    let west_writes = writer(
        west_client.clone(),
        table.clone(),
        "w",
        Arc::new(AtomicBool::new(false)),
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    west.kill().expect("SIGKILL us-west-2");
    let _ = west.wait();
    // The writer into us-west-2 stops at its first failed call: what it counted was
    // acknowledged before the kill.
    let west_acked = west_writes.await.expect("west writer");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut west = spawn_west(&addrs, dir.path());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let east_acked = east_writes.await.expect("east writer");
    assert!(
        west_acked > 0 && east_acked > 0,
        "{west_acked} / {east_acked}"
    );
    let clients = [east, eu, west_client];
    let acked: Vec<String> = (0..east_acked)
        .map(|i| format!("e{i}"))
        .chain((0..west_acked).map(|i| format!("w{i}")))
        .collect();
    scans_agree(&clients, &table, &acked, Duration::from_secs(5)).await;
    let _ = west.kill();
    let _ = west.wait();
    for s in servers {
        s.stop().await;
    }
}

/// A client of region `i` at `addrs`.
fn servers_client(addrs: &[std::net::SocketAddr], i: usize) -> Client {
    daxlite_tests::client_for(&format!("http://{}", addrs[i]))
}
