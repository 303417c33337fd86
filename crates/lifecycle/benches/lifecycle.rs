//! Hot paths of the analyzer: packet decoding + flow tracking from a pcap in memory,
//! Zeek conn.log parsing, and the RITA beacon score.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use secdispatch_lifecycle::beacon::{Window, score};
use secdispatch_lifecycle::{Config, Session};

fn frame(
    src: [u8; 4],
    sp: u16,
    dst: [u8; 4],
    dp: u16,
    flags: u8,
    seq: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
    let total = 40 + payload.len();
    f.extend_from_slice(&[
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0,
        1,
        0x40,
        0,
        64,
        6,
        0,
        0,
    ]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&sp.to_be_bytes());
    f.extend_from_slice(&dp.to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// A pcap of `n` short HTTP connections (7 packets each), one every 2 s.
fn capture(n: u32) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ]);
    let c = [10, 0, 0, 5];
    let s = [93, 184, 216, 34];
    let req = b"GET /beacon HTTP/1.1\r\nHost: c2.example\r\nUser-Agent: x\r\n\r\n";
    let mut packets = 0;
    for i in 0..n {
        let t = 1_700_000_000 + i * 2;
        let sp = 10_000 + (i % 50_000) as u16;
        let frames = [
            frame(c, sp, s, 80, 0x02, 1, b""),
            frame(s, 80, c, sp, 0x12, 1, b""),
            frame(c, sp, s, 80, 0x10, 2, b""),
            frame(c, sp, s, 80, 0x18, 2, req),
            frame(s, 80, c, sp, 0x18, 2, b"HTTP/1.1 204 No Content\r\n\r\n"),
            frame(c, sp, s, 80, 0x11, 2 + req.len() as u32, b""),
            frame(s, 80, c, sp, 0x11, 30, b""),
        ];
        for (k, fr) in frames.iter().enumerate() {
            out.extend_from_slice(&t.to_le_bytes());
            out.extend_from_slice(&(k as u32 * 1000).to_le_bytes());
            out.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            out.extend_from_slice(&(fr.len() as u32).to_le_bytes());
            out.extend_from_slice(fr);
            packets += 1;
        }
    }
    (out, packets)
}

fn bench(c: &mut Criterion) {
    let (pcap, packets) = capture(20_000);
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(packets));
    g.bench_function("pcap_140k_packets_to_report", |b| {
        b.iter(|| {
            let mut s = Session::new(Config::default());
            s.read_capture(&pcap[..], "bench", &mut |_| {}).unwrap();
            s.finish()
        })
    });
    let mut log = String::from(
        "#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n",
    );
    for i in 0..20_000u32 {
        log.push_str(&format!(
            "{}.25\tC{i}\t10.0.0.{}\t{}\t93.184.216.{}\t443\ttcp\tssl\t0.2\t517\t4120\tSF\tShADadFf\t6\t837\t5\t4320\n",
            1_700_000_000 + i,
            i % 200,
            10_000 + i % 50_000,
            i % 50
        ));
    }
    g.throughput(Throughput::Elements(20_000));
    g.bench_function("zeek_conn_20k_rows_to_report", |b| {
        b.iter(|| {
            let mut s = Session::new(Config::default());
            s.read_zeek_log(log.as_bytes(), "conn.log").unwrap();
            s.finish()
        })
    });
    g.finish();
    let ts: Vec<i64> = (0..10_000)
        .map(|i| 1_700_000_000 + i * 8 + (i * 7919) % 3)
        .collect();
    let bytes: Vec<u64> = (0..10_000).map(|i| 1500 + (i * 31) % 40).collect();
    let w = Window::for_dataset(1_700_000_000.0, 1_700_080_000.0);
    c.bench_function("beacon_score_10k_connections", |b| {
        b.iter(|| score(&ts, &bytes, w))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
