//! Generating the chain: a self-signed root, an intermediate signed by it, and leaves
//! signed by the intermediate (rcgen; Ed25519 by default, ECDSA P-256 on request).
//!
//! A leaf carries its owner's id and role:
//!
//! - subject `CN=<id>`, SAN `DNS:<id>` (spokes verify a hub by the id they dialled) and
//!   `URI:urn:superhero-eventflow:<role>:<id>` (hubs read who connected);
//! - extended key usage: a hub leaf has `serverAuth` and `clientAuth` (it serves spokes and
//!   announces itself to peer hubs); a spoke leaf has `clientAuth` only, so TLS itself
//!   refuses a spoke certificate that tries to act as a hub.

use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The URI scheme prefix of the identity SAN.
const IDENTITY_URI_PREFIX: &str = "urn:superhero-eventflow:";

/// The key algorithm of generated certificates (`eventflow.certificates.algorithm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyAlgorithm {
    /// Ed25519 (default).
    #[default]
    Ed25519,
    /// ECDSA over P-256 with SHA-256.
    EcdsaP256,
}

impl KeyAlgorithm {
    fn rcgen(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            KeyAlgorithm::Ed25519 => &rcgen::PKCS_ED25519,
            KeyAlgorithm::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

/// What a leaf's holder may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A hub: serves spokes, announces itself to peer hubs.
    Hub,
    /// A spoke: connects to hubs.
    Spoke,
}

impl Role {
    /// The role's name in certificates.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Hub => "hub",
            Role::Spoke => "spoke",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A generated certificate with its private key (PKCS#8 PEM, wiped on drop).
#[derive(Clone)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: Zeroizing<String>,
    /// End of validity.
    pub not_after: SystemTime,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

fn generate_error(id: &str, error: rcgen::Error) -> Error {
    Error::Certificate {
        id: id.to_owned(),
        action: "generated",
        reason: error.to_string(),
    }
}

/// Creates the self-signed root CA.
pub fn create_root(algorithm: KeyAlgorithm, validity: Duration) -> Result<Issued> {
    let id = "root";
    let mut params = ca_params("superhero-eventflow root CA", validity, 1);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate_for(algorithm.rcgen()).map_err(|e| generate_error(id, e))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| generate_error(id, e))?;
    Ok(issued(cert.pem(), &key, &params))
}

/// Creates the intermediate CA, signed by `root`.
pub fn create_intermediate(
    root: &Issued,
    algorithm: KeyAlgorithm,
    validity: Duration,
) -> Result<Issued> {
    let id = "intermediate";
    let issuer = issuer(root).map_err(|e| generate_error(id, e))?;
    let mut params = ca_params("superhero-eventflow intermediate CA", validity, 0);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    // Never outlive the root.
    params.not_after = params
        .not_after
        .min(time::OffsetDateTime::from(root.not_after));
    let key = KeyPair::generate_for(algorithm.rcgen()).map_err(|e| generate_error(id, e))?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| generate_error(id, e))?;
    Ok(issued(cert.pem(), &key, &params))
}

/// Creates a leaf for hub or spoke `id`, signed by `intermediate`. `id` must be a valid
/// DNS name (lower-case letters, digits, `-`, `.`); see [`crate::ids`].
pub fn create_leaf(
    intermediate: &Issued,
    id: &str,
    role: Role,
    algorithm: KeyAlgorithm,
    validity: Duration,
) -> Result<Issued> {
    let issuer = issuer(intermediate).map_err(|e| generate_error(id, e))?;
    let mut params =
        CertificateParams::new(vec![id.to_owned()]).map_err(|e| generate_error(id, e))?;
    let uri = identity_uri(role, id)
        .try_into()
        .map_err(|e| generate_error(id, e))?;
    params.subject_alt_names.push(SanType::URI(uri));
    params.distinguished_name = name(id);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = match role {
        Role::Hub => vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
        Role::Spoke => vec![ExtendedKeyUsagePurpose::ClientAuth],
    };
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, validity);
    params.not_after = params
        .not_after
        .min(time::OffsetDateTime::from(intermediate.not_after));
    let key = KeyPair::generate_for(algorithm.rcgen()).map_err(|e| generate_error(id, e))?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(|e| generate_error(id, e))?;
    Ok(issued(cert.pem(), &key, &params))
}

/// Who holds a leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The hub or spoke id.
    pub id: String,
    /// Its role.
    pub role: Role,
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.role, self.id)
    }
}

/// Reads the identity SAN of a DER leaf certificate.
pub fn identity_of(der: &[u8]) -> Option<Identity> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        x509_parser::extensions::GeneralName::URI(uri) => parse_identity_uri(uri),
        _ => None,
    })
}

/// The end of validity of a DER certificate.
pub fn not_after_of(der: &[u8]) -> Option<SystemTime> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let seconds = cert.validity().not_after.timestamp();
    let seconds = u64::try_from(seconds).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds))
}

/// The DER of a PEM certificate.
pub fn der_of(pem: &str, id: &str) -> Result<CertificateDer<'static>> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| Error::Certificate {
        id: id.to_owned(),
        action: "parsed",
        reason: e.to_string(),
    })
}

fn identity_uri(role: Role, id: &str) -> String {
    format!("{IDENTITY_URI_PREFIX}{}:{id}", role.as_str())
}

fn parse_identity_uri(uri: &str) -> Option<Identity> {
    let rest = uri.strip_prefix(IDENTITY_URI_PREFIX)?;
    let (role, id) = rest.split_once(':')?;
    let role = match role {
        "hub" => Role::Hub,
        "spoke" => Role::Spoke,
        _ => return None,
    };
    Some(Identity {
        id: id.to_owned(),
        role,
    })
}

fn ca_params(common_name: &str, validity: Duration, path_len: u8) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    set_validity(&mut params, validity);
    params
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "superhero-eventflow");
    name.push(DnType::CommonName, common_name);
    name
}

fn set_validity(params: &mut CertificateParams, validity: Duration) {
    let now = time::OffsetDateTime::now_utc();
    // A little slack for clocks that disagree by a minute.
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + validity;
}

fn issued(cert_pem: String, key: &KeyPair, params: &CertificateParams) -> Issued {
    Issued {
        cert_pem,
        key_pem: Zeroizing::new(key.serialize_pem()),
        not_after: params.not_after.into(),
    }
}

fn issuer(ca: &Issued) -> std::result::Result<Issuer<'static, KeyPair>, rcgen::Error> {
    let key = KeyPair::from_pem(&ca.key_pem)?;
    Issuer::from_ca_cert_pem(&ca.cert_pem, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn a_leaf_carries_its_id_and_role() {
        for algorithm in [KeyAlgorithm::Ed25519, KeyAlgorithm::EcdsaP256] {
            let root = create_root(algorithm, DAY).unwrap();
            let intermediate = create_intermediate(&root, algorithm, DAY).unwrap();
            let leaf = create_leaf(&intermediate, "hub-abc", Role::Hub, algorithm, DAY).unwrap();
            let der = der_of(&leaf.cert_pem, "hub-abc").unwrap();
            assert_eq!(
                identity_of(&der),
                Some(Identity {
                    id: "hub-abc".into(),
                    role: Role::Hub
                })
            );
            let not_after = not_after_of(&der).unwrap();
            assert!(not_after <= intermediate.not_after);
            assert!(not_after > SystemTime::now());
        }
    }

    #[test]
    fn a_leaf_never_outlives_its_intermediate() {
        let root = create_root(KeyAlgorithm::Ed25519, DAY).unwrap();
        let intermediate = create_intermediate(&root, KeyAlgorithm::Ed25519, DAY * 30).unwrap();
        assert!(intermediate.not_after <= root.not_after);
        let leaf = create_leaf(
            &intermediate,
            "s-1",
            Role::Spoke,
            KeyAlgorithm::Ed25519,
            DAY * 90,
        )
        .unwrap();
        assert!(leaf.not_after <= intermediate.not_after);
    }
}
