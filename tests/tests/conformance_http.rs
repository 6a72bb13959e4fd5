//! The HTTP front door as DynamoDB has it (issue K, part 2): response compression on
//! request (gzip / deflate above 4 KB, `x-amz-crc32` over the bytes sent), HTTP 500 for a
//! request body that cannot be decoded, CORS, `Server: Server`, `GET /` naming the Host,
//! and oversized request heads refused. Sources: engine/docs/conformance-notes.md §6.

use std::io::{Read, Write};

use aws_sdk_dynamodb::types::AttributeValue;
use daxlite_tests::{call_ok, create_pk_table, ddb_test, raw, RawReply, TestServer, AUTH};

fn header<'a>(r: &'a RawReply, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A raw DynamoDB call with extra headers.
async fn call_with(
    s: &TestServer,
    target: &str,
    extra: &[(&str, &str)],
    body: Vec<u8>,
) -> RawReply {
    let target = format!("DynamoDB_20120810.{target}");
    let mut h = vec![
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", target.as_str()),
        ("authorization", AUTH),
        ("x-amz-date", "20240101T000000Z"),
    ];
    h.extend_from_slice(extra);
    raw(s.addr, "POST", &h, body).await
}

ddb_test!(
    responses_are_compressed_when_asked_and_large,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let t = create_pk_table(&c, "gz", None).await;
        let big = "x".repeat(5000);
        c.put_item()
            .table_name(&t)
            .item("pk", AttributeValue::S("big".into()))
            .item("x", AttributeValue::S(big.clone()))
            .send()
            .await
            .unwrap();
        let get = |k: &str| {
            format!(r#"{{"TableName":"{t}","Key":{{"pk":{{"S":"{k}"}}}},"ConsistentRead":true}}"#)
        };
        // The SDK sends no Accept-Encoding and reads the item as usual.
        let out = c
            .get_item()
            .table_name(&t)
            .key("pk", AttributeValue::S("big".into()))
            .send()
            .await
            .unwrap();
        assert_eq!(
            out.item().and_then(|i| i.get("x")),
            Some(&AttributeValue::S(big.clone()))
        );
        // No Accept-Encoding, identity, or a zero weight: sent as is.
        for extra in [
            vec![],
            vec![("accept-encoding", "identity")],
            vec![("accept-encoding", "gzip;q=0")],
            vec![("accept-encoding", "br")],
        ] {
            let r = call_with(&s, "GetItem", &extra, get("big").into_bytes()).await;
            assert_eq!(r.status, 200);
            assert_eq!(header(&r, "content-encoding"), None, "{extra:?}");
            assert_eq!(r.json()["Item"]["x"]["S"], big.as_str());
        }
        // gzip and deflate above 4 KB; the CRC is of the compressed bytes.
        for (accept, coding) in [
            ("gzip", "gzip"),
            ("deflate", "deflate"),
            ("br, deflate;q=0.5, gzip;q=0.2", "deflate"),
            ("*", "gzip"),
        ] {
            let r = call_with(
                &s,
                "GetItem",
                &[("accept-encoding", accept)],
                get("big").into_bytes(),
            )
            .await;
            assert_eq!(r.status, 200);
            assert_eq!(header(&r, "content-encoding"), Some(coding), "{accept}");
            assert_eq!(
                header(&r, "x-amz-crc32").and_then(|v| v.parse().ok()),
                Some(crc32(&r.body))
            );
            let mut plain = Vec::new();
            match coding {
                "gzip" => flate2::read::GzDecoder::new(&r.body[..])
                    .read_to_end(&mut plain)
                    .unwrap(),
                _ => flate2::read::ZlibDecoder::new(&r.body[..])
                    .read_to_end(&mut plain)
                    .unwrap(),
            };
            let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
            assert_eq!(v["Item"]["x"]["S"], big.as_str());
            assert!(r.body.len() * 10 < plain.len());
        }
        // Small answers are not compressed even when asked.
        let r = call_with(
            &s,
            "GetItem",
            &[("accept-encoding", "gzip")],
            get("small").into_bytes(),
        )
        .await;
        assert_eq!((r.status, header(&r, "content-encoding")), (200, None));
        assert_eq!(r.json(), serde_json::json!({}));
        s.stop().await;
    }
);

ddb_test!(
    undecodable_request_bodies_get_500_and_change_nothing,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let c = s.client();
        let t = create_pk_table(&c, "gzin", None).await;
        let put = format!(r#"{{"TableName":"{t}","Item":{{"pk":{{"S":"p"}}}}}}"#);
        let gz = |b: &[u8]| {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(b).unwrap();
            e.finish().unwrap()
        };
        let mut truncated = gz(put.as_bytes());
        truncated.pop();
        for (encoding, body) in [
            ("garbage", put.clone().into_bytes()),
            ("deflate", put.clone().into_bytes()),
            ("gzip", put.clone().into_bytes()),
            ("gzip", truncated),
            ("gzip", Vec::new()),
        ] {
            let r = call_with(&s, "PutItem", &[("content-encoding", encoding)], body).await;
            assert_eq!(r.status, 500, "{encoding}: {}", r.text());
            assert_eq!(
                r.json()["__type"],
                "com.amazonaws.dynamodb.v20120810#InternalServerError"
            );
        }
        let got = c
            .get_item()
            .table_name(&t)
            .key("pk", AttributeValue::S("p".into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        assert_eq!(got.item, None);
        // Two gzip members are one body; junk after the last member is ignored (DynamoDB).
        let half = put.len() / 2;
        let two = [
            gz(&put.as_bytes()[..half]),
            gz(&put.as_bytes()[half..]),
            b"junk".to_vec(),
        ]
        .concat();
        let r = call_with(&s, "PutItem", &[("content-encoding", "gzip")], two).await;
        assert_eq!(r.status, 200, "{}", r.text());
        s.stop().await;
    }
);

ddb_test!(cors_server_header_and_health, |mode| async move {
    let s = TestServer::start(mode).await;
    let cors = [
        "access-control-allow-origin",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-methods",
        "access-control-allow-headers",
    ];
    // Without Origin: no CORS header anywhere; Server: Server on every answer.
    let post = call_with(&s, "ListTables", &[], b"{}".to_vec()).await;
    let get = raw(s.addr, "GET", &[], vec![]).await;
    let options = raw(s.addr, "OPTIONS", &[], vec![]).await;
    let error = call_with(&s, "Nope", &[], b"{}".to_vec()).await;
    for r in [&post, &get, &options, &error] {
        assert_eq!(header(r, "server"), Some("Server"));
        for h in cors {
            assert_eq!(header(r, h), None, "{h}");
        }
    }
    // With Origin: allowed from anywhere; only the preflight carries max age and echoes
    // the requested method and headers.
    let origin = [
        ("origin", "http://example.com/"),
        ("access-control-request-method", "dog"),
        ("access-control-request-headers", "cat, meerkat, mouse"),
    ];
    let post = call_with(&s, "ListTables", &origin, b"{}".to_vec()).await;
    assert_eq!(post.status, 200);
    let get = raw(s.addr, "GET", &origin, vec![]).await;
    let pre = raw(s.addr, "OPTIONS", &origin, vec![]).await;
    for r in [&post, &get, &pre] {
        assert_eq!(header(r, "access-control-allow-origin"), Some("*"));
        assert!(header(r, "access-control-expose-headers")
            .is_some_and(|v| v.contains("x-amzn-RequestId")));
        assert_eq!(header(r, "server"), Some("Server"));
    }
    for r in [&post, &get] {
        for h in [
            "access-control-max-age",
            "access-control-allow-methods",
            "access-control-allow-headers",
        ] {
            assert_eq!(header(r, h), None, "{h}");
        }
    }
    assert_eq!(pre.status, 200);
    assert!(pre.body.is_empty());
    assert_eq!(header(&pre, "access-control-max-age"), Some("172800"));
    assert_eq!(header(&pre, "access-control-allow-methods"), Some("dog"));
    assert_eq!(
        header(&pre, "access-control-allow-headers"),
        Some("cat, meerkat, mouse")
    );
    // GET / names the Host the client used.
    let r = head_request(
        s.addr,
        "GET / HTTP/1.1\r\nHost: dynamodb.eu-west-1.amazonaws.com\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(
        r.ends_with("\r\n\r\nhealthy: dynamodb.eu-west-1.amazonaws.com "),
        "{r}"
    );
    s.stop().await;
});

/// Sends `head` on a fresh connection and reads the whole answer as text.
async fn head_request(addr: std::net::SocketAddr, head: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(head.as_bytes()).await;
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

ddb_test!(oversized_request_heads_are_refused, |mode| async move {
    let s = TestServer::start(mode).await;
    let ok = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000\r\nX-Amz-Date: 20240101T000000Z\r\nContent-Length: 2\r\nConnection: close\r\n";
    let r = head_request(
        s.addr,
        &format!("{ok}X-Pad: {}\r\n\r\n{{}}", "a".repeat(8_000)),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200"), "{}", &r[..r.len().min(200)]);
    let r = head_request(
        s.addr,
        &format!("{ok}X-Pad: {}\r\n\r\n{{}}", "a".repeat(20_000)),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 431"), "{}", &r[..r.len().min(200)]);
    let r = head_request(
        s.addr,
        &format!("{ok}X-Pad: {}\r\n\r\n{{}}", "a".repeat(600_000)),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 431"), "{}", &r[..r.len().min(200)]);
    let long_target = ok.replacen("POST / ", &format!("POST /{} ", "a".repeat(10_000)), 1);
    let r = head_request(s.addr, &format!("{long_target}\r\n{{}}")).await;
    assert!(r.starts_with("HTTP/1.1 414"), "{}", &r[..r.len().min(200)]);
    // The server still serves afterwards.
    call_ok(s.addr, "DynamoDB_20120810.ListTables", "{}").await;
    s.stop().await;
});
