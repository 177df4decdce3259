//! TLS client configuration for mail connections.
//!
//! Owns the one place where secdesk decides whom to trust: the operating
//! system's root certificates plus, optionally, a `ca_file` from the config
//! (a PEM file, for servers behind a private CA). Certificate verification is
//! never disabled; there is deliberately no switch for it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// Why a TLS client configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read ca_file {}: {error}; fix or remove the ca_file setting", path.display())]
    ReadCaFile { path: PathBuf, error: io::Error },
    #[error("ca_file {} holds no PEM certificate; point ca_file at a file with a \"BEGIN CERTIFICATE\" block", path.display())]
    NoCertificate { path: PathBuf },
    #[error("ca_file {} is not valid PEM ({detail}); point ca_file at a PEM certificate file", path.display())]
    BadPem { path: PathBuf, detail: String },
    #[error("ca_file {} holds a certificate that cannot be used as a trust anchor ({detail}); use the CA certificate, not the server's", path.display())]
    UnusableCertificate { path: PathBuf, detail: String },
    #[error("no trusted root certificates: the system store is empty or unreadable and no ca_file is set; install ca-certificates or set ca_file")]
    NoRoots,
}

/// Builds a rustls client configuration trusting the system roots plus the
/// certificates in `ca_file`, if given.
///
/// A missing, unreadable or empty `ca_file` is an error naming the file, so a
/// typo never silently falls back to the system roots alone.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let mut roots = RootCertStore::empty();

    // Unparsable system certificates are skipped: one odd file in
    // /etc/ssl/certs must not stop a connection that a ca_file can satisfy.
    if let Ok(system) = rustls_native_certs::load_native_certs() {
        roots.add_parsable_certificates(system);
    }

    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots
                .add(cert)
                .map_err(|e| TlsConfigError::UnusableCertificate {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                })?;
        }
    }

    if roots.is_empty() {
        return Err(TlsConfigError::NoRoots);
    }

    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Reads every certificate from a PEM file; at least one must be present.
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let pem = fs::read(path).map_err(|error| TlsConfigError::ReadCaFile {
        path: path.to_path_buf(),
        error,
    })?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::BadPem {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ca_file_names_the_file() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/ca.pem"), "{msg}");
        assert!(msg.contains("ca_file"), "{msg}");
    }

    #[test]
    fn empty_ca_file_is_refused() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let err = client_config(Some(file.path())).unwrap_err();
        assert!(matches!(err, TlsConfigError::NoCertificate { .. }), "{err}");
        assert!(err.to_string().contains(&file.path().display().to_string()));
    }

    #[test]
    fn non_pem_ca_file_is_refused() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(&mut file, b"this is not a certificate\n").unwrap();
        let err = client_config(Some(file.path())).unwrap_err();
        assert!(matches!(err, TlsConfigError::NoCertificate { .. }), "{err}");
    }

    #[test]
    fn garbage_inside_pem_block_is_refused() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(
            &mut file,
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let err = client_config(Some(file.path())).unwrap_err();
        assert!(
            matches!(err, TlsConfigError::UnusableCertificate { .. }),
            "{err}"
        );
    }
}
