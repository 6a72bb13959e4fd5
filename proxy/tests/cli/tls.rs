//! The binary serving HTTPS: `--tls-self-signed` (the banner names the certificate), the
//! certificate reloaded on SIGHUP (new connections get the new one), and malformed PEM
//! files refused at start naming the setting. Clients are plain rustls ones trusting
//! exactly one certificate.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use daxlite::config::TlsFiles;
use daxlite::tls::self_signed;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};

use super::{daxlite, spawn_banner};

/// `GET /` over TLS trusting only `ca_pem`: the answer's first line, or why it failed.
fn get_trusting(port: u16, ca_pem: &str) -> Result<String, String> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(c.map_err(|e| format!("{e:?}"))?)
            .map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    let _ = tls.read_to_string(&mut answer);
    match answer.lines().next() {
        Some(line) if !line.is_empty() => Ok(line.to_string()),
        _ => Err("no answer".into()),
    }
}

/// Spawns daxlite with `args`; its banner line and the port in it.
fn spawn(args: &[&str]) -> (Child, String, u16) {
    let (child, line) = spawn_banner(args);
    let port = line
        .strip_prefix("daxlite listening on https://127.0.0.1:")
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTPS banner: {line}"));
    (child, line, port)
}

fn signal(child: &Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill {sig} failed");
}

fn stop(mut child: Child) {
    signal(&child, "-TERM");
    let started = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        assert!(started.elapsed() < Duration::from_secs(15), "did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn config_file(dir: &std::path::Path, files: &TlsFiles) -> std::path::PathBuf {
    let path = dir.join("daxlite.toml");
    std::fs::write(
        &path,
        format!(
            "[server]\nport = 0\ntls_cert = {:?}\ntls_key = {:?}\n[storage]\nin_memory = true\n",
            files.cert, files.key
        ),
    )
    .unwrap();
    path
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections() {
    let dir = tempfile::tempdir().unwrap();
    let files = self_signed::ensure(dir.path()).unwrap();
    let first = std::fs::read_to_string(&files.cert).unwrap();
    let config = config_file(dir.path(), &files);
    let (child, _, port) = spawn(&["--config", config.to_str().unwrap()]);
    let healthy = get_trusting(port, &first).unwrap();
    assert!(healthy.starts_with("HTTP/1.1 200"), "{healthy}");

    let second = self_signed::generate_pair().unwrap();
    assert!(get_trusting(port, &second.cert_pem).is_err());
    self_signed::write(&files, &second).unwrap();
    signal(&child, "-HUP");
    let started = Instant::now();
    while get_trusting(port, &second.cert_pem).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the new certificate is not served after SIGHUP"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        get_trusting(port, &first).is_err(),
        "the old certificate is still served"
    );
    // A reload that fails keeps the certificate being served.
    std::fs::write(&files.cert, "not a certificate").unwrap();
    signal(&child, "-HUP");
    std::thread::sleep(Duration::from_millis(300));
    assert!(get_trusting(port, &second.cert_pem).is_ok());
    stop(child);
}

#[test]
fn tls_self_signed_generates_a_certificate_the_banner_names() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (child, banner, port) = spawn(&[
        "--port",
        "0",
        "--tls-self-signed",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let cert = data.join("daxlite-tls-cert.pem");
    assert!(
        banner.contains(&format!("TLS certificate {}", cert.display())),
        "{banner}"
    );
    let pem = std::fs::read_to_string(&cert).unwrap();
    let healthy = get_trusting(port, &pem).unwrap();
    assert!(healthy.starts_with("HTTP/1.1 200"), "{healthy}");
    stop(child);
}

#[test]
fn missing_or_malformed_pem_files_fail_at_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let files = self_signed::ensure(dir.path()).unwrap();
    let config = config_file(dir.path(), &files);
    let refused = || {
        let out = daxlite()
            .args(["--config", config.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    std::fs::write(&files.key, "-----BEGIN PRIVATE KEY-----\nnot base64!\n").unwrap();
    let err = refused();
    assert!(err.starts_with("daxlite: server.tls_key: "), "{err}");
    std::fs::remove_file(&files.cert).unwrap();
    let err = refused();
    assert!(
        err.starts_with("daxlite: server.tls_cert: ") && err.contains("cannot read"),
        "{err}"
    );
}
