//! Targets: a name, an endpoint, the PIDs whose CPU is charged to it, its connections, and
//! the untimed set-up — creating the table, loading every item (BatchWriteItem, or PutItem
//! when the server lacks it), and a probe that skips workloads the server does not know.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::client::{Conn, Endpoint};
use crate::measure::Round;
use crate::spawn::Spawned;
use crate::workload::{check, Expect, Failure, Workload};

/// One thing being measured.
pub struct Target {
    pub name: String,
    pub url: String,
    /// How it was started (the command line) or `given`.
    pub origin: String,
    /// The limit server answers anything: no preload, no probe.
    pub is_limit: bool,
    pub endpoint: Arc<Endpoint>,
    pub pids: Vec<u32>,
    pub conns: Vec<Conn>,
    /// Why the workload does not run on this target.
    pub skipped: Option<String>,
    pub notes: Vec<String>,
    pub rounds: Vec<Round>,
    /// Keeps a spawned server alive as long as the target.
    pub spawned: Option<Spawned>,
}

/// Splits `name=value`.
pub fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((n, v)) if !n.is_empty() && !v.is_empty() => Ok((n.to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

impl Target {
    pub fn new(name: &str, endpoint: Endpoint, origin: String) -> Self {
        Target {
            name: name.to_string(),
            url: endpoint.url.clone(),
            origin,
            is_limit: false,
            endpoint: Arc::new(endpoint),
            pids: Vec::new(),
            conns: Vec::new(),
            skipped: None,
            notes: Vec::new(),
            rounds: Vec::new(),
            spawned: None,
        }
    }

    /// Opens connections up to `n`.
    pub async fn connect(&mut self, n: usize) -> Result<(), String> {
        while self.conns.len() < n {
            self.conns.push(self.endpoint.connect().await?);
        }
        Ok(())
    }

    async fn call(&mut self, req: &crate::workload::Req) -> Result<(), Failure> {
        let conn = self
            .conns
            .first_mut()
            .ok_or_else(|| Failure::Content("no connection".into()))?;
        let (status, body) = conn
            .call(req)
            .await
            .map_err(|e| Failure::Content(format!("transport: {e}")))?;
        check(req.expect, status, &body)
    }

    /// Creates the table (if missing), waits for ACTIVE, and loads every item.
    pub async fn preload(&mut self, w: &Arc<Workload>) -> Result<(), String> {
        match self.call(&w.create_table()).await {
            Ok(()) => {}
            Err(Failure::Status(_, t)) if t == "ResourceInUseException" => {}
            Err(f) => return Err(format!("CreateTable: {}", f.label())),
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let req = w.describe_table();
            let conn = self.conns.first_mut().ok_or("no connection")?;
            let (status, body) = conn.call(&req).await?;
            if status == 200
                && String::from_utf8_lossy(&body).contains("\"TableStatus\":\"ACTIVE\"")
            {
                break;
            }
            if Instant::now() > deadline {
                return Err("table not ACTIVE after 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let batch_ok = match self.call(&w.batch_write(0..1)).await {
            Ok(()) => true,
            Err(f) if f.is_unknown_operation() => {
                self.notes
                    .push("preload with PutItem (no BatchWriteItem on this server)".into());
                false
            }
            Err(f) => return Err(format!("BatchWriteItem: {}", f.label())),
        };
        let chunk = if batch_ok { 25 } else { 1 };
        let chunks = w.keys.div_ceil(chunk);
        let n = self.conns.len() as u64;
        let mut tasks = Vec::new();
        for (i, mut conn) in std::mem::take(&mut self.conns).into_iter().enumerate() {
            let w = Arc::clone(w);
            tasks.push(tokio::spawn(async move {
                let mut c = i as u64;
                let mut result = Ok(());
                while c < chunks {
                    let lo = c * chunk;
                    let hi = (lo + chunk).min(w.keys);
                    let req = if batch_ok {
                        w.batch_write(lo..hi)
                    } else {
                        w.put(lo, 0)
                    };
                    if let Err(e) = load(&mut conn, &w, &req, lo..hi).await {
                        result = Err(e);
                        break;
                    }
                    c += n;
                }
                (conn, result)
            }));
        }
        let mut first_error = None;
        for t in tasks {
            match t.await {
                Ok((conn, r)) => {
                    self.conns.push(conn);
                    if let Err(e) = r {
                        first_error.get_or_insert(e);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(format!("preload task: {e}"));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Sends one request of the workload; marks the target skipped when the server does
    /// not know the operation.
    pub async fn probe(&mut self, w: &Workload, seed: u64) -> Result<(), String> {
        use rand::SeedableRng;
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        let req = w.next(&mut rng);
        match self.call(&req).await {
            Ok(()) => Ok(()),
            Err(f) if f.is_unknown_operation() => {
                self.skipped = Some(format!(
                    "{} not supported by this server (UnknownOperationException)",
                    req.op
                ));
                Ok(())
            }
            Err(f) => Err(format!("{}: {}", req.op, f.label())),
        }
    }
}

/// Sends one load request; items a BatchWriteItem leaves unprocessed are put one by one.
async fn load(
    conn: &mut Conn,
    w: &Workload,
    req: &crate::workload::Req,
    range: std::ops::Range<u64>,
) -> Result<(), String> {
    let (status, body) = conn.call(req).await?;
    check(Expect::Ok, status, &body).map_err(|f| format!("{}: {}", req.op, f.label()))?;
    if req.op == "BatchWriteItem" && String::from_utf8_lossy(&body).contains("PutRequest") {
        for i in range {
            let put = w.put(i, 0);
            let (status, body) = conn.call(&put).await?;
            check(Expect::Ok, status, &body).map_err(|f| format!("PutItem: {}", f.label()))?;
        }
    }
    Ok(())
}
