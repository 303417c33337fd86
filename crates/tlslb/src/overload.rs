//! The load balancer's view of its backends' `overload` answers (draft-schwartz-tls-lb-02
//! §4.6): avoid overloaded and rejected backends while their TTL runs, probe backends whose
//! state is unknown or expired, retry a rejected ClientHello on another backend, and drop
//! the connection when every backend is overloaded or rejected.
//!
//! Time is a parameter (milliseconds on any monotonic clock the caller keeps).

use crate::proxy_data::{OverloadState, OverloadValue};

#[derive(Debug, Clone, Copy)]
struct Known {
    value: OverloadValue,
    until_ms: u64,
}

/// Overload state of a fixed list of backends.
#[derive(Debug, Clone)]
pub struct OverloadTable {
    backends: Vec<Option<Known>>,
    next: usize,
}

/// How a backend ranks for the next connection, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// Answered `accepted` and its TTL runs.
    Accepted,
    /// Never answered, or its answer expired: worth one probe.
    Unknown,
    /// Answered `overloaded`.
    Overloaded,
    /// Answered `rejected`.
    Rejected,
}

impl OverloadTable {
    /// `n` backends, all unknown.
    pub fn new(n: usize) -> Self {
        Self {
            backends: vec![None; n],
            next: 0,
        }
    }

    /// Record a backend's answer at `now_ms`.
    pub fn record(&mut self, backend: usize, value: OverloadValue, now_ms: u64) {
        if let Some(b) = self.backends.get_mut(backend) {
            *b = Some(Known {
                value,
                until_ms: now_ms.saturating_add(u64::from(value.ttl) * 1000),
            });
        }
    }

    /// Forget a backend's answer (it failed or went away).
    pub fn forget(&mut self, backend: usize) {
        if let Some(b) = self.backends.get_mut(backend) {
            *b = None;
        }
    }

    /// A backend's standing at `now_ms`.
    pub fn standing(&self, backend: usize, now_ms: u64) -> Standing {
        match self.backends.get(backend).copied().flatten() {
            Some(k) if now_ms < k.until_ms => match k.value.state {
                OverloadState::Accepted => Standing::Accepted,
                OverloadState::Overloaded => Standing::Overloaded,
                OverloadState::Rejected => Standing::Rejected,
            },
            _ => Standing::Unknown,
        }
    }

    /// The order to try backends in for a new connection: accepted ones (least loaded
    /// first) and unknown ones in round-robin turn, never overloaded or rejected ones.
    /// Empty when every backend is overloaded or rejected: drop the connection.
    pub fn order(&mut self, now_ms: u64) -> Vec<usize> {
        let n = self.backends.len();
        if n == 0 {
            return Vec::new();
        }
        let start = self.next % n;
        self.next = self.next.wrapping_add(1);
        let mut v: Vec<(Standing, u16, usize, usize)> = (0..n)
            .map(|i| {
                let load = self.backends[i].map_or(0, |k| k.value.load);
                (self.standing(i, now_ms), load, (i + n - start) % n, i)
            })
            .filter(|(s, ..)| matches!(s, Standing::Accepted | Standing::Unknown))
            .collect();
        // Round-robin among equals: standing, then turn (load only separates accepted ones
        // whose load differs by more than a tenth).
        v.sort_by_key(|(s, load, turn, _)| (*s, load / 6554, *turn));
        v.into_iter().map(|(.., i)| i).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(state: OverloadState, load: u16, ttl: u32) -> OverloadValue {
        OverloadValue { state, load, ttl }
    }

    #[test]
    fn overloaded_and_rejected_backends_are_avoided_until_their_ttl_ends() {
        let mut t = OverloadTable::new(3);
        t.record(0, v(OverloadState::Overloaded, 60000, 10), 0);
        t.record(1, v(OverloadState::Rejected, 65535, 5), 0);
        assert_eq!(t.order(1000), vec![2]);
        assert_eq!(t.standing(1, 4999), Standing::Rejected);
        assert_eq!(
            t.standing(1, 5000),
            Standing::Unknown,
            "expired: probe again"
        );
        t.record(2, v(OverloadState::Rejected, 65535, 60), 0);
        assert!(t.order(1000).is_empty(), "everyone refuses: drop");
        assert_eq!(t.order(5000), vec![1]);
    }

    #[test]
    fn accepted_backends_come_first_and_rotate() {
        let mut t = OverloadTable::new(3);
        t.record(0, v(OverloadState::Accepted, 100, 60), 0);
        t.record(2, v(OverloadState::Accepted, 100, 60), 0);
        let a = t.order(0);
        let b = t.order(0);
        assert_eq!(a.len(), 3);
        assert_eq!(a[2], 1, "unknown after accepted");
        assert_ne!(a[0], b[0], "round-robin among equals");
        t.record(0, v(OverloadState::Accepted, 50000, 60), 0);
        assert_eq!(t.order(0)[0], 2, "the lighter one first");
    }
}
