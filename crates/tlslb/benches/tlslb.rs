//! Per-connection cost of TLS-LB on each side: the load balancer reads the ClientHello and
//! seals a header; the backend opens it and seals its answer.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use secdispatch_tlslb::encrypted::{Cipher, Keyring, ProxyKey};
use secdispatch_tlslb::proxy_data::{Direction, ProxyData, RatchetValue, ext};
use secdispatch_tlslb::ratchet::{RatchetReceiver, RatchetSender};
use secdispatch_tlslb::{client_hello, open_upstream, seal_downstream, seal_upstream};

fn hello() -> Vec<u8> {
    // A 512-byte ClientHello-shaped message in two records.
    let mut body = vec![3, 3];
    body.extend([7u8; 32]);
    body.push(0);
    body.extend([0, 2, 0x13, 0x01, 1, 0]);
    let pad = 508 - body.len() - 2 - 4;
    body.extend(((pad + 4) as u16).to_be_bytes());
    body.extend([0, 21]);
    body.extend((pad as u16).to_be_bytes());
    body.extend(vec![0u8; pad]);
    let mut msg = vec![1];
    msg.extend(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend(body);
    let mut wire = Vec::new();
    for c in msg.chunks(300) {
        wire.extend([22, 3, 1]);
        wire.extend((c.len() as u16).to_be_bytes());
        wire.extend(c);
    }
    wire
}

fn bench(c: &mut Criterion) {
    let keys = Keyring::new(vec![
        ProxyKey::new(b"lb-key-1", Cipher::Aes128Gcm, &[7; 16]).unwrap(),
    ])
    .unwrap();
    let wire = hello();
    let ch = client_hello::parse(&wire).unwrap().unwrap();
    let up = ProxyData::new(Direction::Upstream)
        .client_address("192.0.2.1".parse().unwrap())
        .ports(51066, 443)
        .ratchet(RatchetValue { index: 5, floor: 1 })
        .pad_to(64);
    c.bench_function("lb: parse ClientHello + seal header", |b| {
        b.iter(|| {
            let ch = client_hello::parse(&wire).unwrap().unwrap();
            seal_upstream(&keys, &up, &ch.message, [1; 12], 0).unwrap()
        })
    });
    let (record, epd) = seal_upstream(&keys, &up, &ch.message, [1; 12], 0).unwrap();
    let ack =
        ProxyData::new(Direction::Downstream).acknowledge(&[ext::CLIENT_ADDRESS, ext::RATCHET]);
    c.bench_function("backend: open header + seal answer", |b| {
        b.iter(|| {
            let (_, e) = open_upstream(&keys, &record[5..], &ch.message).unwrap();
            seal_downstream(&keys, &e, &ack, &epd, [2; 12], 0).unwrap()
        })
    });
    // The backend's replay check with the default window of 1,024: the floor trailing the
    // newest index by 64 connections in flight, and held down by one stuck connection (the
    // window full).
    for (name, lag) in [
        ("backend: ratchet check, 64 in flight", Some(64)),
        ("backend: ratchet check, floor held (window full)", None),
    ] {
        let mut r = RatchetReceiver::new(1024);
        let mut index = 1_000u64;
        c.bench_function(name, |b| {
            b.iter(|| {
                index += 1;
                let floor = lag.map_or(1_000, |l| index - l);
                r.check(RatchetValue { index, floor }).unwrap();
            })
        });
    }
    // The load balancer's side while one connection is stuck (holding the floor down) for
    // 10,000 to 20,000 later ones, with 64 open at a time; each stuck one is let go after
    // 10,000 connections and the oldest open one is stuck next.
    let mut s = RatchetSender::new(1);
    let mut stuck = s.start().index;
    for _ in 0..10_000 {
        let v = s.start();
        s.finish(v.index);
    }
    let mut open: std::collections::VecDeque<u64> = (0..64).map(|_| s.start().index).collect();
    let mut n = 0u32;
    c.bench_function(
        "lb: ratchet start + finish, floor held for 10,000-20,000 connections",
        |b| {
            b.iter(|| {
                open.push_back(s.start().index);
                s.finish(open.pop_front().unwrap());
                n += 1;
                if n.is_multiple_of(10_000) {
                    s.finish(stuck);
                    stuck = open.pop_front().unwrap();
                    open.push_back(s.start().index);
                }
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
