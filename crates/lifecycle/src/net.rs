//! Which addresses are local (`--local-nets`), and time bounds (`--since`, `--until`).
//!
//! RITA analyses only flows that cross the boundary of the local networks; so do the
//! beacon, long-connection and volume detectors here. The default local networks are the
//! private ranges (RFC 1918, RFC 4193 ULA, link-local, loopback, RFC 6598 shared space).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::error::Error;

/// An IPv4 or IPv6 network: address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u32::from(n) & mask) == (u32::from(*a) & mask)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                (u128::from(n) & mask) == (u128::from(*a) & mask)
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = Error;
    fn from_str(s: &str) -> Result<Cidr, Error> {
        let bad = || Error::InvalidNetwork(s.to_owned());
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The set of local networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalNets(Vec<Cidr>);

impl LocalNets {
    /// The private ranges: 10/8, 172.16/12, 192.168/16, 100.64/10, 127/8, 169.254/16,
    /// fc00::/7, fe80::/10, ::1.
    pub fn private() -> LocalNets {
        let nets = [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "fc00::/7",
            "fe80::/10",
            "::1/128",
        ];
        LocalNets(nets.iter().filter_map(|n| n.parse().ok()).collect())
    }

    /// Parse a comma-separated list of CIDR networks.
    pub fn parse_list(s: &str) -> Result<LocalNets, Error> {
        s.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Cidr::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(LocalNets)
    }

    /// The networks.
    pub fn nets(&self) -> &[Cidr] {
        &self.0
    }

    /// Whether `ip` is in one of the networks.
    pub fn is_local(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }
}

impl Default for LocalNets {
    fn default() -> Self {
        LocalNets::private()
    }
}

/// Parse a time bound: Unix seconds (`1672790400`, `928.5`) or an RFC 3339 date-time
/// (`2023-01-04T00:00:00Z`, `2023-01-04 00:00:00+01:00`, fractional seconds allowed).
pub fn parse_time(s: &str) -> Result<f64, Error> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>()
        && v.is_finite()
    {
        return Ok(v);
    }
    parse_rfc3339(s).ok_or_else(|| Error::InvalidTime(s.to_owned()))
}

/// RFC 3339 (also with a space instead of `T`, and without an offset meaning UTC).
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac = 0.0;
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        frac = format!("0.{}", &r[..n]).parse().ok()?;
        rest = &r[n..];
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let oh: i64 = o.get(1..3)?.parse().ok()?;
            let om: i64 = o.get(4..6)?.parse().ok()?;
            let v = oh * 3600 + om * 60;
            if o.starts_with('-') { -v } else { v }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + se - offset) as f64 + frac)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Format Unix seconds as RFC 3339 UTC with milliseconds (for reports); small values
/// (relative Zeek timestamps, before 1980) are printed as seconds.
pub fn format_time(ts: f64) -> String {
    if !ts.is_finite() || ts < 315_532_800.0 {
        return format!("{ts:.3}s");
    }
    let ms = (ts * 1000.0).round() as i64;
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

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
    fn cidr_contains() {
        let n: Cidr = "147.32.0.0/16".parse().unwrap();
        assert!(n.contains(&"147.32.80.37".parse().unwrap()));
        assert!(!n.contains(&"147.33.0.1".parse().unwrap()));
        assert!(!n.contains(&"::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(&"8.8.8.8".parse().unwrap()));
        let v6: Cidr = "fc00::/7".parse().unwrap();
        assert!(v6.contains(&"fd12::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("banana/8".parse::<Cidr>().is_err());
        assert!(LocalNets::private().is_local(&"10.136.0.18".parse().unwrap()));
        assert!(!LocalNets::private().is_local(&"141.193.213.21".parse().unwrap()));
        assert!(LocalNets::parse_list("10.0.0.0/8, x").is_err());
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("928.5").unwrap(), 928.5);
        assert_eq!(parse_time("2023-01-04T00:00:00Z").unwrap(), 1_672_790_400.0);
        assert_eq!(
            parse_time("2023-01-04 01:00:00+01:00").unwrap(),
            1_672_790_400.0
        );
        assert!((parse_time("1970-01-01T00:00:01.25Z").unwrap() - 1.25).abs() < 1e-9);
        assert!(parse_time("2023-13-04T00:00:00Z").is_err());
        assert!(parse_time("yesterday").is_err());
        assert_eq!(format_time(1_672_790_400.0), "2023-01-04T00:00:00.000Z");
        assert_eq!(format_time(928.9), "928.900s");
    }
}
