//! Origin redemption: every MUST of RFC 9577 §2.2 / RFC 9576 §3.5 the origin enforces,
//! the double-spend race, key rotation, and the tower layer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secdispatch_privacypass::auth_scheme::{Quoting, build_authorization, parse_www_authenticate};
use secdispatch_privacypass::client;
use secdispatch_privacypass::layer::PrivacyPassLayer;
use secdispatch_privacypass::origin::{
    AcceptedKey, Origin, OriginConfig, Redeemed, RedemptionMode, VerificationKey,
};
use secdispatch_privacypass::{Error, Token, TokenType, type1, type2};
use secdispatch_replay::MemoryNonceStore;

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

struct Fixture {
    origin: Arc<Origin>,
    k1: Arc<type1::IssuerKey>,
    k2: Arc<type2::IssuerKey>,
}

fn fixture(mode: RedemptionMode) -> Fixture {
    let mut rng = getrandom::SysRng;
    let k1 = Arc::new(type1::IssuerKey::generate(&mut rng).unwrap());
    let k2 = Arc::new(type2::IssuerKey::generate(type2::Backend::AwsLc).unwrap());
    let mut config = OriginConfig::new("issuer.example", "origin.example");
    config.token_types = vec![TokenType::PUBLIC_RSA, TokenType::PRIVATE_P384];
    config.redemption = mode;
    config.max_age = Some(30);
    let origin = Arc::new(Origin::new(config, Arc::new(MemoryNonceStore::new())).unwrap());
    origin.set_keys(vec![
        AcceptedKey {
            key: VerificationKey::Type2(k2.public().clone()),
            not_after: t0() + Duration::from_secs(3600),
        },
        AcceptedKey {
            key: VerificationKey::Type1(k1.clone()),
            not_after: t0() + Duration::from_secs(3600),
        },
    ]);
    Fixture { origin, k1, k2 }
}

/// Run the client side against the origin's challenges: the token for the challenge of
/// `token_type`.
fn obtain(f: &Fixture, token_type: TokenType, now: SystemTime) -> Token {
    let mut rng = getrandom::SysRng;
    let headers = f.origin.challenges(&mut rng, now).unwrap();
    let parsed = parse_www_authenticate(headers.iter().map(String::as_str));
    let c = parsed
        .iter()
        .find(|c| c.token_type() == token_type)
        .unwrap();
    let challenge = c.challenge().unwrap();
    challenge.check_origin("origin.example").unwrap();
    let (req, pending) =
        client::begin(&mut rng, challenge, c.token_key.as_deref().unwrap()).unwrap();
    let resp = match token_type {
        TokenType::PRIVATE_P384 => f.k1.issue(&mut rng, &req).unwrap(),
        _ => f.k2.issue(&req).unwrap(),
    };
    pending.finalize(&resp.bytes).unwrap()
}

#[tokio::test]
async fn both_types_redeem_once() {
    for mode in [RedemptionMode::Empty, RedemptionMode::PerRequest] {
        let f = fixture(mode);
        for ty in [TokenType::PUBLIC_RSA, TokenType::PRIVATE_P384] {
            let token = obtain(&f, ty, t0());
            let auth = build_authorization(&token, Quoting::Quoted);
            let r = f.origin.redeem(&auth, t0()).await.unwrap();
            assert_eq!(r.token_type, ty);
            // Replay, quoted or bare: refused (per-request challenges are also single use,
            // so there the challenge is already gone).
            let want = if mode == RedemptionMode::Empty {
                Error::DoubleSpend
            } else {
                Error::ChallengeMismatch
            };
            assert_eq!(f.origin.redeem(&auth, t0()).await, Err(want));
            let bare = build_authorization(&token, Quoting::Bare);
            let again = f.origin.redeem(&bare, t0()).await.unwrap_err();
            assert!(
                matches!(again, Error::DoubleSpend | Error::ChallengeMismatch),
                "{again}"
            );
        }
    }
}

#[tokio::test]
async fn tampered_tokens_are_refused_and_do_not_burn_the_nonce() {
    let f = fixture(RedemptionMode::Empty);
    for ty in [TokenType::PUBLIC_RSA, TokenType::PRIVATE_P384] {
        let token = obtain(&f, ty, t0());
        let mut bad = token.clone();
        bad.authenticator[5] ^= 0x10;
        assert_eq!(
            f.origin.redeem_token(&bad, t0()).await,
            Err(Error::InvalidAuthenticator)
        );
        // The forged attempt released the reservation: the real token still redeems.
        f.origin.redeem_token(&token, t0()).await.unwrap();
    }
}

#[tokio::test]
async fn wrong_challenge_key_type_and_expiry_are_refused() {
    let f = fixture(RedemptionMode::Empty);
    let token = obtain(&f, TokenType::PUBLIC_RSA, t0());
    let mut other_challenge = token.clone();
    other_challenge.challenge_digest[0] ^= 1;
    assert_eq!(
        f.origin.redeem_token(&other_challenge, t0()).await,
        Err(Error::ChallengeMismatch)
    );
    let mut unknown_key = token.clone();
    unknown_key.token_key_id[0] ^= 1;
    assert_eq!(
        f.origin.redeem_token(&unknown_key, t0()).await,
        Err(Error::UnknownKeyId)
    );
    // After the key's not_after, its tokens are refused.
    let late = t0() + Duration::from_secs(3601);
    assert_eq!(
        f.origin.redeem_token(&token, late).await,
        Err(Error::UnknownKeyId)
    );
    // A token for another origin (a challenge this origin never sent) is refused.
    let mut config = OriginConfig::new("issuer.example", "elsewhere.example");
    config.token_types = vec![TokenType::PUBLIC_RSA];
    let elsewhere = Origin::new(config, Arc::new(MemoryNonceStore::new())).unwrap();
    elsewhere.set_keys(f.origin.keys().to_vec());
    assert_eq!(
        elsewhere.redeem_token(&token, t0()).await,
        Err(Error::ChallengeMismatch)
    );
    // Garbage credentials.
    assert_eq!(
        f.origin.redeem("Basic abc", t0()).await,
        Err(Error::NoCredentials)
    );
    assert!(
        f.origin
            .redeem("PrivateToken token=AAAA", t0())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn per_request_challenges_expire_and_are_single_use() {
    let f = fixture(RedemptionMode::PerRequest);
    let token = obtain(&f, TokenType::PUBLIC_RSA, t0());
    assert_eq!(
        f.origin
            .redeem_token(&token, t0() + Duration::from_secs(31))
            .await,
        Err(Error::ChallengeMismatch)
    );
    let token = obtain(&f, TokenType::PUBLIC_RSA, t0());
    f.origin.redeem_token(&token, t0()).await.unwrap();
    // Every challenge carries a fresh 32-byte context.
    let mut rng = getrandom::SysRng;
    let a = f.origin.challenges(&mut rng, t0()).unwrap();
    let b = f.origin.challenges(&mut rng, t0()).unwrap();
    assert_ne!(a, b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn double_spend_race_accepts_exactly_one() {
    let f = fixture(RedemptionMode::Empty);
    let token = obtain(&f, TokenType::PUBLIC_RSA, t0());
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let origin = f.origin.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            origin.redeem_token(&token, t0()).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::DoubleSpend) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn rotation_old_tokens_valid_until_expiry_new_challenges_use_new_key() {
    let f = fixture(RedemptionMode::Empty);
    let old_token = obtain(&f, TokenType::PUBLIC_RSA, t0());
    let new_key = type2::IssuerKey::generate(type2::Backend::AwsLc).unwrap();
    let mut keys = vec![AcceptedKey {
        key: VerificationKey::Type2(new_key.public().clone()),
        not_after: t0() + Duration::from_secs(7200),
    }];
    keys.extend(f.origin.keys().iter().cloned());
    f.origin.set_keys(keys);
    let mut rng = getrandom::SysRng;
    let headers = f.origin.challenges(&mut rng, t0()).unwrap();
    let parsed = parse_www_authenticate(headers.iter().map(String::as_str));
    let c2 = parsed
        .iter()
        .find(|c| c.token_type() == TokenType::PUBLIC_RSA)
        .unwrap();
    assert_eq!(c2.token_key.as_deref(), Some(new_key.public().spki()));
    // The old key's token still redeems until the old key's not_after.
    f.origin
        .redeem_token(&old_token, t0() + Duration::from_secs(10))
        .await
        .unwrap();
    let another_old = obtain_with(&f.k2, &f.origin, t0());
    assert_eq!(
        f.origin
            .redeem_token(&another_old, t0() + Duration::from_secs(3600))
            .await,
        Err(Error::UnknownKeyId)
    );
}

fn obtain_with(key: &type2::IssuerKey, origin: &Origin, now: SystemTime) -> Token {
    let mut rng = getrandom::SysRng;
    let headers = origin.challenges(&mut rng, now).unwrap();
    let parsed = parse_www_authenticate(headers.iter().map(String::as_str));
    let c = parsed
        .iter()
        .find(|c| c.token_type() == TokenType::PUBLIC_RSA)
        .unwrap();
    let (req, st) = type2::request(&mut rng, c.challenge().unwrap(), key.public()).unwrap();
    st.finalize(&key.issue(&req).unwrap()).unwrap()
}

#[tokio::test]
async fn tower_layer_challenges_then_admits_once() {
    use tower::{Layer, ServiceExt};
    let f = fixture(RedemptionMode::Empty);
    let clock_now = t0();
    let layer = PrivacyPassLayer::new(f.origin.clone()).with_clock(Arc::new(move || clock_now));
    let svc = layer.layer(tower::service_fn(|req: http::Request<String>| async move {
        let redeemed = req.extensions().get::<Redeemed>().cloned().unwrap();
        assert!(req.headers().get(http::header::AUTHORIZATION).is_none());
        Ok::<_, std::convert::Infallible>(http::Response::new(format!(
            "ok {}",
            redeemed.token_type
        )))
    }));
    let resp = svc
        .clone()
        .oneshot(http::Request::new(String::new()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let challenges: Vec<&str> = resp
        .headers()
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(challenges.len(), 2);
    let token = obtain(&f, TokenType::PRIVATE_P384, t0());
    let auth = build_authorization(&token, Quoting::Quoted);
    let req = || {
        http::Request::builder()
            .header(http::header::AUTHORIZATION, auth.as_str())
            .body(String::new())
            .unwrap()
    };
    let ok = svc.clone().oneshot(req()).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.body(), "ok 0x0001");
    let replay = svc.clone().oneshot(req()).await.unwrap();
    assert_eq!(replay.status(), 401);
    assert_eq!(
        replay.extensions().get::<Error>(),
        Some(&Error::DoubleSpend)
    );
    assert!(
        replay
            .headers()
            .contains_key(http::header::WWW_AUTHENTICATE)
    );
}
