//! Records that could not be used: counted by reason, with the first few as examples.
//!
//! Bad input never stops an analysis: a truncated capture, an unknown link type, a corrupt
//! Zeek line or a flow event that does not parse is skipped, counted here and reported, and
//! the command's exit status says that something was skipped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How many examples are kept.
pub const MAX_EXAMPLES: usize = 10;

/// One skipped record, kept as an example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipExample {
    /// The input it came from (a file name).
    pub source: String,
    /// Where in the input: `packet 17`, `line 42`, `byte 1024`.
    pub location: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Counts and first examples of skipped records, plus records used despite a defect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Records skipped in total.
    pub count: u64,
    /// Skipped records by reason (a short, stable reason key).
    pub by_reason: BTreeMap<String, u64>,
    /// The first [`MAX_EXAMPLES`] skipped records.
    pub examples: Vec<SkipExample>,
    /// Records that were used but arrived out of time order (counted, not skipped).
    pub out_of_order: u64,
}

impl Skipped {
    /// Count one skipped record.
    pub fn skip(&mut self, source: &str, location: impl FnOnce() -> String, reason: &str) {
        self.count += 1;
        *self.by_reason.entry(reason_key(reason)).or_insert(0) += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(SkipExample {
                source: source.to_owned(),
                location: location(),
                reason: reason.to_owned(),
            });
        }
    }

    /// Add another report's counts and examples to this one.
    pub fn merge(&mut self, other: &Skipped) {
        self.count += other.count;
        self.out_of_order += other.out_of_order;
        for (k, v) in &other.by_reason {
            *self.by_reason.entry(k.clone()).or_insert(0) += v;
        }
        for e in &other.examples {
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(e.clone());
            }
        }
    }

    /// Whether anything was skipped.
    pub fn any(&self) -> bool {
        self.count > 0
    }
}

/// The part of a reason before the first `:` — "bad field: ts=xyz" counts as "bad field".
fn reason_key(reason: &str) -> String {
    reason.split(':').next().unwrap_or(reason).trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_reason_and_keeps_first_examples() {
        let mut s = Skipped::default();
        for i in 0..15 {
            s.skip("a.log", || format!("line {i}"), "bad field: ts");
        }
        s.skip("b.pcap", || "packet 3".into(), "unknown link type: 999");
        assert_eq!(s.count, 16);
        assert_eq!(s.by_reason["bad field"], 15);
        assert_eq!(s.by_reason["unknown link type"], 1);
        assert_eq!(s.examples.len(), MAX_EXAMPLES);
        assert_eq!(s.examples[0].location, "line 0");
        let mut t = Skipped::default();
        t.merge(&s);
        assert_eq!(t.count, 16);
        assert!(t.any());
    }
}
