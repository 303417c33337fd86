//! The origin role (RFC 9576 §3, RFC 9577 §2): build challenges, verify tokens, refuse
//! double spending.
//!
//! Redemption of an `Authorization: PrivateToken token="..."` field, in order:
//!
//! 1. the credentials parse and the token decodes, with a type this origin asks for;
//! 2. its `challenge_digest` is one of ours: with an empty redemption context, the digest
//!    of the fixed challenge of that type; with per-request contexts, a challenge issued
//!    by this origin that has not expired (`max_age`);
//! 3. its `token_key_id` names an accepted key of that type that is valid now;
//! 4. **reserve** `(token_key_id, nonce)` in the [`NonceStore`] (scope
//!    `privacypass:<hex token_key_id>`), then **verify** the authenticator, then **commit**
//!    (or **release** when verification failed, so a forged token cannot burn a real
//!    client's nonce). Of any number of concurrent redemptions of one token, across every
//!    replica that shares the store, exactly one succeeds.
//!
//! The spent mark lasts as long as the token could be accepted: until the key's
//! `not_after` (empty context) or the challenge's expiry (per-request context).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rand_core::TryCryptoRng;
use secdispatch_replay::{NonceStore, ReplayError};

use crate::auth_scheme::{Quoting, build_www_authenticate, parse_authorization};
use crate::error::{Error, Result};
use crate::key_id::TokenKeyId;
use crate::wire::challenge::{RedemptionContext, TokenChallenge, TokenType};
use crate::wire::token::Token;
use crate::{type1, type2};

/// How challenges bind tokens to requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedemptionMode {
    /// Empty `redemption_context`: a token obtained once is redeemable on any later
    /// challenge of this origin (clients may fetch tokens ahead).
    #[default]
    Empty,
    /// 32 random bytes per challenge: a token answers exactly one challenge, which this
    /// origin remembers until `max_age` passes (bounded by `max_outstanding`). Replicas
    /// behind one name must share sessions (a token must return to the replica that
    /// issued its challenge).
    PerRequest,
}

/// What an origin asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginConfig {
    /// `issuer_name` of the challenges, `host[:port]`.
    pub issuer_name: String,
    /// `origin_info`: origin names the token is bound to (empty: cross-origin tokens).
    pub origin_info: Vec<String>,
    /// Token types to challenge for, in preference order.
    pub token_types: Vec<TokenType>,
    /// Redemption context mode.
    pub redemption: RedemptionMode,
    /// `max-age` of challenges, seconds (also how long per-request challenges stay valid).
    pub max_age: Option<u64>,
    /// How challenge values are written.
    pub quoting: Quoting,
    /// Most per-request challenges remembered at once.
    pub max_outstanding: usize,
}

impl OriginConfig {
    /// A configuration for one issuer and origin, type 2, empty context, max-age 60 s.
    pub fn new(issuer_name: &str, origin: &str) -> Self {
        Self {
            issuer_name: issuer_name.to_owned(),
            origin_info: if origin.is_empty() {
                Vec::new()
            } else {
                vec![origin.to_owned()]
            },
            token_types: vec![TokenType::PUBLIC_RSA],
            redemption: RedemptionMode::Empty,
            max_age: Some(60),
            quoting: Quoting::Quoted,
            max_outstanding: 100_000,
        }
    }
}

/// A key the origin accepts tokens under.
#[derive(Debug, Clone)]
pub enum VerificationKey {
    /// Type 1: verification needs the issuer's private key (joint origin and issuer).
    Type1(Arc<type1::IssuerKey>),
    /// Type 2: the public key.
    Type2(type2::PublicKey),
}

impl VerificationKey {
    /// The key's token type.
    pub fn token_type(&self) -> TokenType {
        match self {
            Self::Type1(_) => TokenType::PRIVATE_P384,
            Self::Type2(_) => TokenType::PUBLIC_RSA,
        }
    }

    /// `token_key_id`.
    pub fn key_id(&self) -> TokenKeyId {
        match self {
            Self::Type1(k) => k.public().key_id(),
            Self::Type2(k) => k.key_id(),
        }
    }

    /// The encoded `token-key`.
    pub fn token_key(&self) -> &[u8] {
        match self {
            Self::Type1(k) => k.public().token_key(),
            Self::Type2(k) => k.spki(),
        }
    }

    fn verify(&self, token: &Token) -> Result<()> {
        match self {
            Self::Type1(k) => k.verify(token),
            Self::Type2(k) => k.verify(token),
        }
    }
}

/// An accepted key and the end of its validity.
#[derive(Debug, Clone)]
pub struct AcceptedKey {
    /// The key.
    pub key: VerificationKey,
    /// Tokens under it are refused from this instant on.
    pub not_after: SystemTime,
}

/// What a successful redemption tells the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redeemed {
    /// Token type.
    pub token_type: TokenType,
    /// The issuer key the token was signed under.
    pub token_key_id: TokenKeyId,
}

/// An origin: challenges out, tokens in.
pub struct Origin {
    config: OriginConfig,
    /// Digests of the fixed challenges (empty context), per type.
    fixed: Vec<(TokenType, [u8; 32], TokenChallenge)>,
    keys: RwLock<Arc<Vec<AcceptedKey>>>,
    issued: Mutex<HashMap<[u8; 32], SystemTime>>,
    nonces: Arc<dyn NonceStore>,
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Default lifetime of per-request challenges when `max_age` is unset.
const DEFAULT_CHALLENGE_LIFETIME: Duration = Duration::from_secs(300);

impl Origin {
    /// An origin with no keys yet ([`Origin::set_keys`]); `nonces` is the double-spend
    /// store shared by every replica that accepts the same tokens.
    pub fn new(config: OriginConfig, nonces: Arc<dyn NonceStore>) -> Result<Self> {
        if config.token_types.is_empty() {
            return Err(Error::UnsupportedTokenType(TokenType(0)));
        }
        let origins: Vec<&str> = config.origin_info.iter().map(String::as_str).collect();
        let mut fixed = Vec::new();
        for t in &config.token_types {
            let c =
                TokenChallenge::new(*t, &config.issuer_name, RedemptionContext::Empty, &origins)?;
            fixed.push((*t, c.digest(), c));
        }
        Ok(Self {
            config,
            fixed,
            keys: RwLock::new(Arc::new(Vec::new())),
            issued: Mutex::new(HashMap::new()),
            nonces,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OriginConfig {
        &self.config
    }

    /// Replace the accepted keys (preference order: the first key of each type is the
    /// `token-key` sent with challenges). Called at start and on every key refresh.
    pub fn set_keys(&self, keys: Vec<AcceptedKey>) {
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(keys);
    }

    /// The accepted keys.
    pub fn keys(&self) -> Arc<Vec<AcceptedKey>> {
        self.keys.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// `WWW-Authenticate` values, one challenge per token type that has a valid key.
    pub fn challenges<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        now: SystemTime,
    ) -> Result<Vec<String>> {
        let keys = self.keys();
        let mut out = Vec::new();
        for (t, _, fixed) in &self.fixed {
            let Some(key) = keys
                .iter()
                .find(|k| k.key.token_type() == *t && now < k.not_after)
            else {
                continue;
            };
            let challenge = match self.config.redemption {
                RedemptionMode::Empty => fixed.clone(),
                RedemptionMode::PerRequest => {
                    let mut ctx = [0u8; 32];
                    rng.try_fill_bytes(&mut ctx).map_err(|_| Error::Rng)?;
                    let origins: Vec<&str> =
                        self.config.origin_info.iter().map(String::as_str).collect();
                    let c = TokenChallenge::new(
                        *t,
                        &self.config.issuer_name,
                        RedemptionContext::Bound(ctx),
                        &origins,
                    )?;
                    self.remember(c.digest(), now);
                    c
                }
            };
            out.push(build_www_authenticate(
                &challenge,
                Some(key.key.token_key()),
                self.config.max_age,
                self.config.quoting,
            ));
        }
        Ok(out)
    }

    fn challenge_lifetime(&self) -> Duration {
        self.config
            .max_age
            .map_or(DEFAULT_CHALLENGE_LIFETIME, Duration::from_secs)
    }

    fn remember(&self, digest: [u8; 32], now: SystemTime) {
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        if issued.len() >= self.config.max_outstanding {
            issued.retain(|_, exp| *exp > now);
            if issued.len() >= self.config.max_outstanding {
                // Forget the challenge closest to expiry rather than refuse service.
                if let Some(oldest) = issued.iter().min_by_key(|(_, e)| **e).map(|(d, _)| *d) {
                    issued.remove(&oldest);
                }
            }
        }
        issued.insert(digest, now + self.challenge_lifetime());
    }

    /// When the spent mark of a token answering `digest` may be dropped, or why the
    /// digest is not one of ours.
    fn challenge_expiry(
        &self,
        t: TokenType,
        digest: &[u8; 32],
        now: SystemTime,
    ) -> Result<Option<SystemTime>> {
        match self.config.redemption {
            RedemptionMode::Empty => self
                .fixed
                .iter()
                .any(|(ft, d, _)| *ft == t && d == digest)
                .then_some(None)
                .ok_or(Error::ChallengeMismatch),
            RedemptionMode::PerRequest => {
                let issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
                match issued.get(digest) {
                    Some(exp) if *exp > now => Ok(Some(*exp)),
                    _ => Err(Error::ChallengeMismatch),
                }
            }
        }
    }

    /// Redeem the token of an `Authorization` field value (see the module documentation
    /// for the steps).
    pub async fn redeem(&self, authorization: &str, now: SystemTime) -> Result<Redeemed> {
        let bytes = parse_authorization(authorization)?;
        let token = Token::decode(&bytes)?;
        self.redeem_token(&token, now).await
    }

    /// Redeem a decoded token.
    pub async fn redeem_token(&self, token: &Token, now: SystemTime) -> Result<Redeemed> {
        if !self.config.token_types.contains(&token.token_type) {
            return Err(Error::UnsupportedTokenType(token.token_type));
        }
        let challenge_expiry =
            self.challenge_expiry(token.token_type, &token.challenge_digest, now)?;
        let keys = self.keys();
        let key = keys
            .iter()
            .find(|k| {
                k.key.token_type() == token.token_type
                    && k.key.key_id().0 == token.token_key_id
                    && now < k.not_after
            })
            .ok_or(Error::UnknownKeyId)?;
        let expires = challenge_expiry
            .unwrap_or(key.not_after)
            .max(now + Duration::from_secs(1));
        let mut scope_buf = [0u8; SCOPE_LEN];
        let scope = double_spend_scope(&key.key.key_id(), &mut scope_buf);
        let reservation = self
            .nonces
            .reserve(scope, &token.nonce, now, expires)
            .await
            .map_err(|e| match e {
                ReplayError::Replayed => Error::DoubleSpend,
                other => Error::NonceStore(other.to_string()),
            })?;
        if let Err(e) = key.key.verify(token) {
            // A failed release leaves the nonce blocked until it expires (fail closed);
            // the verification error is what the caller needs.
            let _ = self.nonces.release(&reservation).await;
            return Err(e);
        }
        self.nonces
            .commit(&reservation)
            .await
            .map_err(|e| match e {
                ReplayError::ReservationLost => Error::DoubleSpend,
                other => Error::NonceStore(other.to_string()),
            })?;
        if challenge_expiry.is_some() {
            self.issued
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&token.challenge_digest);
        }
        Ok(Redeemed {
            token_type: token.token_type,
            token_key_id: key.key.key_id(),
        })
    }
}

const SCOPE_PREFIX: &[u8] = b"privacypass:";
const SCOPE_LEN: usize = SCOPE_PREFIX.len() + 64;

/// The double-spend scope `privacypass:<hex token_key_id>`, written into `buf` (no
/// allocation on the redemption path).
fn double_spend_scope<'a>(key_id: &TokenKeyId, buf: &'a mut [u8; SCOPE_LEN]) -> &'a str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf[..SCOPE_PREFIX.len()].copy_from_slice(SCOPE_PREFIX);
    for (i, b) in key_id.0.iter().enumerate() {
        buf[SCOPE_PREFIX.len() + 2 * i] = HEX[usize::from(b >> 4)];
        buf[SCOPE_PREFIX.len() + 2 * i + 1] = HEX[usize::from(b & 0x0f)];
    }
    // ASCII by construction.
    std::str::from_utf8(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_spend_scope_is_prefix_and_lowercase_hex() {
        let id = TokenKeyId(std::array::from_fn(|i| (i as u8).wrapping_mul(37)));
        let mut buf = [0u8; SCOPE_LEN];
        assert_eq!(
            double_spend_scope(&id, &mut buf),
            format!("privacypass:{}", id.to_hex())
        );
    }
}
