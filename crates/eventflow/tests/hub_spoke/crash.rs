//! A consuming spoke in another process dies with SIGKILL while it handles an event:
//! no goodbye on the socket, no clean-up. The event is handled again elsewhere once the
//! dead consumer's lease lapses.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use superhero_eventflow::certs::CertificateAuthority;
use superhero_eventflow::{EventStore, NewEvent, SqlStore, StoreConfig};

use crate::common::Db;
use crate::common::cluster::{
    Cluster, Handled, certificates, connected, count_handled, eventually, spoke_config,
};

end_to_end!(a_consumer_process_killed_mid_handling_is_redelivered_to_another_spoke);

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

/// Spawns the child and forwards its stdout lines.
fn spawn_child(config: &StoreConfig) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash::consumer_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_STORE, serde_json::to_string(config).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the consumer process");
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                return;
            }
        }
    });
    (child, received)
}

/// What follows `marker` on the child's next line that holds it (the test harness may
/// print its own text in front).
fn expect_line(lines: &mpsc::Receiver<String>, marker: &str) -> String {
    loop {
        let line = lines
            .recv_timeout(WITHIN)
            .unwrap_or_else(|_| panic!("the child never printed {marker}"));
        eprintln!("child: {line}");
        if let Some((_, rest)) = line.split_once(marker) {
            return rest.trim().to_owned();
        }
    }
}

/// Kills the child if the test ends early.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn a_consumer_process_killed_mid_handling_is_redelivered_to_another_spoke(db: Db) {
    let cluster = Cluster::new(db).await;
    let hub = cluster.hub().await;
    let (child, lines) = spawn_child(cluster.harness.store_config());
    let mut child = Reaper(child);
    expect_line(&lines, "READY");

    let publisher = cluster.spoke().await;
    connected(&publisher, 1).await;
    let id = publisher
        .publish(NewEvent::new("crash", "job-1", "job"))
        .await
        .unwrap()
        .id;
    let handling = expect_line(&lines, "HANDLING");
    assert_eq!(handling, id.to_string(), "the child took the event");

    child.0.kill().expect("SIGKILL the consumer process");
    child.0.wait().expect("reap it");

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
