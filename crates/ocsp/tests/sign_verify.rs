//! Signing with every kind of pqpki key and verifying as our client.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use der::{Decode, Encode};
use secdispatch_ocsp::*;
use secdispatch_pqpki::cert::Profile;
use x509_cert::ext::pkix::crl::CrlReason;

fn good(id: CertId) -> SingleResponse {
    SingleResponse::new(id, CertStatus::good(), now() - HOUR, Some(now() + 4 * HOUR)).unwrap()
}

fn id_for(pki: &Pki, serial: u64, h: HashAlgorithm) -> CertId {
    IssuerHashes::from_certificate(&pki.ca)
        .unwrap()
        .cert_id(h, serial_from_u64(serial).unwrap())
        .unwrap()
}

#[test]
fn every_signer_kind_signs_and_verifies() {
    for alg in [
        "ecdsa-p256-sha256",
        "ed25519",
        "rsa2048-pkcs1-sha256",
        "id-ML-DSA-44",
        "id-ML-DSA-65",
        "id-MLDSA44-ECDSA-P256-SHA256",
        "id-MLDSA65-ECDSA-P256-SHA512",
    ] {
        let pki = Pki::new(alg, alg);
        let signer = ResponseSigner::new(pki.ca_key.clone()).unwrap();
        let der = ResponseBuilder::new(now())
            .response(good(id_for(&pki, 42, HashAlgorithm::Sha256)))
            .sign(&signer, &mut rng())
            .unwrap();
        let v = verify_response(&der, &pki.ca, &[42], &VerifyOptions::at(now()))
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(v.status, CertStatus::good());
        assert_eq!(v.signer, SignerKind::Issuer);
        // Typed decode and re-encode is byte-identical.
        let resp = OcspResponse::from_der(&der).unwrap();
        assert_eq!(resp.to_der().unwrap(), der);
        let basic =
            BasicOcspResponse::from_der(resp.response_bytes.as_ref().unwrap().response.as_bytes())
                .unwrap();
        assert!(
            matches!(basic.tbs_response_data.responder_id, ResponderId::ByKey(ref k) if k.as_bytes() == key_hash(&pki.ca).unwrap())
        );
        // Tampering breaks the signature.
        let mut bad = der.clone();
        let i = bad.windows(2).position(|w| w == [0x80, 0x00]).unwrap();
        bad[i] = 0x82;
        assert!(matches!(
            verify_response(&bad, &pki.ca, &[42], &VerifyOptions::at(now())),
            Err(VerifyError::BadSignature(_))
        ));
        println!("{alg}: {} bytes", der.len());
    }
}

#[test]
fn by_name_revoked_with_reason_and_sha1_echo() {
    let pki = Pki::new("ecdsa-p256-sha256", "ByName CA");
    let signer = ResponseSigner::new(pki.ca_key.clone())
        .unwrap()
        .by_name(pki.ca.tbs_certificate().subject().clone());
    let id = id_for(&pki, 7, HashAlgorithm::Sha1);
    let st = CertStatus::revoked(now() - DAY, Some(CrlReason::KeyCompromise)).unwrap();
    let der = ResponseBuilder::new(now())
        .response(SingleResponse::new(id, st.clone(), now(), Some(now() + DAY)).unwrap())
        .sign(&signer, &mut rng())
        .unwrap();
    let v = verify_response(&der, &pki.ca, &[7], &VerifyOptions::at(now())).unwrap();
    assert_eq!(v.status, st);
}

#[test]
fn cert_id_must_match_never_first_single_response() {
    let pki = Pki::new("ed25519", "Match CA");
    let other = Pki::new("ed25519", "Other CA");
    let signer = ResponseSigner::new(pki.ca_key.clone()).unwrap();
    // First SingleResponse is for another serial (good), second for ours (revoked).
    let der = ResponseBuilder::new(now())
        .response(good(id_for(&pki, 1, HashAlgorithm::Sha256)))
        .response(
            SingleResponse::new(
                id_for(&pki, 2, HashAlgorithm::Sha256),
                CertStatus::revoked(now() - DAY, None).unwrap(),
                now(),
                Some(now() + DAY),
            )
            .unwrap(),
        )
        .sign(&signer, &mut rng())
        .unwrap();
    let v = verify_response(&der, &pki.ca, &[2], &VerifyOptions::at(now())).unwrap();
    assert!(matches!(v.status, CertStatus::Revoked(_)));
    assert_eq!(
        verify_response(&der, &pki.ca, &[3], &VerifyOptions::at(now())).unwrap_err(),
        VerifyError::NoMatchingResponse
    );
    // Same serial, other issuer's hashes: no match.
    let der = ResponseBuilder::new(now())
        .response(good(id_for(&other, 2, HashAlgorithm::Sha256)))
        .sign(&signer, &mut rng())
        .unwrap();
    assert_eq!(
        verify_response(&der, &pki.ca, &[2], &VerifyOptions::at(now())).unwrap_err(),
        VerifyError::NoMatchingResponse
    );
}

#[test]
fn freshness_and_nonce() {
    let pki = Pki::new("ed25519", "Fresh CA");
    let signer = ResponseSigner::new(pki.ca_key.clone()).unwrap();
    let nonce = Nonce::new(&[0x5a; 32]).unwrap();
    let der = ResponseBuilder::new(now())
        .response(good(id_for(&pki, 9, HashAlgorithm::Sha256)))
        .nonce(&nonce)
        .unwrap()
        .sign(&signer, &mut rng())
        .unwrap();
    let mut o = VerifyOptions::at(now());
    o.nonce = Some(&[0x5a; 32]);
    assert!(
        verify_response(&der, &pki.ca, &[9], &o)
            .unwrap()
            .nonce_echoed
    );
    o.nonce = Some(&[0x5b; 32]);
    assert_eq!(
        verify_response(&der, &pki.ca, &[9], &o).unwrap_err(),
        VerifyError::NonceMismatch
    );
    // Expired (beyond skew) and not yet valid.
    let late = VerifyOptions::at(now() + 5 * HOUR);
    assert_eq!(
        verify_response(&der, &pki.ca, &[9], &late).unwrap_err(),
        VerifyError::Expired
    );
    let within_skew = VerifyOptions::at(now() + 4 * HOUR + std::time::Duration::from_secs(60));
    assert!(verify_response(&der, &pki.ca, &[9], &within_skew).is_ok());
    let early = VerifyOptions::at(now() - 2 * HOUR);
    assert_eq!(
        verify_response(&der, &pki.ca, &[9], &early).unwrap_err(),
        VerifyError::NotYetValid
    );
    // No nonce in a pre-signed response: accepted unless required.
    let pre = ResponseBuilder::new(now())
        .response(good(id_for(&pki, 9, HashAlgorithm::Sha256)))
        .sign(&signer, &mut rng())
        .unwrap();
    let mut o = VerifyOptions::at(now());
    o.nonce = Some(&[1; 16]);
    assert!(
        !verify_response(&pre, &pki.ca, &[9], &o)
            .unwrap()
            .nonce_echoed
    );
    o.require_nonce = true;
    assert_eq!(
        verify_response(&pre, &pki.ca, &[9], &o).unwrap_err(),
        VerifyError::NonceMissing
    );
    // nextUpdate before thisUpdate: refused.
    let backwards = ResponseBuilder::new(now())
        .response(
            SingleResponse::new(
                id_for(&pki, 9, HashAlgorithm::Sha256),
                CertStatus::good(),
                now(),
                Some(now() - HOUR),
            )
            .unwrap(),
        )
        .sign(&signer, &mut rng())
        .unwrap();
    assert!(matches!(
        verify_response(&backwards, &pki.ca, &[9], &VerifyOptions::at(now())),
        Err(VerifyError::Decode(_))
    ));
    // nextUpdate absent: refused by default (RFC 9919).
    let no_next = ResponseBuilder::new(now())
        .response(
            SingleResponse::new(
                id_for(&pki, 9, HashAlgorithm::Sha256),
                CertStatus::good(),
                now(),
                None,
            )
            .unwrap(),
        )
        .sign(&signer, &mut rng())
        .unwrap();
    assert_eq!(
        verify_response(&no_next, &pki.ca, &[9], &VerifyOptions::at(now())).unwrap_err(),
        VerifyError::NoNextUpdate
    );
    // Unsuccessful.
    assert_eq!(
        verify_response(
            &OcspResponseStatus::Unauthorized.unsuccessful_response(),
            &pki.ca,
            &[9],
            &VerifyOptions::at(now())
        )
        .unwrap_err(),
        VerifyError::Unsuccessful(OcspResponseStatus::Unauthorized)
    );
}

#[test]
fn delegated_responder_needs_ocsp_signing_eku_and_same_ca() {
    let pki = Pki::new("ecdsa-p256-sha256", "Delegating CA");
    let rkey = Arc::new(key("id-ML-DSA-44"));
    let rcert = pki.issue(&rkey, "OCSP responder", Profile::OcspSigning, 1000);
    let signer = ResponseSigner::delegated(rkey.clone(), rcert.clone()).unwrap();
    let der = ResponseBuilder::new(now())
        .response(good(id_for(&pki, 5, HashAlgorithm::Sha256)))
        .sign(&signer, &mut rng())
        .unwrap();
    let v = verify_response(&der, &pki.ca, &[5], &VerifyOptions::at(now())).unwrap();
    assert_eq!(v.signer, SignerKind::Delegated);

    // A clientAuth-only certificate must not be accepted as a signer.
    let ckey = Arc::new(key("ed25519"));
    let ccert = pki.issue(&ckey, "not a responder", Profile::Client, 1001);
    let signer = ResponseSigner::delegated(ckey.clone(), ccert.clone()).unwrap();
    let der = ResponseBuilder::new(now())
        .response(good(id_for(&pki, 5, HashAlgorithm::Sha256)))
        .sign(&signer, &mut rng())
        .unwrap();
    assert!(matches!(
        verify_response(&der, &pki.ca, &[5], &VerifyOptions::at(now())),
        Err(VerifyError::ResponderNotAuthorized(_))
    ));
    // ... unless locally trusted (-VAfile).
    let mut o = VerifyOptions::at(now());
    let trusted = [ccert.clone()];
    o.trusted_responders = &trusted;
    assert_eq!(
        verify_response(&der, &pki.ca, &[5], &o).unwrap().signer,
        SignerKind::Trusted
    );

    // An OCSP-signing certificate from another CA is refused.
    let other = Pki::new("ecdsa-p256-sha256", "Other CA");
    let okey = Arc::new(key("ed25519"));
    let ocert = other.issue(&okey, "foreign responder", Profile::OcspSigning, 5);
    let signer = ResponseSigner::delegated(okey, ocert).unwrap();
    let der = ResponseBuilder::new(now())
        .response(good(id_for(&pki, 5, HashAlgorithm::Sha256)))
        .sign(&signer, &mut rng())
        .unwrap();
    assert!(matches!(
        verify_response(&der, &pki.ca, &[5], &VerifyOptions::at(now())),
        Err(VerifyError::ResponderNotAuthorized(_))
    ));
    // No certs and unknown key: unknown responder.
    let signer = ResponseSigner::new(Arc::new(key("ed25519"))).unwrap();
    let der = ResponseBuilder::new(now())
        .response(good(id_for(&pki, 5, HashAlgorithm::Sha256)))
        .sign(&signer, &mut rng())
        .unwrap();
    assert_eq!(
        verify_response(&der, &pki.ca, &[5], &VerifyOptions::at(now())).unwrap_err(),
        VerifyError::UnknownResponder
    );
    // A delegated signer whose certificate is for another key is refused at construction.
    assert!(ResponseSigner::delegated(Arc::new(key("ed25519")), rcert).is_err());
}

#[test]
fn range_responses_exact_and_placeholder() {
    let pki = Pki::new("ed25519", "Range CA");
    let signer = ResponseSigner::new(pki.ca_key.clone()).unwrap();
    let table = RangeTable::new(1..=1000, &[500]).unwrap();
    let Coverage::Good(r) = table.lookup(700) else {
        panic!()
    };
    let range = OcspRange::new(r);
    // Placeholder mode: CertID serial 0, one object for the whole range.
    let der = ResponseBuilder::new(now())
        .response(
            good(id_for(&pki, 0, HashAlgorithm::Sha256))
                .with_range(&range)
                .unwrap(),
        )
        .sign(&signer, &mut rng())
        .unwrap();
    for s in [501u64, 700, 1000] {
        let v = verify_response(
            &der,
            &pki.ca,
            &s.to_be_bytes()[6..]
                .iter()
                .copied()
                .skip_while(|b| *b == 0)
                .collect::<Vec<_>>(),
            &VerifyOptions::at(now()),
        )
        .unwrap();
        assert_eq!(v.range, Some(range));
    }
    for s in [500u64, 1001] {
        let b: Vec<u8> = s
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        assert_eq!(
            verify_response(&der, &pki.ca, &b, &VerifyOptions::at(now())).unwrap_err(),
            VerifyError::NoMatchingResponse
        );
    }
    // A client that did not opt in to ranges does not accept them.
    let mut o = VerifyOptions::at(now());
    o.accept_ranges = false;
    assert_eq!(
        verify_response(&der, &pki.ca, &[0x02, 0xbc], &o).unwrap_err(),
        VerifyError::NoMatchingResponse
    );
    // Exact mode: legacy-valid response for the real serial, range as a hint.
    let der = ResponseBuilder::new(now())
        .response(
            good(id_for(&pki, 700, HashAlgorithm::Sha256))
                .with_range(&range)
                .unwrap(),
        )
        .sign(&signer, &mut rng())
        .unwrap();
    assert!(verify_response(&der, &pki.ca, &[0x02, 0xbc], &o).is_ok());
}

#[test]
fn chain_bundle_each_element_signed_by_its_authority() {
    let root = Pki::new("id-ML-DSA-65", "Bundle Root");
    let inter = root.intermediate("id-MLDSA44-ECDSA-P256-SHA256", "Bundle Issuing", 2);
    let leaf_key = key("ed25519");
    let leaf = inter.issue(&leaf_key, "leaf", Profile::Client, 77);
    let leaf_id = cert_id_for(&inter.ca, &leaf, HashAlgorithm::Sha256).unwrap();
    let inter_id = cert_id_for(&root.ca, &inter.ca, HashAlgorithm::Sha256).unwrap();
    let nonce = Nonce::new(&[3; 32]).unwrap();
    let e_leaf = ResponseBuilder::new(now())
        .response(good(leaf_id.clone()))
        .nonce(&nonce)
        .unwrap()
        .sign_basic(
            &ResponseSigner::new(inter.ca_key.clone()).unwrap(),
            &mut rng(),
        )
        .unwrap();
    let e_inter = ResponseBuilder::new(now())
        .response(good(inter_id))
        .sign_basic(
            &ResponseSigner::new(root.ca_key.clone()).unwrap(),
            &mut rng(),
        )
        .unwrap();
    let chain = [leaf.clone(), inter.ca.clone(), root.ca.clone()];
    // Order inside the bundle does not matter: matching is by CertID.
    for elements in [[&e_leaf[..], &e_inter[..]], [&e_inter[..], &e_leaf[..]]] {
        let der = bundle_response(&elements).unwrap();
        let mut o = VerifyOptions::at(now());
        o.nonce = Some(&[3; 32]);
        let st = verify_bundle(&der, &chain, &o).unwrap();
        assert_eq!(st.len(), 2);
        assert!(st[0].nonce_echoed);
        assert!(st.iter().all(|s| s.status == CertStatus::good()));
        assert_eq!(
            decode_bundle(&bundle_der(&elements).unwrap())
                .unwrap()
                .len(),
            2
        );
    }
    // Missing the intermediate's status.
    let der = bundle_response(&[&e_leaf]).unwrap();
    assert!(verify_bundle(&der, &chain, &VerifyOptions::at(now())).is_err());
    // The leaf status signed by the root (wrong authority) is refused.
    let forged = ResponseBuilder::new(now())
        .response(good(leaf_id))
        .sign_basic(
            &ResponseSigner::new(root.ca_key.clone()).unwrap(),
            &mut rng(),
        )
        .unwrap();
    let der = bundle_response(&[&forged, &e_inter]).unwrap();
    assert!(verify_bundle(&der, &chain, &VerifyOptions::at(now())).is_err());
    assert!(bundle_response(&[]).is_err());
}

#[test]
fn decode_request_lookup_and_answer_flow() {
    let pki = Pki::new("ecdsa-p256-sha256", "Flow CA");
    let mut index = IssuerIndex::new();
    index.insert(&pki.ca, "flow").unwrap();
    let req = RequestBuilder::new()
        .cert_id(id_for(&pki, 0x1234, HashAlgorithm::Sha1))
        .nonce(&Nonce::new(&[9; 16]).unwrap())
        .unwrap()
        .to_der()
        .unwrap();
    let p = decode_request(&req, &RequestPolicy::default()).unwrap();
    let id = p.cert_ids().next().unwrap();
    let hit = index.lookup(id).unwrap();
    assert_eq!(
        (*hit.issuer, hit.hash, hit.serial),
        ("flow", HashAlgorithm::Sha1, &[0x12, 0x34][..])
    );
    let signer = ResponseSigner::new(pki.ca_key.clone()).unwrap();
    let der = ResponseBuilder::new(now())
        .response(good(id.clone()))
        .nonce(p.nonce.as_ref().unwrap())
        .unwrap()
        .sign(&signer, &mut rng())
        .unwrap();
    let mut o = VerifyOptions::at(now());
    o.nonce = Some(&[9; 16]);
    assert!(
        verify_response(&der, &pki.ca, &[0x12, 0x34], &o)
            .unwrap()
            .nonce_echoed
    );
    // Extended revoke for a non-issued serial.
    let der = ResponseBuilder::new(now())
        .response(
            SingleResponse::new(
                id.clone(),
                CertStatus::revoked(std::time::UNIX_EPOCH, Some(CrlReason::CertificateHold))
                    .unwrap(),
                now(),
                Some(now() + DAY),
            )
            .unwrap(),
        )
        .extended_revoke()
        .unwrap()
        .sign(&signer, &mut rng())
        .unwrap();
    assert!(
        verify_response(&der, &pki.ca, &[0x12, 0x34], &VerifyOptions::at(now()))
            .unwrap()
            .extended_revoke
    );
}

#[test]
fn range_single_response_modes() {
    let pki = Pki::new("ed25519", "Range helper CA");
    let hashes = IssuerHashes::from_certificate(&pki.ca).unwrap();
    let signer = ResponseSigner::new(pki.ca_key.clone()).unwrap();
    let range = OcspRange::new(10..=20);
    let t = now();
    assert!(
        range_single_response(
            &hashes,
            HashAlgorithm::Sha256,
            &range,
            RangeMode::Exact(21),
            t,
            t + RANGE_VALIDITY
        )
        .is_err()
    );
    for (mode, serial_ok) in [
        (RangeMode::Exact(15), true),
        (RangeMode::Placeholder, false),
    ] {
        let single = range_single_response(
            &hashes,
            HashAlgorithm::Sha256,
            &range,
            mode,
            t,
            t + RANGE_VALIDITY,
        )
        .unwrap();
        assert_eq!(single.range(), Some(range));
        let der = ResponseBuilder::new(t)
            .response(single)
            .sign(&signer, &mut rng())
            .unwrap();
        // Opted-in client: both modes answer serial 15.
        assert!(verify_response(&der, &pki.ca, &[15], &VerifyOptions::at(t)).is_ok());
        // Legacy client (no ranges): only the exact mode is usable.
        let mut legacy = VerifyOptions::at(t);
        legacy.accept_ranges = false;
        assert_eq!(
            verify_response(&der, &pki.ca, &[15], &legacy).is_ok(),
            serial_ok
        );
    }
}

#[test]
fn presign_plan_signs_ranges_and_revocations() {
    let pki = Pki::new("ecdsa-p256-sha256", "Presign CA");
    let hashes = IssuerHashes::from_certificate(&pki.ca).unwrap();
    let signer = ResponseSigner::new(pki.ca_key.clone()).unwrap();
    let revoked: Vec<u64> = (1..=10u64).map(|i| i * 1000).collect();
    let plan = plan_ranges(1..=10_500, &revoked).unwrap();
    let t = now();
    let signed = presign_plan(
        &plan,
        &hashes,
        HashAlgorithm::Sha256,
        &signer,
        |_| (t - DAY, Some(CrlReason::Superseded)),
        t,
        t + RANGE_VALIDITY,
        &mut rng(),
    )
    .unwrap();
    assert_eq!((signed.good.len(), signed.revoked.len()), (11, 10));
    // A serial inside the third range is answered by that range's response.
    let (r, der) = &signed.good[2];
    assert!(r.contains(&2500));
    let v = verify_response(&der[..], &pki.ca, &[0x09, 0xc4], &VerifyOptions::at(t)).unwrap();
    assert_eq!(v.status, CertStatus::good());
    assert_eq!(v.next_update, Some(t + RANGE_VALIDITY));
    // ... and never for a revoked serial or one past the last issued.
    for s in [3000u64, 10_501] {
        let b: Vec<u8> = s
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        for (_, der) in &signed.good {
            assert!(verify_response(der, &pki.ca, &b, &VerifyOptions::at(t)).is_err());
        }
    }
    let (s, der) = &signed.revoked[2];
    assert_eq!(*s, 3000);
    let v = verify_response(der, &pki.ca, &[0x0b, 0xb8], &VerifyOptions::at(t)).unwrap();
    assert!(matches!(v.status, CertStatus::Revoked(_)));
}
