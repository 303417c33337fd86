//! # secdispatch-replay — accept a value at most once
//!
//! Two protocols that secdispatch implements must accept a value at most once, across every
//! replica that serves the same clients:
//!
//! * RFC 9421 §7.2.2: a verifier that sees the same signature `nonce` twice must refuse the
//!   second message (replay);
//! * RFC 9576 §3.5 and RFC 9578: an origin must refuse a Privacy Pass token whose
//!   `(token_key_id, nonce)` it has already redeemed (double spending).
//!
//! Both use the same protocol against a [`NonceStore`]:
//!
//! 1. **reserve** the value before the expensive check. Exactly one caller can hold a
//!    reservation for a `(scope, value)` pair until it expires, however many race for it, even
//!    in several processes sharing one database;
//! 2. run the check (signature or token verification);
//! 3. **commit** when the check passed (the value is now spent until `expires_at`), or
//!    **release** when it failed, so that an attacker cannot burn a legitimate client's nonce
//!    by sending it first with a bad signature.
//!
//! A reservation that is neither committed nor released (a crashed process) keeps the value
//! blocked until it expires: the store fails closed. Time is always a parameter, never read
//! from a global clock, so callers and tests decide what "now" is.
//!
//! This crate holds the trait, the [`MemoryNonceStore`] used by single-process deployments
//! and benchmarks, and (feature `conformance`) the test suite every backend must pass. The
//! SQLite, PostgreSQL and Redis backends live in `secdispatch-store`.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use secdispatch_replay::{MemoryNonceStore, NonceStore, ReplayError};
//!
//! # async fn demo() -> Result<(), ReplayError> {
//! let store = MemoryNonceStore::new();
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
//! let until = now + Duration::from_secs(300);
//!
//! let r = store.reserve("httpsig:test-key", b"nonce-1", now, until).await?;
//! // ... verify the signature ...
//! store.commit(&r).await?;
//!
//! // The same nonce again is a replay.
//! let again = store.reserve("httpsig:test-key", b"nonce-1", now, until).await;
//! assert_eq!(again.unwrap_err(), ReplayError::Replayed);
//! # Ok(()) }
//! # futures_executor(demo());
//! # fn futures_executor<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

mod memory;

#[cfg(feature = "conformance")]
pub mod conformance;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use memory::MemoryNonceStore;

/// A boxed, sendable future: what the [`NonceStore`] methods return, so the trait stays
/// object safe (`Arc<dyn NonceStore>`) without a macro crate.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Longest scope accepted, in bytes.
pub const MAX_SCOPE_LEN: usize = 255;
/// Longest value accepted, in bytes (a Privacy Pass nonce is 32, an RFC 9421 nonce is
/// whatever the signer chose; anything longer than this is refused rather than stored).
pub const MAX_VALUE_LEN: usize = 512;

/// Why a nonce operation did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The value is reserved or spent and has not expired: the message is a replay.
    #[error("nonce already used (replay)")]
    Replayed,
    /// `commit` or `release` on a reservation the store no longer holds: it expired and the
    /// value was reserved again by someone else.
    #[error("reservation no longer held: it expired and the nonce was reserved again")]
    ReservationLost,
    /// `expires_at` is not later than `now`.
    #[error("nonce expiry is not after the current time")]
    AlreadyExpired,
    /// The scope is empty or longer than [`MAX_SCOPE_LEN`] bytes.
    #[error("nonce scope must be 1..={MAX_SCOPE_LEN} bytes, got {0}")]
    BadScope(usize),
    /// The value is empty or longer than [`MAX_VALUE_LEN`] bytes.
    #[error("nonce must be 1..={MAX_VALUE_LEN} bytes, got {0}")]
    BadValue(usize),
    /// The store cannot answer (database down, capacity exhausted). Callers fail closed.
    #[error("nonce store unavailable: {0}")]
    Unavailable(String),
}

/// A held reservation of `(scope, value)`, returned by [`NonceStore::reserve`] and passed
/// back to [`NonceStore::commit`] or [`NonceStore::release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// Namespace of the value, e.g. `httpsig:<keyid>` or `privacypass:<token_key_id>`.
    pub scope: String,
    /// The nonce itself.
    pub value: Vec<u8>,
    /// When the reservation (and, once committed, the spent mark) stops blocking the value.
    pub expires_at: SystemTime,
    /// Random identity of this reservation, so that a holder whose reservation expired and
    /// was taken over cannot commit or release the new holder's.
    pub token: i64,
}

/// Reserve, commit, release: the storage side of "accept at most once".
///
/// Implementations must make `reserve` atomic: of any number of concurrent calls for the
/// same `(scope, value)`, exactly one succeeds while an unexpired entry exists.
pub trait NonceStore: Send + Sync + std::fmt::Debug {
    /// Reserve `value` in `scope` until `expires_at`.
    ///
    /// Succeeds when the pair is unknown or its previous entry expired at or before `now`;
    /// fails with [`ReplayError::Replayed`] otherwise.
    fn reserve<'a>(
        &'a self,
        scope: &'a str,
        value: &'a [u8],
        now: SystemTime,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<Reservation, ReplayError>>;

    /// Mark a reserved value as spent; it stays blocked until the reservation's expiry.
    fn commit<'a>(&'a self, reservation: &'a Reservation)
    -> BoxFuture<'a, Result<(), ReplayError>>;

    /// Give a reserved value back (the check it guarded failed), so it can be used again.
    /// Releasing a committed value does nothing: spent stays spent.
    fn release<'a>(
        &'a self,
        reservation: &'a Reservation,
    ) -> BoxFuture<'a, Result<(), ReplayError>>;

    /// Delete entries that expired at or before `now`; returns how many were deleted.
    fn purge_expired(&self, now: SystemTime) -> BoxFuture<'_, Result<u64, ReplayError>>;

    /// Whether the store answers, for health checks. In-process stores always do.
    fn ping(&self) -> BoxFuture<'_, Result<(), ReplayError>> {
        Box::pin(async { Ok(()) })
    }
}

/// Check the arguments of [`NonceStore::reserve`]; every backend calls this first.
pub fn check_reserve_args(
    scope: &str,
    value: &[u8],
    now: SystemTime,
    expires_at: SystemTime,
) -> Result<(), ReplayError> {
    if scope.is_empty() || scope.len() > MAX_SCOPE_LEN {
        return Err(ReplayError::BadScope(scope.len()));
    }
    if value.is_empty() || value.len() > MAX_VALUE_LEN {
        return Err(ReplayError::BadValue(value.len()));
    }
    if expires_at <= now {
        return Err(ReplayError::AlreadyExpired);
    }
    Ok(())
}

/// A fresh random reservation token.
pub fn new_token() -> Result<i64, ReplayError> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| ReplayError::Unavailable(format!("no randomness: {e}")))?;
    Ok(i64::from_le_bytes(b))
}

/// Milliseconds since the Unix epoch, the time unit of the database backends. Times before
/// the epoch map to 0 and times past year 292,000,000 to `i64::MAX`.
pub fn unix_millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Inverse of [`unix_millis`].
pub fn from_unix_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
