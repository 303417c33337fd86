//! Token type 0x0001, VOPRF(P-384, SHA-384): RFC 9578 §5 over RFC 9497 (`P384-SHA384`,
//! mode VOPRF). The issuer evaluates and proves over aws-lc's P-384 ([`evaluate`]); key
//! derivation and the client use the `voprf-ng` crate.
//!
//! * Issuer key: `(skI, pkI) = DeriveKeyPair(seed, "PrivacyPass")`; the directory's
//!   `token-key` is `SerializeElement(pkI)` (49-byte compressed point).
//! * Client: `Blind(AuthenticatorInput)` → `TokenRequest`; `Finalize` checks the issuer's
//!   DLEQ proof and yields the 48-byte authenticator.
//! * Issuer: `BlindEvaluate` → `evaluate_msg ‖ evaluate_proof`; amortized batches share one
//!   proof.
//! * Verification needs `skI`: `Evaluate(skI, AuthenticatorInput) == authenticator`,
//!   compared in constant time. Only the issuer (or an origin that is the issuer) verifies.

use p384::NistP384;
use rand_core::TryCryptoRng;
use subtle::ConstantTimeEq;
use voprf::{EvaluationElement, Group, Proof, VoprfClient, VoprfServer};
use zeroize::Zeroizing;

mod evaluate;
mod group;

use crate::error::{Error, Result};
use crate::key_id::TokenKeyId;
use crate::wire::batch::{AmortizedBatchTokenRequest, AmortizedBatchTokenResponse};
use crate::wire::challenge::{TokenChallenge, TokenType};
use crate::wire::token::{Token, authenticator_input};
use crate::wire::token_request::{TokenRequest, TokenResponse};

/// `Ne`: serialized element (compressed P-384 point).
pub const NE: usize = 49;
/// `Ns`: serialized scalar.
pub const NS: usize = 48;
/// `Nk`: authenticator length (SHA-384 output).
pub const NK: usize = 48;

/// The `info` of `DeriveKeyPair` for Privacy Pass issuer keys (RFC 9578 §5.5).
pub const DERIVE_KEY_INFO: &[u8] = b"PrivacyPass";

type Suite = NistP384;
type Elem = <Suite as Group>::Elem;

/// An issuer's public key for type 0x0001.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    pk: Elem,
    token_key: [u8; NE],
    key_id: TokenKeyId,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("type1::PublicKey")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl PublicKey {
    /// Decode a `token-key` (49-byte compressed point, not the identity).
    pub fn from_token_key(token_key: &[u8]) -> Result<Self> {
        if token_key.len() != NE {
            return Err(Error::Length {
                what: "type 1 token-key",
                got: token_key.len(),
                expected: NE,
            });
        }
        let pk = Suite::deserialize_elem(token_key)
            .map_err(|_| Error::InvalidElement("type 1 token-key"))?;
        Ok(Self::from_elem(pk))
    }

    fn from_elem(pk: Elem) -> Self {
        let mut token_key = [0u8; NE];
        token_key.copy_from_slice(&Suite::serialize_elem(pk));
        Self {
            pk,
            key_id: TokenKeyId::of(&token_key),
            token_key,
        }
    }

    /// The encoded key, as published in the directory.
    pub fn token_key(&self) -> &[u8] {
        &self.token_key
    }

    /// `SHA-256(token-key)`.
    pub fn key_id(&self) -> TokenKeyId {
        self.key_id
    }
}

/// An issuer's private key for type 0x0001. The scalar is zeroized on drop.
#[derive(Clone)]
pub struct IssuerKey {
    sk: Zeroizing<p384::Scalar>,
    public: PublicKey,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("type1::IssuerKey")
            .field("key_id", &self.public.key_id)
            .finish_non_exhaustive()
    }
}

impl IssuerKey {
    /// A fresh key: `DeriveKeyPair(random seed, "PrivacyPass")`.
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self> {
        let mut seed = Zeroizing::new([0u8; NS]);
        rng.try_fill_bytes(seed.as_mut()).map_err(|_| Error::Rng)?;
        Self::derive(seed.as_ref())
    }

    /// `DeriveKeyPair(seed, "PrivacyPass")` (RFC 9497 §3.2.1).
    pub fn derive(seed: &[u8]) -> Result<Self> {
        Self::derive_with_info(seed, DERIVE_KEY_INFO)
    }

    /// `DeriveKeyPair(seed, info)` with another `info` (RFC 9497 test vectors).
    pub fn derive_with_info(seed: &[u8], info: &[u8]) -> Result<Self> {
        let server = VoprfServer::<Suite>::new_from_seed(seed, info)
            .map_err(|_| Error::InvalidKey("DeriveKeyPair failed".into()))?;
        Self::from_server(server)
    }

    /// A key from its serialized scalar `skI` (48 bytes, non-zero, below the group order).
    pub fn from_secret(sk: &[u8]) -> Result<Self> {
        if sk.len() != NS {
            return Err(Error::Length {
                what: "type 1 private key",
                got: sk.len(),
                expected: NS,
            });
        }
        let server = VoprfServer::<Suite>::new_with_key(sk)
            .map_err(|_| Error::InvalidKey("type 1 private key is not a valid scalar".into()))?;
        Self::from_server(server)
    }

    fn from_server(server: VoprfServer<Suite>) -> Result<Self> {
        let public = PublicKey::from_elem(server.get_public_key());
        let all = Zeroizing::new(server.serialize().to_vec());
        let sk = Suite::deserialize_scalar(&all[..NS])
            .map_err(|_| Error::InvalidKey("type 1 private key is not a valid scalar".into()))?;
        Ok(Self {
            sk: Zeroizing::new(sk),
            public,
        })
    }

    /// The serialized scalar `skI`, for the key store.
    pub fn secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(Suite::serialize_scalar(*self.sk).to_vec())
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Answer one `TokenRequest` (RFC 9578 §5.2): `BlindEvaluate` and a DLEQ proof.
    pub fn issue<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        request: &TokenRequest,
    ) -> Result<TokenResponse> {
        self.check_request(request.token_type, request.truncated_token_key_id)?;
        let r = random_scalar(rng)?;
        let result = evaluate::blind_evaluate(
            &self.sk,
            &self.public.token_key,
            &[&request.blinded_msg],
            &r,
        )?;
        let mut bytes = Vec::with_capacity(NE + 2 * NS);
        bytes.extend_from_slice(&result.elements[0]);
        bytes.extend_from_slice(&result.proof);
        Ok(TokenResponse {
            token_type: TokenType::PRIVATE_P384,
            bytes,
        })
    }

    /// Answer an amortized batch (draft-ietf-privacypass-batched-tokens §5): one
    /// evaluation per element and one batched DLEQ proof. `max` caps the batch size.
    pub fn issue_amortized<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        request: &AmortizedBatchTokenRequest,
        max: usize,
    ) -> Result<AmortizedBatchTokenResponse> {
        self.check_request(request.token_type, request.truncated_token_key_id)?;
        let n = request.blinded_elements.len();
        if n == 0 || n > max || n > usize::from(u16::MAX) {
            return Err(Error::BatchSize { got: n, max });
        }
        let blinded: Vec<&[u8]> = request.blinded_elements.iter().map(Vec::as_slice).collect();
        let r = random_scalar(rng)?;
        let result = evaluate::blind_evaluate(&self.sk, &self.public.token_key, &blinded, &r)?;
        Ok(AmortizedBatchTokenResponse {
            evaluated_elements: result.elements.iter().map(|e| e.to_vec()).collect(),
            evaluated_proof: result.proof.to_vec(),
        })
    }

    fn check_request(&self, token_type: TokenType, truncated: u8) -> Result<()> {
        if token_type != TokenType::PRIVATE_P384 {
            return Err(Error::UnsupportedTokenType(token_type));
        }
        if truncated != self.public.key_id.truncated() {
            return Err(Error::UnknownTruncatedKeyId(truncated));
        }
        Ok(())
    }

    /// Verify a token (RFC 9578 §5.4): recompute `Evaluate(skI, AuthenticatorInput)` and
    /// compare it with the authenticator in constant time. Checks the key id too.
    pub fn verify(&self, token: &Token) -> Result<()> {
        if token.token_type != TokenType::PRIVATE_P384 {
            return Err(Error::UnsupportedTokenType(token.token_type));
        }
        if token.token_key_id != self.public.key_id.0 {
            return Err(Error::UnknownKeyId);
        }
        token.check_lengths()?;
        let expected = evaluate::evaluate(&self.sk, &token.authenticator_input())?;
        if bool::from(expected.as_slice().ct_eq(&token.authenticator)) {
            Ok(())
        } else {
            Err(Error::InvalidAuthenticator)
        }
    }
}

/// What a client keeps between its `TokenRequest` and the issuer's `TokenResponse`.
#[derive(Debug)]
pub struct TokenState {
    client: VoprfClient<Suite>,
    input: [u8; crate::wire::token::AUTHENTICATOR_INPUT_LEN],
    nonce: [u8; 32],
    challenge_digest: [u8; 32],
    public: PublicKey,
}

fn token_input(
    challenge: &TokenChallenge,
    public: &PublicKey,
    nonce: &[u8; 32],
) -> Result<([u8; 32], [u8; crate::wire::token::AUTHENTICATOR_INPUT_LEN])> {
    if challenge.token_type() != TokenType::PRIVATE_P384 {
        return Err(Error::UnsupportedTokenType(challenge.token_type()));
    }
    let digest = challenge.digest();
    let input = authenticator_input(TokenType::PRIVATE_P384, nonce, &digest, &public.key_id().0);
    Ok((digest, input))
}

/// Client side: blind a fresh token for `challenge` under `public` (RFC 9578 §5.1).
pub fn request<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    challenge: &TokenChallenge,
    public: &PublicKey,
) -> Result<(TokenRequest, TokenState)> {
    let mut nonce = [0u8; 32];
    rng.try_fill_bytes(&mut nonce).map_err(|_| Error::Rng)?;
    let (challenge_digest, input) = token_input(challenge, public, &nonce)?;
    let mut rng = RngRef(rng);
    let blind = VoprfClient::<Suite>::blind(&input, &mut rng)
        .map_err(|_| Error::Issuance("VOPRF Blind failed"))?;
    Ok(finish_request(
        blind,
        input,
        nonce,
        challenge_digest,
        public,
    ))
}

/// Client side with a given nonce and blinding scalar (48 bytes, non-zero): for known
/// answer tests. Production code uses [`request`].
pub fn request_with_blind(
    challenge: &TokenChallenge,
    public: &PublicKey,
    nonce: [u8; 32],
    blind: &[u8],
) -> Result<(TokenRequest, TokenState)> {
    let (challenge_digest, input) = token_input(challenge, public, &nonce)?;
    let scalar = Suite::deserialize_scalar(blind).map_err(|_| Error::InvalidElement("blind"))?;
    let blind = VoprfClient::<Suite>::deterministic_blind_unchecked(&input, scalar)
        .map_err(|_| Error::Issuance("VOPRF Blind failed"))?;
    Ok(finish_request(
        blind,
        input,
        nonce,
        challenge_digest,
        public,
    ))
}

fn finish_request(
    blind: voprf::VoprfClientBlindResult<Suite>,
    input: [u8; crate::wire::token::AUTHENTICATOR_INPUT_LEN],
    nonce: [u8; 32],
    challenge_digest: [u8; 32],
    public: &PublicKey,
) -> (TokenRequest, TokenState) {
    let request = TokenRequest {
        token_type: TokenType::PRIVATE_P384,
        truncated_token_key_id: public.key_id().truncated(),
        blinded_msg: blind.message.serialize().to_vec(),
    };
    let state = TokenState {
        client: blind.state,
        input,
        nonce,
        challenge_digest,
        public: public.clone(),
    };
    (request, state)
}

impl TokenState {
    /// Check the issuer's proof and unblind: the finished token (RFC 9578 §5.3).
    pub fn finalize(self, response: &TokenResponse) -> Result<Token> {
        if response.token_type != TokenType::PRIVATE_P384 || response.bytes.len() != NE + 2 * NS {
            return Err(Error::Length {
                what: "type 1 TokenResponse",
                got: response.bytes.len(),
                expected: NE + 2 * NS,
            });
        }
        let (element, proof) = response.bytes.split_at(NE);
        let element = EvaluationElement::<Suite>::deserialize(element)
            .map_err(|_| Error::InvalidElement("evaluate_msg"))?;
        let proof = Proof::<Suite>::deserialize(proof)
            .map_err(|_| Error::InvalidElement("evaluate_proof"))?;
        let output = self
            .client
            .finalize(&self.input, &element, &proof, self.public.pk)
            .map_err(|e| match e {
                voprf::Error::ProofVerification => Error::InvalidProof,
                _ => Error::Issuance("VOPRF Finalize failed"),
            })?;
        Ok(Token {
            token_type: TokenType::PRIVATE_P384,
            nonce: self.nonce,
            challenge_digest: self.challenge_digest,
            token_key_id: self.public.key_id().0,
            authenticator: output.to_vec(),
        })
    }
}

/// Client side of an amortized batch: `n` tokens for one challenge and key.
pub fn request_amortized<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    challenge: &TokenChallenge,
    public: &PublicKey,
    n: usize,
) -> Result<(AmortizedBatchTokenRequest, Vec<TokenState>)> {
    let mut states = Vec::with_capacity(n);
    let mut elements = Vec::with_capacity(n);
    for _ in 0..n {
        let (req, state) = request(rng, challenge, public)?;
        elements.push(req.blinded_msg);
        states.push(state);
    }
    Ok(amortized_request(public, elements, states))
}

/// [`request_amortized`] with given nonces and blinds (known answer tests).
pub fn request_amortized_with_blinds(
    challenge: &TokenChallenge,
    public: &PublicKey,
    nonces_and_blinds: &[([u8; 32], Vec<u8>)],
) -> Result<(AmortizedBatchTokenRequest, Vec<TokenState>)> {
    let mut states = Vec::with_capacity(nonces_and_blinds.len());
    let mut elements = Vec::with_capacity(nonces_and_blinds.len());
    for (nonce, blind) in nonces_and_blinds {
        let (req, state) = request_with_blind(challenge, public, *nonce, blind)?;
        elements.push(req.blinded_msg);
        states.push(state);
    }
    Ok(amortized_request(public, elements, states))
}

fn amortized_request(
    public: &PublicKey,
    blinded_elements: Vec<Vec<u8>>,
    states: Vec<TokenState>,
) -> (AmortizedBatchTokenRequest, Vec<TokenState>) {
    (
        AmortizedBatchTokenRequest {
            token_type: TokenType::PRIVATE_P384,
            truncated_token_key_id: public.key_id().truncated(),
            blinded_elements,
        },
        states,
    )
}

/// Check the batched proof and unblind every token of an amortized response.
pub fn finalize_amortized(
    states: Vec<TokenState>,
    response: &AmortizedBatchTokenResponse,
) -> Result<Vec<Token>> {
    let Some(first) = states.first() else {
        return Err(Error::BatchSize { got: 0, max: 0 });
    };
    if response.evaluated_elements.len() != states.len() {
        return Err(Error::Batch(
            "response has a different number of elements than the request",
        ));
    }
    if states.iter().any(|s| s.public != first.public) {
        return Err(Error::Batch("an amortized batch uses one key"));
    }
    let pk = first.public.pk;
    let elements = response
        .evaluated_elements
        .iter()
        .map(|e| {
            EvaluationElement::<Suite>::deserialize(e)
                .map_err(|_| Error::InvalidElement("evaluated element"))
        })
        .collect::<Result<Vec<_>>>()?;
    let proof = Proof::<Suite>::deserialize(&response.evaluated_proof)
        .map_err(|_| Error::InvalidElement("evaluated_proof"))?;
    let inputs: Vec<&[u8]> = states.iter().map(|s| s.input.as_slice()).collect();
    let clients: Vec<VoprfClient<Suite>> = states.iter().map(|s| s.client.clone()).collect();
    let outputs = VoprfClient::batch_finalize(&inputs, &clients, &elements, &proof, pk).map_err(
        |e| match e {
            voprf::Error::ProofVerification => Error::InvalidProof,
            _ => Error::Issuance("VOPRF batch Finalize failed"),
        },
    )?;
    let mut tokens = Vec::with_capacity(states.len());
    for (state, output) in states.iter().zip(outputs) {
        let output = output.map_err(|_| Error::Issuance("VOPRF Finalize failed"))?;
        tokens.push(Token {
            token_type: TokenType::PRIVATE_P384,
            nonce: state.nonce,
            challenge_digest: state.challenge_digest,
            token_key_id: state.public.key_id().0,
            authenticator: output.to_vec(),
        });
    }
    Ok(tokens)
}

/// `RandomScalar()`: uniform and non-zero.
fn random_scalar<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<p384::Scalar> {
    Suite::random_scalar(&mut RngRef(rng)).map_err(|_| Error::Rng)
}

/// Adapts `&mut R` (possibly unsized) to the sized RNG voprf wants.
struct RngRef<'a, R: ?Sized>(&'a mut R);

impl<R: TryCryptoRng + ?Sized> rand_core::TryRng for RngRef<'_, R> {
    type Error = R::Error;
    fn try_next_u32(&mut self) -> std::result::Result<u32, Self::Error> {
        self.0.try_next_u32()
    }
    fn try_next_u64(&mut self) -> std::result::Result<u64, Self::Error> {
        self.0.try_next_u64()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), Self::Error> {
        self.0.try_fill_bytes(dst)
    }
}

impl<R: TryCryptoRng + ?Sized> TryCryptoRng for RngRef<'_, R> {}
