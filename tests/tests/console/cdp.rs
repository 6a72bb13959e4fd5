//! A small Chrome DevTools Protocol driver for Debian's headless Chromium, over
//! `--remote-debugging-pipe` (fd 3 in, fd 4 out, NUL-terminated JSON): no WebSocket and
//! no extra crate. Chromium is started through `bash` so its fds 3 and 4 are our pipes.
//! It fails loudly — never skips — when Chromium is missing or does not answer.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// Where Debian installs it (`tests/console/install-chromium.sh`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::UnboundedReceiver<Value>,
    next: u64,
    session: String,
    log: PathBuf,
}

impl Browser {
    /// Starts headless Chromium with a fresh profile under `work` and opens one page.
    pub async fn start(work: &Path) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: run tests/console/install-chromium.sh (apt-get install -y chromium)"
        );
        std::fs::create_dir_all(work).unwrap();
        let profile = tempfile::tempdir_in(work).unwrap().keep();
        let log = work.join("chromium.log");
        let mut child = Command::new("bash")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 3<&0 4>&1 </dev/null >/dev/null")
            .arg(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            let mut buf = Vec::new();
            while r.read_until(0, &mut buf).map(|n| n > 0).unwrap_or(false) {
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
                buf.clear();
            }
        });
        let mut b = Browser {
            child,
            stdin,
            rx,
            next: 0,
            session: String::new(),
            log,
        };
        let target = b
            .send_to(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let target = target["targetId"].as_str().unwrap().to_string();
        let attached = b
            .send_to(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target, "flatten": true }),
            )
            .await;
        b.session = attached["sessionId"].as_str().unwrap().to_string();
        b.send("Page.enable", json!({})).await;
        b.send(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
        b
    }

    async fn send_to(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        if let Err(e) = self
            .stdin
            .write_all(&bytes)
            .and_then(|_| self.stdin.flush())
        {
            panic!(
                "Chromium's pipe is closed ({e}); its log:\n{}",
                self.log_text()
            );
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(v)) if v["id"] == json!(id) => {
                    if let Some(e) = v.get("error") {
                        return json!({ "__error": e });
                    }
                    return v["result"].clone();
                }
                Ok(Some(_event)) => continue,
                Ok(None) => panic!("Chromium exited; its log:\n{}", self.log_text()),
                Err(_) => panic!(
                    "Chromium did not answer {method} in 20 s; its log:\n{}",
                    self.log_text()
                ),
            }
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A command to the page.
    pub async fn send(&mut self, method: &str, params: Value) -> Value {
        let s = self.session.clone();
        self.send_to(Some(&s), method, params).await
    }

    /// Evaluates `js` in the page (promises awaited); its value, or `Err` with the
    /// exception (a page that is navigating has no context yet).
    pub async fn try_eval(&mut self, js: &str) -> Result<Value, String> {
        let r = self
            .send(
                "Runtime.evaluate",
                json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if let Some(e) = r.get("__error") {
            return Err(e.to_string());
        }
        if let Some(e) = r.get("exceptionDetails") {
            return Err(e.to_string());
        }
        Ok(r["result"]["value"].clone())
    }

    pub async fn eval(&mut self, js: &str) -> Value {
        self.try_eval(js)
            .await
            .unwrap_or_else(|e| panic!("{js}: {e}"))
    }

    /// Waits (up to 10 s) until `js` is truthy in a fully loaded page.
    pub async fn wait(&mut self, js: &str) {
        let cond = format!("document.readyState === 'complete' && !!({js})");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.try_eval(&cond).await == Ok(json!(true)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let at = self
            .try_eval("location.href + '\\n' + document.body.innerText")
            .await;
        panic!("timed out waiting for {js}; the page: {at:?}");
    }

    /// Opens `url` and waits until it loaded.
    pub async fn goto(&mut self, url: &str) {
        self.send("Page.navigate", json!({ "url": url })).await;
        self.wait(&format!("location.href === {}", json!(url)))
            .await;
    }

    /// Takes a PNG screenshot into `path` and checks it is not blank.
    pub async fn screenshot(&mut self, path: &Path) {
        let r = self
            .send("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &png).unwrap();
        let distinct = distinct_pixel_bytes(&png);
        assert!(
            png.len() > 10_000 && distinct > 32,
            "{} looks blank: {} bytes, {distinct} distinct pixel byte values",
            path.display(),
            png.len()
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How many distinct byte values a PNG's pixel rows hold (its IDAT stream inflated,
/// filter bytes skipped): a uniform image has a handful, a rendered page many.
pub fn distinct_pixel_bytes(png: &[u8]) -> usize {
    use std::io::Read;
    let mut at = 8;
    let mut idat = Vec::new();
    let mut width = 0usize;
    while at + 8 <= png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..(at + 8 + len).min(png.len())];
        if kind == b"IHDR" {
            width = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
        }
        if kind == b"IDAT" {
            idat.extend_from_slice(data);
        }
        at += 12 + len;
    }
    let mut raw = Vec::new();
    if flate2::read::ZlibDecoder::new(&idat[..])
        .read_to_end(&mut raw)
        .is_err()
    {
        return 0;
    }
    let row = if width == 0 {
        raw.len().max(1)
    } else {
        raw.len() / (raw.len() / (width * 3 + 1)).max(1)
    };
    let mut seen = [false; 256];
    for (i, b) in raw.iter().enumerate() {
        if i % row != 0 {
            seen[*b as usize] = true;
        }
    }
    seen.iter().filter(|s| **s).count()
}
