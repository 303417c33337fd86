//! Backend-independent checks shared by the SQLite and PostgreSQL test files, and the
//! gate for tests that need a PostgreSQL server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secdispatch_store::{KeyStore, NewKey, NonceStore, ReplayError, Store, StoreError};

pub fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn new_key(name: &str, material: &[u8], from: u64, until: u64) -> NewKey {
    NewKey {
        name: name.to_owned(),
        algorithm: "ed25519".to_owned(),
        material: material.to_vec().into(),
        public: [b"pub-", material].concat(),
        not_before: t(from),
        not_after: t(until),
    }
}

/// The key store contract, on a store whose key names start empty for `prefix`.
pub async fn key_store_conformance(store: &dyn KeyStore, prefix: &str) {
    let name = format!("{prefix}-signing");

    // Versions count up from 1 and keep what was stored.
    let v1 = store
        .insert_key(new_key(&name, b"k1", 0, 100))
        .await
        .unwrap();
    let v2 = store
        .insert_key(new_key(&name, b"k2", 50, 200))
        .await
        .unwrap();
    assert_eq!((v1.version, v2.version), (1, 2));
    let got = store.key(&name, 2).await.unwrap().unwrap();
    assert_eq!(got.material.as_slice(), b"k2");
    assert_eq!(got.public, b"pub-k2");
    assert_eq!(got.algorithm, "ed25519");
    assert_eq!((got.not_before, got.not_after), (t(50), t(200)));
    assert!(store.key(&name, 3).await.unwrap().is_none());

    // Rotation windows: before the overlap only v1; in it both (newest first); after, v2.
    let versions = |keys: Vec<secdispatch_store::KeyRecord>| {
        keys.iter().map(|k| k.version).collect::<Vec<_>>()
    };
    assert_eq!(
        versions(store.active_keys(&name, t(10)).await.unwrap()),
        vec![1]
    );
    assert_eq!(
        versions(store.active_keys(&name, t(60)).await.unwrap()),
        vec![2, 1]
    );
    assert_eq!(
        versions(store.active_keys(&name, t(100)).await.unwrap()),
        vec![2]
    );
    assert!(store.active_keys(&name, t(200)).await.unwrap().is_empty());
    assert_eq!(
        store
            .current_key(&name, t(60))
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    assert!(store.current_key(&name, t(500)).await.unwrap().is_none());

    // Retiring v1 early ends the overlap.
    store.set_key_not_after(&name, 1, t(55)).await.unwrap();
    assert_eq!(
        versions(store.active_keys(&name, t(60)).await.unwrap()),
        vec![2]
    );
    assert!(matches!(
        store.set_key_not_after(&name, 9, t(1)).await,
        Err(StoreError::KeyNotFound { version: 9, .. })
    ));

    assert_eq!(
        versions(store.key_versions(&name).await.unwrap()),
        vec![1, 2]
    );
    assert!(store.key_names().await.unwrap().contains(&name));

    // Bad windows and names are refused before touching the database.
    assert!(matches!(
        store.insert_key(new_key(&name, b"k", 10, 10)).await,
        Err(StoreError::InvalidKey(_))
    ));
    assert!(matches!(
        store.insert_key(new_key("", b"k", 0, 1)).await,
        Err(StoreError::InvalidKey(_))
    ));

    // Debug output never shows secret material.
    let shown = format!("{got:?}");
    assert!(
        !shown.contains("k2") || shown.contains("redacted"),
        "{shown}"
    );
    assert!(shown.contains("<redacted>"));
}

/// Concurrent inserts of one key name get distinct, gap-free versions.
pub async fn concurrent_key_versions(store: Arc<Store>, prefix: &str) {
    let name = format!("{prefix}-race");
    let mut handles = Vec::new();
    for i in 0..16u8 {
        let store = store.clone();
        let name = name.clone();
        handles.push(tokio::spawn(async move {
            store
                .insert_key(new_key(&name, &[i], 0, 100))
                .await
                .unwrap()
                .version
        }));
    }
    let mut got = Vec::new();
    for h in handles {
        got.push(h.await.unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, (1..=16).collect::<Vec<u32>>());
}

/// Two separate pools (two processes, as far as the database can tell) race to reserve one
/// nonce: exactly one wins.
pub async fn two_stores_race(a: Arc<Store>, b: Arc<Store>, scope: &str) {
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let mut handles = Vec::new();
    for i in 0..32 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        let scope = scope.to_owned();
        let barrier = barrier.clone();
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            store.reserve(&scope, b"one", t(0), t(60)).await
        }));
    }
    let mut won = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => won += 1,
            Err(ReplayError::Replayed) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(won, 1);
}

/// The PostgreSQL URL for tests, or `None` (with a printed reason) when tests must skip.
/// With `SECDISPATCH_REQUIRE_SERVICES=1` a missing URL fails instead.
pub fn postgres_url() -> Option<String> {
    match std::env::var("SECDISPATCH_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!(
                    "SECDISPATCH_REQUIRE_SERVICES=1 but SECDISPATCH_TEST_POSTGRES_URL is not set"
                );
            }
            println!("skipped: PostgreSQL tests need SECDISPATCH_TEST_POSTGRES_URL (see .ci/run)");
            None
        }
    }
}

/// The certificate database contract.
pub async fn certificate_db_conformance(
    store: &dyn secdispatch_store::CertificateDb,
    prefix: &str,
) {
    use secdispatch_store::{Authority, IssuedCertificate, Revocation, RevokeOutcome};
    let root = format!("{prefix}-root");
    store
        .insert_authority(Authority {
            name: root.clone(),
            parent: None,
            certificate: vec![0x30, 0x00],
            key_name: format!("ca-{root}"),
            sequential: true,
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_authority(Authority {
                name: root.clone(),
                parent: None,
                certificate: vec![],
                key_name: "x".into(),
                sequential: false
            })
            .await,
        Err(StoreError::Conflict(_))
    ));
    let a = store.authority(&root).await.unwrap().unwrap();
    assert!(a.sequential && a.parent.is_none() && a.key_name == format!("ca-{root}"));
    assert!(
        store
            .authorities()
            .await
            .unwrap()
            .iter()
            .any(|x| x.name == root)
    );
    assert_eq!(store.take_serial(&root).await.unwrap(), 1);
    assert_eq!(store.take_serial(&root).await.unwrap(), 2);
    assert_eq!(store.take_crl_number(&root).await.unwrap(), 1);
    assert!(matches!(
        store.take_serial("nope").await,
        Err(StoreError::NotFound(_))
    ));

    let before = SystemTime::now() - Duration::from_secs(1);
    let cert = |serial: &str| IssuedCertificate {
        authority: root.clone(),
        serial: serial.into(),
        subject: "CN=x".into(),
        profile: "client".into(),
        not_before: t(0),
        not_after: t(1000),
        der: vec![0x30, 0x01, 0x00],
        issued_at: t(0),
        revocation: None,
        updated_at: t(0),
    };
    store.insert_certificate(cert("00:8F:01")).await.unwrap();
    store.insert_certificate(cert("02")).await.unwrap();
    assert!(matches!(
        store.insert_certificate(cert("8f01")).await,
        Err(StoreError::Conflict(_))
    ));
    let got = store.certificate(&root, "0x8f01").await.unwrap().unwrap();
    assert_eq!(got.serial, "8f01");
    assert!(got.revocation.is_none());
    assert_eq!(store.certificates(&root).await.unwrap().len(), 2);

    let rev = Revocation {
        at: t(500),
        reason: Some("keyCompromise".into()),
    };
    assert_eq!(
        store.revoke(&root, "8f01", rev.clone()).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        store
            .revoke(
                &root,
                "8f01",
                Revocation {
                    at: t(600),
                    reason: None
                }
            )
            .await
            .unwrap(),
        RevokeOutcome::AlreadyRevoked(rev.clone()),
        "the first revocation stands"
    );
    assert!(matches!(
        store.revoke(&root, "ff", rev.clone()).await,
        Err(StoreError::NotFound(_))
    ));
    let got = store.certificate(&root, "8f01").await.unwrap().unwrap();
    assert_eq!(got.revocation, Some(rev));
    let changed = store.changed_since(before).await.unwrap();
    assert!(
        changed
            .iter()
            .any(|c| c.serial == "8f01" && c.revocation.is_some()),
        "{changed:?}"
    );
}
