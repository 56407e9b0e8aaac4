//! The backlog per domain and the scheduled events due, as `superhero status` reads them.

use std::time::Duration;

use superhero_eventflow::{DeliveryStore, EventLog, NewEvent, StatusStore};

use crate::common::Harness;

const LEASE: Duration = Duration::from_secs(30);

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;
    domain_status_counts_each_state_with_its_oldest_time,
    scheduled_due_counts_unexecuted_events_due_by_a_time,
);

async fn domain_status_counts_each_state_with_its_oldest_time(h: &Harness) {
    let s = &h.store;
    s.ping().await.unwrap();
    assert!(s.domain_status().await.unwrap().is_empty(), "nothing yet");

    let start = h.now();
    s.publish(NewEvent::new("a", "p1", "n"), "spoke")
        .await
        .unwrap();
    h.advance(Duration::from_secs(1));
    let held = s
        .publish(NewEvent::new("a", "p2", "n"), "spoke")
        .await
        .unwrap();
    s.claim_delivery(held.id, "c", LEASE, 5)
        .await
        .unwrap()
        .expect("claim");
    let done = s
        .publish(NewEvent::new("a", "p3", "n"), "spoke")
        .await
        .unwrap();
    let claim = s.claim_delivery(done.id, "c", LEASE, 5).await.unwrap();
    assert!(s.succeed_delivery(&claim.expect("claim")).await.unwrap());
    let backing_off = s
        .publish(NewEvent::new("a", "p4", "n"), "spoke")
        .await
        .unwrap();
    let claim = s
        .claim_delivery(backing_off.id, "c", LEASE, 5)
        .await
        .unwrap();
    let retry_at = h.now() + Duration::from_secs(10);
    s.fail_delivery(&claim.expect("claim"), "later", retry_at, 5)
        .await
        .unwrap();
    h.park(NewEvent::new("b", "p1", "n"), "boom").await;
    let parked_at = h.now();
    let orphan = s
        .publish(NewEvent::new("a", "p5", "n"), "spoke")
        .await
        .unwrap();
    assert!(s.claim_route(orphan.id, "hub", LEASE).await.unwrap());
    assert!(s.mark_orphan(orphan.id, "hub").await.unwrap());
    s.schedule(
        NewEvent::new("c", "p1", "n"),
        "spoke",
        h.now() + Duration::from_secs(20),
    )
    .await
    .unwrap();

    let status = s.domain_status().await.unwrap();
    let domains: Vec<_> = status.iter().map(|d| d.domain.as_str()).collect();
    assert_eq!(
        domains,
        ["a", "b"],
        "settled and not-due events count nowhere"
    );
    let a = &status[0];
    assert_eq!(
        (a.unrouted, a.orphaned, a.in_flight, a.retrying, a.parked),
        (1, 1, 1, 1, 0)
    );
    assert_eq!(a.oldest_orphaned, Some(parked_at));
    assert_eq!(a.oldest_retrying, Some(start + Duration::from_secs(1)));
    assert_eq!(a.oldest_unrouted, Some(start));
    assert_eq!(a.oldest_in_flight, Some(start + Duration::from_secs(1)));
    assert_eq!(a.oldest_unsettled(), Some(start));
    let b = &status[1];
    assert_eq!(
        (b.unrouted, b.in_flight, b.retrying, b.parked),
        (0, 0, 0, 1)
    );
    assert_eq!(b.oldest_parked, Some(parked_at));

    h.advance(LEASE + Duration::from_secs(1));
    let status = s.domain_status().await.unwrap();
    let domains: Vec<_> = status.iter().map(|d| d.domain.as_str()).collect();
    assert_eq!(domains, ["a", "b", "c"], "the scheduled event is due");
    let a = &status[0];
    assert_eq!(
        (a.unrouted, a.orphaned, a.in_flight, a.retrying),
        (3, 1, 0, 0),
        "the lapsed lease and the passed backoff make both unrouted again"
    );
    assert_eq!(a.oldest_in_flight, None);
    assert_eq!(status[2].unrouted, 1);
}

async fn scheduled_due_counts_unexecuted_events_due_by_a_time(h: &Harness) {
    let s = &h.store;
    let now = h.now();
    for seconds in [10, 50, 90] {
        s.schedule(
            NewEvent::new("timer", format!("t{seconds}"), "due"),
            "spoke",
            now + Duration::from_secs(seconds),
        )
        .await
        .unwrap();
    }
    assert_eq!(s.scheduled_due(now).await.unwrap(), 0);
    assert_eq!(
        s.scheduled_due(now + Duration::from_secs(60))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.scheduled_due(now + Duration::from_secs(90))
            .await
            .unwrap(),
        3,
        "due exactly at the bound counts"
    );
}
