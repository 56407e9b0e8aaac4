//! Delivery bookkeeping: publications, claims, leases, outcomes, orphans, parking.

use std::time::Duration;

use superhero_eventflow::{
    AppendRequest, Delivery, DeliveryStore, EventLog, FailOutcome, NewEvent, ParkedQuery,
};

use crate::common::Harness;

const LEASE: Duration = Duration::from_secs(30);

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;
    consumer_groups_are_recorded_once_and_listed,
    publish_writes_the_event_and_its_publication_in_one_transaction,
    lease_expiry_makes_an_event_claimable_again_and_counts_deliveries,
    success_is_final_and_only_the_lease_holder_can_report_it,
    an_earlier_deliverys_outcome_never_settles_a_later_one,
    failure_retries_after_backoff_then_parks_after_max_deliveries,
    parked_events_are_listed_in_chunks_and_replayed,
    parked_events_are_filtered_by_domain_name_time_and_stop_point,
    park_exhausted_parks_events_whose_last_lease_expired,
    orphans_release_their_route_and_are_routed_when_claimed_again,
    pending_deliveries_lists_what_needs_routing_now,
    settle_closes_an_event_without_a_consumer,
);

async fn publish_writes_the_event_and_its_publication_in_one_transaction(h: &Harness) {
    let s = &h.store;
    let published = s
        .publish(NewEvent::new("d", "p", "n"), "spoke-1")
        .await
        .unwrap();
    let publication = s
        .publication(published.id)
        .await
        .unwrap()
        .expect("a publication row");
    assert_eq!(publication.publisher, "spoke-1");
    assert_eq!(
        (publication.published_at, publication.available_at),
        (h.now(), h.now())
    );
    assert_eq!(publication.deliveries, 0);
    assert!(publication.consumer.is_none() && publication.succeeded_at.is_none());

    let persisted = s.append_one(NewEvent::new("d", "p", "m")).await.unwrap();
    assert!(
        s.publication(persisted.id).await.unwrap().is_none(),
        "persist does not publish"
    );

    // A batch that fails half-way (an id used by another event) leaves nothing behind.
    let taken = NewEvent::new("d", "p", "other").with_id(published.id);
    let failed = s
        .append(AppendRequest::new(vec![NewEvent::new("d", "x", "n"), taken]).publish("spoke-1"))
        .await;
    assert!(failed.is_err());
    assert!(s.read_stream("d", "x").await.unwrap().is_empty());
}

async fn lease_expiry_makes_an_event_claimable_again_and_counts_deliveries(h: &Harness) {
    let s = &h.store;
    let event = s
        .publish(NewEvent::new("d", "p", "n"), "spoke")
        .await
        .unwrap();
    let first = s
        .claim_delivery(event.id, "a", LEASE, 5)
        .await
        .unwrap()
        .expect("a wins");
    assert_eq!(first.deliveries, 1);
    assert_eq!(first.lease_until, h.now() + LEASE);
    assert!(
        s.claim_delivery(event.id, "b", LEASE, 5)
            .await
            .unwrap()
            .is_none(),
        "leased to a"
    );

    h.advance(LEASE - Duration::from_millis(1));
    assert!(
        s.claim_delivery(event.id, "b", LEASE, 5)
            .await
            .unwrap()
            .is_none(),
        "lease still holds"
    );
    assert!(
        s.renew_lease(&first, LEASE).await.unwrap(),
        "a extends its lease"
    );
    assert!(
        !s.renew_lease(&held(event.id, "b", 1), LEASE).await.unwrap(),
        "b holds nothing"
    );
    h.advance(LEASE);
    let second = s
        .claim_delivery(event.id, "b", LEASE, 5)
        .await
        .unwrap()
        .expect("expired: b wins");
    assert_eq!(second.deliveries, 2);
    assert!(
        !s.succeed_delivery(&first).await.unwrap(),
        "a lost the event with its lease"
    );
    assert!(s.succeed_delivery(&second).await.unwrap());
}

/// A delivery as a consumer would name it, whether or not it holds the event.
fn held(event_id: uuid::Uuid, consumer: &str, deliveries: u32) -> Delivery {
    Delivery {
        event_id,
        consumer: consumer.into(),
        deliveries,
        lease_until: superhero_eventflow::Timestamp::EPOCH,
    }
}

async fn an_earlier_deliverys_outcome_never_settles_a_later_one(h: &Harness) {
    let s = &h.store;
    let lease = Duration::from_millis(300);
    let event = s
        .publish(NewEvent::new("d", "p", "n"), "spoke")
        .await
        .unwrap();
    let first = s
        .claim_delivery(event.id, "a", lease, 2)
        .await
        .unwrap()
        .expect("delivery 1");
    h.advance(lease + Duration::from_millis(1));
    let second = s
        .claim_delivery(event.id, "a", lease, 2)
        .await
        .unwrap()
        .expect("the same consumer claims it again after the lapse: delivery 2");
    assert_eq!((first.deliveries, second.deliveries), (1, 2));
    assert_eq!(
        s.fail_delivery(&first, "late failure of delivery 1", h.now(), 2)
            .await
            .unwrap(),
        FailOutcome::NotHeld,
        "delivery 1's failure is refused"
    );
    assert!(
        !s.renew_lease(&first, lease).await.unwrap(),
        "and so is its renewal"
    );
    assert!(
        !s.succeed_deliveries(std::slice::from_ref(&first))
            .await
            .unwrap()
            .contains(&event.id)
    );
    assert!(
        s.succeed_delivery(&second).await.unwrap(),
        "delivery 2 succeeds"
    );
    let publication = s.publication(event.id).await.unwrap().expect("row");
    assert!(publication.succeeded_at.is_some() && publication.parked_at.is_none());
    assert!(publication.failed_at.is_none());
}

async fn success_is_final_and_only_the_lease_holder_can_report_it(h: &Harness) {
    let s = &h.store;
    let event = s
        .publish(NewEvent::new("d", "p", "n"), "spoke")
        .await
        .unwrap();
    assert!(
        !s.succeed_delivery(&held(event.id, "a", 1)).await.unwrap(),
        "nobody claimed it yet"
    );
    let claim = s
        .claim_delivery(event.id, "a", LEASE, 5)
        .await
        .unwrap()
        .expect("claimed");
    assert!(!s.succeed_delivery(&held(event.id, "b", 1)).await.unwrap());
    assert!(s.succeed_delivery(&claim).await.unwrap());
    assert!(!s.succeed_delivery(&claim).await.unwrap(), "only once");
    h.advance(LEASE * 2);
    assert!(
        s.claim_delivery(event.id, "b", LEASE, 5)
            .await
            .unwrap()
            .is_none(),
        "settled for good"
    );
    let outcome = s.fail_delivery(&claim, "late", h.now(), 5).await.unwrap();
    assert_eq!(outcome, FailOutcome::NotHeld);
    let publication = s.publication(event.id).await.unwrap().expect("row");
    assert_eq!(publication.succeeded_at, Some(h.now() - LEASE * 2));
    assert!(publication.failed_at.is_none());
}

async fn failure_retries_after_backoff_then_parks_after_max_deliveries(h: &Harness) {
    let s = &h.store;
    let event = s
        .publish(NewEvent::new("d", "p", "poison"), "spoke")
        .await
        .unwrap();
    for attempt in 1..=3_u32 {
        let claimed = s
            .claim_delivery(event.id, "a", LEASE, 3)
            .await
            .unwrap()
            .expect("claimable");
        assert_eq!(claimed.deliveries, attempt);
        let retry_at = h.now() + Duration::from_secs(u64::from(attempt));
        let outcome = s
            .fail_delivery(&claimed, "boom", retry_at, 3)
            .await
            .unwrap();
        if attempt < 3 {
            assert_eq!(outcome, FailOutcome::Retry { at: retry_at });
            assert!(
                s.claim_delivery(event.id, "a", LEASE, 3)
                    .await
                    .unwrap()
                    .is_none(),
                "backing off"
            );
            h.advance(Duration::from_secs(u64::from(attempt)));
        } else {
            assert_eq!(outcome, FailOutcome::Parked);
        }
    }
    h.advance(Duration::from_secs(60));
    assert!(
        s.claim_delivery(event.id, "a", LEASE, 3)
            .await
            .unwrap()
            .is_none(),
        "parked"
    );
    let publication = s.publication(event.id).await.unwrap().expect("row");
    assert_eq!(publication.last_error.as_deref(), Some("boom"));
    assert_eq!(publication.deliveries, 3);
    assert!(publication.parked_at.is_some());
}

async fn parked_events_are_listed_in_chunks_and_replayed(h: &Harness) {
    let s = &h.store;
    let mut parked = Vec::new();
    for i in 0..5 {
        let event = NewEvent::new("d", format!("p{i}"), "n");
        parked.push(h.park(event, &format!("error {i}")).await);
    }
    let healthy = s
        .publish(NewEvent::new("d", "ok", "n"), "spoke")
        .await
        .unwrap();

    let mut listed = Vec::new();
    let mut after = 0;
    loop {
        let chunk = s.parked(&ParkedQuery::after(after, 2)).await.unwrap();
        let Some(last) = chunk.last() else { break };
        assert!(chunk.len() <= 2);
        after = last.event.position;
        listed.extend(chunk);
    }
    let ids: Vec<_> = listed.iter().map(|p| p.event.id).collect();
    assert_eq!(ids, parked.iter().map(|p| p.id).collect::<Vec<_>>());
    assert_eq!(listed[3].last_error.as_deref(), Some("error 3"));
    assert_eq!(listed[0].deliveries, 1);

    let replayed = s
        .replay_parked(&[parked[0].id, parked[1].id, healthy.id])
        .await
        .unwrap();
    assert_eq!(replayed, 2, "only parked events are replayed");
    assert_eq!(s.parked(&ParkedQuery::after(0, 10)).await.unwrap().len(), 3);
    let again = s
        .claim_delivery(parked[0].id, "b", LEASE, 1)
        .await
        .unwrap()
        .expect("claimable again");
    assert_eq!(
        again.deliveries, 1,
        "a replay starts a fresh delivery count"
    );
    assert_eq!(s.replay_parked(&[]).await.unwrap(), 0);
}

async fn parked_events_are_filtered_by_domain_name_time_and_stop_point(h: &Harness) {
    let s = &h.store;
    let park =
        |domain: &'static str, name: &'static str| h.park(NewEvent::new(domain, "p", name), "boom");
    let first = park("d", "n").await;
    let started = h.now();
    h.advance(Duration::from_secs(1));
    let second = park("d", "m").await;
    let third = park("x", "n").await;
    let fourth = park("d", "n").await;
    let listed = |query: ParkedQuery| async move {
        s.parked(&query)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.event.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(ParkedQuery::after(0, 10).domain("d")).await,
        [first.id, second.id, fourth.id]
    );
    assert_eq!(
        listed(ParkedQuery::after(0, 10).name("n")).await,
        [first.id, third.id, fourth.id]
    );
    assert_eq!(
        listed(ParkedQuery::after(0, 10).since(started + Duration::from_millis(1))).await,
        [second.id, third.id, fourth.id],
        "since: parked at or after"
    );
    assert_eq!(
        listed(ParkedQuery::after(0, 10).until(second.position)).await,
        [first.id, second.id],
        "until: the stop point is included"
    );
    assert_eq!(
        listed(
            ParkedQuery::after(first.position, 10)
                .domain("d")
                .name("n")
                .until(fourth.position)
        )
        .await,
        [fourth.id]
    );
    assert_eq!(listed(ParkedQuery::after(0, 2)).await.len(), 2, "limit");
}

async fn park_exhausted_parks_events_whose_last_lease_expired(h: &Harness) {
    let s = &h.store;
    let crashed = s
        .publish(NewEvent::new("d", "p", "crash"), "spoke")
        .await
        .unwrap();
    let busy = s
        .publish(NewEvent::new("d", "p", "busy"), "spoke")
        .await
        .unwrap();
    s.claim_delivery(crashed.id, "a", LEASE, 1)
        .await
        .unwrap()
        .expect("claim");
    h.advance(LEASE);
    s.claim_delivery(busy.id, "a", LEASE, 1)
        .await
        .unwrap()
        .expect("claim");
    assert!(
        s.claim_delivery(crashed.id, "b", LEASE, 1)
            .await
            .unwrap()
            .is_none(),
        "out of deliveries"
    );
    assert_eq!(
        s.park_exhausted(1).await.unwrap(),
        1,
        "only the expired one"
    );
    let parked = s.parked(&ParkedQuery::after(0, 10)).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].event.id, crashed.id);
    assert!(parked[0].last_error.is_none());
}

async fn orphans_release_their_route_and_are_routed_when_claimed_again(h: &Harness) {
    let s = &h.store;
    let event = s
        .publish(NewEvent::new("shop", "p", "n"), "spoke")
        .await
        .unwrap();
    s.publish(NewEvent::new("other", "p", "n"), "spoke")
        .await
        .unwrap();
    assert!(
        !s.mark_orphan(event.id, "hub-1").await.unwrap(),
        "hub-1 does not route it yet"
    );
    assert!(s.claim_route(event.id, "hub-1", LEASE).await.unwrap());
    assert!(
        !s.claim_route(event.id, "hub-2", LEASE).await.unwrap(),
        "routed by hub-1"
    );
    assert!(s.mark_orphan(event.id, "hub-1").await.unwrap());
    let orphans = s.orphans("shop", None, 10).await.unwrap();
    assert_eq!(orphans.iter().map(|o| o.id).collect::<Vec<_>>(), [event.id]);
    assert_eq!(s.orphans("shop", Some("n"), 10).await.unwrap().len(), 1);
    assert!(
        s.orphans("shop", Some("other-name"), 10)
            .await
            .unwrap()
            .is_empty(),
        "the name filter leaves other names out"
    );
    assert!(s.orphans("other", None, 10).await.unwrap().is_empty());
    assert!(
        s.pending_deliveries(5, 10)
            .await
            .unwrap()
            .iter()
            .all(|p| p.id != event.id),
        "orphans wait"
    );

    assert!(
        s.claim_route(event.id, "hub-2", LEASE).await.unwrap(),
        "a subscriber appeared"
    );
    assert!(s.orphans("shop", None, 10).await.unwrap().is_empty());
    let publication = s.publication(event.id).await.unwrap().expect("row");
    assert_eq!(publication.hub.as_deref(), Some("hub-2"));
    assert!(publication.orphan_at.is_none());
}

async fn pending_deliveries_lists_what_needs_routing_now(h: &Harness) {
    let s = &h.store;
    let fresh = s
        .publish(NewEvent::new("d", "p", "fresh"), "spoke")
        .await
        .unwrap();
    let routed = s
        .publish(NewEvent::new("d", "p", "routed"), "spoke")
        .await
        .unwrap();
    let claimed = s
        .publish(NewEvent::new("d", "p", "claimed"), "spoke")
        .await
        .unwrap();
    let done = s
        .publish(NewEvent::new("d", "p", "done"), "spoke")
        .await
        .unwrap();
    s.schedule(
        NewEvent::new("d", "p", "later"),
        "spoke",
        h.now() + LEASE * 4,
    )
    .await
    .unwrap();
    assert!(s.claim_route(routed.id, "hub", LEASE).await.unwrap());
    s.claim_delivery(claimed.id, "a", LEASE * 2, 5)
        .await
        .unwrap()
        .expect("claim");
    let claim = s
        .claim_delivery(done.id, "a", LEASE, 5)
        .await
        .unwrap()
        .expect("claim");
    assert!(s.succeed_delivery(&claim).await.unwrap());

    let names = |refs: Vec<superhero_eventflow::EventRef>| {
        refs.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(names(s.pending_deliveries(5, 10).await.unwrap()), ["fresh"]);
    h.advance(LEASE);
    assert_eq!(
        names(s.pending_deliveries(5, 10).await.unwrap()),
        ["fresh", "routed"],
        "route lease expired"
    );
    h.advance(LEASE);
    assert_eq!(
        names(s.pending_deliveries(5, 10).await.unwrap()),
        ["fresh", "routed", "claimed"]
    );
    assert!(
        s.pending_deliveries(1, 10)
            .await
            .unwrap()
            .iter()
            .all(|r| r.name != "claimed"),
        "max reached"
    );
    assert_eq!(
        s.pending_deliveries(5, 1).await.unwrap()[0].id,
        fresh.id,
        "oldest first"
    );
    h.advance(LEASE * 2);
    assert!(
        names(s.pending_deliveries(5, 10).await.unwrap()).contains(&"later".to_owned()),
        "due now"
    );
}

async fn settle_closes_an_event_without_a_consumer(h: &Harness) {
    let s = &h.store;
    let event = s
        .publish(NewEvent::new("d", "p", "n"), "spoke")
        .await
        .unwrap();
    assert!(s.claim_route(event.id, "hub", LEASE).await.unwrap());
    assert!(s.settle(event.id).await.unwrap());
    assert!(!s.settle(event.id).await.unwrap());
    assert!(
        s.claim_delivery(event.id, "a", LEASE, 5)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.pending_deliveries(5, 10).await.unwrap().is_empty());
}

async fn consumer_groups_are_recorded_once_and_listed(h: &Harness) {
    let s = &h.store;
    assert!(s.consumer_groups().await.unwrap().is_empty());
    s.register_consumer("order", "placed").await.unwrap();
    s.register_consumer("order", "placed").await.unwrap();
    s.register_consumer("shop", "*").await.unwrap();
    assert_eq!(
        s.consumer_groups().await.unwrap(),
        [
            ("order".to_owned(), "placed".to_owned()),
            ("shop".to_owned(), "*".to_owned())
        ]
    );
    assert!(
        s.register_consumer("", "placed").await.is_err(),
        "keys are checked"
    );
}
