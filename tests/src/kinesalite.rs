//! A real Kinesis-compatible server for the Kinesis destination tests: npm `kinesalite`
//! (pinned in `tests/kinesalite/package.json`), installed into `target/kinesalite` with
//! `npm install` the first time a test needs it, started on a free loopback port with its
//! data in a temporary LevelDB folder (so it can be stopped and started again with its
//! streams), and a raw JSON 1.1 client for the calls the tests make (CreateStream,
//! DescribeStreamSummary, ListShards, GetShardIterator, GetRecords).
//! Without `npm` / `node` the tests FAIL with a message saying so: they never skip.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// kinesalite's signature checks want these present (it does not verify them).
const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000";

static INSTALL: Mutex<()> = Mutex::new(());

/// Where kinesalite is installed: `<target>/kinesalite`.
fn install_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("kinesalite")
}

/// kinesalite's `cli.js`, installing it first when it is missing.
pub fn cli() -> PathBuf {
    let _one = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = install_dir();
    let cli = dir.join("node_modules/kinesalite/cli.js");
    if cli.exists() {
        return cli;
    }
    std::fs::create_dir_all(&dir).expect("create target/kinesalite");
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("kinesalite/package.json");
    std::fs::copy(&manifest, dir.join("package.json")).expect("copy package.json");
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("`npm install` of kinesalite into {} failed ({s}): the Kinesis tests need it", dir.display()),
        Err(e) => panic!(
            "the Kinesis tests need npm and node to install and run kinesalite (a real Kinesis-compatible server), and `npm` could not be run: {e}. Install Node.js (e.g. apt-get install nodejs npm)"
        ),
    }
    assert!(
        cli.exists(),
        "npm install finished but {} is missing",
        cli.display()
    );
    cli
}

/// A running (or stopped) kinesalite.
pub struct Kinesalite {
    pub port: u16,
    child: Option<Child>,
    data: tempfile::TempDir,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

impl Kinesalite {
    /// Installs (when needed) and starts kinesalite on a free port.
    pub fn start() -> Kinesalite {
        let mut k = Kinesalite {
            port: free_port(),
            child: None,
            data: tempfile::tempdir().expect("tempdir"),
        };
        k.resume();
        k
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts it again on the same port and data (after [`Kinesalite::stop`]).
    pub fn resume(&mut self) {
        let cli = cli();
        let mut child = Command::new("node")
            .arg(&cli)
            .args(["--port", &self.port.to_string()])
            .args(["--createStreamMs", "0", "--deleteStreamMs", "0"])
            .arg("--path")
            .arg(self.data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `node {}`: {e} (the Kinesis tests need Node.js)",
                    cli.display()
                )
            });
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next().and_then(Result::ok).unwrap_or_default();
        assert!(
            line.starts_with("Listening at"),
            "kinesalite did not start: {line:?}"
        );
        std::thread::spawn(move || for _ in lines {});
        self.child = Some(child);
    }

    /// Kills the process (the endpoint refuses connections until resumed).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// One call; `Err` when kinesalite cannot be reached.
    pub async fn try_call(&self, op: &str, body: Value) -> Result<(u16, Value), String> {
        use http_body_util::{BodyExt, Full};
        use hyper_util::rt::TokioIo;
        let addr = format!("127.0.0.1:{}", self.port);
        let stream = tokio::net::TcpStream::connect(&addr)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = http::Request::post("/")
            .header("host", addr)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("Kinesis_20131202.{op}"))
            .header("authorization", AUTH)
            .header("x-amz-date", "20240101T000000Z")
            .body(Full::new(bytes::Bytes::from(body.to_string())))
            .map_err(|e| e.to_string())?;
        let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// One call that must succeed.
    pub async fn call(&self, op: &str, body: Value) -> Value {
        let (status, v) = self
            .try_call(op, body.clone())
            .await
            .expect("kinesalite reachable");
        assert_eq!(status, 200, "{op} {body}: {v}");
        v
    }

    /// Creates a stream and waits until it is ACTIVE; answers its ARN.
    pub async fn create_stream(&self, name: &str, shards: u32) -> String {
        self.call(
            "CreateStream",
            json!({"StreamName": name, "ShardCount": shards}),
        )
        .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let v = self
                .call("DescribeStreamSummary", json!({"StreamName": name}))
                .await;
            let s = &v["StreamDescriptionSummary"];
            if s["StreamStatus"] == "ACTIVE" {
                return s["StreamARN"].as_str().unwrap_or_default().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "stream {name} never became ACTIVE"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every record of the stream, shard by shard in sequence order:
    /// (shard id, partition key, the Data decoded as JSON).
    pub async fn records(&self, stream: &str) -> Vec<(String, String, Value)> {
        let shards = self.call("ListShards", json!({"StreamName": stream})).await;
        let mut out = Vec::new();
        for shard in shards["Shards"].as_array().cloned().unwrap_or_default() {
            let id = shard["ShardId"].as_str().unwrap_or_default().to_string();
            let it = self
                .call(
                    "GetShardIterator",
                    json!({"StreamName": stream, "ShardId": id, "ShardIteratorType": "TRIM_HORIZON"}),
                )
                .await;
            let mut iterator = it["ShardIterator"].as_str().map(str::to_string);
            while let Some(i) = iterator.take() {
                let page = self
                    .call("GetRecords", json!({"ShardIterator": i, "Limit": 10000}))
                    .await;
                let list = page["Records"].as_array().cloned().unwrap_or_default();
                for r in &list {
                    let data = base64::engine::general_purpose::STANDARD
                        .decode(r["Data"].as_str().unwrap_or_default())
                        .expect("base64 Data");
                    let value: Value = serde_json::from_slice(&data).expect("Data is JSON");
                    let pk = r["PartitionKey"].as_str().unwrap_or_default().to_string();
                    out.push((id.clone(), pk, value));
                }
                if !list.is_empty() {
                    iterator = page["NextShardIterator"].as_str().map(str::to_string);
                }
            }
        }
        out
    }

    /// Polls [`Kinesalite::records`] until at least `n` arrived (or 20 s passed).
    pub async fn wait_for(&self, stream: &str, n: usize) -> Vec<(String, String, Value)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let got = self.records(stream).await;
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Kinesalite {
    fn drop(&mut self) {
        self.stop();
    }
}
