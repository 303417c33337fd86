//! Experimental multi-algorithm policy over composite components, RFC 9763 related-certificate
//! pairs and chameleon Base/Delta pairs; RFC 9763 binding and request attribute.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cloned_ref_to_slice_refs
)]

mod common;

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use common::TestRng;
use secdispatch_pqpki::ca::{self, CertificateAuthority, IssueRequest};
use secdispatch_pqpki::cert::{Profile, SubjectAltNames};
use secdispatch_pqpki::policy::{self, Policy};
use secdispatch_pqpki::validate::{self, Options};
use secdispatch_pqpki::{Algorithm, Error, SigningKey, related};
use x509_cert::Certificate;
use x509_cert::name::Name;

const DAY: Duration = Duration::from_secs(86_400);
fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}
fn alg(s: &str) -> Algorithm {
    Algorithm::from_name(s).unwrap()
}

#[test]
fn composite_components_under_and_or() {
    let k = SigningKey::generate(Algorithm::DEFAULT, &mut TestRng(1)).unwrap();
    let sig = k.sign(b"msg", &mut TestRng(2)).unwrap().into_bytes();
    let and = Policy::parse("and").unwrap();
    let or = Policy::parse("or").unwrap();
    let ev = policy::evidence_from_composite(k.public_key(), b"msg", b"", &sig).unwrap();
    assert!(and.holds(&ev) && or.holds(&ev));
    // break the ML-DSA component: AND fails, OR (migration mode) still accepts
    let mut bad = sig.clone();
    bad[5] ^= 1;
    let ev = policy::evidence_from_composite(k.public_key(), b"msg", b"", &bad).unwrap();
    assert_eq!(ev.iter().filter(|e| e.valid).count(), 1);
    assert!(!and.holds(&ev) && or.holds(&ev));
    assert!(and.check(&ev).is_err());
    // break both
    let l = bad.len();
    bad[l - 3] ^= 1;
    let ev = policy::evidence_from_composite(k.public_key(), b"msg", b"", &bad).unwrap();
    assert!(!or.holds(&ev));
    // the standard verification never accepts a broken component
    assert!(k.public_key().verify(b"msg", &bad).is_err());
    // structural errors stay errors
    assert!(policy::evidence_from_composite(k.public_key(), b"msg", b"", &sig[..10]).is_err());
}

struct Chain {
    root: Certificate,
    leaf: Certificate,
    leaf_key: SigningKey,
}

fn chain(
    a: Algorithm,
    seed: u64,
    leaf_exts: Vec<x509_cert::ext::Extension>,
    leaf_days: u32,
) -> Chain {
    let mut rng = TestRng(seed);
    let root_key = SigningKey::generate(a, &mut rng).unwrap();
    let root = ca::self_signed_root(
        &root_key,
        Name::from_str(&format!("CN=Root {a}")).unwrap(),
        t0() - DAY,
        t0() + 99 * DAY,
        None,
        None,
        &mut rng,
    )
    .unwrap();
    let leaf_key = SigningKey::generate(a, &mut rng).unwrap();
    let mut req = IssueRequest::new(
        Name::from_str("CN=peer.test").unwrap(),
        leaf_key.public_key(),
        Profile::Client,
        t0() - DAY,
        t0() + leaf_days * DAY,
    )
    .unwrap();
    req.sans = SubjectAltNames::parse(["peer.test"]).unwrap();
    req.extra_extensions = leaf_exts;
    let leaf = CertificateAuthority::new(root.clone(), &root_key)
        .unwrap()
        .issue(&req, &mut rng)
        .unwrap();
    Chain {
        root,
        leaf,
        leaf_key,
    }
}

#[test]
fn related_pair_migration_from_or_to_and() {
    let classical = chain(alg("ecdsa-p256-sha256"), 3, vec![], 10);
    let pq = chain(
        alg("id-ML-DSA-65"),
        4,
        vec![related::extension(&classical.leaf).unwrap()],
        10,
    );
    related::verify_binding(&pq.leaf, &classical.leaf).unwrap();
    assert!(related::verify_binding(&classical.leaf, &pq.leaf).is_err());
    let at = |t| Options::at(t);
    let va = validate::validate_chain(&pq.leaf, &[], &[pq.root.clone()], &at(t0()));
    let vb = validate::validate_chain(&classical.leaf, &[], &[classical.root.clone()], &at(t0()));
    let ev = policy::evidence_from_related_pair((&pq.leaf, &va), (&classical.leaf, &vb)).unwrap();
    assert!(ev[0].pq && !ev[0].traditional && ev[1].traditional && !ev[1].pq);
    assert!(Policy::parse("and").unwrap().holds(&ev));
    // the classical chain fails (wrong anchor): OR still accepts, AND does not
    let vb_bad = validate::validate_chain(&classical.leaf, &[], &[pq.root.clone()], &at(t0()));
    let ev =
        policy::evidence_from_related_pair((&pq.leaf, &va), (&classical.leaf, &vb_bad)).unwrap();
    assert!(!Policy::parse("and").unwrap().holds(&ev));
    assert!(Policy::parse("or").unwrap().holds(&ev));
    assert!(Policy::parse("pq").unwrap().holds(&ev));
    // an unrelated pair is refused outright
    let other = chain(alg("ecdsa-p256-sha256"), 5, vec![], 10);
    let vo = validate::validate_chain(&other.leaf, &[], &[other.root.clone()], &at(t0()));
    assert!(matches!(
        policy::evidence_from_related_pair((&pq.leaf, &va), (&other.leaf, &vo)),
        Err(Error::Related(_))
    ));
}

#[test]
fn related_cert_request_attribute() {
    let classical = chain(alg("ed25519"), 6, vec![], 10);
    let attr = related::request_attribute(
        &classical.leaf,
        &classical.leaf_key,
        t0(),
        "https://repo.test/c.der",
        &mut TestRng(1),
    )
    .unwrap();
    let rc = related::verify_request_attribute(
        &attr,
        &classical.leaf,
        t0() + Duration::from_secs(60),
        Duration::from_secs(300),
    )
    .unwrap();
    assert_eq!(rc.location_info.to_string(), "https://repo.test/c.der");
    // stale
    assert!(
        related::verify_request_attribute(
            &attr,
            &classical.leaf,
            t0() + DAY,
            Duration::from_secs(300)
        )
        .is_err()
    );
    // signed by another key
    let other = chain(alg("ed25519"), 7, vec![], 10);
    let forged =
        related::request_attribute(&classical.leaf, &other.leaf_key, t0(), "x", &mut TestRng(1))
            .unwrap();
    assert!(
        related::verify_request_attribute(&forged, &classical.leaf, t0(), Duration::from_secs(300))
            .is_err()
    );
    // names a different certificate
    assert!(
        related::verify_request_attribute(&attr, &other.leaf, t0(), Duration::from_secs(300))
            .is_err()
    );
}

#[test]
fn chameleon_pair_under_policy() {
    let mut rng = TestRng(9);
    let ec = alg("ecdsa-p384-sha384");
    let pq = alg("id-ML-DSA-87");
    let ec_key = SigningKey::generate(ec, &mut rng).unwrap();
    let pq_key = SigningKey::generate(pq, &mut rng).unwrap();
    let ec_root = ca::self_signed_root(
        &ec_key,
        Name::from_str("CN=EC").unwrap(),
        t0() - DAY,
        t0() + 9 * DAY,
        None,
        None,
        &mut rng,
    )
    .unwrap();
    let pq_root = ca::self_signed_root(
        &pq_key,
        Name::from_str("CN=PQ").unwrap(),
        t0() - DAY,
        t0() + 9 * DAY,
        None,
        None,
        &mut rng,
    )
    .unwrap();
    let ee_pq = SigningKey::generate(pq, &mut rng).unwrap();
    let ee_ec = SigningKey::generate(ec, &mut rng).unwrap();
    let mut req = IssueRequest::new(
        Name::from_str("CN=ee").unwrap(),
        ee_pq.public_key(),
        Profile::Client,
        t0(),
        t0() + DAY,
    )
    .unwrap();
    let delta = CertificateAuthority::new(pq_root.clone(), &pq_key)
        .unwrap()
        .issue(&req, &mut rng)
        .unwrap();
    req.public_key = ee_ec.public_key().to_spki().unwrap();
    let base = CertificateAuthority::new(ec_root.clone(), &ec_key)
        .unwrap()
        .issue_with_delta(&req, &delta, &mut rng)
        .unwrap();
    let o = Options::at(t0());
    // the DCD is non-critical, so a legacy validator accepts the Base
    let vb = validate::validate_chain(&base, &[], &[ec_root.clone()], &o);
    let rebuilt = secdispatch_pqpki::chameleon::reconstruct(&base).unwrap();
    let vd = validate::validate_chain(&rebuilt, &[], &[pq_root.clone()], &o);
    assert!(vb.is_ok() && vd.is_ok());
    let ev = policy::evidence_from_chameleon_pair((&base, &vb), (&rebuilt, &vd)).unwrap();
    assert!(Policy::parse("and").unwrap().holds(&ev));
    assert!(Policy::parse("k-of-n:2").unwrap().holds(&ev));
    // a Delta that is not the encoded one is refused
    assert!(policy::evidence_from_chameleon_pair((&base, &vb), (&pq_root, &vd)).is_err());
}
