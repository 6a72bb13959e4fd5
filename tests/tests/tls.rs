//! HTTPS on the front door (`[server] tls_cert` / `tls_key`): aws-sdk-dynamodb trusting
//! the generated certificate (and only it) talks DynamoDB over TLS; a client trusting
//! another certificate is refused; ALPN offers h2 and http/1.1 and both serve (raw hyper
//! clients over tokio-rustls); `aws:SecureTransport` is "true" over TLS and "false" in
//! plain HTTP. The binary's side (--tls-self-signed, SIGHUP reload, bad PEM files) is in
//! proxy/tests/cli.rs.

use std::net::SocketAddr;
use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;
use aws_smithy_http_client::tls;
use daxlite::config::TlsFiles;
use daxlite_tests::{create_pk_table, error_parts, Mode, TestServer};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

/// A generated certificate pair in a fresh folder.
fn cert_files() -> (tempfile::TempDir, TlsFiles) {
    let dir = tempfile::tempdir().unwrap();
    let files = daxlite::tls::self_signed::ensure(dir.path()).unwrap();
    (dir, files)
}

async fn https_server(mode: Mode, files: &TlsFiles) -> TestServer {
    let mut config = mode.config();
    config.tls = Some(files.clone());
    TestServer::start_with(config, None).await
}

/// An SDK client of `https://127.0.0.1:port` whose only trust root is `ca_pem`.
fn sdk_trusting(addr: SocketAddr, ca_pem: &str, access_key: &str) -> Client {
    let context = tls::TlsContext::builder()
        .with_trust_store(tls::TrustStore::empty().with_pem_certificate(ca_pem.as_bytes()))
        .build()
        .unwrap();
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(context)
        .build_https();
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "test"))
        .endpoint_url(format!("https://127.0.0.1:{}", addr.port()))
        .http_client(http)
        .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// A TLS connection trusting `ca_pem` and offering `alpn`; the protocol agreed.
pub async fn tls_connect(
    addr: SocketAddr,
    ca_pem: &str,
    alpn: &[&[u8]],
) -> std::io::Result<(
    tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    Option<Vec<u8>>,
)> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await?;
    let agreed = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    Ok((stream, agreed))
}

#[tokio::test]
async fn the_sdk_talks_dynamodb_over_https_trusting_the_generated_certificate() {
    let (_dir, files) = cert_files();
    let ca = std::fs::read_to_string(&files.cert).unwrap();
    let srv = https_server(Mode::Cached, &files).await;
    let client = sdk_trusting(srv.addr, &ca, "AKIDTEST");
    let t = create_pk_table(&client, "tls", None).await;
    client
        .put_item()
        .table_name(&t)
        .item("pk", AttributeValue::S("a".into()))
        .item("v", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let got = client
        .get_item()
        .table_name(&t)
        .key("pk", AttributeValue::S("a".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.item().and_then(|i| i.get("v")),
        Some(&AttributeValue::N("1".into()))
    );
    // A client that trusts another certificate does not get through.
    let (_other_dir, other) = cert_files();
    let other_ca = std::fs::read_to_string(&other.cert).unwrap();
    let err = sdk_trusting(srv.addr, &other_ca, "AKIDTEST")
        .list_tables()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)),
        "{err:?}"
    );
}

#[tokio::test]
async fn alpn_offers_h2_and_http1_and_both_serve() {
    let (_dir, files) = cert_files();
    let ca = std::fs::read_to_string(&files.cert).unwrap();
    let srv = https_server(Mode::Engine, &files).await;

    let (stream, agreed) = tls_connect(srv.addr, &ca, &[b"h2", b"http/1.1"])
        .await
        .unwrap();
    assert_eq!(agreed.as_deref(), Some(&b"h2"[..]));
    let (mut send, conn) = hyper::client::conn::http2::handshake::<_, _, Empty<bytes::Bytes>>(
        TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get(format!("https://127.0.0.1:{}/", srv.addr.port()))
        .body(Empty::new())
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(body.starts_with(b"healthy: "), "{body:?}");

    let (stream, agreed) = tls_connect(srv.addr, &ca, &[b"http/1.1"]).await.unwrap();
    assert_eq!(agreed.as_deref(), Some(&b"http/1.1"[..]));
    let (mut send, conn) =
        hyper::client::conn::http1::handshake::<_, Empty<bytes::Bytes>>(TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("/")
        .header("host", "127.0.0.1")
        .body(Empty::new())
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.version(), http::Version::HTTP_11);
    assert_eq!(resp.status(), 200);
}

/// `{"Bool":{"aws:SecureTransport":"true"}}` allows over TLS only.
#[tokio::test]
async fn secure_transport_is_true_over_tls_only() {
    const ALICE: &str = "arn:aws:iam::000000000000:user/alice";
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:ListTables","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
    let (_dir, files) = cert_files();
    let ca = std::fs::read_to_string(&files.cert).unwrap();
    let mut config = daxlite_tests::identities::config_with_identities(
        Mode::Engine,
        &[("ALICE", ALICE, vec![policy.to_string()])],
        None,
    );
    let plain = TestServer::start_with(config.clone(), None).await;
    config.tls = Some(files);
    let secure = TestServer::start_with(config, None).await;

    sdk_trusting(secure.addr, &ca, "ALICE")
        .list_tables()
        .send()
        .await
        .unwrap();
    let err = daxlite_tests::identities::client_with(&plain.url, "ALICE")
        .list_tables()
        .send()
        .await
        .unwrap_err();
    let (code, msg) = error_parts(&err);
    assert_eq!(code, "AccessDeniedException", "{msg}");
    assert_eq!(
        msg,
        format!("User: {ALICE} is not authorized to perform: dynamodb:ListTables on resource: arn:aws:dynamodb:us-east-1:000000000000:table/* because no identity-based policy allows the dynamodb:ListTables action")
    );
}
