//! Eventflow inside superhero-core: the store, hub, spoke and consume services from
//! config, the consumer map binding event names to handler methods, and the embedded node.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use superhero_core::{BoxError, Config, Core, Registry, Service};
use superhero_eventflow::service::{self, Consumer, SpokeService, handler_not_found};
use superhero_eventflow::{Event, NewEvent};

/// A domain service whose handler methods are named after events.
#[derive(Default)]
struct Orders {
    calls: Mutex<Vec<String>>,
}

impl Service for Orders {}

#[superhero_core::async_trait]
impl Consumer for Orders {
    async fn consume(&self, method: &str, event: Event) -> Result<(), BoxError> {
        match method {
            "on_order_placed" | "on_order_paid" => {
                self.calls
                    .lock()
                    .unwrap()
                    .push(format!("{method} {}", event.pid));
                Ok(())
            }
            _ => Err(handler_not_found("order", method, &event)),
        }
    }
}

fn config(dir: &std::path::Path, extra: serde_json::Value) -> Config {
    let mut value = json!({
        "locator": {
            "eventflow/hub": true,
            "eventflow/spoke": true,
            "eventflow/consume": true,
            "order": true
        },
        "bootstrap": {
            "eventflow/hub": true,
            "eventflow/consume": "eventflow/spoke/consume"
        },
        "eventflow": {
            "store": {"url": format!("sqlite://{}/eventflow.db", dir.display())},
            "certificates": {"kdf": {"memory_kib": 64, "iterations": 1, "parallelism": 1}},
            "hub": {"internal_port": 0, "sweep_ms": 100, "heartbeat_ms": 200, "hub_ttl_ms": 2000},
            "spoke": {
                "hub_poll_ms": 100, "retry_min_ms": 50, "retry_max_ms": 100, "max_deliveries": 2,
                "consume": {"order": ["order-placed", "order-paid", "order-lost"]}
            }
        }
    });
    superhero_core::config::merge::merge(&mut value, extra);
    Config::builder()
        .add_value("test", value)
        .env_vars([(
            "SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET".to_owned(),
            "secret-from-the-environment-42".to_owned(),
        )])
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_from_config_runs_hub_spoke_and_the_consumer_map() {
    let dir = tempfile::tempdir().unwrap();
    let orders = Arc::new(Orders::default());
    let mut registry = Registry::new();
    service::register(&mut registry);
    registry
        .register_instance("order", orders.clone())
        .expose::<dyn Consumer>(|s| s);
    let running = Core::new(config(dir.path(), json!({})), registry)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{}", superhero_core::report(&e)));
    let spoke = running
        .locator()
        .locate::<SpokeService>(service::SPOKE)
        .unwrap()
        .spoke()
        .clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while spoke.connected_hubs().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the spoke connects");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    spoke.sync(Duration::from_secs(5)).await;
    spoke
        .publish(NewEvent::new("order", "o-1", "order-placed"))
        .await
        .unwrap();
    spoke
        .publish(NewEvent::new("order", "o-1", "order-paid"))
        .await
        .unwrap();
    let lost = spoke
        .publish(NewEvent::new("order", "o-2", "order-lost"))
        .await
        .unwrap();
    loop {
        let calls = orders.calls.lock().unwrap().clone();
        let parked = spoke
            .store()
            .publication(lost.id)
            .await
            .unwrap()
            .unwrap()
            .parked_at;
        if calls.len() == 2 && parked.is_some() {
            assert!(calls.contains(&"on_order_placed o-1".to_owned()));
            assert!(calls.contains(&"on_order_paid o-1".to_owned()));
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "handled: {calls:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let error = spoke
        .store()
        .publication(lost.id)
        .await
        .unwrap()
        .unwrap()
        .last_error
        .unwrap();
    assert!(error.contains("E_EVENTFLOW_CONSUMER_NO_HANDLER"), "{error}");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_stops_the_node_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut registry = Registry::new();
    service::register(&mut registry);
    let config = Config::builder()
        .add_value(
            "test",
            json!({
                "locator": {"eventflow/spoke": true},
                "eventflow": {"store": {"url": format!("sqlite://{}/x.db", dir.path().display())}}
            }),
        )
        .env_vars([])
        .build()
        .unwrap();
    let error = match Core::new(config, registry).start().await {
        Ok(_) => panic!("a spoke without a secret must not start"),
        Err(error) => superhero_core::report(&error),
    };
    assert!(
        error.contains("E_EVENTFLOW_CERTIFICATES_MISSING_CONFIGURATION"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_hub_and_spoke_start_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), json!({}));
    let node = service::start_embedded(&config).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while node.spoke.connected_hubs() != [node.hub.id().to_owned()] {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the spoke connects to its hub"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.spoke
        .publish(NewEvent::new("demo", "p-1", "hello").with_data(json!({"a": 1})))
        .await
        .unwrap();
    let event = node
        .spoke
        .wait("demo", "p-1", &["hello"], Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(event.data, json!({"a": 1}));
    node.shutdown().await;
}
