//! Interoperability with the `openssl` command: every certificate the CA produces parses with
//! `openssl x509 -text`; classical chains, CSRs and CRLs verify with `openssl verify`,
//! `openssl req -verify` and `openssl crl -verify`; OpenSSL-generated keys load.
//!
//! Skips with a printed reason when `openssl` is absent, unless SECDISPATCH_REQUIRE_SERVICES=1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use std::path::Path;
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use common::TestRng;
use secdispatch_pqpki::ca::{self, CertificateAuthority, CsrTerms, IssueRequest};
use secdispatch_pqpki::cert::{self, Profile, SubjectAltNames};
use secdispatch_pqpki::crl::{self, RevokedEntry};
use secdispatch_pqpki::{Algorithm, SigningKey, csr};
use x509_cert::name::Name;

fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("openssl is required (SECDISPATCH_REQUIRE_SERVICES=1) but not runnable");
        }
        eprintln!("skipping: the openssl command is not available");
    }
    ok
}

fn run(args: &[&str], dir: &Path) -> (bool, String) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), text)
}

fn now() -> SystemTime {
    // OpenSSL checks validity against the real clock: use a window around it.
    SystemTime::now()
}

const DAY: Duration = Duration::from_secs(86_400);

fn pki(alg: Algorithm, dir: &Path, seed: u64) {
    let mut rng = TestRng(seed);
    let root_key = SigningKey::generate(alg, &mut rng).unwrap();
    let root = ca::self_signed_root(
        &root_key,
        Name::from_str("CN=Interop Root,O=secdispatch").unwrap(),
        now() - DAY,
        now() + 30 * DAY,
        Some(1),
        None,
        &mut rng,
    )
    .unwrap();
    let root_ca = CertificateAuthority::new(root.clone(), &root_key).unwrap();
    let int_key = SigningKey::generate(alg, &mut rng).unwrap();
    let int = root_ca
        .issue(
            &IssueRequest::new(
                Name::from_str("CN=Interop Intermediate").unwrap(),
                int_key.public_key(),
                Profile::Intermediate { path_len: Some(0) },
                now() - DAY,
                now() + 20 * DAY,
            )
            .unwrap(),
            &mut rng,
        )
        .unwrap();
    let int_ca = CertificateAuthority::new(int.clone(), &int_key).unwrap();
    let leaf_key = SigningKey::generate(alg, &mut rng).unwrap();
    let req = csr::build(
        &leaf_key,
        Name::from_str("CN=interop.test").unwrap(),
        &SubjectAltNames::parse(["interop.test", "IP:127.0.0.1"]).unwrap(),
        &mut rng,
    )
    .unwrap();
    let leaf = int_ca
        .issue_from_csr(
            &req,
            &CsrTerms {
                ocsp_url: Some("http://127.0.0.1/ocsp".into()),
                ..CsrTerms::new(Profile::Server, now() - DAY, now() + 10 * DAY)
            },
            &mut rng,
        )
        .unwrap();
    let revoked = RevokedEntry {
        serial: vec![0x11, 0x22],
        revoked_at: now() - DAY,
        reason: Some(crl::reason_from_name("superseded").unwrap()),
    };
    let list = int_ca
        .crl(&[revoked], now() - DAY, Some(now() + DAY), 7, &mut rng)
        .unwrap();
    std::fs::write(dir.join("root.pem"), cert::to_pem(&root).unwrap()).unwrap();
    std::fs::write(dir.join("int.pem"), cert::to_pem(&int).unwrap()).unwrap();
    std::fs::write(dir.join("leaf.pem"), cert::to_pem(&leaf).unwrap()).unwrap();
    std::fs::write(dir.join("leaf.csr"), csr::to_pem(&req).unwrap()).unwrap();
    std::fs::write(dir.join("int.crl"), crl::to_pem(&list).unwrap()).unwrap();
    std::fs::write(
        dir.join("leaf.key"),
        leaf_key.to_pkcs8_pem().unwrap().as_bytes(),
    )
    .unwrap();
}

#[test]
fn every_algorithm_certificate_parses_with_openssl_x509_text() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = TestRng(1);
    for alg in Algorithm::all() {
        let key = SigningKey::generate(alg, &mut rng).unwrap();
        let c = ca::self_signed_root(
            &key,
            Name::from_str("CN=Parse Test").unwrap(),
            now() - DAY,
            now() + DAY,
            None,
            None,
            &mut rng,
        )
        .unwrap();
        let p = dir.path().join("c.pem");
        std::fs::write(&p, cert::to_pem(&c).unwrap()).unwrap();
        let (ok, text) = run(&["x509", "-in", "c.pem", "-noout", "-text"], dir.path());
        assert!(ok, "{alg}: {text}");
        assert!(text.contains("CN = Parse Test"), "{alg}: {text}");
        assert!(text.contains("Certificate Sign"), "{alg}: {text}");
        let (ok, text) = run(&["asn1parse", "-in", "c.pem"], dir.path());
        assert!(ok, "{alg}: {text}");
    }
}

#[test]
fn classical_chains_verify_with_openssl() {
    if !openssl_available() {
        return;
    }
    for (i, name) in [
        "ecdsa-p256-sha256",
        "ecdsa-p384-sha384",
        "ecdsa-p521-sha512",
        "ed25519",
        "rsa2048-pss-sha256",
        "rsa3072-pkcs1-sha256",
    ]
    .iter()
    .enumerate()
    {
        let dir = tempfile::tempdir().unwrap();
        pki(
            Algorithm::from_name(name).unwrap(),
            dir.path(),
            100 + i as u64,
        );
        let (ok, text) = run(
            &[
                "verify",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "int.pem",
                "-purpose",
                "sslserver",
                "-verify_hostname",
                "interop.test",
                "leaf.pem",
            ],
            dir.path(),
        );
        assert!(ok && text.contains("leaf.pem: OK"), "{name}: {text}");
        let (ok, text) = run(
            &[
                "verify",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "int.pem",
                "-verify_hostname",
                "other.test",
                "leaf.pem",
            ],
            dir.path(),
        );
        assert!(!ok, "{name}: hostname mismatch must fail: {text}");
        let (ok, text) = run(&["req", "-in", "leaf.csr", "-verify", "-noout"], dir.path());
        assert!(ok, "{name}: {text}");
        let (ok, text) = run(
            &[
                "crl", "-in", "int.crl", "-CAfile", "int.pem", "-verify", "-noout", "-text",
            ],
            dir.path(),
        );
        assert!(
            ok && text.contains("Superseded") && text.contains("1122"),
            "{name}: {text}"
        );
        let (ok, text) = run(&["pkey", "-in", "leaf.key", "-noout"], dir.path());
        assert!(ok, "{name}: our PKCS#8 loads in OpenSSL: {text}");
    }
}

#[test]
fn pq_chains_parse_with_openssl() {
    if !openssl_available() {
        return;
    }
    for (i, name) in [
        "id-ML-DSA-44",
        "id-MLDSA65-ECDSA-P256-SHA512",
        "id-MLDSA87-Ed448-SHAKE256",
    ]
    .iter()
    .enumerate()
    {
        let dir = tempfile::tempdir().unwrap();
        pki(
            Algorithm::from_name(name).unwrap(),
            dir.path(),
            200 + i as u64,
        );
        for f in ["root.pem", "int.pem", "leaf.pem"] {
            let (ok, text) = run(&["x509", "-in", f, "-noout", "-text"], dir.path());
            assert!(ok, "{name} {f}: {text}");
        }
        let (ok, text) = run(&["x509", "-in", "leaf.pem", "-noout", "-text"], dir.path());
        assert!(
            ok && text.contains("interop.test")
                && text.contains("TLS Web Server Authentication")
                && text.contains("OCSP - URI:http://127.0.0.1/ocsp"),
            "{name}: {text}"
        );
        let oid = Algorithm::from_name(name).unwrap().oid().to_string();
        assert!(
            text.contains(&oid),
            "{name}: signature algorithm OID {oid} shown"
        );
        let (ok, text) = run(&["crl", "-in", "int.crl", "-noout", "-text"], dir.path());
        assert!(ok, "{name}: {text}");
    }
}

#[test]
fn openssl_generated_keys_load() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (args, alg) in [
        (
            vec![
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "k.pem",
            ],
            "ecdsa-p256-sha256",
        ),
        (
            vec![
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "k.pem",
            ],
            "ecdsa-p384-sha384",
        ),
        (
            vec!["genpkey", "-algorithm", "ED25519", "-out", "k.pem"],
            "ed25519",
        ),
        (
            vec![
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "k.pem",
            ],
            "rsa2048-pss-sha256",
        ),
    ] {
        let (ok, text) = run(&args, dir.path());
        assert!(ok, "{text}");
        let pem = std::fs::read_to_string(dir.path().join("k.pem")).unwrap();
        let k = SigningKey::from_pkcs8_pem(&pem).unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(k.algorithm().name(), alg);
        let (ok, text) = run(
            &["pkey", "-in", "k.pem", "-pubout", "-out", "p.pem"],
            dir.path(),
        );
        assert!(ok, "{text}");
        let spki = std::fs::read_to_string(dir.path().join("p.pem")).unwrap();
        assert_eq!(
            &secdispatch_pqpki::VerifyingKey::from_spki_pem(&spki).unwrap(),
            k.public_key()
        );
    }
}
