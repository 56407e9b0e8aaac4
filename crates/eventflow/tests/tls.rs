//! The channel's mutual TLS on its own (eventflow.md 9.9, adapted to rustls): both sides
//! authorized; a client from another root, without a certificate, or a server that is not
//! a hub (or not the hub dialled) is refused.

use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use superhero_eventflow::certs::generate::{self, Identity, Issued, KeyAlgorithm, Role};
use superhero_eventflow::net::tls::{self, LeafResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const DAY: Duration = Duration::from_secs(86_400);

struct Chain {
    root: Issued,
    intermediate: Issued,
}

impl Chain {
    fn new() -> Self {
        let root = generate::create_root(KeyAlgorithm::Ed25519, DAY).unwrap();
        let intermediate =
            generate::create_intermediate(&root, KeyAlgorithm::Ed25519, DAY).unwrap();
        Chain { root, intermediate }
    }

    fn leaf(&self, id: &str, role: Role) -> Arc<LeafResolver> {
        let leaf = generate::create_leaf(&self.intermediate, id, role, KeyAlgorithm::Ed25519, DAY)
            .unwrap();
        LeafResolver::new(
            &leaf.cert_pem,
            &[&self.intermediate.cert_pem],
            &leaf.key_pem,
        )
        .unwrap()
    }
}

/// Accepts one connection, reads one message and answers it; returns the client's identity
/// and the message, or the handshake error.
async fn serve_one(
    chain: &Chain,
    server_leaf: Arc<LeafResolver>,
) -> (
    u16,
    tokio::task::JoinHandle<Result<(Identity, Vec<u8>), String>>,
) {
    let config = tls::server_config(&chain.root.cert_pem, server_leaf).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut stream = tokio_rustls::TlsAcceptor::from(config)
            .accept(tcp)
            .await
            .map_err(|e| e.to_string())?;
        let der = stream.get_ref().1.peer_certificates().unwrap()[0].clone();
        let mut record = [0u8; 5];
        stream
            .read_exact(&mut record)
            .await
            .map_err(|e| e.to_string())?;
        stream
            .write_all(b"world")
            .await
            .map_err(|e| e.to_string())?;
        stream.flush().await.map_err(|e| e.to_string())?;
        let identity = generate::identity_of(&der).ok_or("no identity")?;
        Ok((identity, record.to_vec()))
    });
    (port, task)
}

async fn dial(
    root_pem: &str,
    leaf: Arc<LeafResolver>,
    port: u16,
    hub_id: &str,
) -> Result<Vec<u8>, String> {
    let config = tls::client_config(root_pem, leaf).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from(hub_id.to_owned()).unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"hello")
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = [0u8; 5];
    stream
        .read_exact(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    Ok(answer.to_vec())
}

#[tokio::test]
async fn records_pass_both_ways_between_a_spoke_and_a_hub_of_one_cluster() {
    let chain = Chain::new();
    let (port, server) = serve_one(&chain, chain.leaf("hub-1", Role::Hub)).await;
    let answer = dial(
        &chain.root.cert_pem,
        chain.leaf("spoke-1", Role::Spoke),
        port,
        "hub-1",
    )
    .await
    .unwrap();
    assert_eq!(answer, b"world");
    let (identity, record) = server.await.unwrap().unwrap();
    assert_eq!(
        identity,
        Identity {
            id: "spoke-1".into(),
            role: Role::Spoke
        }
    );
    assert_eq!(record, b"hello");
}

#[tokio::test]
async fn a_client_from_another_root_is_refused() {
    let chain = Chain::new();
    let other = Chain::new();
    let (port, server) = serve_one(&chain, chain.leaf("hub-1", Role::Hub)).await;
    let result = dial(
        &chain.root.cert_pem,
        other.leaf("spoke-x", Role::Spoke),
        port,
        "hub-1",
    )
    .await;
    assert!(result.is_err());
    assert!(server.await.unwrap().is_err());
}

#[tokio::test]
async fn a_client_missing_the_root_refuses_the_hub() {
    let chain = Chain::new();
    let other = Chain::new();
    let (port, _server) = serve_one(&chain, chain.leaf("hub-1", Role::Hub)).await;
    let error = dial(
        &other.root.cert_pem,
        other.leaf("spoke-1", Role::Spoke),
        port,
        "hub-1",
    )
    .await
    .unwrap_err();
    assert!(
        error.contains("UnknownIssuer") || error.contains("invalid peer certificate"),
        "{error}"
    );
}

#[tokio::test]
async fn a_spoke_certificate_cannot_act_as_a_hub() {
    let chain = Chain::new();
    let (port, _server) = serve_one(&chain, chain.leaf("hub-1", Role::Spoke)).await;
    let error = dial(
        &chain.root.cert_pem,
        chain.leaf("spoke-1", Role::Spoke),
        port,
        "hub-1",
    )
    .await
    .unwrap_err();
    assert!(
        error.to_lowercase().contains("usage")
            || error.contains("Eku")
            || error.contains("purpose"),
        "{error}"
    );
}

#[tokio::test]
async fn a_hub_answering_for_another_id_is_refused() {
    let chain = Chain::new();
    let (port, _server) = serve_one(&chain, chain.leaf("hub-1", Role::Hub)).await;
    let error = dial(
        &chain.root.cert_pem,
        chain.leaf("spoke-1", Role::Spoke),
        port,
        "hub-2",
    )
    .await
    .unwrap_err();
    assert!(
        error.contains("NotValidForName") || error.to_lowercase().contains("name"),
        "{error}"
    );
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let chain = Chain::new();
    let (port, server) = serve_one(&chain, chain.leaf("hub-1", Role::Hub)).await;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(tls::certificate(&chain.root.cert_pem, "root").unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![tls::ALPN.to_vec()];
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let result = async {
        let mut stream = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("hub-1").unwrap(), tcp)
            .await?;
        stream.write_all(b"hello").await?;
        let mut buf = [0u8; 5];
        stream.read_exact(&mut buf).await
    }
    .await;
    assert!(result.is_err());
    let server_error = server.await.unwrap().unwrap_err();
    assert!(
        server_error.to_lowercase().contains("certificate"),
        "{server_error}"
    );
}
