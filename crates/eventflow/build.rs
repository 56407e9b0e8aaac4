//! Tells the conformance tests which databases they can reach.
//!
//! The PostgreSQL and MySQL/MariaDB variants of each conformance test are marked
//! `#[ignore]` (reported as skipped, never as passed) when their URL variable is unset.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(eventflow_no_postgres)");
    println!("cargo::rustc-check-cfg=cfg(eventflow_no_mysql)");
    println!("cargo::rerun-if-env-changed=EVENTFLOW_TEST_POSTGRES_URL");
    println!("cargo::rerun-if-env-changed=EVENTFLOW_TEST_MYSQL_URL");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("EVENTFLOW_TEST_POSTGRES_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo::rustc-cfg=eventflow_no_postgres");
    }
    if std::env::var_os("EVENTFLOW_TEST_MYSQL_URL").is_none_or(|v| v.is_empty()) {
        println!("cargo::rustc-cfg=eventflow_no_mysql");
    }
}
