//! Live lifecycle state from a stream of flow events (`secdispatch lifecycle watch`):
//! events are paired into flows, accounted by an [`Analyzer`], and every refresh re-runs the
//! detectors over the aggregates and reports which hosts changed state.

use std::collections::BTreeMap;

use crate::analyzer::{Analyzer, Config};
use crate::event::{FlowAssembler, FlowEvent};
use crate::model::State;
use crate::report::Report;
use crate::skip::Skipped;

/// A host whose state changed since the previous refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    /// The host.
    pub host: String,
    /// Previous state (`Unknown` when new).
    pub from: State,
    /// New state.
    pub to: State,
    /// Score of the new state.
    pub score: f64,
    /// The strongest evidence's reason.
    pub reason: String,
}

/// The live view.
#[derive(Debug)]
pub struct LiveView {
    analyzer: Analyzer,
    assembler: FlowAssembler,
    states: BTreeMap<String, State>,
    skipped: Skipped,
    events: u64,
    last: Report,
}

impl LiveView {
    /// A view with the given thresholds.
    pub fn new(cfg: Config) -> LiveView {
        LiveView {
            analyzer: Analyzer::new(cfg),
            assembler: FlowAssembler::default(),
            states: BTreeMap::new(),
            skipped: Skipped::default(),
            events: 0,
            last: Report::default(),
        }
    }

    /// Take one line of the flow-event stream from `source`; bad lines are counted.
    pub fn line(&mut self, source: &str, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        match FlowEvent::parse_line(line) {
            Ok(e) => self.event(e),
            Err(e) => {
                let n = self.events + self.skipped.count + 1;
                self.skipped
                    .skip(source, || format!("event {n}"), &e.to_string());
            }
        }
    }

    /// Take one event.
    pub fn event(&mut self, e: FlowEvent) {
        self.events += 1;
        if let Some(flow) = self.assembler.push(e) {
            self.analyzer.add_flow(&flow);
        }
    }

    /// Events accepted.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Open connections.
    pub fn open_connections(&self) -> usize {
        self.assembler.open_count()
    }

    /// Re-run the detectors; return the hosts whose state changed.
    pub fn refresh(&mut self) -> Vec<StateChange> {
        let report = self.analyzer.report(&self.skipped);
        let mut changes = Vec::new();
        for h in &report.hosts {
            let prev = self.states.get(&h.host).copied().unwrap_or(State::Unknown);
            if prev != h.state {
                let reason = h
                    .evidence
                    .iter()
                    .filter(|e| e.state == h.state)
                    .max_by(|a, b| a.score.total_cmp(&b.score))
                    .map(|e| e.reason.clone())
                    .unwrap_or_default();
                changes.push(StateChange {
                    host: h.host.clone(),
                    from: prev,
                    to: h.state,
                    score: h.score,
                    reason,
                });
                self.states.insert(h.host.clone(), h.state);
            }
        }
        self.last = report;
        changes
    }

    /// The report of the last refresh.
    pub fn report(&self) -> &Report {
        &self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::FlowEvent;

    #[test]
    fn scan_events_become_discovery() {
        let mut v = LiveView::new(Config::default());
        let src: std::net::SocketAddr = "192.168.7.7:40000".parse().unwrap();
        for i in 1..=8u8 {
            let dst = format!("192.168.7.{}:445", 100 + i).parse().unwrap();
            v.line(
                "t",
                &FlowEvent::open(format!("c{i}"), 10.0 + f64::from(i), src, dst).to_line(),
            );
            let mut c = FlowEvent::close(format!("c{i}"), 11.0 + f64::from(i), src, dst, 0, 0);
            c.conn_state = Some("S0".into());
            v.line("t", &c.to_line());
        }
        v.line("t", "garbage");
        let ch = v.refresh();
        assert_eq!(ch.len(), 1, "{ch:?}");
        assert_eq!(
            (ch[0].host.as_str(), ch[0].to),
            ("192.168.7.7", State::Discovery)
        );
        assert!(v.refresh().is_empty(), "no change, no report");
        assert_eq!(v.report().skipped.count, 1);
        assert_eq!(v.events(), 16);
    }
}
