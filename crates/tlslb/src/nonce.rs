//! Nonces for sealing `ProxyData`: unique per key without a system random call each.
//!
//! The draft leaves the nonce to the sender (note §5.3). Drawing 96 random bits per header
//! costs a call into the system generator for every connection; instead a [`Nonces`]
//! draws its 96-bit start once and counts up from it, the "random start, then increment"
//! construction of RFC 5116 §3.2. Nonces of one sequence never repeat (the 64-bit counter
//! part would need 2^64 headers to wrap). Several senders under one key (load balancer
//! replicas, the backends' answers) each start at an independent random point: two
//! sequences of `n` nonces overlap only if their 32-bit prefixes are equal and their
//! counters start within `n` of each other, with probability about `2n / 2^96` — far below
//! that of `n` fully random nonces colliding (`n² / 2^97`).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;
use crate::encrypted::NONCE_LEN;

/// A sequence of unique 96-bit nonces.
#[derive(Debug)]
pub struct Nonces {
    prefix: [u8; 4],
    counter: AtomicU64,
}

impl Nonces {
    /// A sequence starting at a random point.
    pub fn new() -> Result<Self, Error> {
        let mut start = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut start)
            .map_err(|_| Error::Invalid("the system random generator failed"))?;
        let [p0, p1, p2, p3, c @ ..] = start;
        Ok(Self {
            prefix: [p0, p1, p2, p3],
            counter: AtomicU64::new(u64::from_be_bytes(c)),
        })
    }

    /// The next nonce: the prefix and the counter, big-endian.
    pub fn next(&self) -> [u8; NONCE_LEN] {
        let c = self.counter.fetch_add(1, Ordering::Relaxed).to_be_bytes();
        let mut n = [0u8; NONCE_LEN];
        n[..4].copy_from_slice(&self.prefix);
        n[4..].copy_from_slice(&c);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn nonces_are_unique_and_sequences_start_apart() {
        let a = Nonces::new().unwrap();
        let seen: HashSet<_> = (0..10_000).map(|_| a.next()).collect();
        assert_eq!(seen.len(), 10_000);
        let b = Nonces::new().unwrap();
        assert_ne!(a.next()[..4], b.next()[..4], "independent random prefixes");
    }

    /// The counter wraps without panicking (2^64 nonces later).
    #[test]
    fn the_counter_wraps() {
        let n = Nonces {
            prefix: [1, 2, 3, 4],
            counter: AtomicU64::new(u64::MAX),
        };
        assert_eq!(
            n.next(),
            [1, 2, 3, 4, 255, 255, 255, 255, 255, 255, 255, 255]
        );
        assert_eq!(n.next(), [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
    }
}
