//! The soak's verdict on sale orders: each acknowledged order's composite log (read from
//! the store) against the reference log of `../shared/spec/sale-order.md` that the
//! driver's actions call for ([`sale_order::reference::Reference`]).
//!
//! - the order, payment and shipment logs are causal chains: each must equal the
//!   reference's events of that domain, in order;
//! - notifications answer different events in parallel (one whose handler died with a
//!   killed worker is written after its lease, behind later ones): the same
//!   notifications, in any order;
//! - the composite log is causal: every event after the event it answers (`rid`).
//!
//! Nothing more and nothing less than the reference: a doubled event or a missing one
//! fails the order. One departure is the saga's own: a payment that reaches the log only
//! after a payment window elapsed (the driver pays within half the window, but a fault
//! can hold its call up) rightly comes after a reminder. The reminders logged before the
//! payment are then part of the expected log (payment chain `payment-requested`,
//! `payment-request-reminded` × r, `payment-received`, …, and r reminder notifications);
//! a reminder logged after the payment is still a failure.

use std::collections::HashMap;
use std::sync::Arc;

use sale_order::reference::Reference;
use sale_order::saga::domain_of;
use superhero_eventflow::{Event, EventStore};

use super::orders::{Orders, Placed};
use super::report::listed;
use crate::error::{CliError, CliResult};

/// The domains of an order's composite log.
const DOMAINS: [&str; 4] = ["order", "payment", "shipment", "notification"];

/// Every acknowledged order's log, checked.
pub struct Sagas {
    /// Orders by the kind placed: (placed, ended as their reference says).
    pub by_kind: Vec<(Reference, usize, usize)>,
    /// Orders that must end as never paid because the driver could not pay in time.
    pub unpaid_expected: usize,
    /// Paid orders whose payment reached the log after a reminder.
    pub paid_after_reminder: usize,
    /// Orders whose log is not their reference's: (order id, expected, what differs).
    pub wrong: Vec<(String, Reference, String)>,
    /// The self-test on this run's orders: a correct log, tampered with, must fail.
    pub self_test: Result<(), String>,
    /// A correct order's log, for the self-test.
    sample: Option<(Reference, Vec<Event>)>,
}

impl Sagas {
    /// Reads and checks the log of every order in `placed`.
    pub async fn check(placed: &[Placed], store: &Arc<dyn EventStore>) -> CliResult<Sagas> {
        let mut sagas = Sagas {
            by_kind: Vec::new(),
            unpaid_expected: 0,
            paid_after_reminder: 0,
            wrong: Vec::new(),
            self_test: Ok(()),
            sample: None,
        };
        for order in placed {
            let events = sale_order::saga::composite(store, &order.id)
                .await
                .map_err(|e| CliError::Bench(format!("reading order {}: {e}", order.id)))?;
            let verdict = check(order.expected, &events);
            if order.expected != order.kind {
                sagas.unpaid_expected += 1;
            } else if reminded_before_payment(&events) > 0 {
                sagas.paid_after_reminder += 1;
            }
            let at = match sagas.by_kind.iter().position(|(k, ..)| *k == order.kind) {
                Some(at) => at,
                None => {
                    sagas.by_kind.push((order.kind, 0, 0));
                    sagas.by_kind.len() - 1
                }
            };
            sagas.by_kind[at].1 += 1;
            match verdict {
                Ok(()) => {
                    sagas.by_kind[at].2 += 1;
                    if sagas.sample.is_none() && order.expected.names().len() > 4 {
                        sagas.sample = Some((order.expected, events));
                    }
                }
                Err(error) => sagas.wrong.push((order.id.clone(), order.expected, error)),
            }
        }
        sagas.self_test = sagas.check_the_checker();
        Ok(sagas)
    }

    /// Checks the checker on a correct order of this run: without one of its events, and
    /// with one of them twice, it must fail.
    fn check_the_checker(&self) -> Result<(), String> {
        let Some((expected, events)) = &self.sample else {
            return Err("no order ended as its reference says, so none to tamper with".into());
        };
        let mut missing = events.clone();
        let removed = missing.remove(missing.len() / 2);
        if check(*expected, &missing).is_ok() {
            return Err(format!(
                "an order's log without its {} passed as {expected:?}",
                removed.name
            ));
        }
        let mut doubled = events.clone();
        let mut again = doubled[doubled.len() / 2].clone();
        again.id = uuid::Uuid::now_v7();
        again.position = doubled.last().map_or(0, |e| e.position) + 1;
        doubled.push(again.clone());
        if check(*expected, &doubled).is_ok() {
            return Err(format!(
                "an order's log with its {} twice passed as {expected:?}",
                again.name
            ));
        }
        Ok(())
    }

    /// The report's lines.
    pub fn report(&self, orders: &Orders) {
        let placed: usize = self.by_kind.iter().map(|(_, n, _)| n).sum();
        let right: usize = self.by_kind.iter().map(|(_, _, n)| n).sum();
        println!(
            "  orders               {placed} acknowledged, {right} ended exactly as sale-order.md says; {} placings refused, {} skipped, {} payments or reports retried after a failed call, {} not paid in time (so never-paid), {} paid after a reminder",
            orders.refused(),
            orders.skipped(),
            orders.retried(),
            self.unpaid_expected,
            self.paid_after_reminder
        );
        for (kind, placed, right) in &self.by_kind {
            println!("                       {right} of {placed} {}", name(*kind));
        }
        println!("  orders wrong         {}", self.wrong.len());
        for (id, expected, error) in self.wrong.iter().take(5) {
            println!("                       {id} ({}): {error}", name(*expected));
        }
        match &self.self_test {
            Ok(()) => println!(
                "  order self-test      an order's log without one event, and with one twice: both refused, as they must be"
            ),
            Err(error) => println!("  order self-test      FAILED: {error}"),
        }
    }

    /// Why the orders fail the run: the orders that did not end as specified, and a
    /// failed self-test; `None` when they pass.
    pub fn failure(&self) -> Option<String> {
        let mut reasons = Vec::new();
        if !self.wrong.is_empty() {
            reasons.push(format!(
                "{} orders did not end as sale-order.md says: {}",
                self.wrong.len(),
                listed(
                    self.wrong
                        .iter()
                        .map(|(id, expected, error)| format!("{id} ({}: {error})", name(*expected)))
                        .collect()
                )
            ));
        }
        if let Err(error) = &self.self_test {
            reasons.push(format!("the orders' self-test failed: {error}"));
        }
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

/// A reference order as the report names it.
fn name(reference: Reference) -> &'static str {
    match reference {
        Reference::Delivered => "delivered",
        Reference::OutOfStock => "out of stock",
        Reference::AreaNotServed => "area not served",
        Reference::NeverPaid { .. } => "never paid",
        Reference::FailedAndRepaid { .. } => "shipment failed, repaid",
    }
}

/// Whether `events`, an order's composite log in position order, is `expected`'s
/// reference log; `Err` says how it differs.
pub fn check(expected: Reference, events: &[Event]) -> Result<(), String> {
    let reference = names(expected, reminded_before_payment(events));
    for domain in DOMAINS {
        let mut got: Vec<&str> = events
            .iter()
            .filter(|e| e.domain == domain)
            .map(|e| e.name.as_str())
            .collect();
        let mut want: Vec<&str> = reference
            .iter()
            .copied()
            .filter(|n| domain_of(n) == domain)
            .collect();
        if domain == "notification" {
            got.sort_unstable();
            want.sort_unstable();
        }
        if got != want {
            return Err(format!("its {domain} log is {got:?}, not {want:?}"));
        }
    }
    let positions: HashMap<uuid::Uuid, u64> = events.iter().map(|e| (e.id, e.position)).collect();
    for event in events {
        if let Some(cause) = event.rid.and_then(|rid| positions.get(&rid))
            && *cause >= event.position
        {
            return Err(format!(
                "{} (position {}) comes before its cause (position {cause})",
                event.name, event.position
            ));
        }
    }
    Ok(())
}

/// Reminders logged before the payment was (none when it was not paid).
pub fn reminded_before_payment(events: &[Event]) -> usize {
    let Some(paid) = events.iter().find(|e| e.name == "payment-received") else {
        return 0;
    };
    events
        .iter()
        .filter(|e| e.name == "payment-request-reminded" && e.position < paid.position)
        .count()
}

/// `expected`'s reference log, with `reminded` reminders before a paid order's payment.
fn names(expected: Reference, reminded: usize) -> Vec<&'static str> {
    let mut names = expected.names();
    let paid = matches!(
        expected,
        Reference::Delivered | Reference::FailedAndRepaid { .. }
    );
    if paid && reminded > 0 {
        let at = names
            .iter()
            .position(|n| *n == "notified-customer-of-payment-requested")
            .map_or(names.len(), |i| i + 1);
        let reminders = [
            "payment-request-reminded",
            "notified-customer-of-payment-reminder",
        ];
        for _ in 0..reminded {
            names.splice(at..at, reminders);
        }
    }
    names
}

/// Whether `events` holds `expected`'s last event: the saga is over (or stuck, which
/// [`check`] then tells).
pub fn finished(expected: Reference, events: &[Event]) -> bool {
    let names = expected.names();
    let last = names.last().copied().unwrap_or_default();
    events.iter().any(|e| e.name == last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use superhero_eventflow::Timestamp;

    /// The reference log as a store would hold it: positions in order, each reply
    /// caused by the event before it.
    fn log(reference: Reference) -> Vec<Event> {
        let mut events: Vec<Event> = Vec::new();
        for (i, name) in reference.names().into_iter().enumerate() {
            events.push(Event {
                id: uuid::Uuid::from_u128(i as u128 + 1),
                position: i as u64 + 1,
                version: 1,
                timestamp: Timestamp::now(),
                domain: domain_of(name).to_owned(),
                pid: "order-1".into(),
                name: name.into(),
                data: serde_json::Value::Null,
                rid: events.last().map(|e| e.id),
            });
        }
        events
    }

    #[test]
    fn each_reference_log_passes_for_itself() {
        for reference in Reference::ALL {
            assert_eq!(check(reference, &log(reference)), Ok(()), "{reference:?}");
            assert!(finished(reference, &log(reference)));
        }
    }

    #[test]
    fn a_missing_event_fails_and_the_saga_is_not_finished() {
        let mut events = log(Reference::Delivered);
        events.retain(|e| e.name != "payment-confirmed");
        let error = check(Reference::Delivered, &events).unwrap_err();
        assert!(error.contains("payment log"), "{error}");
        events.pop();
        assert!(!finished(Reference::Delivered, &events));
    }

    #[test]
    fn a_doubled_event_fails() {
        let mut events = log(Reference::OutOfStock);
        let mut again = events[1].clone();
        again.id = uuid::Uuid::from_u128(99);
        again.position = 99;
        events.push(again);
        let error = check(Reference::OutOfStock, &events).unwrap_err();
        assert!(error.contains("order log"), "{error}");
    }

    #[test]
    fn another_path_fails() {
        // Paid, then reminded anyway: not the delivered order's log.
        let events = log(Reference::NeverPaid { reminders: 1 });
        assert!(check(Reference::Delivered, &events).is_err());
        assert!(check(Reference::NeverPaid { reminders: 2 }, &events).is_err());
    }

    #[test]
    fn notifications_may_come_in_another_order_but_chains_may_not() {
        let reference = Reference::FailedAndRepaid {
            repayment_failures: 1,
        };
        let mut events = log(reference);
        // Two notifications swap positions: still the order's log.
        let notified: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].domain == "notification")
            .collect();
        let (a, b) = (notified[0], notified[notified.len() - 1]);
        let (pa, pb) = (events[a].position, events[b].position);
        events[a].position = pb;
        events[b].position = pa;
        // (In this made-up log each event answers the one before; the swapped ones and
        // their answers answer nothing now.)
        let swapped = [events[a].id, events[b].id];
        for event in &mut events {
            if swapped.contains(&event.id) || event.rid.is_some_and(|r| swapped.contains(&r)) {
                event.rid = None;
            }
        }
        events.sort_by_key(|e| e.position);
        assert_eq!(check(reference, &events), Ok(()));
        // Two payment events swap: a chain out of order.
        let mut events = log(reference);
        let paid: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].domain == "payment")
            .collect();
        events.swap(paid[0], paid[1]);
        assert!(check(reference, &events).is_err());
    }

    #[test]
    fn a_payment_logged_after_a_reminder_expects_that_reminder_but_not_one_after_it() {
        // The delivered order's log, with a reminder between the payment request and the
        // payment (the window elapsed before the payment reached the log).
        let plain = log(Reference::Delivered);
        let mut events: Vec<Event> = Vec::new();
        for event in plain {
            let paid = event.name == "payment-received";
            if paid {
                for name in [
                    "payment-request-reminded",
                    "notified-customer-of-payment-reminder",
                ] {
                    let mut reminder = event.clone();
                    reminder.id = uuid::Uuid::from_u128(100 + events.len() as u128);
                    reminder.name = name.into();
                    reminder.domain = domain_of(name).into();
                    reminder.rid = None;
                    events.push(reminder);
                }
            }
            events.push(event);
        }
        for (i, event) in events.iter_mut().enumerate() {
            event.position = i as u64 + 1;
        }
        assert_eq!(reminded_before_payment(&events), 1);
        assert_eq!(check(Reference::Delivered, &events), Ok(()));
        // The reminder after the payment: the saga reminded a paid order.
        let at = events
            .iter()
            .position(|e| e.name == "payment-request-reminded")
            .unwrap();
        let received = events
            .iter()
            .position(|e| e.name == "payment-received")
            .unwrap();
        let (pa, pr) = (events[at].position, events[received].position);
        events[at].position = pr;
        events[received].position = pa;
        events.sort_by_key(|e| e.position);
        assert_eq!(reminded_before_payment(&events), 0);
        assert!(check(Reference::Delivered, &events).is_err());
    }

    #[test]
    fn an_event_before_its_cause_fails() {
        let mut events = log(Reference::AreaNotServed);
        events[2].rid = Some(events[3].id);
        let error = check(Reference::AreaNotServed, &events).unwrap_err();
        assert!(error.contains("before its cause"), "{error}");
    }
}
