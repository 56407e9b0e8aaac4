//! Who may connect and what breaks a connection: certificates from another root, no
//! certificate, revoked leaves, spoke certificates acting as hubs, garbage frames.

use std::sync::Arc;
use std::time::Duration;

use superhero_eventflow::NewEvent;
use superhero_eventflow::certs::{NodeTls, Role};
use superhero_eventflow::hub::Hub;
use superhero_eventflow::net::conn;
use superhero_eventflow::net::tls::{self, LeafResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::Db;
use crate::common::cluster::{Cluster, connected, eventually, hub_config};

superhero_testkit::each_backend!(
    a_client_with_a_certificate_from_another_root_is_refused,
    a_client_without_a_certificate_is_refused,
    a_revoked_leaf_is_refused,
    a_spoke_certificate_cannot_act_as_a_hub,
    garbage_frames_close_only_their_own_connection,
    a_subscriber_that_stops_reading_is_disconnected_and_the_others_keep_receiving,
);

const WITHIN: Duration = Duration::from_secs(30);

type Stream = tokio_rustls::client::TlsStream<TcpStream>;

async fn dial(hub: &Hub, config: Arc<rustls::ClientConfig>) -> superhero_eventflow::Result<Stream> {
    let addr = hub.local_addr();
    conn::dial(
        &addr.ip().to_string(),
        addr.port(),
        hub.id(),
        config,
        WITHIN,
    )
    .await
}

/// True when the peer closes the connection (EOF or error) within the deadline.
async fn closed_by_peer(stream: &mut Stream) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(WITHIN, read).await.is_ok()
}

/// A spoke identity issued by the cluster, without running a spoke.
async fn spoke_identity(cluster: &Cluster, id: &str) -> Arc<NodeTls> {
    NodeTls::establish(cluster.authority.clone(), id, Role::Spoke)
        .await
        .expect("a spoke leaf")
}

async fn a_client_with_a_certificate_from_another_root_is_refused(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let other = Cluster::new(Db::Sqlite).await;
    other.authority.chain(true).await.unwrap();
    let stranger = NodeTls::establish(other.authority.clone(), "stranger-1", Role::Spoke)
        .await
        .unwrap();
    // The stranger does not trust our hub either; trust it anyway, to show the hub refuses.
    let chain = cluster.authority.chain(false).await.unwrap();
    let leaf = other
        .authority
        .issue_leaf(
            &other.authority.chain(false).await.unwrap(),
            "stranger-2",
            Role::Spoke,
        )
        .await
        .unwrap();
    let resolver = LeafResolver::new(
        &leaf.cert_pem,
        &[&other
            .authority
            .chain(false)
            .await
            .unwrap()
            .intermediate
            .cert_pem],
        &leaf.key_pem,
    )
    .unwrap();
    let config = tls::client_config(&chain.root_pem, resolver).unwrap();
    match dial(&hub, config).await {
        Err(error) => assert_eq!(error.code(), "E_EVENTFLOW_CONNECT"),
        Ok(mut stream) => assert!(closed_by_peer(&mut stream).await),
    }
    assert!(
        dial(&hub, stranger.client()).await.is_err(),
        "nor does it trust our hub"
    );
    assert!(hub.connections().is_empty());
    hub.shutdown().await;
}

async fn a_client_without_a_certificate_is_refused(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let chain = cluster.authority.chain(false).await.unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(tls::certificate(&chain.root_pem, "root").unwrap())
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![tls::ALPN.to_vec()];
    match dial(&hub, Arc::new(config)).await {
        Err(error) => assert_eq!(error.code(), "E_EVENTFLOW_CONNECT"),
        Ok(mut stream) => assert!(closed_by_peer(&mut stream).await),
    }
    assert!(hub.connections().is_empty());
    hub.shutdown().await;
}

async fn a_revoked_leaf_is_refused(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let identity = spoke_identity(&cluster, "revoked-1").await;
    let mut accepted = dial(&hub, identity.client()).await.unwrap();
    eventually(WITHIN, "the hub lists the spoke", || async {
        hub.connections().len() == 1
    })
    .await;
    assert!(cluster.authority.revoke("revoked-1").await.unwrap());
    let mut refused = dial(&hub, identity.client()).await.unwrap();
    assert!(
        closed_by_peer(&mut refused).await,
        "a revoked leaf is refused"
    );
    assert_eq!(hub.connections().len(), 1, "only the earlier connection");
    // Renewing issues a current leaf again.
    identity.renew().await.unwrap();
    let _renewed = dial(&hub, identity.client()).await.unwrap();
    eventually(WITHIN, "the renewed leaf is accepted", || async {
        hub.connections().len() == 2
    })
    .await;
    accepted.shutdown().await.ok();
    hub.shutdown().await;
}

async fn a_spoke_certificate_cannot_act_as_a_hub(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let chain = cluster.authority.chain(false).await.unwrap();

    // 1. A server presenting a spoke leaf: TLS itself refuses it (no serverAuth usage).
    let fake = cluster
        .authority
        .issue_leaf(&chain, "fake-hub-1", Role::Spoke)
        .await
        .unwrap();
    let resolver = LeafResolver::new(
        &fake.cert_pem,
        &[&chain.intermediate.cert_pem],
        &fake.key_pem,
    )
    .unwrap();
    let server = tls::server_config(&chain.root_pem, resolver).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        if let Ok((tcp, _)) = listener.accept().await {
            let _ = tokio_rustls::TlsAcceptor::from(server).accept(tcp).await;
        }
    });
    let spoke = spoke_identity(&cluster, "victim-1").await;
    let error = conn::dial("127.0.0.1", port, "fake-hub-1", spoke.client(), WITHIN)
        .await
        .unwrap_err();
    assert_eq!(error.code(), "E_EVENTFLOW_CONNECT");

    // 2. A spoke announcing a hub to a real hub: the connection is closed, nothing relayed.
    let listener_spoke = cluster.spoke().await;
    connected(&listener_spoke, 1).await;
    let liar = spoke_identity(&cluster, "liar-1").await;
    let mut stream = dial(&hub, liar.client()).await.unwrap();
    let frame = frame_of(&superhero_eventflow::net::Message::HubOnline {
        id: "evil-hub".into(),
        host: "127.0.0.1".into(),
        port: 9,
    });
    stream.write_all(&frame).await.unwrap();
    assert!(closed_by_peer(&mut stream).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(listener_spoke.connected_hubs(), [hub.id().to_owned()]);
    listener_spoke.shutdown().await;
    hub.shutdown().await;
}

/// One encoded frame.
fn frame_of(message: &superhero_eventflow::net::Message) -> Vec<u8> {
    let json = serde_json::to_vec(&serde_json::json!({"v": 1, "m": message})).unwrap();
    let mut frame = u32::try_from(json.len()).unwrap().to_be_bytes().to_vec();
    frame.extend(json);
    frame
}

async fn garbage_frames_close_only_their_own_connection(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let good = cluster.spoke().await;
    let mut subscription = good.subscribe("chat", "said").unwrap();
    connected(&good, 1).await;
    let garbage: Vec<Vec<u8>> = vec![
        // Not JSON.
        [&9u32.to_be_bytes()[..], b"not json!"].concat(),
        // An unknown message type.
        frame_of_json(br#"{"v":1,"m":{"type":"explode"}}"#),
        // Another protocol version.
        frame_of_json(br#"{"v":99,"m":{"type":"sync","id":1}}"#),
        // Over the 16 MiB frame limit.
        (64u32 * 1024 * 1024).to_be_bytes().to_vec(),
        // A hub-only message from a spoke.
        frame_of(&superhero_eventflow::net::Message::Deliver { events: vec![] }),
    ];
    let identity = spoke_identity(&cluster, "vandal-1").await;
    for bytes in garbage {
        let mut stream = dial(&hub, identity.client()).await.unwrap();
        stream.write_all(&bytes).await.unwrap();
        stream.flush().await.unwrap();
        assert!(
            closed_by_peer(&mut stream).await,
            "the hub closes a connection sending garbage"
        );
    }
    eventually(WITHIN, "the vandal's connections are gone", || async {
        hub.connections().len() == 1
    })
    .await;
    let id = good
        .publish(NewEvent::new("chat", "room-1", "said"))
        .await
        .unwrap()
        .id;
    let event = tokio::time::timeout(WITHIN, subscription.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.id, id, "the well-behaved spoke is unaffected");
    good.shutdown().await;
    hub.shutdown().await;
}

fn frame_of_json(json: &[u8]) -> Vec<u8> {
    let mut frame = u32::try_from(json.len()).unwrap().to_be_bytes().to_vec();
    frame.extend_from_slice(json);
    frame
}

async fn a_subscriber_that_stops_reading_is_disconnected_and_the_others_keep_receiving(db: Db) {
    let cluster = Cluster::new(db).await;
    // The outbox bound is per connection, the well-behaved spoke's included: small enough
    // that the sluggard's fills (behind the socket buffers) within the burst, large enough
    // that a reader which only falls behind for a moment on a busy machine never fills it
    // (with 2, a preempted good spoke was dropped too and missed notices: subscribers get
    // notices while connected, at most once).
    let hub = cluster
        .hub_with(superhero_eventflow::HubConfig {
            outbox_capacity: 32,
            ..hub_config()
        })
        .await;
    let good = cluster.spoke().await;
    let mut subscription = good.subscribe("chat", "said").unwrap();
    connected(&good, 1).await;

    // A spoke that subscribes and then never reads what the hub sends it.
    let identity = spoke_identity(&cluster, "sluggard-1").await;
    let mut sluggard = dial(&hub, identity.client()).await.unwrap();
    let subscribe = superhero_eventflow::net::Message::Subscribe {
        domain: "chat".into(),
        name: "*".into(),
    };
    sluggard.write_all(&frame_of(&subscribe)).await.unwrap();
    sluggard.flush().await.unwrap();
    eventually(WITHIN, "the sluggard is connected", || async {
        hub.connections().len() == 2
    })
    .await;

    // Large events fill the socket buffers towards the sluggard (a few MiB on loopback),
    // then its outbox: 600 × 64 KiB = 37.5 MiB.
    let text = "x".repeat(64 * 1024);
    let mut published = Vec::new();
    for n in 0..600 {
        let event = NewEvent::new("chat", "room-1", "said")
            .with_data(serde_json::json!({ "n": n, "text": text }));
        published.push(good.publish(event).await.unwrap().id);
    }
    eventually(WITHIN, "the hub drops the sluggard", || async {
        hub.connections().len() == 1
    })
    .await;
    // Notices are not ordered (the event-log is), and one can come twice: when a hub's
    // route lease lapses before it settled the event (a loaded machine), the sweep routes
    // it again. Every one arrives.
    let published: std::collections::HashSet<_> = published.into_iter().collect();
    let mut received = std::collections::HashSet::new();
    while received.len() < published.len() {
        let event = tokio::time::timeout(WITHIN, subscription.recv())
            .await
            .unwrap_or_else(|_| panic!("{} of {} notices arrived", received.len(), published.len()))
            .unwrap();
        assert!(published.contains(&event.id), "only what was published");
        received.insert(event.id);
    }
    assert!(
        closed_by_peer(&mut sluggard).await,
        "the sluggard's connection is closed"
    );
    good.shutdown().await;
    hub.shutdown().await;
}
