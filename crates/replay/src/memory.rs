//! In-process [`NonceStore`]: a sharded hash map.
//!
//! Right for one process (and for benchmarks); several replicas must share a database
//! backend instead, or a token could be spent once per replica.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use crate::{BoxFuture, NonceStore, ReplayError, Reservation, check_reserve_args, new_token};

const SHARDS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Entry {
    expires_at: SystemTime,
    token: i64,
    committed: bool,
}

/// A [`NonceStore`] in memory, sharded to keep lock contention low.
///
/// Expired entries are removed by [`NonceStore::purge_expired`] (services call it on a
/// timer) and, when a capacity limit is set, whenever a shard is full. When the limit is
/// reached and nothing has expired, `reserve` fails with [`ReplayError::Unavailable`]: the
/// store refuses new values rather than forget spent ones.
#[derive(Debug)]
pub struct MemoryNonceStore {
    shards: Vec<Mutex<HashMap<Box<[u8]>, Entry>>>,
    hasher: RandomState,
    max_per_shard: usize,
}

impl Default for MemoryNonceStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryNonceStore {
    /// An unbounded store.
    pub fn new() -> Self {
        Self::with_capacity_limit(usize::MAX)
    }

    /// A store that holds at most about `max_entries` unexpired values.
    pub fn with_capacity_limit(max_entries: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            max_per_shard: (max_entries / SHARDS).max(1),
        }
    }

    /// Number of entries held, expired or not.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).len()).sum()
    }

    /// Whether the store holds no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key is `len(scope) ‖ scope ‖ value`, so that distinct pairs never collide.
    fn key(scope: &str, value: &[u8]) -> Box<[u8]> {
        let mut k = Vec::with_capacity(1 + scope.len() + value.len());
        // scope.len() <= MAX_SCOPE_LEN = 255, checked before any key is built.
        k.push(u8::try_from(scope.len()).unwrap_or(u8::MAX));
        k.extend_from_slice(scope.as_bytes());
        k.extend_from_slice(value);
        k.into_boxed_slice()
    }

    fn shard(&self, key: &[u8]) -> MutexGuard<'_, HashMap<Box<[u8]>, Entry>> {
        let i = (self.hasher.hash_one(key) as usize) % SHARDS;
        lock(&self.shards[i])
    }

    fn reserve_now(
        &self,
        scope: &str,
        value: &[u8],
        now: SystemTime,
        expires_at: SystemTime,
    ) -> Result<Reservation, ReplayError> {
        check_reserve_args(scope, value, now, expires_at)?;
        let key = Self::key(scope, value);
        let token = new_token()?;
        let mut shard = self.shard(&key);
        if let Some(e) = shard.get(&key)
            && e.expires_at > now
        {
            return Err(ReplayError::Replayed);
        }
        if shard.len() >= self.max_per_shard && !shard.contains_key(&key) {
            shard.retain(|_, e| e.expires_at > now);
            if shard.len() >= self.max_per_shard {
                return Err(ReplayError::Unavailable(
                    "in-memory nonce store is full".to_owned(),
                ));
            }
        }
        shard.insert(
            key,
            Entry {
                expires_at,
                token,
                committed: false,
            },
        );
        Ok(Reservation {
            scope: scope.to_owned(),
            value: value.to_vec(),
            expires_at,
            token,
        })
    }

    fn finish(&self, r: &Reservation, commit: bool) -> Result<(), ReplayError> {
        let key = Self::key(&r.scope, &r.value);
        let mut shard = self.shard(&key);
        match shard.get_mut(&key) {
            Some(e) if e.token == r.token => {
                if commit {
                    e.committed = true;
                } else if !e.committed {
                    shard.remove(&key);
                }
                Ok(())
            }
            _ => Err(ReplayError::ReservationLost),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave an entry half-written (every critical
    // section is a single map operation), so a poisoned lock is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl NonceStore for MemoryNonceStore {
    fn reserve<'a>(
        &'a self,
        scope: &'a str,
        value: &'a [u8],
        now: SystemTime,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<Reservation, ReplayError>> {
        let r = self.reserve_now(scope, value, now, expires_at);
        Box::pin(async move { r })
    }

    fn commit<'a>(
        &'a self,
        reservation: &'a Reservation,
    ) -> BoxFuture<'a, Result<(), ReplayError>> {
        let r = self.finish(reservation, true);
        Box::pin(async move { r })
    }

    fn release<'a>(
        &'a self,
        reservation: &'a Reservation,
    ) -> BoxFuture<'a, Result<(), ReplayError>> {
        let r = self.finish(reservation, false);
        Box::pin(async move { r })
    }

    fn purge_expired(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, ReplayError>> {
        let mut n = 0u64;
        for s in &self.shards {
            let mut s = lock(s);
            let before = s.len();
            s.retain(|_, e| e.expires_at > now);
            n += (before - s.len()) as u64;
        }
        Box::pin(async move { Ok(n) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    #[tokio::test]
    async fn capacity_limit_fails_closed_then_recovers_after_expiry() {
        let store = MemoryNonceStore::with_capacity_limit(SHARDS);
        // Each shard holds one entry; fill until some shard refuses.
        let mut refused = false;
        for i in 0..200u32 {
            match store.reserve("s", &i.to_be_bytes(), t(0), t(10)).await {
                Ok(_) => {}
                Err(ReplayError::Unavailable(_)) => {
                    refused = true;
                    break;
                }
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert!(refused, "a full store must refuse, not forget");
        // After expiry the full shard makes room again.
        for i in 0..200u32 {
            store
                .reserve("s2", &i.to_be_bytes(), t(20), t(30))
                .await
                .map(|_| ())
                .ok();
        }
        assert!(store.len() <= SHARDS);
        assert!(store.reserve("s3", b"x", t(40), t(50)).await.is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn conformance() {
        crate::conformance::run_all(Arc::new(MemoryNonceStore::new())).await;
    }
}
