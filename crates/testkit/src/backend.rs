//! The database backends a test can run on, and the macros that run one test body on
//! each of them.
//!
//! SQLite is always available (a file in a temporary folder). PostgreSQL and
//! MySQL/MariaDB are reached through `EVENTFLOW_TEST_POSTGRES_URL` and
//! `EVENTFLOW_TEST_MYSQL_URL` (`.ci/run` sets both to the machine's servers); when a
//! variable is unset its tests are `#[ignore]`d with the reason, reported as skipped,
//! never as passed. The decision is taken by this crate's build script.
//!
//! ```ignore
//! use superhero_testkit::Backend;
//!
//! superhero_testkit::each_backend!(an_event_round_trips);
//!
//! async fn an_event_round_trips(backend: Backend) {
//!     let node = superhero_testkit::TestNode::builder().eventflow(backend).start().await;
//!     // …
//! }
//! // Tests: an_event_round_trips::sqlite, ::postgres, ::mysql
//! ```

use std::fmt;

/// A database backend of the event store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An SQLite file in a temporary folder.
    Sqlite,
    /// A scratch schema on the PostgreSQL server of `EVENTFLOW_TEST_POSTGRES_URL`.
    Postgres,
    /// A scratch database on the MySQL/MariaDB server of `EVENTFLOW_TEST_MYSQL_URL`.
    MySql,
}

impl Backend {
    /// Every backend.
    pub const ALL: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

    /// The environment variable holding the server URL (empty for SQLite).
    pub fn url_variable(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => "EVENTFLOW_TEST_POSTGRES_URL",
            Backend::MySql => "EVENTFLOW_TEST_MYSQL_URL",
        }
    }

    /// The server URL, if configured (`None` for SQLite).
    pub fn server_url(self) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            _ => std::env::var(self.url_variable())
                .ok()
                .filter(|url| !url.is_empty()),
        }
    }

    /// The server URL, or a panic naming the variable (for SQLite, `None`). Tests that
    /// need a server are ignored when it is unset, so reaching the panic is a bug.
    pub fn required_url(self) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            _ => Some(self.server_url().unwrap_or_else(|| {
                panic!(
                    "{} is not set; this test runs only when it is (it should have been ignored)",
                    self.url_variable()
                )
            })),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        })
    }
}

/// Marks the test item it wraps as needing PostgreSQL: `#[ignore]`d with the reason when
/// `EVENTFLOW_TEST_POSTGRES_URL` is unset.
#[cfg(superhero_no_postgres)]
#[macro_export]
macro_rules! needs_postgres {
    ($item:item) => {
        #[ignore = "skipped: EVENTFLOW_TEST_POSTGRES_URL not set"]
        $item
    };
}

/// Marks the test item it wraps as needing PostgreSQL: `#[ignore]`d with the reason when
/// `EVENTFLOW_TEST_POSTGRES_URL` is unset.
#[cfg(not(superhero_no_postgres))]
#[macro_export]
macro_rules! needs_postgres {
    ($item:item) => {
        $item
    };
}

/// Marks the test item it wraps as needing MySQL/MariaDB: `#[ignore]`d with the reason
/// when `EVENTFLOW_TEST_MYSQL_URL` is unset.
#[cfg(superhero_no_mysql)]
#[macro_export]
macro_rules! needs_mysql {
    ($item:item) => {
        #[ignore = "skipped: EVENTFLOW_TEST_MYSQL_URL not set"]
        $item
    };
}

/// Marks the test item it wraps as needing MySQL/MariaDB: `#[ignore]`d with the reason
/// when `EVENTFLOW_TEST_MYSQL_URL` is unset.
#[cfg(not(superhero_no_mysql))]
#[macro_export]
macro_rules! needs_mysql {
    ($item:item) => {
        $item
    };
}

/// For each `async fn name(backend: Backend)`, declares a module `name` with one test
/// per backend: `name::sqlite`, `name::postgres`, `name::mysql` (multi-threaded tokio
/// runtime with 2 workers; the caller depends on tokio with `macros`).
///
/// With a leading `setup = path;`, each test calls `path(backend).await` and hands a
/// reference to what it returns to the body instead: `async fn name(h: &Harness)`.
#[macro_export]
macro_rules! each_backend {
    (setup = $setup:path; $($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let fixture = $setup($crate::Backend::Sqlite).await;
                    super::$name(&fixture).await;
                }

                $crate::needs_postgres! {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn postgres() {
                        let fixture = $setup($crate::Backend::Postgres).await;
                        super::$name(&fixture).await;
                    }
                }

                $crate::needs_mysql! {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn mysql() {
                        let fixture = $setup($crate::Backend::MySql).await;
                        super::$name(&fixture).await;
                    }
                }
            }
        )*
    };
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await;
                }

                $crate::needs_postgres! {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn postgres() {
                        super::$name($crate::Backend::Postgres).await;
                    }
                }

                $crate::needs_mysql! {
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn mysql() {
                        super::$name($crate::Backend::MySql).await;
                    }
                }
            }
        )*
    };
}
