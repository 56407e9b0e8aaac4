//! `superhero demo` and `superhero run <app>` with the real binary.

mod common;

use std::time::Duration;

use common::{Node, free_port, http_get};

#[test]
fn the_demo_serves_ping_pong_with_an_embedded_hub_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut node = Node::start_in(
        Some(dir.path()),
        &["demo", "--http", &format!("127.0.0.1:{port}")],
        &[("SUPERHERO__EVENTFLOW__HUB__INTERNAL_PORT", "0".to_owned())],
    );
    node.wait_for("started", 1, Duration::from_secs(60));
    node.wait_for("hub started", 1, Duration::from_secs(5));

    let secret_file = dir.path().join("data/eventflow.secret");
    let secret =
        std::fs::read_to_string(&secret_file).expect("the demo keeps its secret under ./data");
    assert!(secret.len() >= 64, "256 random bits, hex");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(
        dir.path().join("data/eventflow.db").is_file(),
        "the store is SQLite under ./data"
    );
    assert!(
        !node.dump().contains(secret.trim()),
        "the secret is never logged"
    );

    assert_eq!(
        http_get(port, "/ping").unwrap(),
        (200, "\"pong\"".to_owned())
    );
    let (status, body) = http_get(port, "/ping?sleep=-1").unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("E_OAS_"), "{body}");
    let (status, body) = http_get(port, "/openapi.json").unwrap();
    assert_eq!(status, 200);
    assert!(body.contains("\"/ping\""), "{body}");

    node.signal(libc::SIGTERM);
    assert_eq!(
        node.wait_exit(Duration::from_secs(15)).code(),
        Some(0),
        "{}",
        node.dump()
    );
}

#[test]
fn run_mounts_an_app_on_every_worker_of_a_cluster() {
    let port = free_port();
    let mut node = Node::start(
        &["run", "ping-pong", "--workers", "2"],
        &[(
            "SUPERHERO__HTTP__SERVER__LISTEN",
            format!("127.0.0.1:{port}"),
        )],
    );
    node.wait_for("worker ready", 2, Duration::from_secs(30));
    for _ in 0..20 {
        assert_eq!(
            http_get(port, "/ping").unwrap(),
            (200, "\"pong\"".to_owned())
        );
    }
    let listening = node.messages("http listening");
    assert_eq!(
        listening.len(),
        2,
        "both workers serve the port: {}",
        node.dump()
    );

    node.signal(libc::SIGTERM);
    assert_eq!(
        node.wait_exit(Duration::from_secs(20)).code(),
        Some(0),
        "{}",
        node.dump()
    );
}

#[test]
fn an_unknown_app_is_refused_with_the_known_names() {
    let mut node = Node::start(&["run", "no-such-app"], &[]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)).code(), Some(1));
    let log = node.dump();
    assert!(
        log.contains("E_CLI_UNKNOWN_APP") && log.contains("ping-pong"),
        "{log}"
    );
}

#[test]
fn bench_http_measures_both_servers_and_prints_the_ratio() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_superhero"))
        .args([
            "bench",
            "http",
            "--protocol",
            "http1",
            "--connections",
            "2",
            "--duration-secs",
            "1",
            "--warmup-secs",
            "0",
        ])
        .output()
        .expect("run bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with("http1")).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    for server in ["ping-pong", "baseline"] {
        let row = rows.iter().find(|r| r.contains(server)).expect(server);
        let rate: f64 = row
            .split_whitespace()
            .nth(2)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        assert!(rate > 0.0, "{server} answered: {row}");
        assert!(row.trim_end().ends_with(" 0"), "no errors: {row}");
    }
    assert!(rows.iter().any(|r| r.contains("ratio")), "{stdout}");
}
