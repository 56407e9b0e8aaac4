//! `superhero rebuild <app>` as a user runs it: the message board's read model rebuilt
//! from an event-log, progress on stderr, a summary on stdout; clear errors for an app
//! without read models and an unknown one.

use std::process::{Command, Output};

use message_board::post::read_model::ReadModel;
use message_board::post::{POST_CREATED, PostCreated, REPLY_CREATED, ReplyCreated};
use superhero_eventflow::{EventLog, SqlStore, StoreConfig};
use superhero_testkit::TempDir;

fn rebuild(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_superhero"))
        .arg("rebuild")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn rebuild_projects_the_event_log_into_the_read_model() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/eventflow.db", dir.path().display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = SqlStore::open(&StoreConfig::with_url(&url)).await.unwrap();
        for (pid, title) in [("p-1", "First"), ("p-2", "Second")] {
            let post = PostCreated {
                title: title.into(),
                body: "x".into(),
                author_id: "u-1".into(),
                author: "alice".into(),
            };
            store
                .append_one(POST_CREATED.event(pid, &post).unwrap())
                .await
                .unwrap();
        }
        let reply = ReplyCreated {
            post_id: "p-1".into(),
            body: "hi".into(),
            author_id: "u-2".into(),
            author: "bob".into(),
        };
        store
            .append_one(REPLY_CREATED.event("r-1", &reply).unwrap())
            .await
            .unwrap();
        store.close().await;
    });

    let output = rebuild(&["message-board", "--store", &url]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("rebuilt message-board: 2 posts, 1 replies, 0 stale rows removed"),
        "{stdout}"
    );
    assert!(stderr.contains("position 3 of 3 (100%)"), "{stderr}");

    runtime.block_on(async {
        let store = SqlStore::open(&StoreConfig::with_url(&url)).await.unwrap();
        let (posts, replies) = ReadModel::open(&store).await.unwrap().dump().await.unwrap();
        let titles: Vec<&str> = posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["First", "Second"]);
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0].post_id, "p-1");
        store.close().await;
    });
}

#[test]
fn rebuild_names_what_it_cannot_rebuild() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/eventflow.db", dir.path().display());
    let output = rebuild(&["ping-pong", "--store", &url]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("E_CLI_NOTHING_TO_REBUILD"), "{stderr}");

    let output = rebuild(&["no-such-app", "--store", &url]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("E_CLI_UNKNOWN_APP"), "{stderr}");
    assert!(stderr.contains("message-board"), "lists the apps: {stderr}");
}
