//! Certificates: the cluster's root → intermediate → leaf chain, kept in the store with
//! private keys encrypted at rest.
//!
//! * [`generate`]: rcgen generation; a leaf carries its holder's id and role.
//! * [`sealed`]: AES-256-GCM with an Argon2id key derived from the configured secret.
//! * [`CertificateAuthority`]: loads the chain (the first hub creates it), issues leaves,
//!   answers the revocation check (a presented leaf must be the current row of its id).
//! * [`NodeTls`]: one process's leaf and TLS configurations, renewed before the leaf lapses.

pub mod authority;
pub mod config;
pub mod generate;
pub mod identity;
pub mod sealed;

pub use authority::{CertificateAuthority, Chain, INTERMEDIATE_ID, ROOT_ID};
pub use config::{CertificatesConfig, Secret};
pub use generate::{Identity, Issued, KeyAlgorithm, Role};
pub use identity::NodeTls;
pub use sealed::{KdfCost, KeySealer};
