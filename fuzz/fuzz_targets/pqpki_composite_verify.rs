//! Composite (and pure ML-DSA) verification on arbitrary bytes: public keys of every algorithm
//! from raw input, and arbitrary signatures/contexts against fixed valid composite keys.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use secdispatch_pqpki::{Algorithm, SigningKey, VerifyingKey};

fn keys() -> &'static Vec<VerifyingKey> {
    static K: OnceLock<Vec<VerifyingKey>> = OnceLock::new();
    K.get_or_init(|| {
        ["id-MLDSA44-Ed25519-SHA512", "id-MLDSA65-Ed25519-SHA512"]
            .iter()
            .map(|n| {
                let alg = Algorithm::from_name(n).expect("known algorithm");
                // seed (32) || Ed25519 private key (32): any bytes are a valid key
                SigningKey::from_raw(alg, &[7u8; 64])
                    .expect("valid raw key")
                    .public_key()
                    .clone()
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let algs: Vec<Algorithm> = Algorithm::all().collect();
    let alg = algs[usize::from(sel) % algs.len()];
    if let Ok(k) = VerifyingKey::from_raw(alg, rest) {
        let _ = k.verify(b"m", rest);
    }
    let Some((&ctx_len, rest)) = rest.split_first() else {
        return;
    };
    let (ctx, rest) = rest.split_at(usize::from(ctx_len).min(rest.len()));
    let (msg, sig) = rest.split_at(rest.len().min(16));
    for k in keys() {
        assert!(k.verify_with_context(msg, ctx, sig).is_err());
        let _ = secdispatch_pqpki::policy::evidence_from_composite(k, msg, ctx, sig);
    }
});
