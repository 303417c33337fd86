//! The nonce store contract on Redis. Needs `SECDISPATCH_TEST_REDIS_URL` (`.ci/run` starts a
//! server and sets it); skips with a printed reason otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use secdispatch_store::{RedisNonceStore, StoreError};

fn redis_url() -> Option<String> {
    match std::env::var("SECDISPATCH_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "SECDISPATCH_REQUIRE_SERVICES=1 but SECDISPATCH_TEST_REDIS_URL is not set"
            );
            println!("skipped: Redis tests need SECDISPATCH_TEST_REDIS_URL (see .ci/run)");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nonce_store_conformance() {
    let Some(url) = redis_url() else { return };
    let store = RedisNonceStore::connect(&url, Duration::from_secs(3))
        .await
        .unwrap();
    secdispatch_replay::conformance::run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_connections_race_for_one_nonce() {
    let Some(url) = redis_url() else { return };
    let a = Arc::new(
        RedisNonceStore::connect(&url, Duration::from_secs(3))
            .await
            .unwrap(),
    );
    let b = Arc::new(
        RedisNonceStore::connect(&url, Duration::from_secs(3))
            .await
            .unwrap(),
    );
    secdispatch_replay::conformance::race_has_exactly_one_winner(a, 32).await;
    secdispatch_replay::conformance::race_has_exactly_one_winner(b, 32).await;
}

#[tokio::test]
async fn unreachable_redis_is_a_clear_error() {
    let err = RedisNonceStore::connect("redis://:hunter2@127.0.0.1:1/0", Duration::from_secs(2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Redis { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("127.0.0.1:1") && !msg.contains("hunter2"),
        "{msg}"
    );
}

/// A database store whose nonces live in Redis (`[store] replay = "redis://..."`): the
/// nonce contract holds through the delegate, and two such stores (two replicas) race
/// for one nonce with exactly one winner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_store_with_redis_nonces() {
    let Some(url) = redis_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let replica = || async {
        let redis = RedisNonceStore::connect(&url, Duration::from_secs(3))
            .await
            .unwrap();
        let shown = redis.location().to_owned();
        secdispatch_store::Store::open(&secdispatch_store::StoreLocation::sqlite_in(dir.path()))
            .await
            .unwrap()
            .with_nonce_store(Arc::new(redis), shown)
    };
    let a = Arc::new(replica().await);
    assert!(a.nonce_location().starts_with("redis://"));
    secdispatch_replay::conformance::run_all(a.clone()).await;
    let b = Arc::new(replica().await);
    let both: [Arc<dyn secdispatch_store::NonceStore>; 2] = [a, b];
    secdispatch_replay::conformance::race_across(&both, 32).await;
}
