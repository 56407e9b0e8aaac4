//! End-to-end tests of hubs and spokes: real hubs and spokes in this process, talking
//! mutual TLS over loopback, on a fresh SQLite file (and PostgreSQL / MySQL-MariaDB when
//! their URLs are set; see `tests/common`).

#[path = "../common/mod.rs"]
mod common;

mod certificates;
mod crash;
mod delivery;
mod failover;
mod original;
mod schedule;
mod security;
