//! The `auth` settings.
//!
//! ```toml
//! [auth.sessions]
//! idle_timeout_secs = 1800        # ended after 30 min without a request
//! absolute_timeout_secs = 43200   # and 12 h after sign-in in any case
//! touch_interval_secs = 60        # last-seen is written at most this often
//!
//! [auth.signatures]
//! window_secs = 300               # created may be this far from the server's clock
//!
//! [auth.passwords]                # Argon2id (OWASP: ≥ 19 MiB, t = 2, p = 1)
//! memory_kib = 19456
//! iterations = 2
//! parallelism = 1
//! max_concurrent = 1              # hashes at once (default: half the CPUs, at least 1)
//! max_waiting = 256               # more sign-ins waiting than this: 503 E_AUTH_BUSY
//!
//! [auth]
//! activity = true                 # record a user-activity event per authenticated request
//! # secret: seals session keys at rest; default eventflow.certificates.secret
//!
//! [auth.keys.carrier]             # a client that signs with a key of its own, not a session:
//! hmac_sha256 = "<base64 secret>" # keyid "carrier"; or ed25519 = "<base64 public key>"
//! ```

use std::time::Duration;

use serde::Deserialize;
pub use superhero_eventflow::certs::Secret;

/// Every `auth` setting.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Session lifetimes.
    pub sessions: SessionsConfig,
    /// Signature checks.
    pub signatures: SignaturesConfig,
    /// Password hashing.
    pub passwords: PasswordsConfig,
    /// Whether authenticated requests are recorded as `user-activity` events.
    pub activity: bool,
    /// The secret that seals session keys at rest (at least 16 characters); default:
    /// `eventflow.certificates.secret`. Never logged (its `Debug` is `***`).
    pub secret: Option<Secret>,
    /// Clients that sign with a configured key instead of a session (a partner's
    /// callbacks, say), by keyid. A request signed with one is authenticated as
    /// `key:<keyid>` ([`crate::KEY_PREFIX`]); its nonces are checked as a session's.
    pub keys: std::collections::BTreeMap<String, ClientKey>,
}

/// A configured client key: exactly one of the two (base64, standard alphabet).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientKey {
    /// A shared HMAC-SHA256 secret (at least 32 bytes); never logged.
    pub hmac_sha256: Option<Secret>,
    /// An Ed25519 public key (32 bytes).
    pub ed25519: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            sessions: SessionsConfig::default(),
            signatures: SignaturesConfig::default(),
            passwords: PasswordsConfig::default(),
            activity: true,
            secret: None,
            keys: std::collections::BTreeMap::new(),
        }
    }
}

impl AuthConfig {
    /// Checks the settings make sense together: a window of 1 s to 1 day, an idle limit
    /// above zero and above the touch interval, an absolute limit at least the idle one,
    /// and room for at least one waiting sign-in.
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.sessions;
        let window = self.signatures.window_secs;
        if !(1..=86_400).contains(&window) {
            return Err(format!(
                "signatures.window_secs is {window}; use 1 to 86400"
            ));
        }
        if s.idle_timeout_secs == 0 || s.touch_interval_secs >= s.idle_timeout_secs {
            return Err(format!(
                "sessions.idle_timeout_secs ({}) must be above zero and above sessions.touch_interval_secs ({})",
                s.idle_timeout_secs, s.touch_interval_secs
            ));
        }
        if s.absolute_timeout_secs < s.idle_timeout_secs {
            return Err(format!(
                "sessions.absolute_timeout_secs ({}) must be at least sessions.idle_timeout_secs ({})",
                s.absolute_timeout_secs, s.idle_timeout_secs
            ));
        }
        if self.passwords.max_waiting == 0 {
            return Err("passwords.max_waiting must be at least 1".into());
        }
        for (keyid, key) in &self.keys {
            key.verifying_key()
                .map_err(|reason| format!("keys.{keyid}: {reason}"))?;
        }
        Ok(())
    }
}

impl ClientKey {
    /// The key to verify with, or what is wrong with the setting.
    pub fn verifying_key(&self) -> Result<crate::signature::VerifyingKey, String> {
        use base64::Engine as _;
        let decode = |text: &str| {
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|e| format!("not base64: {e}"))
        };
        match (&self.hmac_sha256, &self.ed25519) {
            (Some(secret), None) => {
                let secret = decode(secret.expose())?;
                if secret.len() < 32 {
                    return Err("hmac_sha256 needs at least 32 bytes".into());
                }
                Ok(crate::signature::VerifyingKey::hmac(&secret))
            }
            (None, Some(public)) => {
                crate::signature::VerifyingKey::ed25519(&decode(public)?).map_err(|e| e.to_string())
            }
            _ => Err("set exactly one of hmac_sha256 and ed25519".into()),
        }
    }
}

/// Session lifetimes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionsConfig {
    /// A session without requests for this long has ended (seconds, default 1800).
    pub idle_timeout_secs: u64,
    /// A session ends this long after sign-in whatever happens (seconds, default 43200).
    pub absolute_timeout_secs: u64,
    /// Last-seen is written at most this often (seconds, default 60), so a session may
    /// end up to this much before its idle limit.
    pub touch_interval_secs: u64,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 12 * 3600,
            touch_interval_secs: 60,
        }
    }
}

impl SessionsConfig {
    /// The idle limit.
    pub fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// The absolute limit.
    pub fn absolute(&self) -> Duration {
        Duration::from_secs(self.absolute_timeout_secs)
    }
}

/// Signature checks.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignaturesConfig {
    /// `created` may differ from the server's clock by at most this (seconds, default 300).
    pub window_secs: u64,
    /// How often expired nonces are deleted (seconds, default 60).
    pub prune_interval_secs: u64,
}

impl Default for SignaturesConfig {
    fn default() -> Self {
        SignaturesConfig {
            window_secs: 300,
            prune_interval_secs: 60,
        }
    }
}

/// Password hashing with Argon2id.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordsConfig {
    /// Memory cost in KiB (default 19456 = 19 MiB).
    pub memory_kib: u32,
    /// Passes (default 2).
    pub iterations: u32,
    /// Lanes (default 1).
    pub parallelism: u32,
    /// Hashes computed at once (default: half the CPUs, at least 1); the rest wait.
    pub max_concurrent: usize,
    /// Sign-ins allowed to wait for a hash (default 256); beyond, 503 `E_AUTH_BUSY`.
    pub max_waiting: usize,
}

impl Default for PasswordsConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        PasswordsConfig {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
            max_concurrent: (cpus / 2).max(1),
            max_waiting: 256,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_key_is_one_well_formed_key() {
        use base64::Engine as _;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let hmac = |bytes: &[u8]| ClientKey {
            hmac_sha256: Some(Secret::new(b64(bytes))),
            ed25519: None,
        };
        assert!(hmac(&[1; 32]).verifying_key().is_ok());
        assert!(
            hmac(&[1; 16])
                .verifying_key()
                .unwrap_err()
                .contains("32 bytes")
        );
        let both = ClientKey {
            ed25519: Some(b64(&[2; 32])),
            ..hmac(&[1; 32])
        };
        assert!(both.verifying_key().unwrap_err().contains("exactly one"));
        let mut config = AuthConfig::default();
        config.keys.insert("partner".into(), hmac(b"short"));
        assert!(config.validate().unwrap_err().starts_with("keys.partner:"));
    }

    #[test]
    fn the_defaults_are_valid_and_contradictions_are_refused() {
        assert_eq!(AuthConfig::default().validate(), Ok(()));
        let mut config = AuthConfig::default();
        config.signatures.window_secs = u64::MAX;
        assert!(config.validate().is_err());
        let mut config = AuthConfig::default();
        config.sessions.idle_timeout_secs = 0;
        assert!(config.validate().is_err());
        let mut config = AuthConfig::default();
        config.sessions.touch_interval_secs = config.sessions.idle_timeout_secs;
        assert!(config.validate().is_err());
        let mut config = AuthConfig::default();
        config.sessions.absolute_timeout_secs = 60;
        assert!(config.validate().is_err());
    }
}
