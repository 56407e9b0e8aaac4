//! Private keys encrypted at rest.
//!
//! A sealed blob is `version(1) | m_cost(4) | t_cost(4) | p_cost(4) | salt(16) | nonce(12) |
//! AES-256-GCM ciphertext+tag`, integers little-endian. The key is derived with Argon2id
//! from the configured secret and the blob's random salt, with the cost parameters stored
//! in the blob (so they can be raised later without breaking old rows). The associated
//! data is the certificate's id, so a blob copied onto another row does not decrypt. The
//! secret itself is never stored or logged (its `Debug` is redacted).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const VERSION: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 1 + 12 + SALT_LEN + NONCE_LEN;

/// The shortest secret accepted, in characters.
pub const MIN_SECRET_CHARS: usize = 16;

/// Argon2id cost parameters (`eventflow.certificates.kdf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KdfCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Parallelism (lanes).
    pub parallelism: u32,
}

impl Default for KdfCost {
    /// OWASP's recommended Argon2id setting: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        KdfCost {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl KdfCost {
    /// The cheapest setting Argon2 accepts: for tests only, never for real secrets.
    pub const fn cheapest_for_tests() -> Self {
        KdfCost {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        }
    }
}

/// Encrypts and decrypts key material with the cluster's secret.
pub struct KeySealer {
    secret: Zeroizing<Vec<u8>>,
    cost: KdfCost,
}

impl std::fmt::Debug for KeySealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySealer")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

impl KeySealer {
    /// A sealer for `secret` (at least [`MIN_SECRET_CHARS`] characters) that seals new
    /// blobs with `cost`.
    pub fn new(secret: &str, cost: KdfCost) -> Result<Self> {
        if secret.is_empty() {
            return Err(Error::MissingSecret);
        }
        if secret.chars().count() < MIN_SECRET_CHARS {
            return Err(Error::WeakSecret {
                min: MIN_SECRET_CHARS,
            });
        }
        Ok(KeySealer {
            secret: Zeroizing::new(secret.as_bytes().to_vec()),
            cost,
        })
    }

    /// Encrypts `plaintext`, binding it to `context` (the certificate id).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>> {
        let fail = |reason: &str| Error::Seal {
            id: context.to_owned(),
            action: "sealed",
            reason: reason.to_owned(),
        };
        let mut salt = [0u8; SALT_LEN];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut salt);
        rand::rng().fill_bytes(&mut nonce);
        let key = self.derive(&salt, self.cost, context, "sealed")?;
        let cipher =
            Aes256Gcm::new_from_slice(key.as_slice()).map_err(|_| fail("bad key length"))?;
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| fail("encryption failed"))?;
        let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&self.cost.memory_kib.to_le_bytes());
        out.extend_from_slice(&self.cost.iterations.to_le_bytes());
        out.extend_from_slice(&self.cost.parallelism.to_le_bytes());
        out.extend_from_slice(&salt);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a blob made by [`seal`](Self::seal) with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Zeroizing<Vec<u8>>> {
        let fail = |reason: &str| Error::Seal {
            id: context.to_owned(),
            action: "opened",
            reason: reason.to_owned(),
        };
        if sealed.len() <= HEADER_LEN || sealed[0] != VERSION {
            return Err(fail(
                "the stored key material is malformed or of an unknown version",
            ));
        }
        let word = |at: usize| {
            u32::from_le_bytes([sealed[at], sealed[at + 1], sealed[at + 2], sealed[at + 3]])
        };
        let cost = KdfCost {
            memory_kib: word(1),
            iterations: word(5),
            parallelism: word(9),
        };
        let salt = &sealed[13..13 + SALT_LEN];
        let nonce: [u8; NONCE_LEN] = sealed[13 + SALT_LEN..HEADER_LEN]
            .try_into()
            .map_err(|_| fail("the stored nonce is malformed"))?;
        let key = self.derive(salt, cost, context, "opened")?;
        let cipher =
            Aes256Gcm::new_from_slice(key.as_slice()).map_err(|_| fail("bad key length"))?;
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: context.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                fail("it does not decrypt with the configured secret (wrong secret, or tampered data)")
            })
    }

    fn derive(
        &self,
        salt: &[u8],
        cost: KdfCost,
        context: &str,
        action: &'static str,
    ) -> Result<Zeroizing<[u8; 32]>> {
        let kdf_error = |e: argon2::Error| Error::Seal {
            id: context.to_owned(),
            action,
            reason: format!("key derivation failed: {e}"),
        };
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, Some(32))
            .map_err(kdf_error)?;
        let mut key = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(&self.secret, salt, key.as_mut())
            .map_err(kdf_error)?;
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap(secret: &str) -> KeySealer {
        KeySealer::new(secret, KdfCost::cheapest_for_tests()).unwrap()
    }

    #[test]
    fn sealed_keys_open_with_the_same_secret_and_context_only() {
        let sealer = cheap("correct horse battery staple");
        let blob = sealer
            .seal(b"-----BEGIN PRIVATE KEY-----", "leaf-1")
            .unwrap();
        assert!(
            !blob.windows(11).any(|w| w == b"-----BEGIN "),
            "plaintext must not appear"
        );
        assert_eq!(
            sealer.open(&blob, "leaf-1").unwrap().as_slice(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        let wrong_row = sealer.open(&blob, "leaf-2").unwrap_err();
        assert_eq!(wrong_row.code(), "E_EVENTFLOW_CERTIFICATES_SEAL");
        assert!(
            cheap("another secret entirely")
                .open(&blob, "leaf-1")
                .is_err()
        );
    }

    #[test]
    fn tampering_is_detected() {
        let sealer = cheap("correct horse battery staple");
        let mut blob = sealer.seal(b"key", "c").unwrap();
        let last = blob.len() - 1;
        blob[last] ^= 1;
        assert!(sealer.open(&blob, "c").is_err());
        assert!(sealer.open(&blob[..10], "c").is_err());
    }

    #[test]
    fn missing_and_short_secrets_are_refused() {
        let missing = KeySealer::new("", KdfCost::default()).unwrap_err();
        assert_eq!(
            missing.code(),
            "E_EVENTFLOW_CERTIFICATES_MISSING_CONFIGURATION"
        );
        let short = KeySealer::new("short", KdfCost::default()).unwrap_err();
        assert_eq!(short.code(), "E_EVENTFLOW_CERTIFICATES_WEAK_SECRET");
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let sealer = cheap("correct horse battery staple");
        assert!(!format!("{sealer:?}").contains("horse"));
    }
}
