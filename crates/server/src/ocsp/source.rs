//! The status source: what each served authority issued and revoked, read from the CA
//! database of `secdispatch-store` and kept current by polling
//! [`CertificateDb::changed_since`] (a `secdispatch ca revoke` in another process is seen
//! within one poll interval), plus the OpenSSL `index.txt` reader behind
//! `secdispatch ocsp import-index`.
//!
//! For authorities with sequential serials the source also keeps the **good runs**: maximal
//! runs of consecutive serials that were issued and are not revoked. They are the OCSPv2
//! range responses: a serial never issued (a gap) or revoked is never inside one, so a range
//! response never says `good` for a serial that was not issued.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use secdispatch_store::{IssuedCertificate, Revocation};
use x509_cert::ext::pkix::crl::CrlReason;

/// How a served serial stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialStatus {
    /// Issued, not revoked.
    Good,
    /// Revoked at this time for this reason.
    Revoked(SystemTime, Option<CrlReason>),
}

/// Parse a serial in the store's hex form into its magnitude (no leading zeros; zero `[0]`).
pub fn serial_bytes(hex: &str) -> Option<Box<[u8]>> {
    let t = hex.trim();
    let t = if t.len() % 2 == 1 {
        format!("0{t}")
    } else {
        t.to_owned()
    };
    let mut out = Vec::with_capacity(t.len() / 2);
    for i in (0..t.len()).step_by(2) {
        out.push(u8::from_str_radix(t.get(i..i + 2)?, 16).ok()?);
    }
    let first = out.iter().position(|b| *b != 0).unwrap_or(out.len());
    let trimmed: Vec<u8> = if first == out.len() {
        vec![0]
    } else {
        out[first..].to_vec()
    };
    Some(trimmed.into_boxed_slice())
}

fn serial_u64(serial: &[u8]) -> Option<u64> {
    secdispatch_ocsp::magnitude_to_u64(serial)
}

/// The status of a store record.
pub fn status_of(revocation: &Option<Revocation>) -> SerialStatus {
    match revocation {
        None => SerialStatus::Good,
        Some(r) => SerialStatus::Revoked(
            r.at,
            r.reason
                .as_deref()
                .and_then(|n| secdispatch_pqpki::crl::reason_from_name(n).ok())
                // "unspecified" is the absence of a reason code.
                .filter(|r| *r != CrlReason::Unspecified),
        ),
    }
}

/// What one authority issued and revoked.
#[derive(Debug, Default)]
pub struct IssuerStatus {
    serials: HashMap<Box<[u8]>, SerialStatus>,
    /// Good runs (sequential authorities with ranges on), ascending, inclusive.
    runs: Option<Vec<(u64, u64)>>,
}

impl IssuerStatus {
    /// An empty status; `ranges` keeps good runs.
    pub fn new(ranges: bool) -> Self {
        Self {
            serials: HashMap::new(),
            runs: ranges.then(Vec::new),
        }
    }

    /// The status of `serial` (magnitude); `None`: never issued (as far as we know).
    pub fn get(&self, serial: &[u8]) -> Option<SerialStatus> {
        self.serials.get(serial).copied()
    }

    /// Record a status; returns whether it changed.
    pub fn set(&mut self, serial: Box<[u8]>, status: SerialStatus) -> bool {
        match self.serials.get(&serial) {
            Some(s) if *s == status => false,
            // A revocation is final: an older record seen late does not undo it.
            Some(SerialStatus::Revoked(..)) if status == SerialStatus::Good => false,
            _ => {
                self.serials.insert(serial, status);
                true
            }
        }
    }

    /// Every serial known (issued, revoked or not).
    pub fn serials(&self) -> impl Iterator<Item = &Box<[u8]>> {
        self.serials.keys()
    }

    /// Number of serials known.
    pub fn len(&self) -> usize {
        self.serials.len()
    }

    /// Whether nothing is known.
    pub fn is_empty(&self) -> bool {
        self.serials.is_empty()
    }

    /// Whether range responses are kept for this authority.
    pub fn has_ranges(&self) -> bool {
        self.runs.is_some()
    }

    /// Recompute the good runs; returns the runs that no longer exist (their range
    /// responses must be withdrawn).
    pub fn rebuild_runs(&mut self) -> Vec<(u64, u64)> {
        let Some(old) = self.runs.take() else {
            return Vec::new();
        };
        let mut good: Vec<u64> = self
            .serials
            .iter()
            .filter(|(_, s)| **s == SerialStatus::Good)
            .filter_map(|(k, _)| serial_u64(k))
            .collect();
        good.sort_unstable();
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for s in good {
            match runs.last_mut() {
                Some((_, end)) if end.checked_add(1) == Some(s) => *end = s,
                _ => runs.push((s, s)),
            }
        }
        let now: HashSet<(u64, u64)> = runs.iter().copied().collect();
        let removed = old.into_iter().filter(|r| !now.contains(r)).collect();
        self.runs = Some(runs);
        removed
    }

    /// The good run holding `serial`, if ranges are kept and it is in one.
    pub fn run_of(&self, serial: &[u8]) -> Option<(u64, u64)> {
        let runs = self.runs.as_ref()?;
        let n = serial_u64(serial)?;
        let i = runs.partition_point(|r| r.1 < n);
        runs.get(i).copied().filter(|r| r.0 <= n && n <= r.1)
    }

    /// The good runs (OCSPv2 range responses to pre-sign).
    pub fn runs(&self) -> &[(u64, u64)] {
        self.runs.as_deref().unwrap_or(&[])
    }

    /// Revoked serials.
    pub fn revoked_count(&self) -> usize {
        self.serials
            .values()
            .filter(|s| matches!(s, SerialStatus::Revoked(..)))
            .count()
    }
}

/// Apply store records to the issuers they belong to (`index` maps authority names to
/// positions in `issuers`). Returns the (issuer, serial) pairs whose status changed and the
/// (issuer, run) pairs whose range responses must go.
#[allow(clippy::type_complexity)]
pub fn apply(
    issuers: &mut [IssuerStatus],
    index: &HashMap<String, usize>,
    records: &[IssuedCertificate],
) -> (Vec<(usize, Box<[u8]>)>, Vec<(usize, (u64, u64))>) {
    let mut changed = Vec::new();
    let mut touched = HashSet::new();
    for r in records {
        let Some(&i) = index.get(&r.authority) else {
            continue;
        };
        let Some(serial) = serial_bytes(&r.serial) else {
            continue;
        };
        if let Some(st) = issuers.get_mut(i)
            && st.set(serial.clone(), status_of(&r.revocation))
        {
            changed.push((i, serial));
            touched.insert(i);
        }
    }
    let mut removed = Vec::new();
    for i in touched {
        if let Some(st) = issuers.get_mut(i) {
            removed.extend(st.rebuild_runs().into_iter().map(|r| (i, r)));
        }
    }
    (changed, removed)
}

/// Overlap of successive polls, so that a writer whose clock is a little behind ours is
/// not missed.
pub const POLL_OVERLAP: Duration = Duration::from_secs(2);

/// One line of an OpenSSL CA database (`index.txt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Serial, as the file has it (hex).
    pub serial: String,
    /// Expiry.
    pub not_after: SystemTime,
    /// Revocation (time and reason name), for `R` lines.
    pub revocation: Option<Revocation>,
    /// Subject DN as OpenSSL prints it (`/CN=...`).
    pub subject: String,
}

/// Why an `index.txt` line is refused.
#[derive(Debug, thiserror::Error)]
#[error("index.txt line {line}: {reason}")]
pub struct IndexError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Parse OpenSSL's `YYMMDDHHMMSSZ` (UTCTime) or `YYYYMMDDHHMMSSZ` (GeneralizedTime).
pub fn parse_openssl_time(s: &str) -> Option<SystemTime> {
    let s = s.strip_suffix('Z')?;
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match s.len() {
        12 => {
            let yy: i64 = s.get(0..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        14 => (s.get(0..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let n = |a: usize| -> Option<i64> { rest.get(a..a + 2)?.parse().ok() };
    let (mo, d, h, mi, se) = (n(0)?, n(2)?, n(4)?, n(6)?, n(8)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(year, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se;
    u64::try_from(secs)
        .ok()
        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parse an OpenSSL `index.txt`: tab-separated `status, expiry, revocation[,reason],
/// serial, file, subject`; status `V` (valid), `R` (revoked) or `E` (expired, still
/// answered: OCSP status does not depend on expiry). Blank lines are skipped.
pub fn parse_index(text: &str) -> Result<Vec<IndexEntry>, IndexError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let err = |reason: &str| IndexError {
            line: i + 1,
            reason: reason.to_owned(),
        };
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 6 {
            return Err(err("expected 6 tab-separated fields"));
        }
        let not_after = parse_openssl_time(f[1]).ok_or_else(|| err("bad expiry time"))?;
        let serial = f[3].trim();
        if serial.is_empty() || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err("bad serial"));
        }
        let revocation = match f[0] {
            "V" | "E" => None,
            "R" => {
                let (time, reason) = match f[2].split_once(',') {
                    Some((t, r)) => (t, Some(r)),
                    None => (f[2], None),
                };
                let at = parse_openssl_time(time).ok_or_else(|| err("bad revocation time"))?;
                let reason = match reason {
                    None => None,
                    Some(r) => Some(
                        secdispatch_pqpki::crl::reason_from_name(r)
                            .map(|x| secdispatch_pqpki::crl::reason_name(x).to_owned())
                            .map_err(|_| err("unknown revocation reason"))?,
                    ),
                };
                Some(Revocation { at, reason })
            }
            _ => return Err(err("status must be V, R or E")),
        };
        out.push(IndexEntry {
            serial: serial.to_ascii_lowercase(),
            not_after,
            revocation,
            subject: f[5..].join("\t"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_parse_to_magnitudes() {
        assert_eq!(&*serial_bytes("00").unwrap(), &[0]);
        assert_eq!(&*serial_bytes("8f01").unwrap(), &[0x8f, 1]);
        assert_eq!(&*serial_bytes("f01").unwrap(), &[0x0f, 1]);
        assert_eq!(&*serial_bytes("0001").unwrap(), &[1]);
        assert!(serial_bytes("zz").is_none());
    }

    #[test]
    fn runs_skip_gaps_and_revocations() {
        let mut st = IssuerStatus::new(true);
        for s in [1u8, 2, 3, 5, 6, 7] {
            st.set(vec![s].into(), SerialStatus::Good);
        }
        st.set(
            vec![6].into(),
            SerialStatus::Revoked(SystemTime::UNIX_EPOCH, None),
        );
        st.rebuild_runs();
        assert_eq!(st.runs(), &[(1, 3), (5, 5), (7, 7)]);
        assert_eq!(st.run_of(&[2]), Some((1, 3)));
        assert_eq!(st.run_of(&[4]), None, "a never-issued serial is in no run");
        assert_eq!(st.run_of(&[6]), None);
        // Revocation is final.
        assert!(!st.set(vec![6].into(), SerialStatus::Good));
        st.set(
            vec![2].into(),
            SerialStatus::Revoked(SystemTime::UNIX_EPOCH, None),
        );
        assert_eq!(st.rebuild_runs(), vec![(1, 3)]);
        assert_eq!(st.runs(), &[(1, 1), (3, 3), (5, 5), (7, 7)]);
    }

    #[test]
    fn index_txt_lines() {
        let text = "V\t300101000000Z\t\t01\tunknown\t/CN=a\n\
                    R\t300101000000Z\t240102030405Z,keyCompromise\t0A\tunknown\t/CN=b\n\
                    E\t200101000000Z\t\t0b\tunknown\t/CN=c\n\n";
        let e = parse_index(text).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[1].serial, "0a");
        let r = e[1].revocation.as_ref().unwrap();
        assert_eq!(r.reason.as_deref(), Some("keyCompromise"));
        assert_eq!(
            r.at,
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_164_645)
        );
        assert!(e[2].revocation.is_none());
        assert!(parse_index("X\t300101000000Z\t\t01\tu\t/CN=a\n").is_err());
        assert!(parse_index("V\tbad\t\t01\tu\t/CN=a\n").is_err());
        assert_eq!(
            parse_openssl_time("20300101000000Z"),
            parse_openssl_time("300101000000Z")
        );
    }
}
