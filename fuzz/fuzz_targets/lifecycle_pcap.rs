//! pcap/pcapng reading, link/IP/transport decoding and flow tracking (with TLS, HTTP, SSH
//! and DNS payload inspection) on arbitrary bytes: never panics, and every packet record
//! read is either tracked or counted as skipped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use secdispatch_lifecycle::pcap::read_capture;
use secdispatch_lifecycle::tracker::{FlowTracker, TrackerConfig};
use secdispatch_lifecycle::{Config, Skipped};

fuzz_target!(|data: &[u8]| {
    let mut tracker = FlowTracker::new(TrackerConfig {
        max_flows: 64,
        ..TrackerConfig::default()
    });
    let mut skipped = Skipped::default();
    let mut analyzer = secdispatch_lifecycle::Analyzer::new(Config::default());
    if read_capture(
        data,
        "fuzz",
        &mut tracker,
        &mut skipped,
        &mut |_| {},
        &mut |f| analyzer.add_flow(&f),
    )
    .is_ok()
    {
        tracker.finish();
        for f in tracker.drain() {
            assert!(f.duration >= 0.0);
            analyzer.add_flow(&f);
        }
        assert!(tracker.active() == 0);
    }
    let report = analyzer.report(&skipped);
    let _ = report.to_json();
});
