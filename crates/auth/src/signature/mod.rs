//! HTTP Message Signatures (RFC 9421) for requests, with RFC 9530 content digests.
//!
//! * [`components`]: what a signature covers (`@method`, `@authority`, `@path`,
//!   `@query`, fields) and their values in a request;
//! * [`input`]: `Signature-Input` / `Signature` parsed as RFC 8941 dictionaries (the
//!   `sfv` crate), and the signature base (§2.5);
//! * [`keys`]: the algorithms `hmac-sha256` (§3.3.3) and `ed25519` (§3.3.6), on `ring`;
//! * [`digest`]: `Content-Digest` with `sha-256` (RFC 9530);
//! * [`signer`]: the client side — sign a request.
//!
//! Why our own code: RFC 9421 verification is the product here (the policy of which
//! components, which parameters, which window, and one error code per failure), and it
//! sits on kept crates for everything underneath (structured fields, crypto, base64).
//! The RFC's test vectors (Appendix B.2.5, B.2.6) and the `httpsig` crate check it.

pub mod components;
pub mod digest;
pub mod input;
pub mod keys;
pub mod signer;

pub use components::{Component, RequestParts};
pub use input::{Signature, SignatureParams};
pub use keys::{Algorithm, SigningKey, VerifyingKey};
pub use signer::{SignedHeaders, Signer};

/// What can be wrong with a signature before policy decides (the verifier maps these
/// to its `E_AUTH_*` codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The fields or a parameter are malformed, unsupported or do not verify.
    #[error("{reason}")]
    Invalid {
        /// Why.
        reason: String,
    },
    /// A covered component is not in the request.
    #[error("the request has no {component}, which the signature covers")]
    ComponentMissing {
        /// The component's name.
        component: String,
    },
}

impl SignatureError {
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        SignatureError::Invalid {
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests;
