//! Scheduled events.

use std::time::Duration;

use superhero_eventflow::{AppendRequest, DeliveryStore, EventLog, NewEvent, ScheduleStore};

use crate::common::Harness;

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;
    scheduled_events_come_due_in_time_order,
    a_scheduled_event_is_executed_once_and_delivered_only_when_due,
);

async fn scheduled_events_come_due_in_time_order(h: &Harness) {
    let s = &h.store;
    assert_eq!(s.next_due().await.unwrap(), None);
    let t0 = h.now();
    let at = |secs: u64| t0 + Duration::from_secs(secs);
    for (name, secs) in [("third", 30), ("first", 10), ("second", 20)] {
        s.schedule(NewEvent::new("d", "p", name), "spoke", at(secs))
            .await
            .unwrap();
    }
    let batch = AppendRequest::new(vec![
        NewEvent::new("d", "q", "batch-a"),
        NewEvent::new("d", "q", "batch-b"),
    ])
    .schedule("spoke", at(20));
    s.append(batch).await.unwrap();

    assert_eq!(s.next_due().await.unwrap(), Some(at(10)));
    assert!(
        s.due_scheduled(10).await.unwrap().is_empty(),
        "nothing due yet"
    );
    h.advance(Duration::from_secs(20));
    let due = s.due_scheduled(10).await.unwrap();
    let names: Vec<_> = due.iter().map(|d| d.event.name.as_str()).collect();
    assert_eq!(
        names,
        ["first", "second", "batch-a", "batch-b"],
        "due order, then position"
    );
    assert_eq!(due[0].due, at(10));
    assert_eq!(due[0].scheduled_at, t0);
    assert_eq!(s.due_scheduled(2).await.unwrap().len(), 2, "limit");

    for scheduled in &due {
        assert!(
            s.claim_scheduled(scheduled.event.id, "hub-1")
                .await
                .unwrap()
        );
    }
    assert_eq!(s.next_due().await.unwrap(), Some(at(30)));
    h.advance(Duration::from_secs(10));
    let due = s.due_scheduled(10).await.unwrap();
    assert_eq!(
        due.iter()
            .map(|d| d.event.name.as_str())
            .collect::<Vec<_>>(),
        ["third"]
    );
}

async fn a_scheduled_event_is_executed_once_and_delivered_only_when_due(h: &Harness) {
    let s = &h.store;
    let due = h.now() + Duration::from_secs(60);
    let event = s
        .schedule(NewEvent::new("d", "p", "reminder"), "spoke", due)
        .await
        .unwrap();
    let publication = s
        .publication(event.id)
        .await
        .unwrap()
        .expect("published with the schedule");
    assert_eq!(publication.available_at, due);

    assert!(
        !s.claim_scheduled(event.id, "hub-1").await.unwrap(),
        "not due"
    );
    assert!(
        !s.claim_route(event.id, "hub-1", Duration::from_secs(5))
            .await
            .unwrap(),
        "not due"
    );
    assert!(
        s.claim_delivery(event.id, "a", Duration::from_secs(5), 5)
            .await
            .unwrap()
            .is_none()
    );

    h.advance(Duration::from_secs(60));
    assert!(s.claim_scheduled(event.id, "hub-1").await.unwrap());
    assert!(
        !s.claim_scheduled(event.id, "hub-2").await.unwrap(),
        "executed once"
    );
    let scheduled = s.scheduled(event.id).await.unwrap().expect("schedule row");
    assert_eq!(scheduled.executed_by.as_deref(), Some("hub-1"));
    assert_eq!(scheduled.executed_at, Some(due));
    assert!(
        s.claim_route(event.id, "hub-1", Duration::from_secs(5))
            .await
            .unwrap()
    );
    assert!(
        s.claim_delivery(event.id, "a", Duration::from_secs(5), 5)
            .await
            .unwrap()
            .is_some()
    );
    assert!(s.scheduled(uuid::Uuid::now_v7()).await.unwrap().is_none());
}
