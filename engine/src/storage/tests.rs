use super::*;
use crate::wire::ApiError;

#[tokio::test]
async fn writes_survive_reopen_and_group_commit_answers_each_job() {
    let dir = tempfile::tempdir().map_err(|e| e.to_string()).unwrap();
    let backend = Backend::Dir(dir.path().to_path_buf());
    {
        let store = Store::open(&backend, 0).unwrap();
        let mut handles = Vec::new();
        for i in 0..50u32 {
            let s = store.clone();
            handles.push(tokio::spawn(async move {
                s.write(move |txn| {
                    let mut t = txn.open_table(CATALOG).map_err(internal)?;
                    t.insert(format!("t{i}").as_str(), i.to_be_bytes().as_slice())
                        .map_err(internal)?;
                    Ok(i)
                })
                .await
            }));
        }
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.ok().and_then(|r| r.ok()), Some(i as u32));
        }
        store.close();
    }
    let store = Store::open(&backend, 0).unwrap();
    let r = store.read().unwrap();
    let t = r.open_table(CATALOG).unwrap();
    assert_eq!(t.len().unwrap_or(0), 50);
}

#[tokio::test]
async fn a_failed_job_reports_its_error() {
    let store = Store::open(&Backend::InMemory, 0).unwrap();
    let r: ApiResult<()> = store.write(|_| Err(ApiError::validation("no"))).await;
    assert_eq!(
        r.err()
            .and_then(|e| e.message().map(str::to_string))
            .as_deref(),
        Some("no")
    );
}

#[tokio::test]
async fn a_storage_failure_rolls_back_what_the_job_wrote() {
    let store = Store::open(&Backend::InMemory, 0).unwrap();
    let r: ApiResult<()> = store
        .write(|txn| {
            let mut t = txn.open_table(CATALOG).map_err(internal)?;
            t.insert("half", b"written".as_slice()).map_err(internal)?;
            Err(ApiError::internal("disk full"))
        })
        .await;
    assert_eq!(r.err().map(|e| e.status()), Some(500));
    let snapshot = store.read().unwrap();
    let t = snapshot.open_table(CATALOG).unwrap();
    assert!(
        t.get("half").unwrap().is_none(),
        "the partial write was committed"
    );
    // The writer goes on working after a rolled-back group.
    let ok: ApiResult<u8> = store
        .write(|txn| {
            let mut t = txn.open_table(CATALOG).map_err(internal)?;
            t.insert("next", b"x".as_slice()).map_err(internal)?;
            Ok(1)
        })
        .await;
    assert_eq!(ok.ok(), Some(1));
}

/// A waker that does nothing: lets the test poll a write once, which queues its job.
struct NoopWake;

impl std::task::Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

/// Polls `f` once (so a `Store::write` queues its job) and hands it back to be awaited.
fn queue_now<F: std::future::Future + Unpin>(mut f: F) -> F {
    let waker = std::task::Waker::from(Arc::new(NoopWake));
    let mut cx = std::task::Context::from_waker(&waker);
    let polled = std::pin::Pin::new(&mut f).poll(&mut cx);
    assert!(
        polled.is_pending(),
        "the write finished before the writer was released"
    );
    f
}

/// Group-commit rollback for a group of several jobs: a gate job (its own group, formed
/// before the others exist) holds the writer while four jobs queue up behind it, so the
/// writer takes all four as one group; the third
/// fails inside storage after writing. The whole group is rolled back: none of the other
/// jobs' writes is visible, and each of their callers is told its write failed (500).
#[tokio::test]
async fn a_storage_failure_rolls_back_every_job_of_its_group() {
    let store = Store::open(&Backend::InMemory, 0).unwrap();
    let (release, gate) = std::sync::mpsc::channel::<()>();
    let (running_tx, running) = std::sync::mpsc::channel::<()>();
    let gate = queue_now(Box::pin(store.write(move |txn| {
        let mut t = txn.open_table(CATALOG).map_err(internal)?;
        t.insert("gate", b"g".as_slice()).map_err(internal)?;
        // Running means the gate's group is formed; hold the writer thread until the
        // group behind is queued.
        running_tx.send(()).map_err(internal)?;
        gate.recv().map_err(internal)?;
        Ok(())
    })));
    running.recv().unwrap();
    let job = |key: &'static str, fail: bool| {
        queue_now(Box::pin(store.write(move |txn| {
            let mut t = txn.open_table(CATALOG).map_err(internal)?;
            t.insert(key, b"v".as_slice()).map_err(internal)?;
            if fail {
                return Err(ApiError::internal("disk full"));
            }
            Ok(())
        })))
    };
    let group = [
        job("a", false),
        job("b", false),
        job("half", true),
        job("c", false),
    ];
    release.send(()).unwrap();
    assert!(gate.await.is_ok(), "the gate's own group commits");
    for (i, f) in group.into_iter().enumerate() {
        let r = f.await;
        // The failing job answers its own error; the others learn theirs was not applied.
        let message = if i == 2 {
            "disk full"
        } else {
            "Internal server error"
        };
        assert_eq!(
            r.err()
                .map(|e| (e.status(), e.message().map(str::to_string))),
            Some((500, Some(message.to_string()))),
            "job {i} of the failed group"
        );
    }
    let snapshot = store.read().unwrap();
    let t = snapshot.open_table(CATALOG).unwrap();
    assert!(t.get("gate").unwrap().is_some());
    for key in ["a", "b", "half", "c"] {
        assert!(
            t.get(key).unwrap().is_none(),
            "{key} of the rolled-back group is visible"
        );
    }
}
