//! The OCSP responder over HTTP on loopback: `openssl ocsp` as a black-box client (good,
//! revoked with reason, unauthorized, nonce, GET and POST, SHA-1 and SHA-256 CertIDs), our
//! client for the OCSPv2 pieces (ranges, chain bundles, signer variants), revocation
//! visibility across store handles, single flight, bad input, RFC 9919 caching headers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use der::Encode;
use http::{Method, StatusCode};
use secdispatch_ocsp::oid;
use secdispatch_ocsp::{
    CertStatus, HashAlgorithm, IssuerHashes, Nonce, OcspResponseStatus,
    PreferredSignatureAlgorithm, RequestBuilder, SignerKind, VerifyError, VerifyOptions,
    cert_id_for, serial_from_u64, verify_bundle, verify_response, verify_response_for,
};
use secdispatch_pqpki::cert::Profile;
use secdispatch_pqpki::{Algorithm, SigningKey};
use secdispatch_server::ca::{Ca, IssueSpec};
use secdispatch_server::config::Config;
use secdispatch_server::issuer::http::Client;
use secdispatch_server::ocsp::{Responder, client, start_ocsp_responder};
use secdispatch_server::{Metrics, Shutdown};
use secdispatch_store::{Store, StoreLocation};
use x509_cert::Certificate;
use x509_cert::ext::pkix::crl::CrlReason;

struct Env {
    dir: tempfile::TempDir,
    store: Arc<Store>,
    addr: SocketAddr,
    responder: Arc<Responder>,
    shutdown: Shutdown,
    root: Certificate,
    issuing: Certificate,
    /// Serials 1.. of "issuing" (after its own delegated responders, if any).
    leaves: Vec<Certificate>,
}

impl Env {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

fn p256() -> Algorithm {
    Algorithm::from_name("ecdsa-p256-sha256").unwrap()
}

fn pem(c: &Certificate) -> String {
    secdispatch_pqpki::cert::to_pem(c).unwrap()
}

/// A root and a sequential-serial intermediate "issuing" (both P-256) with `leaves` end
/// entities; leaf index 1 revoked (keyCompromise). The responder starts after `tweak`.
async fn start(leaves: usize, tweak: impl FnOnce(&mut Config)) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(&StoreLocation::sqlite_in(dir.path()))
            .await
            .unwrap(),
    );
    let ca = Ca::new(store.clone());
    let now = SystemTime::now() - Duration::from_secs(3600);
    let root = ca
        .init_root("root", p256(), "CN=OCSP Test Root", 3650, false, now)
        .await
        .unwrap();
    let issuing = ca
        .create_intermediate(
            "root",
            "issuing",
            p256(),
            "CN=OCSP Test Issuing",
            1825,
            Some(0),
            true,
            now,
        )
        .await
        .unwrap();
    let mut certs = Vec::new();
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    for i in 0..leaves {
        let key = SigningKey::generate(p256(), &mut rng).unwrap();
        let spec = IssueSpec {
            subject: Some(format!("CN=leaf{i}")),
            sans: vec![],
            profile: Profile::Client,
            days: 30,
            ocsp_url: None,
        };
        certs.push(
            ca.issue("issuing", key.public_key(), &spec, now)
                .await
                .unwrap(),
        );
    }
    if leaves > 1 {
        ca.revoke(
            Some("issuing"),
            &serial_hex(&certs[1]),
            Some("keyCompromise"),
            now + Duration::from_secs(60),
        )
        .await
        .unwrap();
    }
    let mut config = Config::default();
    tweak(&mut config);
    let shutdown = Shutdown::new();
    let (addr, responder) = start_ocsp_responder(
        &config,
        "127.0.0.1:0".parse().unwrap(),
        store.clone(),
        &Metrics::new(),
        &shutdown,
    )
    .await
    .unwrap();
    for (name, c) in [("root.pem", &root), ("issuing.pem", &issuing)] {
        std::fs::write(dir.path().join(name), pem(c)).unwrap();
    }
    for (i, c) in certs.iter().enumerate() {
        std::fs::write(dir.path().join(format!("leaf{i}.pem")), pem(c)).unwrap();
    }
    Env {
        dir,
        store,
        addr,
        responder,
        shutdown,
        root,
        issuing,
        leaves: certs,
    }
}

fn serial_hex(c: &Certificate) -> String {
    secdispatch_store::serial_hex(c.tbs_certificate().serial_number().as_bytes())
}

fn serial_u64(c: &Certificate) -> u64 {
    let b = c.tbs_certificate().serial_number().as_bytes();
    b.iter().fold(0u64, |a, x| (a << 8) | u64::from(*x))
}

fn request(issuer: &Certificate, leaf: &Certificate, hash: HashAlgorithm) -> RequestBuilder {
    RequestBuilder::new().cert_id(cert_id_for(issuer, leaf, hash).unwrap())
}

async fn post(env: &Env, der: &[u8]) -> (StatusCode, Vec<u8>) {
    let r = client::send(&Client::plain(), &env.url(), der, false)
        .await
        .unwrap();
    (r.status, r.body.to_vec())
}

fn openssl() -> Option<&'static str> {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some("openssl");
    }
    if std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("openssl is required (SECDISPATCH_REQUIRE_SERVICES=1) but not on PATH");
    }
    eprintln!("skipping: openssl not on PATH");
    None
}

fn run_openssl(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_ocsp_as_client() {
    let Some(_) = openssl() else { return };
    let env = start(3, |_| {}).await;
    let d = env.dir.path();
    let url = env.url();
    let base = |digest: Option<&str>, cert: &str, extra: &[&str]| {
        let mut a = vec!["ocsp", "-issuer", "issuing.pem"];
        if let Some(dg) = digest {
            a.push(dg);
        }
        a.extend(["-cert", cert, "-url", &url, "-CAfile", "root.pem"]);
        a.extend(extra);
        run_openssl(d, &a)
    };
    // POST, SHA-1 CertID (openssl's default), with openssl's nonce: signed fresh, echoed.
    let out = base(None, "leaf0.pem", &["-resp_text"]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("leaf0.pem: good"), "{out}");
    assert!(out.contains("OCSP Nonce"), "nonce echoed: {out}");
    assert!(!out.contains("WARNING: no nonce"), "{out}");
    // SHA-256 CertID, no nonce: the pre-signed response.
    let out = base(Some("-sha256"), "leaf0.pem", &["-no_nonce", "-resp_text"]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("leaf0.pem: good"), "{out}");
    assert!(out.contains("Hash Algorithm: sha256"), "{out}");
    // Revoked, with its reason and time.
    let out = base(None, "leaf1.pem", &["-no_nonce"]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("leaf1.pem: revoked"), "{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");
    assert!(out.contains("Revocation Time:"), "{out}");
    // A serial never issued: unauthorized (default unknown_serial), never good.
    let out = run_openssl(
        d,
        &[
            "ocsp",
            "-issuer",
            "issuing.pem",
            "-serial",
            "0x999",
            "-url",
            &url,
            "-CAfile",
            "root.pem",
        ],
    );
    assert!(out.contains("Responder Error: unauthorized (6)"), "{out}");
    // The intermediate, answered by the root.
    let out = run_openssl(
        d,
        &[
            "ocsp",
            "-issuer",
            "root.pem",
            "-cert",
            "issuing.pem",
            "-url",
            &url,
            "-CAfile",
            "root.pem",
        ],
    );
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("issuing.pem: good"), "{out}");
    // GET: openssl writes the request, we send it by GET, openssl checks the answer.
    let out = run_openssl(
        d,
        &[
            "ocsp",
            "-issuer",
            "issuing.pem",
            "-sha256",
            "-cert",
            "leaf1.pem",
            "-no_nonce",
            "-reqout",
            "req.der",
        ],
    );
    assert!(Path::new(&d.join("req.der")).exists(), "{out}");
    let req = std::fs::read(d.join("req.der")).unwrap();
    let r = client::send(&Client::plain(), &format!("{url}/ocsp/"), &req, true)
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    std::fs::write(d.join("resp.der"), &r.body).unwrap();
    let out = run_openssl(
        d,
        &[
            "ocsp",
            "-respin",
            "resp.der",
            "-issuer",
            "issuing.pem",
            "-sha256",
            "-cert",
            "leaf1.pem",
            "-no_nonce",
            "-CAfile",
            "root.pem",
        ],
    );
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("leaf1.pem: revoked"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_accepts_the_delegated_responder() {
    let Some(_) = openssl() else { return };
    let env = start(2, |c| c.ocsp.delegated = vec!["issuing".into()]).await;
    let url = env.url();
    let out = run_openssl(
        env.dir.path(),
        &[
            "ocsp",
            "-issuer",
            "issuing.pem",
            "-cert",
            "leaf0.pem",
            "-url",
            &url,
            "-CAfile",
            "root.pem",
            "-resp_text",
        ],
    );
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("leaf0.pem: good"), "{out}");
    assert!(
        out.contains("OCSP Signing"),
        "responder certificate attached: {out}"
    );
    assert!(out.contains("OCSP No Check"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_responses_are_negotiated() {
    let env = start(6, |c| c.ocsp.presign = false).await;
    let now = SystemTime::now();
    let leaf0 = &env.leaves[0];
    // A client that did not opt in: the per-serial response, no range.
    let der = request(&env.issuing, leaf0, HashAlgorithm::Sha256)
        .to_der()
        .unwrap();
    let resp = client::query(&env.url(), &der, false).await.unwrap();
    let v = verify_response_for(&resp, &env.issuing, leaf0, &VerifyOptions::at(now)).unwrap();
    assert_eq!(v.status, CertStatus::good());
    assert_eq!(v.range, None);
    // Opted in: one range response covering the good run around it (1 is revoked, so the
    // run of serial 1 (leaf0) is just itself; leaves 2.. form one run).
    let mut opts = VerifyOptions::at(now);
    opts.accept_ranges = true;
    let mut ranges = Vec::new();
    for leaf in env.leaves.iter().skip(2) {
        let der = request(&env.issuing, leaf, HashAlgorithm::Sha256)
            .range_opt_in()
            .unwrap()
            .to_der()
            .unwrap();
        let resp = client::query(&env.url(), &der, true).await.unwrap();
        let v = verify_response_for(&resp, &env.issuing, leaf, &opts).unwrap();
        assert_eq!(v.status, CertStatus::good());
        let r = v.range.expect("a range response");
        assert!(r.contains(serial_u64(leaf)));
        ranges.push((r, resp));
    }
    assert!(
        ranges.windows(2).all(|w| w[0] == w[1]),
        "one signed object for the run"
    );
    let (range, _) = &ranges[0];
    assert_eq!(
        (range.start, range.end),
        (serial_u64(&env.leaves[2]), Some(serial_u64(&env.leaves[5])))
    );
    // Revoked serials always get their own response.
    let revoked = &env.leaves[1];
    let der = request(&env.issuing, revoked, HashAlgorithm::Sha256)
        .range_opt_in()
        .unwrap()
        .to_der()
        .unwrap();
    let resp = client::query(&env.url(), &der, false).await.unwrap();
    let v = verify_response_for(&resp, &env.issuing, revoked, &opts).unwrap();
    assert!(matches!(v.status, CertStatus::Revoked(_)));
    assert_eq!(v.range, None);
    // Never good for a serial never issued, even for an opted-in client.
    let id = IssuerHashes::from_certificate(&env.issuing)
        .unwrap()
        .cert_id(HashAlgorithm::Sha256, serial_from_u64(4000).unwrap())
        .unwrap();
    let der = RequestBuilder::new()
        .cert_id(id)
        .range_opt_in()
        .unwrap()
        .to_der()
        .unwrap();
    let (_, body) = post(&env, &der).await;
    assert_eq!(
        body,
        OcspResponseStatus::Unauthorized.unsuccessful_response()
    );
    // The placeholder range response does not satisfy a client that did not opt in.
    let (_, resp) = &ranges[0];
    let mut strict = VerifyOptions::at(now);
    strict.accept_ranges = false;
    assert_eq!(
        verify_response_for(resp, &env.issuing, &env.leaves[3], &strict),
        Err(VerifyError::NoMatchingResponse)
    );
    // A revocation inside the run splits it (visible after a poll).
    let ca = Ca::new(env.store.clone());
    ca.revoke(Some("issuing"), &serial_hex(&env.leaves[3]), None, now)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let leaf = &env.leaves[2];
        let der = request(&env.issuing, leaf, HashAlgorithm::Sha256)
            .range_opt_in()
            .unwrap()
            .to_der()
            .unwrap();
        let resp = client::query(&env.url(), &der, false).await.unwrap();
        let v = verify_response_for(&resp, &env.issuing, leaf, &opts).unwrap();
        if v.range.is_some_and(|r| r.end == Some(serial_u64(leaf))) {
            break;
        }
        assert!(Instant::now() < deadline, "range not split: {:?}", v.range);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chain_bundles_and_signer_variants() {
    let env = start(2, |c| {
        c.ocsp.signer_algorithms = vec!["id-ML-DSA-65".into()]
    })
    .await;
    let now = SystemTime::now();
    let leaf = &env.leaves[0];
    // Chain bundle: leaf (signed by "issuing") and "issuing" (signed by the root).
    let der = request(&env.issuing, leaf, HashAlgorithm::Sha256)
        .include_chain()
        .unwrap()
        .to_der()
        .unwrap();
    let resp = client::query(&env.url(), &der, false).await.unwrap();
    let chain = [leaf.clone(), env.issuing.clone(), env.root.clone()];
    let statuses = verify_bundle(&resp, &chain, &VerifyOptions::at(now)).unwrap();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.iter().all(|s| s.status == CertStatus::good()));
    // The same with a nonce: the leaf element is signed fresh and echoes it.
    let nonce = [7u8; 32];
    let der = request(&env.issuing, &env.leaves[1], HashAlgorithm::Sha256)
        .nonce(&Nonce::new(&nonce).unwrap())
        .unwrap()
        .include_chain()
        .unwrap()
        .to_der()
        .unwrap();
    let resp = client::query(&env.url(), &der, false).await.unwrap();
    let mut opts = VerifyOptions::at(now);
    opts.nonce = Some(&nonce);
    opts.require_nonce = true;
    let chain = [env.leaves[1].clone(), env.issuing.clone(), env.root.clone()];
    let statuses = verify_bundle(&resp, &chain, &opts).unwrap();
    assert!(matches!(statuses[0].status, CertStatus::Revoked(_)));
    assert!(statuses[0].nonce_echoed);
    // Signer variants: the default is the CA key (P-256) ...
    let der = request(&env.issuing, leaf, HashAlgorithm::Sha256)
        .to_der()
        .unwrap();
    let resp = client::query(&env.url(), &der, true).await.unwrap();
    let v = verify_response_for(&resp, &env.issuing, leaf, &VerifyOptions::at(now)).unwrap();
    assert_eq!(v.signer, SignerKind::Issuer);
    let p256_len = resp.len();
    // ... ML-DSA-65 when the client prefers it (a delegated responder of the CA).
    let mldsa = Algorithm::from_name("id-ML-DSA-65").unwrap();
    let pref = PreferredSignatureAlgorithm {
        sig_identifier: x509_cert::spki::AlgorithmIdentifierOwned {
            oid: mldsa.oid(),
            parameters: None,
        },
        pub_key_alg_identifier: None,
    };
    let der = request(&env.issuing, leaf, HashAlgorithm::Sha256)
        .preferred_signature_algorithms(&[pref])
        .unwrap()
        .to_der()
        .unwrap();
    let resp = client::query(&env.url(), &der, true).await.unwrap();
    let v = verify_response_for(&resp, &env.issuing, leaf, &VerifyOptions::at(now)).unwrap();
    assert_eq!(v.signer, SignerKind::Delegated);
    assert_eq!(v.status, CertStatus::good());
    let oid_der = mldsa.oid().to_der().unwrap();
    assert!(
        resp.windows(oid_der.len()).any(|w| w == oid_der.as_slice()),
        "signed with ML-DSA-65"
    );
    eprintln!(
        "response sizes: P-256 {p256_len} B, ML-DSA-65 delegated (with certificate) {} B",
        resp.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_is_visible_within_a_second() {
    let env = start(3, |_| {}).await;
    let leaf = &env.leaves[2];
    let der = request(&env.issuing, leaf, HashAlgorithm::Sha1)
        .to_der()
        .unwrap();
    let status = |resp: &[u8]| {
        verify_response_for(
            resp,
            &env.issuing,
            leaf,
            &VerifyOptions::at(SystemTime::now()),
        )
        .unwrap()
        .status
    };
    let resp = client::query(&env.url(), &der, true).await.unwrap();
    assert_eq!(status(&resp), CertStatus::good());
    // "Another process": a second handle on the same database.
    let other = Arc::new(
        Store::open(&StoreLocation::sqlite_in(env.dir.path()))
            .await
            .unwrap(),
    );
    let started = Instant::now();
    Ca::new(other)
        .revoke(
            None,
            &serial_hex(leaf),
            Some("superseded"),
            SystemTime::now(),
        )
        .await
        .unwrap();
    loop {
        let resp = client::query(&env.url(), &der, true).await.unwrap();
        if let CertStatus::Revoked(r) = status(&resp) {
            assert_eq!(r.revocation_reason, Some(CrlReason::Superseded));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "revocation not visible after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("revocation visible after {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_miss_is_signed_once_under_concurrency() {
    let env = Arc::new(start(1, |c| c.ocsp.presign = false).await);
    let before = env.responder.signatures();
    let der = request(&env.issuing, &env.leaves[0], HashAlgorithm::Sha256)
        .to_der()
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (env, der) = (env.clone(), der.clone());
        tasks.push(tokio::spawn(async move {
            client::query(&env.url(), &der, i % 2 == 0).await.unwrap()
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        bodies.push(t.await.unwrap());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "one response for all"
    );
    assert_eq!(
        env.responder.signatures() - before,
        1,
        "exactly one signature"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_the_matching_status() {
    let env = start(1, |_| {}).await;
    let malformed = OcspResponseStatus::MalformedRequest.unsuccessful_response();
    let unauthorized = OcspResponseStatus::Unauthorized.unsuccessful_response();
    // Garbage POST: undecodable DER → 400 malformedRequest.
    let (s, b) = post(&env, b"\x30\x03garbage").await;
    assert_eq!((s, b.as_slice()), (StatusCode::BAD_REQUEST, &malformed[..]));
    let (s, b) = post(&env, b"").await;
    assert_eq!((s, b.as_slice()), (StatusCode::BAD_REQUEST, &malformed[..]));
    // Bad base64 GET.
    let r = Client::plain()
        .send(
            Method::GET,
            &format!("{}/ocsp/M%%%", env.url()),
            &[],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(&r.body[..], &malformed[..]);
    let r = Client::plain()
        .send(
            Method::GET,
            &format!("{}/not-base64!", env.url()),
            &[],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(&r.body[..], &malformed[..]);
    // Nonces of 0 and 129 octets: malformedRequest (RFC 9654 allows 1..=128).
    for len in [0usize, 129] {
        let value = der::asn1::OctetString::new(vec![1u8; len])
            .unwrap()
            .to_der()
            .unwrap();
        let ext = x509_cert::ext::Extension {
            extn_id: oid::OCSP_NONCE,
            critical: false,
            extn_value: der::asn1::OctetString::new(value).unwrap(),
        };
        let der = request(&env.issuing, &env.leaves[0], HashAlgorithm::Sha256)
            .extension(ext)
            .to_der()
            .unwrap();
        let (s, b) = post(&env, &der).await;
        assert_eq!((s, b.as_slice()), (StatusCode::OK, &malformed[..]), "{len}");
    }
    // An issuer not served: unauthorized.
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let key = SigningKey::generate(p256(), &mut rng).unwrap();
    let stranger = secdispatch_pqpki::ca::self_signed_root(
        &key,
        x509_cert::name::Name::from_str("CN=Stranger").unwrap(),
        SystemTime::now(),
        SystemTime::now() + Duration::from_secs(86_400),
        None,
        None,
        &mut rng,
    )
    .unwrap();
    let der = request(&stranger, &env.leaves[0], HashAlgorithm::Sha256)
        .to_der()
        .unwrap();
    let (s, b) = post(&env, &der).await;
    assert_eq!((s, b.as_slice()), (StatusCode::OK, &unauthorized[..]));
    // A CertID hashed with an algorithm we do not answer for (MD5): unauthorized.
    let mut id = cert_id_for(&env.issuing, &env.leaves[0], HashAlgorithm::Sha1).unwrap();
    id.hash_algorithm.oid = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
    let der = RequestBuilder::new().cert_id(id).to_der().unwrap();
    let (s, b) = post(&env, &der).await;
    assert_eq!((s, b.as_slice()), (StatusCode::OK, &unauthorized[..]));
    // Oversized POST (beyond ocsp.max_request_bytes): malformedRequest.
    let (s, b) = post(&env, &vec![0x30; 20_000]).await;
    assert_eq!(b.as_slice(), &malformed[..], "{s}");
    // Another method.
    let r = Client::plain()
        .send(Method::PUT, &env.url(), &[], vec![])
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    // And the responder still answers.
    let der = request(&env.issuing, &env.leaves[0], HashAlgorithm::Sha256)
        .to_der()
        .unwrap();
    let resp = client::query(&env.url(), &der, true).await.unwrap();
    let v = verify_response(
        &resp,
        &env.issuing,
        &[1],
        &VerifyOptions::at(SystemTime::now()),
    )
    .unwrap();
    assert_eq!(v.status, CertStatus::good());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_serial_policies_never_say_good() {
    for (policy, expect) in [("unknown", "unknown"), ("revoked-extended", "revoked")] {
        let env = start(1, |c| {
            c.ocsp.unknown_serial = toml_value(policy);
        })
        .await;
        let id = IssuerHashes::from_certificate(&env.issuing)
            .unwrap()
            .cert_id(HashAlgorithm::Sha256, serial_from_u64(777).unwrap())
            .unwrap();
        let der = RequestBuilder::new().cert_id(id).to_der().unwrap();
        let resp = client::query(&env.url(), &der, false).await.unwrap();
        let v = verify_response(
            &resp,
            &env.issuing,
            &[3, 9],
            &VerifyOptions::at(SystemTime::now()),
        )
        .unwrap();
        match expect {
            "unknown" => assert_eq!(v.status, CertStatus::unknown()),
            _ => {
                assert_eq!(v.status, CertStatus::not_issued().unwrap());
                assert!(v.extended_revoke);
            }
        }
    }
}

fn toml_value(policy: &str) -> secdispatch_server::ocsp::UnknownSerial {
    let c = Config::parse(&format!("[ocsp]\nunknown_serial = \"{policy}\"\n"), "t").unwrap();
    c.ocsp.unknown_serial
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_has_rfc9919_caching_headers_and_304() {
    let env = start(1, |_| {}).await;
    let der = request(&env.issuing, &env.leaves[0], HashAlgorithm::Sha256)
        .to_der()
        .unwrap();
    // Any path prefix, and the `//` of AIA URLs ending in '/'.
    let url = client::get_url(&format!("{}/some/prefix/", env.url()), &der);
    let r = Client::plain()
        .send(Method::GET, &url, &[], vec![])
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    let h = |n: &str| {
        r.headers
            .get(n)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(h("content-type"), "application/ocsp-response");
    let cc = h("cache-control");
    assert!(
        cc.ends_with("public, no-transform, must-revalidate") && cc.starts_with("max-age="),
        "{cc}"
    );
    let max_age: u64 = cc["max-age=".len()..cc.find(',').unwrap()].parse().unwrap();
    assert!(max_age > 20 * 3600 && max_age <= 24 * 3600, "{max_age}");
    let etag = h("etag");
    assert!(etag.starts_with('"') && etag.len() == 66, "{etag}");
    assert_eq!(etag, secdispatch_ocsp::etag(&r.body));
    assert!(h("expires").ends_with(" GMT") && h("last-modified").ends_with(" GMT"));
    // 304 on If-None-Match, with the same validators.
    let r2 = Client::plain()
        .send(
            Method::GET,
            &url,
            &[("if-none-match", etag.as_str())],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(r2.status, StatusCode::NOT_MODIFIED);
    assert!(r2.body.is_empty());
    assert_eq!(r2.headers.get("etag").unwrap().to_str().unwrap(), etag);
    // Unescaped base64 and base64url variants of the same request are answered the same.
    let b64 = base64_std(&der);
    for path in [
        b64.clone(),
        b64.replace('+', "-").replace('/', "_").replace('=', ""),
    ] {
        let r3 = Client::plain()
            .send(Method::GET, &format!("{}//{path}", env.url()), &[], vec![])
            .await
            .unwrap();
        assert_eq!(r3.status, StatusCode::OK, "{path}");
        assert_eq!(r3.body, r.body);
    }
}

fn base64_std(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}
