//! Passwords: Argon2id PHC strings (the `argon2` crate) with OWASP parameters, hashed off
//! the async runtime on `max_concurrent` threads of their own that run at a lower
//! scheduling priority (nice 10), so a flood of sign-ins leaves CPU for every other
//! route; at most `max_waiting` hashes are queued (`E_AUTH_BUSY` beyond). Checking an
//! unknown user runs a full hash against a dummy hash, so it costs what a wrong password
//! costs.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::config::PasswordsConfig;
use crate::error::{AuthError, Result};

/// The shortest password accepted.
pub const MIN_LEN: usize = 8;
/// The longest password accepted, in bytes (bounds the hashing work a request can ask).
pub const MAX_LEN: usize = 1024;

/// What checking a password found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The password is right; with a new hash when the stored one used other parameters.
    Right {
        /// The hash to store instead, when the parameters changed.
        rehashed: Option<String>,
    },
    /// The password is wrong, or there was no user.
    Wrong,
}

/// Hashes and checks passwords (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

type Job = Box<dyn FnOnce() + Send>;

struct Inner {
    params: Params,
    /// The queue of the hashing threads (bounded: `max_waiting`).
    jobs: SyncSender<Job>,
    /// A hash of a random password, checked for unknown users.
    dummy: String,
}

/// The nice value of the hashing threads: below request handling.
const NICE: i32 = 10;

impl Passwords {
    /// A hasher with `config`'s parameters (computes the dummy hash once, on a blocking
    /// thread).
    pub async fn new(config: &PasswordsConfig) -> Result<Self> {
        let params = Params::new(
            config.memory_kib,
            config.iterations,
            config.parallelism,
            None,
        )
        .map_err(|e| AuthError::Config {
            key: "auth/passwords".into(),
            reason: e.to_string(),
        })?;
        let dummy_params = params.clone();
        let mut random = Zeroizing::new([0u8; 32]);
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), random.as_mut())
            .map_err(|_| AuthError::crypto("the system's random source failed"))?;
        let dummy = tokio::task::spawn_blocking(move || hash_with(&dummy_params, random.as_ref()))
            .await
            .map_err(|e| AuthError::crypto(format!("the hashing thread failed: {e}")))??;
        let (jobs, queue) = sync_channel::<Job>(config.max_waiting);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..config.max_concurrent.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || hashing_thread(&queue))
                .map_err(|e| AuthError::crypto(format!("a hashing thread did not start: {e}")))?;
        }
        Ok(Passwords {
            inner: Arc::new(Inner {
                params,
                jobs,
                dummy,
            }),
        })
    }

    /// Checks the length rules: [`MIN_LEN`]..=[`MAX_LEN`] bytes.
    pub fn check_rules(password: &str) -> Result<()> {
        if password.len() < MIN_LEN || password.len() > MAX_LEN {
            return Err(AuthError::Invalid {
                reason: format!("a password has {MIN_LEN} to {MAX_LEN} bytes"),
            });
        }
        Ok(())
    }

    /// The PHC string of `password`.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let params = self.inner.params.clone();
        let password = Zeroizing::new(password.as_bytes().to_vec());
        self.blocking(move || hash_with(&params, &password)).await
    }

    /// Checks `password` against `stored` (a PHC string), or against the dummy hash when
    /// there is no user, so both cost the same.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verified> {
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.inner.dummy).to_owned();
        let params = self.inner.params.clone();
        let password = Zeroizing::new(password.as_bytes().to_vec());
        self.blocking(move || {
            let parsed = PasswordHash::new(&stored).map_err(|e| {
                AuthError::crypto(format!("a stored password hash is unreadable: {e}"))
            })?;
            let right = argon2(&params).verify_password(&password, &parsed).is_ok();
            if !(right && known) {
                return Ok(Verified::Wrong);
            }
            let current = Params::try_from(&parsed).ok();
            let same = parsed.algorithm == argon2::ARGON2ID_IDENT
                && parsed.version == Some(Version::V0x13.into())
                && current.is_some_and(|p| {
                    (p.m_cost(), p.t_cost(), p.p_cost())
                        == (params.m_cost(), params.t_cost(), params.p_cost())
                });
            let rehashed = if same {
                None
            } else {
                Some(hash_with(&params, &password)?)
            };
            Ok(Verified::Right { rehashed })
        })
        .await
    }

    /// Runs `work` on a hashing thread; refuses when the queue is full.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        match self.inner.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(AuthError::Busy),
            Err(TrySendError::Disconnected(_)) => {
                return Err(AuthError::crypto("the hashing threads have stopped"));
            }
        }
        answer
            .await
            .map_err(|_| AuthError::crypto("a hashing thread failed"))?
    }
}

/// A hashing thread: lowers its own priority, then runs jobs until the queue closes.
fn hashing_thread(queue: &Mutex<Receiver<Job>>) {
    // SAFETY: setpriority(2) has no memory effects; on Linux `who = 0` with
    // PRIO_PROCESS is the calling thread. Failing to lower it only costs fairness.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, NICE);
    }
    loop {
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2(params)
        .hash_password(password, &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::crypto(format!("hashing failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordsConfig {
        PasswordsConfig {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
            max_concurrent: 1,
            max_waiting: 8,
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_is_argon2id_phc() {
        let passwords = Passwords::new(&cheap()).await.unwrap();
        let hash = passwords.hash("correct horse").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert_eq!(
            passwords
                .verify("correct horse", Some(&hash))
                .await
                .unwrap(),
            Verified::Right { rehashed: None }
        );
        assert_eq!(
            passwords.verify("wrong horse", Some(&hash)).await.unwrap(),
            Verified::Wrong
        );
        assert_eq!(
            passwords.verify("correct horse", None).await.unwrap(),
            Verified::Wrong,
            "no user: the dummy hash never matches"
        );
    }

    #[tokio::test]
    async fn a_hash_with_other_parameters_is_rehashed_on_a_right_password() {
        let old = Passwords::new(&cheap()).await.unwrap();
        let hash = old.hash("correct horse").await.unwrap();
        let new = Passwords::new(&PasswordsConfig {
            memory_kib: 128,
            iterations: 2,
            ..cheap()
        })
        .await
        .unwrap();
        let Verified::Right {
            rehashed: Some(rehashed),
        } = new.verify("correct horse", Some(&hash)).await.unwrap()
        else {
            panic!("a right password with old parameters is rehashed")
        };
        assert!(
            rehashed.starts_with("$argon2id$v=19$m=128,t=2,p=1$"),
            "{rehashed}"
        );
        assert_eq!(
            new.verify("wrong", Some(&hash)).await.unwrap(),
            Verified::Wrong
        );
    }

    #[test]
    fn the_defaults_are_owasp_argon2id() {
        let config = PasswordsConfig::default();
        assert!(config.memory_kib >= 19 * 1024);
        assert_eq!((config.iterations, config.parallelism), (2, 1));
    }

    #[test]
    fn lengths_are_bounded() {
        assert!(Passwords::check_rules("1234567").is_err());
        assert!(Passwords::check_rules("12345678").is_ok());
        assert!(Passwords::check_rules(&"x".repeat(MAX_LEN + 1)).is_err());
    }
}
