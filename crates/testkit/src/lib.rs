//! # superhero-testkit
//!
//! The test scaffolding of the workspace, in one place (a dev-dependency only; never
//! published, never a dependency of what ships):
//!
//! | module | what |
//! | --- | --- |
//! | [`http`] | the one HTTP client: HTTP/1.1, h2c, TLS with ALPN; [`Reply::error`](http::Reply::error) checks the error body |
//! | [`sse`] | an SSE client on an independent parser (`eventsource-stream`) |
//! | [`node`] | [`TestNode`]: core + http + apps (+ an embedded hub and spoke on a scratch database) in the test's process |
//! | [`backend`] | [`Backend`] and [`each_backend!`]: one test body on SQLite, PostgreSQL and MySQL/MariaDB |
//! | [`eventflow`] | scratch databases removed on drop; hub, spoke and certificate settings for tests |
//! | [`process`] | the real binary with its JSON log ([`BinaryNode`]), the test binary re-executed as a child ([`ChildTest`]), signals |
//! | [`signed`] | sign up, sign in and send RFC 9421 signed requests ([`signed::SignedClient`]) |
//! | [`files`] | [`TempDir`] for config files |
//! | [`proxy`] | [`TcpProxy`]: a loopback TCP forwarder a test cuts and restores (a database going away) |
//! | [`mod@eventually`] | [`eventually()`]: poll until a condition holds |
//!
//! PostgreSQL and MySQL/MariaDB are reached through `EVENTFLOW_TEST_POSTGRES_URL` and
//! `EVENTFLOW_TEST_MYSQL_URL`; without them their tests are reported as ignored.
#![warn(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod backend;
pub mod browser;
pub mod eventflow;
pub mod eventually;
pub mod files;
pub mod http;
pub mod node;
pub mod process;
pub mod proxy;
pub mod signed;
pub mod sse;

pub use backend::Backend;
pub use browser::Browser;
pub use eventually::{eventually, eventually_blocking};
pub use files::TempDir;
pub use node::{TestNode, TestNodeBuilder};
pub use process::{BinaryNode, ChildTest, free_port};
pub use proxy::TcpProxy;
pub use superhero_eventflow::scratch::ScratchDatabase;
