//! The two algorithms: `hmac-sha256` with a shared key (RFC 9421 §3.3.3) and `ed25519`
//! with a key pair (§3.3.6), on `ring`. HMAC verification compares in constant time.

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use ring::{hmac, rand::SystemRandom};

use super::SignatureError;

/// A signature algorithm, by its RFC 9421 registry name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `hmac-sha256`.
    HmacSha256,
    /// `ed25519`.
    Ed25519,
}

impl Algorithm {
    /// The name in the `alg` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::Ed25519 => "ed25519",
        }
    }

    /// The algorithm called `name`; `None` for any other.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "hmac-sha256" => Some(Algorithm::HmacSha256),
            "ed25519" => Some(Algorithm::Ed25519),
            _ => None,
        }
    }
}

/// What verifies a signature.
#[derive(Clone)]
pub enum VerifyingKey {
    /// A shared HMAC-SHA256 key.
    Hmac(hmac::Key),
    /// A raw 32-byte Ed25519 public key.
    Ed25519([u8; 32]),
}

impl VerifyingKey {
    /// An HMAC key from its bytes.
    pub fn hmac(secret: &[u8]) -> Self {
        VerifyingKey::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// An Ed25519 public key from its 32 raw bytes.
    pub fn ed25519(public: &[u8]) -> Result<Self, SignatureError> {
        let raw: [u8; 32] = public
            .try_into()
            .map_err(|_| SignatureError::invalid("an Ed25519 public key is 32 bytes"))?;
        Ok(VerifyingKey::Ed25519(raw))
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            VerifyingKey::Hmac(_) => Algorithm::HmacSha256,
            VerifyingKey::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// Whether `signature` is this key's signature of `base`.
    pub fn verify(&self, base: &[u8], signature: &[u8]) -> bool {
        match self {
            VerifyingKey::Hmac(key) => hmac::verify(key, base, signature).is_ok(),
            VerifyingKey::Ed25519(public) => UnparsedPublicKey::new(&ED25519, public)
                .verify(base, signature)
                .is_ok(),
        }
    }
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key material.
        write!(f, "VerifyingKey({})", self.algorithm().name())
    }
}

/// What makes a signature.
pub enum SigningKey {
    /// A shared HMAC-SHA256 key.
    Hmac(hmac::Key),
    /// An Ed25519 key pair.
    Ed25519(Ed25519KeyPair),
}

impl SigningKey {
    /// An HMAC key from its bytes.
    pub fn hmac(secret: &[u8]) -> Self {
        SigningKey::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// An Ed25519 key pair from its 32-byte seed (the private key of RFC 8032).
    pub fn ed25519_from_seed(seed: &[u8]) -> Result<Self, SignatureError> {
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(SigningKey::Ed25519)
            .map_err(|_| SignatureError::invalid("an Ed25519 seed is 32 bytes"))
    }

    /// A new random Ed25519 key pair.
    pub fn generate_ed25519() -> Result<Self, SignatureError> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| SignatureError::invalid("the system's random source failed"))?;
        Ed25519KeyPair::from_pkcs8(document.as_ref())
            .map(SigningKey::Ed25519)
            .map_err(|_| SignatureError::invalid("a generated key did not load"))
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            SigningKey::Hmac(_) => Algorithm::HmacSha256,
            SigningKey::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// The raw Ed25519 public key (to register at login); `None` for HMAC.
    pub fn public_key(&self) -> Option<[u8; 32]> {
        match self {
            SigningKey::Hmac(_) => None,
            SigningKey::Ed25519(pair) => pair.public_key().as_ref().try_into().ok(),
        }
    }

    /// The signature of `base`.
    pub fn sign(&self, base: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::Hmac(key) => hmac::sign(key, base).as_ref().to_vec(),
            SigningKey::Ed25519(pair) => pair.sign(base).as_ref().to_vec(),
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.algorithm().name())
    }
}
