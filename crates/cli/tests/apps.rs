//! `superhero demo` and `superhero run <app>` with the real binary.

mod common;

use std::time::Duration;

use common::{assert_pong, demo, local, superhero, superhero_in};
use superhero_testkit::http::get_blocking;
use superhero_testkit::process::field;
use superhero_testkit::{TempDir, free_port};

#[test]
fn the_demo_serves_ping_pong_with_an_embedded_hub_and_stops_cleanly() {
    let dir = TempDir::new();
    let (mut node, port) = demo(dir.path());
    node.wait_for("hub started", 1, Duration::from_secs(5));
    superhero_testkit::eventually_blocking(
        Duration::from_secs(10),
        "the banner is printed",
        || {
            node.stdout()
                .iter()
                .any(|l| l.contains("Stop with Ctrl-C."))
        },
    );
    let banner = node.stdout().join("\n");
    assert!(banner.contains("Superhero demo node is up."), "{banner}");
    assert!(
        banner.contains(&format!("ping     http://127.0.0.1:{port}/ping?sleep=100")),
        "{banner}"
    );
    assert!(banner.contains("eventflow hub"), "{banner}");

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

    assert_pong(port);
    let invalid = get_blocking(local(port), "/ping?sleep=-1");
    invalid.error(400, "E_OAS_INVALID_REQUEST_PARAMETERS");
    let openapi = get_blocking(local(port), "/openapi.json");
    assert_eq!(openapi.status, 200);
    assert!(
        openapi.json()["paths"]["/ping"].is_object(),
        "{}",
        openapi.text()
    );

    node.stop_cleanly(Duration::from_secs(15));
}

#[test]
fn two_demos_run_side_by_side_from_two_folders() {
    let (a, b) = (TempDir::new(), TempDir::new());
    let (port_a, port_b) = (free_port(), free_port());
    let mut first = superhero(
        &[
            "demo",
            "--http",
            &format!("127.0.0.1:{port_a}"),
            "--data",
            &a.path().join("data").display().to_string(),
        ],
        &[],
    );
    let mut second = superhero_in(
        b.path(),
        &["demo", "--http", &format!("127.0.0.1:{port_b}")],
        &[],
    );
    first.wait_for("started", 1, Duration::from_secs(60));
    second.wait_for("started", 1, Duration::from_secs(60));
    for port in [port_a, port_b] {
        assert_pong(port);
    }
    assert!(
        a.path().join("data/eventflow.db").is_file()
            && b.path().join("data/eventflow.db").is_file(),
        "each demo keeps its store in its own data folder"
    );
    let hubs: Vec<String> = [&first, &second]
        .iter()
        .map(|node| {
            let started = node.wait_for("hub started", 1, Duration::from_secs(5));
            field(&started[0], "addr").unwrap_or_default().to_owned()
        })
        .collect();
    assert!(
        hubs.iter()
            .all(|addr| !addr.ends_with(":50001") && !addr.ends_with(":0")),
        "each hub listens on an ephemeral port: {hubs:?}"
    );
    assert_ne!(hubs[0], hubs[1]);
    for node in [&mut first, &mut second] {
        node.stop_cleanly(Duration::from_secs(15));
    }
}

#[test]
fn a_demo_whose_http_port_is_taken_says_which_and_exits_non_zero() {
    let dir = TempDir::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut node = superhero_in(
        dir.path(),
        &["demo", "--http", &format!("127.0.0.1:{port}")],
        &[],
    );
    assert_eq!(node.wait_exit(Duration::from_secs(60)).code(), Some(1));
    let log = node.dump();
    assert!(
        log.contains("E_BOOTSTRAP") && log.contains(&format!("127.0.0.1:{port}")),
        "{log}"
    );
    drop(taken);
}

#[test]
fn a_demo_whose_data_folder_cannot_be_made_names_it_and_exits_non_zero() {
    let dir = TempDir::new();
    let file = dir.write("not-a-folder", "");
    let data = file.join("data");
    let mut node = superhero(&["demo", "--data", &data.display().to_string()], &[]);
    assert_eq!(node.wait_exit(Duration::from_secs(30)).code(), Some(1));
    let log = node.dump();
    assert!(
        log.contains("E_CLI_DEMO") && log.contains(&data.display().to_string()),
        "{log}"
    );
    let mut odd = superhero(&["demo", "--data", "/tmp/what?x"], &[]);
    assert_eq!(odd.wait_exit(Duration::from_secs(30)).code(), Some(1));
    assert!(odd.dump().contains("must not contain"), "{}", odd.dump());
}

#[test]
fn run_mounts_an_app_on_every_worker_of_a_cluster() {
    let port = free_port();
    let mut node = superhero(
        &["run", "ping-pong", "--workers", "2"],
        &[(
            "SUPERHERO__HTTP__SERVER__LISTEN",
            format!("127.0.0.1:{port}"),
        )],
    );
    node.wait_for("worker ready", 2, Duration::from_secs(30));
    for _ in 0..20 {
        assert_pong(port);
    }
    let listening = node.messages("http listening");
    assert_eq!(
        listening.len(),
        2,
        "both workers serve the port: {}",
        node.dump()
    );

    node.stop_cleanly(Duration::from_secs(20));
}

#[test]
fn an_unknown_app_is_refused_with_the_known_names() {
    let mut node = superhero(&["run", "no-such-app"], &[]);
    assert_eq!(node.wait_exit(Duration::from_secs(10)).code(), Some(1));
    let log = node.dump();
    assert!(
        log.contains("E_CLI_UNKNOWN_APP") && log.contains("ping-pong"),
        "{log}"
    );
}

#[test]
fn bench_http_measures_both_servers_in_their_own_processes_and_prints_the_ratios() {
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
            "--rounds",
            "1",
            "--builtin",
        ])
        .output()
        .expect("run bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // One measured row per server: round · server, req/s, p50, p99, errors, CPU µs/req.
    for server in ["ping-pong", "baseline"] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("1 · {server}")))
            .unwrap_or_else(|| panic!("no row for {server}: {stdout}"));
        let fields: Vec<&str> = row.split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
        assert!(number(3) > Some(0.0), "{server} answered: {row}");
        assert_eq!(number(8), Some(0.0), "no errors: {row}");
        assert!(
            number(9) > Some(0.0),
            "the server process's CPU time per request is read: {row}"
        );
    }
    // The summary: a median row per server and the ratios.
    let summary: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("http1") && !l.contains('—'))
        .collect();
    assert_eq!(summary.len(), 3, "{stdout}");
    assert!(summary[2].contains("ratio"), "{stdout}");
}
