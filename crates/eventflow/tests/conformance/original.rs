//! The original eventflow-db test suite (`index.test.js`, spec §9.7), ported step by step.
//! Each step depends on the previous one, as in the original. Steps that no longer apply:
//! serde (Rust payloads are plain JSON), `archiveLog` (no partitions), and the scheduled
//! read relying on the inverted `>=` filter (now: due rows, `<=`).

use std::time::Duration;

use serde_json::json;
use superhero_eventflow::{
    AgentLog, CertificateRecord, CertificateStore, ChildProcess, DeliveryStore, EventLog,
    HubRegistration, HubRegistry, NewEvent, ScheduleStore,
};

use crate::common::Harness;

superhero_testkit::each_backend!(
    setup = crate::common::Harness::new;original_db_suite);

async fn original_db_suite(h: &Harness) {
    let s = &h.store;
    // Setup table schemas: idempotent (a second open migrates nothing and fails nothing).
    let second = h.reopen().await;
    second.close().await;

    // Persist a hub; read online hubs: the last (newest) is ours, with its addresses.
    let hub = HubRegistration {
        id: "hub-1".into(),
        external_host: "127.0.0.1".into(),
        external_port: 50001,
        internal_host: "127.0.0.1".into(),
        internal_port: 50001,
    };
    assert!(s.register_hub(&hub).await.unwrap());
    let online = s.live_hubs(Duration::from_secs(60)).await.unwrap();
    assert_eq!(online.last().map(|h| &h.registration), Some(&hub));

    // Persisting an event generates an id; reading it returns the same data.
    let event = NewEvent::new("domain1", "pid1", "event1").with_data(json!({"foo": "bar"}));
    let id = s.append_one(event.clone()).await.unwrap().id;
    let read = s.read_event(id).await.unwrap();
    assert_eq!(
        (read.domain, read.pid, read.name, read.data),
        (
            "domain1".into(),
            "pid1".into(),
            "event1".into(),
            json!({"foo": "bar"})
        )
    );

    // Schedule an event; read scheduled events; update executed (the claim).
    let scheduled = s
        .schedule(event.clone(), "spoke-1", h.now())
        .await
        .unwrap()
        .id;
    assert!(!s.due_scheduled(10).await.unwrap().is_empty());
    assert!(s.claim_scheduled(scheduled, "hub-1").await.unwrap());

    // Publish; consumed by hub (first claim); consumed by spoke (first claim); success.
    let published = s.publish(event.clone(), "spoke-1").await.unwrap().id;
    assert!(
        s.claim_route(published, "hub-1", Duration::from_secs(5))
            .await
            .unwrap()
    );
    let claim = s
        .claim_delivery(published, "spoke-1", Duration::from_secs(5), 3)
        .await
        .unwrap()
        .expect("claimed");
    assert!(s.succeed_delivery(&claim).await.unwrap());
    // Failed and orphan, on events of their own (a settled event takes no other outcome).
    let failing = s.publish(event.clone(), "spoke-1").await.unwrap().id;
    let claim = s
        .claim_delivery(failing, "spoke-1", Duration::from_secs(5), 3)
        .await
        .unwrap()
        .expect("claimed");
    let retry_at = h.now();
    assert!(matches!(
        s.fail_delivery(&claim, "failed", retry_at, 3)
            .await
            .unwrap(),
        superhero_eventflow::FailOutcome::Retry { .. }
    ));
    let orphan = s.publish(event.clone(), "spoke-1").await.unwrap().id;
    assert!(
        s.claim_route(orphan, "hub-1", Duration::from_secs(5))
            .await
            .unwrap()
    );
    assert!(s.mark_orphan(orphan, "hub-1").await.unwrap());

    // cpid: persist, read events by domain and cpid, read by event id, delete, read empty.
    let child = ChildProcess {
        domain: "domain2".into(),
        cpid: "cpid1".into(),
    };
    assert!(s.add_cpid(id, &child).await.unwrap());
    assert!(!s.read_by_cpid("domain2", "cpid1").await.unwrap().is_empty());
    assert_eq!(s.cpids_of(id).await.unwrap()[0], child);
    assert!(s.remove_cpid(id, &child).await.unwrap());
    assert!(s.cpids_of(id).await.unwrap().is_empty());

    // eid: persist, read by eid, by domain and eid, by event id, delete, read empty.
    assert!(s.add_eid(id, "eid1").await.unwrap());
    assert!(!s.read_by_eid("eid1").await.unwrap().is_empty());
    assert!(
        !s.read_by_domain_and_eid("domain1", "eid1")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.eids_of(id).await.unwrap()[0], "eid1");
    assert!(s.remove_eid(id, "eid1").await.unwrap());
    assert!(s.eids_of(id).await.unwrap().is_empty());

    // Delete event; reading it rejects; re-persist the same event (same id, now free).
    assert!(s.delete_event(id).await.unwrap());
    assert!(s.read_event(id).await.is_err());
    let same = s.append_one(event.clone().with_id(id)).await.unwrap();
    assert_eq!(same.id, id);

    // By domain and pid: read non-empty, delete, read empty.
    assert!(!s.read_stream("domain1", "pid1").await.unwrap().is_empty());
    assert!(s.delete_stream("domain1", "pid1").await.unwrap() > 0);
    assert!(s.read_stream("domain1", "pid1").await.unwrap().is_empty());

    // Persist log; update hub to quit.
    s.write_log("hub-1", "log message", Some(&json!({"message": "error"})))
        .await
        .unwrap();
    assert!(s.quit_hub("hub-1").await.unwrap());

    // Certificates: persist, duplicate false, read equal, missing rejects, revoke, then a
    // re-persisted row past its validity is revoked by the sweep.
    let certificate = CertificateRecord::new(
        "cert1",
        "pem",
        vec![1, 2, 3],
        h.now() + Duration::from_secs(60),
    );
    assert!(s.persist_certificate(&certificate).await.unwrap());
    assert!(!s.persist_certificate(&certificate).await.unwrap());
    let read = s.read_certificate("cert1").await.unwrap();
    assert_eq!(
        (read.cert, read.key, read.validity),
        (
            certificate.cert.clone(),
            certificate.key.clone(),
            certificate.validity
        )
    );
    assert_eq!(
        s.read_certificate("none").await.unwrap_err().code(),
        "E_EVENTFLOW_CERTIFICATE_NOT_FOUND"
    );
    assert!(s.revoke_certificate("cert1").await.unwrap());
    assert!(s.read_certificate("cert1").await.is_err());
    let expired = CertificateRecord::new("cert1", "pem", vec![1], h.now());
    assert!(s.persist_certificate(&expired).await.unwrap());
    h.advance(Duration::from_secs(1));
    assert!(s.revoke_expired_certificates().await.unwrap() > 0);
    assert_eq!(
        s.read_certificate("cert1").await.unwrap_err().code(),
        "E_EVENTFLOW_CERTIFICATE_NOT_FOUND"
    );

    // Reading a non-existing event rejects with NOT_FOUND.
    let missing = s.read_event(uuid::Uuid::now_v7()).await.unwrap_err();
    assert_eq!(missing.code(), "E_EVENTFLOW_EVENT_NOT_FOUND");
}
