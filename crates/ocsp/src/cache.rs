//! RFC 9919 §5 HTTP caching values for an authoritative response, computed without I/O: the
//! service formats them as headers (`ETag`, `Cache-Control: max-age=…, public, no-transform,
//! must-revalidate`, `Expires`, `Last-Modified`).

use std::time::{Duration, SystemTime};

use crate::certid::HashAlgorithm;

/// The caching values of one response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheInfo {
    /// Strong ETag value including the quotes: `"` + hex SHA-256 of the DER + `"`.
    pub etag: String,
    /// `max-age`: remaining validity (nextUpdate − now), capped by `max_age_cap`; 0 once stale.
    pub max_age: Duration,
    /// `Expires` = nextUpdate.
    pub expires: SystemTime,
    /// `Last-Modified` = thisUpdate.
    pub last_modified: SystemTime,
}

impl CacheInfo {
    /// Caching values for the response `der` with `this_update` / `next_update`, at `now`.
    pub fn new(
        der: &[u8],
        this_update: SystemTime,
        next_update: SystemTime,
        now: SystemTime,
        max_age_cap: Duration,
    ) -> CacheInfo {
        CacheInfo {
            etag: etag(der),
            max_age: next_update
                .duration_since(now)
                .unwrap_or(Duration::ZERO)
                .min(max_age_cap),
            expires: next_update,
            last_modified: this_update,
        }
    }

    /// The `Cache-Control` header value.
    pub fn cache_control(&self) -> String {
        format!(
            "max-age={}, public, no-transform, must-revalidate",
            self.max_age.as_secs()
        )
    }

    /// Whether an `If-None-Match` header value matches (→ 304).
    pub fn matches_if_none_match(&self, header: &str) -> bool {
        header.split(',').any(|t| {
            let t = t.trim();
            t == "*" || t == self.etag
        })
    }
}

/// The strong ETag (quoted hex SHA-256) of a response's DER.
pub fn etag(der: &[u8]) -> String {
    let h = HashAlgorithm::Sha256.digest(der);
    let mut s = String::with_capacity(66);
    s.push('"');
    for b in h {
        s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_values() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let c = CacheInfo::new(
            b"abc",
            t,
            t + Duration::from_secs(4 * 3600),
            t + Duration::from_secs(3600),
            Duration::from_secs(86_400),
        );
        assert_eq!(
            c.etag,
            "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\""
        );
        assert_eq!(c.max_age, Duration::from_secs(3 * 3600));
        assert_eq!(
            c.cache_control(),
            "max-age=10800, public, no-transform, must-revalidate"
        );
        assert!(c.matches_if_none_match(&format!("\"x\", {}", c.etag)));
        assert!(c.matches_if_none_match("*"));
        assert!(!c.matches_if_none_match("\"x\""));
        let stale = CacheInfo::new(b"", t, t, t + Duration::from_secs(1), Duration::MAX);
        assert_eq!(stale.max_age, Duration::ZERO);
        let capped = CacheInfo::new(
            b"",
            t,
            t + Duration::from_secs(100),
            t,
            Duration::from_secs(10),
        );
        assert_eq!(capped.max_age, Duration::from_secs(10));
    }
}
