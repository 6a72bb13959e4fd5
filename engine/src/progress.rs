//! Progress of the long jobs — backups, restores, exports and imports: items and bytes
//! done and the rate, logged at most once a second while a job runs (and once at its
//! end), and kept in `/metrics` through the `metrics` facade (the proxy's Prometheus
//! recorder serves them):
//!
//! - `daxlite_job_items_done{kind,job}` and `daxlite_job_bytes_done{kind,job}` (gauges:
//!   the job's count so far, left at the final figure when it ends);
//! - `daxlite_job_items_per_second{kind,job}` (gauge: the job's mean rate so far);
//! - `daxlite_jobs_running{kind}` (gauge);
//! - `daxlite_job_items_total{kind}` and `daxlite_job_bytes_total{kind}` (counters over
//!   every job of a kind).
//!
//! `kind` is `backup`, `restore`, `export` or `import`; `job` is the backup, export or
//! import id, or the restored table's name. Nothing is recorded outside these jobs.

use std::time::{Duration, Instant};

use metrics::{Counter, Gauge};

pub const ITEMS_DONE: &str = "daxlite_job_items_done";
pub const BYTES_DONE: &str = "daxlite_job_bytes_done";
pub const ITEMS_PER_SECOND: &str = "daxlite_job_items_per_second";
pub const RUNNING: &str = "daxlite_jobs_running";
pub const ITEMS_TOTAL: &str = "daxlite_job_items_total";
pub const BYTES_TOTAL: &str = "daxlite_job_bytes_total";

/// How often a running job logs its progress, at most.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// One running job's progress.
pub struct Progress {
    kind: &'static str,
    job: String,
    started: Instant,
    logged: Instant,
    items: u64,
    bytes: u64,
    items_done: Gauge,
    bytes_done: Gauge,
    rate: Gauge,
    running: Gauge,
    items_total: Counter,
    bytes_total: Counter,
    finished: bool,
}

impl Progress {
    /// Starts the progress of job `job` of kind `kind` (at 0).
    pub fn start(kind: &'static str, job: impl Into<String>) -> Progress {
        let job = job.into();
        let labels = [("kind", kind.to_string()), ("job", job.clone())];
        let running = metrics::gauge!(RUNNING, "kind" => kind);
        running.increment(1.0);
        let p = Progress {
            kind,
            started: Instant::now(),
            logged: Instant::now(),
            items: 0,
            bytes: 0,
            items_done: metrics::gauge!(ITEMS_DONE, &labels),
            bytes_done: metrics::gauge!(BYTES_DONE, &labels),
            rate: metrics::gauge!(ITEMS_PER_SECOND, &labels),
            running,
            items_total: metrics::counter!(ITEMS_TOTAL, "kind" => kind),
            bytes_total: metrics::counter!(BYTES_TOTAL, "kind" => kind),
            job,
            finished: false,
        };
        p.items_done.set(0.0);
        p.bytes_done.set(0.0);
        p.rate.set(0.0);
        p
    }

    /// Counts `items` more items of `bytes` bytes; logs when a second has passed since
    /// the last line.
    pub fn add(&mut self, items: u64, bytes: u64) {
        self.items += items;
        self.bytes += bytes;
        self.items_total.increment(items);
        self.bytes_total.increment(bytes);
        self.items_done.set(self.items as f64);
        self.bytes_done.set(self.bytes as f64);
        self.rate.set(self.items_per_second());
        if self.logged.elapsed() >= LOG_EVERY {
            self.logged = Instant::now();
            self.log("in progress");
        }
    }

    pub fn items(&self) -> u64 {
        self.items
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn items_per_second(&self) -> f64 {
        self.items as f64 / self.seconds().max(1e-9)
    }

    fn log(&self, what: &str) {
        let secs = self.seconds();
        tracing::info!(
            kind = self.kind,
            job = %self.job,
            items = self.items,
            bytes = self.bytes,
            seconds = secs,
            items_per_s = self.items_per_second(),
            mb_per_s = self.bytes as f64 / 1e6 / secs.max(1e-9),
            "{} {what}",
            self.kind
        );
    }

    /// Ends the job: one last line saying how (`completed`, `failed`, ...).
    pub fn finish(mut self, outcome: &str) {
        self.rate.set(self.items_per_second());
        self.log(outcome);
        self.finished = true;
        self.running.decrement(1.0);
    }
}

impl Drop for Progress {
    /// A job that ends without `finish` (an error, its task dropped) stops counting as
    /// running.
    fn drop(&mut self) {
        if !self.finished {
            self.running.decrement(1.0);
        }
    }
}
