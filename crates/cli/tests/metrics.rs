//! `GET /metrics` of a demo node, read with an independent Prometheus text-format parser
//! (`prometheus-parse`): HTTP requests counted by route, method and status, eventflow
//! events published and handled counted by domain and name, the publish→handled
//! histogram, and the gauges collected at scrape, each moving by exactly what the test did.
//! The node is the real binary, so no other test shares its metrics.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{demo, local};
use http::Method;
use prometheus_parse::{Scrape, Value};
use serde_json::json;
use superhero_auth::signature::Algorithm;
use superhero_testkit::http::{Client, Proto, get};
use superhero_testkit::signed::SignedClient;
use superhero_testkit::{TempDir, eventually};

/// `(metric, sorted labels)` → value; a histogram as its `_count`.
type Samples = HashMap<(String, Vec<(String, String)>), f64>;

async fn scrape(port: u16) -> Samples {
    let reply = get(local(port), "/metrics").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = reply.text();
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    let scrape = Scrape::parse(lines).expect("valid Prometheus text");
    let mut samples = Samples::new();
    for sample in scrape.samples {
        let mut labels: Vec<(String, String)> = sample
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        let value = match sample.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |bucket| bucket.count),
            Value::Summary(_) => continue,
        };
        samples.insert((sample.metric, labels), value);
    }
    samples
}

fn value(samples: &Samples, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    labels.sort();
    samples
        .get(&(metric.to_owned(), labels))
        .copied()
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_by_exactly_the_requests_and_events_made() {
    let dir = TempDir::new();
    let (mut node, port) = demo(dir.path());
    eventually(Duration::from_secs(30), "the demo is ready", || async {
        get(local(port), "/readyz").await.status == 200
    })
    .await;

    let before = scrape(port).await;
    for _ in 0..7 {
        assert_eq!(get(local(port), "/ping").await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(get(local(port), "/no-such-page").await.status, 404);
    }
    let mut client = Client::connect(local(port), &Proto::Http1).await;
    let user = json!({"name": "metrics-alice", "password": "a long password for metrics"});
    assert_eq!(client.post_json("/users", &user).await.status, 201);
    let mut alice = SignedClient::sign_in(
        client,
        "metrics-alice",
        "a long password for metrics",
        Algorithm::HmacSha256,
    )
    .await;
    for i in 0..3 {
        let post = json!({"title": format!("Metrics {i}"), "body": "counted"});
        let reply = alice
            .send(Method::POST, "/posts", post.to_string().as_bytes())
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text());
    }

    let requested = [("domain", "post"), ("name", "post-create-requested")];
    let created = [("domain", "post"), ("name", "post-created")];
    // The validator's and the read model's successes are recorded after the 201.
    let mut after = scrape(port).await;
    for _ in 0..100 {
        let handled = value(&after, "eventflow_succeeded_total", &created)
            - value(&before, "eventflow_succeeded_total", &created);
        if handled >= 3.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = scrape(port).await;
    }
    let moved = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };

    let ping = [("route", "GET /ping"), ("method", "GET"), ("status", "200")];
    assert_eq!(moved("http_server_requests_total", &ping), 7.0);
    assert_eq!(
        moved("http_server_request_duration_seconds", &ping),
        7.0,
        "histogram count"
    );
    let unmatched = [("route", "(none)"), ("method", "GET"), ("status", "404")];
    assert_eq!(moved("http_server_requests_total", &unmatched), 2.0);
    let posts = [
        ("route", "POST /posts"),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert_eq!(moved("http_server_requests_total", &posts), 3.0);

    for labels in [&requested, &created] {
        assert_eq!(
            moved("eventflow_published_total", labels),
            3.0,
            "{labels:?}"
        );
        assert_eq!(
            moved("eventflow_delivered_total", labels),
            3.0,
            "{labels:?}"
        );
        assert_eq!(
            moved("eventflow_succeeded_total", labels),
            3.0,
            "{labels:?}"
        );
        assert_eq!(moved("eventflow_failed_total", labels), 0.0, "{labels:?}");
        assert_eq!(
            moved("eventflow_redelivered_total", labels),
            0.0,
            "{labels:?}"
        );
        assert_eq!(
            moved("eventflow_publish_to_handled_seconds", labels),
            3.0,
            "{labels:?}"
        );
    }
    assert_eq!(value(&after, "eventflow_spoke_hubs_connected", &[]), 1.0);
    assert_eq!(
        value(&after, "eventflow_hub_connections", &[("role", "spoke")]),
        1.0
    );
    assert!(value(&after, "eventflow_store_pool_max_connections", &[]) >= 1.0);

    node.signal(libc::SIGTERM);
    assert!(node.wait_exit(Duration::from_secs(30)).success());
}
