//! In-memory reserve + commit: the per-redemption cost of double-spend protection when one
//! process serves all traffic (target: under 1 µs).
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use secdispatch_replay::{MemoryNonceStore, NonceStore};

fn reserve_commit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryNonceStore::new();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let until = now + Duration::from_secs(3600);
    let mut i: u64 = 0;
    c.bench_function("memory reserve+commit (32-byte nonce)", |b| {
        b.iter(|| {
            i += 1;
            let mut nonce = [0u8; 32];
            nonce[..8].copy_from_slice(&i.to_le_bytes());
            rt.block_on(async {
                let r = store
                    .reserve("privacypass:key", &nonce, now, until)
                    .await
                    .unwrap();
                store.commit(&r).await.unwrap();
            })
        })
    });
}

criterion_group!(benches, reserve_commit);
criterion_main!(benches);
