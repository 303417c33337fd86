//! Criterion benchmarks: sign and verify for every algorithm; each composite next to its own
//! components (to check composite ≤ 1.2 × (ML-DSA component + traditional component)); key
//! generation for a few algorithms; certificate issuance.
//!
//! `cargo bench -p secdispatch-pqpki -- --warm-up-time 1 --measurement-time 3`; select a subset
//! with a filter, e.g. `-- composite/id-MLDSA65`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use secdispatch_pqpki::ca::{self, CertificateAuthority, IssueRequest};
use secdispatch_pqpki::cert::{Profile, SubjectAltNames};
use secdispatch_pqpki::composite::message_representative;
use secdispatch_pqpki::trad::{self, TradSigningKey};
use secdispatch_pqpki::{Algorithm, SigningKey, VerifyingKey};
use x509_cert::name::Name;

/// Deterministic benchmark RNG (SplitMix64).
struct BenchRng(u64);
impl rand_core::TryRng for BenchRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for c in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            c.copy_from_slice(&v[..c.len()]);
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for BenchRng {}

const MSG: &[u8] = &[0x5a; 128];

fn sign_verify(c: &mut Criterion) {
    let mut rng = BenchRng(1);
    for alg in Algorithm::all().filter(|a| a.composite().is_none()) {
        let k = SigningKey::generate(alg, &mut rng).unwrap();
        let sig = k.sign(MSG, &mut rng).unwrap();
        let vk = k.public_key().clone();
        c.bench_function(&format!("sign/{alg}"), |b| {
            b.iter(|| black_box(k.sign(black_box(MSG), &mut rng).unwrap()))
        });
        c.bench_function(&format!("verify/{alg}"), |b| {
            b.iter(|| {
                vk.verify(black_box(MSG), black_box(sig.as_bytes()))
                    .unwrap()
            })
        });
    }
}

/// Each composite next to its own two component keys (the same ML-DSA seed and traditional key),
/// measured back to back so that the ≤ 1.2 × sum rule is compared under the same load.
fn composites(c: &mut Criterion) {
    let mut rng = BenchRng(2);
    for alg in Algorithm::all().filter(|a| a.composite().is_some()) {
        let Some(p) = alg.composite() else { continue };
        let k = SigningKey::generate(alg, &mut rng).unwrap();
        let sig = k.sign(MSG, &mut rng).unwrap();
        let vk = k.public_key().clone();
        let raw = k.to_raw().unwrap();
        let seed: [u8; 32] = raw[..32].try_into().unwrap();
        let mk = SigningKey::mldsa_from_seed(p.mldsa, &seed).unwrap();
        let tk = TradSigningKey::from_private(p.trad, &raw[32..]).unwrap();
        let m = message_representative(p, MSG, b"").unwrap();
        let label = p.label.as_bytes();
        let n = p.mldsa.signature_len();
        let (msig, tsig) = sig.as_bytes().split_at(n);
        let mvk: VerifyingKey = mk.public_key().clone();
        let tpk = tk.public_bytes().to_vec();
        // sanity: the components really are the composite's
        mvk.verify_with_context(&m, label, msig).unwrap();
        trad::verify(p.trad, &tpk, &m, tsig).unwrap();
        let mut g = c.benchmark_group(format!("composite/{alg}"));
        g.bench_function("sign", |b| {
            b.iter(|| black_box(k.sign(black_box(MSG), &mut rng).unwrap()))
        });
        g.bench_function("mldsa_sign", |b| {
            b.iter(|| {
                black_box(
                    mk.sign_with_context(black_box(&m), label, &mut rng)
                        .unwrap(),
                )
            })
        });
        g.bench_function("trad_sign", |b| {
            b.iter(|| black_box(tk.sign(black_box(&m)).unwrap()))
        });
        g.bench_function("verify", |b| {
            b.iter(|| {
                vk.verify(black_box(MSG), black_box(sig.as_bytes()))
                    .unwrap()
            })
        });
        g.bench_function("mldsa_verify", |b| {
            b.iter(|| {
                mvk.verify_with_context(black_box(&m), label, black_box(msig))
                    .unwrap()
            })
        });
        g.bench_function("trad_verify", |b| {
            b.iter(|| trad::verify(p.trad, &tpk, black_box(&m), black_box(tsig)).unwrap())
        });
        g.finish();
    }
}

fn keygen(c: &mut Criterion) {
    let mut rng = BenchRng(3);
    for name in [
        "id-ML-DSA-65",
        "id-MLDSA65-ECDSA-P256-SHA512",
        "ecdsa-p256-sha256",
        "ed25519",
    ] {
        let alg = Algorithm::from_name(name).unwrap();
        c.bench_function(&format!("keygen/{alg}"), |b| {
            b.iter(|| black_box(SigningKey::generate(alg, &mut rng).unwrap()))
        });
    }
}

fn issuance(c: &mut Criterion) {
    let mut rng = BenchRng(4);
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let day = Duration::from_secs(86_400);
    for name in [
        "id-MLDSA65-ECDSA-P256-SHA512",
        "id-MLDSA44-Ed25519-SHA512",
        "id-ML-DSA-65",
        "ecdsa-p256-sha256",
        "ed25519",
        "rsa3072-pss-sha256",
    ] {
        let alg = Algorithm::from_name(name).unwrap();
        let ca_key = SigningKey::generate(alg, &mut rng).unwrap();
        let root = ca::self_signed_root(
            &ca_key,
            Name::from_str("CN=Bench Root").unwrap(),
            t0,
            t0 + 365 * day,
            None,
            None,
            &mut rng,
        )
        .unwrap();
        let ca = CertificateAuthority::new(root, &ca_key).unwrap();
        let leaf_key = SigningKey::generate(alg, &mut rng).unwrap();
        let mut req = IssueRequest::new(
            Name::from_str("CN=leaf.bench").unwrap(),
            leaf_key.public_key(),
            Profile::Server,
            t0,
            t0 + 30 * day,
        )
        .unwrap();
        req.sans = SubjectAltNames::parse(["leaf.bench"]).unwrap();
        c.bench_function(&format!("issue/{alg}"), |b| {
            b.iter(|| black_box(ca.issue(&req, &mut rng).unwrap()))
        });
    }
}

criterion_group!(benches, sign_verify, composites, keygen, issuance);
criterion_main!(benches);
