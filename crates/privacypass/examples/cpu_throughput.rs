//! Per-core throughput measured in CPU time rather than wall time (Linux only).
//!
//! Criterion measures wall-clock time, which on a shared, oversubscribed machine counts the
//! time this thread waits for a core. This example runs each operation a fixed number of
//! times on one thread and divides by the thread's own CPU time (user + system, from
//! `/proc/thread-self/stat`, 10 ms ticks; each measurement runs for about a second or more
//! of CPU, so the tick error is about 1%). Contention for the core's caches, and for the
//! physical core when the other vCPU is its SMT sibling, still counts: on a busy machine
//! this figure moves by ±15% between runs.
//!
//! ```sh
//! cargo run --release -p secdispatch-privacypass --example cpu_throughput [FILTER]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use secdispatch_privacypass::auth_scheme::{Quoting, build_authorization};
use secdispatch_privacypass::origin::{AcceptedKey, Origin, OriginConfig, VerificationKey};
use secdispatch_privacypass::{RedemptionContext, TokenChallenge, TokenType, type1, type2};
use secdispatch_replay::MemoryNonceStore;

/// This thread's CPU time (user + system), from `/proc/thread-self/stat`.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("Linux /proc");
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').expect("stat format").1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // CLK_TCK = 100 on Linux
}

/// Warm-up calls before each measurement.
const WARM: usize = 20;

/// Run `op` WARM times unmeasured, then `n` times measured; `op` gets the call's index
/// (0..WARM + n), so redemptions can use a distinct token on every call.
fn measure(name: &str, n: usize, mut op: impl FnMut(usize)) {
    // Optional filter: `cpu_throughput redemption` runs only the matching lines.
    if let Some(filter) = std::env::args().nth(1)
        && !name.contains(filter.as_str())
    {
        return;
    }
    for i in 0..WARM {
        op(i);
    }
    let c0 = thread_cpu();
    let w0 = Instant::now();
    for i in WARM..WARM + n {
        op(i);
    }
    let cpu = thread_cpu() - c0;
    let wall = w0.elapsed();
    println!(
        "{name:<44} n={n:<5} cpu/op {:>9.1} µs  {:>8.0} ops/s per core (cpu)  | wall/op {:>9.1} µs  {:>8.0} ops/s (wall)",
        cpu.as_secs_f64() * 1e6 / n as f64,
        n as f64 / cpu.as_secs_f64(),
        wall.as_secs_f64() * 1e6 / n as f64,
        n as f64 / wall.as_secs_f64(),
    );
}

fn challenge(t: TokenType) -> TokenChallenge {
    TokenChallenge::new(
        t,
        "issuer.example",
        RedemptionContext::Empty,
        &["origin.example"],
    )
    .unwrap()
}

fn origin(key: VerificationKey, t: TokenType) -> Origin {
    let mut cfg = OriginConfig::new("issuer.example", "origin.example");
    cfg.token_types = vec![t];
    let o = Origin::new(cfg, Arc::new(MemoryNonceStore::new())).unwrap();
    o.set_keys(vec![AcceptedKey {
        key,
        not_after: SystemTime::now() + Duration::from_secs(86_400),
    }]);
    o
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut rng = getrandom::SysRng;
    let now = SystemTime::now();

    // Type 2 issuance, both backends (same key).
    let ch2 = challenge(TokenType::PUBLIC_RSA);
    let aws = type2::IssuerKey::generate(type2::Backend::AwsLc).unwrap();
    let pure = type2::IssuerKey::from_pkcs8(aws.pkcs8(), type2::Backend::PureRust).unwrap();
    let (req2, _) = type2::request(&mut rng, &ch2, aws.public()).unwrap();
    measure("type2 issuance (BlindSign, aws-lc)", 4000, |_| {
        aws.issue(&req2).unwrap();
    });
    measure("type2 issuance (BlindSign, pure Rust)", 600, |_| {
        pure.issue(&req2).unwrap();
    });

    // Type 2 redemption: parse Authorization + verify + reserve/commit, every one a first.
    const N2: usize = 4000;
    let tokens2: Vec<String> = (0..WARM + N2)
        .map(|_| {
            let (req, st) = type2::request(&mut rng, &ch2, aws.public()).unwrap();
            build_authorization(
                &st.finalize(&aws.issue(&req).unwrap()).unwrap(),
                Quoting::Quoted,
            )
        })
        .collect();
    // Ten passes over the tokens (about a second of CPU); each pass gets a fresh origin and
    // nonce store, so every measured redemption is a first, accepted one.
    let new_o2 = || {
        origin(
            VerificationKey::Type2(aws.public().clone()),
            TokenType::PUBLIC_RSA,
        )
    };
    let mut o2 = new_o2();
    measure(
        "type2 redemption (parse+verify+double-spend)",
        10 * N2,
        |i| {
            if i % tokens2.len() == 0 {
                o2 = new_o2();
            }
            assert!(
                rt.block_on(o2.redeem(&tokens2[i % tokens2.len()], now))
                    .is_ok()
            );
        },
    );

    // Type 1 issuance and redemption.
    let ch1 = challenge(TokenType::PRIVATE_P384);
    let k1 = Arc::new(type1::IssuerKey::generate(&mut rng).unwrap());
    let (req1, _) = type1::request(&mut rng, &ch1, k1.public()).unwrap();
    measure("type1 issuance (BlindEvaluate + DLEQ proof)", 300, |_| {
        k1.issue(&mut getrandom::SysRng, &req1).unwrap();
    });
    const N1: usize = 300;
    let tokens1: Vec<String> = (0..WARM + N1)
        .map(|_| {
            let (req, st) = type1::request(&mut rng, &ch1, k1.public()).unwrap();
            build_authorization(
                &st.finalize(&k1.issue(&mut rng, &req).unwrap()).unwrap(),
                Quoting::Quoted,
            )
        })
        .collect();
    let new_o1 = || origin(VerificationKey::Type1(k1.clone()), TokenType::PRIVATE_P384);
    let mut o1 = new_o1();
    measure(
        "type1 redemption (parse+verify+double-spend)",
        3 * N1,
        |i| {
            if i % tokens1.len() == 0 {
                o1 = new_o1();
            }
            assert!(
                rt.block_on(o1.redeem(&tokens1[i % tokens1.len()], now))
                    .is_ok()
            );
        },
    );
}
