//! Criterion benchmarks for the issue's speed targets (single thread):
//! type 2 issuance (aws-lc and pure Rust), type 2 redemption (parse + verify + in-memory
//! double-spend check), type 1 issuance and redemption, client costs, amortized type 1
//! batches, and header parsing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use secdispatch_privacypass::auth_scheme::{
    Quoting, build_authorization, build_www_authenticate, parse_www_authenticate,
};
use secdispatch_privacypass::origin::{AcceptedKey, Origin, OriginConfig, VerificationKey};
use secdispatch_privacypass::{RedemptionContext, TokenChallenge, TokenType, type1, type2};
use secdispatch_replay::MemoryNonceStore;

fn challenge(t: TokenType) -> TokenChallenge {
    TokenChallenge::new(
        t,
        "issuer.example",
        RedemptionContext::Empty,
        &["origin.example"],
    )
    .unwrap()
}

fn type2_benches(c: &mut Criterion) {
    let mut rng = getrandom::SysRng;
    let ch = challenge(TokenType::PUBLIC_RSA);
    let aws = type2::IssuerKey::generate(type2::Backend::AwsLc).unwrap();
    let pure = type2::IssuerKey::from_pkcs8(aws.pkcs8(), type2::Backend::PureRust).unwrap();
    let (req, _) = type2::request(&mut rng, &ch, aws.public()).unwrap();
    let mut g = c.benchmark_group("type2");
    g.bench_function("issuer_blind_sign_aws_lc", |b| {
        b.iter(|| aws.issue(black_box(&req)).unwrap())
    });
    g.sample_size(20);
    g.bench_function("issuer_blind_sign_pure_rust", |b| {
        b.iter(|| pure.issue(black_box(&req)).unwrap())
    });
    g.sample_size(100);
    g.bench_function("client_request", |b| {
        b.iter(|| type2::request(&mut rng, black_box(&ch), aws.public()).unwrap())
    });
    g.bench_function("client_finalize", |b| {
        b.iter_batched(
            || {
                let (req, st) = type2::request(&mut getrandom::SysRng, &ch, aws.public()).unwrap();
                (st, aws.issue(&req).unwrap())
            },
            |(st, resp)| st.finalize(&resp).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn origin_with(keys: Vec<AcceptedKey>, t: TokenType) -> Origin {
    let mut cfg = OriginConfig::new("issuer.example", "origin.example");
    cfg.token_types = vec![t];
    let o = Origin::new(cfg, Arc::new(MemoryNonceStore::new())).unwrap();
    o.set_keys(keys);
    o
}

fn redemption_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut rng = getrandom::SysRng;
    let now = SystemTime::now();
    let until = now + Duration::from_secs(86_400);
    // Type 2: many distinct tokens, so every iteration is a first redemption.
    let k2 = type2::IssuerKey::generate(type2::Backend::AwsLc).unwrap();
    let ch2 = challenge(TokenType::PUBLIC_RSA);
    let new_o2 = || {
        origin_with(
            vec![AcceptedKey {
                key: VerificationKey::Type2(k2.public().clone()),
                not_after: until,
            }],
            TokenType::PUBLIC_RSA,
        )
    };
    let mut o2 = new_o2();
    let tokens2: Vec<String> = (0..2000)
        .map(|_| {
            let (req, st) = type2::request(&mut rng, &ch2, k2.public()).unwrap();
            build_authorization(
                &st.finalize(&k2.issue(&req).unwrap()).unwrap(),
                Quoting::Quoted,
            )
        })
        .collect();
    let k1 = Arc::new(type1::IssuerKey::generate(&mut rng).unwrap());
    let ch1 = challenge(TokenType::PRIVATE_P384);
    let new_o1 = || {
        origin_with(
            vec![AcceptedKey {
                key: VerificationKey::Type1(k1.clone()),
                not_after: until,
            }],
            TokenType::PRIVATE_P384,
        )
    };
    let mut o1 = new_o1();
    let tokens1: Vec<String> = (0..300)
        .map(|_| {
            let (req, st) = type1::request(&mut rng, &ch1, k1.public()).unwrap();
            build_authorization(
                &st.finalize(&k1.issue(&mut rng, &req).unwrap()).unwrap(),
                Quoting::Quoted,
            )
        })
        .collect();
    let mut g = c.benchmark_group("redeem");
    let mut i = 0usize;
    g.bench_function("type2_parse_verify_double_spend", |b| {
        b.iter(|| {
            // Past the pre-made tokens a redemption would be a replay, refused before the
            // signature check (much cheaper): a fresh origin, with a fresh nonce store,
            // after every pass keeps each measured redemption a first, accepted one.
            if i.is_multiple_of(tokens2.len()) && i > 0 {
                o2 = new_o2();
            }
            let t = &tokens2[i % tokens2.len()];
            i += 1;
            assert!(rt.block_on(o2.redeem(black_box(t), now)).is_ok());
        })
    });
    let mut j = 0usize;
    g.sample_size(30);
    g.bench_function("type1_parse_verify_double_spend", |b| {
        b.iter(|| {
            if j.is_multiple_of(tokens1.len()) && j > 0 {
                o1 = new_o1();
            }
            let t = &tokens1[j % tokens1.len()];
            j += 1;
            assert!(rt.block_on(o1.redeem(black_box(t), now)).is_ok());
        })
    });
    g.finish();
}

fn type1_benches(c: &mut Criterion) {
    let mut rng = getrandom::SysRng;
    let ch = challenge(TokenType::PRIVATE_P384);
    let k = type1::IssuerKey::generate(&mut rng).unwrap();
    let (req, _) = type1::request(&mut rng, &ch, k.public()).unwrap();
    let mut g = c.benchmark_group("type1");
    g.sample_size(20);
    g.bench_function("issuer_blind_evaluate", |b| {
        b.iter(|| k.issue(&mut rng, black_box(&req)).unwrap())
    });
    g.bench_function("client_request", |b| {
        b.iter(|| type1::request(&mut rng, &ch, k.public()).unwrap())
    });
    g.bench_function("client_finalize", |b| {
        b.iter_batched(
            || {
                let mut r = getrandom::SysRng;
                let (req, st) = type1::request(&mut r, &ch, k.public()).unwrap();
                (st, k.issue(&mut r, &req).unwrap())
            },
            |(st, resp)| st.finalize(&resp).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    let (batch, _) = type1::request_amortized(&mut rng, &ch, k.public(), 100).unwrap();
    g.sample_size(10);
    g.bench_function("issuer_amortized_x100", |b| {
        b.iter(|| k.issue_amortized(&mut rng, black_box(&batch), 100).unwrap())
    });
    g.finish();
}

fn header_benches(c: &mut Criterion) {
    let k = type2::IssuerKey::generate(type2::Backend::AwsLc).unwrap();
    let ch = challenge(TokenType::PUBLIC_RSA);
    let one = build_www_authenticate(&ch, Some(k.public().spki()), Some(10), Quoting::Quoted);
    let mixed = format!("Basic realm=\"x\", {one}, {one}");
    let mut g = c.benchmark_group("header");
    g.bench_function("parse_one_challenge", |b| {
        b.iter(|| parse_www_authenticate([black_box(one.as_str())]))
    });
    g.bench_function("parse_basic_plus_two_challenges", |b| {
        b.iter(|| parse_www_authenticate([black_box(mixed.as_str())]))
    });
    g.finish();
}

criterion_group!(
    benches,
    type2_benches,
    redemption_benches,
    type1_benches,
    header_benches
);
criterion_main!(benches);
