//! Analyse captures and Zeek logs the way `secdispatch lifecycle analyze --format json`
//! does (same [`Session`], same report), without the rest of the binary: used by
//! `bench/lifecycle-ingest.sh` so that a benchmark needs only this crate in release mode.
//!
//! `cargo run --release -p secdispatch-lifecycle --example ingest -- [--local-nets CIDRS] FILE...`
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::fs::File;
use std::io::{BufReader, Write};
use std::process::ExitCode;

use secdispatch_lifecycle::input::{self, InputKind};
use secdispatch_lifecycle::{Config, LocalNets, Session};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = Config::default();
    if args.first().map(String::as_str) == Some("--local-nets") && args.len() > 1 {
        match LocalNets::parse_list(&args[1]) {
            Ok(l) => cfg.local = l,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
        args.drain(..2);
    }
    if args.is_empty() {
        eprintln!("usage: ingest [--local-nets CIDRS] FILE...");
        return ExitCode::FAILURE;
    }
    let mut session = Session::new(cfg);
    for path in &args {
        let opened = File::open(path)
            .and_then(|f| input::maybe_gunzip(BufReader::with_capacity(1 << 16, f)));
        let mut r = match opened {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {path}: {e}");
                return ExitCode::FAILURE;
            }
        };
        let res = match input::sniff(&mut r) {
            Ok(InputKind::Capture) => session.read_capture(r, path, &mut |_| {}).map(|_| ()),
            Ok(InputKind::ZeekLog) => session.read_zeek_log(r, path).map(|_| ()),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = res {
            session.skip_input(path, &format!("unreadable: {e}"));
        }
    }
    let cap = session.capture_stats();
    let trk = session.tracker_stats();
    let report = session.finish();
    eprintln!(
        "packets {} flows {} peak active flows {} hosts {} skipped {}",
        cap.packets,
        report.summary.flows,
        trk.peak_active,
        report.hosts.len(),
        report.skipped.count
    );
    let mut out = std::io::stdout().lock();
    if out.write_all(report.to_json().as_bytes()).is_err() {
        return ExitCode::FAILURE;
    }
    if report.skipped.any() {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
