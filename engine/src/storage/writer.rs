//! The single writer: a thread that takes write jobs from a queue, runs every job that
//! is waiting in one redb write transaction, commits once, and only then answers each
//! job's caller. One writer makes every write serializable; grouping makes it fast.

use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};

use redb::{Database, Durability, WriteTransaction};
use tokio::sync::oneshot;

use crate::changes::Feed;
use crate::wire::{ApiError, ApiResult};

/// Runs inside the shared transaction; returns what to do once the commit's fate is known.
/// The bool it returns says whether the job failed inside storage: such a job may
/// have written part of its work, so the whole group is rolled back.
type Job = Box<dyn FnOnce(&WriteTransaction) -> (Box<dyn FnOnce(bool) + Send>, bool) + Send>;

/// The most jobs one commit takes.
const MAX_GROUP: usize = 512;

#[derive(Clone)]
pub struct Writer {
    queue: Arc<Mutex<Option<Sender<Job>>>>,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Writer {
    /// `durable: false` is the seeded bug of `seeded` (answers before the commit is on
    /// disk); every real store passes `true`.
    pub(super) fn start(db: Arc<Database>, feed: Feed, durable: bool) -> Writer {
        let (tx, rx) = channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("daxlite-writer".into())
            .spawn(move || run(db, rx, feed, durable));
        let thread = match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the writer thread");
                None
            }
        };
        Writer {
            queue: Arc::new(Mutex::new(Some(tx))),
            thread: Arc::new(Mutex::new(thread)),
        }
    }

    pub(super) async fn submit<R, F>(&self, f: F) -> ApiResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&WriteTransaction) -> ApiResult<R> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel::<ApiResult<R>>();
        let job: Job = Box::new(move |txn| {
            let result = f(txn);
            let storage_failed = matches!(&result, Err(e) if e.is_storage_failure());
            let finish: Box<dyn FnOnce(bool) + Send> = Box::new(move |committed| {
                let answer = match result {
                    Ok(_) if !committed => Err(ApiError::internal("Internal server error")),
                    other => other,
                };
                let _ = done_tx.send(answer);
            });
            (finish, storage_failed)
        });
        let sent = match self.queue.lock() {
            Ok(guard) => guard.as_ref().map(|q| q.send(job).is_ok()).unwrap_or(false),
            Err(_) => false,
        };
        if !sent {
            return Err(ApiError::new(
                crate::wire::ErrorCode::ServiceUnavailable,
                "The server is shutting down",
            ));
        }
        done_rx
            .await
            .unwrap_or_else(|_| Err(ApiError::internal("Internal server error")))
    }

    /// Closes the queue, lets the writer commit what it already took, and waits for it,
    /// so the database file is released when this returns.
    pub(super) fn stop(&self) {
        if let Ok(mut guard) = self.queue.lock() {
            guard.take();
        }
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

fn run(db: Arc<Database>, rx: Receiver<Job>, feed: Feed, durable: bool) {
    let durability = if durable {
        Durability::Immediate
    } else {
        Durability::None
    };
    feed.collect_here();
    while let Ok(first) = rx.recv() {
        let mut jobs = Vec::with_capacity(32);
        jobs.push(first);
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => break,
            }
        }
        commit_group(&db, jobs, &feed, durability);
    }
}

/// Runs and commits one group, publishes its changes (before answering its callers, so
/// a subscriber hears of a write no later than the writer's caller).
fn commit_group(db: &Database, jobs: Vec<Job>, feed: &Feed, durability: Durability) {
    let mut txn = match db.begin_write() {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "storage failure");
            // The jobs never ran: answer each with a failure.
            for job in jobs {
                drop(job);
            }
            return;
        }
    };
    // Every commit is durable, in memory too: redb returns the pages a commit frees to its
    // allocator only after a durable commit, so `Durability::None` in memory kept every
    // overwritten page forever (~32 KB per write). The in-memory backend has nothing to
    // fsync, so a durable commit there costs a header write and no system call.
    txn.set_durability(durability);
    let mut finishers = Vec::with_capacity(jobs.len());
    let mut storage_failed = false;
    for job in jobs {
        let (finish, failed) = job(&txn);
        storage_failed |= failed;
        finishers.push(finish);
    }
    // A storage failure may have left a job half-written: roll back the whole group, so
    // every caller learns its write was not applied (none is half-applied).
    let committed = if storage_failed {
        if let Err(e) = txn.abort() {
            tracing::error!(error = %e, "storage failure");
        }
        false
    } else {
        match txn.commit() {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "storage failure");
                false
            }
        }
    };
    feed.finish_group(committed);
    for finish in finishers {
        finish(committed);
    }
}
