//! Opt-in SigV4 verification (`[auth] verify`) end to end: SDK clients signing with the
//! configured key succeed; a wrong secret or an unknown key is refused with DynamoDB's
//! errors; with verification off (the default) any well-formed signature is accepted.

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use daxlite::auth::sigv4::Keys;
use daxlite_tests::{call, client_for, ddb_test, error_parts, Mode, TestServer};
use std::sync::Arc;

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
        assert!(
        msg.starts_with("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."),
        "{msg}"
    );
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
        // A raw request with a well-formed but made-up signature.
        let r = call(s.addr, "DynamoDB_20120810.ListTables", "{}").await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(
            r.text().contains("InvalidSignatureException"),
            "{}",
            r.text()
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
