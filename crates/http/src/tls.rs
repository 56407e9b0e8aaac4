//! TLS with rustls and the `ring` provider: server configuration from PEM files (ALPN
//! `h2` and `http/1.1` always advertised), and self-signed development certificates made
//! with rcgen for tests, benchmarks and the demo.
//!
//! ```
//! use superhero_http::tls::DevCertificate;
//! let dev = DevCertificate::generate(&["localhost"])?;
//! let server = dev.server_config()?;
//! assert_eq!(server.alpn_protocols, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
//! # Ok::<(), superhero_http::HttpError>(())
//! ```

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::ring;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::config::TlsFiles;
use crate::error::HttpError;

fn tls_error(reason: impl Into<String>, source: impl Into<crate::error::BoxError>) -> HttpError {
    HttpError::Tls {
        reason: reason.into(),
        source: Some(source.into()),
    }
}

/// A server configuration for a certificate chain and key: TLS 1.2 and 1.3, ring
/// provider, ALPN `h2` then `http/1.1`.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, HttpError> {
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("no usable protocol versions", e))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| tls_error("the certificate and key do not form a usable pair", e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads the PEM files of `http.server.tls` and builds the server configuration.
pub fn server_config_from_files(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, HttpError> {
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            tls_error(
                format!("cannot read certificates from {}", files.cert.display()),
                e,
            )
        })?;
    if chain.is_empty() {
        return Err(HttpError::Tls {
            reason: format!("{} holds no certificate", files.cert.display()),
            source: None,
        });
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        tls_error(
            format!("cannot read a private key from {}", files.key.display()),
            e,
        )
    })?;
    server_config(chain, key)
}

/// The key algorithm of a development certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (the default).
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
}

/// A self-signed certificate and its key, for development only.
#[derive(Debug)]
pub struct DevCertificate {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The PKCS#8 private key, PEM.
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl DevCertificate {
    /// Generates a certificate for the given DNS names or IP addresses (ECDSA P-256).
    pub fn generate(names: &[&str]) -> Result<Self, HttpError> {
        Self::generate_with(names, KeyAlgorithm::default())
    }

    /// Generates a certificate with a key of the given algorithm.
    pub fn generate_with(names: &[&str], algorithm: KeyAlgorithm) -> Result<Self, HttpError> {
        let fail = |e: rcgen::Error| tls_error("cannot generate a development certificate", e);
        let algorithm = match algorithm {
            KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyAlgorithm::EcdsaP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
        };
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let key = rcgen::KeyPair::generate_for(algorithm).map_err(fail)?;
        let cert = rcgen::CertificateParams::new(names)
            .and_then(|params| params.self_signed(&key))
            .map_err(fail)?;
        Ok(Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// Writes `cert.pem` and `key.pem` (owner-only) into `dir` and returns their paths.
    pub fn write_pem(&self, dir: &Path) -> Result<TlsFiles, HttpError> {
        let files = TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, &self.cert_pem)
            .map_err(|e| tls_error(format!("cannot write {}", files.cert.display()), e))?;
        write_private(&files.key, self.key_pem.as_bytes())
            .map_err(|e| tls_error(format!("cannot write {}", files.key.display()), e))?;
        Ok(files)
    }

    /// A server configuration presenting this certificate.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, HttpError> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone()));
        server_config(vec![self.cert_der.clone()], key)
    }

    /// A client configuration trusting only this certificate and offering `alpn`
    /// (e.g. `[b"h2"]`), for tests and benchmarks.
    pub fn client_config(&self, alpn: &[&[u8]]) -> Result<Arc<rustls::ClientConfig>, HttpError> {
        self.client_config_with(alpn, rustls::DEFAULT_VERSIONS)
    }

    /// Like [`client_config`](Self::client_config), limited to the given TLS versions
    /// (e.g. `&[&rustls::version::TLS12]`).
    pub fn client_config_with(
        &self,
        alpn: &[&[u8]],
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<Arc<rustls::ClientConfig>, HttpError> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.cert_der.clone())
            .map_err(|e| tls_error("cannot trust the development certificate", e))?;
        let mut config =
            rustls::ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
                .with_protocol_versions(versions)
                .map_err(|e| tls_error("no usable protocol versions", e))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
