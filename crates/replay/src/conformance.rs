//! The behaviour every [`NonceStore`] backend must show, as one suite that each backend's
//! tests run against a live instance (in-memory, SQLite, PostgreSQL, Redis).
//!
//! Every check works in a scope of its own made from a random token, so the suite can run
//! repeatedly against a persistent database without cleaning it first. The functions panic
//! on a failed expectation: they are test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::{NonceStore, ReplayError, new_token};

/// A fixed instant the suite measures from (2023-11-14T22:13:20Z).
fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn fresh_scope(what: &str) -> String {
    format!("conformance:{what}:{:x}", new_token().unwrap())
}

/// Run every check.
pub async fn run_all(store: Arc<dyn NonceStore>) {
    reserve_then_replay(&*store).await;
    commit_keeps_value_spent(&*store).await;
    release_frees_value(&*store).await;
    expiry_frees_value(&*store).await;
    scopes_are_separate(&*store).await;
    stale_holder_cannot_touch_new_reservation(&*store).await;
    bad_arguments_are_refused(&*store).await;
    purge_removes_only_expired(&*store).await;
    race_has_exactly_one_winner(store.clone(), 64).await;
}

/// A second reserve of a held value is a replay, whether committed or not.
pub async fn reserve_then_replay(store: &dyn NonceStore) {
    let scope = fresh_scope("replay");
    let r = store.reserve(&scope, b"n", t(0), t(60)).await.unwrap();
    assert_eq!(r.scope, scope);
    assert_eq!(r.value, b"n");
    assert_eq!(
        store.reserve(&scope, b"n", t(1), t(60)).await,
        Err(ReplayError::Replayed)
    );
    store.commit(&r).await.unwrap();
    assert_eq!(
        store.reserve(&scope, b"n", t(2), t(60)).await,
        Err(ReplayError::Replayed)
    );
}

/// Releasing a committed value does not un-spend it.
pub async fn commit_keeps_value_spent(store: &dyn NonceStore) {
    let scope = fresh_scope("commit");
    let r = store.reserve(&scope, b"n", t(0), t(60)).await.unwrap();
    store.commit(&r).await.unwrap();
    store.release(&r).await.unwrap();
    assert_eq!(
        store.reserve(&scope, b"n", t(1), t(60)).await,
        Err(ReplayError::Replayed)
    );
}

/// A released value can be reserved again at once.
pub async fn release_frees_value(store: &dyn NonceStore) {
    let scope = fresh_scope("release");
    let r = store.reserve(&scope, b"n", t(0), t(60)).await.unwrap();
    store.release(&r).await.unwrap();
    let r2 = store.reserve(&scope, b"n", t(1), t(60)).await.unwrap();
    assert_ne!(r.token, r2.token);
}

/// A spent value is free again once its expiry has passed, and not a moment before.
pub async fn expiry_frees_value(store: &dyn NonceStore) {
    let scope = fresh_scope("expiry");
    let r = store.reserve(&scope, b"n", t(0), t(10)).await.unwrap();
    store.commit(&r).await.unwrap();
    assert_eq!(
        store.reserve(&scope, b"n", t(9), t(20)).await,
        Err(ReplayError::Replayed)
    );
    store.reserve(&scope, b"n", t(10), t(20)).await.unwrap();
}

/// The same value in two scopes is two values.
pub async fn scopes_are_separate(store: &dyn NonceStore) {
    let a = fresh_scope("a");
    let b = fresh_scope("b");
    store.reserve(&a, b"same", t(0), t(60)).await.unwrap();
    store.reserve(&b, b"same", t(0), t(60)).await.unwrap();
    // A scope that is a prefix of another with the value shifted must not collide.
    let ab = format!("{a}x");
    store.reserve(&ab, b"same", t(0), t(60)).await.unwrap();
    store.reserve(&a, b"xsame", t(0), t(60)).await.unwrap();
}

/// Once a reservation expired and another caller took the value, the first holder's commit
/// and release fail and do not disturb the new holder.
pub async fn stale_holder_cannot_touch_new_reservation(store: &dyn NonceStore) {
    let scope = fresh_scope("stale");
    let old = store.reserve(&scope, b"n", t(0), t(5)).await.unwrap();
    let new = store.reserve(&scope, b"n", t(6), t(60)).await.unwrap();
    assert_eq!(store.release(&old).await, Err(ReplayError::ReservationLost));
    assert_eq!(store.commit(&old).await, Err(ReplayError::ReservationLost));
    assert_eq!(
        store.reserve(&scope, b"n", t(7), t(60)).await,
        Err(ReplayError::Replayed)
    );
    store.commit(&new).await.unwrap();
}

/// Empty or oversized scopes and values, and expiries not in the future, are refused.
pub async fn bad_arguments_are_refused(store: &dyn NonceStore) {
    let scope = fresh_scope("args");
    assert_eq!(
        store.reserve("", b"n", t(0), t(1)).await,
        Err(ReplayError::BadScope(0))
    );
    let long_scope = "s".repeat(crate::MAX_SCOPE_LEN + 1);
    assert!(matches!(
        store.reserve(&long_scope, b"n", t(0), t(1)).await,
        Err(ReplayError::BadScope(_))
    ));
    assert_eq!(
        store.reserve(&scope, b"", t(0), t(1)).await,
        Err(ReplayError::BadValue(0))
    );
    let long = vec![7u8; crate::MAX_VALUE_LEN + 1];
    assert!(matches!(
        store.reserve(&scope, &long, t(0), t(1)).await,
        Err(ReplayError::BadValue(_))
    ));
    assert_eq!(
        store.reserve(&scope, b"n", t(5), t(5)).await,
        Err(ReplayError::AlreadyExpired)
    );
    // Binary values, including NUL bytes, are fine.
    store
        .reserve(&scope, &[0, 255, 0], t(0), t(1))
        .await
        .unwrap();
}

/// `purge_expired` deletes expired entries and keeps live ones blocking.
pub async fn purge_removes_only_expired(store: &dyn NonceStore) {
    let scope = fresh_scope("purge");
    let r1 = store.reserve(&scope, b"old", t(0), t(10)).await.unwrap();
    store.commit(&r1).await.unwrap();
    let r2 = store.reserve(&scope, b"live", t(0), t(1000)).await.unwrap();
    store.commit(&r2).await.unwrap();
    let n = store.purge_expired(t(500)).await.unwrap();
    assert!(n >= 1, "the expired entry must be counted");
    assert_eq!(
        store.reserve(&scope, b"live", t(501), t(1000)).await,
        Err(ReplayError::Replayed)
    );
    store
        .reserve(&scope, b"old", t(501), t(1000))
        .await
        .unwrap();
}

/// `tasks` concurrent reservations of one value: exactly one wins, the rest are replays.
pub async fn race_has_exactly_one_winner(store: Arc<dyn NonceStore>, tasks: usize) {
    race_across(&[store], tasks).await;
}

/// `tasks` tasks spread over `stores` (replicas sharing one backend) race to reserve one
/// value: exactly one wins, the others see `Replayed`.
pub async fn race_across(stores: &[Arc<dyn NonceStore>], tasks: usize) {
    let scope = fresh_scope("race");
    let start = Arc::new(tokio::sync::Barrier::new(tasks));
    let mut handles = Vec::with_capacity(tasks);
    for i in 0..tasks {
        let store = stores[i % stores.len()].clone();
        let scope = scope.clone();
        let start = start.clone();
        handles.push(tokio::spawn(async move {
            start.wait().await;
            store.reserve(&scope, b"contended", t(0), t(60)).await
        }));
    }
    let mut won = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => won += 1,
            Err(ReplayError::Replayed) => {}
            Err(e) => panic!("reserve failed with {e} instead of Replayed"),
        }
    }
    assert_eq!(
        won, 1,
        "exactly one of {tasks} racing reservations must win"
    );
}
