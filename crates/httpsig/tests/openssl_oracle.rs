//! Cross-check against an independent implementation: the OpenSSL command line.
//!
//! * every RFC signature verifies with `openssl` over our signature base;
//! * signatures we make over a fresh base verify with `openssl` (all six algorithms);
//! * signatures `openssl` makes verify with our keys.
//!
//! Skips with a printed reason when `openssl` is not installed, unless
//! `SECDISPATCH_REQUIRE_SERVICES=1`, in which case a missing `openssl` fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use secdispatch_httpsig::alg::Algorithm;
use secdispatch_httpsig::fields::parse_signature;

fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("openssl is required (SECDISPATCH_REQUIRE_SERVICES=1) but was not found");
        }
        println!("skipping OpenSSL cross-check: `openssl` is not installed");
    }
    ok
}

fn run(args: &[&str]) -> (bool, Vec<u8>) {
    let out = Command::new("openssl").args(args).output().unwrap();
    (out.status.success(), out.stdout)
}

/// DER-encode a raw ECDSA r‖s signature for OpenSSL.
fn raw_to_der(sig: &[u8]) -> Vec<u8> {
    fn int(b: &[u8]) -> Vec<u8> {
        let b: Vec<u8> = b.iter().copied().skip_while(|x| *x == 0).collect();
        let mut v = if b.first().is_none_or(|x| x & 0x80 != 0) {
            vec![0]
        } else {
            vec![]
        };
        v.extend(b);
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let (r, s) = sig.split_at(sig.len() / 2);
    let mut body = int(r);
    body.extend(int(s));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

fn der_to_raw(der: &[u8], n: usize) -> Vec<u8> {
    let mut i = 2;
    let mut out = Vec::new();
    for _ in 0..2 {
        let len = der[i + 1] as usize;
        let v = &der[i + 2..i + 2 + len];
        let v: Vec<u8> = v.iter().copied().skip_while(|x| *x == 0).collect();
        out.extend(std::iter::repeat_n(0, n - v.len()));
        out.extend(v);
        i += 2 + len;
    }
    out
}

/// Ask OpenSSL whether `sig` is a valid `alg` signature of `base` under `keyid`.
fn openssl_verifies(dir: &Path, keyid: &str, alg: Algorithm, base: &[u8], sig: &[u8]) -> bool {
    let base_p = dir.join("base.txt");
    let sig_p = dir.join("sig.bin");
    std::fs::write(&base_p, base).unwrap();
    let pub_p = vector_path(&format!("{keyid}.pub.pem"));
    let (b, s, k) = (
        base_p.to_str().unwrap(),
        sig_p.to_str().unwrap(),
        pub_p.to_str().unwrap(),
    );
    match alg {
        Algorithm::RsaPssSha512 => {
            std::fs::write(&sig_p, sig).unwrap();
            run(&[
                "dgst",
                "-sha512",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:64",
                "-verify",
                k,
                "-signature",
                s,
                b,
            ])
            .0
        }
        Algorithm::RsaV15Sha256 => {
            std::fs::write(&sig_p, sig).unwrap();
            let key_p = vector_path(&format!("{keyid}.key.pem"));
            run(&[
                "dgst",
                "-sha256",
                "-prverify",
                key_p.to_str().unwrap(),
                "-signature",
                s,
                b,
            ])
            .0
        }
        Algorithm::EcdsaP256Sha256 | Algorithm::EcdsaP384Sha384 => {
            std::fs::write(&sig_p, raw_to_der(sig)).unwrap();
            run(&["dgst", "-sha256", "-verify", k, "-signature", s, b]).0
        }
        Algorithm::Ed25519 => {
            std::fs::write(&sig_p, sig).unwrap();
            run(&[
                "pkeyutl", "-verify", "-pubin", "-inkey", k, "-rawin", "-in", b, "-sigfile", s,
            ])
            .0
        }
        Algorithm::HmacSha256 => {
            let hex: String = hmac_secret().iter().map(|x| format!("{x:02x}")).collect();
            let (ok, out) = run(&[
                "dgst",
                "-sha256",
                "-mac",
                "HMAC",
                "-macopt",
                &format!("hexkey:{hex}"),
                "-binary",
                b,
            ]);
            ok && out == sig
        }
    }
}

const IDS: [&str; 12] = [
    "b21",
    "b22",
    "b23",
    "b24",
    "b25",
    "b26",
    "b3_ttrp",
    "b4_transform",
    "s3_2_sig1",
    "s2_4_reqres1",
    "s2_4_reqres2",
    "s4_3_proxy_sig",
];

fn keyid_alg(id: &str) -> (String, Algorithm) {
    let (_, input) = secdispatch_httpsig::fields::parse_signature_input(&header_value(&format!(
        "{id}.signature-input.txt"
    )))
    .unwrap()
    .remove(0);
    let keyid = input.params.get_keyid().unwrap().to_owned();
    let alg = signing_key(&keyid).algorithm();
    (keyid, alg)
}

#[test]
fn rfc_signatures_verify_with_openssl() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for id in IDS {
        let (keyid, alg) = keyid_alg(id);
        let base = read(&format!("{id}.base.txt"));
        let sig = parse_signature(&header_value(&format!("{id}.signature.txt")))
            .unwrap()
            .remove(0)
            .1;
        assert!(
            openssl_verifies(dir.path(), &keyid, alg, base.as_bytes(), &sig),
            "{id}"
        );
        // And a flipped bit is refused by OpenSSL too (the oracle is not vacuous).
        let mut bad = base.clone().into_bytes();
        bad[0] ^= 1;
        assert!(
            !openssl_verifies(dir.path(), &keyid, alg, &bad, &sig),
            "{id} tampered"
        );
    }
}

#[test]
fn our_signatures_verify_with_openssl() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base = b"\"@method\": GET\n\"@signature-params\": (\"@method\");created=1700000000";
    for (keyid, alg) in [
        ("test-key-rsa-pss", Algorithm::RsaPssSha512),
        ("test-key-rsa", Algorithm::RsaV15Sha256),
        ("test-key-ecc-p256", Algorithm::EcdsaP256Sha256),
        ("test-key-ed25519", Algorithm::Ed25519),
        ("test-shared-secret", Algorithm::HmacSha256),
    ] {
        let k = signing_key(keyid);
        assert_eq!(k.algorithm(), alg);
        let sig = k.sign(base).unwrap();
        assert!(
            openssl_verifies(dir.path(), keyid, alg, base, &sig),
            "{keyid}"
        );
    }
}

#[test]
fn openssl_signatures_verify_with_ours() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let base_p = dir.path().join("base.txt");
    let sig_p = dir.path().join("sig.bin");
    let base = read("b23.base.txt");
    std::fs::write(&base_p, &base).unwrap();
    let (b, s) = (base_p.to_str().unwrap(), sig_p.to_str().unwrap());
    let key = |k: &str| {
        vector_path(&format!("{k}.key.pem"))
            .to_str()
            .unwrap()
            .to_owned()
    };

    assert!(
        run(&[
            "dgst",
            "-sha512",
            "-sigopt",
            "rsa_padding_mode:pss",
            "-sigopt",
            "rsa_pss_saltlen:64",
            "-sign",
            &key("test-key-rsa-pss"),
            "-out",
            s,
            b
        ])
        .0
    );
    assert!(
        verifying_key("test-key-rsa-pss").verify(base.as_bytes(), &std::fs::read(&sig_p).unwrap())
    );

    assert!(
        run(&[
            "dgst",
            "-sha256",
            "-sign",
            &key("test-key-rsa"),
            "-out",
            s,
            b
        ])
        .0
    );
    let ours = signing_key("test-key-rsa").sign(base.as_bytes()).unwrap();
    assert_eq!(
        std::fs::read(&sig_p).unwrap(),
        ours,
        "PKCS#1 v1.5 is deterministic"
    );

    assert!(
        run(&[
            "dgst",
            "-sha256",
            "-sign",
            &key("test-key-ecc-p256"),
            "-out",
            s,
            b
        ])
        .0
    );
    let raw = der_to_raw(&std::fs::read(&sig_p).unwrap(), 32);
    assert!(verifying_key("test-key-ecc-p256").verify(base.as_bytes(), &raw));

    assert!(
        run(&[
            "pkeyutl",
            "-sign",
            "-inkey",
            &key("test-key-ed25519"),
            "-rawin",
            "-in",
            b,
            "-out",
            s
        ])
        .0
    );
    let ours = signing_key("test-key-ed25519")
        .sign(base.as_bytes())
        .unwrap();
    assert_eq!(
        std::fs::read(&sig_p).unwrap(),
        ours,
        "Ed25519 is deterministic"
    );
}
