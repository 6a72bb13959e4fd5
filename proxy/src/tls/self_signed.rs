//! `--tls-self-signed`: a certificate for `localhost` and `127.0.0.1` (and `::1`) made
//! with rcgen (ECDSA P-256, ring), written as `daxlite-tls-cert.pem` and
//! `daxlite-tls-key.pem` into the data directory (kept and reused across restarts, so a
//! client that trusts it keeps working) or, in memory, a temporary folder of this
//! process. Clients trust the certificate file itself as their root.

use std::path::Path;

use crate::config::TlsFiles;

/// A generated certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct Pair {
    pub cert_pem: String,
    pub key_pem: String,
}

/// The names the certificate is valid for.
pub const NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A new self-signed certificate for [`NAMES`].
pub fn generate_pair() -> Result<Pair, String> {
    let names: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot generate a certificate: {e}"))?;
    Ok(Pair {
        cert_pem: made.cert.pem(),
        key_pem: made.key_pair.serialize_pem(),
    })
}

/// The certificate files in `dir`: reused when both are there and load, else generated
/// anew (the key file readable by its owner only).
pub fn ensure(dir: &Path) -> Result<TlsFiles, String> {
    let files = TlsFiles {
        cert: dir.join("daxlite-tls-cert.pem"),
        key: dir.join("daxlite-tls-key.pem"),
    };
    if files.cert.is_file() && files.key.is_file() && super::server_config(&files).is_ok() {
        return Ok(files);
    }
    write(&files, &generate_pair()?)?;
    Ok(files)
}

/// Writes `pair` to `files` (creating the folder).
pub fn write(files: &TlsFiles, pair: &Pair) -> Result<(), String> {
    if let Some(dir) = files.cert.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let put = |path: &Path, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    put(&files.key, &pair.key_pem)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&files.key, std::fs::Permissions::from_mode(0o600));
    }
    put(&files.cert, &pair.cert_pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_files_load_and_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let files = ensure(dir.path()).unwrap();
        assert!(super::super::server_config(&files).is_ok());
        let first = std::fs::read_to_string(&files.cert).unwrap();
        assert!(first.starts_with("-----BEGIN CERTIFICATE-----"));
        let again = ensure(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&again.cert).unwrap(), first);
    }
}
