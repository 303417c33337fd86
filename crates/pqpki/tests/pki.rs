//! Certificates, CSRs, CRLs and the chain-validation matrix (good, expired, wrong issuer,
//! pathLen exceeded, keyUsage wrong, revoked) for classical, ML-DSA and composite chains.
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
use der::{Decode, Encode};
use secdispatch_pqpki::ca::{self, CertificateAuthority, CsrTerms, IssueRequest};
use secdispatch_pqpki::cert::{self, CertInfo, Profile, SubjectAltNames};
use secdispatch_pqpki::crl::{self, RevokedEntry};
use secdispatch_pqpki::validate::{self, ChainFailure, Options};
use secdispatch_pqpki::{Algorithm, Error, SigningKey, csr, oid};
use x509_cert::Certificate;
use x509_cert::builder::{Builder, CertificateBuilder, profile::BuilderProfile};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

const DAY: Duration = Duration::from_secs(86_400);

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn name(s: &str) -> Name {
    Name::from_str(s).unwrap()
}

struct Pki {
    root_key: SigningKey,
    root: Certificate,
    int_key: SigningKey,
    int: Certificate,
    leaf_key: SigningKey,
    leaf: Certificate,
}

fn make_pki(alg: Algorithm, seed: u64) -> Pki {
    let mut rng = TestRng(seed);
    let root_key = SigningKey::generate(alg, &mut rng).unwrap();
    let root = ca::self_signed_root(
        &root_key,
        name("CN=Test Root,O=secdispatch"),
        t0() - DAY,
        t0() + 3650 * DAY,
        Some(1),
        None,
        &mut rng,
    )
    .unwrap();
    let int_key = SigningKey::generate(alg, &mut rng).unwrap();
    let root_ca = CertificateAuthority::new(root.clone(), &root_key).unwrap();
    let int = root_ca
        .issue(
            &IssueRequest::new(
                name("CN=Test Intermediate,O=secdispatch"),
                int_key.public_key(),
                Profile::Intermediate { path_len: Some(0) },
                t0() - DAY,
                t0() + 365 * DAY,
            )
            .unwrap(),
            &mut rng,
        )
        .unwrap();
    let leaf_key = SigningKey::generate(alg, &mut rng).unwrap();
    let int_ca = CertificateAuthority::new(int.clone(), &int_key).unwrap();
    let mut req = IssueRequest::new(
        name("CN=gateway.test"),
        leaf_key.public_key(),
        Profile::Server,
        t0() - DAY,
        t0() + 30 * DAY,
    )
    .unwrap();
    req.sans =
        SubjectAltNames::parse(["DNS:gateway.test", "DNS:*.svc.test", "IP:127.0.0.1"]).unwrap();
    req.ocsp_url = Some("http://127.0.0.1:8081/ocsp".into());
    let leaf = int_ca.issue(&req, &mut rng).unwrap();
    Pki {
        root_key,
        root,
        int_key,
        int,
        leaf_key,
        leaf,
    }
}

fn algs() -> Vec<Algorithm> {
    [
        "ecdsa-p256-sha256",
        "ed25519",
        "rsa2048-pss-sha256",
        "id-ML-DSA-65",
        "id-MLDSA65-ECDSA-P256-SHA512",
        "id-MLDSA44-Ed25519-SHA512",
    ]
    .iter()
    .map(|n| Algorithm::from_name(n).unwrap())
    .collect()
}

fn reason(e: Error) -> (usize, ChainFailure) {
    match e {
        Error::Chain { index, reason, .. } => (index, reason),
        other => panic!("not a chain error: {other}"),
    }
}

struct RawProfile {
    subject: Name,
    issuer: Name,
    exts: Vec<Extension>,
}
impl BuilderProfile for RawProfile {
    fn get_issuer(&self, _: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _: spki::SubjectPublicKeyInfoRef<'_>,
        _: spki::SubjectPublicKeyInfoRef<'_>,
        _: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.exts.clone())
    }
}

fn ext<T: Encode + const_oid::AssociatedOid>(v: &T, critical: bool) -> Extension {
    Extension {
        extn_id: T::OID,
        critical,
        extn_value: der::asn1::OctetString::new(v.to_der().unwrap()).unwrap(),
    }
}

/// Issue with arbitrary extensions through the unchanged x509-cert builder.
fn raw_issue(
    issuer_key: &SigningKey,
    issuer: &Name,
    subject: &str,
    key: &SigningKey,
    exts: Vec<Extension>,
    serial: u32,
) -> Certificate {
    let b = CertificateBuilder::new(
        RawProfile {
            subject: name(subject),
            issuer: issuer.clone(),
            exts,
        },
        x509_cert::serial_number::SerialNumber::from(serial),
        cert::validity(t0() - DAY, t0() + 30 * DAY).unwrap(),
        key.public_key().to_spki().unwrap(),
    )
    .unwrap();
    b.build_with_rng::<_, secdispatch_pqpki::Signature, _>(issuer_key, &mut TestRng(serial as u64))
        .unwrap()
}

#[test]
fn good_chain_validates_for_every_family() {
    for alg in algs() {
        let p = make_pki(alg, 10);
        let mut opts = Options::at(t0());
        opts.host = Some("gateway.test");
        opts.eku = Some(oid::KP_SERVER_AUTH);
        let path = validate::validate_chain(&p.leaf, &[p.int.clone()], &[p.root.clone()], &opts)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(path.chain.len(), 3);
        assert_eq!(path.link_algorithms, vec![Some(alg), Some(alg)]);
        for h in ["a.svc.test", "127.0.0.1"] {
            opts.host = Some(h);
            validate::validate_chain(&p.leaf, &[p.int.clone()], &[p.root.clone()], &opts).unwrap();
        }
    }
}

#[test]
fn expired_and_not_yet_valid() {
    for alg in algs() {
        let p = make_pki(alg, 11);
        let e = validate::validate_chain(
            &p.leaf,
            &[p.int.clone()],
            &[p.root.clone()],
            &Options::at(t0() + 31 * DAY),
        )
        .unwrap_err();
        assert!(matches!(reason(e), (0, ChainFailure::Expired(_))), "{alg}");
        let e = validate::validate_chain(
            &p.leaf,
            &[p.int.clone()],
            &[p.root.clone()],
            &Options::at(t0() - 2 * DAY),
        )
        .unwrap_err();
        assert!(
            matches!(reason(e), (0, ChainFailure::NotYetValid(_))),
            "{alg}"
        );
        let e = validate::validate_chain(
            &p.leaf,
            &[p.int.clone()],
            &[p.root.clone()],
            &Options::at(t0() + 400 * DAY),
        )
        .unwrap_err();
        assert!(matches!(reason(e), (0, ChainFailure::Expired(_))), "{alg}");
    }
}

#[test]
fn wrong_issuer() {
    for alg in algs() {
        let p = make_pki(alg, 12);
        let other = make_pki(alg, 13);
        // leaf of p with the intermediate of another PKI: same names, different key identifiers
        let e = validate::validate_chain(
            &p.leaf,
            &[other.int.clone()],
            &[other.root.clone()],
            &Options::at(t0()),
        )
        .unwrap_err();
        let (i, r) = reason(e);
        assert_eq!(i, 0, "{alg}");
        assert!(
            matches!(r, ChainFailure::IssuerMismatch { .. }),
            "{alg}: {r}"
        );
        // a certificate signed by a different key under the right name fails its signature
        let forged = raw_issue(
            &other.int_key,
            p.int.tbs_certificate().subject(),
            "CN=forged",
            &other.leaf_key,
            vec![],
            9,
        );
        let e = validate::validate_chain(
            &forged,
            &[p.int.clone()],
            &[p.root.clone()],
            &Options::at(t0()),
        )
        .unwrap_err();
        assert!(
            matches!(reason(e), (0, ChainFailure::BadSignature(_))),
            "{alg}"
        );
        // no anchor at all
        let e = validate::validate_chain(&p.leaf, &[p.int.clone()], &[], &Options::at(t0()))
            .unwrap_err();
        assert!(
            matches!(reason(e), (1, ChainFailure::NoTrustAnchor)),
            "{alg}"
        );
    }
}

#[test]
fn path_len_exceeded() {
    for alg in algs() {
        let p = make_pki(alg, 14);
        // The intermediate has pathLen 0; a second intermediate under it exceeds it.
        let sub_key = SigningKey::generate(alg, &mut TestRng(99)).unwrap();
        let ca_exts = vec![
            ext(
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
                true,
            ),
            ext(&KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign), true),
        ];
        let sub = raw_issue(
            &p.int_key,
            p.int.tbs_certificate().subject(),
            "CN=Sub CA",
            &sub_key,
            ca_exts,
            20,
        );
        let leaf = raw_issue(
            &sub_key,
            sub.tbs_certificate().subject(),
            "CN=leaf",
            &p.leaf_key,
            vec![],
            21,
        );
        let e = validate::validate_chain(
            &leaf,
            &[sub, p.int.clone()],
            &[p.root.clone()],
            &Options::at(t0()),
        )
        .unwrap_err();
        let (i, r) = reason(e);
        assert_eq!(i, 2, "{alg}");
        assert!(
            matches!(
                r,
                ChainFailure::PathLenExceeded {
                    path_len: 0,
                    below: 1
                }
            ),
            "{alg}: {r}"
        );
        // and the CA API itself refuses to issue it
        let int_ca = CertificateAuthority::new(p.int.clone(), &p.int_key).unwrap();
        let req = IssueRequest::new(
            name("CN=Sub"),
            sub_key.public_key(),
            Profile::Intermediate { path_len: None },
            t0(),
            t0() + DAY,
        )
        .unwrap();
        assert!(int_ca.issue(&req, &mut TestRng(1)).is_err());
    }
}

#[test]
fn key_usage_wrong() {
    for alg in algs() {
        let p = make_pki(alg, 15);
        // CA without keyCertSign
        let sub_key = SigningKey::generate(alg, &mut TestRng(98)).unwrap();
        let exts = vec![
            ext(
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
                true,
            ),
            ext(&KeyUsage(KeyUsages::DigitalSignature.into()), true),
        ];
        let bad_ca = raw_issue(
            &p.root_key,
            p.root.tbs_certificate().subject(),
            "CN=No KeyCertSign",
            &sub_key,
            exts,
            30,
        );
        let leaf = raw_issue(
            &sub_key,
            bad_ca.tbs_certificate().subject(),
            "CN=leaf",
            &p.leaf_key,
            vec![],
            31,
        );
        let e = validate::validate_chain(&leaf, &[bad_ca], &[p.root.clone()], &Options::at(t0()))
            .unwrap_err();
        let (i, r) = reason(e);
        assert_eq!(i, 1);
        assert!(matches!(r, ChainFailure::KeyUsage(_)), "{alg}: {r}");
        // issuer that is not a CA at all
        let e = validate::validate_chain(
            &raw_issue(
                &p.leaf_key,
                p.leaf.tbs_certificate().subject(),
                "CN=x",
                &sub_key,
                vec![],
                32,
            ),
            &[p.leaf.clone(), p.int.clone()],
            &[p.root.clone()],
            &Options::at(t0()),
        )
        .unwrap_err();
        assert!(matches!(reason(e), (1, ChainFailure::NotCa)), "{alg}");
        // EKU asked for but not present
        let mut o = Options::at(t0());
        o.eku = Some(oid::KP_CLIENT_AUTH);
        let e =
            validate::validate_chain(&p.leaf, &[p.int.clone()], &[p.root.clone()], &o).unwrap_err();
        assert!(
            matches!(reason(e), (0, ChainFailure::ExtendedKeyUsage(_))),
            "{alg}"
        );
        // host mismatch
        let mut o = Options::at(t0());
        o.host = Some("a.b.svc.test");
        let e =
            validate::validate_chain(&p.leaf, &[p.int.clone()], &[p.root.clone()], &o).unwrap_err();
        assert!(
            matches!(reason(e), (0, ChainFailure::HostMismatch(_))),
            "{alg}"
        );
    }
}

#[test]
fn keyencipherment_on_pq_keys_is_rejected() {
    for name_ in ["id-ML-DSA-44", "id-MLDSA65-ECDSA-P256-SHA512"] {
        let alg = Algorithm::from_name(name_).unwrap();
        let p = make_pki(alg, 16);
        let exts = vec![ext(
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment),
            true,
        )];
        let leaf = raw_issue(
            &p.int_key,
            p.int.tbs_certificate().subject(),
            "CN=enc",
            &p.leaf_key,
            exts,
            40,
        );
        let e = validate::validate_chain(
            &leaf,
            &[p.int.clone()],
            &[p.root.clone()],
            &Options::at(t0()),
        )
        .unwrap_err();
        assert!(
            matches!(reason(e), (0, ChainFailure::KeyUsage(_))),
            "{name_}"
        );
    }
}

#[test]
fn revoked_by_crl() {
    for alg in algs() {
        let p = make_pki(alg, 17);
        let int_ca = CertificateAuthority::new(p.int.clone(), &p.int_key).unwrap();
        let entry = RevokedEntry {
            serial: p.leaf.tbs_certificate().serial_number().as_bytes().to_vec(),
            revoked_at: t0(),
            reason: Some(crl::reason_from_name("keyCompromise").unwrap()),
        };
        let list = int_ca
            .crl(&[entry], t0(), Some(t0() + 7 * DAY), 1, &mut TestRng(5))
            .unwrap();
        // PEM round trip
        let list = crl::from_pem(&crl::to_pem(&list).unwrap()).unwrap();
        crl::verify(&list, &p.int, t0() + DAY).unwrap();
        let crls = [list];
        let mut o = Options::at(t0() + DAY);
        o.crls = &crls;
        let e =
            validate::validate_chain(&p.leaf, &[p.int.clone()], &[p.root.clone()], &o).unwrap_err();
        match reason(e) {
            (0, ChainFailure::Revoked { reason, .. }) => assert_eq!(reason, "keyCompromise"),
            other => panic!("{alg}: {other:?}"),
        }
        // an empty CRL clears it; a missing CRL fails when required
        let empty = int_ca
            .crl(&[], t0(), Some(t0() + 7 * DAY), 2, &mut TestRng(6))
            .unwrap();
        let crls = [empty];
        o.crls = &crls;
        validate::validate_chain(&p.leaf, &[p.int.clone()], &[p.root.clone()], &o).unwrap();
        o.crls = &[];
        o.require_crl = true;
        let e =
            validate::validate_chain(&p.leaf, &[p.int.clone()], &[p.root.clone()], &o).unwrap_err();
        assert!(matches!(reason(e), (0, ChainFailure::Crl(_))), "{alg}");
        // a stale CRL is an error, not a pass
        let crls = [int_ca
            .crl(&[], t0(), Some(t0() + DAY), 3, &mut TestRng(7))
            .unwrap()];
        let mut o = Options::at(t0() + 2 * DAY);
        o.crls = &crls;
        let e =
            validate::validate_chain(&p.leaf, &[p.int.clone()], &[p.root.clone()], &o).unwrap_err();
        assert!(matches!(reason(e), (0, ChainFailure::Crl(_))), "{alg}");
    }
}

#[test]
fn crl_signed_by_another_key_is_refused() {
    let alg = Algorithm::DEFAULT;
    let p = make_pki(alg, 18);
    let other = make_pki(alg, 19);
    let other_ca = CertificateAuthority::new(other.int.clone(), &other.int_key).unwrap();
    let list = other_ca.crl(&[], t0(), None, 1, &mut TestRng(1)).unwrap();
    assert!(crl::verify(&list, &p.int, t0()).is_err());
}

#[test]
fn csr_round_trip_and_issue_from_csr() {
    for alg in algs() {
        let p = make_pki(alg, 20);
        let key = SigningKey::generate(alg, &mut TestRng(21)).unwrap();
        let sans = SubjectAltNames::parse([
            "client.test",
            "email:ops@client.test",
            "URI:spiffe://test/client",
        ])
        .unwrap();
        let req = csr::build(&key, name("CN=client.test"), &sans, &mut TestRng(22)).unwrap();
        let req = csr::from_pem(&csr::to_pem(&req).unwrap()).unwrap();
        assert_eq!(csr::verify(&req).unwrap(), *key.public_key());
        assert_eq!(csr::requested_sans(&req).unwrap(), sans);
        let int_ca = CertificateAuthority::new(p.int.clone(), &p.int_key).unwrap();
        let c = int_ca
            .issue_from_csr(
                &req,
                &CsrTerms {
                    serial: Some(vec![0x42]),
                    ..CsrTerms::new(Profile::Client, t0(), t0() + DAY)
                },
                &mut TestRng(23),
            )
            .unwrap();
        assert_eq!(c.tbs_certificate().serial_number().as_bytes(), &[0x42]);
        assert_eq!(
            CertInfo::new(&c).subject_alt_names().unwrap().unwrap(),
            sans
        );
        let mut o = Options::at(t0());
        o.eku = Some(oid::KP_CLIENT_AUTH);
        validate::validate_chain(&c, &[p.int.clone()], &[p.root.clone()], &o).unwrap();
        // tampered request fails its self-signature
        let mut bad = req.clone();
        bad.info.subject = name("CN=evil.test");
        assert!(matches!(csr::verify(&bad), Err(Error::Csr(_))));
        assert!(
            int_ca
                .issue_from_csr(
                    &bad,
                    &CsrTerms::new(Profile::Client, t0(), t0() + DAY),
                    &mut TestRng(24),
                )
                .is_err()
        );
    }
}

#[test]
fn issued_certificates_follow_the_profile() {
    let p = make_pki(Algorithm::DEFAULT, 25);
    let info = CertInfo::new(&p.leaf);
    let ku = info.key_usage().unwrap().unwrap();
    assert!(ku.digital_signature() && !ku.key_encipherment());
    assert!(!info.basic_constraints().unwrap().unwrap().ca);
    assert_eq!(
        info.extended_key_usage().unwrap().unwrap().0,
        vec![oid::KP_SERVER_AUTH]
    );
    assert_eq!(
        info.ocsp_urls().unwrap(),
        vec!["http://127.0.0.1:8081/ocsp".to_string()]
    );
    assert_eq!(
        info.authority_key_id().unwrap(),
        CertInfo::new(&p.int).subject_key_id().unwrap()
    );
    let rinfo = CertInfo::new(&p.root);
    let bc = rinfo.basic_constraints().unwrap().unwrap();
    assert!(bc.ca && bc.path_len_constraint == Some(1));
    assert!(rinfo.key_usage().unwrap().unwrap().key_cert_sign());
    assert_eq!(
        rinfo.subject_key_id().unwrap(),
        rinfo.authority_key_id().unwrap()
    );
    // composite certificate: signature algorithm = composite OID, parameters absent
    assert_eq!(p.leaf.signature_algorithm().oid, Algorithm::DEFAULT.oid());
    assert!(p.leaf.signature_algorithm().parameters.is_none());
    // PEM round trip
    assert_eq!(
        cert::from_pem(&cert::to_pem(&p.leaf).unwrap()).unwrap(),
        p.leaf
    );
    let bundle = format!(
        "{}{}",
        cert::to_pem(&p.leaf).unwrap(),
        cert::to_pem(&p.int).unwrap()
    );
    assert_eq!(cert::chain_from_pem(&bundle).unwrap().len(), 2);
}

#[test]
fn ca_refuses_bad_requests() {
    let p = make_pki(Algorithm::from_name("ecdsa-p256-sha256").unwrap(), 26);
    let int_ca = CertificateAuthority::new(p.int.clone(), &p.int_key).unwrap();
    // key does not match the certificate
    assert!(CertificateAuthority::new(p.int.clone(), &p.leaf_key).is_err());
    // end-entity certificate is not a CA
    assert!(CertificateAuthority::new(p.leaf.clone(), &p.leaf_key).is_err());
    // validity beyond the CA's
    let req = IssueRequest::new(
        name("CN=x"),
        p.leaf_key.public_key(),
        Profile::Client,
        t0(),
        t0() + 4000 * DAY,
    )
    .unwrap();
    assert!(int_ca.issue(&req, &mut TestRng(1)).is_err());
    // server certificate without SAN
    let req = IssueRequest::new(
        name("CN=x"),
        p.leaf_key.public_key(),
        Profile::Server,
        t0(),
        t0() + DAY,
    )
    .unwrap();
    assert!(int_ca.issue(&req, &mut TestRng(1)).is_err());
    // negative / oversized serial
    let mut req = IssueRequest::new(
        name("CN=x"),
        p.leaf_key.public_key(),
        Profile::Client,
        t0(),
        t0() + DAY,
    )
    .unwrap();
    req.serial = Some(vec![0x80, 1]);
    assert!(int_ca.issue(&req, &mut TestRng(1)).is_err());
    req.serial = Some(vec![1; 21]);
    assert!(int_ca.issue(&req, &mut TestRng(1)).is_err());
    // not_after before not_before
    let req = IssueRequest::new(
        name("CN=x"),
        p.leaf_key.public_key(),
        Profile::Client,
        t0() + DAY,
        t0(),
    )
    .unwrap();
    assert!(int_ca.issue(&req, &mut TestRng(1)).is_err());
}

#[test]
fn composite_component_key_ids_cover_both_components() {
    let k = SigningKey::generate(Algorithm::DEFAULT, &mut TestRng(3)).unwrap();
    assert_eq!(ca::component_key_ids(k.public_key()).len(), 3);
    let k =
        SigningKey::generate(Algorithm::from_name("ed25519").unwrap(), &mut TestRng(3)).unwrap();
    assert_eq!(ca::component_key_ids(k.public_key()).len(), 1);
}

#[test]
fn malformed_certificate_der_is_an_error() {
    let p = make_pki(Algorithm::from_name("ed25519").unwrap(), 27);
    let der = p.leaf.to_der().unwrap();
    for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
        assert!(cert::from_der(&der[..cut]).is_err());
    }
    assert!(Certificate::from_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
}

#[test]
fn inspect_names_algorithms_components_and_extensions() {
    let p = make_pki(Algorithm::DEFAULT, 28);
    let text = secdispatch_pqpki::inspect::certificate(&p.leaf).unwrap();
    assert!(
        text.contains("id-MLDSA65-ECDSA-P256-SHA512 (1.3.6.1.5.5.7.6.45)"),
        "{text}"
    );
    assert!(text.contains("component: ML-DSA-65, 1952 bytes"), "{text}");
    assert!(text.contains("component: ECDSA P-256, 65 bytes"), "{text}");
    assert!(
        text.contains("basicConstraints") && text.contains("critical"),
        "{text}"
    );
    assert!(text.contains("DNS:       gateway.test"), "{text}");
    let ks = secdispatch_pqpki::inspect::key(p.root_key.public_key()).unwrap();
    assert_eq!(ks.public_key_len, 1952 + 65);
    assert_eq!(ks.components.len(), 2);
    let ec = make_pki(Algorithm::from_name("ecdsa-p256-sha256").unwrap(), 29);
    let ks = secdispatch_pqpki::inspect::key(ec.leaf_key.public_key()).unwrap();
    assert_eq!(ks.oid, "1.2.840.10045.2.1");
    assert!(ks.components.is_empty());
}

mod corruption {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Corrupting any byte of a composite certificate makes parsing or validation fail with an
        /// error value, never a panic, and never yields a valid chain unless the byte was unchanged.
        #[test]
        fn corrupted_certificates_fail_cleanly(pos in any::<prop::sample::Index>(), val in any::<u8>()) {
            let p = make_pki(Algorithm::from_name("id-MLDSA44-Ed25519-SHA512").unwrap(), 30);
            let mut der = p.leaf.to_der().unwrap();
            let i = pos.index(der.len());
            let changed = der[i] != val;
            der[i] = val;
            if let Ok(c) = cert::from_der(&der) {
                let r = validate::validate_chain(&c, &[p.int.clone()], &[p.root.clone()], &Options::at(t0()));
                if changed && c.to_der().unwrap() != p.leaf.to_der().unwrap() {
                    prop_assert!(r.is_err());
                }
                let _ = secdispatch_pqpki::inspect::certificate(&c);
            }
        }
    }
}
