//! `superhero run` as one process.

mod common;

use std::time::Duration;

use common::{HELLO, greeting, superhero};
use superhero_testkit::{TempDir, free_port};

#[test]
fn a_node_serves_until_sigterm_and_then_exits_zero() {
    let dir = TempDir::new();
    let port = free_port();
    let config = dir.write("config.toml", HELLO).display().to_string();
    let mut node = superhero(
        &["run", "--config", &config],
        &[("SUPERHERO__HELLO__LISTEN", format!("127.0.0.1:{port}"))],
    );
    node.wait_for("started", 1, Duration::from_secs(20));
    assert!(greeting(port).unwrap().starts_with("hello from worker - "));

    node.signal(libc::SIGTERM);
    assert_eq!(node.wait_exit(Duration::from_secs(10)).code(), Some(0));
    assert_eq!(node.messages("shut down cleanly").len(), 1);
    assert!(greeting(port).is_err(), "the port is closed after shutdown");
}

#[test]
fn the_branch_flag_layers_the_branch_file() {
    let dir = TempDir::new();
    let port = free_port();
    let config = dir.write("config.toml", HELLO).display().to_string();
    dir.write("config-dev.toml", "[hello]\ngreeting = \"howdy\"\n");
    let mut node = superhero(
        &["run", "--config", &config, "--branch", "dev"],
        &[("SUPERHERO__HELLO__LISTEN", format!("127.0.0.1:{port}"))],
    );
    node.wait_for("started", 1, Duration::from_secs(20));
    assert!(greeting(port).unwrap().starts_with("howdy from worker"));
    node.signal(libc::SIGTERM);
    assert!(node.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn a_broken_config_file_stops_start_up_naming_file_and_line() {
    let dir = TempDir::new();
    let config = dir
        .write("config.toml", "[locator]\nhello = true\n[hello\n")
        .display()
        .to_string();
    let mut node = superhero(&["run", "--config", &config], &[]);
    let status = node.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1));
    let log = node.dump();
    assert!(
        log.contains("E_CONFIG_PARSE") && log.contains("config.toml line 3"),
        "{log}"
    );
}

#[test]
fn a_failed_bootstrap_exits_non_zero_naming_the_service() {
    let dir = TempDir::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = dir.write("config.toml", HELLO).display().to_string();
    // Without SO_REUSEPORT on the first socket, the second bind fails.
    let mut node = superhero(
        &["run", "--config", &config],
        &[("SUPERHERO__HELLO__LISTEN", format!("127.0.0.1:{port}"))],
    );
    let status = node.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(1));
    let log = node.dump();
    assert!(
        log.contains("E_BOOTSTRAP")
            && log.contains("\\\"hello\\\"")
            && log.contains("E_CORE_LISTEN"),
        "{log}"
    );
    drop(taken);
}
