//! The soak's sale orders: a customer places orders at a fixed rate through the
//! sale-order workers' HTTP API (signed requests, RFC 9421), the five reference kinds of
//! `../shared/spec/sale-order.md` in turn, pays those that are to be paid once payment is
//! requested, and a carrier reports their shipments delivered or failed, while the
//! faults go on. Each acknowledged order is written down with the reference log it must
//! end with ([`super::sagas`] checks it).
//!
//! A call that fails is retried only where a retry cannot double anything: before
//! paying again or reporting again, the driver reads the order's log in the store, and
//! a payment or report that landed despite the failure is not sent twice. An order whose
//! `POST /orders` failed is not acknowledged (counted; its saga runs unpaid). A payment
//! that cannot be made within half the payment window (the API or the store away all
//! that time) is given up: that order must then end as never paid. (A payment call that
//! was sent in time but reached the log after the window, behind a reminder, is the
//! saga's business: [`super::sagas`] expects that reminder.)

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use sale_order::reference::Reference;
use serde_json::{Value, json};
use superhero_auth::signature::Signer;
use superhero_core::CancellationToken;
use superhero_eventflow::{Event, EventStore};

use super::now_ms;
use crate::bench::load::{self, Target};

/// Orders whose payment or shipment is still being driven, at most; beyond that an
/// order is skipped (counted).
const IN_FLIGHT: usize = 256;

/// How long one HTTP call may take: longer than any fault lasts, so that a call is not
/// given up while the server may still complete it.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// How often the driver reads an order's log while it waits for a step.
const POLL: Duration = Duration::from_millis(250);

/// An order the API acknowledged.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The order id.
    pub id: String,
    /// The kind placed.
    pub kind: Reference,
    /// The log it must end with: its kind's, or never-paid when the driver gave up
    /// paying it.
    pub expected: Reference,
}

/// What the orders' driver needs.
pub struct Plan {
    /// The workers' HTTP address.
    pub addr: SocketAddr,
    /// The customer's session.
    pub customer: Signer,
    /// The carrier's session.
    pub carrier: Signer,
    /// The store, to read orders' logs.
    pub store: Arc<dyn EventStore>,
    /// Orders placed per second.
    pub rate: f64,
    /// The payment window, ms: payments are tried for half of it.
    pub payment_window_ms: u64,
    /// Reminders before an unpaid order is canceled.
    pub reminders: u32,
    /// Repayments that fail before one succeeds.
    pub repayment_failures: u32,
}

/// What the orders' driver did.
#[derive(Default)]
pub struct Orders {
    placed: Mutex<Vec<Placed>>,
    refused: AtomicU64,
    skipped: AtomicU64,
    retried: AtomicU64,
}

impl Orders {
    /// Every acknowledged order, with the log it must end with.
    pub fn placed(&self) -> Vec<Placed> {
        self.placed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `POST /orders` calls that failed (not acknowledged).
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Orders not placed because [`IN_FLIGHT`] were still being driven.
    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::Relaxed)
    }

    /// Payments and shipment reports sent again after a failed call.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::Relaxed)
    }

    fn expect(&self, id: &str, expected: Reference) {
        let mut placed = self.placed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(order) = placed.iter_mut().find(|o| o.id == id) {
            order.expected = expected;
        }
    }
}

/// Places orders until `stop`, then goes on driving those placed (paying, reporting)
/// until the task is dropped.
pub async fn run(plan: Arc<Plan>, stop: CancellationToken, orders: Arc<Orders>) {
    let kinds = [
        Reference::Delivered,
        Reference::OutOfStock,
        Reference::AreaNotServed,
        Reference::NeverPaid {
            reminders: plan.reminders,
        },
        Reference::FailedAndRepaid {
            repayment_failures: plan.repayment_failures,
        },
    ];
    let mut tasks = tokio::task::JoinSet::new();
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / plan.rate));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next = 0;
    while !stop.is_cancelled() {
        tokio::select! {
            _ = every.tick() => {}
            () = stop.cancelled() => break,
        }
        while tasks.try_join_next().is_some() {}
        if tasks.len() >= IN_FLIGHT {
            orders.skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let kind = kinds[next % kinds.len()];
        next += 1;
        tasks.spawn(drive(plan.clone(), orders.clone(), kind));
    }
    while tasks.join_next().await.is_some() {}
}

/// One order, from its placing to the carrier's report.
async fn drive(plan: Arc<Plan>, orders: Arc<Orders>, kind: Reference) {
    let (sku, quantity, area) = match kind {
        Reference::OutOfStock => ("rare", 2, "north"),
        Reference::AreaNotServed => ("cape", 1, "west"),
        Reference::FailedAndRepaid { .. } => ("cape", 2, "north"),
        _ => ("cape", 1, "north"),
    };
    let order = json!({"items": [{"sku": sku, "quantity": quantity}], "area": area});
    let answer = match call(&plan, &plan.customer, Method::POST, "/orders", &order).await {
        Ok((202, answer)) => answer,
        _ => {
            orders.refused.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let (Some(id), Some(total)) = (answer["id"].as_str(), answer["total"].as_u64()) else {
        orders.refused.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let id = id.to_owned();
    orders
        .placed
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(Placed {
            id: id.clone(),
            kind,
            expected: kind,
        });
    let status = match kind {
        Reference::Delivered => "delivered",
        Reference::FailedAndRepaid { .. } => "failed",
        _ => return,
    };

    // Pay once payment is requested, within half the window.
    let requested = until_logged(&plan, "payment", &id, &["payment-requested"]).await;
    let pay_by =
        u64::try_from(requested.timestamp.as_millis()).unwrap_or(0) + plan.payment_window_ms / 2;
    let payment = json!({"amount": total, "reference": id});
    let path = format!("/orders/{id}/payments");
    loop {
        if now_ms() > pay_by {
            orders.expect(
                &id,
                Reference::NeverPaid {
                    reminders: plan.reminders,
                },
            );
            return;
        }
        if matches!(
            call(&plan, &plan.customer, Method::POST, &path, &payment).await,
            Ok((202, _))
        ) {
            break;
        }
        tokio::time::sleep(POLL).await;
        if logged(&plan, "payment", &id, &["payment-received"])
            .await
            .is_some()
        {
            break;
        }
        orders.retried.fetch_add(1, Ordering::Relaxed);
    }

    // The carrier reports once the shipment is scheduled.
    until_logged(&plan, "shipment", &id, &["shipment-scheduled"]).await;
    let report = json!({"status": status});
    let path = format!("/shipments/{id}/status");
    let finished = ["shipment-delivered", "shipment-failed"];
    loop {
        if matches!(
            call(&plan, &plan.carrier, Method::POST, &path, &report).await,
            Ok((202, _))
        ) {
            return;
        }
        tokio::time::sleep(POLL).await;
        if logged(&plan, "shipment", &id, &finished).await.is_some() {
            return;
        }
        orders.retried.fetch_add(1, Ordering::Relaxed);
    }
}

/// Waits until the order's `domain` log holds one of `names` (reading through faults).
async fn until_logged(plan: &Plan, domain: &str, id: &str, names: &[&str]) -> Event {
    loop {
        if let Some(event) = logged(plan, domain, id, names).await {
            return event;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The first event of the order's `domain` log named one of `names` (`None` also when
/// the store cannot be read now).
async fn logged(plan: &Plan, domain: &str, id: &str, names: &[&str]) -> Option<Event> {
    let log = plan.store.read_stream(domain, id).await.ok()?;
    log.into_iter().find(|e| names.contains(&e.name.as_str()))
}

/// One signed call on a new connection (a worker may have died since the last): the
/// status and the JSON answer.
async fn call(
    plan: &Plan,
    signer: &Signer,
    method: Method,
    path: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let bytes = Bytes::from(body.to_string());
    let target = Target::signed(plan.addr, signer, method, path, bytes)?;
    let (status, body) = tokio::time::timeout(CALL_TIMEOUT, load::once(&target))
        .await
        .map_err(|_| format!("no answer within {CALL_TIMEOUT:?}"))??;
    Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
}
