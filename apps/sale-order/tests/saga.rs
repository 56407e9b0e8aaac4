//! The saga end to end: a real node (HTTP, hub, spoke, the four process managers) on
//! each backend; customers and the carrier sign their requests with sessions of the
//! authorization app. The five reference orders of `sale-order.md` are compared per
//! domain exactly, and causally across domains.

use std::collections::HashMap;
use std::time::Duration;

use http::Method;
use sale_order::reference::Reference;
use serde_json::{Value, json};
use superhero_auth::signature::{Algorithm, SigningKey};
use superhero_eventflow::Event;
use superhero_testkit::http::Proto;
use superhero_testkit::signed::SignedClient;
use superhero_testkit::{Backend, TestNode, eventually};

const WITHIN: Duration = Duration::from_secs(30);

/// The carrier's key (32 bytes of `k`), as configured: base64.
const CARRIER_SECRET_BASE64: &str = "a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=";
const CARRIER_SECRET: &[u8; 32] = b"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";

/// The carrier: requests signed with its configured key, keyid `carrier`.
async fn carrier(node: &TestNode) -> SignedClient {
    SignedClient::with_key(
        node.client(&Proto::Http1).await,
        "carrier",
        SigningKey::hmac(CARRIER_SECRET),
    )
}

/// Windows of 300 ms: an unpaid order is reminded three times and canceled after 1.2 s.
async fn node(backend: Backend) -> TestNode {
    TestNode::builder()
        .app(authorization::APP)
        .app(sale_order::APP)
        .config(json!({"sale-order": {
            "catalogue": {"cape": {"price": 4900, "stock": 10}, "last": {"price": 100, "stock": 1}},
            "areas": ["north"],
            "payment_window_ms": 300,
            "reminders": 3,
            "repayment_backoff_ms": 100,
            "repayment_failures": 1,
            "carriers": ["courier"],
        }, "auth": {"keys": {"carrier": {"hmac_sha256": CARRIER_SECRET_BASE64}}}}))
        .eventflow(backend)
        .start()
        .await
}

async fn user(node: &TestNode, name: &str) -> SignedClient {
    SignedClient::sign_up(node, &Proto::Http1, name, Algorithm::HmacSha256).await
}

async fn place(customer: &mut SignedClient, sku: &str, quantity: u64, area: &str) -> String {
    let body = json!({"items": [{"sku": sku, "quantity": quantity}], "area": area}).to_string();
    let answer = customer
        .send(Method::POST, "/orders", body.as_bytes())
        .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    answer.json()["id"].as_str().unwrap().to_owned()
}

async fn pay(customer: &mut SignedClient, id: &str, amount: u64) {
    let body = json!({"amount": amount, "reference": id}).to_string();
    let answer = customer
        .send(
            Method::POST,
            &format!("/orders/{id}/payments"),
            body.as_bytes(),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
}

async fn carrier_reports(carrier: &mut SignedClient, id: &str, status: &str) {
    let body = json!({"status": status}).to_string();
    let answer = carrier
        .send(
            Method::POST,
            &format!("/shipments/{id}/status"),
            body.as_bytes(),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
}

/// The order's events of `domain`, by name.
async fn log(node: &TestNode, domain: &str, id: &str) -> Vec<String> {
    let events = node.spoke().store().read_stream(domain, id).await.unwrap();
    events.into_iter().map(|e| e.name).collect()
}

/// Waits until the order's log of `domain` holds `name` `times` times.
async fn reached(node: &TestNode, domain: &str, id: &str, name: &str, times: usize) {
    let what = format!("{domain} › {name} ×{times} for {id}");
    eventually(WITHIN, &what, || async {
        log(node, domain, id)
            .await
            .iter()
            .filter(|n| *n == name)
            .count()
            >= times
    })
    .await;
}

/// Compares each domain's log exactly with `reference`, and checks the composite log
/// causally: every event that answers another comes after it.
async fn assert_saga(node: &TestNode, id: &str, reference: &[&str]) {
    // Settled: nothing more arrives after the last expected event.
    let last = reference.last().unwrap();
    let times = reference.iter().filter(|n| *n == last).count();
    reached(node, sale_order::saga::domain_of(last), id, last, times).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for domain in sale_order::saga::DOMAINS {
        let expected: Vec<&str> = reference
            .iter()
            .copied()
            .filter(|n| sale_order::saga::domain_of(n) == domain)
            .collect();
        assert_eq!(
            log(node, domain, id).await,
            expected,
            "the {domain} log of {id}"
        );
    }
    let spoke = node.spoke();
    let store = spoke.store();
    let composite = sale_order::saga::composite(store, id).await.unwrap();
    assert_eq!(composite.len(), reference.len());
    let positions: HashMap<uuid::Uuid, u64> =
        composite.iter().map(|e| (e.id, e.position)).collect();
    for event in &composite {
        if let Some(cause) = event.rid {
            let cause_position = match positions.get(&cause) {
                Some(position) => *position,
                None => store.read_event(cause).await.unwrap().position, // a timer
            };
            assert!(
                cause_position < event.position,
                "{} after its cause",
                event.name
            );
        }
    }
}

superhero_testkit::each_backend!(
    the_five_reference_orders_come_out_as_the_saga_says,
    the_last_unit_goes_to_exactly_one_of_two_orders_and_cancel_releases_it,
    an_invalid_payment_alerts_security_and_a_valid_one_still_confirms,
    orders_are_shown_only_to_their_customer_with_their_state,
    concurrent_payments_and_carrier_reports_are_decided_once,
    an_orders_payment_phase_closes_once_as_paid_or_canceled,
);

async fn an_orders_payment_phase_closes_once_as_paid_or_canceled(backend: Backend) {
    use sale_order::order::stock::{CANCELED, PAID, STOCK, Stock};
    let node = node(backend).await;
    let stock = node.locator().locate::<Stock>(STOCK).unwrap();
    // A payment and the deadline at once: exactly one of them closes the order.
    for round in 0..5 {
        let order = format!("race-{round}");
        let (paid, canceled) = tokio::join!(
            stock.close(&order, PAID, "payment-event"),
            stock.close(&order, CANCELED, "deadline-event"),
        );
        assert_ne!(
            paid.unwrap(),
            canceled.unwrap(),
            "round {round}: one winner"
        );
    }
    assert!(stock.close("o-1", PAID, "e-1").await.unwrap());
    assert!(
        stock.close("o-1", PAID, "e-1").await.unwrap(),
        "the same event again: its decision"
    );
    assert!(
        !stock.close("o-1", PAID, "e-2").await.unwrap(),
        "another payment: already paid"
    );
    assert!(
        !stock.close("o-1", CANCELED, "e-3").await.unwrap(),
        "paid: no cancel"
    );
}

async fn concurrent_payments_and_carrier_reports_are_decided_once(backend: Backend) {
    let node = node(backend).await;
    let mut alice = user(&node, "alice").await;
    let id = place(&mut alice, "cape", 1, "north").await;
    reached(&node, "payment", &id, "payment-requested", 1).await;
    // Six correct payments at once, each on its own connection.
    let mut payers = Vec::new();
    for _ in 0..6 {
        let client = node.client(&Proto::Http1).await;
        let session = alice.session.clone();
        payers.push(SignedClient::with_key(
            client,
            &session.session_id,
            SigningKey::hmac(&session.session_key),
        ));
    }
    let payments = payers.iter_mut().map(|payer| pay(payer, &id, 4900));
    futures_util::future::join_all(payments).await;
    // The one confirmation and the five refusals are published by concurrent handlers,
    // in any order: wait for all six, then let a duplicate show itself.
    reached(&node, "payment", &id, "invalid-payment-confirmation", 5).await;
    reached(&node, "payment", &id, "payment-confirmed", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let payments = log(&node, "payment", &id).await;
    assert_eq!(
        payments
            .iter()
            .filter(|n| *n == "payment-confirmed")
            .count(),
        1,
        "{payments:?}"
    );
    reached(&node, "shipment", &id, "shipment-scheduled", 1).await;

    // Six "delivered" at once: one is recorded, the others find it delivered.
    let mut carriers = Vec::new();
    for _ in 0..6 {
        carriers.push(carrier(&node).await);
    }
    let body = json!({"status": "delivered"}).to_string();
    let path = format!("/shipments/{id}/status");
    let reports = carriers
        .iter_mut()
        .map(|c| c.send(Method::POST, &path, body.as_bytes()));
    let statuses: Vec<u16> = futures_util::future::join_all(reports)
        .await
        .iter()
        .map(|r| r.status.as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 202).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        5,
        "{statuses:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let shipments = log(&node, "shipment", &id).await;
    assert_eq!(shipments, ["shipment-scheduled", "shipment-delivered"]);
}

async fn the_five_reference_orders_come_out_as_the_saga_says(backend: Backend) {
    let node = node(backend).await;
    let mut alice = user(&node, "alice").await;
    let mut carrier = carrier(&node).await;

    // 1. In stock, area served, paid validly, delivered.
    let one = place(&mut alice, "cape", 1, "north").await;
    // 2. Out of stock.
    let two = place(&mut alice, "last", 2, "north").await;
    // 3. In stock, area not served.
    let three = place(&mut alice, "cape", 1, "west").await;
    // 4. Never paid.
    let four = place(&mut alice, "cape", 1, "north").await;
    // 5. Paid, shipment failed, the first repayment fails.
    let five = place(&mut alice, "cape", 2, "north").await;

    reached(&node, "payment", &one, "payment-requested", 1).await;
    pay(&mut alice, &one, 4900).await;
    reached(&node, "shipment", &one, "shipment-scheduled", 1).await;
    carrier_reports(&mut carrier, &one, "delivered").await;

    reached(&node, "payment", &five, "payment-requested", 1).await;
    pay(&mut alice, &five, 9800).await;
    reached(&node, "shipment", &five, "shipment-scheduled", 1).await;
    carrier_reports(&mut carrier, &five, "failed").await;

    for (id, reference) in [&one, &two, &three, &four, &five]
        .into_iter()
        .zip(Reference::ALL)
    {
        assert_saga(&node, id, &reference.names()).await;
    }

    // Canceled orders gave their stock back: 10 − order 1 − order 5 (two) = 7.
    let stock = node
        .locator()
        .locate::<sale_order::order::stock::Stock>(sale_order::order::stock::STOCK)
        .unwrap();
    assert_eq!(stock.available("cape").await.unwrap(), Some(7));
}

async fn the_last_unit_goes_to_exactly_one_of_two_orders_and_cancel_releases_it(backend: Backend) {
    let node = node(backend).await;
    let mut alice = user(&node, "alice").await;
    let mut bob = user(&node, "bob").await;
    // Both race for the last unit; the winner's area is not served, so it is canceled
    // too, and its unit comes back.
    let (a, b) = tokio::join!(
        place(&mut alice, "last", 1, "west"),
        place(&mut bob, "last", 1, "west")
    );
    for id in [&a, &b] {
        reached(
            &node,
            "notification",
            id,
            "notified-customer-of-order-canceled",
            1,
        )
        .await;
    }
    let confirmed: Vec<bool> = [
        log(&node, "order", &a)
            .await
            .contains(&"confirmed-product-availability".to_owned()),
        log(&node, "order", &b)
            .await
            .contains(&"confirmed-product-availability".to_owned()),
    ]
    .to_vec();
    assert_eq!(
        confirmed.iter().filter(|c| **c).count(),
        1,
        "exactly one got the unit"
    );
    let stock = node
        .locator()
        .locate::<sale_order::order::stock::Stock>(sale_order::order::stock::STOCK)
        .unwrap();
    assert_eq!(
        stock.available("last").await.unwrap(),
        Some(1),
        "the canceled order released it"
    );
}

async fn an_invalid_payment_alerts_security_and_a_valid_one_still_confirms(backend: Backend) {
    let node = node(backend).await;
    let mut alice = user(&node, "alice").await;
    let id = place(&mut alice, "cape", 1, "north").await;
    reached(&node, "payment", &id, "payment-requested", 1).await;
    pay(&mut alice, &id, 1).await;
    reached(
        &node,
        "notification",
        &id,
        "notified-security-of-invalid-payment-confirmation",
        1,
    )
    .await;
    pay(&mut alice, &id, 4900).await;
    reached(&node, "shipment", &id, "shipment-scheduled", 1).await;
    let payments = log(&node, "payment", &id).await;
    assert_eq!(
        payments[..5],
        [
            "payment-requested",
            "payment-received",
            "invalid-payment-confirmation",
            "payment-received",
            "payment-confirmed"
        ]
    );
}

async fn orders_are_shown_only_to_their_customer_with_their_state(backend: Backend) {
    let node = node(backend).await;
    let mut alice = user(&node, "alice").await;
    let mut bob = user(&node, "bob").await;
    let mut carrier = carrier(&node).await;
    let mut courier = user(&node, "courier").await;
    let id = place(&mut alice, "cape", 2, "north").await;
    reached(&node, "payment", &id, "payment-requested", 1).await;
    let shown = alice.send(Method::GET, &format!("/orders/{id}"), b"").await;
    assert_eq!(shown.status, 200, "{}", shown.text());
    let shown = shown.json();
    assert_eq!(shown["total"], 9800);
    assert_eq!(shown["status"], "awaiting-payment");
    assert_eq!(shown["items"], json!([{"sku": "cape", "quantity": 2}]));
    let log = alice
        .send(Method::GET, &format!("/orders/{id}/eventlog"), b"")
        .await;
    let events: Vec<Event> = serde_json::from_value(log.json()["events"].clone()).unwrap();
    assert_eq!(events[0].name, "order-placed");
    assert!(events.windows(2).all(|w| w[0].position < w[1].position));

    let other = bob.send(Method::GET, &format!("/orders/{id}"), b"").await;
    assert_eq!(other.status, 404);
    assert_eq!(other.json()["code"], "E_SALE_ORDER_NOT_FOUND");
    let not_carrier = json!({"status": "delivered"}).to_string();
    let refused = bob
        .send(
            Method::POST,
            &format!("/shipments/{id}/status"),
            not_carrier.as_bytes(),
        )
        .await;
    assert_eq!(refused.status, 403);
    let early = carrier
        .send(
            Method::POST,
            &format!("/shipments/{id}/status"),
            not_carrier.as_bytes(),
        )
        .await;
    assert_eq!(early.status, 409, "not scheduled yet: {}", early.text());
    assert_eq!(early.json()["code"], "E_SALE_ORDER_SHIPMENT_STATE");
    // A user named in `carriers` may report too; a key nobody configured may not.
    let by_courier = courier
        .send(
            Method::POST,
            &format!("/shipments/{id}/status"),
            not_carrier.as_bytes(),
        )
        .await;
    assert_eq!(
        by_courier.status,
        409,
        "a carrier, but not scheduled yet: {}",
        by_courier.text()
    );
    let mut stranger = SignedClient::with_key(
        node.client(&Proto::Http1).await,
        "carrier",
        SigningKey::hmac(&[7; 32]),
    );
    let forged = stranger
        .send(
            Method::POST,
            &format!("/shipments/{id}/status"),
            not_carrier.as_bytes(),
        )
        .await;
    assert_eq!(forged.status, 401, "{}", forged.text());
    let bad = alice
        .send(
            Method::POST,
            "/orders",
            br#"{"items": [], "area": "north"}"#,
        )
        .await;
    assert_eq!(bad.status, 400);
    let _: Value = bad.json();
}
