//! [`CertificateStore`]: rows of the certificate chain, private keys already encrypted.
//!
//! The store keeps what it is given: the public PEM certificate as text and the private key
//! material as opaque bytes that the certificates module has encrypted (its format, with
//! nonce, salt and tag, is that module's business). The row with version 0 is the current
//! ("hot") certificate of an id; revoking it moves it to the next free version, so a
//! successor can take version 0.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::Result;

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateRecord {
    /// Certificate id: the root's fixed name, an intermediate's name or a leaf's hub/spoke id.
    pub id: String,
    /// 0 for the current certificate; n ≥ 1 for the n-th revoked one.
    pub version: u32,
    /// The PEM certificate (public).
    pub cert: String,
    /// The encrypted private key material.
    pub key: Vec<u8>,
    /// The certificate's notAfter.
    pub validity: Timestamp,
    /// When the row was written (set by the store).
    pub created_at: Timestamp,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl CertificateRecord {
    /// A current (version 0, unrevoked) record to persist.
    pub fn new(
        id: impl Into<String>,
        cert: impl Into<String>,
        key: Vec<u8>,
        validity: Timestamp,
    ) -> Self {
        CertificateRecord {
            id: id.into(),
            version: 0,
            cert: cert.into(),
            key,
            validity,
            created_at: Timestamp::EPOCH,
            revoked_at: None,
        }
    }
}

/// Certificate rows.
#[async_trait]
pub trait CertificateStore: Send + Sync {
    /// Stores `record` as the current certificate of its id; false (not an error) when the
    /// id already has a current certificate, so concurrent creators can all try and the
    /// losers load the winner's.
    async fn persist_certificate(&self, record: &CertificateRecord) -> Result<bool>;

    /// The current certificate of `id`; `E_EVENTFLOW_CERTIFICATE_NOT_FOUND` when there is none.
    async fn read_certificate(&self, id: &str) -> Result<CertificateRecord>;

    /// Revokes the current certificate of `id`; false when there is none.
    async fn revoke_certificate(&self, id: &str) -> Result<bool>;

    /// Revokes every current certificate whose validity has passed; returns how many.
    async fn revoke_expired_certificates(&self) -> Result<u64>;
}
