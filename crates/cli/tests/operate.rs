//! The operator's commands against a real store, as a user runs them: `superhero parked`
//! lists dead letters with filters, `superhero replay` replays them in pages up to a stop
//! point (or only says what it would do), records who did it, and each replayed event is
//! then delivered once by a real hub and spoke; `superhero status` shows the backlog.

use std::collections::HashMap;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use superhero_core::Config;
use superhero_eventflow::parked::{ADMIN_DOMAIN, REPLAYED};
use superhero_eventflow::{
    Appended, CatchUp, DeliveryStore, EventLog, NewEvent, ParkedQuery, SqlStore, Timestamp,
};
use superhero_testkit::eventflow::{Scratch, node_settings};
use superhero_testkit::{Backend, TempDir, eventually};

superhero_testkit::each_backend!(
    parked_replay_and_status_work_on_a_real_store,
    operator_commands_never_create_or_migrate_a_store,
);

const LEASE: Duration = Duration::from_secs(30);

/// Runs `superhero <args> --config <file>` off the runtime; whatever it answers.
async fn try_superhero(config: &std::path::Path, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_superhero"));
    command.args(args).arg("--config").arg(config);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// Runs `superhero <args> --config <file>`, which must succeed.
async fn superhero(config: &std::path::Path, args: &[&str]) -> Output {
    let output = try_superhero(config, args).await;
    assert!(
        output.status.success(),
        "superhero {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Publishes an event and parks it at its first failed delivery.
async fn park(store: &SqlStore, domain: &str, pid: &str, name: &str) -> Appended {
    let event = store
        .publish(NewEvent::new(domain, pid, name), "spoke-ops")
        .await
        .unwrap();
    let claim = store
        .claim_delivery(event.id, "spoke-ops", LEASE, 1)
        .await
        .unwrap()
        .expect("claim");
    store
        .fail_delivery(&claim, &format!("boom {pid}"), Timestamp::now(), 1)
        .await
        .unwrap();
    event
}

async fn parked_replay_and_status_work_on_a_real_store(backend: Backend) {
    let scratch = Scratch::create(backend, "ops").await;
    let dir = TempDir::new();
    let config = dir.write(
        "ops.json",
        &json!({"eventflow": {"store": scratch.store_config()}}).to_string(),
    );
    let store = SqlStore::open(&scratch.store_config()).await.unwrap();
    let mut orders = Vec::new();
    for i in 0..20 {
        orders.push(park(&store, "order", &format!("o-{i}"), "order-placed").await);
    }
    for i in 0..5 {
        park(&store, "payment", &format!("p-{i}"), "payment-failed").await;
    }

    // parked: filters, limit, the last error and the delivery count.
    let listed = stdout(
        &superhero(
            &config,
            &["parked", "--domain", "order", "--limit", "5", "--json"],
        )
        .await,
    );
    let lines: Vec<Value> = listed
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{listed}");
    for (line, event) in lines.iter().zip(&orders) {
        assert_eq!(line["event"]["id"], json!(event.id));
        assert_eq!(line["deliveries"], json!(1));
    }
    assert_eq!(lines[0]["last_error"], json!("boom o-0"));
    let parked_at = lines[0]["parked_at"].as_str().unwrap();
    assert!(
        parked_at.ends_with('Z') && parked_at.contains('T'),
        "RFC 3339: {parked_at}"
    );
    let table = stdout(&superhero(&config, &["parked"]).await);
    assert!(table.contains("25 parked events"), "{table}");
    assert!(table.contains("payment › p-4  payment-failed"), "{table}");

    // A dry run changes nothing and records nothing.
    let dry = superhero(&config, &["replay", "--dry-run", "--batch", "7"]).await;
    assert!(
        stdout(&dry).contains("dry run: 25 parked events selected in 4 pages; nothing changed"),
        "{}",
        stdout(&dry)
    );
    assert_eq!(
        store
            .parked(&ParkedQuery::after(0, 100))
            .await
            .unwrap()
            .len(),
        25
    );
    let admin = CatchUp::after(0, 100).domain(ADMIN_DOMAIN);
    assert!(store.read_from(&admin).await.unwrap().is_empty());

    // Replay the orders up to the 15th, 7 at a time.
    let stop = orders[14].position.to_string();
    let replay = superhero(
        &config,
        &[
            "replay",
            "--domain",
            "order",
            "--batch",
            "7",
            "--stop-at",
            &stop,
            "--by",
            "ops-test",
        ],
    )
    .await;
    assert!(
        stdout(&replay).contains("replayed 15 of 15 parked events in 3 pages"),
        "{}",
        stdout(&replay)
    );
    let progress = String::from_utf8_lossy(&replay.stderr);
    assert!(progress.contains("page 3: replayed 15 of 15"), "{progress}");
    let still: Vec<_> = store
        .parked(&ParkedQuery::after(0, 100))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.event.id)
        .collect();
    let expected: Vec<_> = orders[15..].iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(
        still.len(),
        10,
        "5 orders after the stop point and 5 payments"
    );
    assert_eq!(still[..5], expected[..], "the stop point is honoured");
    let records = store.read_from(&admin).await.unwrap();
    assert_eq!(records.len(), 3, "one record per page");
    let mut recorded = Vec::new();
    for record in &records {
        assert_eq!(record.name, REPLAYED);
        assert_eq!(record.data["by"], json!("ops-test"));
        assert_eq!(record.data["filter"]["domain"], json!("order"));
        recorded.extend(record.data["events"].as_array().unwrap().iter().cloned());
    }
    let replayed: Vec<Value> = orders[..15].iter().map(|e| json!(e.id)).collect();
    assert_eq!(recorded, replayed, "who replayed what, in order");

    // status: the replayed orders wait for a consumer, the rest are parked.
    let status: Value =
        serde_json::from_str(&stdout(&superhero(&config, &["status", "--json"]).await)).unwrap();
    let domains = status["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 2, "{status}");
    assert_eq!(domains[0]["domain"], json!("order"));
    assert_eq!(domains[0]["unrouted"], json!(15));
    assert_eq!(domains[0]["parked"], json!(5));
    assert_eq!(domains[1]["parked"], json!(5));
    assert_eq!(status["hubs"], json!([]));

    // A hub and a consuming spoke deliver each replayed event once, and no other.
    let node_config = Config::builder()
        .add_value(
            "test",
            json!({"eventflow": node_settings(&scratch.store_config())}),
        )
        .build()
        .unwrap();
    let node = superhero_eventflow::service::start_embedded(&node_config)
        .await
        .unwrap();
    let handled: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let seen = handled.clone();
    node.spoke
        .consume("order", "order-placed", move |event| {
            *seen
                .lock()
                .unwrap()
                .entry(event.id.to_string())
                .or_default() += 1;
            async { Ok(()) }
        })
        .unwrap();
    eventually(
        Duration::from_secs(60),
        "the replayed events are handled",
        || {
            let handled = handled.clone();
            async move { handled.lock().unwrap().len() == 15 }
        },
    )
    .await;
    let spoke = node.spoke.id().to_owned();
    let mut human = String::new();
    for _ in 0..50 {
        human = stdout(&superhero(&config, &["status"]).await);
        if human.contains(&format!("spokes 1: {spoke}")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(human.contains("hubs online: 1"), "{human}");
    assert!(
        human.contains(&format!("spokes 1: {spoke}")),
        "the hub's heartbeat names its spoke: {human}"
    );
    // Give a duplicate time to show up, then check.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let handled = handled.lock().unwrap().clone();
    for event in &orders[..15] {
        assert_eq!(
            handled.get(&event.id.to_string()),
            Some(&1),
            "delivered once"
        );
    }
    assert_eq!(handled.len(), 15, "nothing parked was delivered");
    node.shutdown().await;
    store.close().await;
}

/// A store that does not exist (no SQLite file; a PostgreSQL schema or MySQL database
/// without eventflow's tables) is an error for every operator command, and stays as it was.
async fn operator_commands_never_create_or_migrate_a_store(backend: Backend) {
    let scratch = Scratch::create(backend, "ops_none").await;
    let dir = TempDir::new();
    let mut store = scratch.store_config();
    let missing = dir.path().join("no-such-folder").join("eventflow.db");
    if backend == Backend::Sqlite {
        store.url = format!("sqlite://{}", missing.display());
    }
    let config = dir.write(
        "ops.json",
        &json!({"eventflow": {"store": store}}).to_string(),
    );
    let expected = if backend == Backend::Sqlite {
        "E_EVENTFLOW_STORE_CONFIG"
    } else {
        "E_EVENTFLOW_STORE_SCHEMA"
    };
    for args in [
        &["status"][..],
        &["parked"],
        &["replay", "--dry-run"],
        &["replay"],
        &["eventlog", "order", "o-1"],
    ] {
        let output = try_superhero(&config, args).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(1),
            "superhero {args:?}: {stderr}"
        );
        assert!(stderr.contains(expected), "superhero {args:?}: {stderr}");
    }
    if backend == Backend::Sqlite {
        assert!(!missing.parent().unwrap().exists(), "no folder was created");
    } else {
        // Still no eventflow schema: a node opening it now finds it new.
        let opened = SqlStore::open_existing(&store).await.unwrap_err();
        assert_eq!(opened.code(), "E_EVENTFLOW_STORE_SCHEMA");
    }
}
