//! [`NonceStore`] on SQLite and PostgreSQL.
//!
//! `reserve` is one atomic upsert: insert the value, or take over its row only when the
//! row's expiry has passed. Both databases serialize conflicting inserts on the primary
//! key, so of any number of concurrent reservations (threads, processes, replicas sharing a
//! PostgreSQL) exactly one changes a row; the others change none and are replays.

use std::time::SystemTime;

use secdispatch_replay::{
    BoxFuture, NonceStore, ReplayError, Reservation, check_reserve_args, new_token, unix_millis,
};

use crate::Store;

/// A store error seen by a nonce caller: the store cannot decide, so the caller fails
/// closed.
fn unavailable(e: sqlx::Error) -> ReplayError {
    ReplayError::Unavailable(e.to_string())
}

impl Store {
    async fn reserve_nonce(
        &self,
        scope: &str,
        value: &[u8],
        now: SystemTime,
        expires_at: SystemTime,
    ) -> Result<Reservation, ReplayError> {
        check_reserve_args(scope, value, now, expires_at)?;
        let token = new_token()?;
        let done = sqlx::query(
            "INSERT INTO nonces (scope, value, expires_at, token, committed) \
             VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (scope, value) DO UPDATE \
             SET expires_at = excluded.expires_at, token = excluded.token, committed = 0 \
             WHERE nonces.expires_at <= $5",
        )
        .bind(scope)
        .bind(value)
        .bind(unix_millis(expires_at))
        .bind(token)
        .bind(unix_millis(now))
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 1 {
            Ok(Reservation {
                scope: scope.to_owned(),
                value: value.to_vec(),
                expires_at,
                token,
            })
        } else {
            Err(ReplayError::Replayed)
        }
    }

    async fn commit_nonce(&self, r: &Reservation) -> Result<(), ReplayError> {
        let done = sqlx::query(
            "UPDATE nonces SET committed = 1 WHERE scope = $1 AND value = $2 AND token = $3",
        )
        .bind(&r.scope)
        .bind(r.value.as_slice())
        .bind(r.token)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(ReplayError::ReservationLost)
        }
    }

    async fn release_nonce(&self, r: &Reservation) -> Result<(), ReplayError> {
        let done = sqlx::query(
            "DELETE FROM nonces WHERE scope = $1 AND value = $2 AND token = $3 AND committed = 0",
        )
        .bind(&r.scope)
        .bind(r.value.as_slice())
        .bind(r.token)
        .execute(self.pool())
        .await
        .map_err(unavailable)?;
        if done.rows_affected() == 1 {
            return Ok(());
        }
        // Nothing deleted: either we committed it (spent stays spent: fine) or it is gone.
        let still_ours: Option<i64> = sqlx::query_scalar(
            "SELECT committed FROM nonces WHERE scope = $1 AND value = $2 AND token = $3",
        )
        .bind(&r.scope)
        .bind(r.value.as_slice())
        .bind(r.token)
        .fetch_optional(self.pool())
        .await
        .map_err(unavailable)?;
        match still_ours {
            Some(_) => Ok(()),
            None => Err(ReplayError::ReservationLost),
        }
    }

    async fn purge_nonces(&self, now: SystemTime) -> Result<u64, ReplayError> {
        let done = sqlx::query("DELETE FROM nonces WHERE expires_at <= $1")
            .bind(unix_millis(now))
            .execute(self.pool())
            .await
            .map_err(unavailable)?;
        Ok(done.rows_affected())
    }
}

impl NonceStore for Store {
    fn reserve<'a>(
        &'a self,
        scope: &'a str,
        value: &'a [u8],
        now: SystemTime,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<Reservation, ReplayError>> {
        match &self.nonces {
            Some(n) => n.store.reserve(scope, value, now, expires_at),
            None => Box::pin(self.reserve_nonce(scope, value, now, expires_at)),
        }
    }

    fn commit<'a>(
        &'a self,
        reservation: &'a Reservation,
    ) -> BoxFuture<'a, Result<(), ReplayError>> {
        match &self.nonces {
            Some(n) => n.store.commit(reservation),
            None => Box::pin(self.commit_nonce(reservation)),
        }
    }

    fn release<'a>(
        &'a self,
        reservation: &'a Reservation,
    ) -> BoxFuture<'a, Result<(), ReplayError>> {
        match &self.nonces {
            Some(n) => n.store.release(reservation),
            None => Box::pin(self.release_nonce(reservation)),
        }
    }

    fn purge_expired(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, ReplayError>> {
        match &self.nonces {
            Some(n) => n.store.purge_expired(now),
            None => Box::pin(self.purge_nonces(now)),
        }
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), ReplayError>> {
        Box::pin(async move {
            Store::ping(self)
                .await
                .map_err(|e| ReplayError::Unavailable(e.to_string()))
        })
    }
}
