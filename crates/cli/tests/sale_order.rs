//! The sale-order saga clustered: `superhero run authorization sale-order --workers 3`
//! beside a `superhero hub`, on each backend. 200 orders of the five reference kinds
//! (40 each) are placed at once; one worker is killed with SIGKILL while their sagas
//! run; the supervisor restarts it. Every order must end exactly as `sale-order.md`
//! says — every event as often as the reference says, the causal chains of each domain
//! in order, the composite log causal — and the stock must end consistent with the
//! orders that were paid.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::superhero;
use hyper::Method;
use sale_order::reference::Reference;
use serde_json::{Value, json};
use superhero_auth::signature::Algorithm;
use superhero_testkit::http::{Client, Proto};
use superhero_testkit::process::{field, number, send_signal};
use superhero_testkit::signed::{PASSWORD, SignedClient};
use superhero_testkit::{Backend, BinaryNode, ScratchDatabase, TempDir, eventually, free_port};

const WITHIN: Duration = Duration::from_secs(120);
const CAPES: u64 = 1_000;

/// The five reference orders of sale-order.md: what the test does for each, and the
/// composite log it must produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Delivered,
    OutOfStock,
    AreaNotServed,
    NeverPaid,
    FailedAndRepaid,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Delivered,
        Kind::OutOfStock,
        Kind::AreaNotServed,
        Kind::NeverPaid,
        Kind::FailedAndRepaid,
    ];

    fn order(self) -> Value {
        let (sku, quantity, area) = match self {
            Kind::OutOfStock => ("rare", 2, "north"),
            Kind::AreaNotServed => ("cape", 1, "west"),
            Kind::FailedAndRepaid => ("cape", 2, "north"),
            _ => ("cape", 1, "north"),
        };
        json!({"items": [{"sku": sku, "quantity": quantity}], "area": area})
    }

    fn reference(self) -> Vec<&'static str> {
        match self {
            Kind::Delivered => Reference::Delivered,
            Kind::OutOfStock => Reference::OutOfStock,
            Kind::AreaNotServed => Reference::AreaNotServed,
            Kind::NeverPaid => Reference::NeverPaid { reminders: 3 },
            Kind::FailedAndRepaid => Reference::FailedAndRepaid {
                repayment_failures: 1,
            },
        }
        .names()
    }
}

/// The hub and the three workers on one store.
struct Cluster {
    hub: BinaryNode,
    workers: BinaryNode,
    port: u16,
    _dir: TempDir,
}

async fn cluster(store: &ScratchDatabase, payment_window_ms: u64) -> Cluster {
    let dir = TempDir::new();
    let port = free_port();
    let config = json!({
        "core": {"log": {"level": "info"}},
        "eventflow": {
            "store": store.config(),
            "hub": {"internal_host": "127.0.0.1", "internal_port": 0, "sweep_ms": 250},
            "spoke": {"lease_ms": 2000},
        },
        "http": {"server": {"listen": format!("127.0.0.1:{port}")}},
        "sale-order": {
            "catalogue": {"cape": {"price": 4900, "stock": CAPES}, "rare": {"price": 100, "stock": 1}},
            "areas": ["north"],
            "payment_window_ms": payment_window_ms,
            "reminders": 3,
            "repayment_backoff_ms": 300,
            "repayment_failures": 1,
            "carriers": ["carrier"],
        },
    });
    let file = dir.write("cluster.json", &config.to_string());
    let file = file.display().to_string();
    let secret = [(
        "SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET",
        "a cluster secret for the test".to_owned(),
    )];
    let hub = superhero(&["hub", "--config", &file], &secret);
    hub.wait_for("started", 1, Duration::from_secs(60));
    let workers = superhero(
        &[
            "run",
            "authorization",
            "sale-order",
            "--config",
            &file,
            "--workers",
            "3",
        ],
        &secret,
    );
    workers.wait_for("worker ready", 3, Duration::from_secs(60));
    Cluster {
        hub,
        workers,
        port,
        _dir: dir,
    }
}

async fn sign_up(port: u16, name: &str) -> SignedClient {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut client = Client::connect(addr, &Proto::Http1).await;
    let user = json!({"name": name, "password": PASSWORD});
    let answer = client.post_json("/users", &user).await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    SignedClient::sign_in(client, name, PASSWORD, Algorithm::HmacSha256).await
}

/// Sends a signed request on a new connection (a worker may have died since the last).
async fn send(
    user: &mut SignedClient,
    port: u16,
    method: Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    user.client = Client::connect(addr, &Proto::Http1).await;
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let answer = user.send(method, path, &bytes).await;
    let json = if answer.text().is_empty() {
        Value::Null
    } else {
        answer.json()
    };
    (answer.status.as_u16(), json)
}

/// The order's composite log: (name, position, id, rid).
async fn composite(user: &mut SignedClient, port: u16, id: &str) -> Vec<Value> {
    let (status, body) = send(
        user,
        port,
        Method::GET,
        &format!("/orders/{id}/eventlog"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["events"].as_array().unwrap().clone()
}

fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn wait_for(user: &mut SignedClient, port: u16, id: &str, name: &str) {
    let what = format!("{name} for order {id}");
    let user = tokio::sync::Mutex::new(user);
    eventually(WITHIN, &what, || async {
        let mut user = user.lock().await;
        names(&composite(&mut user, port, id).await)
            .iter()
            .any(|n| n == name)
    })
    .await;
}

superhero_testkit::each_backend!(
    the_five_reference_orders_on_three_workers_come_out_exactly,
    two_hundred_orders_on_three_workers_survive_a_killed_worker_exactly
);

/// One cluster at a time: three at once would overload two cores and stretch every
/// window.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn the_five_reference_orders_on_three_workers_come_out_exactly(backend: Backend) {
    scenario(backend, 1, false).await;
}

async fn two_hundred_orders_on_three_workers_survive_a_killed_worker_exactly(backend: Backend) {
    scenario(backend, 40, true).await;
}

/// `per_kind` orders of each reference kind on three workers, one of them killed
/// mid-run when `kill`. Without a kill every domain's log must equal the reference
/// exactly; with one, notifications (parallel answers to different events) may come in
/// another order, never another number.
async fn scenario(backend: Backend, per_kind: usize, kill: bool) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let url = backend.required_url();
    let store = ScratchDatabase::create(url.as_deref(), "so_cluster")
        .await
        .unwrap();
    let mut cluster = cluster(&store, if kill { 5_000 } else { 1_500 }).await;
    let port = cluster.port;
    let mut alice = sign_up(port, "alice").await;
    let mut carrier = sign_up(port, "carrier").await;

    // 200 orders, 40 of each kind. Those to be paid are paid as soon as payment is
    // requested (well within the payment window, so none is reminded).
    let mut orders: Vec<(String, Kind)> = Vec::new();
    for i in 0..per_kind * Kind::ALL.len() {
        let kind = Kind::ALL[i % Kind::ALL.len()];
        let (status, body) = send(&mut alice, port, Method::POST, "/orders", kind.order()).await;
        assert_eq!(status, 202, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        if matches!(kind, Kind::Delivered | Kind::FailedAndRepaid) {
            wait_for(&mut alice, port, &id, "payment-requested").await;
            let amount = if kind == Kind::Delivered { 4900 } else { 9800 };
            let payment = json!({"amount": amount, "reference": id});
            let (status, body) = send(
                &mut alice,
                port,
                Method::POST,
                &format!("/orders/{id}/payments"),
                payment,
            )
            .await;
            assert_eq!(status, 202, "{body}");
        }
        orders.push((id, kind));
    }

    if kill {
        // Mid-flight (reminders and cancellations pending, shipments being scheduled,
        // notifications being sent): one worker dies without a chance to finish.
        // The live worker of slot 1 (a worker may have been restarted already).
        let started = cluster.workers.messages("worker started");
        let victim = started
            .iter()
            .rev()
            .find(|e| field(e, "worker").is_some_and(|w| w.starts_with("1.")))
            .and_then(|e| number(e, "pid"))
            .expect("worker 1's pid");
        let ready = cluster.workers.messages("worker ready").len();
        send_signal(victim as u32, libc::SIGKILL);
        // Restarted at once; ready once it reached the store and a hub, which the other
        // workers and the hub, busy with 200 sagas, can make take a while on two cores.
        cluster
            .workers
            .wait_for("worker ready", ready + 1, Duration::from_secs(90));
    }

    // The carrier delivers, or fails to.
    for (id, kind) in &orders {
        let status = match kind {
            Kind::Delivered => "delivered",
            Kind::FailedAndRepaid => "failed",
            _ => continue,
        };
        wait_for(&mut alice, port, id, "shipment-scheduled").await;
        let (code, body) = send(
            &mut carrier,
            port,
            Method::POST,
            &format!("/shipments/{id}/status"),
            json!({"status": status}),
        )
        .await;
        assert_eq!(code, 202, "{body}");
    }

    // Every order ends as its kind says: nothing lost, nothing doubled. The order,
    // payment and shipment logs are causal chains and must equal the reference in
    // order; notifications answer different events in parallel, so one whose handler
    // died with the worker comes later (after its lease) and only their count is exact.
    // The composite log is causal: each reply after the event it answers.
    for (id, kind) in &orders {
        let reference = kind.reference();
        wait_for(&mut alice, port, id, reference.last().unwrap()).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut by_kind: HashMap<Kind, usize> = HashMap::new();
    for (id, kind) in &orders {
        let events = composite(&mut alice, port, id).await;
        let reference = kind.reference();
        for domain in ["order", "payment", "shipment", "notification"] {
            let got: Vec<String> = events
                .iter()
                .filter(|e| e["domain"] == domain)
                .map(|e| e["name"].as_str().unwrap().to_owned())
                .collect();
            let mut want: Vec<&str> = reference
                .iter()
                .copied()
                .filter(|n| sale_order::saga::domain_of(n) == domain)
                .collect();
            let mut got = got;
            if kill && domain == "notification" {
                // A notification whose handler died with the killed worker is written after
                // its lease lapsed, behind later ones: the same notifications, another order.
                got.sort();
                want.sort();
            }
            assert_eq!(got, want, "the {domain} log of order {id} ({kind:?})");
        }
        let positions: HashMap<&str, u64> = events
            .iter()
            .map(|e| (e["id"].as_str().unwrap(), e["position"].as_u64().unwrap()))
            .collect();
        for event in &events {
            if let Some(cause) = event["rid"].as_str().and_then(|rid| positions.get(rid)) {
                assert!(
                    *cause < event["position"].as_u64().unwrap(),
                    "{event} after its cause"
                );
            }
        }
        *by_kind.entry(*kind).or_default() += 1;
    }
    assert!(by_kind.values().all(|n| *n == per_kind));

    // Stock: every paid order holds its capes; every canceled one gave them back.
    let (status, catalogue) = send(&mut alice, port, Method::GET, "/catalogue", Value::Null).await;
    assert_eq!(status, 200);
    let capes = catalogue["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["sku"] == "cape")
        .unwrap()["available"]
        .as_u64()
        .unwrap();
    let held = per_kind as u64 * (1 + 2);
    assert_eq!(capes, CAPES - held, "stock consistent with the paid orders");

    cluster.workers.signal(libc::SIGTERM);
    assert!(
        cluster.workers.wait_exit(Duration::from_secs(30)).success(),
        "{}",
        cluster.workers.dump()
    );
    cluster.hub.signal(libc::SIGTERM);
    cluster.hub.wait_exit(Duration::from_secs(30));
    let _ = store.remove().await;
}
