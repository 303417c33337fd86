//! In-process interop: secdispatch-privacypass ("ours") against the crates.io `privacypass`
//! crate 0.2.0-pre.4 ("theirs", github.com/raphaelrobert/privacypass).
//!
//! Only bytes cross between the two: challenges, token keys, `TokenRequest`s,
//! `TokenResponse`s, batch requests and responses, tokens and HTTP header values are
//! encoded by one implementation and decoded by the other. Each flow runs in both
//! directions:
//!
//! * their client → our issuer → their client finalizes → our origin verifies (and refuses
//!   the replay);
//! * our client → their issuer → our client finalizes → their origin/issuer verifies (and
//!   refuses the replay).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderValue;
use p384::NistP384;
use privacypass::auth::authenticate::{
    TokenChallenge as TheirChallenge, parse_www_authenticate_header,
};
use privacypass::auth::authorize::build_authorization_header;
use privacypass::common::errors::RedeemTokenError;
use privacypass::common::private::{deserialize_public_key, serialize_public_key};
use privacypass::generic_tokens::{
    GenericBatchTokenRequest as TheirGenericRequest,
    GenericBatchTokenResponse as TheirGenericResponse, GenericToken,
};
use privacypass::private_tokens::Ristretto255;
use privacypass::public_tokens::server::{
    IssuerServer as TheirType2Issuer, OriginKeyStore as _, OriginServer as TheirType2Origin,
};
use privacypass::public_tokens::{
    PublicKey as TheirType2Key, PublicToken as TheirType2Token, TokenRequest as TheirType2Request,
    TokenResponse as TheirType2Response, public_key_to_truncated_token_key_id,
};
use privacypass::test_utils::nonce_store::MemoryNonceStore as TheirNonceStore;
use privacypass::test_utils::private_memory_store::MemoryKeyStoreVoprf;
use privacypass::test_utils::public_memory_store::{IssuerMemoryKeyStore, OriginMemoryKeyStore};
use privacypass::{Deserialize as _, Serialize as _, TokenType as TheirType};

use secdispatch_privacypass::auth_scheme::Quoting;
use secdispatch_privacypass::issuer::Issuer;
use secdispatch_privacypass::origin::{
    AcceptedKey, Origin, OriginConfig, RedemptionMode, VerificationKey,
};
use secdispatch_privacypass::wire::batch::{
    AmortizedBatchTokenResponse, GenericBatchTokenRequest, GenericBatchTokenResponse,
    MEDIA_TYPE_AMORTIZED_REQUEST, MEDIA_TYPE_AMORTIZED_RESPONSE, MEDIA_TYPE_GENERIC_REQUEST,
    MEDIA_TYPE_GENERIC_RESPONSE,
};
use secdispatch_privacypass::wire::token_request::{
    MEDIA_TYPE_TOKEN_REQUEST, MEDIA_TYPE_TOKEN_RESPONSE,
};
use secdispatch_privacypass::{
    Error, Token, TokenChallenge, TokenResponse, TokenType, type1, type2,
};
use secdispatch_replay::MemoryNonceStore;

type TheirType1Token = privacypass::private_tokens::PrivateToken<NistP384>;
type TheirP384Store = MemoryKeyStoreVoprf<NistP384>;
type TheirR255Store = MemoryKeyStoreVoprf<Ristretto255>;

const ISSUER: &str = "issuer.example";
const ORIGIN: &str = "origin.example";

fn now() -> SystemTime {
    SystemTime::now()
}

// ---------------------------------------------------------------------------------------
// Our side.

/// Our issuer with one type 1 key and one type 2 key (of the given RSA backend).
struct OurSide {
    issuer: Issuer,
    k1: Arc<type1::IssuerKey>,
    k2: Arc<type2::IssuerKey>,
}

fn our_side(backend: type2::Backend) -> OurSide {
    let mut rng = getrandom::SysRng;
    let k1 = Arc::new(type1::IssuerKey::generate(&mut rng).unwrap());
    let k2 = Arc::new(type2::IssuerKey::generate(backend).unwrap());
    let mut issuer = Issuer::new(100);
    issuer.add_type1(k1.clone()).unwrap();
    issuer.add_type2(k2.clone()).unwrap();
    OurSide { issuer, k1, k2 }
}

/// Our origin accepting our side's keys; unquoted header values (see
/// `their_parser_and_our_quoted_challenges`).
fn our_origin(side: &OurSide, mode: RedemptionMode) -> Origin {
    let mut config = OriginConfig::new(ISSUER, ORIGIN);
    config.token_types = vec![TokenType::PUBLIC_RSA, TokenType::PRIVATE_P384];
    config.redemption = mode;
    config.quoting = Quoting::Bare;
    let origin = Origin::new(config, Arc::new(MemoryNonceStore::new())).unwrap();
    origin.set_keys(vec![
        AcceptedKey {
            key: VerificationKey::Type2(side.k2.public().clone()),
            not_after: now() + Duration::from_secs(3600),
        },
        AcceptedKey {
            key: VerificationKey::Type1(side.k1.clone()),
            not_after: now() + Duration::from_secs(3600),
        },
    ]);
    origin
}

/// Our issuer answering an HTTP body of the given media type: the response body, after
/// checking the status and the response media type.
fn our_issue(side: &OurSide, content_type: &str, body: &[u8], expect_ct: &str) -> Vec<u8> {
    let answer = side
        .issuer
        .handle(&mut getrandom::SysRng, Some(content_type), body)
        .unwrap_or_else(|r| panic!("our issuer refused their request: {r}"));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, expect_ct);
    answer.body
}

/// The challenges our origin sends, parsed by their `WWW-Authenticate` parser: their
/// challenge of `token_type` and the `token-key` that came with it.
fn their_view_of_our_challenges(
    origin: &Origin,
    token_type: TheirType,
) -> (TheirChallenge, Vec<u8>) {
    let headers = origin.challenges(&mut getrandom::SysRng, now()).unwrap();
    for h in &headers {
        let parsed = parse_www_authenticate_header(&HeaderValue::from_str(h).unwrap())
            .unwrap_or_else(|e| panic!("their parser refused our challenge {h:?}: {e}"));
        for c in parsed {
            if c.token_challenge().token_type() == token_type {
                return (c.token_challenge().clone(), c.token_key().to_vec());
            }
        }
    }
    panic!("no {token_type:?} challenge in {headers:?}");
}

/// Redeem through our origin with the `Authorization` value their crate builds.
async fn our_origin_redeems_header(origin: &Origin, header: &HeaderValue) -> Result<(), Error> {
    origin
        .redeem(header.to_str().unwrap(), now())
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------
// Their side.

fn their_challenge(t: TheirType, context: Option<[u8; 32]>) -> TheirChallenge {
    TheirChallenge::new(t, ISSUER, context, &[ORIGIN.to_string()])
}

/// Their challenge, decoded by us: the encodings and digests agree.
fn our_view_of(challenge: &TheirChallenge) -> TokenChallenge {
    let bytes = challenge.serialize().unwrap();
    let ours = TokenChallenge::decode(&bytes).unwrap();
    assert_eq!(ours.encode(), bytes);
    assert_eq!(ours.digest(), challenge.digest().unwrap());
    ours
}

// =======================================================================================
// Type 2 (blind RSA): their client → our issuer → their client → our origin.

async fn type2_their_client_our_issuer(backend: type2::Backend, mode: RedemptionMode) {
    let side = our_side(backend);
    let origin = our_origin(&side, mode);
    let rng = &mut rand::rng();

    // Their client reads our origin's challenge and our token key from the header.
    let (challenge, token_key) = their_view_of_our_challenges(&origin, TheirType::Public);
    assert_eq!(token_key, side.k2.public().spki());
    let pk = TheirType2Key::from_spki(&token_key).unwrap();
    assert_eq!(
        public_key_to_truncated_token_key_id(&pk).unwrap(),
        side.k2.public().key_id().truncated()
    );

    let (request, state) = TheirType2Request::new(rng, pk, &challenge).unwrap();
    let body = our_issue(
        &side,
        MEDIA_TYPE_TOKEN_REQUEST,
        &request.tls_serialize_detached().unwrap(),
        MEDIA_TYPE_TOKEN_RESPONSE,
    );
    let response = TheirType2Response::tls_deserialize_exact(&body).unwrap();
    let token = response.issue_token(&state).unwrap();

    // Our origin: their Authorization header, then the replay (refused as a double spend;
    // with per-request contexts the answered challenge is already forgotten).
    let (_, header) = build_authorization_header(&token).unwrap();
    let mut flipped = Token::decode(&token.tls_serialize_detached().unwrap()).unwrap();
    flipped.authenticator[17] ^= 0x01;
    assert!(origin.redeem_token(&flipped, now()).await.is_err());
    our_origin_redeems_header(&origin, &header).await.unwrap();
    let replay = our_origin_redeems_header(&origin, &header).await;
    match mode {
        RedemptionMode::Empty => assert!(matches!(replay, Err(Error::DoubleSpend))),
        RedemptionMode::PerRequest => assert!(replay.is_err(), "replay accepted"),
    }
    // Our public key verifies the same bytes.
    let ours = Token::decode(&token.tls_serialize_detached().unwrap()).unwrap();
    side.k2.public().verify(&ours).unwrap();
}

#[tokio::test]
async fn type2_their_client_our_issuer_awslc_our_origin() {
    type2_their_client_our_issuer(type2::Backend::AwsLc, RedemptionMode::Empty).await;
}

#[tokio::test]
async fn type2_their_client_our_issuer_pure_rust_our_origin() {
    type2_their_client_our_issuer(type2::Backend::PureRust, RedemptionMode::Empty).await;
}

#[tokio::test]
async fn type2_their_client_our_issuer_per_request_context() {
    type2_their_client_our_issuer(type2::Backend::AwsLc, RedemptionMode::PerRequest).await;
}

// Type 2: our client → their issuer → our client → their origin.

async fn type2_our_client_their_issuer(context: Option<[u8; 32]>) {
    let rng = &mut rand::rng();
    let issuer_keys = IssuerMemoryKeyStore::default();
    let origin_keys = OriginMemoryKeyStore::default();
    let nonces = TheirNonceStore::default();
    let their_pk = TheirType2Issuer::new()
        .create_keypair(rng, &issuer_keys)
        .await
        .unwrap();
    origin_keys
        .insert(
            public_key_to_truncated_token_key_id(&their_pk).unwrap(),
            their_pk.clone(),
        )
        .await;

    // Their token key (SPKI, id-RSASSA-PSS) and their challenge, decoded by us.
    let our_pk = type2::PublicKey::from_token_key(&their_pk.to_spki().unwrap()).unwrap();
    let challenge = our_view_of(&their_challenge(TheirType::Public, context));

    let (request, state) = type2::request(&mut getrandom::SysRng, &challenge, &our_pk).unwrap();
    let their_request = TheirType2Request::tls_deserialize_exact(request.encode()).unwrap();
    let their_response = TheirType2Issuer::new()
        .issue_token_response(&issuer_keys, their_request)
        .await
        .unwrap();
    let response = TokenResponse::decode(
        TokenType::PUBLIC_RSA,
        &their_response.tls_serialize_detached().unwrap(),
    )
    .unwrap();
    let token = state.finalize(&response).unwrap();
    our_pk.verify(&token).unwrap();

    // Their origin verifies our token, then refuses the replay.
    let theirs = TheirType2Token::tls_deserialize_exact(token.encode()).unwrap();
    let origin = TheirType2Origin::new();
    let mut flipped = token.clone();
    flipped.authenticator[17] ^= 0x01;
    let flipped = TheirType2Token::tls_deserialize_exact(flipped.encode()).unwrap();
    assert!(
        origin
            .redeem_token(&origin_keys, &nonces, flipped)
            .await
            .is_err()
    );
    origin
        .redeem_token(&origin_keys, &nonces, theirs.clone())
        .await
        .unwrap();
    assert_eq!(
        origin.redeem_token(&origin_keys, &nonces, theirs).await,
        Err(RedeemTokenError::DoubleSpending)
    );
}

#[tokio::test]
async fn type2_our_client_their_issuer_their_origin() {
    type2_our_client_their_issuer(None).await;
}

#[tokio::test]
async fn type2_our_client_their_issuer_their_origin_with_context() {
    type2_our_client_their_issuer(Some([0x5a; 32])).await;
}

// =======================================================================================
// Type 1 (VOPRF P-384): their client → our issuer → their client → our origin (joint
// origin and issuer: our origin holds our issuer key).

#[tokio::test]
async fn type1_their_client_our_issuer_our_origin() {
    let side = our_side(type2::Backend::AwsLc);
    let origin = our_origin(&side, RedemptionMode::Empty);

    let (challenge, token_key) = their_view_of_our_challenges(&origin, TheirType::PrivateP384);
    assert_eq!(token_key, side.k1.public().token_key());
    let pk = deserialize_public_key::<NistP384>(&token_key).unwrap();

    let (request, state) =
        privacypass::private_tokens::TokenRequest::<NistP384>::new(pk, &challenge).unwrap();
    let body = our_issue(
        &side,
        MEDIA_TYPE_TOKEN_REQUEST,
        &request.tls_serialize_detached().unwrap(),
        MEDIA_TYPE_TOKEN_RESPONSE,
    );
    // Their client checks our DLEQ proof in `issue_token`.
    let response =
        privacypass::private_tokens::TokenResponse::<NistP384>::try_from_bytes(&body).unwrap();
    let token = response.issue_token(&state).unwrap();

    let (_, header) = build_authorization_header(&token).unwrap();
    let mut flipped = Token::decode(&token.tls_serialize_detached().unwrap()).unwrap();
    flipped.authenticator[0] ^= 0x80;
    assert!(origin.redeem_token(&flipped, now()).await.is_err());
    our_origin_redeems_header(&origin, &header).await.unwrap();
    assert!(matches!(
        our_origin_redeems_header(&origin, &header).await,
        Err(Error::DoubleSpend)
    ));
    side.issuer
        .verify_type1(&Token::decode(&token.tls_serialize_detached().unwrap()).unwrap())
        .unwrap();
}

// Type 1: our client → their issuer → our client → their issuer verifies.

#[tokio::test]
async fn type1_our_client_their_issuer_their_verification() {
    let keys = TheirP384Store::default();
    let nonces = TheirNonceStore::default();
    let server = privacypass::private_tokens::server::Server::<NistP384>::new();
    let their_pk = server.create_keypair(&keys).await.unwrap();

    let our_pk =
        type1::PublicKey::from_token_key(&serialize_public_key::<NistP384>(their_pk)).unwrap();
    let challenge = our_view_of(&their_challenge(TheirType::PrivateP384, None));

    let (request, state) = type1::request(&mut getrandom::SysRng, &challenge, &our_pk).unwrap();
    let their_request =
        privacypass::private_tokens::TokenRequest::<NistP384>::tls_deserialize_exact(
            request.encode(),
        )
        .unwrap();
    let their_response = server
        .issue_token_response(&keys, their_request)
        .await
        .unwrap();
    // Our client checks their DLEQ proof in `finalize`.
    let response = TokenResponse::decode(
        TokenType::PRIVATE_P384,
        &their_response.tls_serialize_detached().unwrap(),
    )
    .unwrap();
    let token = state.finalize(&response).unwrap();

    let mut flipped = token.clone();
    flipped.authenticator[0] ^= 0x80;
    let flipped = TheirType1Token::tls_deserialize_exact(flipped.encode()).unwrap();
    assert!(server.redeem_token(&keys, &nonces, flipped).await.is_err());
    let theirs = TheirType1Token::tls_deserialize_exact(token.encode()).unwrap();
    server
        .redeem_token(&keys, &nonces, theirs.clone())
        .await
        .unwrap();
    assert_eq!(
        server.redeem_token(&keys, &nonces, theirs).await,
        Err(RedeemTokenError::DoubleSpending)
    );
}

// =======================================================================================
// Amortized batch, type 1 (draft-ietf-privacypass-batched-tokens §5).

const NR: u16 = 5;

#[tokio::test]
async fn amortized_type1_their_client_our_issuer_our_origin() {
    let side = our_side(type2::Backend::AwsLc);
    let origin = our_origin(&side, RedemptionMode::Empty);
    let (challenge, token_key) = their_view_of_our_challenges(&origin, TheirType::PrivateP384);
    let pk = deserialize_public_key::<NistP384>(&token_key).unwrap();

    let (request, state) =
        privacypass::amortized_tokens::AmortizedBatchTokenRequest::<NistP384>::new(
            pk, &challenge, NR,
        )
        .unwrap();
    let body = our_issue(
        &side,
        MEDIA_TYPE_AMORTIZED_REQUEST,
        &request.tls_serialize_detached().unwrap(),
        MEDIA_TYPE_AMORTIZED_RESPONSE,
    );
    let response =
        privacypass::amortized_tokens::AmortizedBatchTokenResponse::<NistP384>::try_from_bytes(
            &body,
        )
        .unwrap();
    let tokens = response.issue_tokens(&state).unwrap();
    assert_eq!(tokens.len(), usize::from(NR));
    for token in &tokens {
        let (_, header) = build_authorization_header(token).unwrap();
        our_origin_redeems_header(&origin, &header).await.unwrap();
        assert!(matches!(
            our_origin_redeems_header(&origin, &header).await,
            Err(Error::DoubleSpend)
        ));
    }
}

#[tokio::test]
async fn amortized_type1_our_client_their_issuer_their_verification() {
    let keys = TheirP384Store::default();
    let nonces = TheirNonceStore::default();
    let server = privacypass::amortized_tokens::server::Server::<NistP384>::new();
    let their_pk = server.create_keypair(&keys).await.unwrap();
    let our_pk =
        type1::PublicKey::from_token_key(&serialize_public_key::<NistP384>(their_pk)).unwrap();
    let challenge = our_view_of(&their_challenge(TheirType::PrivateP384, None));

    let (request, states) =
        type1::request_amortized(&mut getrandom::SysRng, &challenge, &our_pk, usize::from(NR))
            .unwrap();
    let their_request =
        privacypass::amortized_tokens::AmortizedBatchTokenRequest::<NistP384>::tls_deserialize_exact(
            request.encode().unwrap(),
        )
        .unwrap();
    let their_response = server
        .issue_token_response(&keys, their_request)
        .await
        .unwrap();
    let response = AmortizedBatchTokenResponse::decode(
        TokenType::PRIVATE_P384,
        &their_response.tls_serialize_detached().unwrap(),
    )
    .unwrap();
    let tokens = type1::finalize_amortized(states, &response).unwrap();
    assert_eq!(tokens.len(), usize::from(NR));
    for token in tokens {
        let theirs = TheirType1Token::tls_deserialize_exact(token.encode()).unwrap();
        server
            .redeem_token(&keys, &nonces, theirs.clone())
            .await
            .unwrap();
        assert_eq!(
            server.redeem_token(&keys, &nonces, theirs).await,
            Err(RedeemTokenError::DoubleSpending)
        );
    }
}

// =======================================================================================
// Generic batch, types 1 and 2 mixed (draft-ietf-privacypass-batched-tokens §6).

#[tokio::test]
async fn generic_batch_their_client_our_issuer_our_origin() {
    let side = our_side(type2::Backend::AwsLc);
    let origin = our_origin(&side, RedemptionMode::Empty);
    let rng = &mut rand::rng();
    let (c1, k1) = their_view_of_our_challenges(&origin, TheirType::PrivateP384);
    let (c2, k2) = their_view_of_our_challenges(&origin, TheirType::Public);
    let pk1 = deserialize_public_key::<NistP384>(&k1).unwrap();
    let pk2 = TheirType2Key::from_spki(&k2).unwrap();

    let mut builder = TheirGenericRequest::builder();
    for _ in 0..2 {
        let (r, s) = privacypass::private_tokens::TokenRequest::<NistP384>::new(pk1, &c1).unwrap();
        builder = builder.add_token_request(r.into(), s.into());
        let (r, s) = TheirType2Request::new(rng, pk2.clone(), &c2).unwrap();
        builder = builder.add_token_request(r.into(), s.into());
    }
    let (request, states) = builder.build();
    let body = our_issue(
        &side,
        MEDIA_TYPE_GENERIC_REQUEST,
        &request.tls_serialize_detached().unwrap(),
        MEDIA_TYPE_GENERIC_RESPONSE,
    );
    let response = TheirGenericResponse::try_from_bytes(&body).unwrap();
    assert_eq!(response.issued_count(), 4);
    let tokens = response.issue_tokens(&states).unwrap();
    assert_eq!(tokens.len(), 4);
    for token in &tokens {
        let header = match token {
            GenericToken::PrivateP384(t) => build_authorization_header(t.as_ref()).unwrap().1,
            GenericToken::Public(t) => build_authorization_header(t.as_ref()).unwrap().1,
            GenericToken::PrivateRistretto255(_) => unreachable!("not requested"),
        };
        our_origin_redeems_header(&origin, &header).await.unwrap();
        assert!(matches!(
            our_origin_redeems_header(&origin, &header).await,
            Err(Error::DoubleSpend)
        ));
    }
}

#[tokio::test]
async fn generic_batch_our_client_their_issuer_their_verification() {
    let rng = &mut rand::rng();
    let p384_keys = TheirP384Store::default();
    let r255_keys = TheirR255Store::default();
    let rsa_keys = IssuerMemoryKeyStore::default();
    let origin_keys = OriginMemoryKeyStore::default();
    let nonces = TheirNonceStore::default();
    let type1_server = privacypass::private_tokens::server::Server::<NistP384>::new();
    let their_pk1 = type1_server.create_keypair(&p384_keys).await.unwrap();
    let their_pk2 = TheirType2Issuer::new()
        .create_keypair(rng, &rsa_keys)
        .await
        .unwrap();
    origin_keys
        .insert(
            public_key_to_truncated_token_key_id(&their_pk2).unwrap(),
            their_pk2.clone(),
        )
        .await;
    let pk1 =
        type1::PublicKey::from_token_key(&serialize_public_key::<NistP384>(their_pk1)).unwrap();
    let pk2 = type2::PublicKey::from_token_key(&their_pk2.to_spki().unwrap()).unwrap();
    let c1 = our_view_of(&their_challenge(TheirType::PrivateP384, None));
    let c2 = our_view_of(&their_challenge(TheirType::Public, None));

    let mut requests = Vec::new();
    let mut states1 = Vec::new();
    let mut states2 = Vec::new();
    for _ in 0..2 {
        let (r, s) = type1::request(&mut getrandom::SysRng, &c1, &pk1).unwrap();
        requests.push(r);
        states1.push(s);
        let (r, s) = type2::request(&mut getrandom::SysRng, &c2, &pk2).unwrap();
        requests.push(r);
        states2.push(s);
    }
    let body = GenericBatchTokenRequest {
        token_requests: requests,
    }
    .encode()
    .unwrap();
    let their_request = TheirGenericRequest::try_from_bytes(&body).unwrap();
    let their_response = privacypass::generic_tokens::server::Server::new()
        .issue_token_responses(&p384_keys, &r255_keys, &rsa_keys, their_request)
        .await
        .unwrap();
    assert_eq!(their_response.issued_count(), 4);
    let response =
        GenericBatchTokenResponse::decode(&their_response.tls_serialize_detached().unwrap())
            .unwrap();
    assert_eq!(response.token_responses.len(), 4);

    let mut states1 = states1.into_iter();
    let mut states2 = states2.into_iter();
    for r in &response.token_responses {
        let r = r.as_ref().expect("every request answered");
        if r.token_type == TokenType::PRIVATE_P384 {
            let token = states1.next().unwrap().finalize(r).unwrap();
            let theirs = TheirType1Token::tls_deserialize_exact(token.encode()).unwrap();
            type1_server
                .redeem_token(&p384_keys, &nonces, theirs.clone())
                .await
                .unwrap();
            assert_eq!(
                type1_server.redeem_token(&p384_keys, &nonces, theirs).await,
                Err(RedeemTokenError::DoubleSpending)
            );
        } else {
            assert_eq!(r.token_type, TokenType::PUBLIC_RSA);
            let token = states2.next().unwrap().finalize(r).unwrap();
            let theirs = TheirType2Token::tls_deserialize_exact(token.encode()).unwrap();
            let origin = TheirType2Origin::new();
            origin
                .redeem_token(&origin_keys, &nonces, theirs.clone())
                .await
                .unwrap();
            assert_eq!(
                origin.redeem_token(&origin_keys, &nonces, theirs).await,
                Err(RedeemTokenError::DoubleSpending)
            );
        }
    }
}

// =======================================================================================
// Headers: what each side accepts from the other.

/// Our parser reads the challenges their crate builds.
#[test]
fn our_parser_reads_their_www_authenticate() {
    let challenge = their_challenge(TheirType::Public, Some([7; 32]));
    let (_, value) = privacypass::auth::authenticate::build_www_authenticate_header(
        &challenge,
        &[1, 2, 3],
        Some(10),
    )
    .unwrap();
    let parsed =
        secdispatch_privacypass::auth_scheme::parse_www_authenticate([value.to_str().unwrap()]);
    assert_eq!(parsed.len(), 1);
    assert_eq!(parsed[0].token_type(), TokenType::PUBLIC_RSA);
    assert_eq!(
        parsed[0].challenge().unwrap().encode(),
        challenge.serialize().unwrap()
    );
}

/// Their parser does not accept quoted-string values (RFC 9110 allows them and the RFC 9577
/// examples use them), which is why `our_origin` above emits unquoted values. Recorded,
/// not asserted, so that a fixed release of their crate does not fail this suite.
#[test]
fn their_parser_and_our_quoted_challenges() {
    let side = our_side(type2::Backend::AwsLc);
    let mut config = OriginConfig::new(ISSUER, ORIGIN);
    config.quoting = Quoting::Quoted;
    let origin = Origin::new(config, Arc::new(MemoryNonceStore::new())).unwrap();
    origin.set_keys(vec![AcceptedKey {
        key: VerificationKey::Type2(side.k2.public().clone()),
        not_after: now() + Duration::from_secs(3600),
    }]);
    let headers = origin.challenges(&mut getrandom::SysRng, now()).unwrap();
    let result = parse_www_authenticate_header(&HeaderValue::from_str(&headers[0]).unwrap());
    println!(
        "their parser on our quoted challenge: {}",
        if result.is_ok() {
            "accepted"
        } else {
            "refused"
        }
    );
}
