//! TLS client configuration for mail connections.
//!
//! Owns the one place where secdesk decides whom to trust, for IMAP, SMTP and Mailman alike
//! ([`trusted_roots`]): the operating system's root certificates plus, optionally, a
//! `ca_file` from the config (a PEM file, for servers behind a private CA). Certificate
//! verification is never disabled; there is deliberately no switch for it. No root store is
//! compiled in: with neither system roots nor a `ca_file` nothing is trusted.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::ring;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::CertificateDer;

/// Why a TLS client configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read ca_file {}: {error}; fix or remove the ca_file setting", path.display())]
    ReadCaFile { path: PathBuf, error: io::Error },
    #[error("ca_file {} is not a regular file; point ca_file at a PEM certificate file", path.display())]
    NotAFile { path: PathBuf },
    #[error("ca_file {} is larger than {limit} bytes, far more than any CA bundle; point ca_file at a PEM certificate file", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("ca_file {} holds no PEM certificate; point ca_file at a file with a \"BEGIN CERTIFICATE\" block", path.display())]
    NoCertificate { path: PathBuf },
    #[error("ca_file {} is not valid PEM ({detail}); fix the file or point ca_file at a PEM certificate file", path.display())]
    BadPem { path: PathBuf, detail: String },
    #[error("ca_file {} holds a certificate that cannot be used as a trust anchor ({detail}); use the CA certificate, not the server's", path.display())]
    UnusableCertificate { path: PathBuf, detail: String },
    #[error("no trusted root certificates: the system store is empty or unreadable and no ca_file is set; install ca-certificates or set ca_file")]
    NoRoots,
}

/// The certificates a connection trusts: the system roots plus every certificate in
/// `ca_file`, if given. The one root loader of IMAP ([`client_config`]), SMTP
/// (`mailio::smtp`) and Mailman's HTTPS (`mailio::mailman`, no `ca_file`), so IMAP and SMTP
/// accept and refuse the same files with the same words.
///
/// A missing, unreadable, empty or malformed `ca_file`, or one holding a certificate that
/// cannot be a trust anchor, is an error naming the file: a typo never silently falls back
/// to the system roots alone, and a damaged block is never skipped.
pub fn trusted_roots(
    ca_file: Option<&Path>,
) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    // Each certificate is tried as a trust anchor here, so that what is returned is
    // exactly what a root store accepts.
    let mut check = RootCertStore::empty();
    let mut roots = Vec::new();

    // Unparsable system certificates are skipped: one odd file in
    // /etc/ssl/certs must not stop a connection that a ca_file can satisfy.
    for cert in rustls_native_certs::load_native_certs().certs {
        if check.add(cert.clone()).is_ok() {
            roots.push(cert);
        }
    }

    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            check
                .add(cert.clone())
                .map_err(|e| TlsConfigError::UnusableCertificate {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                })?;
            roots.push(cert);
        }
    }

    if roots.is_empty() {
        return Err(TlsConfigError::NoRoots);
    }
    Ok(roots)
}

/// Builds a rustls client configuration (ring, TLS 1.2 and 1.3) trusting
/// [`trusted_roots`].
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(trusted_roots(ca_file)?);
    // The provider is named rather than taken from the process default, which another
    // crate's features could change.
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        // Invariant: ring's default provider supports the safe default versions.
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A CA bundle larger than this is refused unread (the system bundle is about 200 KB).
pub const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads every certificate from a PEM file; at least one must be present.
fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let read_err = |error| TlsConfigError::ReadCaFile {
        path: path.to_path_buf(),
        error,
    };
    // Checked before opening: a FIFO would block the open, a device would never end.
    if !fs::metadata(path).map_err(read_err)?.is_file() {
        return Err(TlsConfigError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mut pem = Vec::new();
    fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
        .map_err(read_err)?;
    if pem.len() as u64 > MAX_CA_FILE_BYTES {
        return Err(TlsConfigError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_CA_FILE_BYTES,
        });
    }
    // RFC 7468 textual encoding; blocks of other kinds (a key beside the certificate) are
    // passed over, a damaged block of any kind is refused.
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::BadPem {
            path: path.to_path_buf(),
            detail: pem_problem(&e),
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// What is wrong with a PEM file, in words (the crate's own text prints byte lists).
fn pem_problem(e: &pem::Error) -> String {
    match e {
        // The marker is the block's label ("CERTIFICATE").
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a block has no \"END {}\" line",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { .. } => "a malformed BEGIN line".to_string(),
        pem::Error::Base64Decode(_) => "a block is not valid base64".to_string(),
        other => other.to_string(),
    }
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
    fn dev_zero_and_a_fifo_as_ca_file_are_refused_at_once() {
        let err = client_config(Some(Path::new("/dev/zero"))).unwrap_err();
        assert!(matches!(err, TlsConfigError::NotAFile { .. }), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("ca.pem");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = client_config(Some(&fifo)).unwrap_err();
        assert!(matches!(err, TlsConfigError::NotAFile { .. }), "{err}");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn a_huge_ca_file_is_refused_after_reading_only_the_cap() {
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(MAX_CA_FILE_BYTES * 100).unwrap();
        let err = client_config(Some(file.path())).unwrap_err();
        assert!(matches!(err, TlsConfigError::TooLarge { .. }), "{err}");
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

    #[test]
    fn a_damaged_block_is_refused_naming_the_file_and_the_fault() {
        for (pem, fault) in [
            (
                &b"-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n"[..],
                "not valid base64",
            ),
            (
                &b"-----BEGIN CERTIFICATE-----\nAAAA\n"[..],
                "no \"END CERTIFICATE\" line",
            ),
        ] {
            let mut file = tempfile::NamedTempFile::new().unwrap();
            io::Write::write_all(&mut file, pem).unwrap();
            let err = trusted_roots(Some(file.path())).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, TlsConfigError::BadPem { .. }), "{msg}");
            assert!(msg.contains(&file.path().display().to_string()), "{msg}");
            assert!(msg.contains(fault), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
    }
}
