//! Appending and reading the event log.

use std::time::Duration;

use serde_json::json;
use superhero_eventflow::{
    AppendRequest, CatchUp, ChildProcess, DeliveryStore, EventLog, ExpectedVersion, NewEvent,
};
use uuid::Uuid;

use crate::common::Harness;

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;
    append_assigns_stream_versions_and_increasing_positions,
    reappending_the_same_ids_returns_the_first_result,
    reusing_an_id_for_another_event_is_a_duplicate_id_error,
    expected_version_mismatch_is_a_conflict_and_writes_nothing,
    read_event_returns_the_stored_event_or_not_found,
    read_stream_between_timestamps_is_inclusive,
    read_stream_filtered_by_names,
    read_stream_backwards_pages_newest_first,
    associations_link_events_to_entities_and_child_processes,
    distinct_pids_are_sorted_per_domain,
    catch_up_reads_pages_in_position_order_with_filters,
    delete_event_and_delete_stream_remove_everything_linked,
    read_state_projects_the_stream_data,
    data_round_trips_and_large_batches_are_split,
);

async fn append_assigns_stream_versions_and_increasing_positions(h: &Harness) {
    let s = &h.store;
    let a1 = s
        .append_one(NewEvent::new("order", "a", "placed"))
        .await
        .unwrap();
    let b1 = s
        .append_one(NewEvent::new("order", "b", "placed"))
        .await
        .unwrap();
    let batch = s
        .append(AppendRequest::new(vec![
            NewEvent::new("order", "a", "paid"),
            NewEvent::new("order", "b", "paid"),
            NewEvent::new("order", "a", "shipped"),
        ]))
        .await
        .unwrap();
    assert_eq!((a1.version, b1.version), (1, 1));
    assert_eq!(
        batch.iter().map(|e| e.version).collect::<Vec<_>>(),
        [2, 2, 3]
    );
    let positions: Vec<u64> = [a1, b1].iter().chain(&batch).map(|e| e.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    assert_eq!(s.head_position().await.unwrap(), positions[4]);
    assert_eq!(s.stream_version("order", "a").await.unwrap(), 3);
    assert_eq!(s.stream_version("order", "nobody").await.unwrap(), 0);
    assert_eq!(a1.id.get_version_num(), 7, "generated ids are UUIDv7");
}

async fn reappending_the_same_ids_returns_the_first_result(h: &Harness) {
    let s = &h.store;
    let id = Uuid::now_v7();
    let first = s
        .publish(NewEvent::new("d", "p", "n").with_id(id), "spoke")
        .await
        .unwrap();
    h.advance(Duration::from_secs(5));
    let again = s
        .publish(NewEvent::new("d", "p", "n").with_id(id), "spoke")
        .await
        .unwrap();
    assert_eq!(first, again, "the retry gets the first append's result");
    assert_eq!(s.read_stream("d", "p").await.unwrap().len(), 1);

    // A batch retried with an expected version that no longer holds is still a retry.
    let ids = [Uuid::now_v7(), Uuid::now_v7()];
    let batch = || {
        AppendRequest::new(vec![
            NewEvent::new("d", "p", "x").with_id(ids[0]),
            NewEvent::new("d", "p", "y").with_id(ids[1]),
        ])
        .expect(ExpectedVersion::Exact(1))
    };
    let first = s.append(batch()).await.unwrap();
    let again = s.append(batch()).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(s.stream_version("d", "p").await.unwrap(), 3);
}

async fn reusing_an_id_for_another_event_is_a_duplicate_id_error(h: &Harness) {
    let s = &h.store;
    let id = Uuid::now_v7();
    s.append_one(NewEvent::new("d", "p", "n").with_id(id))
        .await
        .unwrap();
    let other = s
        .append_one(NewEvent::new("d", "p", "other").with_id(id))
        .await;
    assert_eq!(other.unwrap_err().code(), "E_EVENTFLOW_DUPLICATE_ID");
    let partial = s
        .append(AppendRequest::new(vec![
            NewEvent::new("d", "p", "n").with_id(id),
            NewEvent::new("d", "p", "new").with_id(Uuid::now_v7()),
        ]))
        .await;
    assert_eq!(partial.unwrap_err().code(), "E_EVENTFLOW_DUPLICATE_ID");
    assert_eq!(s.read_stream("d", "p").await.unwrap().len(), 1);
}

async fn expected_version_mismatch_is_a_conflict_and_writes_nothing(h: &Harness) {
    let s = &h.store;
    let create = |name: &str| AppendRequest::new(vec![NewEvent::new("d", "p", name)]);
    s.append(create("created").expect(ExpectedVersion::Exact(0)))
        .await
        .unwrap();
    let error = s
        .append(
            create("again")
                .expect(ExpectedVersion::Exact(0))
                .publish("spoke"),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "E_EVENTFLOW_CONFLICT");
    assert!(error.to_string().contains("version 1"), "{error}");
    s.append(create("next").expect(ExpectedVersion::Exact(1)))
        .await
        .unwrap();
    let names: Vec<_> = s
        .read_stream("d", "p")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(
        names,
        ["created", "next"],
        "the conflicting append wrote nothing"
    );
    assert!(
        s.pending_deliveries(10, 10).await.unwrap().is_empty(),
        "nor its publication"
    );
}

async fn read_event_returns_the_stored_event_or_not_found(h: &Harness) {
    let s = &h.store;
    let rid = Uuid::now_v7();
    let event = NewEvent::new("d", "p", "n")
        .with_data(json!({"k": [1, "two"]}))
        .with_rid(rid);
    let appended = s.append_one(event).await.unwrap();
    let read = s.read_event(appended.id).await.unwrap();
    assert_eq!(
        (read.id, read.position, read.version),
        (appended.id, appended.position, 1)
    );
    assert_eq!(
        (read.domain.as_str(), read.pid.as_str(), read.name.as_str()),
        ("d", "p", "n")
    );
    assert_eq!(read.data, json!({"k": [1, "two"]}));
    assert_eq!(read.rid, Some(rid));
    assert_eq!(read.timestamp, crate::common::T0);
    let missing = s.read_event(Uuid::now_v7()).await.unwrap_err();
    assert_eq!(missing.code(), "E_EVENTFLOW_EVENT_NOT_FOUND");
}

async fn read_stream_between_timestamps_is_inclusive(h: &Harness) {
    let s = &h.store;
    let mut stamps = Vec::new();
    for name in ["a", "b", "c", "d"] {
        stamps.push(
            s.append_one(NewEvent::new("d", "p", name))
                .await
                .unwrap()
                .timestamp,
        );
        h.advance(Duration::from_millis(10));
    }
    let names = |events: Vec<superhero_eventflow::Event>| {
        events.into_iter().map(|e| e.name).collect::<Vec<_>>()
    };
    let between = s
        .read_stream_between("d", "p", stamps[1], stamps[2])
        .await
        .unwrap();
    assert_eq!(names(between), ["b", "c"]);
    let all = s
        .read_stream_between("d", "p", stamps[0], stamps[3])
        .await
        .unwrap();
    assert_eq!(names(all), ["a", "b", "c", "d"]);
    let none = s
        .read_stream_between("d", "other", stamps[0], stamps[3])
        .await
        .unwrap();
    assert!(none.is_empty());
}

async fn read_stream_filtered_by_names(h: &Harness) {
    let s = &h.store;
    for name in ["placed", "paid", "Paid", "shipped"] {
        s.append_one(NewEvent::new("d", "p", name)).await.unwrap();
    }
    s.append_one(NewEvent::new("d", "q", "paid")).await.unwrap();
    let events = s
        .read_stream_by_names("d", "p", &["paid", "shipped"])
        .await
        .unwrap();
    let names: Vec<_> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["paid", "shipped"],
        "names compare case-sensitively, per stream"
    );
    assert!(
        s.read_stream_by_names("d", "p", &[])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn read_stream_backwards_pages_newest_first(h: &Harness) {
    let s = &h.store;
    for n in 1..=5 {
        s.append_one(NewEvent::new("feed", "f", "item").with_data(json!({"n": n})))
            .await
            .unwrap();
    }
    s.append_one(NewEvent::new("feed", "other", "item"))
        .await
        .unwrap();
    let versions = |events: Vec<superhero_eventflow::Event>| -> Vec<u64> {
        events.iter().map(|e| e.version).collect()
    };
    let first = s.read_stream_backwards("feed", "f", None, 2).await.unwrap();
    assert_eq!(versions(first), [5, 4]);
    let next = s
        .read_stream_backwards("feed", "f", Some(4), 2)
        .await
        .unwrap();
    assert_eq!(versions(next), [3, 2]);
    let last = s
        .read_stream_backwards("feed", "f", Some(2), 2)
        .await
        .unwrap();
    assert_eq!(versions(last), [1]);
    assert!(
        s.read_stream_backwards("feed", "f", Some(1), 2)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.read_stream_backwards("feed", "none", None, 2)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn associations_link_events_to_entities_and_child_processes(h: &Harness) {
    let s = &h.store;
    let first = s
        .append_one(
            NewEvent::new("order", "o1", "placed")
                .with_eid("customer-1")
                .with_cpid("payment", "pay-1"),
        )
        .await
        .unwrap();
    let second = s
        .append_one(NewEvent::new("invoice", "i1", "created"))
        .await
        .unwrap();
    assert!(s.add_eid(second.id, "customer-1").await.unwrap());
    assert!(
        !s.add_eid(second.id, "customer-1").await.unwrap(),
        "a link exists once"
    );
    let child = ChildProcess {
        domain: "payment".into(),
        cpid: "pay-1".into(),
    };
    assert!(s.add_cpid(second.id, &child).await.unwrap());

    let ids = |events: Vec<superhero_eventflow::Event>| {
        events.into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    assert_eq!(
        ids(s.read_by_eid("customer-1").await.unwrap()),
        [first.id, second.id]
    );
    assert_eq!(
        ids(s
            .read_by_domain_and_eid("invoice", "customer-1")
            .await
            .unwrap()),
        [second.id]
    );
    assert_eq!(
        ids(s.read_by_cpid("payment", "pay-1").await.unwrap()),
        [first.id, second.id]
    );
    assert!(
        s.read_by_cpid("order", "pay-1").await.unwrap().is_empty(),
        "cpid domain is the child's"
    );
    assert_eq!(s.eids_of(first.id).await.unwrap(), ["customer-1"]);
    assert_eq!(
        s.cpids_of(first.id).await.unwrap(),
        std::slice::from_ref(&child)
    );

    assert!(s.remove_eid(second.id, "customer-1").await.unwrap());
    assert!(!s.remove_eid(second.id, "customer-1").await.unwrap());
    assert!(s.eids_of(second.id).await.unwrap().is_empty());
    assert!(s.remove_cpid(second.id, &child).await.unwrap());
    assert!(s.cpids_of(second.id).await.unwrap().is_empty());
    let missing = s.add_eid(Uuid::now_v7(), "x").await.unwrap_err();
    assert_eq!(missing.code(), "E_EVENTFLOW_EVENT_NOT_FOUND");
}

async fn distinct_pids_are_sorted_per_domain(h: &Harness) {
    let s = &h.store;
    for pid in ["b", "a", "B", "b", "c"] {
        s.append_one(NewEvent::new("d", pid, "n")).await.unwrap();
    }
    s.append_one(NewEvent::new("other", "z", "n"))
        .await
        .unwrap();
    assert_eq!(
        s.distinct_pids("d").await.unwrap(),
        ["B", "a", "b", "c"],
        "bytewise order"
    );
    assert!(s.distinct_pids("none").await.unwrap().is_empty());
}

async fn catch_up_reads_pages_in_position_order_with_filters(h: &Harness) {
    let s = &h.store;
    let mut all = Vec::new();
    for i in 0..7 {
        let domain = if i % 2 == 0 { "even" } else { "odd" };
        let name = if i % 3 == 0 { "three" } else { "other" };
        let pid = if i < 4 { "p" } else { "q" };
        all.push(
            s.append_one(NewEvent::new(domain, pid, name))
                .await
                .unwrap()
                .position,
        );
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = s.read_from(&CatchUp::after(after, 3)).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        seen.extend(page.iter().map(|e| e.position));
    }
    assert_eq!(seen, all);
    let even = s
        .read_from(&CatchUp::after(0, 100).domain("even"))
        .await
        .unwrap();
    assert_eq!(even.len(), 4);
    let threes = s
        .read_from(&CatchUp::after(0, 100).domain("even").names(["three"]))
        .await
        .unwrap();
    let positions: Vec<u64> = threes.iter().map(|e| e.position).collect();
    assert_eq!(positions, [all[0], all[6]]);
    let tail = s.read_from(&CatchUp::after(all[5], 100)).await.unwrap();
    assert_eq!(tail.len(), 1);
    // One process of a domain: "even" events 0 and 2 are process p, 4 and 6 are q.
    let q = s
        .read_from(&CatchUp::after(0, 100).process("even", "q"))
        .await
        .unwrap();
    let positions: Vec<u64> = q.iter().map(|e| e.position).collect();
    assert_eq!(positions, [all[4], all[6]]);
    let q_after = s
        .read_from(&CatchUp::after(all[4], 100).process("even", "q"))
        .await
        .unwrap();
    assert_eq!(q_after.len(), 1);
    assert_eq!(q_after[0].position, all[6]);
}

async fn delete_event_and_delete_stream_remove_everything_linked(h: &Harness) {
    let s = &h.store;
    let event = NewEvent::new("d", "p", "n")
        .with_eid("e")
        .with_cpid("c", "1");
    let first = s.publish(event, "spoke").await.unwrap();
    let second = s.append_one(NewEvent::new("d", "p", "m")).await.unwrap();
    assert!(s.delete_event(first.id).await.unwrap());
    assert!(!s.delete_event(first.id).await.unwrap(), "already gone");
    assert_eq!(
        s.read_event(first.id).await.unwrap_err().code(),
        "E_EVENTFLOW_EVENT_NOT_FOUND"
    );
    assert!(
        s.publication(first.id).await.unwrap().is_none(),
        "its publication went with it"
    );
    assert!(s.read_by_eid("e").await.unwrap().is_empty());
    assert!(s.read_by_cpid("c", "1").await.unwrap().is_empty());
    assert_eq!(s.read_event(second.id).await.unwrap().name, "m");

    s.append_one(NewEvent::new("d", "p", "o")).await.unwrap();
    assert_eq!(s.delete_stream("d", "p").await.unwrap(), 2);
    assert!(s.read_stream("d", "p").await.unwrap().is_empty());
    assert_eq!(s.delete_stream("d", "p").await.unwrap(), 0);
    // A deleted stream starts again at version 1; positions keep increasing.
    let again = s.append_one(NewEvent::new("d", "p", "n")).await.unwrap();
    assert_eq!(again.version, 1);
    assert!(again.position > second.position);
}

async fn read_state_projects_the_stream_data(h: &Harness) {
    let s = &h.store;
    for data in [
        json!({"key1": 1, "list": [1]}),
        json!({"key2": {"x": true}, "list": [1, 2]}),
        json!([9]),
    ] {
        s.append_one(NewEvent::new("d", "p", "n").with_data(data))
            .await
            .unwrap();
    }
    let state = s.read_state("d", "p").await.unwrap();
    assert_eq!(
        state,
        json!({"key1": 1, "key2": {"x": true}, "list": [1, 2]})
    );
    assert_eq!(s.read_state("d", "empty").await.unwrap(), json!({}));
}

async fn data_round_trips_and_large_batches_are_split(h: &Harness) {
    let s = &h.store;
    let data = json!({
        "text": "smörgåsbord ✓ \"quoted\" \\ ' ?",
        "numbers": [0, -1, 1.5, 9_007_199_254_740_993_u64],
        "nested": {"null": null, "empty": {}, "list": []},
        "bool": false
    });
    let appended = s
        .append_one(NewEvent::new("dömäin", "pïd ?", "名前").with_data(data.clone()))
        .await
        .unwrap();
    let read = s.read_event(appended.id).await.unwrap();
    assert_eq!(read.data, data);
    assert_eq!(
        (read.domain.as_str(), read.pid.as_str(), read.name.as_str()),
        ("dömäin", "pïd ?", "名前")
    );

    let events: Vec<_> = (0..450)
        .map(|i| {
            NewEvent::new("bulk", "p", "n")
                .with_data(json!({"i": i}))
                .with_eid(format!("e{}", i % 3))
        })
        .collect();
    let appended = s
        .append(AppendRequest::new(events).publish("spoke"))
        .await
        .unwrap();
    assert_eq!(appended.len(), 450);
    assert_eq!(appended.last().map(|a| a.version), Some(450));
    let stream = s.read_stream("bulk", "p").await.unwrap();
    assert!(
        stream
            .iter()
            .enumerate()
            .all(|(i, e)| e.data == json!({"i": i}))
    );
    assert_eq!(s.read_by_eid("e0").await.unwrap().len(), 150);
    assert_eq!(s.pending_deliveries(5, 1000).await.unwrap().len(), 450);
}
