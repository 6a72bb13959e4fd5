//! Opt-in SigV4 verification (`[auth] verify`) end to end: SDK clients signing with the
//! configured key succeed; a wrong secret or an unknown key is refused with DynamoDB's
//! errors; with verification off (the default) any well-formed signature is accepted.

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use daxlite::auth::sigv4::format_amz_date;
use daxlite::auth::sigv4::Keys;
use daxlite_tests::{assert_error, call, client_for, ddb_test, error_parts, raw, Mode, TestServer};
use std::sync::Arc;

/// DynamoDB's InvalidSignatureException text for a signature that does not match.
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

/// A client like `client_for`'s, signing with the given key.
fn client_with(url: &str, access_key: &str, secret: &str) -> Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
        .endpoint_url(url)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

async fn verifying_server(mode: Mode) -> TestServer {
    let mut config = mode.config();
    config.service.auth = Some(Arc::new(Keys::new([(
        "AKIDTEST".to_string(),
        "secret".to_string(),
    )])));
    TestServer::start_with(config, None).await
}

ddb_test!(correctly_signed_sdk_calls_succeed, |mode| async move {
    let s = verifying_server(mode).await;
    let client = client_for(&s.url);
    let table = daxlite_tests::create_pk_table(&client, "auth", None).await;
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("a".into()))
        .send()
        .await
        .unwrap();
    let got = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("a".into()))
        .send()
        .await
        .unwrap();
    assert!(got.item().is_some());
    s.stop().await;
});

ddb_test!(
    wrong_secret_and_unknown_key_are_refused,
    |mode| async move {
        let s = verifying_server(mode).await;
        let err = client_with(&s.url, "AKIDTEST", "not-the-secret")
            .list_tables()
            .send()
            .await
            .expect_err("a wrong secret must be refused");
        let (code, msg) = error_parts(&err);
        assert_eq!(code, "InvalidSignatureException");
        // DynamoDB's text, then the canonical request and string to sign it computed; the
        // SDK's signed headers vary, so the parts are checked against each other: the
        // string to sign names SigV4, the request's scope, and hashes the canonical request.
        let rest = msg
            .strip_prefix(&format!(
                "{MISMATCH}\n\nThe Canonical String for this request should have been\n'"
            ))
            .unwrap_or_else(|| panic!("{msg}"));
        let (canonical, to_sign) = rest
            .split_once("'\n\nThe String-to-Sign should have been\n'")
            .unwrap_or_else(|| panic!("{msg}"));
        let to_sign = to_sign
            .strip_suffix("'\n")
            .unwrap_or_else(|| panic!("{msg}"));
        assert!(canonical.starts_with("POST\n/\n\n"), "{canonical}");
        let lines: Vec<&str> = to_sign.split('\n').collect();
        assert_eq!(lines.len(), 4, "{to_sign}");
        assert_eq!(lines[0], "AWS4-HMAC-SHA256");
        assert!(
            lines[2].ends_with("/us-east-1/dynamodb/aws4_request"),
            "{to_sign}"
        );
        assert_eq!(lines[3], sha256_hex(canonical.as_bytes()));
        let err = client_with(&s.url, "AKIDOTHER", "secret")
            .list_tables()
            .send()
            .await
            .expect_err("an unknown key must be refused");
        assert_eq!(
            error_parts(&err),
            (
                "UnrecognizedClientException".to_string(),
                "The security token included in the request is invalid.".to_string()
            )
        );
        // A raw request, current date, made-up signature: the whole message is known.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let date = format_amz_date(now);
        let authz = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDTEST/{}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
            &date[..8],
            "0".repeat(64)
        );
        let r = raw(
            s.addr,
            "POST",
            &[
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", "DynamoDB_20120810.ListTables"),
                ("authorization", &authz),
                ("x-amz-date", &date),
            ],
            b"{}".to_vec(),
        )
        .await;
        let canonical = format!(
            "POST\n/\n\nhost:{}\nx-amz-date:{date}\n\nhost;x-amz-date\n{}",
            s.addr,
            sha256_hex(b"{}")
        );
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{date}\n{}/us-east-1/dynamodb/aws4_request\n{}",
            &date[..8],
            sha256_hex(canonical.as_bytes())
        );
        let want = format!(
            "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n"
        );
        assert_error(
            &r,
            400,
            "com.amazon.coral.service#InvalidSignatureException",
            Some(&want),
        );
        // An old date (the harness's fixed 2024 one): expired, with both times named.
        let before = now;
        let r = call(s.addr, "DynamoDB_20120810.ListTables", "{}").await;
        let after = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let message = r.json()["message"].as_str().unwrap_or_default().to_string();
        let expired = |t: i64| {
            format!(
                "Signature expired: 20240101T000000Z is now earlier than {} ({} - 15 min.)",
                format_amz_date(t - 15 * 60),
                format_amz_date(t)
            )
        };
        assert!((before..=after).any(|t| message == expired(t)), "{message}");
        assert_error(
            &r,
            400,
            "com.amazon.coral.service#InvalidSignatureException",
            Some(&message),
        );
        s.stop().await;
    }
);

ddb_test!(verification_is_off_by_default, |mode| async move {
    let s = TestServer::start(mode).await;
    client_with(&s.url, "ANYKEY", "any-secret")
        .list_tables()
        .send()
        .await
        .unwrap();
    s.stop().await;
});
