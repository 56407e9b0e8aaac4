//! The store conformance suite: every operation of the store traits, the same tests on
//! SQLite (always), PostgreSQL (`EVENTFLOW_TEST_POSTGRES_URL`) and MySQL/MariaDB
//! (`EVENTFLOW_TEST_MYSQL_URL`). Each test gets its own database (see `tests/common`).

#[path = "../common/mod.rs"]
mod common;

mod batch;
mod concurrency;
mod delivery;
mod eventlog;
mod open;
mod original;
mod records;
mod schedule;
mod status;
mod tables;
