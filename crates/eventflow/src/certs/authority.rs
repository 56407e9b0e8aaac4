//! [`CertificateAuthority`]: the cluster's chain in the store. Loads it, creates it (hubs
//! only, the first one to start), issues leaves and answers "is this the current
//! certificate of that id?" (the revocation check).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::config::CertificatesConfig;
use super::generate::{self, Issued, Role};
use super::sealed::KeySealer;
use crate::certificate::CertificateRecord;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::store::EventStore;

/// The root's certificate id in the store.
pub const ROOT_ID: &str = "eventflow-root-ca";
/// The intermediate's certificate id in the store.
pub const INTERMEDIATE_ID: &str = "eventflow-intermediate-ca";

/// The trust anchor and the signing intermediate, as one process uses them.
#[derive(Clone)]
pub struct Chain {
    /// The root certificate (PEM), the only trust anchor.
    pub root_pem: String,
    /// The intermediate with its private key.
    pub intermediate: Issued,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("intermediate", &self.intermediate)
            .finish_non_exhaustive()
    }
}

/// Loads, creates and issues certificates through the store; private keys are sealed
/// with the configured secret before they are stored.
pub struct CertificateAuthority {
    store: Arc<dyn EventStore>,
    sealer: Arc<KeySealer>,
    config: CertificatesConfig,
}

impl std::fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// An authority over `store`; fails without a usable secret.
    pub fn new(store: Arc<dyn EventStore>, config: CertificatesConfig) -> Result<Self> {
        config.validate()?;
        let sealer = KeySealer::new(config.secret.expose(), config.kdf)?;
        Ok(CertificateAuthority {
            store,
            sealer: Arc::new(sealer),
            config,
        })
    }

    /// The settings.
    pub fn config(&self) -> &CertificatesConfig {
        &self.config
    }

    /// The chain. With `create` (hubs), a missing root or intermediate is generated and
    /// stored; without it a missing chain is `E_EVENTFLOW_CERTIFICATES_NO_CHAIN`. An
    /// intermediate that would lapse within one leaf validity is replaced.
    pub async fn chain(&self, create: bool) -> Result<Chain> {
        let root = match self.store.read_certificate(ROOT_ID).await {
            Ok(root) => root,
            Err(Error::CertificateNotFound { .. }) if create => self.create_root().await?,
            Err(Error::CertificateNotFound { .. }) => return Err(Error::ChainMissing),
            Err(error) => return Err(error),
        };
        if root.validity <= Timestamp::now() {
            return Err(Error::Certificate {
                id: ROOT_ID.into(),
                action: "used",
                reason: "the root certificate has expired; revoke it to let the next hub create a new chain".into(),
            });
        }
        let intermediate = match self.store.read_certificate(INTERMEDIATE_ID).await {
            Ok(record) => record,
            Err(Error::CertificateNotFound { .. }) if create => {
                self.create_intermediate(&root).await?
            }
            Err(Error::CertificateNotFound { .. }) => return Err(Error::ChainMissing),
            Err(error) => return Err(error),
        };
        let intermediate = if intermediate.validity < Timestamp::now() + self.config.leaf_validity()
        {
            tracing::info!(
                validity = %intermediate.validity,
                "the intermediate certificate lapses soon; replacing it"
            );
            self.store.revoke_certificate(INTERMEDIATE_ID).await?;
            self.create_intermediate(&root).await?
        } else {
            intermediate
        };
        Ok(Chain {
            root_pem: root.cert,
            intermediate: self.open(intermediate).await?,
        })
    }

    /// Issues a new leaf for `id` with `role`, signed by the chain's intermediate, and
    /// stores it as the current certificate of `id` (revoking the one before).
    pub async fn issue_leaf(&self, chain: &Chain, id: &str, role: Role) -> Result<Issued> {
        let intermediate = chain.intermediate.clone();
        let algorithm = self.config.algorithm;
        let validity = self.config.leaf_validity();
        let owned_id = id.to_owned();
        let leaf = blocking(id, move || {
            generate::create_leaf(&intermediate, &owned_id, role, algorithm, validity)
        })
        .await?;
        let record = self.seal(id, &leaf).await?;
        for _ in 0..3 {
            self.store.revoke_certificate(id).await?;
            if self.store.persist_certificate(&record).await? {
                return Ok(leaf);
            }
        }
        Err(Error::Certificate {
            id: id.to_owned(),
            action: "stored",
            reason: "another process keeps writing certificates under the same id".into(),
        })
    }

    /// True when `der` is the current (stored, unrevoked) certificate of `id`.
    pub async fn is_current(&self, id: &str, der: &[u8]) -> Result<bool> {
        match self.store.read_certificate(id).await {
            Ok(record) => Ok(generate::der_of(&record.cert, id)?.as_ref() == der),
            Err(Error::CertificateNotFound { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Revokes the current certificate of `id` (a leaf: its holder is refused from now
    /// on); false when it has none.
    pub async fn revoke(&self, id: &str) -> Result<bool> {
        self.store.revoke_certificate(id).await
    }

    async fn create_root(&self) -> Result<CertificateRecord> {
        let algorithm = self.config.algorithm;
        let validity = self.config.root_validity();
        let root = blocking(ROOT_ID, move || generate::create_root(algorithm, validity)).await?;
        let record = self.seal(ROOT_ID, &root).await?;
        if self.store.persist_certificate(&record).await? {
            tracing::info!("created the eventflow root certificate");
        }
        // Also when another hub won the race: everyone uses the stored one.
        self.store.read_certificate(ROOT_ID).await
    }

    async fn create_intermediate(&self, root: &CertificateRecord) -> Result<CertificateRecord> {
        let root = self.open(root.clone()).await?;
        let algorithm = self.config.algorithm;
        let validity = self.config.intermediate_validity();
        let intermediate = blocking(INTERMEDIATE_ID, move || {
            generate::create_intermediate(&root, algorithm, validity)
        })
        .await?;
        let record = self.seal(INTERMEDIATE_ID, &intermediate).await?;
        if self.store.persist_certificate(&record).await? {
            tracing::info!("created the eventflow intermediate certificate");
        }
        self.store.read_certificate(INTERMEDIATE_ID).await
    }

    /// The record to store for `issued`: its key sealed, bound to `id`.
    async fn seal(&self, id: &str, issued: &Issued) -> Result<CertificateRecord> {
        let sealer = self.sealer.clone();
        let key_pem = issued.key_pem.clone();
        let owned_id = id.to_owned();
        let sealed = blocking(id, move || sealer.seal(key_pem.as_bytes(), &owned_id)).await?;
        Ok(CertificateRecord::new(
            id,
            issued.cert_pem.clone(),
            sealed,
            Timestamp::from(issued.not_after),
        ))
    }

    /// The record with its key decrypted.
    async fn open(&self, record: CertificateRecord) -> Result<Issued> {
        let sealer = self.sealer.clone();
        let id = record.id.clone();
        let cert_pem = record.cert.clone();
        let not_after = SystemTime::from(record.validity);
        let key = blocking(&id, move || sealer.open(&record.key, &record.id)).await?;
        let key_pem = String::from_utf8(key.to_vec()).map_err(|_| Error::Seal {
            id: id.clone(),
            action: "opened",
            reason: "the decrypted key is not PEM text".into(),
        })?;
        Ok(Issued {
            cert_pem,
            key_pem: zeroize::Zeroizing::new(key_pem),
            not_after,
        })
    }
}

/// Runs CPU-heavy work (key generation, Argon2) off the async threads.
async fn blocking<T, F>(id: &str, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Certificate {
            id: id.to_owned(),
            action: "generated",
            reason: format!("the worker thread failed: {e}"),
        })?
}

/// How long until `not_after - renew_before` (zero when already due).
pub(crate) fn until_renewal(not_after: SystemTime, renew_before: Duration) -> Duration {
    let due = not_after
        .checked_sub(renew_before)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    due.duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
}
