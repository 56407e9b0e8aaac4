//! [`NodeTls`]: one hub's or spoke's TLS identity: its leaf (renewed before it lapses) and
//! the rustls configurations built on it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use rustls::{ClientConfig, ServerConfig};
use tokio_util::sync::CancellationToken;

use super::authority::{CertificateAuthority, until_renewal};
use super::generate::Role;
use crate::error::Result;
use crate::net::tls::{self, LeafResolver};

/// How long a failed renewal waits before it tries again.
const RENEW_RETRY: Duration = Duration::from_secs(30);

/// A process's TLS identity: id, role, current leaf and the configurations presenting it.
pub struct NodeTls {
    id: String,
    role: Role,
    authority: Arc<CertificateAuthority>,
    resolver: Arc<LeafResolver>,
    client: Arc<ClientConfig>,
    server: Option<Arc<ServerConfig>>,
    not_after: Mutex<SystemTime>,
}

impl std::fmt::Debug for NodeTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeTls")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl NodeTls {
    /// Loads the chain (a hub creates it when missing), issues this process's leaf and
    /// builds its TLS configurations (a server configuration for hubs only).
    pub async fn establish(
        authority: Arc<CertificateAuthority>,
        id: &str,
        role: Role,
    ) -> Result<Arc<Self>> {
        let chain = authority.chain(role == Role::Hub).await?;
        let leaf = authority.issue_leaf(&chain, id, role).await?;
        let resolver = LeafResolver::new(
            &leaf.cert_pem,
            &[&chain.intermediate.cert_pem],
            &leaf.key_pem,
        )?;
        let client = tls::client_config(&chain.root_pem, resolver.clone())?;
        let server = match role {
            Role::Hub => Some(tls::server_config(&chain.root_pem, resolver.clone())?),
            Role::Spoke => None,
        };
        tracing::debug!(%id, %role, "leaf certificate issued");
        Ok(Arc::new(NodeTls {
            id: id.to_owned(),
            role,
            authority,
            resolver,
            client,
            server,
            not_after: Mutex::new(leaf.not_after),
        }))
    }

    /// The id in the leaf.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The role in the leaf.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The authority the leaf came from.
    pub fn authority(&self) -> &Arc<CertificateAuthority> {
        &self.authority
    }

    /// The client configuration (spokes dialling hubs, hubs announcing to peers).
    pub fn client(&self) -> Arc<ClientConfig> {
        self.client.clone()
    }

    /// The server configuration (hubs only).
    pub fn server(&self) -> Option<Arc<ServerConfig>> {
        self.server.clone()
    }

    /// When the current leaf lapses.
    pub fn not_after(&self) -> SystemTime {
        *self
            .not_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Issues a new leaf now and presents it to new connections.
    pub async fn renew(&self) -> Result<()> {
        let chain = self.authority.chain(self.role == Role::Hub).await?;
        let leaf = self
            .authority
            .issue_leaf(&chain, &self.id, self.role)
            .await?;
        self.resolver.replace(
            &leaf.cert_pem,
            &[&chain.intermediate.cert_pem],
            &leaf.key_pem,
        )?;
        *self
            .not_after
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = leaf.not_after;
        tracing::info!(id = %self.id, "leaf certificate renewed");
        Ok(())
    }

    /// Renews the leaf `renew_before_secs` before it lapses, until `token` is cancelled.
    pub fn spawn_renewal(
        self: &Arc<Self>,
        token: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let node = Arc::clone(self);
        let span = tracing::Span::current();
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                let renew_before = node.authority.config().renew_before();
                loop {
                    let wait = until_renewal(node.not_after(), renew_before);
                    tokio::select! {
                        () = token.cancelled() => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                    if let Err(error) = node.renew().await {
                        tracing::error!(id = %node.id, code = error.code(), %error, "leaf renewal failed; retrying");
                        tokio::select! {
                            () = token.cancelled() => return,
                            () = tokio::time::sleep(RENEW_RETRY) => {}
                        }
                    }
                }
            },
            span,
        ))
    }
}
