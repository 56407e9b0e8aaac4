//! Companion-table batches on every backend: nonce claims and session reads are coalesced,
//! and of any number of claims of one nonce exactly one wins, while every read of a session finds it.

use std::collections::HashMap;

use superhero_auth::store::nonces::Nonces;
use superhero_core::CancellationToken;
use superhero_eventflow::SqlStore;
use superhero_testkit::Backend;
use superhero_testkit::eventflow::Scratch;

superhero_testkit::each_backend!(each_nonce_is_claimed_once_however_the_claims_race);

async fn each_nonce_is_claimed_once_however_the_claims_race(backend: Backend) {
    let scratch = Scratch::create(backend, "auth_test").await;
    let store = SqlStore::open(&scratch.store_config()).await.unwrap();
    let tables = superhero_auth::store::open(&store).await.unwrap();
    let stop = CancellationToken::new();
    let nonces = Nonces::start(tables, stop.clone());
    // 40 nonces, each claimed 3 times at once (often in one batch), in 2 sessions.
    let mut claims = tokio::task::JoinSet::new();
    for i in 0..120 {
        let nonces = nonces.clone();
        claims.spawn(async move {
            let key = (format!("session-{}", i % 2), format!("nonce-{}", i % 40));
            let fresh = nonces.claim(&key.0, &key.1, i64::MAX).await.unwrap();
            (key, fresh)
        });
    }
    let mut winners: HashMap<(String, String), usize> = HashMap::new();
    while let Some(joined) = claims.join_next().await {
        let (key, fresh) = joined.unwrap();
        *winners.entry(key).or_default() += usize::from(fresh);
    }
    assert_eq!(winners.len(), 40);
    assert!(winners.values().all(|&w| w == 1), "{winners:?}");
    assert!(
        !nonces
            .claim("session-0", "nonce-0", i64::MAX)
            .await
            .unwrap(),
        "a later replay"
    );
    assert!(
        nonces
            .claim("session-0", "nonce-new", i64::MAX)
            .await
            .unwrap()
    );
    stop.cancel();
    store.close().await;
}

superhero_testkit::each_backend!(concurrent_reads_of_one_session_all_find_it);

async fn concurrent_reads_of_one_session_all_find_it(backend: Backend) {
    use superhero_auth::store::sessions::{self, Reader, SessionRecord};
    let scratch = Scratch::create(backend, "auth_test").await;
    let store = SqlStore::open(&scratch.store_config()).await.unwrap();
    let tables = superhero_auth::store::open(&store).await.unwrap();
    for (id, user) in [("s-1", "u-1"), ("s-2", "u-2")] {
        let record = SessionRecord {
            id_hash: sessions::id_hash(id),
            user_id: user.into(),
            sealed_key: Some(vec![1; 60]),
            public_key: None,
            created_at: 1,
            last_seen_at: 1,
            expires_at: i64::MAX,
            ended_at: None,
        };
        sessions::create(&tables, &record).await.unwrap();
    }
    let stop = CancellationToken::new();
    let reader = Reader::start(tables, stop.clone());
    let mut reads = tokio::task::JoinSet::new();
    for i in 0..60 {
        let reader = reader.clone();
        reads.spawn(async move {
            let id = ["s-1", "s-2", "s-unknown"][i % 3];
            (id, reader.find(&sessions::id_hash(id)).await.unwrap())
        });
    }
    while let Some(joined) = reads.join_next().await {
        let (id, found) = joined.unwrap();
        match id {
            "s-unknown" => assert!(found.is_none()),
            id => assert_eq!(
                found.map(|r| r.user_id),
                Some(format!("u-{}", &id[2..])),
                "every read of {id} finds it"
            ),
        }
    }
    stop.cancel();
    store.close().await;
}
