//! The `ratchet` (draft-schwartz-tls-lb-02 §4.7): a backend that is also reachable
//! directly discards replayed `proxy_header`s after one AEAD open, before any expensive
//! (EC)DH, by remembering a floor below which connection indices are refused.
//!
//! Indices compare in serial-number arithmetic: `a ≥ b` iff the most significant bit of
//! `(a − b) mod 2^64` is 0, so the ratchet survives wrap-around. The state is per backend
//! and per `psk_identity`.

use std::collections::{BTreeSet, VecDeque};

use crate::proxy_data::RatchetValue;

/// `a ≥ b` in serial arithmetic.
pub fn serial_ge(a: u64, b: u64) -> bool {
    a.wrapping_sub(b) >> 63 == 0
}

/// The load balancer's side for one backend: numbers connections and tracks the floor,
/// the index of the earliest connection not yet connected or closed.
#[derive(Debug, Clone)]
pub struct RatchetSender {
    next: u64,
    /// Issued indices in order, with whether each is finished.
    open: VecDeque<(u64, bool)>,
}

impl RatchetSender {
    /// Start at `first` (choose it at random so indices do not reveal a count).
    pub fn new(first: u64) -> Self {
        Self {
            next: first,
            open: VecDeque::new(),
        }
    }

    /// The value for a new connection.
    pub fn start(&mut self) -> RatchetValue {
        let index = self.next;
        self.next = self.next.wrapping_add(1);
        self.open.push_back((index, false));
        RatchetValue {
            index,
            floor: self.floor(),
        }
    }

    /// The connection `index` connected (or closed): it no longer holds the floor down.
    pub fn finish(&mut self, index: u64) {
        // Indices are issued one after the other and leave from the front, so `index` is
        // found at its distance from the front: no search, however many are open (a
        // stuck connection holding the floor keeps every later one here).
        let Some(&(front, _)) = self.open.front() else {
            return;
        };
        let at = usize::try_from(index.wrapping_sub(front)).ok();
        if let Some(e) = at.and_then(|at| self.open.get_mut(at))
            && e.0 == index
        {
            e.1 = true;
        }
        while self.open.front().is_some_and(|e| e.1) {
            self.open.pop_front();
        }
    }

    /// The current floor.
    pub fn floor(&self) -> u64 {
        self.open.front().map_or(self.next, |e| e.0)
    }
}

/// Why a backend refused a ratchet value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatchetRefusal {
    /// The index is below the floor: a replay of an old header.
    BelowFloor,
    /// The index was already seen (optional recent-index window).
    Repeated,
}

/// The backend's side for one `psk_identity`.
#[derive(Debug, Clone)]
pub struct RatchetReceiver {
    floor: Option<u64>,
    /// Indices at or above the floor already seen, when the window is on, each as its
    /// distance from `anchor`. Those distances are in serial order (see [`Self::raise`]),
    /// so the oldest index is the set's first and raising the floor splits the set instead
    /// of scanning it (per connection, with a full window of 1,024).
    seen: Option<BTreeSet<u64>>,
    anchor: u64,
    window: usize,
}

impl RatchetReceiver {
    /// A receiver; `window > 0` also refuses repeated indices above the floor, keeping at
    /// most `window` of them (older ones are forgotten, never accepted twice within it).
    pub fn new(window: usize) -> Self {
        Self {
            floor: None,
            seen: (window > 0).then(BTreeSet::new),
            anchor: 0,
            window,
        }
    }

    /// Accept or refuse a connection's ratchet value; accepting raises the floor.
    pub fn check(&mut self, v: RatchetValue) -> Result<(), RatchetRefusal> {
        let floor = match self.floor {
            Some(f) => f,
            None => {
                self.floor = Some(v.floor);
                self.anchor = v.floor;
                v.floor
            }
        };
        if !serial_ge(v.index, floor) {
            return Err(RatchetRefusal::BelowFloor);
        }
        if let Some(seen) = &mut self.seen {
            if !seen.insert(v.index.wrapping_sub(self.anchor)) {
                return Err(RatchetRefusal::Repeated);
            }
            while seen.len() > self.window {
                // Forget the oldest.
                seen.pop_first();
            }
        }
        if v.floor != floor && serial_ge(v.floor, floor) {
            self.raise(v.floor);
        }
        Ok(())
    }

    /// Move the floor up to `floor`, forgetting the indices below it.
    ///
    /// An accepted index is less than 2^63 above the floor, and the floor is kept less than
    /// 2^62 above `anchor`, so an index's distance from `anchor` never wraps: ordering the
    /// distances orders the indices serially.
    fn raise(&mut self, floor: u64) {
        self.floor = Some(floor);
        let Some(seen) = &mut self.seen else {
            return;
        };
        let offset = floor.wrapping_sub(self.anchor);
        *seen = seen.split_off(&offset);
        if offset >= 1 << 62 {
            *seen = seen.iter().map(|d| d - offset).collect();
            self.anchor = floor;
        }
    }

    /// The floor, once the first value arrived.
    pub fn floor(&self) -> Option<u64> {
        self.floor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_order_wraps() {
        assert!(serial_ge(5, 3));
        assert!(!serial_ge(3, 5));
        assert!(serial_ge(1, u64::MAX - 1), "1 comes after 2^64-2");
        assert!(!serial_ge(u64::MAX - 1, 1));
        assert!(serial_ge(7, 7));
    }

    #[test]
    fn floor_is_the_earliest_unfinished_connection() {
        let mut s = RatchetSender::new(u64::MAX - 1);
        let a = s.start();
        let b = s.start();
        let c = s.start();
        assert_eq!((a.index, b.index, c.index), (u64::MAX - 1, u64::MAX, 0));
        assert_eq!(c.floor, u64::MAX - 1);
        s.finish(b.index);
        assert_eq!(s.floor(), u64::MAX - 1, "a still open");
        s.finish(a.index);
        assert_eq!(s.floor(), 0);
        s.finish(c.index);
        assert_eq!(s.floor(), 1, "nothing open: the next index");
    }

    /// With the first connection stuck, later ones finish in any order and the floor
    /// stays; when the first finishes, the floor jumps past everything finished.
    #[test]
    fn a_stuck_connection_holds_the_floor_and_releases_it() {
        let mut s = RatchetSender::new(u64::MAX - 500);
        let stuck = s.start();
        let later: Vec<u64> = (0..10_000).map(|_| s.start().index).collect();
        for &i in later.iter().rev().step_by(2) {
            s.finish(i);
        }
        s.finish(u64::MAX - 600); // never issued: ignored
        assert_eq!(s.floor(), stuck.index);
        for &i in later.iter().step_by(2).skip(1) {
            s.finish(i);
        }
        s.finish(stuck.index);
        assert_eq!(s.floor(), later[0], "later[0] is still open");
        s.finish(later[0]);
        assert_eq!(s.floor(), later[9_999].wrapping_add(1));
    }

    #[test]
    fn replays_below_the_floor_are_refused() {
        let mut s = RatchetSender::new(100);
        let mut r = RatchetReceiver::new(0);
        let first = s.start();
        r.check(first).unwrap();
        s.finish(first.index);
        let second = s.start();
        r.check(second).unwrap();
        assert_eq!(r.floor(), Some(101));
        assert_eq!(r.check(first), Err(RatchetRefusal::BelowFloor));
        // Without the window, a replay at or above the floor passes (the draft's optional part).
        assert_eq!(r.check(second), Ok(()));
    }

    #[test]
    fn the_window_refuses_repeats_above_the_floor() {
        let mut r = RatchetReceiver::new(4);
        let v = RatchetValue {
            index: 10,
            floor: 5,
        };
        r.check(v).unwrap();
        assert_eq!(r.check(v), Err(RatchetRefusal::Repeated));
        r.check(RatchetValue {
            index: 11,
            floor: 5,
        })
        .unwrap();
        for i in 12..40 {
            r.check(RatchetValue { index: i, floor: 5 }).unwrap();
        }
        assert!(r.seen.as_ref().unwrap().len() <= 4);
    }

    fn value(index: u64, floor: u64) -> RatchetValue {
        RatchetValue { index, floor }
    }

    /// Floor and window across the wrap of the index space, and far from where they
    /// started (the distances are measured from a new anchor then).
    #[test]
    fn the_window_works_across_wrap_around_and_long_runs() {
        let mut r = RatchetReceiver::new(8);
        let start = u64::MAX - 3;
        for i in 0..8u64 {
            r.check(value(start.wrapping_add(i), start)).unwrap();
        }
        assert_eq!(r.check(value(start, start)), Err(RatchetRefusal::Repeated));
        assert_eq!(
            r.check(value(2, start)),
            Err(RatchetRefusal::Repeated),
            "after 0"
        );
        // The floor passes 0: what is below it is refused, what is above is remembered.
        r.check(value(5, 1)).unwrap();
        assert_eq!(r.floor(), Some(1));
        assert_eq!(r.check(value(u64::MAX, 1)), Err(RatchetRefusal::BelowFloor));
        assert_eq!(r.check(value(3, 1)), Err(RatchetRefusal::Repeated));
        assert_eq!(r.check(value(5, 1)), Err(RatchetRefusal::Repeated));
        r.check(value(4, 1)).unwrap();
        assert_eq!(r.seen.as_ref().unwrap().len(), 5, "1 2 3 4 5, none below 1");
        // Half the index space later (the anchor moves).
        let far = 1u64 << 62 | 7;
        r.check(value(far + 2, far)).unwrap();
        assert_eq!(r.anchor, far);
        assert_eq!(r.check(value(far + 2, far)), Err(RatchetRefusal::Repeated));
        assert_eq!(r.check(value(5, far)), Err(RatchetRefusal::BelowFloor));
        r.check(value(far, far)).unwrap();
        r.check(value(far + 1, far)).unwrap();
        // The oldest is forgotten first when the window is full.
        for i in 3..9 {
            r.check(value(far + i, far)).unwrap();
        }
        assert_eq!(r.seen.as_ref().unwrap().len(), 8);
        assert_eq!(r.check(value(far + 1, far)), Err(RatchetRefusal::Repeated));
        r.check(value(far, far)).unwrap();
    }
}
