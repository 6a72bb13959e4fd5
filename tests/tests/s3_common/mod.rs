//! A real S3-compatible server for the tests: moto's (PyPI `moto[server]`), installed by
//! `tests/s3/install-moto.sh` into a virtualenv under the target dir the first time it
//! is needed, started on a free loopback port and killed when the guard drops. Without
//! Python the tests fail with a message saying so — they never pass by skipping.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};

/// The target dir the tests were built into (`CARGO_TARGET_DIR` or `<workspace>/target`).
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// `moto_server` from the project's virtualenv, installed now if missing. Installs are
/// serialised across test processes by a lock file.
fn moto_binary() -> PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _g = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = target_dir().join("moto-venv");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("s3/install-moto.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(&venv)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "installing moto[server] (the S3-compatible server these tests need) failed:\n{}{}\n\
         These tests need Python 3 with venv and pip, and PyPI reachable the first time.",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    venv.join("bin/moto_server")
}

/// A running moto server.
pub struct Moto {
    child: Child,
    pub addr: SocketAddr,
}

impl Moto {
    pub async fn start() -> Moto {
        let bin = moto_binary();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let moto = Moto {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        };
        for _ in 0..300 {
            if http(moto.addr, "GET", "/").await.is_some_and(|s| s == 200) {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto_server did not answer on {} within 30 s", moto.addr);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates bucket `name` (S3 CreateBucket: `PUT /<name>`).
    pub async fn create_bucket(&self, name: &str) {
        let status = http(self.addr, "PUT", &format!("/{name}")).await;
        assert_eq!(status, Some(200), "CreateBucket {name}");
    }

    /// An S3 client of bucket `name` (object_store's, as any S3 reader would be).
    pub fn bucket(&self, name: &str) -> Arc<AmazonS3> {
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(self.url())
                .with_allow_http(true)
                .with_region("us-east-1")
                .with_bucket_name(name)
                .with_access_key_id("test")
                .with_secret_access_key("test")
                .build()
                .unwrap(),
        )
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One unsigned request to moto (it does not check signatures); its status.
async fn http(addr: SocketAddr, method: &str, path: &str) -> Option<u16> {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::rt::TokioIo;
    let stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .ok()?;
    tokio::spawn(conn);
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .body(Empty::<bytes::Bytes>::new())
        .ok()?;
    let resp = sender.send_request(req).await.ok()?;
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    Some(status)
}
