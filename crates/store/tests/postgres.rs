//! The store contract on PostgreSQL. Needs `SECDISPATCH_TEST_POSTGRES_URL` (`.ci/run` starts a
//! server and sets it); skips with a printed reason otherwise. Each test works in a schema
//! of its own, dropped at the end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use secdispatch_store::{Dialect, Store, StoreError, StoreLocation, StoreOptions};
use sqlx::Connection;

/// A fresh schema on the test server; returns its name and a URL that uses it.
async fn fresh_schema(base: &str) -> (String, String) {
    let schema = format!(
        "sd_test_{:x}",
        secdispatch_replay::new_token().unwrap() as u64
    );
    let mut c = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut c)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    (
        schema.clone(),
        format!("{base}{sep}options=-c%20search_path%3D{schema}"),
    )
}

async fn drop_schema(base: &str, schema: &str) {
    let mut c = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut c)
        .await
        .unwrap();
}

async fn open(url: &str) -> Store {
    let opts = StoreOptions {
        max_connections: 16,
        ..StoreOptions::default()
    };
    Store::open_with(&StoreLocation::parse(url).unwrap(), &opts)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nonce_store_conformance() {
    let Some(base) = common::postgres_url() else {
        return;
    };
    let (schema, url) = fresh_schema(&base).await;
    let store = open(&url).await;
    assert_eq!(store.dialect(), Dialect::Postgres);
    secdispatch_replay::conformance::run_all(Arc::new(store)).await;
    drop_schema(&base, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn key_store_conformance() {
    let Some(base) = common::postgres_url() else {
        return;
    };
    let (schema, url) = fresh_schema(&base).await;
    let store = Arc::new(open(&url).await);
    common::key_store_conformance(&*store, "pg").await;
    common::concurrent_key_versions(store, "pg").await;
    drop_schema(&base, &schema).await;
}

#[tokio::test]
async fn certificate_db_conformance() {
    let Some(base) = common::postgres_url() else {
        return;
    };
    let (schema, url) = fresh_schema(&base).await;
    let store = open(&url).await;
    common::certificate_db_conformance(&store, "pg").await;
    drop_schema(&base, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_race_for_one_nonce() {
    let Some(base) = common::postgres_url() else {
        return;
    };
    let (schema, url) = fresh_schema(&base).await;
    let a = Arc::new(open(&url).await);
    let b = Arc::new(open(&url).await);
    common::two_stores_race(a, b, "race-two-pools").await;
    drop_schema(&base, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_open_migrates_once() {
    let Some(base) = common::postgres_url() else {
        return;
    };
    let (schema, url) = fresh_schema(&base).await;
    let opens: Vec<_> = (0..6)
        .map(|_| {
            tokio::spawn({
                let url = url.clone();
                async move { open(&url).await.schema_version().await.unwrap() }
            })
        })
        .collect();
    for o in opens {
        assert_eq!(o.await.unwrap(), 2);
    }
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM secdispatch_migrations")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(n, 2, "each migration is recorded exactly once");
    drop_schema(&base, &schema).await;
}

#[tokio::test]
async fn unreachable_server_is_a_clear_error() {
    // Port 1 on loopback: nothing listens there. Needs no server, so it always runs.
    let loc = StoreLocation::parse("postgres://sd:secret@127.0.0.1:1/sd").unwrap();
    let opts = StoreOptions {
        connect_timeout: Duration::from_secs(2),
        ..StoreOptions::default()
    };
    let err = Store::open_with(&loc, &opts).await.unwrap_err();
    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
    assert!(
        !msg.contains("secret"),
        "the password must not be printed: {msg}"
    );
}
