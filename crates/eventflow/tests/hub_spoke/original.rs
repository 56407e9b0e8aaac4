//! The original hub and spoke tests (eventflow.md 9.1 and 9.4) that still apply.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use superhero_eventflow::certs::{NodeTls, Role};
use superhero_eventflow::net::Message;
use superhero_eventflow::net::conn::{self, Codec};
use superhero_eventflow::{NewEvent, Timestamp};
use tokio_util::codec::FramedRead;

use crate::common::Db;
use crate::common::cluster::{Cluster, connected, eventually};

superhero_testkit::each_backend!(
    hub_handles_spoke_connections,
    hub_relays_a_peer_hubs_online_announcement,
    a_subscription_made_after_publishing_still_receives_the_event,
    a_consumer_registered_after_publishing_still_consumes_the_event,
    wait_sees_an_event_published_before_it_began,
    wait_times_out_and_ignores_other_processes,
    schedule_now_resolves_and_is_delivered,
    spoke_reads_deletes_and_projects_event_logs,
);

const WITHIN: Duration = Duration::from_secs(30);

async fn hub_handles_spoke_connections(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    assert!(hub.connections().is_empty());
    let spoke = cluster.spoke().await;
    connected(&spoke, 1).await;
    let connections = hub.connections();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].id, spoke.id());
    assert_eq!(connections[0].role, Role::Spoke);
    spoke.shutdown().await;
    eventually(WITHIN, "the hub drops the closed connection", || async {
        hub.connections().is_empty()
    })
    .await;
    hub.shutdown().await;
}

async fn hub_relays_a_peer_hubs_online_announcement(db: Db) {
    let cluster = Cluster::new(db).await;
    let first = cluster.hub().await;
    let identity = NodeTls::establish(cluster.authority.clone(), "raw-client-1", Role::Spoke)
        .await
        .unwrap();
    let addr = first.local_addr();
    let stream = conn::dial(
        &addr.ip().to_string(),
        addr.port(),
        first.id(),
        identity.client(),
        WITHIN,
    )
    .await
    .unwrap();
    eventually(WITHIN, "the hub lists the client", || async {
        first.connections().len() == 1
    })
    .await;
    let (read, _write) = tokio::io::split(stream);
    let mut frames = FramedRead::new(read, Codec::new(1024 * 1024));
    let second = cluster.hub().await;
    let message = tokio::time::timeout(WITHIN, frames.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        message,
        Message::HubOnline {
            id: second.id().to_owned(),
            host: "127.0.0.1".into(),
            port: second.local_addr().port(),
        }
    );
    second.shutdown().await;
    first.shutdown().await;
}

async fn a_subscription_made_after_publishing_still_receives_the_event(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let spoke = cluster.spoke().await;
    connected(&spoke, 1).await;
    let id = spoke
        .publish(NewEvent::new("domain1", "pid1", "event1"))
        .await
        .unwrap()
        .id;
    // Nobody listened: the event waits as an orphan until a subscriber appears.
    let mut subscription = spoke.subscribe("domain1", "event1").unwrap();
    let event = tokio::time::timeout(WITHIN, subscription.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((event.id, event.name.as_str()), (id, "event1"));
    spoke.shutdown().await;
    hub.shutdown().await;
}

async fn a_consumer_registered_after_publishing_still_consumes_the_event(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let spoke = cluster.spoke().await;
    connected(&spoke, 1).await;
    spoke
        .publish(NewEvent::new("domain1", "pid1", "event1"))
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    spoke
        .consume("domain1", "event1", move |event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(event.name);
                Ok(())
            }
        })
        .unwrap();
    let name = tokio::time::timeout(WITHIN, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(name, "event1");
    spoke.shutdown().await;
    hub.shutdown().await;
}

async fn wait_sees_an_event_published_before_it_began(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let spoke = cluster.spoke().await;
    connected(&spoke, 1).await;
    spoke
        .publish(NewEvent::new("domain1", "pid1", "success"))
        .await
        .unwrap();
    let event = spoke
        .wait(
            "domain1",
            "pid1",
            &["success", "failed"],
            Duration::from_secs(1),
        )
        .await
        .unwrap();
    assert_eq!(event.name, "success");
    spoke.shutdown().await;
    hub.shutdown().await;
}

async fn wait_times_out_and_ignores_other_processes(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let spoke = cluster.spoke().await;
    connected(&spoke, 1).await;
    let waiting = {
        let spoke = spoke.clone();
        tokio::spawn(async move {
            spoke
                .wait(
                    "domain1",
                    "pid1",
                    &["success"],
                    Duration::from_millis(1_500),
                )
                .await
        })
    };
    let other = {
        let spoke = spoke.clone();
        tokio::spawn(async move {
            spoke
                .wait("domain1", "pid2", &["success"], Duration::from_secs(20))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    spoke
        .publish(NewEvent::new("domain1", "pid2", "success"))
        .await
        .unwrap();
    let error = waiting.await.unwrap().unwrap_err();
    assert_eq!(error.code(), "E_EVENTFLOW_WAIT_TIMEOUT");
    assert!(error.to_string().contains("domain1 › pid1 › success"));
    // A concurrent wait in the same domain was not disturbed.
    assert_eq!(other.await.unwrap().unwrap().pid, "pid2");
    spoke.shutdown().await;
    hub.shutdown().await;
}

async fn schedule_now_resolves_and_is_delivered(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let spoke = cluster.spoke().await;
    connected(&spoke, 1).await;
    let id = spoke
        .schedule(Timestamp::now(), NewEvent::new("domain1", "pid1", "later"))
        .await
        .unwrap()
        .id;
    let event = spoke
        .wait("domain1", "pid1", &["later"], WITHIN)
        .await
        .unwrap();
    assert_eq!(event.id, id);
    eventually(WITHIN, "a hub executed the schedule", || async {
        cluster
            .store
            .scheduled(id)
            .await
            .unwrap()
            .is_some_and(|s| s.executed_at.is_some())
    })
    .await;
    spoke.shutdown().await;
    hub.shutdown().await;
}

async fn spoke_reads_deletes_and_projects_event_logs(db: Db) {
    let cluster = Cluster::new(db).await;
    let spoke = cluster.spoke().await;
    let first = spoke
        .persist(NewEvent::new("domain1", "pid1", "event1").with_data(json!({"key1": 1})))
        .await
        .unwrap();
    spoke
        .persist(NewEvent::new("domain1", "pid1", "event2").with_data(json!({"key2": 2})))
        .await
        .unwrap();
    assert_eq!(spoke.read(first.id).await.unwrap().id, first.id);
    let log = spoke.read_eventlog("domain1", "pid1").await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].name, "event1");
    assert_eq!(
        spoke.read_state("domain1", "pid1").await.unwrap(),
        json!({"key1": 1, "key2": 2})
    );
    assert!(spoke.store().delete_event(first.id).await.unwrap());
    assert_eq!(
        spoke.read(first.id).await.unwrap_err().code(),
        "E_EVENTFLOW_EVENT_NOT_FOUND"
    );
    assert_eq!(
        spoke
            .store()
            .delete_stream("domain1", "pid1")
            .await
            .unwrap(),
        1
    );
    assert!(
        spoke
            .read_eventlog("domain1", "pid1")
            .await
            .unwrap()
            .is_empty()
    );
    spoke.shutdown().await;
}
