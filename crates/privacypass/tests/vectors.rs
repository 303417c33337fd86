//! Known-answer tests: every applicable vector of RFC 9577, RFC 9578 and the batched
//! tokens draft (see `vectors/PROVENANCE`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use secdispatch_privacypass::auth_scheme::{
    ChallengeBody, Quoting, build_www_authenticate, parse_www_authenticate,
};
use secdispatch_privacypass::wire::batch::{
    AmortizedBatchTokenRequest, AmortizedBatchTokenResponse, GenericBatchTokenRequest,
    GenericBatchTokenResponse,
};
use secdispatch_privacypass::wire::token::authenticator_input;
use secdispatch_privacypass::{
    Error, RedemptionContext, Token, TokenChallenge, TokenKeyId, TokenRequest, TokenResponse,
    TokenType, type1, type2,
};
use serde_json::Value;

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn h(v: &Value, key: &str) -> Vec<u8> {
    let s = v[key].as_str().unwrap_or_else(|| panic!("{key} missing"));
    unhex(s)
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2));
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn arr32(v: &[u8]) -> [u8; 32] {
    v.try_into().unwrap()
}

#[test]
fn rfc9577_challenge_and_authenticator_input() {
    let vectors = load("rfc9577_token_challenge.json");
    assert_eq!(vectors.len(), 6);
    for (i, v) in vectors.iter().enumerate() {
        let token_type =
            TokenType(u16::from_str_radix(v["token_type"].as_str().unwrap(), 16).unwrap());
        let expected = h(v, "token_authenticator_input");
        if token_type.is_greased() {
            // Vector 6: a greased type with a random body; the parser reads the type only
            // and refuses to go further.
            assert_eq!(i, 5);
            assert_eq!(
                Token::decode(&expected),
                Err(Error::UnsupportedTokenType(token_type))
            );
            assert_eq!(
                TokenChallenge::decode(&expected),
                Err(Error::UnsupportedTokenType(token_type))
            );
            continue;
        }
        let issuer = String::from_utf8(h(v, "issuer_name")).unwrap();
        let ctx = h(v, "redemption_context");
        let ctx = match ctx.len() {
            0 => RedemptionContext::Empty,
            32 => RedemptionContext::Bound(arr32(&ctx)),
            n => panic!("context {n}"),
        };
        let origin = String::from_utf8(h(v, "origin_info")).unwrap();
        let origins: Vec<&str> = origin.split(',').filter(|s| !s.is_empty()).collect();
        let challenge = TokenChallenge::new(token_type, &issuer, ctx, &origins).unwrap();
        assert_eq!(
            TokenChallenge::decode(&challenge.encode()).unwrap(),
            challenge
        );
        let input = authenticator_input(
            token_type,
            &arr32(&h(v, "nonce")),
            &challenge.digest(),
            &arr32(&h(v, "token_key_id")),
        );
        assert_eq!(input.to_vec(), expected, "vector {}", i + 1);
    }
}

#[test]
fn rfc9577_www_authenticate_headers() {
    let vectors = load("rfc9577_http_headers.json");
    let expected_counts = [1, 2, 2];
    for (i, v) in vectors.iter().enumerate() {
        let header = v["www_authenticate"].as_str().unwrap();
        let parsed = parse_www_authenticate([header]);
        let want = v["challenges"].as_array().unwrap();
        assert_eq!(
            parsed.len(),
            expected_counts[i],
            "header {}: {parsed:?}",
            i + 1
        );
        assert_eq!(parsed.len(), want.len());
        for (p, w) in parsed.iter().zip(want) {
            let ty = u16::from_str_radix(
                w["token_type"].as_str().unwrap().trim_start_matches("0x"),
                16,
            )
            .unwrap();
            assert_eq!(p.token_type(), TokenType(ty));
            assert_eq!(p.raw, h(w, "token_challenge"));
            assert_eq!(p.token_key.as_deref(), Some(h(w, "token_key").as_slice()));
            let max_age = w["max_age"].as_str().map(|m| m.parse::<u64>().unwrap());
            assert_eq!(p.max_age, max_age);
            match &p.body {
                ChallengeBody::Supported(c) => {
                    assert_eq!(c.encode(), p.raw);
                    // Emitting and re-parsing gives the same challenge, quoted or bare.
                    for q in [Quoting::Quoted, Quoting::Bare] {
                        let again = build_www_authenticate(c, p.token_key.as_deref(), p.max_age, q);
                        assert_eq!(parse_www_authenticate([again.as_str()]), vec![p.clone()]);
                    }
                }
                ChallengeBody::Unsupported(t) => {
                    assert!(t.is_greased(), "only the greased challenge is opaque");
                }
            }
        }
        // The usable ones: the greased challenge of header 3 is skipped.
        let usable = parsed.iter().filter(|p| p.challenge().is_some()).count();
        assert_eq!(usable, [1, 2, 1][i]);
    }
    // The same header split across two fields gives the same challenges.
    let h2 = vectors[1]["www_authenticate"].as_str().unwrap();
    let split = h2.find(", PrivateToken").unwrap();
    assert_eq!(
        parse_www_authenticate([&h2[..split], &h2[split + 2..]]),
        parse_www_authenticate([h2])
    );
    // Unpadded base64 is accepted.
    let unpadded = vectors[0]["www_authenticate"]
        .as_str()
        .unwrap()
        .replace("==\"", "\"");
    assert_eq!(
        parse_www_authenticate([unpadded.as_str()])[0].raw,
        parse_www_authenticate([vectors[0]["www_authenticate"].as_str().unwrap()])[0].raw
    );
}

#[test]
fn rfc9578_type1_issuance_end_to_end() {
    let vectors = load("rfc9578_type1_voprf_p384.json");
    assert_eq!(vectors.len(), 5);
    for (i, v) in vectors.iter().enumerate() {
        let key = type1::IssuerKey::from_secret(&h(v, "skS")).unwrap();
        assert_eq!(key.public().token_key(), h(v, "pkS").as_slice());
        assert_eq!(key.secret_bytes().as_slice(), h(v, "skS").as_slice());
        let public = type1::PublicKey::from_token_key(&h(v, "pkS")).unwrap();
        let challenge = TokenChallenge::decode(&h(v, "token_challenge")).unwrap();
        let (request, state) =
            type1::request_with_blind(&challenge, &public, arr32(&h(v, "nonce")), &h(v, "blind"))
                .unwrap();
        assert_eq!(request.encode(), h(v, "token_request"), "vector {}", i + 1);
        let decoded = TokenRequest::decode(&h(v, "token_request")).unwrap();
        assert_eq!(decoded, request);
        // The issuer's evaluation is deterministic; its proof is randomized, so the
        // response matches the vector in the evaluated element only.
        let mut rng = getrandom::SysRng;
        let ours = key.issue(&mut rng, &decoded).unwrap();
        let theirs =
            TokenResponse::decode(TokenType::PRIVATE_P384, &h(v, "token_response")).unwrap();
        assert_eq!(ours.bytes[..49], theirs.bytes[..49]);
        let token = state.finalize(&theirs).unwrap();
        assert_eq!(token.encode(), h(v, "token"), "vector {}", i + 1);
        assert_eq!(Token::decode(&h(v, "token")).unwrap(), token);
        key.verify(&token).unwrap();
        // Our own (freshly proven) response finalizes to the same token.
        let (_, state) =
            type1::request_with_blind(&challenge, &public, arr32(&h(v, "nonce")), &h(v, "blind"))
                .unwrap();
        assert_eq!(state.finalize(&ours).unwrap(), token);
    }
}

#[test]
fn rfc9578_type1_bad_proof_and_bitflips_are_refused() {
    let v = &load("rfc9578_type1_voprf_p384.json")[0];
    let key = type1::IssuerKey::from_secret(&h(v, "skS")).unwrap();
    let challenge = TokenChallenge::decode(&h(v, "token_challenge")).unwrap();
    let response = h(v, "token_response");
    for byte in [60usize, 100, 144] {
        let (_, state) = type1::request_with_blind(
            &challenge,
            key.public(),
            arr32(&h(v, "nonce")),
            &h(v, "blind"),
        )
        .unwrap();
        let mut bad = response.clone();
        bad[byte] ^= 1;
        let r = TokenResponse::decode(TokenType::PRIVATE_P384, &bad).unwrap();
        let e = state.finalize(&r).unwrap_err();
        assert!(
            matches!(e, Error::InvalidProof | Error::InvalidElement(_)),
            "{e}"
        );
    }
    let mut token = Token::decode(&h(v, "token")).unwrap();
    token.authenticator[0] ^= 0x80;
    assert_eq!(key.verify(&token), Err(Error::InvalidAuthenticator));
}

fn pem_to_pkcs8(pem: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = String::from_utf8(pem.to_vec()).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

#[test]
fn rfc9578_type2_issuance_end_to_end_both_backends() {
    let vectors = load("rfc9578_type2_blindrsa.json");
    assert_eq!(vectors.len(), 5);
    for (i, v) in vectors.iter().enumerate() {
        let pkcs8 = pem_to_pkcs8(&h(v, "skS"));
        let public = type2::PublicKey::from_token_key(&h(v, "pkS")).unwrap();
        assert_eq!(public.spki(), h(v, "pkS").as_slice());
        assert_eq!(TokenKeyId::of(&h(v, "pkS")), public.key_id());
        let challenge = TokenChallenge::decode(&h(v, "token_challenge")).unwrap();
        let salt: [u8; 48] = h(v, "salt").try_into().unwrap();
        let (request, state) = type2::request_with_blind(
            &challenge,
            &public,
            arr32(&h(v, "nonce")),
            &salt,
            &h(v, "blind"),
        )
        .unwrap();
        assert_eq!(request.encode(), h(v, "token_request"), "vector {}", i + 1);
        for backend in [type2::Backend::AwsLc, type2::Backend::PureRust] {
            let key = type2::IssuerKey::from_pkcs8(&pkcs8, backend).unwrap();
            assert_eq!(key.public(), &public);
            let response = key.issue(&request).unwrap();
            assert_eq!(
                response.bytes,
                h(v, "token_response"),
                "{backend:?} vector {}",
                i + 1
            );
        }
        let response =
            TokenResponse::decode(TokenType::PUBLIC_RSA, &h(v, "token_response")).unwrap();
        let token = state.finalize(&response).unwrap();
        assert_eq!(token.encode(), h(v, "token"), "vector {}", i + 1);
        public
            .verify(&Token::decode(&h(v, "token")).unwrap())
            .unwrap();
    }
}

#[test]
fn rfc9578_type2_tampering_is_refused() {
    let v = &load("rfc9578_type2_blindrsa.json")[0];
    let public = type2::PublicKey::from_token_key(&h(v, "pkS")).unwrap();
    let key =
        type2::IssuerKey::from_pkcs8(&pem_to_pkcs8(&h(v, "skS")), type2::Backend::AwsLc).unwrap();
    let token = Token::decode(&h(v, "token")).unwrap();
    for i in [0usize, 100, 255] {
        let mut t = token.clone();
        t.authenticator[i] ^= 1;
        assert_eq!(public.verify(&t), Err(Error::InvalidAuthenticator));
    }
    let mut t = token.clone();
    t.nonce[0] ^= 1;
    assert_eq!(public.verify(&t), Err(Error::InvalidAuthenticator));
    let mut t = token.clone();
    t.token_key_id[0] ^= 1;
    assert_eq!(public.verify(&t), Err(Error::UnknownKeyId));
    // A blinded message not below the modulus is refused by both backends.
    let mut req = TokenRequest::decode(&h(v, "token_request")).unwrap();
    req.blinded_msg = vec![0xff; 256];
    assert!(matches!(key.issue(&req), Err(Error::Issuance(_))));
    let pure = type2::IssuerKey::from_pkcs8(&pem_to_pkcs8(&h(v, "skS")), type2::Backend::PureRust)
        .unwrap();
    assert!(matches!(pure.issue(&req), Err(Error::Issuance(_))));
    // Wrong truncated key id → UnknownTruncatedKeyId (422 at the issuer).
    req.truncated_token_key_id ^= 1;
    assert!(matches!(
        key.issue(&req),
        Err(Error::UnknownTruncatedKeyId(_))
    ));
    // A wrong blind signature does not finalize.
    let challenge = TokenChallenge::decode(&h(v, "token_challenge")).unwrap();
    let salt: [u8; 48] = h(v, "salt").try_into().unwrap();
    let (_, state) = type2::request_with_blind(
        &challenge,
        &public,
        arr32(&h(v, "nonce")),
        &salt,
        &h(v, "blind"),
    )
    .unwrap();
    let mut resp = h(v, "token_response");
    resp[10] ^= 1;
    let resp = TokenResponse::decode(TokenType::PUBLIC_RSA, &resp).unwrap();
    assert_eq!(state.finalize(&resp), Err(Error::InvalidAuthenticator));
    // Non-PSS SPKI (rsaEncryption) is refused as a token-key.
    let mut spki = h(v, "pkS");
    spki[16] = 0x01;
    assert!(type2::PublicKey::from_token_key(&spki).is_err());
}

#[test]
fn batched_amortized_type1() {
    let vectors = load("batched_draft_amortized_type1_p384.json");
    assert!(!vectors.is_empty());
    for (i, v) in vectors.iter().enumerate() {
        let key = type1::IssuerKey::from_secret(&h(v, "skS")).unwrap();
        assert_eq!(key.public().token_key(), h(v, "pkS").as_slice());
        let challenge = TokenChallenge::decode(&h(v, "token_challenge")).unwrap();
        let nonces = v["nonces"].as_array().unwrap();
        let blinds = v["blinds"].as_array().unwrap();
        let pairs: Vec<([u8; 32], Vec<u8>)> = nonces
            .iter()
            .zip(blinds)
            .map(|(n, b)| {
                (
                    arr32(&unhex(n.as_str().unwrap())),
                    unhex(b.as_str().unwrap()),
                )
            })
            .collect();
        let (request, states) =
            type1::request_amortized_with_blinds(&challenge, key.public(), &pairs).unwrap();
        assert_eq!(
            request.encode().unwrap(),
            h(v, "token_request"),
            "vector {}",
            i + 1
        );
        let decoded = AmortizedBatchTokenRequest::decode(&h(v, "token_request")).unwrap();
        assert_eq!(decoded, request);
        let theirs =
            AmortizedBatchTokenResponse::decode(TokenType::PRIVATE_P384, &h(v, "token_response"))
                .unwrap();
        assert_eq!(theirs.encode().unwrap(), h(v, "token_response"));
        let ours = key
            .issue_amortized(&mut getrandom::SysRng, &decoded, 100)
            .unwrap();
        assert_eq!(ours.evaluated_elements, theirs.evaluated_elements);
        let tokens = type1::finalize_amortized(states, &theirs).unwrap();
        let want: Vec<Vec<u8>> = v["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| unhex(t.as_str().unwrap()))
            .collect();
        let got: Vec<Vec<u8>> = tokens.iter().map(Token::encode).collect();
        assert_eq!(got, want, "vector {}", i + 1);
        for t in &tokens {
            key.verify(t).unwrap();
        }
        // Our proof verifies too; a batch over the cap is refused.
        let (_, states) =
            type1::request_amortized_with_blinds(&challenge, key.public(), &pairs).unwrap();
        assert_eq!(type1::finalize_amortized(states, &ours).unwrap(), tokens);
        assert!(matches!(
            key.issue_amortized(&mut getrandom::SysRng, &decoded, pairs.len() - 1),
            Err(Error::BatchSize { .. })
        ));
    }
}

/// The generic-batch vectors hold complete single issuances per entry; rebuild each inner
/// request with our client, answer it with our issuer, and compare the batch encodings.
#[test]
fn batched_generic_pat_go() {
    let vectors = load("batched_draft_generic_batch.json");
    assert_eq!(vectors.len(), 5);
    for (i, v) in vectors.iter().enumerate() {
        let batch = GenericBatchTokenRequest::decode(&h(v, "token_request")).unwrap();
        assert_eq!(batch.encode().unwrap(), h(v, "token_request"));
        let response = GenericBatchTokenResponse::decode(&h(v, "token_response")).unwrap();
        assert_eq!(response.encode().unwrap(), h(v, "token_response"));
        let issuance = v["issuance"].as_array().unwrap();
        assert_eq!(batch.token_requests.len(), issuance.len());
        assert_eq!(response.token_responses.len(), issuance.len());
        for ((iss, req), resp) in issuance
            .iter()
            .zip(&batch.token_requests)
            .zip(&response.token_responses)
        {
            let resp = resp.as_ref().unwrap();
            let challenge = TokenChallenge::decode(&h(iss, "token_challenge")).unwrap();
            let nonce = arr32(&h(iss, "nonce"));
            let token = match iss["type"].as_str().unwrap() {
                "0001" => {
                    let key = type1::IssuerKey::from_secret(&h(iss, "skS")).unwrap();
                    let (ours, state) = type1::request_with_blind(
                        &challenge,
                        key.public(),
                        nonce,
                        &h(iss, "blind"),
                    )
                    .unwrap();
                    assert_eq!(&ours, req);
                    let fresh = key.issue(&mut getrandom::SysRng, req).unwrap();
                    assert_eq!(fresh.bytes[..49], resp.bytes[..49]);
                    let t = state.finalize(resp).unwrap();
                    key.verify(&t).unwrap();
                    t
                }
                "0002" => {
                    let public = type2::PublicKey::from_token_key(&h(iss, "pkS")).unwrap();
                    let salt: [u8; 48] = h(iss, "salt").try_into().unwrap();
                    let (ours, state) = type2::request_with_blind(
                        &challenge,
                        &public,
                        nonce,
                        &salt,
                        &h(iss, "blind"),
                    )
                    .unwrap();
                    assert_eq!(&ours, req);
                    let key = type2::IssuerKey::from_pkcs8(
                        &pem_to_pkcs8(&h(iss, "skS")),
                        type2::Backend::AwsLc,
                    )
                    .unwrap();
                    assert_eq!(key.issue(req).unwrap(), *resp);
                    state.finalize(resp).unwrap()
                }
                other => panic!("type {other}"),
            };
            assert_eq!(token.encode(), h(iss, "token"), "vector {}", i + 1);
        }
    }
}

/// `generic_batch_ts.json` comes from an independent TypeScript implementation that
/// length-prefixes each batch entry with a u16 (an earlier draft encoding that draft-07
/// and pat-go dropped). Our draft-07 decoder must refuse it rather than misread it; the
/// single issuances inside are still checked with our crypto.
#[test]
fn batched_generic_typescript_encoding_is_refused_but_its_tokens_verify() {
    for v in load("generic_batch_ts.json") {
        assert!(GenericBatchTokenRequest::decode(&h(&v, "token_request")).is_err());
        for iss in v["issuance"].as_array().unwrap() {
            let challenge = TokenChallenge::decode(&h(iss, "token_challenge")).unwrap();
            let token = Token::decode(&h(iss, "token")).unwrap();
            assert_eq!(token.challenge_digest, challenge.digest());
            match iss["type"].as_str().unwrap() {
                "0001" => type1::IssuerKey::from_secret(&h(iss, "skS"))
                    .unwrap()
                    .verify(&token)
                    .unwrap(),
                "0002" => type2::PublicKey::from_token_key(&h(iss, "pkS"))
                    .unwrap()
                    .verify(&token)
                    .unwrap(),
                other => panic!("type {other}"),
            }
        }
    }
}

/// RFC 9497 P384-SHA384 VOPRF vectors: key derivation and evaluation as the type 1 issuer
/// uses them.
#[test]
fn rfc9497_p384_voprf_derive_and_evaluate() {
    let all = load("rfc9497_voprf_allVectors.json");
    let suite = all
        .iter()
        .find(|s| s["identifier"] == "P384-SHA384" && s["mode"] == 1)
        .expect("P384-SHA384 mode 1");
    let seed = h(suite, "seed");
    let info = h(suite, "keyInfo");
    let derived = type1::IssuerKey::derive_with_info(&seed, &info).unwrap();
    assert_eq!(
        derived.secret_bytes().as_slice(),
        h(suite, "skSm").as_slice()
    );
    assert_eq!(derived.public().token_key(), h(suite, "pkSm").as_slice());
    let key = type1::IssuerKey::from_secret(&h(suite, "skSm")).unwrap();
    assert_eq!(key.public(), derived.public());
}
