//! Chameleon certificates (draft-bonnell-lamps-chameleon-certs-05): the draft's examples rebuild
//! byte-exact and verify; our CA issues Base/Delta pairs that reconstruct.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cloned_ref_to_slice_refs
)]

mod common;

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use common::{TestRng, vector};
use der::Encode;
use secdispatch_pqpki::ca::{self, CertificateAuthority, IssueRequest};
use secdispatch_pqpki::cert::{self, Profile, SubjectAltNames};
use secdispatch_pqpki::{Algorithm, SigningKey, VerifyingKey, chameleon};
use x509_cert::Certificate;
use x509_cert::name::Name;

fn examples() -> Vec<Certificate> {
    vector("chameleon_examples_draft05.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|e| cert::from_pem(e["pem"].as_str().unwrap()).unwrap())
        .collect()
}

fn verify_by(c: &Certificate, issuer_spki_holder: &Certificate) {
    let key = VerifyingKey::from_spki_der(
        &issuer_spki_holder
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap(),
    )
    .unwrap();
    key.verify_x509(
        c.signature_algorithm(),
        &c.tbs_certificate().to_der().unwrap(),
        c.signature().raw_bytes(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", c.tbs_certificate().subject()));
}

#[test]
fn draft_examples_reconstruct_byte_exact() {
    let ex = examples();
    assert_eq!(ex.len(), 6);
    for (base, delta) in [(1, 0), (3, 2), (5, 4)] {
        let rebuilt = chameleon::reconstruct(&ex[base]).unwrap();
        assert_eq!(
            rebuilt.to_der().unwrap(),
            ex[delta].to_der().unwrap(),
            "[{base}] -> [{delta}]"
        );
    }
    for plain in [0, 2, 4] {
        assert!(chameleon::descriptor(&ex[plain]).unwrap().is_none());
        assert!(chameleon::reconstruct(&ex[plain]).is_err());
    }
}

#[test]
fn draft_examples_verify() {
    let ex = examples();
    // [0] EC P-521 root, self-signed (ecdsa-with-SHA512)
    verify_by(&ex[0], &ex[0]);
    // [1] ML-DSA-65 root: the ML-DSA trust anchor by key (its subject differs from its issuer)
    verify_by(&ex[1], &ex[1]);
    // [2] ML-DSA-65 EE issued by the ML-DSA root key
    verify_by(&ex[2], &ex[1]);
    // [3], [4], [5] EC end entities issued by the EC root
    for i in [3, 4, 5] {
        verify_by(&ex[i], &ex[0]);
    }
    // reconstructed Deltas verify too
    verify_by(&chameleon::reconstruct(&ex[1]).unwrap(), &ex[0]);
    verify_by(&chameleon::reconstruct(&ex[3]).unwrap(), &ex[1]);
}

#[test]
fn describe_recomputes_the_draft_descriptors() {
    let ex = examples();
    for (base, delta) in [(1, 0), (3, 2), (5, 4)] {
        let d = chameleon::describe(&ex[delta], &ex[base]).unwrap();
        assert_eq!(
            Some(d),
            chameleon::descriptor(&ex[base]).unwrap(),
            "[{base}]"
        );
    }
}

#[test]
fn ca_issues_base_with_delta() {
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let day = Duration::from_secs(86_400);
    let mut rng = TestRng(7);
    let name = |s: &str| Name::from_str(s).unwrap();
    let ec_alg = Algorithm::from_name("ecdsa-p256-sha256").unwrap();
    let pq_alg = Algorithm::from_name("id-ML-DSA-65").unwrap();
    let ec_root_key = SigningKey::generate(ec_alg, &mut rng).unwrap();
    let pq_root_key = SigningKey::generate(pq_alg, &mut rng).unwrap();
    let ec_root = ca::self_signed_root(
        &ec_root_key,
        name("CN=EC Root"),
        t0,
        t0 + 100 * day,
        None,
        None,
        &mut rng,
    )
    .unwrap();
    let pq_root = ca::self_signed_root(
        &pq_root_key,
        name("CN=PQ Root"),
        t0,
        t0 + 100 * day,
        None,
        None,
        &mut rng,
    )
    .unwrap();
    let ee_ec = SigningKey::generate(ec_alg, &mut rng).unwrap();
    let ee_pq = SigningKey::generate(pq_alg, &mut rng).unwrap();
    let mut req = IssueRequest::new(
        name("CN=dual.test"),
        ee_pq.public_key(),
        Profile::Server,
        t0,
        t0 + 10 * day,
    )
    .unwrap();
    req.sans = SubjectAltNames::parse(["dual.test"]).unwrap();
    let delta = CertificateAuthority::new(pq_root.clone(), &pq_root_key)
        .unwrap()
        .issue(&req, &mut rng)
        .unwrap();
    req.public_key = ee_ec.public_key().to_spki().unwrap();
    let base = CertificateAuthority::new(ec_root.clone(), &ec_root_key)
        .unwrap()
        .issue_with_delta(&req, &delta, &mut rng)
        .unwrap();
    assert_eq!(chameleon::reconstruct(&base).unwrap(), delta);
    verify_by(&base, &ec_root);
    verify_by(&chameleon::reconstruct(&base).unwrap(), &pq_root);
    // a tampered DCD signature no longer verifies as the Delta
    let d = chameleon::descriptor(&base).unwrap().unwrap();
    assert!(d.issuer.is_some() && d.signature.is_some());
}

#[test]
fn critical_dcd_and_unknown_extension_are_refused() {
    let ex = examples();
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut rng = TestRng(8);
    let alg = Algorithm::from_name("ed25519").unwrap();
    let root_key = SigningKey::generate(alg, &mut rng).unwrap();
    let root = ca::self_signed_root(
        &root_key,
        Name::from_str("CN=R").unwrap(),
        t0,
        t0 + Duration::from_secs(999_999),
        None,
        None,
        &mut rng,
    )
    .unwrap();
    let ca = CertificateAuthority::new(root, &root_key).unwrap();
    let ee = SigningKey::generate(alg, &mut rng).unwrap();
    let dcd = chameleon::descriptor(&ex[5]).unwrap().unwrap();
    let mut ext = chameleon::to_extension(&dcd).unwrap();
    ext.critical = true;
    let mut req = IssueRequest::new(
        Name::from_str("CN=x").unwrap(),
        ee.public_key(),
        Profile::Client,
        t0,
        t0 + Duration::from_secs(9),
    )
    .unwrap();
    req.extra_extensions.push(ext);
    let c = ca.issue(&req, &mut rng).unwrap();
    assert!(
        chameleon::descriptor(&c)
            .unwrap_err()
            .to_string()
            .contains("non-critical")
    );
    assert!(chameleon::reconstruct(&c).is_err());
    // a non-critical DCD naming an extension the Base lacks does not reconstruct
    let mut dcd2 = dcd.clone();
    dcd2.extensions = Some(vec![x509_cert::ext::Extension {
        extn_id: const_oid::ObjectIdentifier::new_unwrap("1.2.3.4"),
        critical: false,
        extn_value: der::asn1::OctetString::new(vec![5, 0]).unwrap(),
    }]);
    req.extra_extensions = vec![chameleon::to_extension(&dcd2).unwrap()];
    let c = ca.issue(&req, &mut rng).unwrap();
    assert!(
        chameleon::reconstruct(&c)
            .unwrap_err()
            .to_string()
            .contains("not present")
    );
}
