//! Criterion benchmarks: request decode + lookup key; serving a pre-signed response (framing a
//! BasicOCSPResponse blob) vs signing one with P-256, Ed25519, ML-DSA-44 and a composite; the
//! range planner for 10,000,000 sequential certificates with 1,000 revocations.
//!
//! `cargo bench -p secdispatch-ocsp -- --warm-up-time 1 --measurement-time 3`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use secdispatch_ocsp::{
    CertStatus, HashAlgorithm, IssuerHashes, IssuerIndex, Nonce, RANGE_VALIDITY, RequestBuilder,
    RequestPolicy, ResponseBuilder, ResponseSigner, SingleResponse, decode_get_path,
    decode_request, encode_get_path, plan_ranges, presign_plan, serial_from_u64, wrap_basic,
};
use secdispatch_pqpki::{Algorithm, SigningKey, ca};
use x509_cert::name::Name;

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn bench(c: &mut Criterion) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let ca_key = Arc::new(
        SigningKey::generate(
            Algorithm::from_name("ecdsa-p256-sha256").unwrap(),
            &mut rng(),
        )
        .unwrap(),
    );
    let ca_cert = ca::self_signed_root(
        &ca_key,
        Name::from_str("CN=Bench CA").unwrap(),
        now,
        now + Duration::from_secs(86_400 * 365),
        None,
        None,
        &mut rng(),
    )
    .unwrap();
    let hashes = IssuerHashes::from_certificate(&ca_cert).unwrap();
    let mut index = IssuerIndex::new();
    index.insert(&ca_cert, 0u32).unwrap();
    let id = hashes
        .cert_id(
            HashAlgorithm::Sha256,
            serial_from_u64(0x1234_5678_9abc).unwrap(),
        )
        .unwrap();
    let req = RequestBuilder::new().cert_id(id.clone()).to_der().unwrap();
    let req_nonce = RequestBuilder::new()
        .cert_id(id.clone())
        .nonce(&Nonce::new(&[7; 32]).unwrap())
        .unwrap()
        .to_der()
        .unwrap();
    let policy = RequestPolicy::default();
    let get_path = format!("/ocsp/{}", encode_get_path(&req));

    let mut g = c.benchmark_group("request");
    g.bench_function("decode+lookup", |b| {
        b.iter(|| {
            let p = decode_request(black_box(&req), &policy).unwrap();
            let hit = index.lookup(p.cert_ids().next().unwrap()).unwrap();
            black_box((*hit.issuer, hit.serial.len()));
        })
    });
    g.bench_function("decode+lookup/nonce", |b| {
        b.iter(|| {
            let p = decode_request(black_box(&req_nonce), &policy).unwrap();
            let hit = index.lookup(p.cert_ids().next().unwrap()).unwrap();
            black_box((*hit.issuer, hit.serial.len(), p.nonce.is_some()));
        })
    });
    g.bench_function("get_path+decode+lookup", |b| {
        b.iter(|| {
            let der = decode_get_path(black_box(&get_path)).unwrap();
            let p = decode_request(&der, &policy).unwrap();
            black_box(
                index
                    .lookup(p.cert_ids().next().unwrap())
                    .unwrap()
                    .serial
                    .len(),
            );
        })
    });
    g.finish();

    let single = SingleResponse::new(
        id,
        CertStatus::good(),
        now,
        Some(now + Duration::from_secs(4 * 3600)),
    )
    .unwrap();
    let builder = ResponseBuilder::new(now).response(single);
    let mut g = c.benchmark_group("response");
    let presigned = builder
        .sign_basic(&ResponseSigner::new(ca_key.clone()).unwrap(), &mut rng())
        .unwrap();
    g.bench_function("frame-presigned", |b| {
        b.iter(|| black_box(wrap_basic(black_box(&presigned)).unwrap()))
    });
    for alg in [
        "ecdsa-p256-sha256",
        "ed25519",
        "id-ML-DSA-44",
        "id-MLDSA44-ECDSA-P256-SHA256",
    ] {
        let key = SigningKey::generate(Algorithm::from_name(alg).unwrap(), &mut rng()).unwrap();
        let signer = ResponseSigner::new(key).unwrap();
        let mut r = rng();
        g.bench_function(format!("sign/{alg}"), |b| {
            b.iter(|| black_box(builder.sign(&signer, &mut r).unwrap()))
        });
    }
    g.finish();

    let revoked: Vec<u64> = (1..=1000u64).map(|i| i * 9_973).collect();
    let mut g = c.benchmark_group("range");
    g.bench_function("plan/10M-1000", |b| {
        b.iter(|| black_box(plan_ranges(1..=10_000_000, black_box(&revoked)).unwrap()))
    });
    g.finish();

    // Build and sign the whole range-mode set: 1,001 range + 1,000 revoked responses.
    let plan = plan_ranges(1..=10_000_000, &revoked).unwrap();
    let mut g = c.benchmark_group("presign");
    g.sample_size(10);
    for alg in ["ecdsa-p256-sha256", "ed25519"] {
        let key = SigningKey::generate(Algorithm::from_name(alg).unwrap(), &mut rng()).unwrap();
        let signer = ResponseSigner::new(key).unwrap();
        let mut r = rng();
        g.bench_function(format!("range-mode-10M-1000/{alg}"), |b| {
            b.iter(|| {
                let s = presign_plan(
                    &plan,
                    &hashes,
                    HashAlgorithm::Sha256,
                    &signer,
                    |_| (now, None),
                    now,
                    now + RANGE_VALIDITY,
                    &mut r,
                )
                .unwrap();
                black_box(s.good.len() + s.revoked.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
