//! HTTPS on the front door (`[server] tls_cert` / `tls_key`): the rustls server config
//! read from PEM files (ring; HTTP/2 and HTTP/1.1 offered by ALPN), held behind an
//! [`ArcSwap`] so [`Tls::reload`] (SIGHUP) hands new connections a new certificate while
//! open ones keep theirs. [`self_signed`] writes a certificate for localhost. Off unless
//! configured: the plain-HTTP accept loop never touches this module.

pub mod self_signed;

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::{ConfigError, TlsFiles};

/// How long a client may take to finish its TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Marks a request that arrived over TLS (a request extension; `aws:SecureTransport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecureTransport;

/// Reads the certificate chain and key of `files` into a server config; Err names the
/// setting and the file at fault.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, ConfigError> {
    let cert_err = |m: String| {
        ConfigError::setting("server.tls_cert", format!("{}: {m}", files.cert.display()))
    };
    let key_err =
        |m: String| ConfigError::setting("server.tls_key", format!("{}: {m}", files.key.display()));
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| cert_err(pem_message(&e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(pem_message(&e)))?;
    if certs.is_empty() {
        return Err(cert_err(
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => key_err(
            "no PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY) in the file"
                .into(),
        ),
        e => key_err(pem_message(&e)),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| cert_err(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            ConfigError::setting(
                "server.tls_key",
                format!(
                    "{} and {} do not make a usable certificate and key: {e}",
                    files.cert.display(),
                    files.key.display()
                ),
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn pem_message(e: &rustls_pki_types::pem::Error) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(io) => format!("cannot read: {io}"),
        rustls_pki_types::pem::Error::NoItemsFound => "no PEM item in the file".into(),
        other => format!("not valid PEM: {other:?}"),
    }
}

/// The live TLS settings of a server: its files and the config new connections get.
#[derive(Debug)]
pub struct Tls {
    files: TlsFiles,
    config: ArcSwap<ServerConfig>,
}

impl Tls {
    /// Reads `files`.
    pub fn load(files: &TlsFiles) -> Result<Tls, ConfigError> {
        Ok(Tls {
            files: files.clone(),
            config: ArcSwap::new(server_config(files)?),
        })
    }

    /// Reads the files again; on success new connections get the new certificate, on
    /// failure the old one stays (and the error says why).
    pub fn reload(&self) -> Result<(), ConfigError> {
        self.config.store(server_config(&self.files)?);
        Ok(())
    }

    /// The files served.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// An acceptor with the current config.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.load_full())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path, cert: &str, key: &str) -> TlsFiles {
        let f = TlsFiles {
            cert: dir.join("c.pem"),
            key: dir.join("k.pem"),
        };
        std::fs::write(&f.cert, cert).unwrap();
        std::fs::write(&f.key, key).unwrap();
        f
    }

    fn message(r: Result<Arc<ServerConfig>, ConfigError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn bad_pem_files_are_config_errors_naming_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let pair = self_signed::generate_pair().unwrap();
        let missing = TlsFiles {
            cert: dir.path().join("nope.pem"),
            key: dir.path().join("nope-key.pem"),
        };
        let m = message(server_config(&missing));
        assert!(
            m.starts_with("server.tls_cert: ") && m.contains("cannot read"),
            "{m}"
        );
        let m = message(server_config(&files(dir.path(), "hello", &pair.key_pem)));
        assert!(
            m.starts_with("server.tls_cert: ") && m.contains("no PEM"),
            "{m}"
        );
        let m = message(server_config(&files(
            dir.path(),
            &pair.cert_pem,
            &pair.cert_pem,
        )));
        assert!(
            m.starts_with("server.tls_key: ") && m.contains("no PEM private key"),
            "{m}"
        );
        let other = self_signed::generate_pair().unwrap();
        let m = message(server_config(&files(
            dir.path(),
            &pair.cert_pem,
            &other.key_pem,
        )));
        assert!(
            m.starts_with("server.tls_key: ") && m.contains("do not make"),
            "{m}"
        );
        let config = server_config(&files(dir.path(), &pair.cert_pem, &pair.key_pem)).unwrap();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
