//! Certificates configuration (`eventflow.certificates`).
//!
//! ```toml
//! [eventflow.certificates]
//! # secret = "…"            # required; better from SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET
//! algorithm = "ed25519"     # or "ecdsa-p256"
//! root_validity_days = 3650
//! intermediate_validity_days = 365
//! leaf_validity_secs = 604800   # 7 days
//! renew_before_secs = 86400     # renew a leaf one day before it lapses
//! kdf = { memory_kib = 19456, iterations = 2, parallelism = 1 }   # Argon2id
//! ```

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use zeroize::Zeroizing;

use super::generate::KeyAlgorithm;
use super::sealed::KdfCost;
use crate::error::{Error, Result};

/// The cluster secret that encrypts private keys. Never printed: its `Debug` is `***`.
#[derive(Clone, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(Zeroizing::new(secret.into()))
    }

    /// The secret's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        // A string only; the error names the expected type, never the value.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Secret;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a secret string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Secret, E> {
                Ok(Secret::new(v))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// `eventflow.certificates`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CertificatesConfig {
    /// The cluster secret (at least 16 characters). Required.
    pub secret: Secret,
    /// Key algorithm of new certificates.
    pub algorithm: KeyAlgorithm,
    /// Validity of a new root, in days.
    pub root_validity_days: u32,
    /// Validity of a new intermediate, in days (never beyond the root's).
    pub intermediate_validity_days: u32,
    /// Validity of a hub or spoke leaf, in seconds (never beyond the intermediate's).
    pub leaf_validity_secs: u64,
    /// A leaf is renewed this long before it lapses, in seconds.
    pub renew_before_secs: u64,
    /// Argon2id cost for sealing new private keys.
    pub kdf: KdfCost,
}

impl Default for CertificatesConfig {
    fn default() -> Self {
        CertificatesConfig {
            secret: Secret::default(),
            algorithm: KeyAlgorithm::Ed25519,
            root_validity_days: 3650,
            intermediate_validity_days: 365,
            leaf_validity_secs: 7 * 86_400,
            renew_before_secs: 86_400,
            kdf: KdfCost::default(),
        }
    }
}

impl CertificatesConfig {
    /// The default settings with `secret`.
    pub fn with_secret(secret: impl Into<String>) -> Self {
        CertificatesConfig {
            secret: Secret::new(secret),
            ..CertificatesConfig::default()
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        const KEY: &str = "eventflow/certificates";
        if self.leaf_validity_secs < 60 {
            return Err(Error::settings(
                format!("{KEY}/leaf_validity_secs"),
                "must be at least 60 seconds",
            ));
        }
        if self.renew_before_secs >= self.leaf_validity_secs {
            return Err(Error::settings(
                format!("{KEY}/renew_before_secs"),
                "must be shorter than leaf_validity_secs",
            ));
        }
        if self.root_validity_days == 0 || self.intermediate_validity_days == 0 {
            return Err(Error::settings(KEY, "validities must be at least one day"));
        }
        Ok(())
    }

    pub(crate) fn root_validity(&self) -> Duration {
        Duration::from_secs(u64::from(self.root_validity_days) * 86_400)
    }

    pub(crate) fn intermediate_validity(&self) -> Duration {
        Duration::from_secs(u64::from(self.intermediate_validity_days) * 86_400)
    }

    pub(crate) fn leaf_validity(&self) -> Duration {
        Duration::from_secs(self.leaf_validity_secs)
    }

    pub(crate) fn renew_before(&self) -> Duration {
        Duration::from_secs(self.renew_before_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_read_but_never_printed() {
        let config: CertificatesConfig =
            serde_json::from_str(r#"{"secret":"0123456789abcdef-very-secret"}"#).unwrap();
        assert_eq!(config.secret.expose(), "0123456789abcdef-very-secret");
        assert!(!format!("{config:?}").contains("very-secret"));
        let error = serde_json::from_str::<CertificatesConfig>(r#"{"secret":42}"#).unwrap_err();
        assert!(error.to_string().contains("a secret string"));
    }

    #[test]
    fn renewal_must_come_before_expiry() {
        let mut config = CertificatesConfig::with_secret("x");
        config.renew_before_secs = config.leaf_validity_secs;
        assert_eq!(
            config.validate().map_err(|e| e.code()),
            Err("E_EVENTFLOW_CONFIG")
        );
    }
}
