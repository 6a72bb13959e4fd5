use super::*;
use crate::wire::ApiError;

#[tokio::test]
async fn writes_survive_reopen_and_group_commit_answers_each_job() {
    let dir = tempfile::tempdir()
        .map_err(|e| e.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let backend = Backend::Dir(dir.path().to_path_buf());
    {
        let store = Store::open(&backend).unwrap_or_else(|e| panic!("{e}"));
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
    let store = Store::open(&backend).unwrap_or_else(|e| panic!("{e}"));
    let r = store.read().unwrap_or_else(|e| panic!("{e}"));
    let t = r.open_table(CATALOG).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(t.len().unwrap_or(0), 50);
}

#[tokio::test]
async fn a_failed_job_reports_its_error() {
    let store = Store::open(&Backend::InMemory).unwrap_or_else(|e| panic!("{e}"));
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
    let store = Store::open(&Backend::InMemory).unwrap_or_else(|e| panic!("{e}"));
    let r: ApiResult<()> = store
        .write(|txn| {
            let mut t = txn.open_table(CATALOG).map_err(internal)?;
            t.insert("half", b"written".as_slice()).map_err(internal)?;
            Err(ApiError::internal("disk full"))
        })
        .await;
    assert_eq!(r.err().map(|e| e.status()), Some(500));
    let snapshot = store.read().unwrap_or_else(|e| panic!("{e}"));
    let t = snapshot
        .open_table(CATALOG)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        t.get("half").unwrap_or_else(|e| panic!("{e}")).is_none(),
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
