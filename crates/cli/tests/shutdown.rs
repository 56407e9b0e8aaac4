//! SIGTERM stops `superhero demo` cleanly whatever its HTTP clients do: a client that
//! completed the HTTP/2 handshake and then went silent costs a moment, not the node's
//! whole shutdown budget, and a request slower than that budget cannot use all of it
//! (the HTTP drain gets half; the services stopped after it the rest).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{assert_pong, local, superhero_in};
use superhero_testkit::{BinaryNode, TempDir, free_port};

/// The demo's shutdown budget (`core.shutdown.timeout_ms` in demo.toml) is 10 s; this
/// bound sits well below what the fault cost (10 s and exit 1) and well above a healthy
/// stop on a loaded machine.
const PROMPT: Duration = Duration::from_secs(5);

fn demo(dir: &TempDir, port: u16, env: &[(&str, String)]) -> BinaryNode {
    let node = superhero_in(
        dir.path(),
        &["demo", "--http", &format!("127.0.0.1:{port}")],
        env,
    );
    node.wait_for("started", 1, Duration::from_secs(60));
    assert_pong(port);
    node
}

fn assert_clean(node: &BinaryNode) {
    let log = node.dump();
    assert_eq!(node.messages("shut down cleanly").len(), 1, "{log}");
    assert!(!log.contains("E_CORE_DESTROY_TIMEOUT"), "{log}");
}

#[test]
fn sigterm_with_a_silent_http2_client_stops_the_demo_promptly_and_cleanly() {
    let dir = TempDir::new();
    let port = free_port();
    let mut node = demo(&dir, port, &[]);
    // An h2c client that completes the handshake, then neither reads nor answers a PING.
    let mut silent = TcpStream::connect(local(port)).unwrap();
    silent
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .unwrap();
    silent.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut settings = [0u8; 9];
    silent.read_exact(&mut settings).unwrap();
    assert_eq!(settings[3], 4, "the server's SETTINGS");

    let start = Instant::now();
    node.stop_cleanly(PROMPT);
    eprintln!("stopped {:?} after SIGTERM", start.elapsed());
    assert_clean(&node);
}

#[test]
fn a_request_slower_than_the_shutdown_budget_leaves_the_other_services_time_to_stop() {
    let dir = TempDir::new();
    let port = free_port();
    // A 4 s budget; the HTTP drain deadline stays at its default, 10 s.
    let budget = [("SUPERHERO__CORE__SHUTDOWN__TIMEOUT_MS", "4000".to_owned())];
    let mut node = demo(&dir, port, &budget);
    // A request that outlasts the whole budget.
    let mut slow = TcpStream::connect(local(port)).unwrap();
    slow.write_all(b"GET /ping?sleep=10000 HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));

    node.signal(libc::SIGTERM);
    let status = node.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0), "{}", node.dump());
    assert_clean(&node);
    assert!(
        !node
            .messages("drain deadline passed; closing the rest")
            .is_empty(),
        "the HTTP drain stopped at its share of the budget: {}",
        node.dump()
    );
}

#[test]
fn sigterm_ends_every_event_stream_and_the_demo_exits_cleanly() {
    use hyper::Method;
    use superhero_auth::signature::Algorithm;
    use superhero_testkit::http::{Client, Proto};
    use superhero_testkit::signed::{PASSWORD, SignedClient};
    use superhero_testkit::sse::SseStream;

    const STREAMS: usize = 20;
    let dir = TempDir::new();
    let port = free_port();
    let mut node = demo(&dir, port, &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut streams = runtime.block_on(async {
        let mut client = Client::connect(local(port), &Proto::Http1).await;
        let user = serde_json::json!({"name": "watcher", "password": PASSWORD});
        assert_eq!(client.post_json("/users", &user).await.status, 201);
        let mut watcher =
            SignedClient::sign_in(client, "watcher", PASSWORD, Algorithm::HmacSha256).await;
        let mut streams = Vec::with_capacity(STREAMS);
        for _ in 0..STREAMS {
            let ticket = watcher.send(Method::POST, "/eventlog/tickets", b"").await;
            assert_eq!(ticket.status, 201, "{}", ticket.text());
            let path = format!(
                "/eventlog/post/stream?from=0&ticket={}",
                ticket.json()["ticket"].as_str().unwrap()
            );
            let mut client = Client::connect(local(port), &Proto::Http1).await;
            match SseStream::open(&mut client, &path, &[]).await {
                Ok(stream) => streams.push(stream),
                Err(reply) => panic!("{} {}", reply.status, reply.text()),
            }
        }
        streams
    });

    let start = Instant::now();
    node.stop_cleanly(PROMPT);
    eprintln!(
        "stopped {:?} after SIGTERM with {STREAMS} open streams",
        start.elapsed()
    );
    assert_clean(&node);
    runtime.block_on(async {
        for stream in &mut streams {
            assert!(
                stream.ends_within(Duration::from_secs(1)).await,
                "the stream ended"
            );
        }
    });
}
