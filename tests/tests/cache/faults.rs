//! The proxy under transport faults, with a raw-TCP fake upstream that serves
//! DescribeTable and GetItem properly and misbehaves on PutItem after applying it: it
//! hangs (the upstream timeout makes the outcome unknown), truncates the reply body, or
//! resets the connection mid-body; plus an upstream that refuses connections. In every
//! case the client gets an error, the write is not retried, and the key is invalidated,
//! so the next read sees the applied value instead of a stale cached one.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use daxlite::cache::{CacheConfig, Cached};
use daxlite::Config;
use daxlite_tests::call;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::remote_with;

#[derive(Clone, Copy, Debug)]
enum Mode {
    Hang,
    Truncate,
    Reset,
}

#[derive(Default)]
struct State {
    version: AtomicUsize,
    puts: AtomicUsize,
}

const DESCRIBE: &str = r#"{"Table":{"TableName":"t","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}}"#;

/// Reads one HTTP/1.1 request: (target, body); `None` when the peer closed.
async fn read_request(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(chunk.get(..n)?);
    };
    let head = String::from_utf8_lossy(buf.get(..head_end)?).to_ascii_lowercase();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
    };
    let length: usize = header("content-length:")?.parse().ok()?;
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(chunk.get(..n)?);
    }
    header("x-amz-target:")
}

fn response(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn serve_conn(mut stream: TcpStream, mode: Mode, state: Arc<State>) {
    while let Some(target) = read_request(&mut stream).await {
        let body = match target.as_str() {
            "dynamodb_20120810.describetable" => DESCRIBE.to_string(),
            "dynamodb_20120810.getitem" => {
                let v = state.version.load(Ordering::SeqCst);
                format!(r#"{{"Item":{{"pk":{{"S":"a"}},"v":{{"N":"{v}"}}}}}}"#)
            }
            "dynamodb_20120810.putitem"
            | "dynamodb_20120810.batchwriteitem"
            | "dynamodb_20120810.transactwriteitems" => {
                state.puts.fetch_add(1, Ordering::SeqCst);
                state.version.fetch_add(1, Ordering::SeqCst);
                let full =
                    response(r#"{"ConsumedCapacity":{"TableName":"t","CapacityUnits":1.0}}"#);
                let half = full.get(..full.len() - 20).unwrap_or_default().to_vec();
                match mode {
                    Mode::Hang => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        return;
                    }
                    Mode::Truncate => {
                        // The fake misbehaves on purpose; whether the peer still reads
                        // is what the test observes, not these results.
                        let _ = stream.write_all(&half).await;
                        let _ = stream.shutdown().await;
                        return;
                    }
                    Mode::Reset => {
                        let _ = stream.write_all(&half).await;
                        // Linger 0 never blocks on drop: it is how a reset is sent.
                        #[allow(deprecated)]
                        let _ = stream.set_linger(Some(Duration::ZERO));
                        return; // dropped with linger 0: RST
                    }
                }
            }
            _ => "{}".to_string(),
        };
        if stream.write_all(&response(&body)).await.is_err() {
            return;
        }
    }
}

async fn misbehaving(mode: Mode, state: Arc<State>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_conn(stream, mode, Arc::clone(&state)));
        }
    });
    addr
}

const GET: &str = r#"{"TableName":"t","Key":{"pk":{"S":"a"}}}"#;
const PUT: &str = r#"{"TableName":"t","Item":{"pk":{"S":"a"},"v":{"N":"99"}}}"#;
const BATCH: &str =
    r#"{"RequestItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"a"},"v":{"N":"99"}}}}]}}"#;
const TX: &str = r#"{"TransactItems":[{"Delete":{"TableName":"t","Key":{"pk":{"S":"a"}}}}]}"#;

#[tokio::test]
async fn an_unknown_write_outcome_invalidates_the_key() {
    for mode in [Mode::Hang, Mode::Truncate, Mode::Reset] {
        let state = Arc::new(State::default());
        let fake = misbehaving(mode, Arc::clone(&state)).await;
        let remote = remote_with(fake, 3, Duration::from_millis(300));
        let server = daxlite::serve_upstream(
            &Config::ephemeral(),
            Cached::new(remote, CacheConfig::default()),
        )
        .await
        .unwrap();
        let addr = server.addr;
        let r = call(addr, "DynamoDB_20120810.GetItem", GET).await;
        assert_eq!(
            r.text(),
            r#"{"Item":{"pk":{"S":"a"},"v":{"N":"0"}}}"#,
            "{mode:?}"
        );
        let r = call(addr, "DynamoDB_20120810.PutItem", PUT).await;
        assert_eq!(r.status, 500, "{mode:?}: {}", r.text());
        assert_eq!(
            r.json()["__type"],
            "com.amazonaws.dynamodb.v20120810#InternalServerError",
            "{mode:?}"
        );
        assert_eq!(
            state.puts.load(Ordering::SeqCst),
            1,
            "{mode:?}: a write was retried"
        );
        // The upstream applied the write (version 1); the cache neither kept version 0
        // nor stored the request's item.
        let r = call(addr, "DynamoDB_20120810.GetItem", GET).await;
        assert_eq!(
            r.text(),
            r#"{"Item":{"pk":{"S":"a"},"v":{"N":"1"}}}"#,
            "{mode:?}"
        );
        // The same for a batch write and a transaction: every key named is dropped.
        for (n, (op, body)) in [("BatchWriteItem", BATCH), ("TransactWriteItems", TX)]
            .into_iter()
            .enumerate()
        {
            let r = call(addr, &format!("DynamoDB_20120810.{op}"), body).await;
            assert_eq!(r.status, 500, "{mode:?} {op}: {}", r.text());
            let r = call(addr, "DynamoDB_20120810.GetItem", GET).await;
            let expected = format!(r#"{{"Item":{{"pk":{{"S":"a"}},"v":{{"N":"{}"}}}}}}"#, n + 2);
            assert_eq!(r.text(), expected, "{mode:?} {op}");
        }
        assert_eq!(
            state.puts.load(Ordering::SeqCst),
            3,
            "{mode:?}: a write was retried"
        );
        let text = super::metrics_text(addr).await;
        assert!(
            text.contains(r#"daxlite_invalidations{cause="unknown_outcome"}"#),
            "{mode:?}: invalidations by cause"
        );
        server.shutdown().await;
    }
}

#[tokio::test]
async fn a_refused_connection_is_an_error_and_caches_nothing() {
    let gone = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let remote = remote_with(gone, 1, Duration::from_millis(500));
    let server = daxlite::serve_upstream(
        &Config::ephemeral(),
        Cached::new(remote, CacheConfig::default()),
    )
    .await
    .unwrap();
    let addr = server.addr;
    // Its own table, so the process-wide hit and miss counters are this test's alone.
    let t = daxlite_tests::unique_name("refused");
    let get = format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}}}}}}"#);
    let put = format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"v":{{"N":"99"}}}}}}"#);
    let query = format!(
        r#"{{"TableName":"{t}","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{{":p":{{"S":"a"}}}}}}"#
    );
    // Each read twice: had the first stored anything (the refused write's item, an error),
    // the second would be a hit.
    for (target, body) in [
        ("PutItem", &put),
        ("GetItem", &get),
        ("GetItem", &get),
        ("Query", &query),
        ("Query", &query),
    ] {
        let r = call(addr, &format!("DynamoDB_20120810.{target}"), body).await;
        assert_eq!(r.status, 503, "{target}: {}", r.text());
        assert_eq!(
            r.json()["__type"],
            "com.amazonaws.dynamodb.v20120810#ServiceUnavailable",
            "{target}"
        );
    }
    assert_eq!(
        super::counter(addr, "daxlite_item_cache_hits", &t).await,
        0,
        "nothing was cached"
    );
    assert_eq!(
        super::counter(addr, "daxlite_query_cache_hits", &t).await,
        0
    );
    server.shutdown().await;
}
