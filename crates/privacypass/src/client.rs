//! The client role (RFC 9577 §2.1.1, RFC 9578): pick a challenge, blind a token request,
//! finalize the issuer's response, and cache tokens by what they can answer.

use std::collections::HashMap;

use rand_core::TryCryptoRng;

use crate::auth_scheme::PrivateTokenChallenge;
use crate::error::{Error, Result};
use crate::wire::challenge::{TokenChallenge, TokenType};
use crate::wire::token::Token;
use crate::wire::token_request::{TokenRequest, TokenResponse};
use crate::{type1, type2};

/// The first challenge the client may answer (origin preference order): a supported
/// type, well formed, and listing `origin` in a non-empty `origin_info`. Greased and
/// unknown types are skipped (RFC 9577 §2.1.1).
pub fn select_challenge<'a>(
    challenges: &'a [PrivateTokenChallenge],
    origin: &str,
) -> Option<&'a PrivateTokenChallenge> {
    challenges.iter().find(|c| {
        c.challenge()
            .is_some_and(|ch| ch.check_origin(origin).is_ok())
    })
}

/// A token request waiting for the issuer's response.
///
/// Held only between request and response; unboxed so that making a request allocates
/// nothing beyond the request bytes.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum PendingToken {
    /// Type 1 state.
    Type1(type1::TokenState),
    /// Type 2 state.
    Type2(type2::TokenState),
}

/// Blind a token request for `challenge` under the issuer key `token_key` (from the
/// challenge's `token-key` or the issuer directory).
pub fn begin<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    challenge: &TokenChallenge,
    token_key: &[u8],
) -> Result<(TokenRequest, PendingToken)> {
    match challenge.token_type() {
        TokenType::PRIVATE_P384 => {
            let pk = type1::PublicKey::from_token_key(token_key)?;
            let (req, st) = type1::request(rng, challenge, &pk)?;
            Ok((req, PendingToken::Type1(st)))
        }
        TokenType::PUBLIC_RSA => {
            let pk = type2::PublicKey::from_token_key(token_key)?;
            let (req, st) = type2::request(rng, challenge, &pk)?;
            Ok((req, PendingToken::Type2(st)))
        }
        other => Err(Error::UnsupportedTokenType(other)),
    }
}

impl PendingToken {
    /// The token type requested.
    pub fn token_type(&self) -> TokenType {
        match self {
            Self::Type1(_) => TokenType::PRIVATE_P384,
            Self::Type2(_) => TokenType::PUBLIC_RSA,
        }
    }

    /// Finalize with the body of the issuer's `application/private-token-response`.
    pub fn finalize(self, response_body: &[u8]) -> Result<Token> {
        let response = TokenResponse::decode(self.token_type(), response_body)?;
        match self {
            Self::Type1(st) => st.finalize(&response),
            Self::Type2(st) => st.finalize(&response),
        }
    }
}

/// What a cached token can answer (RFC 9577 §2.1.1): the challenge's type, issuer,
/// redemption context and origin_info, matched exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    token_type: TokenType,
    issuer_name: String,
    redemption_context: Vec<u8>,
    origin_info: String,
}

impl CacheKey {
    /// The key of a challenge.
    pub fn of(challenge: &TokenChallenge) -> Self {
        Self {
            token_type: challenge.token_type(),
            issuer_name: challenge.issuer_name().to_owned(),
            redemption_context: challenge.redemption_context().as_bytes().to_vec(),
            origin_info: challenge.origin_info().to_owned(),
        }
    }
}

/// Tokens obtained ahead (e.g. from an amortized batch) for challenges with an empty
/// redemption context. Only a token whose `challenge_digest` equals the new challenge's
/// is handed out.
#[derive(Debug, Default)]
pub struct TokenCache {
    tokens: HashMap<CacheKey, Vec<Token>>,
}

impl TokenCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep `token`, obtained for `challenge`.
    pub fn insert(&mut self, challenge: &TokenChallenge, token: Token) {
        self.tokens
            .entry(CacheKey::of(challenge))
            .or_default()
            .push(token);
    }

    /// A token for `challenge`, removed from the cache (each token is spent once).
    pub fn take(&mut self, challenge: &TokenChallenge) -> Option<Token> {
        let digest = challenge.digest();
        let list = self.tokens.get_mut(&CacheKey::of(challenge))?;
        let i = list.iter().position(|t| t.challenge_digest == digest)?;
        Some(list.swap_remove(i))
    }

    /// Tokens held.
    pub fn len(&self) -> usize {
        self.tokens.values().map(Vec::len).sum()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RedemptionContext;
    use crate::auth_scheme::{Quoting, build_www_authenticate, parse_www_authenticate};

    #[test]
    fn selection_skips_unsupported_and_foreign_origins() {
        let k = type2::IssuerKey::generate(type2::Backend::AwsLc).unwrap();
        let other = TokenChallenge::new(
            TokenType::PUBLIC_RSA,
            "i.example",
            RedemptionContext::Empty,
            &["other.example"],
        )
        .unwrap();
        let mine = TokenChallenge::new(
            TokenType::PUBLIC_RSA,
            "i.example",
            RedemptionContext::Empty,
            &["me.example"],
        )
        .unwrap();
        let header = format!(
            "PrivateToken challenge=\"{}\", {}, {}",
            crate::auth_scheme::b64_encode(&[0x2e, 0x96, 1, 2, 3]),
            build_www_authenticate(&other, Some(k.public().spki()), None, Quoting::Quoted),
            build_www_authenticate(&mine, Some(k.public().spki()), None, Quoting::Bare),
        );
        let parsed = parse_www_authenticate([header.as_str()]);
        assert_eq!(parsed.len(), 3);
        let chosen = select_challenge(&parsed, "ME.example").unwrap();
        assert_eq!(chosen.challenge(), Some(&mine));
        assert!(select_challenge(&parsed, "nobody.example").is_none());
        let mut rng = getrandom::SysRng;
        let (req, pending) = begin(&mut rng, &mine, chosen.token_key.as_deref().unwrap()).unwrap();
        let token = pending.finalize(&k.issue(&req).unwrap().bytes).unwrap();
        let mut cache = TokenCache::new();
        cache.insert(&mine, token.clone());
        assert!(cache.take(&other).is_none());
        assert_eq!(cache.take(&mine), Some(token));
        assert!(cache.is_empty());
    }
}
