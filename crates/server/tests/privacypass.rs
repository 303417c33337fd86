//! Privacy Pass over HTTP on loopback: the issuer service (directory, issuance, 415/422,
//! attester), an origin protected by the tower layer, both token types end to end, key
//! rotation, and the double-spend race on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::routing::get;
use http::{Method, StatusCode};
use secdispatch_privacypass::auth_scheme::{
    Quoting, b64_encode, build_authorization, parse_www_authenticate,
};
use secdispatch_privacypass::directory::{IssuerDirectory, WELL_KNOWN_PATH};
use secdispatch_privacypass::layer::PrivacyPassLayer;
use secdispatch_privacypass::origin::{Origin, OriginConfig, RedemptionMode};
use secdispatch_privacypass::wire::token_request::{
    MEDIA_TYPE_TOKEN_REQUEST, MEDIA_TYPE_TOKEN_RESPONSE,
};
use secdispatch_privacypass::{Error, Token, TokenChallenge, TokenType, client};
use secdispatch_server::config::Config;
use secdispatch_server::issuer::http::Client;
use secdispatch_server::issuer::{IssuerKeys, start_issuer};
use secdispatch_server::{Metrics, Shutdown, serve};
use secdispatch_store::{KeyStore, NonceStore, Store, StoreLocation};

struct Issuer {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    addr: SocketAddr,
    shutdown: Shutdown,
    config: Config,
}

async fn start(attester_secret: Option<&str>) -> Issuer {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(&StoreLocation::sqlite_in(dir.path()))
            .await
            .unwrap(),
    );
    let mut config = Config::default();
    if let Some(s) = attester_secret {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, s.as_bytes());
        config.issuer.attester_bearer_sha256 =
            vec![d.as_ref().iter().map(|b| format!("{b:02x}")).collect()];
    }
    let shutdown = Shutdown::new();
    let addr = start_issuer(
        &config,
        "127.0.0.1:0".parse().unwrap(),
        store.clone(),
        &Metrics::new(),
        &shutdown,
    )
    .await
    .unwrap();
    Issuer {
        _dir: dir,
        store,
        addr,
        shutdown,
        config,
    }
}

async fn directory(addr: SocketAddr) -> (IssuerDirectory, http::HeaderMap) {
    let r = Client::plain()
        .send(
            Method::GET,
            &format!("http://{addr}{WELL_KNOWN_PATH}"),
            &[],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    (IssuerDirectory::from_json(&r.body).unwrap(), r.headers)
}

/// Obtain a token for `challenge` from the issuer over HTTP.
async fn obtain(addr: SocketAddr, challenge: &TokenChallenge, bearer: Option<&str>) -> Token {
    let (dir, _) = directory(addr).await;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let key = dir
        .select(challenge.token_type(), now)
        .unwrap()
        .key_bytes()
        .unwrap();
    let (req, pending) = client::begin(&mut getrandom::SysRng, challenge, &key).unwrap();
    let auth = bearer.map(|b| format!("Bearer {b}"));
    let mut headers = vec![
        ("content-type", MEDIA_TYPE_TOKEN_REQUEST),
        ("accept", MEDIA_TYPE_TOKEN_RESPONSE),
    ];
    if let Some(a) = &auth {
        headers.push(("authorization", a));
    }
    let url = dir.request_uri(&format!("http://{addr}"));
    let r = Client::plain()
        .send(Method::POST, &url, &headers, req.encode())
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.headers["content-type"], MEDIA_TYPE_TOKEN_RESPONSE);
    pending.finalize(&r.body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_lists_both_types_with_cache_control() {
    let issuer = start(None).await;
    let (dir, headers) = directory(issuer.addr).await;
    assert_eq!(
        headers["content-type"],
        "application/private-token-issuer-directory"
    );
    let cc = headers["cache-control"].to_str().unwrap();
    let max_age: u64 = cc.strip_prefix("max-age=").unwrap().parse().unwrap();
    assert!((3240..=3600).contains(&max_age), "{cc}");
    assert_eq!(dir.issuer_request_uri, "/token-request");
    assert_eq!(dir.keys_of(TokenType::PUBLIC_RSA).count(), 1);
    assert_eq!(dir.keys_of(TokenType::PRIVATE_P384).count(), 1);
    assert!(dir.token_keys.iter().all(|k| k.not_before.is_some()));
    // Keys were stored on first start; a restart on the same store reuses them.
    let versions = issuer
        .store
        .key_versions("privacypass-type2")
        .await
        .unwrap();
    assert_eq!(versions.len(), 1);
    let metrics = Metrics::new();
    let shutdown = Shutdown::new();
    let again = start_issuer(
        &issuer.config,
        "127.0.0.1:0".parse().unwrap(),
        issuer.store.clone(),
        &metrics,
        &shutdown,
    )
    .await
    .unwrap();
    assert_eq!(directory(again).await.0, dir);
    shutdown.drain(Duration::from_secs(5)).await;
    issuer.shutdown.drain(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuance_statuses_over_http() {
    let issuer = start(Some("attester-secret")).await;
    let url = format!("http://{}/token-request", issuer.addr);
    let (dir, _) = directory(issuer.addr).await;
    let key = dir
        .select(TokenType::PUBLIC_RSA, u64::MAX)
        .unwrap()
        .key_bytes()
        .unwrap();
    let challenge = TokenChallenge::new(
        TokenType::PUBLIC_RSA,
        "issuer.example",
        secdispatch_privacypass::RedemptionContext::Empty,
        &[],
    )
    .unwrap();
    let (req, _) = client::begin(&mut getrandom::SysRng, &challenge, &key).unwrap();
    let c = Client::plain();
    let auth = ("authorization", "Bearer attester-secret");
    // No attester credential, or a wrong one → 401.
    for h in [
        vec![("content-type", MEDIA_TYPE_TOKEN_REQUEST)],
        vec![
            ("content-type", MEDIA_TYPE_TOKEN_REQUEST),
            ("authorization", "Bearer nope"),
        ],
    ] {
        let r = c.send(Method::POST, &url, &h, req.encode()).await.unwrap();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Wrong media type → 415.
    let r = c
        .send(
            Method::POST,
            &url,
            &[("content-type", "application/octet-stream"), auth],
            req.encode(),
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Unknown truncated key id, wrong size, unsupported type → 422 with a reason.
    let mut unknown = req.clone();
    unknown.truncated_token_key_id ^= 0xff;
    let mut short = req.encode();
    short.truncate(100);
    for (body, reason) in [
        (unknown.encode(), "truncated token key id"),
        (short, "blinded_msg"),
        (vec![0x2e, 0x96, 1, 2], "unsupported token type"),
    ] {
        let r = c
            .send(
                Method::POST,
                &url,
                &[("content-type", MEDIA_TYPE_TOKEN_REQUEST), auth],
                body,
            )
            .await
            .unwrap();
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let text = String::from_utf8_lossy(&r.body);
        assert!(text.contains(reason), "{text}");
    }
    // With the credential: 200.
    obtain(issuer.addr, &challenge, Some("attester-secret")).await;
    issuer.shutdown.drain(Duration::from_secs(5)).await;
}

/// An origin app on loopback protected by the layer; joint origin and issuer (it uses the
/// issuer's keys from the store, so type 1 verifies too).
async fn start_origin(
    store: Arc<Store>,
    config: &Config,
    mode: RedemptionMode,
    shutdown: &Shutdown,
) -> (SocketAddr, Arc<Origin>) {
    let keys = IssuerKeys::new(store.clone() as Arc<dyn KeyStore>, &config.issuer).unwrap();
    let snapshot = keys.refresh(SystemTime::now()).await.unwrap();
    let mut oc = OriginConfig::new("127.0.0.1", "localhost");
    oc.token_types = vec![TokenType::PUBLIC_RSA, TokenType::PRIVATE_P384];
    oc.redemption = mode;
    let origin = Arc::new(Origin::new(oc, store as Arc<dyn NonceStore>).unwrap());
    origin.set_keys(snapshot.accepted.clone());
    let app = Router::new()
        .route("/secret", get(|| async { "the protected resource\n" }))
        .layer(PrivacyPassLayer::new(origin.clone()));
    let app = serve::with_limits(app, "origin", &config.limits, &Metrics::new());
    let listener = serve::bind("origin", "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    shutdown.spawn(serve::serve(
        listener,
        app,
        config.limits.clone(),
        shutdown.clone(),
    ));
    (addr, origin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_issuance_and_redemption_both_types() {
    let issuer = start(None).await;
    let shutdown = Shutdown::new();
    for mode in [RedemptionMode::Empty, RedemptionMode::PerRequest] {
        let (origin_addr, _) =
            start_origin(issuer.store.clone(), &issuer.config, mode, &shutdown).await;
        let url = format!("http://{origin_addr}/secret");
        let c = Client::plain();
        for ty in [TokenType::PUBLIC_RSA, TokenType::PRIVATE_P384] {
            let first = c.send(Method::GET, &url, &[], Vec::new()).await.unwrap();
            assert_eq!(first.status, StatusCode::UNAUTHORIZED);
            let values: Vec<&str> = first
                .headers
                .get_all("www-authenticate")
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect();
            let challenges = parse_www_authenticate(values);
            assert_eq!(challenges.len(), 2);
            let chosen = challenges.iter().find(|c| c.token_type() == ty).unwrap();
            let challenge = chosen.challenge().unwrap();
            challenge.check_origin("localhost").unwrap();
            let token = obtain(issuer.addr, challenge, None).await;
            let auth = build_authorization(&token, Quoting::Quoted);
            let ok = c
                .send(Method::GET, &url, &[("authorization", &auth)], Vec::new())
                .await
                .unwrap();
            assert_eq!(
                ok.status,
                StatusCode::OK,
                "{mode:?} {ty}: {}",
                String::from_utf8_lossy(&ok.body)
            );
            assert_eq!(&ok.body[..], b"the protected resource\n");
            let replay = c
                .send(Method::GET, &url, &[("authorization", &auth)], Vec::new())
                .await
                .unwrap();
            assert_eq!(
                replay.status,
                StatusCode::UNAUTHORIZED,
                "replay of {ty} in {mode:?}"
            );
            assert!(replay.headers.contains_key("www-authenticate"));
            // A bit-flipped authenticator is refused.
            let mut bad = token.clone();
            bad.authenticator[0] ^= 1;
            let bad_auth = build_authorization(&bad, Quoting::Bare);
            let r = c
                .send(
                    Method::GET,
                    &url,
                    &[("authorization", &bad_auth)],
                    Vec::new(),
                )
                .await
                .unwrap();
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
    }
    shutdown.drain(Duration::from_secs(5)).await;
    issuer.shutdown.drain(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_old_tokens_valid_until_expiry_new_challenges_use_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(&StoreLocation::sqlite_in(dir.path()))
            .await
            .unwrap(),
    );
    let mut config = Config::default();
    config.issuer.token_types = vec![2];
    config.issuer.key_lifetime = Duration::from_secs(4000);
    config.issuer.publish_ahead = Duration::from_secs(100);
    let keys = IssuerKeys::new(store.clone() as Arc<dyn KeyStore>, &config.issuer).unwrap();
    let t0 = SystemTime::now();
    let s0 = keys.refresh(t0).await.unwrap();
    let old_key = s0.issuer.type2_keys()[0].clone();
    // No rotation while more than a quarter of the lifetime is left.
    let s1 = keys.refresh(t0 + Duration::from_secs(2000)).await.unwrap();
    assert_eq!(s1.directory.token_keys.len(), 1);
    // With a quarter left, the successor is published ahead (not-before in the future).
    let t_rot = t0 + Duration::from_secs(3100);
    let s2 = keys.refresh(t_rot).await.unwrap();
    assert_eq!(s2.directory.token_keys.len(), 2);
    let unix = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    assert!(s2.directory.token_keys[0].not_before.unwrap() >= unix(t_rot) + 99);
    // The successor already issues on request (a client whose clock runs ahead, or a
    // replica that has not reloaded yet, must not answer 422), but the current key stays
    // first in `accepted`, so challenges keep naming it until not-before.
    assert_eq!(
        s2.issuer.type2_keys().len(),
        2,
        "the published key issues early on request"
    );
    assert_eq!(s2.accepted[0].key.token_key(), old_key.public().spki());
    // A client at t_rot picks the old key (the new one's not-before is ahead).
    let sel = s2
        .directory
        .select(TokenType::PUBLIC_RSA, unix(t_rot))
        .unwrap();
    assert_eq!(sel.key_bytes().unwrap(), old_key.public().spki());
    // After publish_ahead both keys are valid; the new one is preferred.
    let t_new = t_rot + Duration::from_secs(101);
    let s3 = keys.refresh(t_new).await.unwrap();
    assert_eq!(s3.issuer.type2_keys().len(), 2);
    let sel = s3
        .directory
        .select(TokenType::PUBLIC_RSA, unix(t_new))
        .unwrap();
    assert_ne!(sel.key_bytes().unwrap(), old_key.public().spki());
    // An origin with these keys challenges with the new key and still redeems old tokens.
    let mut oc = OriginConfig::new("issuer.example", "origin.example");
    oc.token_types = vec![TokenType::PUBLIC_RSA];
    let origin = Origin::new(oc, store.clone() as Arc<dyn NonceStore>).unwrap();
    origin.set_keys(s3.accepted.clone());
    let headers = origin.challenges(&mut getrandom::SysRng, t_new).unwrap();
    let parsed = parse_www_authenticate(headers.iter().map(String::as_str));
    assert_eq!(
        parsed[0].token_key.as_deref(),
        Some(sel.key_bytes().unwrap().as_slice())
    );
    let challenge = parsed[0].challenge().unwrap();
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let (req, st) = secdispatch_privacypass::type2::request(
            &mut getrandom::SysRng,
            challenge,
            old_key.public(),
        )
        .unwrap();
        tokens.push(st.finalize(&old_key.issue(&req).unwrap()).unwrap());
    }
    origin.redeem_token(&tokens[0], t_new).await.unwrap();
    // After the old key's end it is neither listed nor accepted.
    let t_end = t0 + Duration::from_secs(4001);
    let s4 = keys.refresh(t_end).await.unwrap();
    assert_eq!(s4.directory.token_keys.len(), 1);
    origin.set_keys(s4.accepted.clone());
    assert_eq!(
        origin.redeem_token(&tokens[1], t_end).await,
        Err(Error::UnknownKeyId)
    );
    // `issuer rotate` adds a key at once.
    let made = keys.rotate(t_end).await.unwrap();
    assert_eq!(made.len(), 1);
    assert_eq!(
        store.key_versions("privacypass-type2").await.unwrap().len(),
        3
    );
}

/// 24 concurrent redemptions of one token through separate origins sharing `store`
/// (as replicas would): exactly one succeeds.
async fn race(store: Arc<Store>) {
    let config = Config::default();
    let keys = IssuerKeys::new(store.clone() as Arc<dyn KeyStore>, &config.issuer).unwrap();
    let snapshot = keys.refresh(SystemTime::now()).await.unwrap();
    let mut replicas = Vec::new();
    for _ in 0..4 {
        let mut oc = OriginConfig::new("issuer.example", "origin.example");
        oc.token_types = vec![TokenType::PUBLIC_RSA, TokenType::PRIVATE_P384];
        let o = Arc::new(Origin::new(oc, store.clone() as Arc<dyn NonceStore>).unwrap());
        o.set_keys(snapshot.accepted.clone());
        replicas.push(o);
    }
    for ty in [TokenType::PUBLIC_RSA, TokenType::PRIVATE_P384] {
        let headers = replicas[0]
            .challenges(&mut getrandom::SysRng, SystemTime::now())
            .unwrap();
        let parsed = parse_www_authenticate(headers.iter().map(String::as_str));
        let c = parsed.iter().find(|c| c.token_type() == ty).unwrap();
        let (req, pending) = client::begin(
            &mut getrandom::SysRng,
            c.challenge().unwrap(),
            c.token_key.as_deref().unwrap(),
        )
        .unwrap();
        let resp = snapshot.issuer.issue(&mut getrandom::SysRng, &req).unwrap();
        let token = pending.finalize(&resp.bytes).unwrap();
        let auth = format!("PrivateToken token=\"{}\"", b64_encode(&token.encode()));
        let mut tasks = Vec::new();
        for i in 0..24 {
            let o = replicas[i % replicas.len()].clone();
            let auth = auth.clone();
            tasks.push(tokio::spawn(async move {
                o.redeem(&auth, SystemTime::now()).await
            }));
        }
        let mut accepted = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => accepted += 1,
                Err(Error::DoubleSpend) => {}
                Err(e) => panic!("unexpected {e}"),
            }
        }
        assert_eq!(accepted, 1, "{ty}: a token must be accepted exactly once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn double_spend_race_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(&StoreLocation::sqlite_in(dir.path()))
            .await
            .unwrap(),
    );
    race(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn double_spend_race_postgres() {
    let Ok(url) = std::env::var("SECDISPATCH_TEST_POSTGRES_URL") else {
        if std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("SECDISPATCH_TEST_POSTGRES_URL is unset but SECDISPATCH_REQUIRE_SERVICES=1");
        }
        println!(
            "skipped: SECDISPATCH_TEST_POSTGRES_URL is not set (source .ci/services.sh && start_postgres)"
        );
        return;
    };
    let store = Arc::new(
        Store::open(&StoreLocation::parse(&url).unwrap())
            .await
            .unwrap(),
    );
    race(store).await;
}
