//! Opening stores: URLs, unreachable databases and closed stores give typed errors.

use superhero_eventflow::{CatchUp, EventLog, NewEvent, SqlStore, StoreConfig, open};
use tokio::task::JoinSet;

use crate::common::{Db, Harness};

fn quick(url: &str) -> StoreConfig {
    StoreConfig {
        acquire_timeout_ms: 300,
        ..StoreConfig::with_url(url)
    }
}

#[tokio::test]
async fn an_unknown_url_scheme_is_a_config_error() {
    let error = open(&quick("redis://127.0.0.1/0")).await.unwrap_err();
    assert_eq!(error.code(), "E_EVENTFLOW_STORE_CONFIG");
    let error = open(&StoreConfig {
        schema: Some("ef".into()),
        ..quick("sqlite::memory:")
    })
    .await
    .unwrap_err();
    assert_eq!(
        error.code(),
        "E_EVENTFLOW_STORE_CONFIG",
        "schema is PostgreSQL-only"
    );
}

#[tokio::test]
async fn a_database_that_is_down_is_unavailable_not_a_panic() {
    for url in [
        "postgres://postgres@127.0.0.1:1/test",
        "mysql://root@127.0.0.1:1/test",
    ] {
        let error = open(&quick(url)).await.unwrap_err();
        assert_eq!(
            error.code(),
            "E_EVENTFLOW_STORE_UNAVAILABLE",
            "{url}: {error}"
        );
        assert!(error.is_transient());
        assert!(
            std::error::Error::source(&error).is_some(),
            "the driver error is chained"
        );
    }
}

#[tokio::test]
async fn a_sqlite_file_that_cannot_be_created_is_an_error() {
    let error = open(&quick("sqlite:///proc/eventflow/x.db"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error.code(),
            "E_EVENTFLOW_STORE_CONFIG" | "E_EVENTFLOW_STORE_UNAVAILABLE"
        ),
        "{error}"
    );
}

superhero_testkit::needs_postgres! {
    #[tokio::test]
    async fn an_unknown_postgres_database_is_unavailable() {
        let url = Db::Postgres.server_url().expect("EVENTFLOW_TEST_POSTGRES_URL");
        let missing = format!("{}_no_such_database", url.trim_end_matches('/'));
        let error = open(&quick(&missing)).await.unwrap_err();
        assert_eq!(error.code(), "E_EVENTFLOW_STORE_UNAVAILABLE", "{error}");
    }
}

#[tokio::test]
async fn a_closed_store_fails_with_unavailable() {
    let store = open(&quick("sqlite::memory:")).await.unwrap();
    store.close().await;
    let error = store
        .append_one(NewEvent::new("d", "p", "n"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "E_EVENTFLOW_STORE_UNAVAILABLE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_sqlite_store_is_shared_by_all_its_users() {
    let store = open(&StoreConfig::with_url("sqlite::memory:"))
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for i in 0..8 {
        let store: SqlStore = store.clone();
        tasks.spawn(async move {
            store
                .append_one(NewEvent::new("d", format!("p{i}"), "n"))
                .await
        });
    }
    for result in tasks.join_all().await {
        result.unwrap();
    }
    assert_eq!(
        store
            .read_from(&CatchUp::after(0, 100))
            .await
            .unwrap()
            .len(),
        8
    );
    assert_eq!(store.distinct_pids("d").await.unwrap().len(), 8);
}

#[tokio::test]
async fn a_sqlite_file_keeps_its_events_across_opens() {
    let harness = Harness::new(Db::Sqlite).await;
    let appended = harness
        .store
        .append_one(NewEvent::new("d", "p", "n"))
        .await
        .unwrap();
    harness.store.close().await;
    let reopened = harness.reopen().await;
    assert_eq!(
        reopened.read_event(appended.id).await.unwrap().position,
        appended.position
    );
    let next = reopened
        .append_one(NewEvent::new("d", "p", "m"))
        .await
        .unwrap();
    assert_eq!((next.version, next.position), (2, appended.position + 1));
    reopened.close().await;
}

/// Worker processes of a cluster open one new SQLite file at the same moment; each must
/// find the schema set up exactly once, whoever migrates first.
#[tokio::test]
async fn concurrent_opens_of_a_new_sqlite_file_all_succeed() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/eventflow.db", dir.path().display());
        let mut opens = JoinSet::new();
        for _ in 0..6 {
            let url = url.clone();
            opens.spawn(async move { SqlStore::open(&StoreConfig::with_url(&url)).await });
        }
        let mut stores = Vec::new();
        while let Some(opened) = opens.join_next().await {
            stores.push(
                opened
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{} ({})", e, e.code())),
            );
        }
        let appended = stores[0]
            .append_one(NewEvent::new("d", "p", "n"))
            .await
            .unwrap();
        assert_eq!(
            stores[5].read_event(appended.id).await.unwrap().id,
            appended.id
        );
        for store in stores {
            store.close().await;
        }
    }
}
