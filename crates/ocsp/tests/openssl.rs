//! Interop with OpenSSL: fixtures made by `openssl ocsp` (tests/data, see PROVENANCE) are
//! decoded and verified; our responses are checked by `openssl ocsp -respin` (skipped with a
//! printed reason when openssl is absent, unless SECDISPATCH_REQUIRE_SERVICES=1).
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::*;
use der::{Decode, Encode};
use secdispatch_ocsp::*;
use secdispatch_pqpki::cert::{self, Profile};
use x509_cert::Certificate;
use x509_cert::ext::pkix::crl::CrlReason;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn pem(name: &str) -> Certificate {
    cert::from_pem(&String::from_utf8(data(name)).unwrap()).unwrap()
}

fn this_update(resp: &[u8]) -> std::time::SystemTime {
    let r = OcspResponse::from_der(resp).unwrap();
    let b = BasicOcspResponse::from_der(r.response_bytes.unwrap().response.as_bytes()).unwrap();
    b.tbs_response_data.responses[0]
        .this_update
        .to_system_time()
}

#[test]
fn openssl_requests_decode_and_match_our_cert_ids() {
    let ca = pem("ca.pem");
    let leaf = pem("leaf.pem");
    let mut index = IssuerIndex::new();
    index.insert(&ca, ()).unwrap();
    for (file, alg, nonce) in [
        ("req_sha1_nonce.der", HashAlgorithm::Sha1, true),
        ("req_sha256.der", HashAlgorithm::Sha256, false),
    ] {
        let der = data(file);
        let p = decode_request(&der, &RequestPolicy::default()).unwrap();
        assert_eq!(
            p.request.to_der().unwrap(),
            der,
            "{file} re-encodes identically"
        );
        let id = p.cert_ids().next().unwrap();
        assert_eq!(*id, cert_id_for(&ca, &leaf, alg).unwrap(), "{file}");
        let hit = index.lookup(id).unwrap();
        assert_eq!((hit.hash, hit.serial), (alg, &[0x99][..]));
        assert_eq!(p.nonce.is_some(), nonce);
        if let Some(n) = &p.nonce {
            // OpenSSL sends the RFC 9654 form: an OCTET STRING inside extnValue.
            assert_eq!(n.extn_value()[0], 0x04);
            assert_eq!(n.value().len(), 16);
        }
    }
    let p = decode_request(&data("req_unknown.der"), &RequestPolicy::default()).unwrap();
    assert_eq!(
        index.lookup(p.cert_ids().next().unwrap()).unwrap().serial,
        &[0x77]
    );
}

#[test]
fn openssl_signed_request_decodes() {
    let der = data("req_signed.der");
    let strict = RequestPolicy {
        require_signature: true,
        ..RequestPolicy::default()
    };
    let p = decode_request(&der, &strict).unwrap();
    assert_eq!(p.request.to_der().unwrap(), der);
    assert!(p.request.tbs_request.requestor_name.is_some());
    let sig = p.request.optional_signature.as_ref().unwrap();
    assert_eq!(sig.certs.as_ref().unwrap().len(), 1);
    // The same request unsigned is refused with sigRequired under that policy.
    let unsigned = data("req_sha256.der");
    assert_eq!(
        decode_request(&unsigned, &strict).unwrap_err().status(),
        OcspResponseStatus::SigRequired
    );
}

#[test]
fn openssl_responses_decode_and_verify() {
    let ca = pem("ca.pem");
    let leaf = pem("leaf.pem");
    let revoked = pem("revoked.pem");
    // Good, CA-signed byName, SHA-1 CertID, nonce echoed, CA cert attached.
    let resp = data("resp_good_ca_byname_nonce.der");
    assert_eq!(
        OcspResponse::from_der(&resp).unwrap().to_der().unwrap(),
        resp
    );
    let req = decode_request(&data("req_sha1_nonce.der"), &RequestPolicy::default()).unwrap();
    let nonce = req.nonce.unwrap();
    let mut o = VerifyOptions::at(this_update(&resp));
    o.nonce = Some(nonce.value());
    o.require_nonce = true;
    let v = verify_response_for(&resp, &ca, &leaf, &o).unwrap();
    assert_eq!(
        (v.status, v.signer),
        (CertStatus::good(), SignerKind::Issuer)
    );
    assert!(v.nonce_echoed);
    // Good, delegated responder byKey, SHA-256 CertID.
    let resp = data("resp_good_delegated_bykey_sha256.der");
    let v = verify_response_for(&resp, &ca, &leaf, &VerifyOptions::at(this_update(&resp))).unwrap();
    assert_eq!(
        (v.status, v.signer),
        (CertStatus::good(), SignerKind::Delegated)
    );
    // Revoked with keyCompromise, byKey, no certs.
    let resp = data("resp_revoked_ca_bykey.der");
    let v =
        verify_response_for(&resp, &ca, &revoked, &VerifyOptions::at(this_update(&resp))).unwrap();
    match v.status {
        CertStatus::Revoked(ri) => {
            assert_eq!(ri.revocation_reason, Some(CrlReason::KeyCompromise))
        }
        s => panic!("{s:?}"),
    }
    // The revoked response says nothing about the good leaf.
    assert_eq!(
        verify_response_for(&resp, &ca, &leaf, &VerifyOptions::at(this_update(&resp))).unwrap_err(),
        VerifyError::NoMatchingResponse
    );
    // Unknown.
    let resp = data("resp_unknown_ca.der");
    let v = verify_response(&resp, &ca, &[0x77], &VerifyOptions::at(this_update(&resp))).unwrap();
    assert_eq!(v.status, CertStatus::unknown());
}

/// `openssl` if it runs; otherwise skip (or fail when services are required).
fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("openssl required (SECDISPATCH_REQUIRE_SERVICES=1) but not runnable");
        }
        eprintln!("skipping: openssl not found");
    }
    ok
}

fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

struct Case {
    ca_alg: &'static str,
    delegated: Option<(&'static str, Profile)>,
    by_name: bool,
    sha256: bool,
    revoked: bool,
    vafile: bool,
}

fn run_case(c: &Case) -> String {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // OpenSSL checks validity against the real clock: build around it.
    let t = std::time::SystemTime::now();
    let pki = Pki::new_at(c.ca_alg, "Our OCSP CA", t);
    let leaf = pki.issue(&key("ed25519"), "leaf", Profile::Client, 0x99);
    std::fs::write(d.join("ca.pem"), cert::to_pem(&pki.ca).unwrap()).unwrap();
    std::fs::write(d.join("leaf.pem"), cert::to_pem(&leaf).unwrap()).unwrap();
    let mut args = vec!["ocsp"];
    if c.sha256 {
        args.push("-sha256");
    }
    args.extend([
        "-issuer", "ca.pem", "-cert", "leaf.pem", "-reqout", "req.der",
    ]);
    openssl(d, &args);
    let req = decode_request(
        &std::fs::read(d.join("req.der")).unwrap(),
        &RequestPolicy::default(),
    )
    .unwrap();
    let mut index = IssuerIndex::new();
    index.insert(&pki.ca, ()).unwrap();
    let id = req.cert_ids().next().unwrap();
    index.lookup(id).unwrap();
    let mut signer = match c.delegated {
        None => ResponseSigner::new(pki.ca_key.clone()).unwrap(),
        Some((alg, profile)) => {
            let rk = Arc::new(key(alg));
            let rc = pki.issue(&rk, "responder", profile, 0x1000);
            std::fs::write(d.join("responder.pem"), cert::to_pem(&rc).unwrap()).unwrap();
            ResponseSigner::delegated(rk, rc).unwrap()
        }
    };
    if c.by_name {
        signer = signer.by_name(pki.ca.tbs_certificate().subject().clone());
    }
    let status = if c.revoked {
        CertStatus::revoked(t - DAY, Some(CrlReason::KeyCompromise)).unwrap()
    } else {
        CertStatus::good()
    };
    let resp = ResponseBuilder::new(t)
        .response(SingleResponse::new(id.clone(), status, t - HOUR, Some(t + 4 * HOUR)).unwrap())
        .nonce(req.nonce.as_ref().unwrap())
        .unwrap()
        .sign(&signer, &mut rng())
        .unwrap();
    std::fs::write(d.join("resp.der"), resp).unwrap();
    let trust: &[&str] = if c.vafile {
        &["-VAfile", "responder.pem"]
    } else {
        &["-CAfile", "ca.pem"]
    };
    // 1. Against the request it made: signature, nonce echo (a -cert argument would make
    //    openssl build a fresh request with another nonce, so none here).
    let mut args = vec![
        "ocsp",
        "-respin",
        "resp.der",
        "-reqin",
        "req.der",
        "-resp_text",
    ];
    args.extend(trust);
    let with_nonce = openssl(d, &args);
    // 2. Status lookup by CertID for the certificate.
    let mut args = vec![
        "ocsp",
        "-respin",
        "resp.der",
        "-no_nonce",
        "-issuer",
        "ca.pem",
    ];
    if c.sha256 {
        args.push("-sha256");
    }
    args.extend(["-cert", "leaf.pem"]);
    args.extend(trust);
    format!("{with_nonce}\n----\n{}", openssl(d, &args))
}

#[test]
fn openssl_accepts_our_responses() {
    if !openssl_available() {
        return;
    }
    let base = Case {
        ca_alg: "ecdsa-p256-sha256",
        delegated: None,
        by_name: false,
        sha256: false,
        revoked: false,
        vafile: false,
    };
    let out = run_case(&base);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(
        !out.contains("Nonce Verify error") && !out.contains("WARNING: no nonce"),
        "{out}"
    );
    assert!(out.contains("Cert Status: good"), "{out}");
    assert!(out.contains("leaf.pem: good"), "{out}");
    let out = run_case(&Case {
        sha256: true,
        revoked: true,
        by_name: true,
        ..base
    });
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("leaf.pem: revoked"), "{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");
    let out = run_case(&Case {
        ca_alg: "ed25519",
        ..base
    });
    assert!(
        out.contains("Response verify OK") && out.contains("leaf.pem: good"),
        "{out}"
    );
    let out = run_case(&Case {
        ca_alg: "rsa2048-pkcs1-sha256",
        delegated: Some(("ecdsa-p256-sha256", Profile::OcspSigning)),
        ..base
    });
    assert!(
        out.contains("Response verify OK") && out.contains("leaf.pem: good"),
        "{out}"
    );
    // A delegated signer without id-kp-OCSPSigning is refused by OpenSSL too.
    let out = run_case(&Case {
        delegated: Some(("ed25519", Profile::Client)),
        ..base
    });
    assert!(out.contains("Response Verify Failure"), "{out}");
    // ... but accepted when the client trusts that responder locally (-VAfile).
    let out = run_case(&Case {
        delegated: Some(("ed25519", Profile::Client)),
        vafile: true,
        ..base
    });
    assert!(
        out.contains("Response verify OK") && out.contains("leaf.pem: good"),
        "{out}"
    );
}
