//! A consuming spoke in another process dies with SIGKILL while it handles an event:
//! no goodbye on the socket, no clean-up. The event is handled again elsewhere once the
//! dead consumer's lease lapses.

use std::sync::Arc;
use std::time::Duration;

use superhero_eventflow::certs::CertificateAuthority;
use superhero_eventflow::{EventStore, NewEvent, SqlStore, StoreConfig};
use superhero_testkit::ChildTest;

use crate::common::Db;
use crate::common::cluster::{
    Cluster, Handled, certificates, connected, count_handled, eventually, spoke_config,
};

superhero_testkit::each_backend!(
    a_consumer_process_killed_mid_handling_is_redelivered_to_another_spoke
);

const WITHIN: Duration = Duration::from_secs(60);

/// Set for the child process: the store configuration as JSON.
const CHILD_STORE: &str = "EVENTFLOW_TEST_CHILD_STORE";

/// The consuming child: started by the test below, never on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of a_consumer_process_killed_mid_handling_…; it runs only when that test spawns it"]
async fn consumer_process() {
    let config: StoreConfig =
        serde_json::from_str(&std::env::var(CHILD_STORE).expect("spawned by the crash test"))
            .expect("a store configuration");
    let store: Arc<dyn EventStore> = Arc::new(SqlStore::open(&config).await.unwrap());
    let authority = Arc::new(CertificateAuthority::new(store.clone(), certificates()).unwrap());
    let spoke = superhero_eventflow::Spoke::start(store, spoke_config(), authority)
        .await
        .unwrap();
    spoke
        .consume("crash", "job", |event| async move {
            println!("HANDLING {}", event.id);
            std::future::pending::<()>().await;
            Ok(())
        })
        .unwrap();
    connected(&spoke, 1).await;
    println!("READY");
    std::future::pending::<()>().await;
}

async fn a_consumer_process_killed_mid_handling_is_redelivered_to_another_spoke(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let store = serde_json::to_string(cluster.harness.store_config()).unwrap();
    let mut child = ChildTest::spawn("crash::consumer_process", &[(CHILD_STORE, store)]);
    child.expect_line("READY");

    let publisher = cluster.spoke().await;
    connected(&publisher, 1).await;
    let id = publisher
        .publish(NewEvent::new("crash", "job-1", "job"))
        .await
        .unwrap()
        .id;
    let handling = child.expect_line("HANDLING");
    assert_eq!(handling, id.to_string(), "the child took the event");

    child.kill();

    let handled = Handled::default();
    let survivor = cluster.spoke().await;
    count_handled(&survivor, "crash", "job", &handled);
    connected(&survivor, 1).await;
    eventually(WITHIN, "another spoke handles the event", || async {
        handled.lock().unwrap().get(&id) == Some(&1)
    })
    .await;
    eventually(WITHIN, "its success is recorded", || async {
        cluster
            .store
            .publication(id)
            .await
            .unwrap()
            .is_some_and(|p| p.succeeded_at.is_some())
    })
    .await;
    let publication = cluster.store.publication(id).await.unwrap().unwrap();
    assert_eq!(
        publication.deliveries, 2,
        "one delivery to the dead process, one to the survivor"
    );
    assert_eq!(handled.lock().unwrap().len(), 1);
    survivor.shutdown().await;
    publisher.shutdown().await;
    hub.shutdown().await;
}
