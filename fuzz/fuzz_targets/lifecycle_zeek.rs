//! Zeek log reading (TSV with headers, JSON lines, ssl/http/conn joins) on arbitrary text:
//! never panics; bad lines are counted, and every line is either a row or skipped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_lifecycle::zeek::{LogKind, Record, ZeekSet};
use secdispatch_lifecycle::{Analyzer, Config, Skipped};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the kind the file name would suggest.
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let hint = [
        "conn.log",
        "dns.log",
        "ssl.log",
        "http.log",
        "x509.log",
        "weird.log",
    ][usize::from(k) % 6];
    let mut set = ZeekSet::new();
    let mut skipped = Skipped::default();
    let mut analyzer = Analyzer::new(Config::default());
    let mut rows = 0u64;
    let stats = set
        .read_log(
            rest,
            hint,
            Some(LogKind::from_name(hint)),
            &mut skipped,
            &mut |r| {
                rows += 1;
                match r {
                    Record::Flow(f) => analyzer.add_flow(&f),
                    Record::Dns(d) => analyzer.add_dns(&d),
                }
            },
        )
        .expect("reading from memory cannot fail");
    assert!(rows <= stats.rows);
    let lines = rest.split(|b| *b == b'\n').count() as u64;
    assert!(stats.rows + skipped.count <= lines);
    let _ = analyzer.report(&skipped).to_text();
});
