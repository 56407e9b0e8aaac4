//! Publish, subscribe, consume: broadcast to every subscriber, exactly one consumer per
//! event, retries, leases, parking and replay.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use superhero_eventflow::{HubConfig, NewEvent, ParkedQuery, Spoke, SpokeConfig};
use uuid::Uuid;

use crate::common::Db;
use crate::common::cluster::{Cluster, connected, eventually, hub_config, spoke_config};

superhero_testkit::each_backend!(
    publish_reaches_every_subscriber,
    announced_events_reach_subscribers_once_and_never_a_consumer,
    a_handler_slower_than_its_lease_keeps_the_event_and_runs_once,
    a_slow_failing_first_attempt_then_a_success_settles_the_event_with_two_runs,
    consume_with_three_spokes_handles_5000_events_exactly_once,
    an_erroring_consumer_is_retried_and_succeeds,
    a_consumer_killed_mid_handling_is_redelivered_to_another_spoke,
    a_poison_event_is_parked_after_max_deliveries_and_can_be_replayed,
    subscribers_and_waiters_never_take_a_consume_claim,
    overlapping_waits_each_receive_their_own_reply,
);

const WITHIN: Duration = Duration::from_secs(60);

/// Handled event ids per spoke.
type Handled = Arc<Mutex<Vec<(usize, Uuid)>>>;

fn count_into(spoke: &Spoke, n: usize, handled: &Handled, domain: &str, name: &str) {
    let handled = handled.clone();
    spoke
        .consume(domain, name, move |event| {
            let handled = handled.clone();
            async move {
                handled.lock().unwrap().push((n, event.id));
                Ok(())
            }
        })
        .unwrap();
}

async fn announced_events_reach_subscribers_once_and_never_a_consumer(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let announcer = cluster.spoke().await;
    let listener = cluster.spoke().await;
    let consumer = cluster.spoke().await;
    let mut subscription = listener.subscribe("audit", "*").unwrap();
    let handled = Handled::default();
    count_into(&consumer, 0, &handled, "audit", "viewed");
    for spoke in [&announcer, &listener, &consumer] {
        connected(spoke, 1).await;
    }
    let mut announced = Vec::new();
    for i in 0..10 {
        let event = NewEvent::new("audit", format!("u-{}", i % 3), "viewed");
        announced.push(announcer.announce(event).await.unwrap().id);
    }
    let mut received = Vec::new();
    while received.len() < announced.len() {
        let event = tokio::time::timeout(WITHIN, subscription.recv())
            .await
            .expect("a notice")
            .expect("open");
        received.push(event.id);
    }
    assert_eq!(
        received, announced,
        "every subscriber notice, once, in order"
    );
    for id in &announced {
        assert!(
            cluster.store.publication(*id).await.unwrap().is_none(),
            "no delivery bookkeeping"
        );
    }
    let stored = cluster.store.read_stream("audit", "u-0").await.unwrap();
    assert_eq!(stored.len(), 4, "announced events are stored");
    // The consumer never sees them, whatever the sweep does.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(handled.lock().unwrap().is_empty());
    assert!(subscription.try_recv().is_none(), "no second notice");
    for spoke in [announcer, listener, consumer] {
        spoke.shutdown().await;
    }
    hub.shutdown().await;
}

async fn a_handler_slower_than_its_lease_keeps_the_event_and_runs_once(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let config = SpokeConfig {
        lease_ms: 1_000,
        ..spoke_config()
    };
    let runs = Arc::new(AtomicU32::new(0));
    let mut consumers = Vec::new();
    for _ in 0..2 {
        let spoke = cluster.spoke_with(config.clone()).await;
        let runs = runs.clone();
        spoke
            .consume("slow", "job", move |_event| {
                let runs = runs.clone();
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    // Three leases long: the lease is renewed while it runs.
                    tokio::time::sleep(Duration::from_millis(3_000)).await;
                    Ok(())
                }
            })
            .unwrap();
        connected(&spoke, 1).await;
        consumers.push(spoke);
    }
    let publisher = cluster.spoke().await;
    connected(&publisher, 1).await;
    let id = publisher
        .publish(NewEvent::new("slow", "j-1", "job"))
        .await
        .unwrap()
        .id;
    eventually(WITHIN, "the slow job succeeds", || async {
        cluster
            .store
            .publication(id)
            .await
            .unwrap()
            .is_some_and(|p| p.succeeded_at.is_some())
    })
    .await;
    // Give a wrongful redelivery time to show.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1, "handled once");
    let publication = cluster.store.publication(id).await.unwrap().unwrap();
    assert_eq!(publication.deliveries, 1);
    for spoke in consumers.into_iter().chain([publisher]) {
        spoke.shutdown().await;
    }
    hub.shutdown().await;
}

async fn a_slow_failing_first_attempt_then_a_success_settles_the_event_with_two_runs(db: Db) {
    for max_deliveries in [2, 3] {
        let cluster = Cluster::new(db).await;
        let hub = cluster
            .hub_with(HubConfig {
                max_deliveries,
                ..hub_config()
            })
            .await;
        let spoke = cluster
            .spoke_with(SpokeConfig {
                lease_ms: 1_500,
                max_deliveries,
                ..spoke_config()
            })
            .await;
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        spoke
            .consume("flaky", "job", move |_event| {
                let runs = counter.clone();
                async move {
                    if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                        tokio::time::sleep(Duration::from_millis(2_500)).await;
                        Err("the first attempt fails".into())
                    } else {
                        tokio::time::sleep(Duration::from_millis(1_200)).await;
                        Ok(())
                    }
                }
            })
            .unwrap();
        connected(&spoke, 1).await;
        let id = spoke
            .publish(NewEvent::new("flaky", "j-1", "job"))
            .await
            .unwrap()
            .id;
        eventually(WITHIN, "the job is settled", || async {
            cluster
                .store
                .publication(id)
                .await
                .unwrap()
                .is_some_and(|p| p.succeeded_at.is_some() || p.parked_at.is_some())
        })
        .await;
        tokio::time::sleep(Duration::from_millis(2_000)).await;
        let publication = cluster.store.publication(id).await.unwrap().unwrap();
        assert!(
            publication.succeeded_at.is_some() && publication.parked_at.is_none(),
            "max {max_deliveries}: succeeded, not parked: {publication:?}"
        );
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "max {max_deliveries}: run twice"
        );
        spoke.shutdown().await;
        hub.shutdown().await;
    }
}

async fn publish_reaches_every_subscriber(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let publisher = cluster.spoke().await;
    let named = cluster.spoke().await;
    let wildcard = cluster.spoke().await;
    let mut by_name = named.subscribe("order", "placed").unwrap();
    let mut by_domain = wildcard.subscribe("order", "*").unwrap();
    for spoke in [&publisher, &named, &wildcard] {
        connected(spoke, 1).await;
    }
    let mut published = Vec::new();
    for i in 0..20 {
        let event = NewEvent::new("order", format!("o-{i}"), "placed");
        published.push(publisher.publish(event).await.unwrap().id);
    }
    publisher
        .publish(NewEvent::new("order", "o-x", "paid"))
        .await
        .unwrap();
    let mut named_got = Vec::new();
    while named_got.len() < 20 {
        let event = tokio::time::timeout(WITHIN, by_name.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(event.name, "placed");
        named_got.push(event.id);
    }
    let mut domain_got = Vec::new();
    while domain_got.len() < 21 {
        let event = tokio::time::timeout(WITHIN, by_domain.recv())
            .await
            .unwrap()
            .unwrap();
        domain_got.push(event.id);
    }
    // Notices of different processes are not ordered (batches route concurrently); the
    // event-log is the place for order.
    let mut expected = published.clone();
    expected.sort();
    named_got.sort();
    assert_eq!(
        named_got, expected,
        "the named subscriber saw every event once"
    );
    domain_got.retain(|id| published.contains(id));
    domain_got.sort();
    assert_eq!(
        domain_got, expected,
        "the wildcard subscriber saw every event once"
    );
    // Events with subscribers but no consumer are settled, not left open.
    let publication = cluster
        .store
        .publication(published[0])
        .await
        .unwrap()
        .unwrap();
    eventually(WITHIN, "the event is settled", || async {
        cluster
            .store
            .publication(published[0])
            .await
            .unwrap()
            .unwrap()
            .succeeded_at
            .is_some()
    })
    .await;
    assert!(publication.consumer.is_none());
    for spoke in [publisher, named, wildcard] {
        spoke.shutdown().await;
    }
    hub.shutdown().await;
}

async fn consume_with_three_spokes_handles_5000_events_exactly_once(db: Db) {
    const EVENTS: usize = 5_000;
    let cluster = Cluster::new(db).await;
    // Leases as in production: this test is about competition, not expiry (a 1 s lease can
    // lapse under a loaded test machine, and a lapsed lease rightly means redelivery).
    let hub = cluster
        .hub_with(HubConfig {
            route_lease_ms: 10_000,
            ..hub_config()
        })
        .await;
    let handled: Handled = Arc::default();
    let mut consumers = Vec::new();
    for n in 0..3 {
        let spoke = cluster
            .spoke_with(SpokeConfig {
                lease_ms: 30_000,
                ..spoke_config()
            })
            .await;
        count_into(&spoke, n, &handled, "load", "tick");
        connected(&spoke, 1).await;
        consumers.push(spoke);
    }
    let publisher = cluster.spoke().await;
    connected(&publisher, 1).await;
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..10 {
        let publisher = publisher.clone();
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EVENTS / 10 {
                let event = NewEvent::new("load", format!("p-{chunk}-{i}"), "tick");
                ids.push(publisher.publish(event).await.expect("publish").id);
            }
            ids
        });
    }
    let published: Vec<Uuid> = tasks.join_all().await.into_iter().flatten().collect();
    assert_eq!(published.len(), EVENTS);
    eventually(
        Duration::from_secs(180),
        "every event is handled",
        || async { handled.lock().unwrap().len() >= EVENTS },
    )
    .await;
    // Let any duplicate show itself.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let handled = handled.lock().unwrap().clone();
    let mut times: HashMap<Uuid, usize> = HashMap::new();
    let mut per_spoke = [0usize; 3];
    for (spoke, id) in &handled {
        *times.entry(*id).or_default() += 1;
        per_spoke[*spoke] += 1;
    }
    assert_eq!(times.len(), EVENTS, "none lost");
    assert!(times.values().all(|n| *n == 1), "none handled twice");
    assert!(published.iter().all(|id| times.contains_key(id)));
    assert!(
        per_spoke.iter().all(|n| *n > 0),
        "all three competed: {per_spoke:?}"
    );
    for spoke in consumers {
        spoke.shutdown().await;
    }
    publisher.shutdown().await;
    hub.shutdown().await;
}

async fn an_erroring_consumer_is_retried_and_succeeds(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let spoke = cluster.spoke().await;
    let attempts = Arc::new(AtomicU32::new(0));
    let seen = attempts.clone();
    spoke
        .consume("pay", "charge", move |_event| {
            let attempt = seen.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                if attempt < 3 {
                    Err(format!("card declined (attempt {attempt})").into())
                } else {
                    Ok(())
                }
            }
        })
        .unwrap();
    connected(&spoke, 1).await;
    let id = spoke
        .publish(NewEvent::new("pay", "p-1", "charge"))
        .await
        .unwrap()
        .id;
    eventually(WITHIN, "the third attempt succeeds", || async {
        cluster
            .store
            .publication(id)
            .await
            .unwrap()
            .is_some_and(|p| p.succeeded_at.is_some())
    })
    .await;
    let publication = cluster.store.publication(id).await.unwrap().unwrap();
    assert_eq!(publication.deliveries, 3);
    assert!(publication.last_error.unwrap().contains("attempt 2"));
    assert!(publication.parked_at.is_none());
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    spoke.shutdown().await;
    hub.shutdown().await;
}

async fn a_consumer_killed_mid_handling_is_redelivered_to_another_spoke(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let doomed = cluster.spoke().await;
    let started = Arc::new(AtomicU32::new(0));
    let flag = started.clone();
    doomed
        .consume("job", "run", move |_event| {
            flag.fetch_add(1, Ordering::SeqCst);
            async move {
                // Hangs: only the lease can take the event away.
                std::future::pending::<()>().await;
                Ok(())
            }
        })
        .unwrap();
    connected(&doomed, 1).await;
    let id = doomed
        .publish(NewEvent::new("job", "j-1", "run"))
        .await
        .unwrap()
        .id;
    eventually(WITHIN, "the doomed spoke started handling", || async {
        started.load(Ordering::SeqCst) == 1
    })
    .await;
    let survivor = cluster.spoke().await;
    let handled: Handled = Arc::default();
    count_into(&survivor, 1, &handled, "job", "run");
    connected(&survivor, 1).await;
    doomed.kill().await;
    eventually(WITHIN, "the survivor handles the event", || async {
        !handled.lock().unwrap().is_empty()
    })
    .await;
    assert_eq!(handled.lock().unwrap()[0].1, id);
    eventually(WITHIN, "success is recorded", || async {
        cluster
            .store
            .publication(id)
            .await
            .unwrap()
            .is_some_and(|p| p.succeeded_at.is_some())
    })
    .await;
    let publication = cluster.store.publication(id).await.unwrap().unwrap();
    assert_eq!(publication.consumer.as_deref(), Some(survivor.id()));
    assert_eq!(publication.deliveries, 2);
    survivor.shutdown().await;
    hub.shutdown().await;
}

async fn a_poison_event_is_parked_after_max_deliveries_and_can_be_replayed(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let spoke = cluster.spoke().await;
    let attempts = Arc::new(AtomicU32::new(0));
    let seen = attempts.clone();
    spoke
        .consume("mail", "send", move |_event| {
            seen.fetch_add(1, Ordering::SeqCst);
            async { Err("smtp refused".into()) }
        })
        .unwrap();
    connected(&spoke, 1).await;
    let id = spoke
        .publish(NewEvent::new("mail", "m-1", "send"))
        .await
        .unwrap()
        .id;
    eventually(WITHIN, "the event is parked", || async {
        cluster
            .store
            .publication(id)
            .await
            .unwrap()
            .is_some_and(|p| p.parked_at.is_some())
    })
    .await;
    assert_eq!(attempts.load(Ordering::SeqCst), 3, "max_deliveries = 3");
    let parked = cluster
        .store
        .parked(&ParkedQuery::after(0, 10))
        .await
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].event.id, id);
    assert_eq!(parked[0].last_error.as_deref(), Some("smtp refused"));

    // Fixed consumer, then replay.
    assert!(spoke.unconsume("mail", "send"));
    let handled: Handled = Arc::default();
    count_into(&spoke, 0, &handled, "mail", "send");
    spoke.sync(Duration::from_secs(5)).await;
    assert_eq!(cluster.store.replay_parked(&[id]).await.unwrap(), 1);
    eventually(WITHIN, "the replayed event is handled", || async {
        !handled.lock().unwrap().is_empty()
    })
    .await;
    eventually(WITHIN, "success is recorded", || async {
        cluster
            .store
            .publication(id)
            .await
            .unwrap()
            .is_some_and(|p| p.succeeded_at.is_some())
    })
    .await;
    spoke.shutdown().await;
    hub.shutdown().await;
}

async fn subscribers_and_waiters_never_take_a_consume_claim(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let watcher = cluster.spoke().await;
    let mut subscription = watcher.subscribe("order", "*").unwrap();
    let consumer = cluster.spoke().await;
    let handled: Handled = Arc::default();
    count_into(&consumer, 0, &handled, "order", "placed");
    connected(&watcher, 1).await;
    connected(&consumer, 1).await;
    let waiting = {
        let watcher = watcher.clone();
        tokio::spawn(async move {
            watcher
                .wait("order", "o-9", &["placed"], Duration::from_secs(30))
                .await
        })
    };
    let mut ids = Vec::new();
    for i in 0..10 {
        let event = NewEvent::new("order", format!("o-{i}"), "placed");
        ids.push(watcher.publish(event).await.unwrap().id);
    }
    let waited = waiting.await.unwrap().unwrap();
    assert_eq!(waited.pid, "o-9");
    for _ in 0..10 {
        tokio::time::timeout(WITHIN, subscription.recv())
            .await
            .unwrap()
            .unwrap();
    }
    eventually(WITHIN, "the consumer handled all", || async {
        handled.lock().unwrap().len() == 10
    })
    .await;
    for id in ids {
        let publication = cluster.store.publication(id).await.unwrap().unwrap();
        assert_eq!(publication.consumer.as_deref(), Some(consumer.id()));
        assert_eq!(publication.deliveries, 1);
    }
    watcher.shutdown().await;
    consumer.shutdown().await;
    hub.shutdown().await;
}

/// Waits that overlap share the spoke's subscription and skip the hub round trip after
/// the first; each must still receive its own reply by notification alone (the
/// event-log re-read backstop is set beyond the test's patience).
async fn overlapping_waits_each_receive_their_own_reply(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let waiter = cluster
        .spoke_with(SpokeConfig {
            wait_recheck_ms: 600_000,
            ..spoke_config()
        })
        .await;
    let replier = cluster.spoke().await;
    {
        let publisher = replier.clone();
        replier
            .consume("cmd", "asked", move |event| {
                let publisher = publisher.clone();
                async move {
                    let reply =
                        NewEvent::new("cmd", event.pid.clone(), "answered").with_rid(event.id);
                    publisher.publish(reply).await?;
                    Ok(())
                }
            })
            .unwrap();
    }
    connected(&waiter, 1).await;
    connected(&replier, 1).await;
    // Keeps the (cmd, answered) subscription alive and synced throughout.
    let anchor = {
        let waiter = waiter.clone();
        tokio::spawn(async move {
            waiter
                .wait("cmd", "anchor", &["answered"], Duration::from_secs(50))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut waits = Vec::new();
    for i in 0..40 {
        let waiter = waiter.clone();
        waits.push(tokio::spawn(async move {
            let pid = format!("c-{i}");
            let asked = waiter
                .publish(NewEvent::new("cmd", pid.clone(), "asked"))
                .await
                .unwrap();
            let reply = waiter
                .wait_for_reply(
                    "cmd",
                    &pid,
                    &["answered"],
                    asked.id,
                    Duration::from_secs(30),
                )
                .await
                .unwrap_or_else(|e| panic!("the reply to {pid}: {e}"));
            (pid, asked.id, reply)
        }));
    }
    for wait in waits {
        let (pid, asked, reply) = wait.await.unwrap();
        assert_eq!(reply.pid, pid);
        assert_eq!(reply.rid, Some(asked));
    }
    anchor.abort();
    waiter.shutdown().await;
    replier.shutdown().await;
    hub.shutdown().await;
}
