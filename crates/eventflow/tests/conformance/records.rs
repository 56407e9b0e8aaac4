//! The hub registry, certificates and the log table.

use std::time::Duration;

use serde_json::json;
use superhero_eventflow::{
    AgentLog, CertificateRecord, CertificateStore, HubRegistration, HubRegistry,
};

use crate::common::Harness;

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;
    hub_heartbeat_expiry_marks_a_hub_not_live,
    certificates_persist_once_read_back_and_revoke,
    log_lines_persist_and_read_back_newest_last,
);

fn registration(id: &str, port: u16) -> HubRegistration {
    HubRegistration {
        id: id.into(),
        external_host: "2001:db8::1".into(),
        external_port: port,
        internal_host: "0.0.0.0".into(),
        internal_port: port + 1,
    }
}

async fn hub_heartbeat_expiry_marks_a_hub_not_live(h: &Harness) {
    let s = &h.store;
    let ttl = Duration::from_secs(10);
    assert!(s.register_hub(&registration("hub-a", 50001)).await.unwrap());
    assert!(
        !s.register_hub(&registration("hub-a", 50001)).await.unwrap(),
        "ids are unique"
    );
    h.advance(Duration::from_secs(1));
    assert!(s.register_hub(&registration("hub-b", 50003)).await.unwrap());

    let live = s.live_hubs(ttl).await.unwrap();
    assert_eq!(
        live.iter()
            .map(|h| h.registration.id.as_str())
            .collect::<Vec<_>>(),
        ["hub-a", "hub-b"]
    );
    assert_eq!(live[0].registration, registration("hub-a", 50001));

    assert!(live[0].spokes.is_empty(), "no heartbeat yet, no spokes");

    h.advance(Duration::from_secs(9));
    let spokes = ["spoke-1".to_owned(), "spoke-2".to_owned()];
    assert!(s.heartbeat_hub("hub-b", &spokes).await.unwrap());
    h.advance(Duration::from_secs(1));
    let live = s.live_hubs(ttl).await.unwrap();
    assert_eq!(
        live.iter()
            .map(|h| h.registration.id.as_str())
            .collect::<Vec<_>>(),
        ["hub-b"],
        "hub-a expired"
    );
    assert_eq!(live[0].spokes, spokes, "the heartbeat records the spokes");
    assert!(
        s.heartbeat_hub("hub-a", &[]).await.unwrap(),
        "a late heartbeat revives a hub that has not quit"
    );
    assert_eq!(s.live_hubs(ttl).await.unwrap().len(), 2);

    h.advance(Duration::from_secs(11));
    assert!(s.heartbeat_hub("hub-b", &[]).await.unwrap());
    assert_eq!(s.quit_stale_hubs(ttl).await.unwrap(), 1);
    assert!(
        !s.heartbeat_hub("hub-a", &[]).await.unwrap(),
        "a quit hub stays quit"
    );
    assert!(s.quit_hub("hub-b").await.unwrap());
    assert!(!s.quit_hub("hub-b").await.unwrap(), "already quit");
    assert!(s.live_hubs(ttl).await.unwrap().is_empty());
    let hub_b = s.hub("hub-b").await.unwrap().expect("still registered");
    assert_eq!(hub_b.quit_at, Some(h.now()));
    assert!(s.hub("hub-x").await.unwrap().is_none());
    assert!(!s.heartbeat_hub("hub-x", &[]).await.unwrap());

    // hub-a, still running, finds itself quit: it rejoins, live from now.
    assert!(s.rejoin_hub("hub-a", &spokes).await.unwrap());
    let live = s.live_hubs(ttl).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].registration.id, "hub-a");
    assert_eq!(live[0].spokes, spokes);
    assert_eq!(live[0].quit_at, None);
    assert!(
        s.heartbeat_hub("hub-a", &[]).await.unwrap(),
        "heartbeats count again"
    );
    assert!(
        !s.rejoin_hub("hub-x", &[]).await.unwrap(),
        "unknown hubs cannot rejoin"
    );
}

async fn certificates_persist_once_read_back_and_revoke(h: &Harness) {
    let s = &h.store;
    let validity = h.now() + Duration::from_secs(3600);
    let key: Vec<u8> = (0..=255).collect();
    let record = CertificateRecord::new(
        "EVENTFLOW-ROOT-CA",
        "-----BEGIN CERTIFICATE-----\n…",
        key.clone(),
        validity,
    );
    assert!(s.persist_certificate(&record).await.unwrap());
    let duplicate = CertificateRecord::new("EVENTFLOW-ROOT-CA", "other", vec![1], validity);
    assert!(
        !s.persist_certificate(&duplicate).await.unwrap(),
        "a duplicate returns false"
    );

    let read = s.read_certificate("EVENTFLOW-ROOT-CA").await.unwrap();
    assert_eq!(
        (read.cert.as_str(), read.key.as_slice()),
        (record.cert.as_str(), key.as_slice())
    );
    assert_eq!(
        (
            read.version,
            read.validity,
            read.created_at,
            read.revoked_at
        ),
        (0, validity, h.now(), None)
    );
    let missing = s.read_certificate("nope").await.unwrap_err();
    assert_eq!(missing.code(), "E_EVENTFLOW_CERTIFICATE_NOT_FOUND");

    assert!(s.revoke_certificate("EVENTFLOW-ROOT-CA").await.unwrap());
    assert!(
        !s.revoke_certificate("EVENTFLOW-ROOT-CA").await.unwrap(),
        "nothing current left"
    );
    let revoked = s.read_certificate("EVENTFLOW-ROOT-CA").await.unwrap_err();
    assert_eq!(revoked.code(), "E_EVENTFLOW_CERTIFICATE_NOT_FOUND");

    // A successor takes version 0; once past its validity a sweep revokes it.
    assert!(s.persist_certificate(&record).await.unwrap());
    let leaf = CertificateRecord::new("leaf", "pem", vec![], h.now() + Duration::from_secs(7200));
    assert!(s.persist_certificate(&leaf).await.unwrap());
    h.advance(Duration::from_secs(3601));
    assert_eq!(s.revoke_expired_certificates().await.unwrap(), 1);
    assert!(s.read_certificate("EVENTFLOW-ROOT-CA").await.is_err());
    assert!(s.read_certificate("leaf").await.is_ok());
}

async fn log_lines_persist_and_read_back_newest_last(h: &Harness) {
    let s = &h.store;
    s.write_log("hub-a", "started", None).await.unwrap();
    h.advance(Duration::from_millis(5));
    s.write_log("spoke-b", "connected", None).await.unwrap();
    s.write_log(
        "hub-a",
        "failed to connect ✗",
        Some(&json!({"message": "refused", "code": "E_X"})),
    )
    .await
    .unwrap();
    let hub = s.recent_logs(Some("hub-a"), 10).await.unwrap();
    assert_eq!(
        hub.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(),
        ["started", "failed to connect ✗"]
    );
    assert_eq!(hub[0].error, json!({}));
    assert_eq!(hub[1].error, json!({"message": "refused", "code": "E_X"}));
    assert_eq!(hub[1].timestamp, h.now());
    let newest = s.recent_logs(None, 2).await.unwrap();
    assert_eq!(
        newest.iter().map(|l| l.agent.as_str()).collect::<Vec<_>>(),
        ["spoke-b", "hub-a"]
    );
}
