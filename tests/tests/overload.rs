//! Overload and slow clients (`[limits]`, `[upstream] max_in_flight`, `[cache]
//! serve_stale_on_error`; proxy/docs/OVERLOAD.md), seen from a client's socket: a slowloris
//! head is cut off after `header_read_timeout`, a slow body is answered 408 after
//! `body_read_timeout`, requests beyond the in-flight bounds (per process, per h2
//! connection) get ThrottlingException at once, connections beyond `max_connections` wait
//! in the backlog, calls beyond a slow remote upstream's bound are shed at once, and a
//! cached item answers GetItem while the upstream is down only with `serve_stale_on_error`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use daxlite::overload::{Limits, THROTTLED_MESSAGE};
use daxlite::upstream::{Remote, RemoteConfig};
use daxlite::Config;
use daxlite_tests::{assert_error, call, call_ok, create_pk_table, Mode, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const THROTTLING: &str = "com.amazonaws.dynamodb.v20120810#ThrottlingException";

async fn server_with(limits: Limits) -> TestServer {
    let mut config = Mode::Engine.config();
    config.service.body_read_timeout = limits.body_read_timeout;
    config.limits = limits;
    TestServer::start_with(config, None).await
}

/// Reads until the peer closes or `within` passes: (bytes read, closed).
async fn read_until_closed(s: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return (out, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// The head of a ListTables call with a `length`-byte body.
fn head(length: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amz-target: DynamoDB_20120810.ListTables\r\nx-amz-date: 20240101T000000Z\r\n\
         authorization: {}\r\ncontent-length: {length}\r\n\r\n",
        daxlite_tests::AUTH
    )
}

#[tokio::test]
async fn a_slowloris_head_is_cut_off_after_header_read_timeout() {
    let s = server_with(Limits {
        header_read_timeout: Some(Duration::from_millis(300)),
        ..Limits::default()
    })
    .await;
    // Silent after connecting.
    let started = Instant::now();
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(3)).await;
    assert!(closed, "a silent connection stays open");
    assert!(started.elapsed() >= Duration::from_millis(250));
    // A head dripped one byte every 50 ms (never finished).
    let started = Instant::now();
    let mut drip = TcpStream::connect(s.addr).await.unwrap();
    let text = head(2);
    let mut closed = false;
    for b in text.as_bytes() {
        if drip.write_all(&[*b]).await.is_err() {
            closed = true;
            break;
        }
        let (_, c) = read_until_closed(&mut drip, Duration::from_millis(50)).await;
        if c {
            closed = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    assert!(
        closed,
        "a dripped head was still read after {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // An idle keep-alive connection is closed after the same time; a prompt client is served.
    let mut ok = TcpStream::connect(s.addr).await.unwrap();
    ok.write_all(format!("{}{{}}", head(2)).as_bytes())
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut ok, Duration::from_secs(3)).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    assert!(closed, "the idle keep-alive connection stays open");
    s.stop().await;
}

#[tokio::test]
async fn without_limits_a_silent_connection_stays_open() {
    let s = server_with(Limits::default()).await;
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_millis(500)).await;
    assert!(!closed, "closed without a header_read_timeout");
    drop(silent);
    s.stop().await;
}

#[tokio::test]
async fn a_slow_body_is_answered_408_after_body_read_timeout() {
    let s = server_with(Limits {
        body_read_timeout: Some(Duration::from_millis(300)),
        ..Limits::default()
    })
    .await;
    let started = Instant::now();
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(format!("{}{{\"Li", head(100)).as_bytes())
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut c, Duration::from_secs(3)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(closed, "the connection stays open after 408");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );
    s.stop().await;
}

/// Starts a ListTables call whose 2-byte body is held back: it is in flight until `finish`.
async fn held_call(addr: SocketAddr) -> TcpStream {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(format!("{}{{", head(2)).as_bytes())
        .await
        .unwrap();
    c
}

async fn finish(mut c: TcpStream) -> String {
    c.write_all(b"}").await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(3), c.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[tokio::test]
async fn requests_beyond_max_in_flight_are_throttled_at_once() {
    let s = server_with(Limits {
        max_in_flight: Some(2),
        ..Limits::default()
    })
    .await;
    let held = [held_call(s.addr).await, held_call(s.addr).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let burst: Vec<_> = (0..50)
        .map(|_| tokio::spawn(call(s.addr, "DynamoDB_20120810.ListTables", "{}")))
        .collect();
    for r in burst {
        let r = r.await.unwrap();
        assert_error(&r, 400, THROTTLING, Some(THROTTLED_MESSAGE));
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "50 refusals took {took:?}");
    for c in held {
        let answer = finish(c).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    call_ok(s.addr, "DynamoDB_20120810.ListTables", "{}").await;
    s.stop().await;
}

#[tokio::test]
async fn max_in_flight_per_connection_bounds_h2_streams() {
    use futures::StreamExt;
    use http_body_util::{combinators::BoxBody, BodyExt, StreamBody};
    use hyper::body::Frame;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    type Body = BoxBody<Bytes, std::convert::Infallible>;
    /// A request body sent piece by piece through the returned sender.
    fn channel() -> (futures::channel::mpsc::UnboundedSender<Bytes>, Body) {
        let (tx, rx) = futures::channel::mpsc::unbounded::<Bytes>();
        let body = StreamBody::new(rx.map(|b| Ok(Frame::data(b))));
        (tx, BodyExt::boxed(body))
    }
    let s = server_with(Limits {
        max_in_flight_per_connection: Some(1),
        ..Limits::default()
    })
    .await;
    let tcp = TcpStream::connect(s.addr).await.unwrap();
    let (mut send, conn) = hyper::client::conn::http2::handshake::<_, _, Body>(
        TokioExecutor::new(),
        TokioIo::new(tcp),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let request = |body: Body| {
        http::Request::builder()
            .method("POST")
            .uri(format!("http://{}/", s.addr))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDB_20120810.ListTables")
            .header("x-amz-date", "20240101T000000Z")
            .header("authorization", daxlite_tests::AUTH)
            .body(body)
            .unwrap()
    };
    let (first_body, body) = channel();
    let first = tokio::spawn(send.send_request(request(body)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (second_body, body) = channel();
    second_body
        .unbounded_send(Bytes::from_static(b"{}"))
        .unwrap();
    drop(second_body);
    let second = send.send_request(request(body)).await.unwrap();
    assert_eq!(second.status(), 400);
    let text = second.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&text).contains("ThrottlingException"));
    // Another connection is not bounded by this one's stream.
    call_ok(s.addr, "DynamoDB_20120810.ListTables", "{}").await;
    first_body
        .unbounded_send(Bytes::from_static(b"{}"))
        .unwrap();
    drop(first_body);
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn connections_beyond_max_connections_wait_for_a_slot() {
    let s = server_with(Limits {
        max_connections: Some(2),
        ..Limits::default()
    })
    .await;
    let get = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n";
    let mut open = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(get).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = c.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        open.push(c);
    }
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    third.write_all(get).await.unwrap();
    let mut buf = [0u8; 1024];
    let early = tokio::time::timeout(Duration::from_millis(400), third.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a third connection was served beyond the cap"
    );
    drop(open.pop());
    let n = tokio::time::timeout(Duration::from_secs(3), third.read(&mut buf))
        .await
        .expect("the waiting connection was not served after a slot freed")
        .unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    s.stop().await;
}

fn remote(addr: SocketAddr, timeout: Duration, shed: Option<(usize, usize)>) -> Remote {
    let mut rc = RemoteConfig::new(format!("http://{addr}").parse().unwrap(), "us-east-1");
    rc.timeout = timeout;
    rc.retry.max_retries = 0;
    rc.shed = shed;
    let creds = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "t");
    Remote::with_static_credentials(rc, creds).unwrap()
}

/// An upstream that accepts connections and never answers (the slowest upstream).
async fn unresponsive_upstream() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((c, _)) = l.accept().await {
            held.push(c);
        }
    });
    (addr, task)
}

#[tokio::test]
async fn calls_beyond_a_slow_upstreams_bound_are_shed_at_once() {
    let (up, task) = unresponsive_upstream().await;
    let mut config = Config::ephemeral();
    config.cache.enabled = false;
    let front = daxlite::start_with_remote(
        &config,
        remote(up, Duration::from_millis(1500), Some((2, 2))),
    )
    .await
    .unwrap();
    let addr = front.addr;
    let calls: Vec<_> = (0..20)
        .map(|_| {
            tokio::spawn(async move {
                let started = Instant::now();
                let r = call(addr, "DynamoDB_20120810.ListTables", "{}").await;
                (r, started.elapsed())
            })
        })
        .collect();
    let (mut shed, mut waited) = (0, 0);
    for c in calls {
        let (r, took) = c.await.unwrap();
        if r.status == 400 {
            assert_error(&r, 400, THROTTLING, Some(THROTTLED_MESSAGE));
            assert!(took < Duration::from_millis(500), "shed after {took:?}");
            shed += 1;
        } else {
            assert!(r.status >= 500, "{}: {}", r.status, r.text());
            waited += 1;
        }
    }
    assert_eq!(
        (shed, waited),
        (16, 4),
        "2 in flight + 2 queued, the rest shed"
    );
    front.shutdown().await;
    task.abort();
}

/// A cached front (item_ttl 200 ms) over a daxlite engine, with or without stale serving:
/// an item is read (cached), the upstream stops, the TTL passes, and the item is read again.
async fn get_after_upstream_stops(stale: bool) -> daxlite_tests::RawReply {
    let upstream = TestServer::start(Mode::Engine).await;
    let mut config = Config::ephemeral();
    config.cache.item_ttl = Duration::from_millis(200);
    config.cache.stale_for = stale.then_some(Duration::from_secs(60));
    let front =
        daxlite::start_with_remote(&config, remote(upstream.addr, Duration::from_secs(1), None))
            .await
            .unwrap();
    let client = daxlite_tests::client_for(&format!("http://{}", front.addr));
    let t = create_pk_table(&client, "stale", None).await;
    let put = format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"a"}},"v":{{"S":"one"}}}}}}"#);
    call_ok(front.addr, "DynamoDB_20120810.PutItem", &put).await;
    let get = format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"a"}}}}}}"#);
    call_ok(front.addr, "DynamoDB_20120810.GetItem", &get).await;
    upstream.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let r = call(front.addr, "DynamoDB_20120810.GetItem", &get).await;
    front.shutdown().await;
    r
}

#[tokio::test]
async fn serve_stale_on_error_answers_a_cached_item_while_the_upstream_is_down() {
    let r = get_after_upstream_stops(true).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["Item"]["v"]["S"], "one");
}

#[tokio::test]
async fn without_serve_stale_on_error_the_upstream_error_passes_through() {
    let r = get_after_upstream_stops(false).await;
    assert!(r.status >= 500, "{}: {}", r.status, r.text());
    assert!(r.json()["Item"].is_null());
}
