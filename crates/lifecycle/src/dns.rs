//! DNS messages (RFC 1035) as far as the detectors need them: id, query name and type,
//! response code, A/AAAA answers. Compression pointers are followed with a hop limit, so a
//! hostile message cannot loop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The parts of a DNS message the analysis uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    /// Transaction id.
    pub id: u16,
    /// A response (QR bit set).
    pub response: bool,
    /// Response code (low 4 bits of the flags).
    pub rcode: u8,
    /// First question's name, lower case, no trailing dot.
    pub qname: String,
    /// First question's type.
    pub qtype: u16,
    /// Addresses from A and AAAA answers.
    pub answers: Vec<IpAddr>,
}

/// Parse a DNS message; `None` when it is not one.
pub fn parse(msg: &[u8]) -> Option<DnsMessage> {
    if msg.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([msg[0], msg[1]]);
    let flags = u16::from_be_bytes([msg[2], msg[3]]);
    let qd = u16::from_be_bytes([msg[4], msg[5]]);
    let an = u16::from_be_bytes([msg[6], msg[7]]);
    if qd == 0 || qd > 16 || (flags >> 11) & 0xF > 5 {
        return None;
    }
    let (qname, mut pos) = read_name(msg, 12)?;
    let qtype = u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]);
    pos += 4;
    for _ in 1..qd {
        let (_, p) = read_name(msg, pos)?;
        pos = p + 4;
    }
    let mut answers = Vec::new();
    for _ in 0..an.min(64) {
        let Some((_, p)) = read_name(msg, pos) else {
            break;
        };
        let Some(h) = msg.get(p..p + 10) else { break };
        let rtype = u16::from_be_bytes([h[0], h[1]]);
        let rdlen = usize::from(u16::from_be_bytes([h[8], h[9]]));
        let Some(rdata) = msg.get(p + 10..p + 10 + rdlen) else {
            break;
        };
        match (rtype, rdlen) {
            (1, 4) => answers.push(IpAddr::V4(Ipv4Addr::new(
                rdata[0], rdata[1], rdata[2], rdata[3],
            ))),
            (28, 16) => {
                let mut a = [0u8; 16];
                a.copy_from_slice(rdata);
                answers.push(IpAddr::V6(Ipv6Addr::from(a)));
            }
            _ => {}
        }
        pos = p + 10 + rdlen;
    }
    Some(DnsMessage {
        id,
        response: flags & 0x8000 != 0,
        rcode: (flags & 0xF) as u8,
        qname,
        qtype,
        answers,
    })
}

/// Read a (possibly compressed) name at `pos`; returns it and the position after it.
fn read_name(msg: &[u8], mut pos: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    let mut hops = 0;
    loop {
        let len = *msg.get(pos)?;
        match len & 0xC0 {
            0x00 => {
                if len == 0 {
                    return Some((name, end.unwrap_or(pos + 1)));
                }
                let label = msg.get(pos + 1..pos + 1 + usize::from(len))?;
                if !name.is_empty() {
                    name.push('.');
                }
                for &c in label {
                    let c = c.to_ascii_lowercase();
                    name.push(if c.is_ascii_graphic() {
                        char::from(c)
                    } else {
                        '?'
                    });
                }
                if name.len() > 255 {
                    return None;
                }
                pos += 1 + usize::from(len);
            }
            0xC0 => {
                let lo = *msg.get(pos + 1)?;
                if end.is_none() {
                    end = Some(pos + 2);
                }
                hops += 1;
                if hops > 32 {
                    return None;
                }
                pos = usize::from(u16::from_be_bytes([len & 0x3F, lo]));
            }
            _ => return None,
        }
    }
}

/// Registered domain of a name, approximately (the public suffix list is not consulted):
/// the last two labels, or three when the second-to-last is a common second-level suffix
/// (`co.uk`, `com.au`, ...).
pub fn registered_domain(name: &str) -> &str {
    let name = name.trim_end_matches('.');
    let mut dots = name.rmatch_indices('.').map(|(i, _)| i);
    let Some(d1) = dots.next() else { return name };
    let d2 = dots.next();
    let start2 = d2.map_or(0, |i| i + 1);
    let sld = &name[start2..d1];
    let tld = &name[d1 + 1..];
    let common_sld = matches!(
        sld,
        "co" | "com" | "net" | "org" | "ac" | "gov" | "edu" | "ne" | "or"
    );
    if tld.len() == 2 && common_sld && d2.is_some() {
        return &name[dots.next().map_or(0, |i| i + 1)..];
    }
    &name[start2..]
}

/// Reputation, DNSBL and reverse-lookup zones whose many unique subdomains are not a
/// tunnel: `*.spamhaus.org`, `*.cymru.com`, `in-addr.arpa`, `ip6.arpa`, RDAP and whois
/// hosts, multicast DNS (`.local`) and other well-known DNSBLs.
pub fn allowlisted(name: &str) -> bool {
    const SUFFIXES: &[&str] = &[
        "spamhaus.org",
        "cymru.com",
        "in-addr.arpa",
        "ip6.arpa",
        "spamcop.net",
        "sorbs.net",
        "surbl.org",
        "uribl.com",
        "barracudacentral.org",
        "dnswl.org",
        "local",
    ];
    let name = name.trim_end_matches('.');
    SUFFIXES
        .iter()
        .any(|s| name == *s || name.ends_with(&format!(".{s}")))
        || name.starts_with("rdap.")
        || name.starts_with("whois.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, id: u16) -> Vec<u8> {
        let mut m = vec![
            (id >> 8) as u8,
            id as u8,
            0x01,
            0x00,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
        ];
        for l in name.split('.') {
            m.push(l.len() as u8);
            m.extend_from_slice(l.as_bytes());
        }
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        m
    }

    #[test]
    fn query_and_answer() {
        let q = query("Testing.COM", 0x1234);
        let m = parse(&q).unwrap();
        assert_eq!(
            (m.id, m.response, m.qname.as_str(), m.qtype),
            (0x1234, false, "testing.com", 1)
        );
        let mut r = q.clone();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 1; // ancount
        r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 141, 193, 213, 21]);
        let m = parse(&r).unwrap();
        assert!(m.response);
        assert_eq!(m.rcode, 0);
        assert_eq!(m.answers, vec!["141.193.213.21".parse::<IpAddr>().unwrap()]);
        let mut nx = q;
        nx[2] = 0x81;
        nx[3] = 0x83;
        assert_eq!(parse(&nx).unwrap().rcode, 3);
    }

    #[test]
    fn hostile_messages() {
        // Pointer loop.
        let mut m = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1];
        assert!(parse(&m).is_none());
        m.truncate(13);
        assert!(parse(&m).is_none());
        assert!(parse(&[]).is_none());
        assert!(parse(&[0; 12]).is_none());
    }

    #[test]
    fn domains() {
        assert_eq!(registered_domain("a.b.zen.spamhaus.org"), "spamhaus.org");
        assert_eq!(registered_domain("www.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(registered_domain("com"), "com");
        assert!(allowlisted("1.2.3.4.zen.spamhaus.org"));
        assert!(allowlisted("4.3.2.1.origin.asn.cymru.com"));
        assert!(allowlisted("rdap.arin.net"));
        assert!(!allowlisted("x1y2z3.evil.example"));
    }
}
