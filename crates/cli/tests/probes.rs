//! The probes of a node with http and eventflow: `/healthz` answers while the process
//! serves; `/readyz` answers 200 while the store, the hub and the spoke can work, turns 503
//! (naming the failing check) when the database goes away, and 200 again when it is back.
//! The database is reached through a proxy the test cuts and restores.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::json;
use superhero_testkit::eventflow::Scratch;
use superhero_testkit::{Backend, TcpProxy, TestNode, eventually};

superhero_testkit::each_backend!(readyz_follows_the_store_going_away_and_coming_back);

/// `host:port` of a database URL such as `postgres://user@127.0.0.1:5432/test`.
fn server(url: &str) -> SocketAddr {
    let rest = url.split_once("://").expect("a URL").1;
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    let authority = rest.split('/').next().expect("an authority");
    authority.parse().expect("host:port on loopback")
}

async fn readyz_follows_the_store_going_away_and_coming_back(backend: Backend) {
    if backend == Backend::Sqlite {
        // An embedded database cannot go away while the process runs; the other
        // backends cover the probe, here only its happy path.
        let node = TestNode::builder()
            .app(ping_pong::APP)
            .eventflow(backend)
            .start()
            .await;
        eventually(Duration::from_secs(30), "ready", || async {
            node.get("/readyz").await.status == 200
        })
        .await;
        node.shutdown().await;
        return;
    }
    let scratch = Scratch::create(backend, "probe").await;
    let mut store = scratch.store_config();
    let target = server(&store.url);
    let proxy = TcpProxy::start(target).await;
    store.url = store
        .url
        .replace(&target.to_string(), &proxy.addr().to_string());
    store.acquire_timeout_ms = 1_000;
    let node = TestNode::builder()
        .app(ping_pong::APP)
        .join(store)
        .start()
        .await;

    let live = node.get("/healthz").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.json(), json!({"status": "ok"}));
    assert_eq!(live.header("cache-control"), Some("no-store"));
    eventually(Duration::from_secs(30), "ready", || async {
        node.get("/readyz").await.status == 200
    })
    .await;
    let ready = node.get("/readyz").await.json();
    assert_eq!(
        ready,
        json!({"status": "ready", "checks": {
            "eventflow/store": "ok", "eventflow/hub": "ok", "eventflow/spoke": "ok"
        }})
    );
    let openapi = node.get("/openapi.json").await;
    assert_eq!(openapi.status, 200);
    let openapi = openapi.text();
    assert!(
        !openapi.contains("readyz") && !openapi.contains("healthz"),
        "not documented operations"
    );

    proxy.stop();
    eventually(
        Duration::from_secs(30),
        "not ready without the store",
        || async { node.get("/readyz").await.status == 503 },
    )
    .await;
    let not_ready = node.get("/readyz").await.json();
    assert_eq!(not_ready["status"], json!("not ready"));
    let store_check = not_ready["checks"]["eventflow/store"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(store_check.contains("E_EVENTFLOW_STORE"), "{not_ready}");
    assert_eq!(node.get("/healthz").await.status, 200, "still alive");

    proxy.resume();
    eventually(Duration::from_secs(60), "ready again", || async {
        node.get("/readyz").await.status == 200
    })
    .await;
    node.shutdown().await;
}
