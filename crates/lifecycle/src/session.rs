//! One analysis over several inputs: captures share a flow table (a capture split in
//! several files joins up), Zeek logs share a [`ZeekSet`] (read ssl/http before conn), and
//! everything lands in one [`Analyzer`].

use std::io::{BufRead, Read};

use crate::analyzer::{Analyzer, Config};
use crate::error::Error;
use crate::pcap::{self, CaptureStats};
use crate::report::Report;
use crate::skip::Skipped;
use crate::tracker::{FlowTracker, TrackerConfig, TrackerStats};
use crate::zeek::{LogKind, LogStats, Record, ZeekSet};

/// Inputs in, report out.
#[derive(Debug)]
pub struct Session {
    analyzer: Analyzer,
    tracker: FlowTracker,
    zeek: ZeekSet,
    skipped: Skipped,
    captures: CaptureStats,
    logs: Vec<(String, LogStats)>,
}

impl Session {
    /// A session with the given thresholds.
    pub fn new(cfg: Config) -> Session {
        Session::with_tracker(cfg, TrackerConfig::default())
    }

    /// A session with the given thresholds and flow-table settings.
    pub fn with_tracker(cfg: Config, tracker: TrackerConfig) -> Session {
        Session {
            analyzer: Analyzer::new(cfg),
            tracker: FlowTracker::new(tracker),
            zeek: ZeekSet::new(),
            skipped: Skipped::default(),
            captures: CaptureStats::default(),
            logs: Vec::new(),
        }
    }

    /// Read a pcap or pcapng capture.
    pub fn read_capture<R: Read + Send>(
        &mut self,
        r: R,
        source: &str,
        progress: &mut dyn FnMut(u64),
    ) -> Result<CaptureStats, Error> {
        let analyzer = &mut self.analyzer;
        let st = pcap::read_capture(
            r,
            source,
            &mut self.tracker,
            &mut self.skipped,
            progress,
            &mut |f| analyzer.add_flow(&f),
        )?;
        self.captures.packets += st.packets;
        self.captures.bytes += st.bytes;
        self.captures.non_ip += st.non_ip;
        self.captures.fragments += st.fragments;
        Ok(st)
    }

    /// Read a Zeek log; `name` (its file name) tells the kind of JSON logs.
    pub fn read_zeek_log<R: BufRead>(&mut self, r: R, source: &str) -> Result<LogStats, Error> {
        let analyzer = &mut self.analyzer;
        let st = self.zeek.read_log(
            r,
            source,
            Some(LogKind::from_name(source)),
            &mut self.skipped,
            &mut |rec| match rec {
                Record::Flow(f) => analyzer.add_flow(&f),
                Record::Dns(d) => analyzer.add_dns(&d),
            },
        )?;
        self.logs.push((source.to_owned(), st.clone()));
        Ok(st)
    }

    /// Record an input that could not be read at all.
    pub fn skip_input(&mut self, source: &str, reason: &str) {
        self.skipped
            .skip(source, || "whole input".to_owned(), reason);
    }

    /// Capture totals so far.
    pub fn capture_stats(&self) -> CaptureStats {
        self.captures
    }

    /// Flow-table counters.
    pub fn tracker_stats(&self) -> TrackerStats {
        self.tracker.stats()
    }

    /// Logs read, with their kind and row counts.
    pub fn logs(&self) -> &[(String, LogStats)] {
        &self.logs
    }

    /// What was skipped so far.
    pub fn skipped(&self) -> &Skipped {
        &self.skipped
    }

    /// Finish the active flows and analyse.
    pub fn finish(mut self) -> Report {
        self.tracker.finish();
        self.skipped.out_of_order += self.tracker.stats().out_of_order;
        let analyzer = &mut self.analyzer;
        self.tracker.drain().for_each(|f| analyzer.add_flow(&f));
        self.analyzer.report(&self.skipped)
    }
}
