//! The DynamoDB JSON 1.0 protocol at the front door: order of checks, exact error bodies,
//! response headers, gzip, size limits and the health answers.

use daxlite_tests::{assert_error, call, ddb_test, raw, TestServer, AUTH};

const SERVICE: &str = "com.amazon.coral.service#";

ddb_test!(health_answers, |mode| async move {
    let s = TestServer::start(mode).await;
    let r = raw(s.addr, "GET", &[], vec![]).await;
    assert_eq!(r.status, 200);
    // The Host the client used, as DynamoDB answers (conformance_http.rs has more).
    assert_eq!(r.text(), format!("healthy: {} ", s.addr));
    let r = raw_path(s.addr, "/health").await;
    assert_eq!((r.0, r.1.as_str()), (200, "{\"status\":\"ok\"}"));
    let (status, metrics) = raw_path(s.addr, "/metrics").await;
    assert_eq!(status, 200);
    call(s.addr, "DynamoDB_20120810.ListTables", "{}").await;
    let (_, metrics_after) = raw_path(s.addr, "/metrics").await;
    assert!(
        metrics_after.contains("daxlite_requests"),
        "{metrics} / {metrics_after}"
    );
    s.stop().await;
});

async fn raw_path(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).await.unwrap();
    let status = out.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

ddb_test!(
    responses_carry_request_id_crc32_and_content_type,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let r = call(s.addr, "DynamoDB_20120810.ListTables", "{}").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json(), serde_json::json!({"TableNames": []}));
        let id = r
            .headers
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(id.len(), 52);
        let crc: u32 = r
            .headers
            .get("x-amz-crc32")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert_eq!(crc, crc32fast_hash(&r.body));
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/x-amz-json-1.0")
        );
        // JSON 1.1 clients get their own content type back.
        let r = raw(
            s.addr,
            "POST",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "DynamoDB_20120810.ListTables"),
                ("authorization", AUTH),
                ("x-amz-date", "20240101T000000Z"),
            ],
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/x-amz-json-1.1")
        );
        s.stop().await;
    }
);

fn crc32fast_hash(bytes: &[u8]) -> u32 {
    // CRC-32 (IEEE), bitwise, so the test does not trust the server's own crate.
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

ddb_test!(
    unknown_and_missing_targets_are_unknown_operations,
    |mode| async move {
        let s = TestServer::start(mode).await;
        for target in [
            "DynamoDB_20120810.Nope",
            "",
            "GetItem",
            "DynamoDB_20111205.ListTables",
            "DynamoDB_20120810.ListStreams",
        ] {
            let r = call(s.addr, target, "{}").await;
            assert_error(
                &r,
                400,
                &format!("{SERVICE}UnknownOperationException"),
                None,
            );
        }
        s.stop().await;
    }
);

ddb_test!(
    operations_not_built_yet_answer_unknown_operation,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let r = call(
            s.addr,
            "DynamoDB_20120810.DescribeContributorInsights",
            r#"{"TableName":"abc"}"#,
        )
        .await;
        assert_error(
            &r,
            400,
            &format!("{SERVICE}UnknownOperationException"),
            None,
        );
        s.stop().await;
    }
);

ddb_test!(
    malformed_json_is_a_bare_serialization_exception,
    |mode| async move {
        let s = TestServer::start(mode).await;
        for body in ["{", "not json", "[1,2", ""] {
            let r = call(s.addr, "DynamoDB_20120810.ListTables", body).await;
            assert_error(&r, 400, &format!("{SERVICE}SerializationException"), None);
        }
        // JSON errors come before target errors, as on DynamoDB.
        let r = call(s.addr, "DynamoDB_20120810.Nope", "{").await;
        assert_error(&r, 400, &format!("{SERVICE}SerializationException"), None);
        // A wrongly typed member is a SerializationException with DynamoDB's wording.
        let r = call(
            s.addr,
            "DynamoDB_20120810.DescribeTable",
            r#"{"TableName": 5}"#,
        )
        .await;
        assert_error(
            &r,
            400,
            &format!("{SERVICE}SerializationException"),
            Some("NUMBER_VALUE cannot be converted to String"),
        );
        s.stop().await;
    }
);

ddb_test!(authentication_errors, |mode| async move {
    let s = TestServer::start(mode).await;
    let base = [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.ListTables"),
    ];
    let r = raw(s.addr, "POST", &base, b"{}".to_vec()).await;
    assert_error(
        &r,
        400,
        &format!("{SERVICE}MissingAuthenticationTokenException"),
        Some("Request is missing Authentication Token"),
    );
    let mut h = base.to_vec();
    h.push(("authorization", "AWS4-HMAC-SHA256 Signature=abc"));
    let r = raw(s.addr, "POST", &h, b"{}".to_vec()).await;
    assert_error(
        &r,
        400,
        &format!("{SERVICE}IncompleteSignatureException"),
        Some("Authorization header requires 'Credential' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Signature=abc"),
    );
    // A body that is not JSON is reported before the missing signature.
    let r = raw(s.addr, "POST", &base, b"{".to_vec()).await;
    assert_error(&r, 400, &format!("{SERVICE}SerializationException"), None);
    s.stop().await;
});

ddb_test!(
    wrong_method_or_content_type_is_an_xml_404,
    |mode| async move {
        let s = TestServer::start(mode).await;
        let r = raw(
            s.addr,
            "POST",
            &[
                ("content-type", "text/plain"),
                ("x-amz-target", "DynamoDB_20120810.ListTables"),
                ("authorization", AUTH),
            ],
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (404, "<UnknownOperationException/>\n")
        );
        let r = raw(
            s.addr,
            "PUT",
            &[("content-type", "application/x-amz-json-1.0")],
            b"{}".to_vec(),
        )
        .await;
        assert_eq!(r.status, 404);
        s.stop().await;
    }
);

ddb_test!(bodies_over_16_mib_get_413, |mode| async move {
    let s = TestServer::start(mode).await;
    let big = vec![b' '; 16 * 1024 * 1024 + 1];
    let r = raw(
        s.addr,
        "POST",
        &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.ListTables"),
            ("authorization", AUTH),
        ],
        big,
    )
    .await;
    assert_eq!(r.status, 413);
    // Exactly 16 MiB is read (and then judged as JSON).
    let mut ok = vec![b' '; 16 * 1024 * 1024 - 2];
    ok.extend_from_slice(b"{}");
    let r = raw(
        s.addr,
        "POST",
        &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.ListTables"),
            ("authorization", AUTH),
            ("x-amz-date", "20240101T000000Z"),
        ],
        ok,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    s.stop().await;
});

ddb_test!(gzip_request_bodies_are_accepted, |mode| async move {
    use std::io::Write;
    let s = TestServer::start(mode).await;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(br#"{"Limit": 5}"#).unwrap_or_default();
    let body = enc.finish().unwrap_or_default();
    let r = raw(
        s.addr,
        "POST",
        &[
            ("content-type", "application/x-amz-json-1.0"),
            ("content-encoding", "gzip"),
            ("x-amz-target", "DynamoDB_20120810.ListTables"),
            ("authorization", AUTH),
            ("x-amz-date", "20240101T000000Z"),
        ],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), serde_json::json!({"TableNames": []}));
    s.stop().await;
});
