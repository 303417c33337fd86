//! Property tests: structured-field round trips (our serializer agrees with `sfv`'s and
//! parses back to the same values), raw message round trips, and no panic on any input.
#![allow(
    clippy::field_reassign_with_default,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use proptest::prelude::*;
use secdispatch_httpsig::component::{ComponentId, ComponentParam};
use secdispatch_httpsig::digest::{DigestAlgorithm, Digests, parse_digest_field};
use secdispatch_httpsig::fields::{
    SignatureRequest, accept_signature_value, parse_accept_signature, parse_signature,
    parse_signature_input, signature_input_member, signature_member,
};
use secdispatch_httpsig::http1::RawMessage;
use secdispatch_httpsig::params::{SignatureInput, SignatureParams};

fn sf_string() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[ -~]{0,24}").unwrap()
}

fn sf_key() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z*][a-z0-9_.*-]{0,12}").unwrap()
}

fn component() -> impl Strategy<Value = ComponentId> {
    let field = || proptest::string::string_regex("[a-z][a-z0-9-]{0,15}").unwrap();
    prop_oneof![
        (field(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(n, req, tr, bs): (String, bool, bool, bool)| {
                let mut p = Vec::new();
                if req {
                    p.push(ComponentParam::Req);
                }
                if tr {
                    p.push(ComponentParam::Tr);
                }
                if bs {
                    p.push(ComponentParam::Bs);
                }
                ComponentId::new(&n, p).unwrap()
            }
        ),
        (field(), sf_key(), any::<bool>()).prop_map(|(n, k, sf): (String, String, bool)| {
            let mut p = vec![ComponentParam::Key(k)];
            if sf {
                p.push(ComponentParam::Sf);
            }
            ComponentId::new(&n, p).unwrap()
        }),
        (0usize..8, any::<bool>()).prop_map(|(i, req)| {
            let d = [
                "@method",
                "@target-uri",
                "@authority",
                "@scheme",
                "@request-target",
                "@path",
                "@query",
                "@status",
            ][i];
            let p = if req {
                vec![ComponentParam::Req]
            } else {
                vec![]
            };
            ComponentId::new(d, p).unwrap()
        }),
        (sf_string(), any::<bool>()).prop_map(|(n, req)| {
            let mut p = vec![ComponentParam::Name(n)];
            if req {
                p.push(ComponentParam::Req);
            }
            ComponentId::new("@query-param", p).unwrap()
        }),
    ]
}

fn params() -> impl Strategy<Value = SignatureParams> {
    (
        proptest::option::of(0u64..=999_999_999_999_999),
        proptest::option::of(0u64..=999_999_999_999_999),
        proptest::option::of(sf_string()),
        proptest::option::of(sf_string()),
        proptest::option::of(sf_string()),
        proptest::option::of(-1000i64..1000),
    )
        .prop_map(|(c, e, n, k, t, other)| {
            let mut p = SignatureParams::new();
            if let Some(c) = c {
                p = p.created(c).unwrap();
            }
            if let Some(n) = n {
                p = p.nonce(&n).unwrap();
            }
            if let Some(k) = k {
                p = p.keyid(&k).unwrap();
            }
            if let Some(e) = e {
                p = p.expires(e).unwrap();
            }
            if let Some(t) = t {
                p = p.tag(&t).unwrap();
            }
            if let Some(o) = other {
                p = p
                    .other("x-ext", sfv::BareItem::Integer(sfv::Integer::constant(o)))
                    .unwrap();
            }
            p
        })
}

fn dedup(mut v: Vec<ComponentId>) -> Vec<ComponentId> {
    let mut out: Vec<ComponentId> = Vec::new();
    for c in v.drain(..) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signature_input_round_trip(label in sf_key(), comps in proptest::collection::vec(component(), 0..8), p in params()) {
        let input = SignatureInput::new(dedup(comps), p);
        let member = signature_input_member(&label, &input).unwrap();
        // Our serialization is exactly sfv's.
        let il = sfv::InnerList::with_params(
            input.components.iter().map(|c| {
                let item: sfv::Item = sfv::Parser::new(c.as_str()).parse_item().unwrap();
                item
            }).collect(),
            input.params.to_sfv().unwrap(),
        );
        let mut dict = sfv::Dictionary::new();
        dict.insert(sfv::Key::from_string(label.clone()).unwrap(), sfv::ListEntry::InnerList(il));
        prop_assert_eq!(sfv::FieldType::serialize(&dict).unwrap(), member.clone());
        // And it parses back to the same values.
        let parsed = parse_signature_input(&member).unwrap();
        prop_assert_eq!(parsed.len(), 1);
        prop_assert_eq!(&parsed[0].0, &label);
        prop_assert_eq!(&parsed[0].1, &input);
    }

    #[test]
    fn signature_round_trip(label in sf_key(), bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let m = signature_member(&label, &bytes).unwrap();
        let parsed = parse_signature(&m).unwrap();
        prop_assert_eq!(parsed, vec![(label, bytes)]);
    }

    #[test]
    fn accept_signature_round_trip(label in sf_key(), comps in proptest::collection::vec(component(), 0..6),
        created in any::<bool>(), expires in any::<bool>(), nonce in proptest::option::of(sf_string()), tag in proptest::option::of(sf_string())) {
        let r = SignatureRequest { label, components: dedup(comps), created, expires, nonce, alg: None, keyid: None, tag };
        let v = accept_signature_value(std::slice::from_ref(&r)).unwrap();
        prop_assert_eq!(parse_accept_signature(&v).unwrap(), vec![r]);
    }

    #[test]
    fn digest_round_trip(body in proptest::collection::vec(any::<u8>(), 0..300), both in any::<bool>()) {
        let algs: &[DigestAlgorithm] = if both { &DigestAlgorithm::ALL } else { &[DigestAlgorithm::Sha256] };
        let d = Digests::of(algs, &body);
        let v = d.field_value();
        let parsed = parse_digest_field("Content-Digest", &v).unwrap();
        prop_assert_eq!(parsed.len(), algs.len());
        prop_assert!(d.check("Content-Digest", &v).is_ok());
    }

    #[test]
    fn raw_message_round_trip(
        fields in proptest::collection::vec((proptest::string::string_regex("[A-Za-z][A-Za-z0-9-]{0,10}").unwrap(), proptest::string::string_regex("[!-~]([ -~]{0,20}[!-~])?").unwrap()), 0..10),
        body in proptest::string::string_regex("[ -~]{0,40}").unwrap(),
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("POST /a?b=c HTTP/1.1{eol}");
        for (n, v) in &fields {
            if n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("transfer-encoding") { continue; }
            text.push_str(&format!("{n}: {v}{eol}"));
        }
        text.push_str(&format!("Content-Length: {}{eol}{eol}{body}", body.len()));
        if !crlf && !body.is_empty() { text.push('\n'); }
        let m = RawMessage::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(String::from_utf8(m.serialize()).unwrap(), text);
        prop_assert_eq!(&m.body[..], body.as_bytes());
    }

    #[test]
    fn parsers_never_panic(s in "\\PC{0,80}", b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_signature_input(&s);
        let _ = parse_signature(&s);
        let _ = parse_accept_signature(&s);
        let _ = ComponentId::parse(&s);
        let _ = ComponentId::parse_list(&s);
        let _ = parse_digest_field("Content-Digest", &s);
        let _ = RawMessage::parse(&b);
        let _ = RawMessage::parse(s.as_bytes());
        let _ = secdispatch_httpsig::key::SigningKey::from_key_file(&b, None);
        let _ = secdispatch_httpsig::key::VerifyingKey::from_key_file(s.as_bytes(), None);
    }
}
