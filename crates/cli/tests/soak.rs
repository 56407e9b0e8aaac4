//! `superhero bench soak`, short: the real command with its private PostgreSQL server,
//! 2 hubs behind fault proxies, 3 consumers and the sale-order app on 2 workers in their
//! own processes, a fault every 2 s (hubs, consumers and workers killed, the database
//! stopped, hub links cut, frozen or delayed) for about 25 s of load and 2 orders a
//! second. The report must say that nothing acknowledged was lost or doubled, that every
//! acknowledged order ended as `sale-order.md` says, that faults of each kind were
//! injected, and that the checkers caught the event whose records they hid and the
//! orders' logs they tampered with (the checkers' own rules are unit-tested in
//! `bench/soak/checker.rs` and `bench/soak/sagas.rs`).
//!
//! The same on a private MariaDB server (`--engine mariadb`). Needs the servers'
//! programs (`initdb`, `pg_ctl`; `mariadb-install-db`, `mariadbd`), which every machine of
//! this project has (never skipped: without them the tests fail and say so).

mod common;

use common::{report_line as line, run_to_end};

fn soak(extra: &[&str]) -> (bool, String, String) {
    let mut args = vec![
        "bench",
        "soak",
        "--minutes",
        "0.4",
        "--fault-every",
        "2",
        "--rate",
        "100",
        "--seed",
        "7",
        "--drain-secs",
        "120",
        "--orders",
        "2",
        "--payment-window-secs",
        "8",
    ];
    args.extend_from_slice(extra);
    run_to_end(&args)
}

fn assert_passed(passed: bool, stdout: &str, stderr: &str) {
    assert!(passed, "{stdout}\n{stderr}");
    assert!(line(stdout, "verdict").ends_with("PASSED"), "{stdout}");
    assert!(line(stdout, "lost").ends_with(" 0"), "{stdout}");
    assert!(line(stdout, "doubled").ends_with(" 0"), "{stdout}");
    assert!(
        line(stdout, "scheduled too early").ends_with(" 0"),
        "{stdout}"
    );
    assert!(
        line(stdout, "checker self-test").contains("reported doubled, as it must"),
        "{stdout}"
    );
    let acknowledged = line(stdout, "acknowledged");
    let publishes: u64 = acknowledged
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(publishes > 500, "the load ran: {acknowledged}");
    let orders = line(stdout, "orders ");
    let placed: u64 = orders
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(placed >= 20, "orders were placed: {orders}");
    assert!(
        orders.contains(&format!("{placed} acknowledged, {placed} ended exactly")),
        "{orders}"
    );
    assert!(line(stdout, "orders wrong").ends_with(" 0"), "{stdout}");
    assert!(
        line(stdout, "order self-test").contains("as they must be"),
        "{stdout}"
    );
}

#[test]
fn a_short_soak_on_a_private_postgresql_with_kills_and_database_stops_passes() {
    let (passed, stdout, stderr) = soak(&[]);
    assert_passed(passed, &stdout, &stderr);
    assert_every_fault_injected(&stdout);
}

fn assert_every_fault_injected(stdout: &str) {
    let faults = line(stdout, "faults");
    for kind in [
        "hub killed",
        "consumer killed",
        "worker killed",
        "database stopped",
    ] {
        assert!(faults.contains(kind), "{kind} injected: {faults}");
    }
}

#[test]
fn a_short_soak_on_a_private_mariadb_with_kills_and_database_stops_passes() {
    let (passed, stdout, stderr) = soak(&["--engine", "mariadb"]);
    assert_passed(passed, &stdout, &stderr);
    assert_every_fault_injected(&stdout);
}
