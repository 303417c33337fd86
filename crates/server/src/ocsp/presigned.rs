//! The pre-signed response cache: every answer lives here as the DER of a complete
//! OCSPResponse (and, within it, the BasicOCSPResponse that chain bundles reuse), with its
//! RFC 9919 caching values, keyed by (issuer, signer variant, CertID hash algorithm, serial
//! or OCSPv2 range).
//!
//! * Readers take a shared lock just long enough to clone an `Arc`; signing never happens
//!   under a lock. A refreshed or re-signed entry replaces the old one in one step, and the
//!   old one is marked stale so that the GET fast path drops it.
//! * Every invalidation (a revocation, an issuance) bumps an epoch; a response signed from
//!   a status read before the bump is served to the request that asked for it but never
//!   stored, so a stale `good` cannot outlive a revocation.
//! * Misses are signed once however many requests wait for them (single flight): the first
//!   request signs, the others await the same cell.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderValue;
use secdispatch_ocsp::HashAlgorithm;
use tokio::sync::OnceCell;

/// What a response is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// One serial (magnitude, no leading zeros).
    Serial(Box<[u8]>),
    /// An OCSPv2 range response (placeholder CertID), inclusive bounds.
    Range(u64, u64),
}

/// A cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Position of the issuer in the responder.
    pub issuer: usize,
    /// Signer variant of that issuer (0: the default).
    pub variant: usize,
    /// The CertID hash algorithm (echoed in the response).
    pub hash: HashAlgorithm,
    /// Serial or range.
    pub subject: Subject,
}

/// One pre-signed response.
#[derive(Debug)]
pub struct Presigned {
    /// DER of the OCSPResponse.
    pub full: Bytes,
    /// DER of the BasicOCSPResponse inside it (for bundles).
    pub basic: Bytes,
    /// Strong ETag (quoted hex SHA-256 of `full`).
    pub etag: HeaderValue,
    /// `Last-Modified` (thisUpdate) as an HTTP date.
    pub last_modified: HeaderValue,
    /// `Expires` (nextUpdate) as an HTTP date.
    pub expires: HeaderValue,
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate.
    pub next_update: SystemTime,
    /// When the background pool re-signs it.
    pub refresh_at: SystemTime,
    /// Replaced or withdrawn.
    stale: AtomicBool,
}

impl Presigned {
    /// An entry for the OCSPResponse `full` whose last `basic_len` bytes are the
    /// BasicOCSPResponse.
    pub fn new(
        full: Vec<u8>,
        basic_len: usize,
        this_update: SystemTime,
        next_update: SystemTime,
        refresh_fraction: f64,
    ) -> Self {
        let full = Bytes::from(full);
        let basic = full.slice(full.len().saturating_sub(basic_len)..);
        let etag = secdispatch_ocsp::etag(&full);
        let validity = next_update
            .duration_since(this_update)
            .unwrap_or(Duration::ZERO);
        let refresh_at = this_update + validity.mul_f64(refresh_fraction.clamp(0.05, 0.95));
        let hv = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""));
        Self {
            etag: hv(etag),
            last_modified: hv(http_date(this_update)),
            expires: hv(http_date(next_update)),
            full,
            basic,
            this_update,
            next_update,
            refresh_at,
            stale: AtomicBool::new(false),
        }
    }

    /// Whether it may be served at `now`: not replaced, not withdrawn, before nextUpdate.
    pub fn usable(&self, now: SystemTime) -> bool {
        !self.stale.load(Ordering::Relaxed) && now < self.next_update
    }

    /// Mark replaced or withdrawn.
    pub fn retire(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }
}

/// Longest GET path remembered by the fast path.
pub const MAX_FAST_PATH: usize = 1024;

/// Most GET paths remembered by the fast path.
pub const MAX_FAST_PATHS: usize = 100_000;

/// The result of a single-flight signing.
type Flight = Arc<OnceCell<Result<Arc<Presigned>, String>>>;

/// The cache.
#[derive(Debug, Default)]
pub struct Cache {
    map: RwLock<HashMap<Key, Arc<Presigned>>>,
    epoch: AtomicU64,
    inflight: Mutex<HashMap<Key, Flight>>,
    /// GET fast path: exact request path → entry (requests without nonce, one CertID).
    paths: RwLock<HashMap<Box<str>, Arc<Presigned>>>,
    max: usize,
}

impl Cache {
    /// A cache holding at most `max` responses.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            ..Self::default()
        }
    }

    /// The current epoch (read it before reading the status a response is signed from).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// The entry for `key`, if usable at `now`.
    pub fn get(&self, key: &Key, now: SystemTime) -> Option<Arc<Presigned>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.get(key).filter(|e| e.usable(now)).cloned()
    }

    /// The entry for GET path `path`, if usable at `now`.
    pub fn get_path(&self, path: &str, now: SystemTime) -> Option<Arc<Presigned>> {
        let paths = self.paths.read().unwrap_or_else(PoisonError::into_inner);
        paths.get(path).filter(|e| e.usable(now)).cloned()
    }

    /// Remember that GET `path` is answered by `entry` (paths up to [`MAX_FAST_PATH`]
    /// bytes, at most [`MAX_FAST_PATHS`] of them: prefixes and encodings vary freely, so
    /// this map must not grow with what clients send).
    pub fn put_path(&self, path: &str, entry: Arc<Presigned>) {
        if path.len() > MAX_FAST_PATH {
            return;
        }
        let mut paths = self.paths.write().unwrap_or_else(PoisonError::into_inner);
        if paths.len() >= self.max.min(MAX_FAST_PATHS) {
            paths.clear();
        }
        paths.insert(path.into(), entry);
    }

    /// Store `entry` unless an invalidation happened since `epoch`. Returns whether stored.
    pub fn insert(&self, key: Key, entry: Arc<Presigned>, epoch: u64) -> bool {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        if self.epoch.load(Ordering::Acquire) != epoch {
            return false;
        }
        if map.len() >= self.max && !map.contains_key(&key) {
            return false;
        }
        if let Some(old) = map.insert(key, entry) {
            old.retire();
        }
        true
    }

    /// Withdraw every entry for which `matches` holds; bumps the epoch.
    pub fn invalidate(&self, matches: impl Fn(&Key) -> bool) -> usize {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let before = map.len();
        map.retain(|k, e| {
            let keep = !matches(k);
            if !keep {
                e.retire();
            }
            keep
        });
        before - map.len()
    }

    /// Keys of entries to re-sign at `now` (refresh time reached), at most `limit`.
    pub fn due(&self, now: SystemTime, limit: usize) -> Vec<Key> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.iter()
            .filter(|(_, e)| e.refresh_at <= now)
            .map(|(k, _)| k.clone())
            .take(limit)
            .collect()
    }

    /// Drop entries past nextUpdate and GET paths of retired entries.
    pub fn sweep(&self, now: SystemTime) {
        {
            let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
            map.retain(|_, e| now < e.next_update);
        }
        let mut paths = self.paths.write().unwrap_or_else(PoisonError::into_inner);
        paths.retain(|_, e| e.usable(now));
    }

    /// Number of responses held.
    pub fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The oldest thisUpdate held (generation age).
    pub fn oldest(&self) -> Option<SystemTime> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        map.values().map(|e| e.this_update).min()
    }

    /// The entry for `key`: cached, or signed by `sign` exactly once however many callers
    /// ask concurrently. `sign` gets the epoch to store under and returns the entry.
    /// Returns the entry and whether this call signed it.
    pub async fn get_or_sign<F>(
        &self,
        key: &Key,
        now: SystemTime,
        sign: F,
    ) -> Result<(Arc<Presigned>, bool), String>
    where
        F: FnOnce() -> Result<Presigned, String>,
    {
        if let Some(e) = self.get(key, now) {
            return Ok((e, false));
        }
        let cell = {
            let mut inflight = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            // Checked again under the flight lock: a flight stores its result before it
            // leaves the table, so a late caller sees one or the other.
            if let Some(e) = self.get(key, now) {
                return Ok((e, false));
            }
            inflight.entry(key.clone()).or_default().clone()
        };
        let mut signed_here = false;
        let flag = &mut signed_here;
        let result = cell
            .get_or_init(move || async move {
                *flag = true;
                let epoch = self.epoch();
                let entry = Arc::new(sign()?);
                self.insert(key.clone(), entry.clone(), epoch);
                Ok(entry)
            })
            .await
            .clone();
        {
            let mut inflight = self.inflight.lock().unwrap_or_else(PoisonError::into_inner);
            if inflight.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
                inflight.remove(key);
            }
        }
        result.map(|e| (e, signed_here))
    }
}

/// An IMF-fixdate (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MO: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        WD[usize::try_from(days.rem_euclid(7)).unwrap_or(0)],
        d,
        MO[usize::try_from(m - 1).unwrap_or(0).min(11)],
        y,
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// (year, month, day) of days since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            http_date(SystemTime::UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_709_164_800); // 2024-02-29
        assert_eq!(http_date(t), "Thu, 29 Feb 2024 00:00:00 GMT");
    }

    fn entry(now: SystemTime) -> Presigned {
        Presigned::new(vec![1, 2, 3], 1, now, now + Duration::from_secs(100), 0.5)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn single_flight_and_epochs() {
        let cache = Arc::new(Cache::new(10));
        let now = SystemTime::now();
        let key = Key {
            issuer: 0,
            variant: 0,
            hash: HashAlgorithm::Sha256,
            subject: Subject::Serial(vec![1].into()),
        };
        let signed = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (cache, key, signed) = (cache.clone(), key.clone(), signed.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_sign(&key, now, || {
                        signed.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        Ok(entry(now))
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(signed.load(Ordering::SeqCst), 1);
        let e = cache.get(&key, now).unwrap();
        assert_eq!(&e.basic[..], &[3]);
        assert_eq!(cache.invalidate(|k| k.issuer == 0), 1);
        assert!(!e.usable(now));
        // Signed from a status read before an invalidation: served, not stored.
        let epoch = cache.epoch();
        cache.invalidate(|_| false);
        assert!(!cache.insert(key.clone(), Arc::new(entry(now)), epoch));
        assert!(cache.get(&key, now).is_none());
    }
}
