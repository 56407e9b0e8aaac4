//! `superhero hub` and `superhero eventlog` as a user runs them.

mod common;

use std::process::Command;
use std::time::Duration;

use common::superhero;
use serde_json::json;
use superhero_eventflow::{EventLog, NewEvent, SqlStore, StoreConfig};
use superhero_testkit::http::get;
use superhero_testkit::{TempDir, free_port};

#[test]
fn eventlog_prints_the_events_of_a_process_and_its_state() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/eventflow.db", dir.path().display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqlStore::open(&StoreConfig::with_url(&url)).await.unwrap();
        for (name, data) in [
            ("placed", json!({"total": 5})),
            ("paid", json!({"paid": true})),
        ] {
            store
                .append_one(NewEvent::new("order", "o-1", name).with_data(data))
                .await
                .unwrap();
        }
        store.close().await;
    });
    let output = Command::new(env!("CARGO_BIN_EXE_superhero"))
        .args(["eventlog", "order", "o-1", "--store", &url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("event-log order › o-1 (2 events)"), "{text}");
    assert!(text.contains("placed") && text.contains("paid"), "{text}");
    let state = &text[text.find("state:").unwrap() + 6..];
    let state: serde_json::Value = serde_json::from_str(state.trim()).unwrap();
    assert_eq!(state, json!({"total": 5, "paid": true}));
}

#[test]
fn hub_runs_from_config_until_sigterm_and_serves_metrics_when_asked() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/eventflow.db", dir.path().display());
    let metrics = format!("127.0.0.1:{}", free_port());
    let mut node = superhero(
        &["hub", "--port", "0", "--store", &url, "--metrics", &metrics],
        &[(
            "SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET",
            "cli-test-secret-0123456789".to_owned(),
        )],
    );
    node.wait_for("hub started", 1, Duration::from_secs(60));
    assert!(
        !node.dump().contains("cli-test-secret"),
        "the secret is never logged"
    );
    node.wait_for("http listening", 1, Duration::from_secs(30));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let addr: std::net::SocketAddr = metrics.parse().unwrap();
    let scraped = runtime.block_on(get(addr, "/metrics"));
    assert_eq!(scraped.status, 200);
    assert!(
        scraped
            .text()
            .contains("eventflow_hub_connections{role=\"spoke\"} 0"),
        "{}",
        scraped.text()
    );
    let ready = runtime.block_on(get(addr, "/readyz"));
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json()["checks"]["eventflow/hub"], json!("ok"));
    node.signal(libc::SIGTERM);
    assert!(
        node.wait_exit(Duration::from_secs(30)).success(),
        "{}",
        node.dump()
    );
}
