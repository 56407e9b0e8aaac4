//! The store tests' scaffolding: a fresh, isolated store per test on each backend (a
//! scratch database from `superhero_testkit`), with a manual clock for the conformance
//! suite or the system clock for hubs and spokes.
//!
//! Tests run on every backend with `superhero_testkit::each_backend!`: with
//! `setup = crate::common::Harness::new;` each body gets a `&Harness`. The PostgreSQL
//! and MySQL variants are ignored, reported as skipped, when their URL is not set.

#![allow(dead_code)]

pub mod cluster;

use std::sync::Arc;
use std::time::Duration;

use superhero_eventflow::{
    Appended, Clock, DeliveryStore, EventLog, FailOutcome, ManualClock, NewEvent, SqlStore,
    StoreConfig, SystemClock, Timestamp,
};
use superhero_testkit::eventflow::Scratch;

/// The backend a test runs on.
pub use superhero_testkit::Backend as Db;

/// A fresh store with a manual clock, removed when dropped.
pub struct Harness {
    pub store: SqlStore,
    pub clock: ManualClock,
    pub db: Db,
    realtime: bool,
    config: StoreConfig,
    // Dropped last: removes the database.
    _scratch: Scratch,
}

/// A start time for manual clocks: 2026-01-01T00:00:00Z.
pub const T0: Timestamp = Timestamp::from_millis(1_767_225_600_000);

impl Harness {
    /// Opens a fresh store on `db` with a manual clock; panics with the reason when the
    /// server is unusable.
    pub async fn new(db: Db) -> Harness {
        Self::open(db, false).await
    }

    /// Opens a fresh store on `db` on the system clock (hubs and spokes run in real time).
    pub async fn realtime(db: Db) -> Harness {
        Self::open(db, true).await
    }

    async fn open(db: Db, realtime: bool) -> Harness {
        let scratch = Scratch::create(db, "ef_test").await;
        let config = StoreConfig {
            max_connections: if realtime { 16 } else { 8 },
            ..scratch.store_config()
        };
        let clock = ManualClock::new(T0);
        let store_clock: Arc<dyn Clock> = if realtime {
            Arc::new(SystemClock)
        } else {
            Arc::new(clock.clone())
        };
        let store = SqlStore::open_with_clock(&config, store_clock)
            .await
            .unwrap_or_else(|e| panic!("cannot open the {db:?} test store: {e} ({})", e.code()));
        Harness {
            store,
            clock,
            db,
            realtime,
            config,
            _scratch: scratch,
        }
    }

    /// Another store on the same database (as a second process would open it).
    pub async fn reopen(&self) -> SqlStore {
        let clock: Arc<dyn Clock> = if self.realtime {
            Arc::new(SystemClock)
        } else {
            Arc::new(self.clock.clone())
        };
        SqlStore::open_with_clock(&self.config, clock)
            .await
            .expect("reopen the test store")
    }

    /// The configuration that opens this store (for another process, say).
    pub fn store_config(&self) -> &StoreConfig {
        &self.config
    }

    /// The shared clock's time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Moves the shared clock forward.
    pub fn advance(&self, duration: Duration) {
        self.clock.advance(duration);
    }

    /// Publishes `event` and parks it: its one allowed delivery claimed by consumer `a`
    /// and failed with `error`.
    pub async fn park(&self, event: NewEvent, error: &str) -> Appended {
        let s = &self.store;
        let event = s.publish(event, "spoke").await.unwrap();
        let claim = s
            .claim_delivery(event.id, "a", Duration::from_secs(30), 1)
            .await
            .unwrap()
            .expect("claim");
        let outcome = s.fail_delivery(&claim, error, self.now(), 1).await.unwrap();
        assert_eq!(outcome, FailOutcome::Parked);
        event
    }
}
