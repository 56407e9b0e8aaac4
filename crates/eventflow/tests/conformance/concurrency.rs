//! Races: concurrent writers, readers following positions, concurrent claimers.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::json;
use superhero_eventflow::{
    AppendRequest, CatchUp, DeliveryStore, EventLog, ExpectedVersion, NewEvent, ScheduleStore,
};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::common::Harness;

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;
    concurrent_reappends_of_one_id_store_it_once,
    two_writers_expecting_the_same_version_exactly_one_wins,
    reader_following_positions_sees_every_event_once_in_order_while_four_writers_append,
    delivery_claim_raced_by_eight_claimers_has_exactly_one_winner,
    route_and_schedule_claims_raced_by_hubs_have_exactly_one_winner,
);

async fn concurrent_reappends_of_one_id_store_it_once(h: &Harness) {
    let id = Uuid::now_v7();
    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let store = h.store.clone();
        tasks.spawn(async move {
            store
                .publish(NewEvent::new("d", "p", "n").with_id(id), "spoke")
                .await
        });
    }
    let results: Vec<_> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("append"))
        .collect();
    assert!(
        results.iter().all(|r| *r == results[0]),
        "every retry got the same result: {results:?}"
    );
    assert_eq!(h.store.read_stream("d", "p").await.unwrap().len(), 1);
}

async fn two_writers_expecting_the_same_version_exactly_one_wins(h: &Harness) {
    for round in 0..5_u64 {
        let mut tasks = JoinSet::new();
        for writer in 0..2 {
            let store = h.store.clone();
            tasks.spawn(async move {
                let event = NewEvent::new("d", "p", format!("round{round}-writer{writer}"));
                store
                    .append(AppendRequest::new(vec![event]).expect(ExpectedVersion::Exact(round)))
                    .await
            });
        }
        let results = tasks.join_all().await;
        let wins = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(e) if e.code() == "E_EVENTFLOW_CONFLICT"))
            .count();
        assert_eq!((wins, conflicts), (1, 1), "round {round}: {results:?}");
    }
    assert_eq!(h.store.stream_version("d", "p").await.unwrap(), 5);
}

async fn reader_following_positions_sees_every_event_once_in_order_while_four_writers_append(
    h: &Harness,
) {
    const WRITERS: usize = 4;
    const APPENDS: usize = 40;
    let done = Arc::new(AtomicBool::new(false));
    let mut writers = JoinSet::new();
    for writer in 0..WRITERS {
        let store = h.store.clone();
        writers.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..APPENDS {
                // Mix single events and small batches, several streams per writer.
                let events: Vec<_> = (0..1 + i % 3)
                    .map(|k| {
                        NewEvent::new("race", format!("w{writer}-{}", i % 4), "n")
                            .with_data(json!({"k": k}))
                    })
                    .collect();
                let appended = store
                    .append(AppendRequest::new(events))
                    .await
                    .expect("append");
                ids.extend(appended.into_iter().map(|a| a.id));
            }
            ids
        });
    }
    let reader = {
        let store = h.store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = 0;
            loop {
                let finished = done.load(Ordering::SeqCst);
                let page = store
                    .read_from(&CatchUp::after(after, 25))
                    .await
                    .expect("read");
                if let Some(last) = page.last() {
                    after = last.position;
                }
                let empty = page.is_empty();
                seen.extend(page.into_iter().map(|e| (e.position, e.id)));
                if finished && empty {
                    return seen;
                }
                if empty {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        })
    };
    let written: Vec<Uuid> = writers.join_all().await.into_iter().flatten().collect();
    done.store(true, Ordering::SeqCst);
    let seen = reader.await.expect("reader");

    let positions: Vec<u64> = seen.iter().map(|(p, _)| *p).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing positions"
    );
    let seen_ids: HashSet<Uuid> = seen.iter().map(|(_, id)| *id).collect();
    assert_eq!(seen_ids.len(), seen.len(), "no event seen twice");
    assert_eq!(
        seen_ids,
        written.iter().copied().collect::<HashSet<_>>(),
        "every event seen"
    );
    let head = h.store.head_position().await.unwrap();
    assert_eq!(positions.last().copied(), Some(head));
}

async fn delivery_claim_raced_by_eight_claimers_has_exactly_one_winner(h: &Harness) {
    for _ in 0..3 {
        let event = h
            .store
            .publish(NewEvent::new("d", "p", "n"), "spoke")
            .await
            .unwrap();
        let mut tasks = JoinSet::new();
        for claimer in 0..8 {
            let store = h.store.clone();
            tasks.spawn(async move {
                store
                    .claim_delivery(
                        event.id,
                        &format!("spoke-{claimer}"),
                        Duration::from_secs(30),
                        5,
                    )
                    .await
            });
        }
        let results: Vec<_> = tasks
            .join_all()
            .await
            .into_iter()
            .map(|r| r.expect("claim"))
            .collect();
        let winners: Vec<_> = results.iter().flatten().collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        let publication = h
            .store
            .publication(event.id)
            .await
            .unwrap()
            .expect("published");
        assert_eq!(publication.deliveries, 1);
        assert_eq!(
            publication.consumer.as_deref(),
            Some(winners[0].consumer.as_str())
        );
    }
}

async fn route_and_schedule_claims_raced_by_hubs_have_exactly_one_winner(h: &Harness) {
    let published = h
        .store
        .publish(NewEvent::new("d", "p", "n"), "spoke")
        .await
        .unwrap();
    let due = h.now();
    let scheduled = h
        .store
        .schedule(NewEvent::new("d", "p", "later"), "spoke", due)
        .await
        .unwrap();
    let mut routes = JoinSet::new();
    let mut schedules = JoinSet::new();
    for hub in 0..8 {
        let store = h.store.clone();
        routes.spawn(async move {
            store
                .claim_route(published.id, &format!("hub-{hub}"), Duration::from_secs(10))
                .await
        });
        let store = h.store.clone();
        schedules.spawn(async move {
            store
                .claim_scheduled(scheduled.id, &format!("hub-{hub}"))
                .await
        });
    }
    let routes: Vec<bool> = routes
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("route"))
        .collect();
    let schedules: Vec<bool> = schedules
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("schedule"))
        .collect();
    assert_eq!(routes.iter().filter(|won| **won).count(), 1, "{routes:?}");
    assert_eq!(
        schedules.iter().filter(|won| **won).count(),
        1,
        "{schedules:?}"
    );
}
