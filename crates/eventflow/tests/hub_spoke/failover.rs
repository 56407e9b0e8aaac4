//! Many hubs: a hub dying, hubs appearing later, spokes before hubs.

use std::time::Duration;

use superhero_eventflow::net::Message;
use superhero_eventflow::{AppendRequest, HubConfig, NewEvent, SpokeConfig};
use superhero_testkit::{TcpProxy, free_port};

use crate::common::Db;
use crate::common::cluster::{
    Cluster, Handled, connected, count_handled, eventually, hub_config, spoke_config,
};

superhero_testkit::each_backend!(
    two_hubs_kill_one_and_spokes_keep_delivering_through_the_other,
    a_spoke_started_before_any_hub_delivers_once_a_hub_starts,
    a_new_hub_is_announced_and_spokes_connect_to_it,
    orphans_of_one_name_do_not_hide_the_orphans_of_another,
    a_link_that_stops_forwarding_is_noticed_by_both_ends_and_redialed,
    a_consumer_away_finds_its_groups_events_though_subscribers_took_them,
    a_running_hub_marked_quit_rejoins_and_spokes_dial_it_again,
);

const WITHIN: Duration = Duration::from_secs(60);

async fn two_hubs_kill_one_and_spokes_keep_delivering_through_the_other(db: Db) {
    let cluster = Cluster::new(db).await;
    let doomed = cluster.hub().await;
    let survivor = cluster.hub().await;
    let seen = Handled::default();
    // The consumers stay alive: their leases need not lapse (a 1 s lease can lapse on a
    // loaded machine, which rightly means redelivery).
    let config = SpokeConfig {
        lease_ms: 30_000,
        ..spoke_config()
    };
    let a = cluster.spoke_with(config.clone()).await;
    let b = cluster.spoke_with(config).await;
    count_handled(&a, "flow", "step", &seen);
    count_handled(&b, "flow", "step", &seen);
    let publisher = cluster.spoke().await;
    for spoke in [&a, &b, &publisher] {
        connected(spoke, 2).await;
    }
    let mut ids = Vec::new();
    for i in 0..300 {
        if i == 100 {
            doomed.kill().await;
        }
        let event = NewEvent::new("flow", format!("f-{i}"), "step");
        ids.push(publisher.publish(event).await.unwrap().id);
    }
    eventually(WITHIN, "every event is handled", || async {
        seen.lock().unwrap().len() >= ids.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let seen = seen.lock().unwrap().clone();
    assert!(
        ids.iter().all(|id| seen.get(id) == Some(&1)),
        "no loss, no duplicate"
    );
    assert_eq!(seen.len(), ids.len());
    assert_eq!(publisher.connected_hubs(), [survivor.id().to_owned()]);
    for spoke in [a, b, publisher] {
        spoke.shutdown().await;
    }
    survivor.shutdown().await;
}

async fn a_spoke_started_before_any_hub_delivers_once_a_hub_starts(db: Db) {
    let cluster = Cluster::new(db).await;
    // No hub yet: not even the certificate chain exists.
    let consumer = cluster.spoke().await;
    let seen = Handled::default();
    count_handled(&consumer, "flow", "step", &seen);
    let publisher = cluster.spoke().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let event = NewEvent::new("flow", format!("early-{i}"), "step");
        ids.push(
            publisher
                .publish(event)
                .await
                .expect("durable without a hub")
                .id,
        );
    }
    assert!(publisher.connected_hubs().is_empty());
    let hub = cluster.hub().await;
    eventually(WITHIN, "the early events are handled", || async {
        seen.lock().unwrap().len() >= ids.len()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        ids.iter()
            .all(|id| seen.lock().unwrap().get(id) == Some(&1))
    );
    consumer.shutdown().await;
    publisher.shutdown().await;
    hub.shutdown().await;
}

async fn a_new_hub_is_announced_and_spokes_connect_to_it(db: Db) {
    let cluster = Cluster::new(db).await;
    let first = cluster.hub().await;
    // A slow registry poll: the spoke can only learn of the second hub by its announcement.
    let mut config = spoke_config();
    config.hub_poll_ms = 600_000;
    let spoke = cluster.spoke_with(config).await;
    connected(&spoke, 1).await;
    let second = cluster.hub().await;
    eventually(
        WITHIN,
        "the spoke connects to the announced hub",
        || async { spoke.connected_hubs().len() == 2 },
    )
    .await;
    // And it re-subscribed there: a subscription works through either hub.
    let mut subscription = spoke.subscribe("flow", "*").unwrap();
    spoke.sync(Duration::from_secs(5)).await;
    first.kill().await;
    let id = spoke
        .publish(NewEvent::new("flow", "x", "hello"))
        .await
        .unwrap()
        .id;
    let event = tokio::time::timeout(WITHIN, subscription.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(event.id, id);
    let _ = Message::Sync { id: 0 };
    spoke.shutdown().await;
    second.shutdown().await;
}

async fn orphans_of_one_name_do_not_hide_the_orphans_of_another(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let publisher = cluster.spoke().await;
    connected(&publisher, 1).await;
    // More orphans of an unwanted name than one release page holds, then the wanted one.
    let unwanted = (0..600)
        .map(|n| NewEvent::new("shop", format!("p-{n}"), "ignored"))
        .collect();
    publisher
        .publish_all(AppendRequest::new(unwanted))
        .await
        .unwrap();
    let wanted = publisher
        .publish(NewEvent::new("shop", "p-x", "wanted"))
        .await
        .unwrap()
        .id;
    let store = publisher.store().clone();
    eventually(WITHIN, "every event is an orphan", || async {
        store.orphans("shop", None, 1_000).await.unwrap().len() == 601
    })
    .await;

    let subscriber = cluster.spoke().await;
    let mut subscription = subscriber.subscribe("shop", "wanted").unwrap();
    let event = tokio::time::timeout(WITHIN, subscription.recv())
        .await
        .expect("the wanted orphan is released")
        .unwrap();
    assert_eq!(event.id, wanted);
    subscriber.shutdown().await;
    publisher.shutdown().await;
    hub.shutdown().await;
}

/// The hub is reached through a proxy that stops forwarding while keeping both TCP ends
/// open: TCP keep-alive cannot tell (the proxy answers its probes), so the spoke and the
/// hub notice by the missing pings within their idle timeout, close, and the spoke redials
/// once the link forwards again; then events flow as before.
async fn a_link_that_stops_forwarding_is_noticed_by_both_ends_and_redialed(db: Db) {
    let cluster = Cluster::new(db).await;
    let port = free_port();
    let proxy = TcpProxy::start(std::net::SocketAddr::from(([127, 0, 0, 1], port))).await;
    let hub = cluster
        .hub_with(HubConfig {
            internal_port: port,
            external_port: Some(proxy.addr().port()),
            idle_timeout_ms: 1_000,
            ..hub_config()
        })
        .await;
    let spoke = cluster
        .spoke_with(SpokeConfig {
            idle_timeout_ms: 1_000,
            lease_ms: 30_000,
            ..spoke_config()
        })
        .await;
    let seen = Handled::default();
    count_handled(&spoke, "link", "step", &seen);
    connected(&spoke, 1).await;

    proxy.freeze();
    eventually(WITHIN, "the spoke gives up the silent link", || async {
        spoke.connected_hubs().is_empty()
    })
    .await;
    eventually(WITHIN, "the hub gives up the silent link", || async {
        hub.connections().is_empty()
    })
    .await;

    proxy.thaw();
    connected(&spoke, 1).await;
    let id = spoke
        .publish(NewEvent::new("link", "l-1", "step"))
        .await
        .unwrap()
        .id;
    eventually(WITHIN, "the event is handled over the new link", || async {
        seen.lock().unwrap().contains_key(&id)
    })
    .await;
    spoke.shutdown().await;
    hub.shutdown().await;
}

/// A consumer that is away (restarting here) when events of its group are published: a
/// subscriber takes them at once, and the hub, seeing subscribers and no consumer, must
/// not settle them. Found by the soak (issue 15): a hub cut off from every consumer
/// settled each event the driver's waiter subscribed to, and the consumers never saw it.
async fn a_consumer_away_finds_its_groups_events_though_subscribers_took_them(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let watcher = cluster.spoke().await;
    let mut subscription = watcher.subscribe("order", "*").unwrap();
    let handled: Handled = Default::default();
    let first = cluster.spoke().await;
    count_handled(&first, "order", "placed", &handled);
    connected(&watcher, 1).await;
    connected(&first, 1).await;
    eventually(WITHIN, "the hub recorded the consumer group", || async {
        cluster.store.consumer_groups().await.unwrap()
            == [("order".to_owned(), "placed".to_owned())]
    })
    .await;
    first.shutdown().await;

    let mut ids = Vec::new();
    for i in 0..5 {
        let event = NewEvent::new("order", format!("o-{i}"), "placed");
        ids.push(watcher.publish(event).await.unwrap().id);
    }
    for _ in 0..5 {
        tokio::time::timeout(WITHIN, subscription.recv())
            .await
            .expect("the subscriber is notified")
            .unwrap();
    }
    for id in &ids {
        let publication = cluster.store.publication(*id).await.unwrap().unwrap();
        assert!(
            publication.succeeded_at.is_none(),
            "not settled while its consumer is away: {publication:?}"
        );
    }

    let second = cluster.spoke().await;
    count_handled(&second, "order", "placed", &handled);
    eventually(
        WITHIN,
        "the returning consumer handled every event",
        || async {
            ids.iter()
                .all(|id| handled.lock().unwrap().get(id) == Some(&1))
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        handled.lock().unwrap().values().all(|n| *n == 1),
        "once each"
    );
    watcher.shutdown().await;
    second.shutdown().await;
    hub.shutdown().await;
}

/// A hub whose heartbeat lapsed while it kept running (its store unreachable for longer
/// than the ttl) is marked quit by the others; it rejoins at its next heartbeat, and new
/// spokes dial it. Found by the soak: such hubs asked for a manual restart.
async fn a_running_hub_marked_quit_rejoins_and_spokes_dial_it_again(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    assert!(cluster.store.quit_hub(hub.id()).await.unwrap());
    let ttl = Duration::from_millis(hub_config().hub_ttl_ms);
    eventually(WITHIN, "the hub rejoined the registry", || async {
        cluster
            .store
            .live_hubs(ttl)
            .await
            .unwrap()
            .iter()
            .any(|h| h.registration.id == hub.id())
    })
    .await;
    let spoke = cluster.spoke().await;
    connected(&spoke, 1).await;
    spoke.shutdown().await;
    hub.shutdown().await;
}
