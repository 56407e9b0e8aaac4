//! `superhero bench eventflow --hubs H --consumers M --store URL`, short: 2 hub processes
//! and 3 consuming processes on a PostgreSQL (and a MySQL/MariaDB) server. The report
//! must give a throughput with every event handled exactly once, a latency at the
//! offered rate over every acknowledged event, and where the CPU went; a run without a
//! server URL is refused with its reason.

mod common;

use common::{report_line as line, run_to_end};
use superhero_testkit::Backend;

fn bench(url: &str) -> (bool, String, String) {
    run_to_end(&[
        "bench",
        "eventflow",
        "--store",
        url,
        "--hubs",
        "2",
        "--consumers",
        "3",
        "--events",
        "3000",
        "--rate",
        "200",
        "--latency-secs",
        "2",
    ])
}

/// The first number of a report line after its label.
fn number(line: &str) -> f64 {
    line.split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number in {line:?}"))
}

fn scaled_out(backend: Backend) {
    let url = backend.required_url().expect("a server URL");
    let (passed, stdout, stderr) = bench(&url);
    assert!(passed, "{stdout}\n{stderr}");
    assert!(
        line(&stdout, "eventflow scaled out").contains("2 hubs, 3 consumers"),
        "{stdout}"
    );
    let throughput = line(&stdout, "throughput");
    assert!(number(throughput) > 0.0, "{throughput}");
    assert!(
        throughput.contains("3000 events") && throughput.contains("each handled exactly once"),
        "{throughput}"
    );
    let latency = line(&stdout, "latency");
    assert!(latency.contains("at 200 events/s offered"), "{latency}");
    let acknowledged: u64 = latency
        .rsplit_once('(')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        (300..=500).contains(&acknowledged),
        "about 2 s at 200/s acknowledged: {latency}"
    );
    let cpu = line(&stdout, "CPU (throughput)");
    for role in ["hubs", "consumers", "driver", "database"] {
        assert!(cpu.contains(role), "{cpu}");
    }
}

superhero_testkit::needs_postgres! {
    #[test]
    fn two_hubs_and_three_consumers_on_postgresql_handle_every_event_once() {
        scaled_out(Backend::Postgres);
    }
}

superhero_testkit::needs_mysql! {
    #[test]
    fn two_hubs_and_three_consumers_on_mysql_handle_every_event_once() {
        scaled_out(Backend::MySql);
    }
}

#[test]
fn processes_without_a_server_are_refused_with_the_reason() {
    let (passed, _, stderr) = run_to_end(&["bench", "eventflow", "--hubs", "2"]);
    assert!(!passed);
    assert!(stderr.contains("--store"), "{stderr}");
    let (passed, _, stderr) = run_to_end(&[
        "bench",
        "eventflow",
        "--hubs",
        "2",
        "--store",
        "sqlite:///tmp/x.db",
    ]);
    assert!(!passed);
    assert!(stderr.contains("need a PostgreSQL"), "{stderr}");
}
