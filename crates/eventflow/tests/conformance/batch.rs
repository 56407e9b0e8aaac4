//! Batched claims and outcomes (what the hub and spokes use under load): the same
//! exactly-one guarantees as the single-event operations, for many events per statement.

use std::collections::HashMap;
use std::time::Duration;

use superhero_eventflow::{AppendRequest, Delivery, DeliveryStore, EventLog, NewEvent};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::common::Harness;

const LEASE: Duration = Duration::from_secs(30);

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;
    batched_route_claims_win_each_event_once_and_report_prior_deliveries,
    batched_delivery_claims_raced_by_four_consumers_give_each_event_one_winner,
    batched_successes_are_recorded_only_for_the_lease_holder,
    settle_many_settles_open_events_only,
    read_events_returns_stored_events_in_position_order,
    single_event_batches_behave_like_larger_ones,
);

async fn publish_many(h: &Harness, n: usize) -> Vec<Uuid> {
    let events = (0..n)
        .map(|i| NewEvent::new("d", format!("p{i}"), "n"))
        .collect();
    h.store
        .append(AppendRequest::new(events).publish("spoke"))
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect()
}

async fn batched_route_claims_win_each_event_once_and_report_prior_deliveries(h: &Harness) {
    let s = &h.store;
    let ids = publish_many(h, 20).await;
    let first = s.claim_routes(&ids[..10], "hub-a", LEASE).await.unwrap();
    assert_eq!(first.len(), 10);
    assert!(
        first.iter().all(|c| c.deliveries == 0),
        "never delivered yet"
    );
    let second = s.claim_routes(&ids, "hub-b", LEASE).await.unwrap();
    let won: Vec<Uuid> = second.iter().map(|c| c.event_id).collect();
    assert_eq!(won.len(), 10, "hub-a's leases hold");
    assert!(won.iter().all(|id| ids[10..].contains(id)));

    // After a delivery and the route lease lapsing, a new route reports the delivery.
    s.claim_delivery(ids[0], "spoke-1", Duration::from_secs(1), 5)
        .await
        .unwrap()
        .expect("claimed");
    h.advance(LEASE + Duration::from_secs(1));
    let again = s.claim_routes(&ids[..1], "hub-b", LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].deliveries, 1);
    assert!(
        s.claim_routes(&[], "hub-b", LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let unknown = s
        .claim_routes(&[Uuid::now_v7()], "hub-b", LEASE)
        .await
        .unwrap();
    assert!(unknown.is_empty());
}

async fn batched_delivery_claims_raced_by_four_consumers_give_each_event_one_winner(h: &Harness) {
    let ids = publish_many(h, 120).await;
    let mut tasks = JoinSet::new();
    for consumer in 0..4 {
        let store = h.store.clone();
        let mut ids = ids.clone();
        // Different orders, overlapping batches.
        ids.rotate_left(consumer * 30);
        tasks.spawn(async move {
            let mut won = Vec::new();
            for chunk in ids.chunks(40) {
                let claims = store
                    .claim_deliveries(chunk, &format!("c{consumer}"), LEASE, 5)
                    .await
                    .expect("claim");
                won.extend(claims);
            }
            won
        });
    }
    let mut winners: HashMap<Uuid, usize> = HashMap::new();
    for claims in tasks.join_all().await {
        for claim in claims {
            assert_eq!(claim.deliveries, 1);
            *winners.entry(claim.event_id).or_default() += 1;
        }
    }
    assert_eq!(winners.len(), ids.len(), "every event claimed");
    assert!(winners.values().all(|n| *n == 1), "exactly one winner each");
}

async fn batched_successes_are_recorded_only_for_the_lease_holder(h: &Harness) {
    let s = &h.store;
    let ids = publish_many(h, 6).await;
    let a = s.claim_deliveries(&ids[..3], "a", LEASE, 5).await.unwrap();
    let b = s.claim_deliveries(&ids[3..], "b", LEASE, 5).await.unwrap();
    assert_eq!((a.len(), b.len()), (3, 3));
    // Each consumer reports all six, as if it held them: only its own are recorded.
    let as_a: Vec<_> = a
        .iter()
        .chain(&b)
        .map(|d| Delivery {
            consumer: "a".into(),
            ..d.clone()
        })
        .collect();
    let recorded = s.succeed_deliveries(&as_a).await.unwrap();
    let mut recorded_sorted = recorded.clone();
    recorded_sorted.sort();
    let mut expected = ids[..3].to_vec();
    expected.sort();
    assert_eq!(recorded_sorted, expected);
    assert!(
        s.succeed_deliveries(&a).await.unwrap().is_empty(),
        "only once"
    );
    for id in &ids[..3] {
        let publication = s.publication(*id).await.unwrap().expect("row");
        assert_eq!(publication.succeeded_at, Some(h.now()));
    }
    assert!(
        s.publication(ids[3])
            .await
            .unwrap()
            .unwrap()
            .succeeded_at
            .is_none()
    );
}

async fn settle_many_settles_open_events_only(h: &Harness) {
    let s = &h.store;
    let ids = publish_many(h, 4).await;
    let claim = s
        .claim_delivery(ids[0], "a", LEASE, 5)
        .await
        .unwrap()
        .expect("claim");
    assert!(s.succeed_delivery(&claim).await.unwrap());
    assert_eq!(s.settle_many(&ids).await.unwrap(), 3);
    assert_eq!(s.settle_many(&ids).await.unwrap(), 0);
    assert!(
        s.claim_deliveries(&ids, "b", LEASE, 5)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn read_events_returns_stored_events_in_position_order(h: &Harness) {
    let s = &h.store;
    let mut ids = publish_many(h, 5).await;
    let expected = ids.clone();
    ids.reverse();
    ids.push(Uuid::now_v7());
    let events = s.read_events(&ids).await.unwrap();
    let got: Vec<Uuid> = events.iter().map(|e| e.id).collect();
    assert_eq!(got, expected, "position order, unknown ids skipped");
    assert!(s.read_events(&[]).await.unwrap().is_empty());
}

async fn single_event_batches_behave_like_larger_ones(h: &Harness) {
    let s = &h.store;
    let ids = publish_many(h, 1).await;
    let routed = s.claim_routes(&ids, "hub-a", LEASE).await.unwrap();
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].deliveries, 0);
    assert!(
        s.claim_routes(&ids, "hub-b", LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = s.claim_deliveries(&ids, "a", LEASE, 5).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].deliveries, 1);
    assert!(
        s.claim_deliveries(&ids, "b", LEASE, 5)
            .await
            .unwrap()
            .is_empty()
    );
    let as_b: Vec<_> = claimed
        .iter()
        .map(|d| Delivery {
            consumer: "b".into(),
            ..d.clone()
        })
        .collect();
    assert!(s.succeed_deliveries(&as_b).await.unwrap().is_empty());
    assert_eq!(s.succeed_deliveries(&claimed).await.unwrap(), ids);
    assert!(s.succeed_deliveries(&claimed).await.unwrap().is_empty());
}
