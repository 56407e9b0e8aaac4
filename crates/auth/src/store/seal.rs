//! Session keys at rest: AES-256-GCM (ring) under a key derived once with HKDF-SHA256
//! from the configured secret, each blob `nonce (12 bytes) ‖ ciphertext ‖ tag`, bound to
//! its session row by the associated data (the session id's hash), so a key copied to
//! another row does not open.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf::{HKDF_SHA256, Salt};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{AuthError, Result};

/// The shortest secret accepted.
pub const MIN_SECRET_LEN: usize = 16;

/// Seals and opens session keys.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl Sealer {
    /// A sealer whose key is derived from `secret`.
    pub fn new(secret: &str) -> Result<Self> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(AuthError::Config {
                key: "auth/secret".into(),
                reason: format!("the secret needs at least {MIN_SECRET_LEN} characters"),
            });
        }
        let prk = Salt::new(HKDF_SHA256, b"superhero-auth").extract(secret.as_bytes());
        let mut bytes = Zeroizing::new([0u8; 32]);
        prk.expand(&[b"session keys v1"], &AES_256_GCM)
            .and_then(|okm| okm.fill(bytes.as_mut()))
            .map_err(|_| AuthError::crypto("key derivation failed"))?;
        let key = UnboundKey::new(&AES_256_GCM, bytes.as_ref())
            .map_err(|_| AuthError::crypto("the derived key was refused"))?;
        Ok(Sealer {
            key: LessSafeKey::new(key),
            random: SystemRandom::new(),
        })
    }

    /// `plain` sealed for the row `context`.
    pub fn seal(&self, plain: &[u8], context: &str) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| AuthError::crypto("the system's random source failed"))?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| AuthError::crypto("sealing failed"))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    /// The plain bytes of `blob` sealed for `context`.
    pub fn open(&self, blob: &[u8], context: &str) -> Result<Zeroizing<Vec<u8>>> {
        let (nonce, sealed) = blob
            .split_at_checked(NONCE_LEN)
            .ok_or_else(|| AuthError::crypto("a sealed key is too short"))?;
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| AuthError::crypto("a sealed key's nonce is malformed"))?;
        let mut buffer = Zeroizing::new(sealed.to_vec());
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), buffer.as_mut_slice())
            .map_err(|_| AuthError::crypto("a sealed key does not open (another secret?)"))?;
        Ok(Zeroizing::new(plain.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_with_the_same_secret_and_row_only() {
        let sealer = Sealer::new("a long enough secret").unwrap();
        let blob = sealer.seal(&[7; 32], "row-1").unwrap();
        assert_eq!(blob.len(), 12 + 32 + 16);
        assert!(
            !blob.windows(32).any(|w| w == [7; 32]),
            "not stored in the clear"
        );
        assert_eq!(sealer.open(&blob, "row-1").unwrap().as_slice(), &[7; 32]);
        assert!(sealer.open(&blob, "row-2").is_err());
        let other = Sealer::new("another long secret").unwrap();
        assert!(other.open(&blob, "row-1").is_err());
        assert!(sealer.open(&blob[..10], "row-1").is_err());
        assert!(Sealer::new("short").is_err());
    }
}
