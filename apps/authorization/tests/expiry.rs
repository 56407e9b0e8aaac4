//! Session lifetimes on a manual clock (no sleeps): idle expiry (30 min without a
//! request) and absolute expiry (12 h after sign-in, however active).

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use superhero_auth::signature::Algorithm;
use superhero_eventflow::{Clock, ManualClock, Timestamp};
use superhero_testkit::http::{Proto, Reply};
use superhero_testkit::signed::SignedClient;
use superhero_testkit::{Backend, TestNode};

async fn node_on(clock: &ManualClock) -> TestNode {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    TestNode::builder()
        .app(authorization::APP)
        .register(move |registry| superhero_auth::service::register_with_clock(registry, clock))
        .eventflow(Backend::Sqlite)
        .start()
        .await
}

/// `GET /sessions/current` signed at the manual clock's time.
async fn who_am_i(alice: &mut SignedClient, clock: &ManualClock) -> Reply {
    let created = clock.now().as_millis() / 1000;
    let signed = alice.sign_at(&Method::GET, "/sessions/current", b"", created);
    alice
        .send_signed(Method::GET, "/sessions/current", &signed, b"")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_idle_for_longer_than_the_idle_limit_has_expired() {
    let clock = ManualClock::new(Timestamp::now());
    let node = node_on(&clock).await;
    let mut alice =
        SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    for _ in 0..3 {
        clock.advance(Duration::from_secs(29 * 60));
        let me = who_am_i(&mut alice, &clock).await;
        assert_eq!(me.status, 200, "active every 29 min: {}", me.text());
    }
    clock.advance(Duration::from_secs(31 * 60));
    who_am_i(&mut alice, &clock)
        .await
        .error(401, "E_AUTH_SESSION_EXPIRED");
    // Found expired, the session is ended for good: nothing revives it.
    let store = superhero_eventflow::SqlStore::open(node.store_config())
        .await
        .unwrap();
    let tables = store.tables();
    let ended: Option<i64> = sqlx::Row::get(
        &tables
            .query("SELECT ended_at FROM auth_session")
            .fetch_one(tables.pool())
            .await
            .unwrap(),
        0,
    );
    assert!(ended.is_some(), "the expired session is ended");
    store.close().await;
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_twelve_hours_after_sign_in_however_active() {
    let clock = ManualClock::new(Timestamp::now());
    let node = node_on(&clock).await;
    let mut alice =
        SignedClient::sign_up(&node, &Proto::Http1, "alice", Algorithm::HmacSha256).await;
    let step = Duration::from_secs(25 * 60);
    let mut elapsed = Duration::ZERO;
    while elapsed + step < Duration::from_secs(12 * 3600) {
        clock.advance(step);
        elapsed += step;
        let me = who_am_i(&mut alice, &clock).await;
        assert_eq!(me.status, 200, "after {elapsed:?}: {}", me.text());
    }
    clock.advance(step);
    who_am_i(&mut alice, &clock)
        .await
        .error(401, "E_AUTH_SESSION_EXPIRED");
    // Signing in again gives a new session.
    let mut again = SignedClient::sign_in(
        node.client(&Proto::Http1).await,
        "alice",
        superhero_testkit::signed::PASSWORD,
        Algorithm::HmacSha256,
    )
    .await;
    assert_ne!(again.session.session_id, alice.session.session_id);
    assert_eq!(who_am_i(&mut again, &clock).await.status, 200);
    node.shutdown().await;
}
