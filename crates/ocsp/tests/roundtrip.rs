//! Codec round trips, CertIDs, request validation, nonce forms, GET paths, ranges, bundles.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use der::{Decode, Encode};
use secdispatch_ocsp::types::{TbsRequest, Version};
use secdispatch_ocsp::*;
use secdispatch_pqpki::cert::Profile;
use x509_cert::ext::pkix::crl::CrlReason;

#[test]
fn unsuccessful_responses_are_five_bytes() {
    for (s, b) in [
        (OcspResponseStatus::MalformedRequest, 1u8),
        (OcspResponseStatus::InternalError, 2),
        (OcspResponseStatus::TryLater, 3),
        (OcspResponseStatus::SigRequired, 5),
        (OcspResponseStatus::Unauthorized, 6),
    ] {
        let bytes = s.unsuccessful_response();
        assert_eq!(bytes, [0x30, 0x03, 0x0a, 0x01, b]);
        let typed = OcspResponse {
            response_status: s,
            response_bytes: None,
        };
        assert_eq!(typed.to_der().unwrap(), bytes);
        assert_eq!(OcspResponse::from_der(&bytes).unwrap(), typed);
    }
    assert!(OcspResponse::from_der(&[0x30, 0x03, 0x0a, 0x01, 4]).is_err());
}

#[test]
fn cert_status_encodings() {
    assert_eq!(CertStatus::good().to_der().unwrap(), [0x80, 0x00]);
    assert_eq!(CertStatus::unknown().to_der().unwrap(), [0x82, 0x00]);
    let r = CertStatus::revoked(now(), Some(CrlReason::KeyCompromise)).unwrap();
    let d = r.to_der().unwrap();
    assert_eq!(d[0], 0xa1);
    assert_eq!(CertStatus::from_der(&d).unwrap(), r);
}

#[test]
fn cert_id_sha1_and_sha256_and_lookup() {
    let pki = Pki::new("ecdsa-p256-sha256", "CertID CA");
    let other = Pki::new("ed25519", "Other CA");
    let leaf_key = key("ed25519");
    let leaf = pki.issue(&leaf_key, "leaf", Profile::Client, 0x99);
    let mut index = IssuerIndex::new();
    index.insert(&pki.ca, 7u32).unwrap();
    for alg in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
        let id = cert_id_for(&pki.ca, &leaf, alg).unwrap();
        assert_eq!(id.issuer_name_hash.as_bytes().len(), alg.output_len());
        let hit = index.lookup(&id).unwrap();
        assert_eq!(*hit.issuer, 7);
        assert_eq!(hit.hash, alg);
        assert_eq!(hit.serial, &[0x99]);
        // Round trip.
        assert_eq!(CertId::from_der(&id.to_der().unwrap()).unwrap(), id);
        // Other issuer: unauthorized.
        let id2 = cert_id_for(&other.ca, &leaf, alg).unwrap();
        let e = index.lookup(&id2).unwrap_err();
        assert_eq!(e, RequestError::UnknownIssuer);
        assert_eq!(e.status(), OcspResponseStatus::Unauthorized);
    }
    // Name hash of one issuer with key hash of the other: no match.
    let h = IssuerHashes::from_certificate(&pki.ca).unwrap();
    let mut id = h
        .cert_id(HashAlgorithm::Sha256, serial_from_u64(5).unwrap())
        .unwrap();
    id.issuer_name_hash = der::asn1::OctetString::new(
        IssuerHashes::from_certificate(&other.ca)
            .unwrap()
            .name_hash(HashAlgorithm::Sha256),
    )
    .unwrap();
    assert_eq!(index.lookup(&id).unwrap_err(), RequestError::UnknownIssuer);
    // Unsupported hash algorithm (MD5): unauthorized.
    let mut id = h
        .cert_id(HashAlgorithm::Sha1, serial_from_u64(5).unwrap())
        .unwrap();
    id.hash_algorithm.oid = const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.2.5");
    let e = index.lookup(&id).unwrap_err();
    assert!(matches!(e, RequestError::UnsupportedHashAlgorithm(_)));
    assert_eq!(e.status(), OcspResponseStatus::Unauthorized);
    // A restricted index refuses SHA-1.
    let mut only256 = IssuerIndex::new().with_hash_algorithms(&[HashAlgorithm::Sha256]);
    only256.insert(&pki.ca, 1u8).unwrap();
    let id = h
        .cert_id(HashAlgorithm::Sha1, serial_from_u64(5).unwrap())
        .unwrap();
    assert!(matches!(
        only256.lookup(&id),
        Err(RequestError::UnsupportedHashAlgorithm(_))
    ));
}

#[test]
fn serial_helpers() {
    assert_eq!(serial_from_u64(0).unwrap().as_bytes(), &[0]);
    assert_eq!(serial_from_u64(0x80).unwrap().as_bytes(), &[0, 0x80]);
    let i = serial_from_magnitude(&[0, 0, 0x12, 0x34]).unwrap();
    assert_eq!(serial_magnitude(&i), Some(&[0x12, 0x34][..]));
    let neg = der::asn1::Int::new(&[0xff, 0x01]).unwrap();
    assert_eq!(serial_magnitude(&neg), None);
}

fn req_with(exts: Vec<x509_cert::ext::Extension>, n: usize) -> Vec<u8> {
    let pki = Pki::new("ed25519", "Req CA");
    let h = IssuerHashes::from_certificate(&pki.ca).unwrap();
    let mut b = RequestBuilder::new();
    for i in 0..n {
        b = b.cert_id(
            h.cert_id(
                HashAlgorithm::Sha256,
                serial_from_u64(i as u64 + 1).unwrap(),
            )
            .unwrap(),
        );
    }
    for e in exts {
        b = b.extension(e);
    }
    b.to_der().unwrap()
}

fn nonce_ext(extn_value: &[u8]) -> x509_cert::ext::Extension {
    ext::extension(oid::OCSP_NONCE, false, extn_value).unwrap()
}

#[test]
fn request_round_trip_and_extensions() {
    let pki = Pki::new("ed25519", "Req CA");
    let h = IssuerHashes::from_certificate(&pki.ca).unwrap();
    let nonce = Nonce::new(&[0xab; 32]).unwrap();
    let prefs = vec![PreferredSignatureAlgorithm {
        sig_identifier: spki::AlgorithmIdentifierOwned {
            oid: const_oid::ObjectIdentifier::new_unwrap("1.3.101.112"),
            parameters: None,
        },
        pub_key_alg_identifier: None,
    }];
    let der = RequestBuilder::new()
        .cert_id(
            h.cert_id(HashAlgorithm::Sha256, serial_from_u64(3).unwrap())
                .unwrap(),
        )
        .cert_id(
            h.cert_id(HashAlgorithm::Sha1, serial_from_u64(4).unwrap())
                .unwrap(),
        )
        .nonce(&nonce)
        .unwrap()
        .range_opt_in()
        .unwrap()
        .include_chain()
        .unwrap()
        .preferred_signature_algorithms(&prefs)
        .unwrap()
        .to_der()
        .unwrap();
    let p = decode_request(&der, &RequestPolicy::default()).unwrap();
    assert_eq!(p.cert_ids().count(), 2);
    assert_eq!(p.nonce.as_ref().unwrap().value(), &[0xab; 32]);
    assert!(p.range_opt_in && p.include_chain && p.wants_bundle());
    assert!(p.accepts(&oid::OCSP_BASIC));
    assert_eq!(p.preferred_signature_algorithms, prefs);
    assert_eq!(p.request.to_der().unwrap(), der);
    // Version v1 is DEFAULT: absent from the DER.
    let tbs = TbsRequest::from_der(&p.request.tbs_request.to_der().unwrap()).unwrap();
    assert_eq!(tbs.version, Version::V1);
}

#[test]
fn nonce_lengths_and_forms() {
    let policy = RequestPolicy::default();
    // DER-wrapped forms: 1 and 128 octets accepted, 0 and 129 refused.
    for (n, ok) in [
        (1usize, true),
        (32, true),
        (128, true),
        (0, false),
        (129, false),
    ] {
        let v = der::asn1::OctetString::new(vec![7u8; n])
            .unwrap()
            .to_der()
            .unwrap();
        let r = decode_request(&req_with(vec![nonce_ext(&v)], 1), &policy);
        match (ok, r) {
            (true, Ok(p)) => assert_eq!(p.nonce.unwrap().value().len(), n),
            (false, Err(e)) => {
                assert_eq!(e, RequestError::NonceLength(n));
                assert_eq!(e.status(), OcspResponseStatus::MalformedRequest);
                assert_eq!(e.response(), [0x30, 3, 0x0a, 1, 1]);
            }
            (ok, r) => panic!("{n}: expected ok={ok}, got {r:?}"),
        }
    }
    // Raw form (old clients): the bytes themselves.
    let p = decode_request(&req_with(vec![nonce_ext(&[1, 2, 3, 4])], 1), &policy).unwrap();
    let n = p.nonce.unwrap();
    assert_eq!(n.value(), &[1, 2, 3, 4]);
    assert_eq!(n.extn_value(), &[1, 2, 3, 4]);
    // Raw form longer than 128.
    let e = decode_request(&req_with(vec![nonce_ext(&[9u8; 129])], 1), &policy).unwrap_err();
    assert_eq!(e, RequestError::NonceLength(129));
    // Empty raw extnValue.
    let e = decode_request(&req_with(vec![nonce_ext(&[])], 1), &policy).unwrap_err();
    assert_eq!(e, RequestError::NonceLength(0));
}

#[test]
fn request_validation_errors() {
    let policy = RequestPolicy::default();
    let e = decode_request(&[0x30, 0x00], &policy).unwrap_err();
    assert!(matches!(e, RequestError::Decode(_)));
    assert_eq!(
        (e.status(), e.http_status()),
        (OcspResponseStatus::MalformedRequest, 400)
    );
    assert!(matches!(
        decode_request(b"garbage", &policy),
        Err(RequestError::Decode(_))
    ));
    // Empty requestList.
    let empty = RequestBuilder::new().to_der().unwrap();
    assert_eq!(
        decode_request(&empty, &policy).unwrap_err(),
        RequestError::EmptyRequestList
    );
    // Too many.
    let many = req_with(vec![], 17);
    assert!(matches!(
        decode_request(&many, &policy),
        Err(RequestError::TooManyRequests { count: 17, max: 16 })
    ));
    // Too large.
    let small = RequestPolicy {
        max_len: 10,
        ..RequestPolicy::default()
    };
    assert!(matches!(
        decode_request(&req_with(vec![], 1), &small),
        Err(RequestError::TooLarge { .. })
    ));
    // Unknown critical extension.
    let crit = ext::extension(
        const_oid::ObjectIdentifier::new_unwrap("1.2.3.4"),
        true,
        &[5, 0],
    )
    .unwrap();
    assert!(matches!(
        decode_request(&req_with(vec![crit], 1), &policy),
        Err(RequestError::UnsupportedCriticalExtension(_))
    ));
    // Unknown non-critical extension: ignored.
    let ok = ext::extension(
        const_oid::ObjectIdentifier::new_unwrap("1.2.3.4"),
        false,
        &[5, 0],
    )
    .unwrap();
    assert!(decode_request(&req_with(vec![ok], 1), &policy).is_ok());
    // Duplicate nonce.
    let v = der::asn1::OctetString::new(vec![1u8; 8])
        .unwrap()
        .to_der()
        .unwrap();
    assert!(matches!(
        decode_request(&req_with(vec![nonce_ext(&v), nonce_ext(&v)], 1), &policy),
        Err(RequestError::DuplicateExtension(_))
    ));
    // Signature required.
    let sig = RequestPolicy {
        require_signature: true,
        ..RequestPolicy::default()
    };
    let e = decode_request(&req_with(vec![], 1), &sig).unwrap_err();
    assert_eq!(e.status(), OcspResponseStatus::SigRequired);
    // Bad AcceptableResponses value.
    let bad = ext::extension(oid::OCSP_RESPONSE, false, &[0x04, 0x00]).unwrap();
    assert!(matches!(
        decode_request(&req_with(vec![bad], 1), &policy),
        Err(RequestError::BadExtension { .. })
    ));
    // Trailing garbage after the request.
    let mut t = req_with(vec![], 1);
    t.push(0);
    assert!(matches!(
        decode_request(&t, &policy),
        Err(RequestError::Decode(_))
    ));
}

#[test]
fn get_path_decoding() {
    let der = req_with(vec![], 1);
    use base64::Engine;
    let std = base64::engine::general_purpose::STANDARD.encode(&der);
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der);
    let enc = encode_get_path(&der);
    assert!(!enc.contains('/') && !enc.contains('+') && !enc.contains('='));
    let cases = [
        format!("/{enc}"),
        format!("//{enc}"),
        format!("/ocsp/{enc}"),
        format!("/a/b/c/{enc}"),
        format!("/{std}"),
        format!("/ocsp/{std}"),
        format!("/{}", std.replace('+', " ")),
        format!("/{}", std.replace('+', "%20")),
        format!("/{}", std.trim_end_matches('=')),
        format!("/{url}"),
        format!("/prefix//{url}"),
        enc.clone(),
    ];
    for (i, c) in cases.iter().enumerate() {
        assert_eq!(decode_get_path(c).unwrap(), der, "case {i}: {c}");
    }
    // Lower-case percent escapes are fine.
    assert_eq!(
        decode_get_path(&format!(
            "/{}",
            enc.replace("%2B", "%2b").replace("%2F", "%2f")
        ))
        .unwrap(),
        der
    );
    assert_eq!(decode_get_path("/").unwrap_err(), GetPathError::Empty);
    assert_eq!(decode_get_path("").unwrap_err(), GetPathError::Empty);
    assert_eq!(
        decode_get_path("/MEI%zz").unwrap_err(),
        GetPathError::PercentEscape(4)
    );
    assert_eq!(
        decode_get_path("/!!!").unwrap_err(),
        GetPathError::NotBase64Der
    );
    // Valid base64, but not one DER SEQUENCE.
    assert_eq!(
        decode_get_path("/AAAA").unwrap_err(),
        GetPathError::NotBase64Der
    );
    // Hostile paths with many candidate positions stay cheap and fail cleanly.
    let hostile = "/M".repeat(get::MAX_GET_PATH / 2 - 1);
    assert_eq!(
        decode_get_path(&hostile).unwrap_err(),
        GetPathError::NotBase64Der
    );
    // More prefix segments than candidates tried, none starting with 'M': still found.
    assert_eq!(
        decode_get_path(&format!("{}/{enc}", "/x".repeat(100))).unwrap(),
        der
    );
    let long = "A".repeat(get::MAX_GET_PATH + 1);
    assert!(matches!(
        decode_get_path(&long),
        Err(GetPathError::TooLong { .. })
    ));
    let e: RequestError = GetPathError::NotBase64Der.into();
    assert_eq!(
        (e.status(), e.http_status()),
        (OcspResponseStatus::MalformedRequest, 400)
    );
}

#[test]
fn range_extension_der() {
    let r = OcspRange::new(5..=0x1234);
    let d = r.to_der().unwrap();
    assert_eq!(d, [0x30, 0x07, 0x80, 0x01, 0x05, 0x81, 0x02, 0x12, 0x34]);
    assert_eq!(OcspRange::from_der(&d).unwrap(), r);
    let open = OcspRange {
        start: 0x80,
        end: None,
    };
    let d = open.to_der().unwrap();
    assert_eq!(d, [0x30, 0x04, 0x80, 0x02, 0x00, 0x80]);
    assert_eq!(OcspRange::from_der(&d).unwrap(), open);
    assert!(open.contains(u64::MAX) && !open.contains(0x7f));
    // end < start refused.
    assert!(OcspRange::from_der(&[0x30, 0x06, 0x80, 0x01, 0x05, 0x81, 0x01, 0x04]).is_err());
}

#[test]
fn range_plan_ten_million_with_thousand_revocations() {
    let n = 10_000_000u64;
    let revoked: Vec<u64> = (1..=1000u64).map(|i| i * 9_973).collect();
    let plan = plan_ranges(1..=n, &revoked).unwrap();
    assert_eq!(plan.good.len(), 1_001);
    assert_eq!(plan.revoked.len(), 1_000);
    assert_eq!(plan.signatures(), 2_001);
    // Every issued serial covered exactly once, nothing outside 1..=n.
    let covered: u64 = plan.good.iter().map(|r| r.end() - r.start() + 1).sum();
    assert_eq!(covered + 1_000, n);
    assert_eq!(*plan.good[0].start(), 1);
    assert_eq!(*plan.good.last().unwrap().end(), n);
}

#[test]
fn range_table_lookup_split_and_never_issued() {
    let mut t = RangeTable::new(1..=100, &[10, 11, 50]).unwrap();
    assert_eq!(t.plan().good, vec![1..=9, 12..=49, 51..=100]);
    assert_eq!(t.lookup(5), Coverage::Good(1..=9));
    assert_eq!(t.lookup(10), Coverage::Revoked);
    assert_eq!(t.lookup(0), Coverage::NotIssued);
    assert_eq!(t.lookup(101), Coverage::NotIssued);
    let s = t.revoke(30).unwrap().unwrap();
    assert_eq!(s.removed, 12..=49);
    assert_eq!(s.added, vec![12..=29, 31..=49]);
    assert_eq!(t.lookup(30), Coverage::Revoked);
    assert_eq!(t.lookup(31), Coverage::Good(31..=49));
    assert_eq!(t.revoke(30).unwrap(), None);
    assert!(t.revoke(1000).is_err());
    // Edge revocations leave no empty ranges.
    let s = t.revoke(1).unwrap().unwrap();
    assert_eq!(s.added, vec![2..=9]);
    let s = t.revoke(100).unwrap().unwrap();
    assert_eq!(s.added, vec![51..=99]);
    // Issuance extends with a new range, never beyond what was issued.
    assert_eq!(t.extend_issued(120), Some(101..=120));
    assert_eq!(t.lookup(121), Coverage::NotIssued);
    assert_eq!(t.lookup(110), Coverage::Good(101..=120));
    assert_eq!(t.extend_issued(90), None);
    // Nothing issued: no good ranges at all.
    #[allow(clippy::reversed_empty_ranges)]
    let empty = RangeTable::new(1..=0, &[]).unwrap();
    assert_eq!(empty.plan().signatures(), 0);
    assert_eq!(empty.lookup(1), Coverage::NotIssued);
    assert!(RangeTable::new(1..=10, &[5, 3]).is_err());
    assert!(RangeTable::new(1..=10, &[11]).is_err());
    // Adjacent revocations.
    let t = RangeTable::new(1..=10, &[1, 2, 3, 9, 10]).unwrap();
    assert_eq!(t.plan().good, vec![4..=8]);
    let t = RangeTable::new(u64::MAX - 2..=u64::MAX, &[u64::MAX]).unwrap();
    assert_eq!(t.plan().good, vec![u64::MAX - 2..=u64::MAX - 1]);
}

#[test]
fn choose_signer_by_preference() {
    let algs: Vec<_> = [
        "ecdsa-p256-sha256",
        "id-ML-DSA-44",
        "id-MLDSA44-ECDSA-P256-SHA256",
    ]
    .iter()
    .map(|a| ResponseSigner::new(key(a)).unwrap())
    .collect();
    let variants = || {
        algs.iter()
            .map(|s| (s.signature_algorithm(), s.key_algorithm()))
    };
    let pref = |s: &ResponseSigner| PreferredSignatureAlgorithm {
        sig_identifier: s.signature_algorithm().clone(),
        pub_key_alg_identifier: None,
    };
    assert_eq!(choose_signer(&[], variants()), None);
    assert_eq!(choose_signer(&[pref(&algs[1])], variants()), Some(1));
    assert_eq!(
        choose_signer(&[pref(&algs[2]), pref(&algs[0])], variants()),
        Some(2)
    );
    let ed = PreferredSignatureAlgorithm {
        sig_identifier: spki::AlgorithmIdentifierOwned {
            oid: const_oid::ObjectIdentifier::new_unwrap("1.3.101.112"),
            parameters: None,
        },
        pub_key_alg_identifier: None,
    };
    assert_eq!(
        choose_signer(&[ed.clone(), pref(&algs[1])], variants()),
        Some(1)
    );
    // pubKeyAlgIdentifier that no variant has.
    let mut p = pref(&algs[0]);
    p.pub_key_alg_identifier = Some(ed.sig_identifier.clone());
    assert_eq!(choose_signer(&[p], variants()), None);
}
