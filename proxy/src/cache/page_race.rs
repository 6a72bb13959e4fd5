//! The page fill-versus-write race (coherent mode): a Query whose upstream read started
//! before a write to its partition must not be served after the write, even though its
//! fill lands after it; a write to another partition leaves it alone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use daxlite_engine::wire::Operation;
use tokio::sync::Notify;

use super::{CacheConfig, Cached};
use crate::upstream::{Reply, Request, Upstream};

/// Answers DescribeTable, PutItem, and Query (the first Query waits for `release`).
#[derive(Default)]
struct Slow {
    pages: AtomicUsize,
    release: Notify,
    entered: Notify,
}

impl Upstream for Arc<Slow> {
    async fn call(&self, req: Request) -> Reply {
        match req.op {
            Operation::DescribeTable => Reply::ok(
                r#"{"Table":{"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}}"#,
            ),
            Operation::Query => {
                let n = self.pages.fetch_add(1, Ordering::SeqCst);
                if n == 0 {
                    self.entered.notify_one();
                    self.release.notified().await;
                }
                Reply::ok(format!(r#"{{"Count":0,"Items":[],"ScannedCount":{n}}}"#))
            }
            _ => Reply::ok("{}"),
        }
    }

    fn supports(&self, _: Operation) -> bool {
        true
    }
}

fn req(op: Operation, body: &str) -> Request {
    Request {
        op,
        body: Bytes::from(body.to_string()),
    }
}

const QUERY: &str = r#"{"TableName":"t","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"a"}}}"#;

async fn race(put_pk: &str) -> usize {
    let slow = Arc::new(Slow::default());
    let cache = Arc::new(Cached::new(Arc::clone(&slow), CacheConfig::default()));
    // Learn the schema first, so the race is only between the page read and the write.
    let _ = cache
        .call(req(Operation::DescribeTable, r#"{"TableName":"t"}"#))
        .await;
    let reader = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move { cache.call(req(Operation::Query, QUERY)).await })
    };
    slow.entered.notified().await;
    let put = format!(r#"{{"TableName":"t","Item":{{"pk":{{"S":"{put_pk}"}}}}}}"#);
    assert_eq!(cache.call(req(Operation::PutItem, &put)).await.status, 200);
    slow.release.notify_one();
    let first = reader.await.map(|r| r.status).unwrap_or(0);
    assert_eq!(first, 200);
    let _ = cache.call(req(Operation::Query, QUERY)).await;
    slow.pages.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_page_read_before_a_write_to_its_partition_is_never_served_after_it() {
    assert_eq!(race("a").await, 2, "the late fill was dead on arrival");
    assert_eq!(
        race("b").await,
        1,
        "another partition's write leaves the page alone"
    );
}
