//! The store contract on embedded SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use secdispatch_store::{Dialect, Store, StoreError, StoreLocation};

async fn open(dir: &std::path::Path) -> Store {
    Store::open(&StoreLocation::sqlite_in(dir)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nonce_store_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    assert_eq!(store.dialect(), Dialect::Sqlite);
    secdispatch_replay::conformance::run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_store_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(dir.path()).await);
    common::key_store_conformance(&*store, "sqlite").await;
    common::concurrent_key_versions(store, "sqlite").await;
}

#[tokio::test]
async fn certificate_db_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    common::certificate_db_conformance(&store, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_race_for_one_nonce() {
    let dir = tempfile::tempdir().unwrap();
    let a = Arc::new(open(dir.path()).await);
    let b = Arc::new(open(dir.path()).await);
    common::two_stores_race(a, b, "race-two-pools").await;
}

#[tokio::test]
async fn reopening_keeps_data_and_applies_no_migration_twice() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path()).await;
        use secdispatch_store::NonceStore;
        let r = store
            .reserve("s", b"v", common::t(0), common::t(60))
            .await
            .unwrap();
        store.commit(&r).await.unwrap();
        store.close().await;
    }
    let store = open(dir.path()).await;
    assert_eq!(store.schema_version().await.unwrap(), 2);
    use secdispatch_store::{NonceStore, ReplayError};
    assert_eq!(
        store.reserve("s", b"v", common::t(1), common::t(60)).await,
        Err(ReplayError::Replayed),
        "a spent nonce must survive a restart"
    );
}

#[tokio::test]
async fn journal_is_wal() {
    let dir = tempfile::tempdir().unwrap();
    let _store = open(dir.path()).await;
    // WAL mode leaves its write-ahead log beside the database file.
    let wal = dir.path().join("secdispatch.db-wal");
    assert!(
        wal.exists(),
        "expected {} to exist in WAL mode",
        wal.display()
    );
}

#[tokio::test]
async fn refuses_a_database_from_a_newer_secdispatch() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    // Pretend a future version migrated this file.
    let conn_url = format!("sqlite://{}", dir.path().join("secdispatch.db").display());
    {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&conn_url).await.unwrap();
        sqlx::query("INSERT INTO secdispatch_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
            .execute(&mut c)
            .await
            .unwrap();
    }
    store.close().await;
    match Store::open(&StoreLocation::sqlite_in(dir.path())).await {
        Err(
            e @ StoreError::SchemaTooNew {
                found: 999,
                known: 2,
            },
        ) => {
            assert!(e.to_string().contains("upgrade secdispatch"), "{e}");
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn unwritable_data_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = Store::open(&StoreLocation::sqlite_in(&file.join("sub")))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DataDir { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

/// With another nonce store attached (`[store] replay`), nonces go there, not to the
/// database.
#[tokio::test]
async fn nonces_go_to_the_attached_nonce_store() {
    use secdispatch_store::{NonceStore, ReplayError};
    let dir = tempfile::tempdir().unwrap();
    let memory = Arc::new(secdispatch_replay::MemoryNonceStore::new());
    let store = open(dir.path())
        .await
        .with_nonce_store(memory.clone(), "memory".into());
    assert_eq!(store.nonce_location(), "memory");
    let r = store
        .reserve("s", b"v", common::t(0), common::t(60))
        .await
        .unwrap();
    store.commit(&r).await.unwrap();
    assert!(matches!(
        memory.reserve("s", b"v", common::t(1), common::t(60)).await,
        Err(ReplayError::Replayed)
    ));
    // The database's own nonce table was not touched.
    let plain = open(dir.path()).await;
    plain
        .reserve("s", b"v", common::t(1), common::t(60))
        .await
        .unwrap();
}
