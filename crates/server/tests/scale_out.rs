//! Scale-out: two replicas, each with its own store handle (its own connection pools and
//! caches, as separate processes have), its own gateway, Privacy Pass issuer and OCSP
//! responder, sharing one PostgreSQL database (keys, certificate and revocation DB) and
//! one Redis (spent tokens):
//!
//! * one token redeemed at both gateways at once is accepted exactly once;
//! * a revocation made through one replica's CA is refused by both gateways within the
//!   OCSP freshness window;
//! * a key rotation at one issuer is accepted by both gateways.
//!
//! Needs `SECDISPATCH_TEST_POSTGRES_URL` and `SECDISPATCH_TEST_REDIS_URL` (`.ci/run` starts
//! both); skips with a printed reason otherwise, fails under `SECDISPATCH_REQUIRE_SERVICES=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::{Method, StatusCode};
use secdispatch_privacypass::auth_scheme::{Quoting, build_authorization, parse_www_authenticate};
use secdispatch_privacypass::directory::{IssuerDirectory, WELL_KNOWN_PATH};
use secdispatch_privacypass::wire::token_request::{
    MEDIA_TYPE_TOKEN_REQUEST, MEDIA_TYPE_TOKEN_RESPONSE,
};
use secdispatch_privacypass::{Token, TokenKeyId, client};
use secdispatch_server::config::{ClientAuth, Config, RouteConfig, UpstreamProtocol};
use secdispatch_server::issuer::http::Client;
use secdispatch_server::issuer::{IssuerKeys, PrivacyPassRouteConfig, RedemptionContextConfig};
use secdispatch_server::localpki::LocalPki;
use secdispatch_server::{Metrics, Shutdown, services};
use secdispatch_store::{KeyStore, RedisNonceStore, Store, StoreLocation};
use sqlx::Connection;

/// The shared services, or `None` (skip) when they are not configured.
fn services() -> Option<(String, String)> {
    let pg = std::env::var("SECDISPATCH_TEST_POSTGRES_URL").ok();
    let redis = std::env::var("SECDISPATCH_TEST_REDIS_URL").ok();
    match (pg, redis) {
        (Some(p), Some(r)) if !p.is_empty() && !r.is_empty() => Some((p, r)),
        _ => {
            assert!(
                std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "SECDISPATCH_REQUIRE_SERVICES=1 but SECDISPATCH_TEST_POSTGRES_URL / SECDISPATCH_TEST_REDIS_URL are not set"
            );
            println!(
                "skipped: scale-out tests need SECDISPATCH_TEST_POSTGRES_URL and SECDISPATCH_TEST_REDIS_URL (see .ci/run)"
            );
            None
        }
    }
}

/// A fresh schema, so that this test's CA and keys start empty.
async fn fresh_schema(base: &str) -> String {
    let schema = format!(
        "sd_scale_{:x}",
        secdispatch_replay::new_token().unwrap() as u64
    );
    let mut c = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut c)
        .await
        .unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-c%20search_path%3D{schema}")
}

struct Replica {
    store: Arc<Store>,
    pki: LocalPki,
    gateway: SocketAddr,
    issuer: SocketAddr,
    metrics: Metrics,
    shutdown: Shutdown,
}

/// The configuration both replicas share: the Privacy Pass route names one issuer for
/// both (any replica of it can issue), keys are refreshed every second, the gateway asks
/// its OCSP responder with a one-second cache.
fn config(backend: SocketAddr) -> Config {
    let mut c = Config::default();
    c.issuer.publish_ahead = Duration::from_secs(2);
    c.issuer.key_check_interval = Duration::from_secs(1);
    c.issuer.token_types = vec![2];
    let route = |prefix: &str, pp| RouteConfig {
        host: None,
        path_prefix: prefix.into(),
        client_auth: ClientAuth::Optional,
        upstreams: vec![format!("http://{backend}")],
        upstream_protocol: UpstreamProtocol::Http1,
        privacy_pass: pp,
    };
    c.gateway.routes = vec![
        route("/", None),
        route(
            "/private",
            Some(PrivacyPassRouteConfig {
                issuer_name: "issuer.scale.test".into(),
                directory_url: None,
                token_types: vec![2],
                redemption_context: RedemptionContextConfig::Empty,
                origin_info: vec![],
                max_age: Duration::from_secs(60),
                key_refresh: Duration::from_secs(1),
                shared_store: true,
            }),
        ),
    ];
    c.gateway.ocsp.enabled = true;
    c.gateway.ocsp.cache_max_age = Duration::from_secs(1);
    c
}

async fn open_store(pg: &str, redis: &str) -> Arc<Store> {
    let nonces = RedisNonceStore::connect(redis, Duration::from_secs(3))
        .await
        .unwrap();
    let location = nonces.location().to_owned();
    Arc::new(
        Store::open(&StoreLocation::parse(pg).unwrap())
            .await
            .unwrap()
            .with_nonce_store(Arc::new(nonces), location),
    )
}

/// One replica: its own store handle, PKI files (certificates issued by the shared CA),
/// OCSP responder, issuer and gateway.
async fn replica(
    pg: &str,
    redis: &str,
    dir: &Path,
    backend: Option<SocketAddr>,
) -> (Replica, SocketAddr) {
    let store = open_store(pg, redis).await;
    let (metrics, shutdown) = (Metrics::new(), Shutdown::new());
    let pki = LocalPki::at(dir);
    pki.ensure(
        &secdispatch_server::ca::Ca::new(store.clone()),
        &["localhost", "127.0.0.1"],
        None,
        SystemTime::now(),
    )
    .await
    .unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let placeholder = Config::default();
    services::ensure_gateway_key(&placeholder, store.clone())
        .await
        .unwrap();
    let backend = match backend {
        Some(b) => b,
        None => services::start_backend_demo(&placeholder, any, store.clone(), &metrics, &shutdown)
            .await
            .unwrap(),
    };
    let mut config = config(backend);
    let ocsp =
        secdispatch_server::ocsp::start_ocsp(&config, any, store.clone(), &metrics, &shutdown)
            .await
            .unwrap();
    config.gateway.ocsp.responder = format!("http://{ocsp}");
    let issuer =
        secdispatch_server::issuer::start_issuer(&config, any, store.clone(), &metrics, &shutdown)
            .await
            .unwrap();
    let gateway =
        services::start_gateway(&config, dir, any, store.clone(), None, &metrics, &shutdown)
            .await
            .unwrap();
    (
        Replica {
            store,
            pki,
            gateway,
            issuer,
            metrics,
            shutdown,
        },
        backend,
    )
}

/// A PrivateToken challenge from `gateway`'s protected route.
async fn challenge(r: &Replica) -> secdispatch_privacypass::auth_scheme::PrivateTokenChallenge {
    let client = Client::with_roots(&r.pki.root_cert).unwrap();
    let first = client
        .send(
            Method::GET,
            &format!("https://localhost:{}/private/x", r.gateway.port()),
            &[],
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(first.status, StatusCode::UNAUTHORIZED);
    let values: Vec<&str> = first
        .headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    parse_www_authenticate(values).into_iter().next().unwrap()
}

/// A token for `c` from the issuer at `issuer`, with the key its directory selects now.
async fn token(
    issuer: SocketAddr,
    c: &secdispatch_privacypass::auth_scheme::PrivateTokenChallenge,
) -> Token {
    let dir = Client::plain()
        .send(
            Method::GET,
            &format!("http://{issuer}{WELL_KNOWN_PATH}"),
            &[],
            Vec::new(),
        )
        .await
        .unwrap();
    let dir = IssuerDirectory::from_json(&dir.body).unwrap();
    let challenge = c.challenge().unwrap();
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
    let r = Client::plain()
        .send(
            Method::POST,
            &dir.request_uri(&format!("http://{issuer}")),
            &[
                ("content-type", MEDIA_TYPE_TOKEN_REQUEST),
                ("accept", MEDIA_TYPE_TOKEN_RESPONSE),
            ],
            req.encode(),
        )
        .await
        .unwrap();
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    pending.finalize(&r.body).unwrap()
}

/// The key ids of the type 2 keys an issuer's directory lists now.
async fn directory_ids(issuer: SocketAddr) -> Vec<[u8; 32]> {
    let dir = Client::plain()
        .send(
            Method::GET,
            &format!("http://{issuer}{WELL_KNOWN_PATH}"),
            &[],
            Vec::new(),
        )
        .await
        .unwrap();
    IssuerDirectory::from_json(&dir.body)
        .unwrap()
        .keys_of(secdispatch_privacypass::TokenType::PUBLIC_RSA)
        .map(|k| TokenKeyId::of(&k.key_bytes().unwrap()).0)
        .collect()
}

async fn redeem(r: &Replica, auth: &str) -> StatusCode {
    Client::with_roots(&r.pki.root_cert)
        .unwrap()
        .send(
            Method::GET,
            &format!("https://localhost:{}/private/x", r.gateway.port()),
            &[("authorization", auth)],
            Vec::new(),
        )
        .await
        .unwrap()
        .status
}

async fn with_certificate(r: &Replica, pki: &LocalPki) -> StatusCode {
    Client::with_identity(&r.pki.root_cert, &pki.client_cert, &pki.client_key)
        .unwrap()
        .send(
            Method::GET,
            &format!("https://localhost:{}/hello", r.gateway.port()),
            &[],
            Vec::new(),
        )
        .await
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_spent_tokens_revocations_and_keys() {
    let Some((pg, redis)) = services() else {
        return;
    };
    let url = fresh_schema(&pg).await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, backend) = replica(&url, &redis, dir_a.path(), None).await;
    let (b, _) = replica(&url, &redis, dir_b.path(), Some(backend)).await;

    // 1. One token, 16 concurrent redemptions split over both gateways: one 200.
    let c = challenge(&a).await;
    let t = token(a.issuer, &c).await;
    let auth = build_authorization(&t, Quoting::Quoted);
    let (a, b) = (Arc::new(a), Arc::new(b));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let r = if i % 2 == 0 { a.clone() } else { b.clone() };
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move { redeem(&r, &auth).await }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );

    // 2. Replica A's client certificate works at both gateways until A's CA revokes it;
    //    then both refuse it within the OCSP window (responder poll + 1 s gateway cache).
    for r in [&a, &b] {
        assert_eq!(with_certificate(r, &a.pki).await, StatusCode::OK);
    }
    let pem = std::fs::read_to_string(&a.pki.client_cert).unwrap();
    let leaf = secdispatch_pqpki::cert::chain_from_pem(&pem)
        .unwrap()
        .remove(0);
    let serial = secdispatch_store::serial_hex(leaf.tbs_certificate().serial_number().as_bytes());
    secdispatch_server::ca::Ca::new(a.store.clone())
        .revoke(
            Some(secdispatch_server::localpki::ISSUING),
            &serial,
            Some("keyCompromise"),
            SystemTime::now(),
        )
        .await
        .unwrap();
    let revoked = Instant::now();
    for r in [&a, &b] {
        loop {
            match with_certificate(r, &a.pki).await {
                StatusCode::FORBIDDEN => break,
                StatusCode::OK if revoked.elapsed() < Duration::from_secs(5) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                s => panic!("after revocation: {s} at {:?}", revoked.elapsed()),
            }
        }
    }
    // B's own client certificate (same CA, not revoked) still works at both.
    for r in [&a, &b] {
        assert_eq!(with_certificate(r, &b.pki).await, StatusCode::OK);
    }

    // 3. Rotation at issuer A: once the new key is in use, tokens from either issuer
    //    replica are accepted by both gateways.
    let before = directory_ids(a.issuer).await;
    let keys = IssuerKeys::new(
        a.store.clone() as Arc<dyn KeyStore>,
        &config(backend).issuer,
    )
    .unwrap();
    let made = keys.rotate(SystemTime::now()).await.unwrap();
    assert_eq!(made.len(), 1);
    let rotated = Instant::now();
    let mut accepted_new = [false, false];
    while accepted_new != [true, true] {
        assert!(
            rotated.elapsed() < Duration::from_secs(15),
            "the new key was not accepted at both gateways: {accepted_new:?}"
        );
        for (i, (r, issuer)) in [(&a, b.issuer), (&b, a.issuer)].into_iter().enumerate() {
            let c = challenge(r).await;
            let t = token(issuer, &c).await;
            let is_new = !before.contains(&t.token_key_id);
            let status = redeem(r, &build_authorization(&t, Quoting::Quoted)).await;
            assert_eq!(status, StatusCode::OK, "a fresh token was refused");
            if is_new {
                accepted_new[i] = true;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let m = b.metrics.render();
    assert!(m.contains("secdispatch_gateway_ocsp_checks_total"), "{m}");
    a.shutdown.drain(Duration::from_secs(5)).await;
    b.shutdown.drain(Duration::from_secs(5)).await;
}

/// A Redis server of this test's own (so that stopping it disturbs no other test), with
/// an append-only file fsynced on every write: spent tokens survive its restart.
struct OwnRedis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl OwnRedis {
    /// `None` (skip) when `redis-server` is not installed.
    fn start() -> Option<Self> {
        let found = std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            assert!(
                std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "SECDISPATCH_REQUIRE_SERVICES=1 but redis-server is not installed"
            );
            println!("skipped: the Redis fault test needs redis-server");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut r = Self {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        r.restart();
        Some(r)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn restart(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Redis lost while the gateway runs: redemptions fail closed (503, nothing spent, the
/// loss counted), and once Redis is back the gateway recovers by itself: the token
/// refused during the outage redeems, and tokens spent before the outage stay spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_lost_while_running_fails_closed_and_recovers() {
    let Some((pg, _)) = services() else {
        return;
    };
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let url = fresh_schema(&pg).await;
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = replica(&url, &redis.url(), dir.path(), None).await;

    let spent = build_authorization(
        &token(r.issuer, &challenge(&r).await).await,
        Quoting::Quoted,
    );
    assert_eq!(redeem(&r, &spent).await, StatusCode::OK);

    redis.kill();
    let held = build_authorization(
        &token(r.issuer, &challenge(&r).await).await,
        Quoting::Quoted,
    );
    let refused = Instant::now();
    assert_eq!(redeem(&r, &held).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(redeem(&r, &spent).await, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        refused.elapsed() < Duration::from_secs(10),
        "the outage was not noticed promptly: {:?}",
        refused.elapsed()
    );
    let m = r.metrics.render();
    assert!(
        m.contains(
            r#"secdispatch_gateway_privacypass_redemptions_total{result="store_unavailable"} 2"#
        ),
        "{m}"
    );

    // The readiness check (/healthz "store") reports the loss, naming the server.
    let ping = r.store.ping().await.unwrap_err().to_string();
    assert!(ping.contains(&redis.url()), "{ping}");

    redis.restart();
    let back = Instant::now();
    loop {
        match redeem(&r, &held).await {
            StatusCode::OK => break,
            StatusCode::SERVICE_UNAVAILABLE if back.elapsed() < Duration::from_secs(15) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            s => panic!("after Redis came back: {s} at {:?}", back.elapsed()),
        }
    }
    println!("recovered {:?} after Redis restarted", back.elapsed());
    r.store.ping().await.unwrap();
    // Spent before the outage, spent during recovery: both stay spent.
    assert_eq!(redeem(&r, &spent).await, StatusCode::UNAUTHORIZED);
    assert_eq!(redeem(&r, &held).await, StatusCode::UNAUTHORIZED);
    let m = r.metrics.render();
    assert!(
        m.contains(r#"secdispatch_gateway_privacypass_redemptions_total{result="accepted"} 2"#),
        "{m}"
    );
    assert!(
        m.contains(r#"secdispatch_gateway_privacypass_redemptions_total{result="refused"} 2"#),
        "{m}"
    );
    r.shutdown.drain(Duration::from_secs(5)).await;
}
