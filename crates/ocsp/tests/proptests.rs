//! Property tests: decoders never panic, codecs round-trip, the range table keeps its invariants.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use common::*;
use der::{Decode, Encode};
use proptest::prelude::*;
use secdispatch_ocsp::*;

struct Fixture {
    issuer: IssuerHashes,
    ca: x509_cert::Certificate,
    request: Vec<u8>,
    response: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pki = Pki::new("ed25519", "Prop CA");
        let issuer = IssuerHashes::from_certificate(&pki.ca).unwrap();
        let id = issuer
            .cert_id(HashAlgorithm::Sha256, serial_from_u64(1234).unwrap())
            .unwrap();
        let request = RequestBuilder::new()
            .cert_id(id.clone())
            .nonce(&Nonce::new(&[1; 32]).unwrap())
            .unwrap()
            .range_opt_in()
            .unwrap()
            .to_der()
            .unwrap();
        let response = ResponseBuilder::new(now())
            .response(
                SingleResponse::new(id, CertStatus::good(), now(), Some(now() + HOUR))
                    .unwrap()
                    .with_range(&OcspRange::new(1..=2000))
                    .unwrap(),
            )
            .sign(
                &ResponseSigner::new(pki.ca_key.clone()).unwrap(),
                &mut rng(),
            )
            .unwrap();
        Fixture {
            issuer,
            ca: pki.ca,
            request,
            response,
        }
    })
}

fn mutate(base: &[u8], edits: &[(usize, u8)], cut: usize) -> Vec<u8> {
    let mut v = base.to_vec();
    for (i, b) in edits {
        let n = v.len();
        if n > 0 {
            v[i % n] = *b;
        }
    }
    v.truncate(v.len().saturating_sub(cut % 4));
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn request_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_request(&bytes, &RequestPolicy::default());
    }

    #[test]
    fn mutated_requests_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6), cut in any::<usize>()) {
        let f = fixture();
        let v = mutate(&f.request, &edits, cut);
        if let Ok(p) = decode_request(&v, &RequestPolicy::default()) {
            let mut index = IssuerIndex::new();
            index.insert(&f.ca, ()).unwrap();
            for id in p.cert_ids() {
                let _ = index.lookup(id);
            }
            // What decodes re-encodes to the same bytes (DER is canonical).
            prop_assert_eq!(p.request.to_der().unwrap(), v);
        }
    }

    #[test]
    fn response_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = OcspResponse::from_der(&bytes);
        let _ = BasicOcspResponse::from_der(&bytes);
        let _ = decode_bundle(&bytes);
        let _ = OcspRange::from_der(&bytes);
        let _ = verify_response(&bytes, &fixture().ca, &[1], &VerifyOptions::at(now()));
    }

    #[test]
    fn mutated_responses_never_verify_wrongly(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4), cut in any::<usize>()) {
        let f = fixture();
        let v = mutate(&f.response, &edits, cut);
        let r = verify_response(&v, &f.ca, &[0x04, 0xd2], &VerifyOptions::at(now()));
        if v != f.response {
            // A changed byte either breaks decoding/signature or lies outside the signed part
            // (e.g. inside the unsigned framing), never produces a different verified status.
            if let Ok(s) = r {
                prop_assert_eq!(s.status, CertStatus::good());
            }
        } else {
            prop_assert!(r.is_ok());
        }
    }

    #[test]
    fn get_path_never_panics(s in ".{0,300}") {
        let _ = decode_get_path(&s);
    }

    #[test]
    fn request_round_trip_and_get_path(
        serial in proptest::collection::vec(any::<u8>(), 1..20),
        nonce in proptest::collection::vec(any::<u8>(), 1..=128),
        sha1 in any::<bool>(),
        prefix in "(/[a-z]{1,8}){0,3}/{1,2}",
    ) {
        let f = fixture();
        let h = if sha1 { HashAlgorithm::Sha1 } else { HashAlgorithm::Sha256 };
        let id = f.issuer.cert_id(h, serial_from_magnitude(&serial).unwrap()).unwrap();
        let der = RequestBuilder::new()
            .cert_id(id.clone())
            .nonce(&Nonce::new(&nonce).unwrap())
            .unwrap()
            .to_der()
            .unwrap();
        let p = decode_request(&der, &RequestPolicy::default()).unwrap();
        prop_assert_eq!(p.cert_ids().next().unwrap(), &id);
        prop_assert_eq!(p.nonce.as_ref().unwrap().value(), &nonce[..]);
        let path = format!("{prefix}{}", encode_get_path(&der));
        prop_assert_eq!(decode_get_path(&path).unwrap(), der.clone());
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.encode(&der);
        prop_assert_eq!(decode_get_path(&format!("{prefix}{raw}")).unwrap(), der);
    }

    #[test]
    fn range_round_trip(start in any::<u64>(), len in proptest::option::of(any::<u64>())) {
        let r = OcspRange { start, end: len.map(|l| start.saturating_add(l)) };
        prop_assert_eq!(OcspRange::from_der(&r.to_der().unwrap()).unwrap(), r);
    }

    #[test]
    fn range_table_invariants(
        last in 1u64..400,
        revoked in proptest::collection::btree_set(1u64..400, 0..40),
        later in proptest::collection::vec(1u64..400, 0..10),
    ) {
        let revoked: Vec<u64> = revoked.into_iter().filter(|r| *r <= last).collect();
        let mut t = RangeTable::new(1..=last, &revoked).unwrap();
        for s in later {
            let before = t.lookup(s);
            let split = t.revoke(s);
            match before {
                Coverage::NotIssued => prop_assert!(split.is_err()),
                Coverage::Revoked => prop_assert_eq!(split.unwrap(), None),
                Coverage::Good(r) => {
                    let sp = split.unwrap().unwrap();
                    prop_assert_eq!(sp.removed, r);
                    prop_assert!(sp.added.iter().all(|a| !a.contains(&s)));
                }
            }
        }
        let plan = t.plan();
        for serial in 0..=last + 1 {
            let in_good = plan.good.iter().filter(|g| g.contains(&serial)).count();
            let is_rev = plan.revoked.binary_search(&serial).is_ok();
            if serial == 0 || serial > last {
                prop_assert_eq!(in_good, 0);
                prop_assert_eq!(t.lookup(serial), Coverage::NotIssued);
            } else {
                prop_assert_eq!(in_good + usize::from(is_rev), 1);
            }
        }
        prop_assert!(plan.good.len() <= plan.revoked.len() + 1);
    }
}
