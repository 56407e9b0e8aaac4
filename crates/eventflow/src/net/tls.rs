//! Mutual TLS for hub ↔ spoke links (rustls with the ring provider).
//!
//! Both sides trust only the cluster's root. A server (hub) requires a client certificate
//! chaining to it; a client verifies the server certificate for the hub id it dialled and
//! (through webpki's extended-key-usage check) that it is a hub certificate. The leaf each
//! side presents lives in a [`LeafResolver`], so a renewed leaf takes effect for new
//! connections without a restart. Session resumption is off: a resumed session would carry
//! the certificate of the first handshake, and the hub checks the presented leaf against
//! the store on every connection.

use std::sync::{Arc, PoisonError, RwLock};

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// The ALPN protocol id of the eventflow channel.
pub const ALPN: &[u8] = b"superhero-eventflow/1";

fn tls_error(reason: impl std::fmt::Display) -> Error {
    Error::Tls {
        reason: reason.to_string(),
    }
}

/// The crypto provider used everywhere in eventflow.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parses one PEM certificate.
pub fn certificate(pem: &str, what: &'static str) -> Result<CertificateDer<'static>> {
    CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| tls_error(format!("invalid PEM for the {what}: {e}")))
}

/// The leaf (and its issuing chain) this process presents.
#[derive(Debug)]
pub struct LeafResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl LeafResolver {
    /// A resolver presenting `leaf_pem` + `chain_pems` with `key_pem`.
    pub fn new(leaf_pem: &str, chain_pems: &[&str], key_pem: &str) -> Result<Arc<Self>> {
        Ok(Arc::new(LeafResolver {
            current: RwLock::new(certified_key(leaf_pem, chain_pems, key_pem)?),
        }))
    }

    /// Presents a new leaf from now on.
    pub fn replace(&self, leaf_pem: &str, chain_pems: &[&str], key_pem: &str) -> Result<()> {
        let key = certified_key(leaf_pem, chain_pems, key_pem)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = key;
        Ok(())
    }

    /// The leaf presented now (DER).
    pub fn leaf(&self) -> Option<CertificateDer<'static>> {
        self.current().cert.first().cloned()
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ResolvesServerCert for LeafResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

impl ResolvesClientCert for LeafResolver {
    fn resolve(
        &self,
        _issuers: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

fn certified_key(leaf_pem: &str, chain_pems: &[&str], key_pem: &str) -> Result<Arc<CertifiedKey>> {
    let mut chain = vec![certificate(leaf_pem, "leaf certificate")?];
    for pem in chain_pems {
        chain.push(certificate(pem, "chain certificate")?);
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| tls_error(format!("invalid PEM for the leaf key: {e}")))?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(tls_error)?;
    Ok(Arc::new(CertifiedKey::new(chain, signing)))
}

fn roots(root_pem: &str) -> Result<Arc<RootCertStore>> {
    let mut roots = RootCertStore::empty();
    roots
        .add(certificate(root_pem, "root certificate")?)
        .map_err(tls_error)?;
    Ok(Arc::new(roots))
}

/// The hub's server configuration: client certificates required.
pub fn server_config(root_pem: &str, leaf: Arc<LeafResolver>) -> Result<Arc<ServerConfig>> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(root_pem)?, provider())
        .build()
        .map_err(tls_error)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(leaf);
    config.alpn_protocols = vec![ALPN.to_vec()];
    // No resumption: every connection presents (and is checked with) its current leaf.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// The client configuration of spokes (and of hubs announcing to peers).
pub fn client_config(root_pem: &str, leaf: Arc<LeafResolver>) -> Result<Arc<ClientConfig>> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots(root_pem)?)
        .with_client_cert_resolver(leaf);
    config.alpn_protocols = vec![ALPN.to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}
