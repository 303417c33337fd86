//! The issuer role (RFC 9578 §5.2, §6.2; batched tokens draft §5–6): holds the live keys
//! of each token type, answers request bodies, and says which HTTP status a refusal is.
//!
//! | condition | status |
//! |---|---|
//! | `Content-Type` is not a token request media type | 415 |
//! | unsupported token type, unknown truncated key id, wrong `blinded_msg` size, element that does not decode, batch over the cap | 422 |
//! | generic batch: some requests refused / none issued | 206 / 400 |
//!
//! Keys whose truncated ids collide cannot be told apart by a request; [`Issuer::add_type1`]
//! and [`Issuer::add_type2`] refuse a second live key with the same truncated id of the
//! same type, and key generation regenerates on collision ([`Issuer::fresh_type2`]).

use std::sync::Arc;

use rand_core::TryCryptoRng;

use crate::error::{Error, Result};
use crate::wire::batch::{
    AmortizedBatchTokenRequest, GenericBatchTokenRequest, GenericBatchTokenResponse,
    MEDIA_TYPE_AMORTIZED_REQUEST, MEDIA_TYPE_AMORTIZED_RESPONSE, MEDIA_TYPE_GENERIC_REQUEST,
    MEDIA_TYPE_GENERIC_RESPONSE,
};
use crate::wire::challenge::TokenType;
use crate::wire::token::Token;
use crate::wire::token_request::{
    MEDIA_TYPE_TOKEN_REQUEST, MEDIA_TYPE_TOKEN_RESPONSE, TokenRequest, TokenResponse,
};
use crate::{type1, type2};

/// Default cap on the number of tokens in one batch (draft: "Nr").
pub const DEFAULT_MAX_BATCH: usize = 100;

/// A successful answer: status, media type and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// 200, or 206 for a partially answered generic batch.
    pub status: u16,
    /// Media type of the body.
    pub content_type: &'static str,
    /// The encoded response.
    pub body: Vec<u8>,
}

/// A refused request: the status to answer and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {error}")]
pub struct Refusal {
    /// 415, 422 or 400.
    pub status: u16,
    /// The reason, for the log and the plain-text body.
    pub error: Error,
}

impl Refusal {
    fn unprocessable(error: Error) -> Self {
        Self { status: 422, error }
    }
}

/// The kinds of request body the issuer accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// `application/private-token-request`.
    Single,
    /// `application/private-token-amortized-batch-request`.
    Amortized,
    /// `application/private-token-generic-batch-request`.
    Generic,
}

impl RequestKind {
    /// From a `Content-Type` value: the media type's essence, case-insensitive, parameters
    /// ignored. `None` is 415.
    pub fn from_content_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or_default().trim();
        [
            (MEDIA_TYPE_TOKEN_REQUEST, Self::Single),
            (MEDIA_TYPE_AMORTIZED_REQUEST, Self::Amortized),
            (MEDIA_TYPE_GENERIC_REQUEST, Self::Generic),
        ]
        .into_iter()
        .find(|(m, _)| essence.eq_ignore_ascii_case(m))
        .map(|(_, k)| k)
    }
}

/// The live keys of an issuer.
#[derive(Debug, Clone)]
pub struct Issuer {
    type1: Vec<Arc<type1::IssuerKey>>,
    type2: Vec<Arc<type2::IssuerKey>>,
    max_batch: usize,
}

impl Default for Issuer {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BATCH)
    }
}

impl Issuer {
    /// An issuer without keys; batches hold at most `max_batch` requests.
    pub fn new(max_batch: usize) -> Self {
        Self {
            type1: Vec::new(),
            type2: Vec::new(),
            max_batch: max_batch.max(1),
        }
    }

    /// Add a type 1 key; refused when a key with the same truncated id is already live.
    pub fn add_type1(&mut self, key: Arc<type1::IssuerKey>) -> Result<()> {
        let t = key.public().key_id().truncated();
        if self
            .type1
            .iter()
            .any(|k| k.public().key_id().truncated() == t)
        {
            return Err(Error::InvalidKey(format!(
                "a live type 1 key already has truncated id {t:#04x}"
            )));
        }
        self.type1.push(key);
        Ok(())
    }

    /// Add a type 2 key; refused when a key with the same truncated id is already live.
    pub fn add_type2(&mut self, key: Arc<type2::IssuerKey>) -> Result<()> {
        let t = key.public().key_id().truncated();
        if self
            .type2
            .iter()
            .any(|k| k.public().key_id().truncated() == t)
        {
            return Err(Error::InvalidKey(format!(
                "a live type 2 key already has truncated id {t:#04x}"
            )));
        }
        self.type2.push(key);
        Ok(())
    }

    /// A new type 1 key whose truncated id collides with no live one.
    pub fn fresh_type1<R: TryCryptoRng + ?Sized>(&self, rng: &mut R) -> Result<type1::IssuerKey> {
        for _ in 0..64 {
            let k = type1::IssuerKey::generate(rng)?;
            let t = k.public().key_id().truncated();
            if !self
                .type1
                .iter()
                .any(|x| x.public().key_id().truncated() == t)
            {
                return Ok(k);
            }
        }
        Err(Error::InvalidKey(
            "no free truncated key id after 64 tries".into(),
        ))
    }

    /// A new type 2 key whose truncated id collides with no live one.
    pub fn fresh_type2(&self, backend: type2::Backend) -> Result<type2::IssuerKey> {
        for _ in 0..64 {
            let k = type2::IssuerKey::generate(backend)?;
            let t = k.public().key_id().truncated();
            if !self
                .type2
                .iter()
                .any(|x| x.public().key_id().truncated() == t)
            {
                return Ok(k);
            }
        }
        Err(Error::InvalidKey(
            "no free truncated key id after 64 tries".into(),
        ))
    }

    /// The live type 1 keys.
    pub fn type1_keys(&self) -> &[Arc<type1::IssuerKey>] {
        &self.type1
    }

    /// The live type 2 keys.
    pub fn type2_keys(&self) -> &[Arc<type2::IssuerKey>] {
        &self.type2
    }

    /// Answer one decoded `TokenRequest`.
    pub fn issue<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        request: &TokenRequest,
    ) -> Result<TokenResponse> {
        let t = request.truncated_token_key_id;
        match request.token_type {
            TokenType::PRIVATE_P384 => self
                .type1
                .iter()
                .find(|k| k.public().key_id().truncated() == t)
                .ok_or(Error::UnknownTruncatedKeyId(t))?
                .issue(rng, request),
            TokenType::PUBLIC_RSA => self
                .type2
                .iter()
                .find(|k| k.public().key_id().truncated() == t)
                .ok_or(Error::UnknownTruncatedKeyId(t))?
                .issue(request),
            other => Err(Error::UnsupportedTokenType(other)),
        }
    }

    /// Answer a request body of the given `Content-Type` (RFC 9578 §5.2 / §6.2, batched
    /// tokens draft §5.2 / §6.2).
    pub fn handle<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        content_type: Option<&str>,
        body: &[u8],
    ) -> std::result::Result<Answer, Refusal> {
        let kind = content_type
            .and_then(RequestKind::from_content_type)
            .ok_or(Refusal {
                status: 415,
                error: Error::AuthSyntax("Content-Type is not a Privacy Pass token request"),
            })?;
        match kind {
            RequestKind::Single => {
                let request = TokenRequest::decode(body).map_err(Refusal::unprocessable)?;
                let response = self.issue(rng, &request).map_err(Refusal::unprocessable)?;
                Ok(Answer {
                    status: 200,
                    content_type: MEDIA_TYPE_TOKEN_RESPONSE,
                    body: response.bytes,
                })
            }
            RequestKind::Amortized => {
                let request =
                    AmortizedBatchTokenRequest::decode(body).map_err(Refusal::unprocessable)?;
                let t = request.truncated_token_key_id;
                let key = self
                    .type1
                    .iter()
                    .find(|k| k.public().key_id().truncated() == t)
                    .ok_or(Refusal::unprocessable(Error::UnknownTruncatedKeyId(t)))?;
                let response = key
                    .issue_amortized(rng, &request, self.max_batch)
                    .and_then(|r| r.encode())
                    .map_err(Refusal::unprocessable)?;
                Ok(Answer {
                    status: 200,
                    content_type: MEDIA_TYPE_AMORTIZED_RESPONSE,
                    body: response,
                })
            }
            RequestKind::Generic => {
                let batch =
                    GenericBatchTokenRequest::decode(body).map_err(Refusal::unprocessable)?;
                let n = batch.token_requests.len();
                if n == 0 || n > self.max_batch {
                    return Err(Refusal::unprocessable(Error::BatchSize {
                        got: n,
                        max: self.max_batch,
                    }));
                }
                let token_responses: Vec<Option<TokenResponse>> = batch
                    .token_requests
                    .iter()
                    .map(|r| self.issue(rng, r).ok())
                    .collect();
                let issued = token_responses.iter().filter(|r| r.is_some()).count();
                if issued == 0 {
                    return Err(Refusal {
                        status: 400,
                        error: Error::Batch("no request of the batch could be answered"),
                    });
                }
                let body = GenericBatchTokenResponse { token_responses }
                    .encode()
                    .map_err(Refusal::unprocessable)?;
                Ok(Answer {
                    status: if issued == n { 200 } else { 206 },
                    content_type: MEDIA_TYPE_GENERIC_RESPONSE,
                    body,
                })
            }
        }
    }

    /// Verify a type 1 token with the live keys (the issuer, or an origin that is the
    /// issuer, RFC 9576 §4.3).
    pub fn verify_type1(&self, token: &Token) -> Result<()> {
        self.type1
            .iter()
            .find(|k| k.public().key_id().0 == token.token_key_id)
            .ok_or(Error::UnknownKeyId)?
            .verify(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RedemptionContext, TokenChallenge};

    fn issuer() -> (Issuer, Arc<type1::IssuerKey>, Arc<type2::IssuerKey>) {
        let mut rng = getrandom::SysRng;
        let mut i = Issuer::new(3);
        let k1 = Arc::new(i.fresh_type1(&mut rng).unwrap());
        let k2 = Arc::new(i.fresh_type2(type2::Backend::AwsLc).unwrap());
        i.add_type1(k1.clone()).unwrap();
        i.add_type2(k2.clone()).unwrap();
        (i, k1, k2)
    }

    #[test]
    fn statuses_follow_the_rfcs() {
        let (issuer, k1, k2) = issuer();
        let mut rng = getrandom::SysRng;
        let c2 = TokenChallenge::new(
            TokenType::PUBLIC_RSA,
            "i.example",
            RedemptionContext::Empty,
            &[],
        )
        .unwrap();
        let (req, state) = type2::request(&mut rng, &c2, k2.public()).unwrap();
        // Wrong media type → 415.
        let r = issuer.handle(&mut rng, Some("application/json"), &req.encode());
        assert_eq!(r.unwrap_err().status, 415);
        assert_eq!(
            issuer
                .handle(&mut rng, None, &req.encode())
                .unwrap_err()
                .status,
            415
        );
        // OK, with parameters and odd case in the media type.
        let a = issuer
            .handle(
                &mut rng,
                Some("Application/Private-Token-Request; x=1"),
                &req.encode(),
            )
            .unwrap();
        assert_eq!((a.status, a.content_type), (200, MEDIA_TYPE_TOKEN_RESPONSE));
        let tok = state
            .finalize(&TokenResponse::decode(TokenType::PUBLIC_RSA, &a.body).unwrap())
            .unwrap();
        k2.verify(&tok).unwrap();
        // Unknown truncated id, unsupported type, wrong size, bad element → 422.
        let mut bad = req.clone();
        bad.truncated_token_key_id ^= 0xff;
        let e = issuer
            .handle(&mut rng, Some(MEDIA_TYPE_TOKEN_REQUEST), &bad.encode())
            .unwrap_err();
        assert_eq!(e.status, 422);
        assert!(matches!(e.error, Error::UnknownTruncatedKeyId(_)));
        for body in [vec![0x2E, 0x96, 0], req.encode()[..100].to_vec(), vec![]] {
            assert_eq!(
                issuer
                    .handle(&mut rng, Some(MEDIA_TYPE_TOKEN_REQUEST), &body)
                    .unwrap_err()
                    .status,
                422
            );
        }
        let mut bad1 = vec![0, 1, k1.public().key_id().truncated(), 0x04];
        bad1.extend([0u8; 48]);
        let e = issuer
            .handle(&mut rng, Some(MEDIA_TYPE_TOKEN_REQUEST), &bad1)
            .unwrap_err();
        assert_eq!(e.status, 422);
        assert!(matches!(e.error, Error::InvalidElement(_)), "{e}");
    }

    #[test]
    fn generic_batch_partial_and_none() {
        let (issuer, k1, k2) = issuer();
        let mut rng = getrandom::SysRng;
        let c1 = TokenChallenge::new(
            TokenType::PRIVATE_P384,
            "i.example",
            RedemptionContext::Empty,
            &[],
        )
        .unwrap();
        let c2 = TokenChallenge::new(
            TokenType::PUBLIC_RSA,
            "i.example",
            RedemptionContext::Empty,
            &[],
        )
        .unwrap();
        let (r1, s1) = type1::request(&mut rng, &c1, k1.public()).unwrap();
        let (r2, _) = type2::request(&mut rng, &c2, k2.public()).unwrap();
        let mut r3 = r2.clone();
        r3.truncated_token_key_id ^= 0xff;
        let body = GenericBatchTokenRequest {
            token_requests: vec![r1, r2, r3.clone()],
        }
        .encode()
        .unwrap();
        let a = issuer
            .handle(&mut rng, Some(MEDIA_TYPE_GENERIC_REQUEST), &body)
            .unwrap();
        assert_eq!(a.status, 206);
        let resp = GenericBatchTokenResponse::decode(&a.body).unwrap();
        assert!(resp.token_responses[2].is_none());
        let t1 = s1
            .finalize(resp.token_responses[0].as_ref().unwrap())
            .unwrap();
        issuer.verify_type1(&t1).unwrap();
        let none = GenericBatchTokenRequest {
            token_requests: vec![r3],
        }
        .encode()
        .unwrap();
        assert_eq!(
            issuer
                .handle(&mut rng, Some(MEDIA_TYPE_GENERIC_REQUEST), &none)
                .unwrap_err()
                .status,
            400
        );
        // Over the cap (3) → 422.
        let (r, _) = type1::request(&mut rng, &c1, k1.public()).unwrap();
        let big = GenericBatchTokenRequest {
            token_requests: vec![r; 4],
        }
        .encode()
        .unwrap();
        assert_eq!(
            issuer
                .handle(&mut rng, Some(MEDIA_TYPE_GENERIC_REQUEST), &big)
                .unwrap_err()
                .status,
            422
        );
    }

    #[test]
    fn amortized_batch_round_trip_and_cap() {
        let (issuer, k1, _) = issuer();
        let mut rng = getrandom::SysRng;
        let c1 = TokenChallenge::new(
            TokenType::PRIVATE_P384,
            "i.example",
            RedemptionContext::Empty,
            &["o.example"],
        )
        .unwrap();
        let (req, states) = type1::request_amortized(&mut rng, &c1, k1.public(), 3).unwrap();
        let a = issuer
            .handle(
                &mut rng,
                Some(MEDIA_TYPE_AMORTIZED_REQUEST),
                &req.encode().unwrap(),
            )
            .unwrap();
        let resp = crate::wire::batch::AmortizedBatchTokenResponse::decode(
            TokenType::PRIVATE_P384,
            &a.body,
        )
        .unwrap();
        for t in type1::finalize_amortized(states, &resp).unwrap() {
            issuer.verify_type1(&t).unwrap();
        }
        let (req, _) = type1::request_amortized(&mut rng, &c1, k1.public(), 4).unwrap();
        assert_eq!(
            issuer
                .handle(
                    &mut rng,
                    Some(MEDIA_TYPE_AMORTIZED_REQUEST),
                    &req.encode().unwrap()
                )
                .unwrap_err()
                .status,
            422
        );
    }

    #[test]
    fn colliding_truncated_ids_are_refused() {
        let (mut issuer, k1, _) = issuer();
        assert!(issuer.add_type1(k1).is_err());
    }
}
