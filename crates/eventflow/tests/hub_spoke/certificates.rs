//! The certificate chain in the store (eventflow.md 9.8, adapted): created once, loaded by
//! everyone, keys sealed at rest, leaves issued by the intermediate, renewal and revocation.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use superhero_eventflow::certs::{
    CertificateAuthority, CertificatesConfig, INTERMEDIATE_ID, NodeTls, ROOT_ID, Role, generate,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::common::Db;
use crate::common::cluster::{Cluster, certificates, eventually};

superhero_testkit::each_backend!(
    a_missing_secret_is_a_configuration_error,
    the_first_hub_creates_the_chain_and_everyone_loads_the_same_one,
    leaves_are_issued_by_the_intermediate_and_replaced_on_revocation,
    private_keys_are_sealed_at_rest_and_need_the_secret,
    a_leaf_is_renewed_before_it_lapses,
);

fn parse(pem: &str) -> Vec<u8> {
    generate::der_of(pem, "test").unwrap().to_vec()
}

fn issued_by(child_pem: &str, issuer_pem: &str) -> bool {
    let child_der = parse(child_pem);
    let issuer_der = parse(issuer_pem);
    let (_, child) = X509Certificate::from_der(&child_der).unwrap();
    let (_, issuer) = X509Certificate::from_der(&issuer_der).unwrap();
    child.issuer() == issuer.subject() && child.verify_signature(Some(issuer.public_key())).is_ok()
}

fn valid_now(pem: &str) -> bool {
    let der = parse(pem);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    cert.validity().is_valid()
}

async fn a_missing_secret_is_a_configuration_error(db: Db) {
    let cluster = Cluster::new(db).await;
    let error = CertificateAuthority::new(cluster.store.clone(), CertificatesConfig::default())
        .unwrap_err();
    assert_eq!(
        error.code(),
        "E_EVENTFLOW_CERTIFICATES_MISSING_CONFIGURATION"
    );
    assert!(
        error
            .to_string()
            .contains("SUPERHERO__EVENTFLOW__CERTIFICATES__SECRET")
    );
}

async fn the_first_hub_creates_the_chain_and_everyone_loads_the_same_one(db: Db) {
    let cluster = Cluster::new(db).await;
    let missing = cluster.authority.chain(false).await.unwrap_err();
    assert_eq!(
        missing.code(),
        "E_EVENTFLOW_CERTIFICATES_NO_CHAIN",
        "spokes never create it"
    );
    let created = cluster.authority.chain(true).await.unwrap();
    assert!(valid_now(&created.root_pem));
    assert!(
        issued_by(&created.root_pem, &created.root_pem),
        "the root is self-issued"
    );
    assert!(issued_by(&created.intermediate.cert_pem, &created.root_pem));
    assert!(created.intermediate.not_after > SystemTime::now());
    let again = cluster.authority.chain(true).await.unwrap();
    assert_eq!(
        again.root_pem, created.root_pem,
        "lazily loaded, not recreated"
    );
    // Another process (a fresh authority, no cache) loads the very same chain.
    let other = CertificateAuthority::new(cluster.store.clone(), certificates()).unwrap();
    let loaded = other.chain(false).await.unwrap();
    assert_eq!(loaded.root_pem, created.root_pem);
    assert_eq!(loaded.intermediate.cert_pem, created.intermediate.cert_pem);
    assert_eq!(*loaded.intermediate.key_pem, *created.intermediate.key_pem);
}

async fn leaves_are_issued_by_the_intermediate_and_replaced_on_revocation(db: Db) {
    let cluster = Cluster::new(db).await;
    let chain = cluster.authority.chain(true).await.unwrap();
    let leaf = cluster
        .authority
        .issue_leaf(&chain, "spoke-a", Role::Spoke)
        .await
        .unwrap();
    assert!(valid_now(&leaf.cert_pem));
    assert!(issued_by(&leaf.cert_pem, &chain.intermediate.cert_pem));
    let der = parse(&leaf.cert_pem);
    assert_eq!(
        generate::identity_of(&der).map(|i| (i.id, i.role)),
        Some(("spoke-a".to_owned(), Role::Spoke))
    );
    assert!(cluster.authority.is_current("spoke-a", &der).await.unwrap());
    assert!(cluster.authority.revoke("spoke-a").await.unwrap());
    assert!(!cluster.authority.is_current("spoke-a", &der).await.unwrap());
    let next = cluster
        .authority
        .issue_leaf(&chain, "spoke-a", Role::Spoke)
        .await
        .unwrap();
    assert_ne!(next.cert_pem, leaf.cert_pem);
    assert!(issued_by(&next.cert_pem, &chain.intermediate.cert_pem));
    assert!(
        cluster
            .authority
            .is_current("spoke-a", &parse(&next.cert_pem))
            .await
            .unwrap()
    );
}

async fn private_keys_are_sealed_at_rest_and_need_the_secret(db: Db) {
    let cluster = Cluster::new(db).await;
    cluster.authority.chain(true).await.unwrap();
    for id in [ROOT_ID, INTERMEDIATE_ID] {
        let record = cluster.store.read_certificate(id).await.unwrap();
        assert!(
            !record.key.windows(11).any(|w| w == b"PRIVATE KEY"),
            "{id}: no plaintext key in the store"
        );
    }
    let mut wrong = certificates();
    wrong.secret = superhero_eventflow::certs::Secret::new("another-secret-entirely-0123");
    let intruder = CertificateAuthority::new(cluster.store.clone(), wrong).unwrap();
    let error = intruder.chain(false).await.unwrap_err();
    assert_eq!(error.code(), "E_EVENTFLOW_CERTIFICATES_SEAL");
}

async fn a_leaf_is_renewed_before_it_lapses(db: Db) {
    let cluster = Cluster::new(db).await;
    cluster.authority.chain(true).await.unwrap();
    let mut config = certificates();
    config.leaf_validity_secs = 60;
    config.renew_before_secs = 59;
    let authority = Arc::new(CertificateAuthority::new(cluster.store.clone(), config).unwrap());
    let node = NodeTls::establish(authority, "short-lived-1", Role::Spoke)
        .await
        .unwrap();
    let first = node.not_after();
    let token = tokio_util::sync::CancellationToken::new();
    let renewal = node.spawn_renewal(token.clone());
    eventually(Duration::from_secs(30), "the leaf is renewed", || async {
        node.not_after() > first
    })
    .await;
    token.cancel();
    let _ = renewal.await;
}
