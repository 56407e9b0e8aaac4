//! The cluster supervisor with real worker processes of the real binary.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{BinaryNode, HELLO, greeting, superhero};
use superhero_testkit::TempDir;
use superhero_testkit::process::{alive, field, free_port, number, send_signal};

fn hello_cluster(workers: &str, port: u16, dir: &TempDir) -> BinaryNode {
    let config = dir.write("config.toml", HELLO).display().to_string();
    superhero(
        &["run", "--config", &config, "--workers", workers],
        &[("SUPERHERO__HELLO__LISTEN", format!("127.0.0.1:{port}"))],
    )
}

/// Worker id → pid of every worker the supervisor reported started.
fn started(node: &BinaryNode) -> HashMap<String, u64> {
    node.messages("worker started")
        .iter()
        .map(|e| {
            (
                field(e, "worker").unwrap_or_default().to_owned(),
                number(e, "pid").unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn three_workers_all_answer_on_one_shared_port() {
    let dir = TempDir::new();
    let port = free_port();
    let mut node = hello_cluster("3", port, &dir);
    node.wait_for("worker ready", 3, Duration::from_secs(20));

    let mut answered = HashMap::new();
    for _ in 0..300 {
        let line = greeting(port).expect("greeting");
        let worker = line
            .split_whitespace()
            .nth(3)
            .unwrap_or_default()
            .to_owned();
        *answered.entry(worker).or_insert(0) += 1;
        if answered.len() == 3 {
            break;
        }
    }
    let mut workers: Vec<_> = answered.keys().cloned().collect();
    workers.sort();
    assert_eq!(
        workers,
        ["1.01", "2.01", "3.01"],
        "answers per worker: {answered:?}"
    );

    node.signal(libc::SIGTERM);
    assert!(node.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn a_worker_killed_with_sigkill_is_replaced_within_two_seconds() {
    let dir = TempDir::new();
    let port = free_port();
    let mut node = hello_cluster("2", port, &dir);
    node.wait_for("worker ready", 2, Duration::from_secs(20));
    let victim = started(&node)["1.01"];

    let killed_at = Instant::now();
    send_signal(victim as u32, libc::SIGKILL);
    let ready = node.wait_for("worker ready", 3, Duration::from_secs(10));
    let replaced_after = killed_at.elapsed();

    assert_eq!(field(&ready[2], "worker"), Some("1.02"), "{}", node.dump());
    assert!(
        replaced_after <= Duration::from_secs(2),
        "replacement took {replaced_after:?}"
    );
    let replacement = started(&node)["1.02"];
    assert_ne!(replacement, victim);
    assert!(alive(replacement as u32));
    assert!(greeting(port).is_ok(), "the port keeps answering");

    node.signal(libc::SIGTERM);
    assert!(node.wait_exit(Duration::from_secs(20)).success());
}

#[test]
fn sigterm_stops_every_worker_and_the_supervisor_exits_zero() {
    let dir = TempDir::new();
    let port = free_port();
    let mut node = hello_cluster("2", port, &dir);
    node.wait_for("worker ready", 2, Duration::from_secs(20));
    let pids: Vec<u64> = started(&node).into_values().collect();

    node.signal(libc::SIGTERM);
    let status = node.wait_exit(Duration::from_secs(10));

    assert_eq!(status.code(), Some(0), "{}", node.dump());
    for pid in pids {
        assert!(!alive(pid as u32), "worker {pid} still running");
    }
    assert_eq!(
        node.messages("shut down cleanly").len(),
        2,
        "{}",
        node.dump()
    );
    assert_eq!(
        node.messages("worker started").len(),
        2,
        "no restart during shutdown"
    );
}

#[test]
fn sigint_is_forwarded_like_sigterm() {
    let dir = TempDir::new();
    let port = free_port();
    let mut node = hello_cluster("2", port, &dir);
    node.wait_for("worker ready", 2, Duration::from_secs(20));
    node.signal(libc::SIGINT);
    assert_eq!(
        node.wait_exit(Duration::from_secs(10)).code(),
        Some(0),
        "{}",
        node.dump()
    );
    let reasons: Vec<_> = node
        .messages("graceful shutdown initiated")
        .iter()
        .map(|e| field(e, "reason").unwrap_or_default().to_owned())
        .collect();
    assert_eq!(reasons, ["SIGINT", "SIGINT"]);
}

#[test]
fn a_worker_that_never_starts_makes_the_supervisor_give_up_without_a_restart_storm() {
    let dir = TempDir::new();
    let port = free_port();
    let config = dir.write("config.toml", HELLO).display().to_string();
    let broken = dir
        .write(
            "broken.toml",
            &format!("[hello]\nlisten = 12\n# port {port}\n"),
        )
        .display()
        .to_string();
    let mut node = superhero(
        &[
            "run",
            "--config",
            &config,
            "--config",
            &broken,
            "--workers",
            "2",
        ],
        &[],
    );

    let status = node.wait_exit(Duration::from_secs(20));

    assert!(!status.success());
    let log = node.dump();
    let verdict = node
        .events()
        .iter()
        .filter_map(|e| field(e, "error").map(str::to_owned))
        .find(|error| error.starts_with("E_CORE_CLUSTER_START_FAILED"))
        .unwrap_or_else(|| panic!("no E_CORE_CLUSTER_START_FAILED: {log}"));
    assert!(
        verdict.contains("E_BOOTSTRAP")
            && verdict.contains("E_CONFIG_TYPE")
            && verdict.contains("hello/listen"),
        "the supervisor names the worker's error: {verdict}"
    );
    let starts = node.messages("worker started").len();
    assert!(
        starts <= 2 * 3,
        "{starts} starts: the default policy allows 3 failed starts per slot"
    );
    assert!(starts >= 3, "the slot that gave up tried 3 times: {log}");
}
