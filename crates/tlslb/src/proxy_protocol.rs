//! HAProxy's PROXY protocol, versions 1 (text) and 2 (binary, with the CRC32C TLV), so the
//! load balancer and the gateway interoperate with haproxy and nginx — and for comparison:
//! PROXY is plaintext and its CRC only catches accidents, where TLS-LB is sealed and bound
//! to the ClientHello.
//!
//! Headers are never parsed partially: [`decode`] answers `Ok(None)` until the whole
//! header is there.

use std::net::{IpAddr, SocketAddr};

use crate::Error;

/// The v2 signature.
pub const V2_SIGNATURE: [u8; 12] = [
    0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
];
/// TLV type of the CRC32C checksum.
pub const TLV_CRC32C: u8 = 0x03;
/// Longest v1 line, CRLF included.
pub const V1_MAX: usize = 107;

/// A decoded header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    /// Protocol version, 1 or 2.
    pub version: u8,
    /// Source and destination of the proxied connection; `None` for LOCAL / UNKNOWN
    /// (a health check from the proxy itself).
    pub addresses: Option<(SocketAddr, SocketAddr)>,
    /// v2 TLVs other than CRC32C.
    pub tlvs: Vec<(u8, Vec<u8>)>,
    /// Whether a CRC32C TLV was present (it verified, or decoding failed).
    pub crc32c: bool,
}

/// CRC32C (Castagnoli, reflected 0x82F63B78) as RFC 4960 Appendix B computes it.
pub fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A v1 header: `PROXY TCP4 src dst sport dport\r\n`.
pub fn encode_v1(src: SocketAddr, dst: SocketAddr) -> Result<Vec<u8>, Error> {
    let fam = match (src.ip(), dst.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => "TCP4",
        (IpAddr::V6(_), IpAddr::V6(_)) => "TCP6",
        _ => {
            return Err(Error::Invalid(
                "PROXY v1 needs both addresses of one family",
            ));
        }
    };
    Ok(format!(
        "PROXY {fam} {} {} {} {}\r\n",
        src.ip(),
        dst.ip(),
        src.port(),
        dst.port()
    )
    .into_bytes())
}

/// A v2 PROXY header with the given TLVs and, when `with_crc`, a CRC32C TLV.
pub fn encode_v2(
    src: SocketAddr,
    dst: SocketAddr,
    tlvs: &[(u8, Vec<u8>)],
    with_crc: bool,
) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    let fam = match (src, dst) {
        (SocketAddr::V4(s), SocketAddr::V4(d)) => {
            body.extend(s.ip().octets());
            body.extend(d.ip().octets());
            0x11
        }
        (SocketAddr::V6(s), SocketAddr::V6(d)) => {
            body.extend(s.ip().octets());
            body.extend(d.ip().octets());
            0x21
        }
        _ => {
            return Err(Error::Invalid(
                "PROXY v2 needs both addresses of one family",
            ));
        }
    };
    body.extend(src.port().to_be_bytes());
    body.extend(dst.port().to_be_bytes());
    for (t, v) in tlvs {
        body.push(*t);
        body.extend(
            u16::try_from(v.len())
                .map_err(|_| Error::TooLong("PROXY TLV"))?
                .to_be_bytes(),
        );
        body.extend(v);
    }
    let crc_at = body.len() + 3;
    if with_crc {
        body.extend([TLV_CRC32C, 0, 4, 0, 0, 0, 0]);
    }
    let mut out = V2_SIGNATURE.to_vec();
    out.push(0x21); // version 2, PROXY
    out.push(fam);
    out.extend(
        u16::try_from(body.len())
            .map_err(|_| Error::TooLong("PROXY header"))?
            .to_be_bytes(),
    );
    let header = out.len();
    out.extend(body);
    if with_crc {
        let crc = crc32c(&out);
        out[header + crc_at..header + crc_at + 4].copy_from_slice(&crc.to_be_bytes());
    }
    Ok(out)
}

/// Decode a v1 or v2 header at the start of `buf`: `Ok(Some((header, length)))`,
/// `Ok(None)` when more bytes are needed, an error when it is not a valid header.
pub fn decode(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, Error> {
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] == V2_SIGNATURE[0] {
        let n = buf.len().min(12);
        if buf[..n] != V2_SIGNATURE[..n] {
            return Err(Error::Invalid("not a PROXY v2 signature"));
        }
        return decode_v2(buf);
    }
    let n = buf.len().min(6);
    if buf[..n] != b"PROXY "[..n] {
        return Err(Error::Invalid("not a PROXY header"));
    }
    decode_v1(buf)
}

fn decode_v1(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, Error> {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        return if buf.len() >= V1_MAX {
            Err(Error::TooLong("PROXY v1 line"))
        } else {
            Ok(None)
        };
    };
    if end + 2 > V1_MAX {
        return Err(Error::TooLong("PROXY v1 line"));
    }
    let line = std::str::from_utf8(&buf[..end])
        .map_err(|_| Error::Invalid("PROXY v1 line is not ASCII"))?;
    let parts: Vec<&str> = line.split(' ').collect();
    let bad = Error::Invalid("malformed PROXY v1 line");
    let addresses = match parts.as_slice() {
        ["PROXY", "UNKNOWN", ..] => None,
        ["PROXY", fam @ ("TCP4" | "TCP6"), src, dst, sport, dport] => {
            let src: IpAddr = src.parse().map_err(|_| bad.clone())?;
            let dst: IpAddr = dst.parse().map_err(|_| bad.clone())?;
            if (*fam == "TCP4") != (src.is_ipv4() && dst.is_ipv4())
                || src.is_ipv4() != dst.is_ipv4()
            {
                return Err(bad);
            }
            let port = |p: &str| -> Result<u16, Error> {
                if p.len() > 1 && p.starts_with('0') {
                    return Err(Error::Invalid("PROXY v1 port with a leading zero"));
                }
                p.parse()
                    .map_err(|_| Error::Invalid("malformed PROXY v1 port"))
            };
            Some((
                SocketAddr::new(src, port(sport)?),
                SocketAddr::new(dst, port(dport)?),
            ))
        }
        _ => return Err(bad),
    };
    Ok(Some((
        ProxyHeader {
            version: 1,
            addresses,
            tlvs: Vec::new(),
            crc32c: false,
        },
        end + 2,
    )))
}

fn decode_v2(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, Error> {
    if buf.len() < 16 {
        return Ok(None);
    }
    let ver_cmd = buf[12];
    if ver_cmd >> 4 != 2 {
        return Err(Error::Invalid("PROXY v2 version nibble is not 2"));
    }
    let local = match ver_cmd & 0x0f {
        0 => true,
        1 => false,
        _ => {
            return Err(Error::Invalid(
                "PROXY v2 command is neither LOCAL nor PROXY",
            ));
        }
    };
    let fam = buf[13];
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    let total = 16 + len;
    if buf.len() < total {
        return Ok(None);
    }
    let body = &buf[16..total];
    let addr_len = match fam {
        0x00 => 0,
        0x11 | 0x12 => 12,
        0x21 | 0x22 => 36,
        0x31 | 0x32 => 216,
        _ => return Err(Error::Invalid("unknown PROXY v2 address family")),
    };
    if body.len() < addr_len {
        return Err(Error::Truncated("PROXY v2 addresses"));
    }
    let addresses = match fam {
        _ if local => None,
        0x11 | 0x12 => {
            let ip = |o: usize| IpAddr::from([body[o], body[o + 1], body[o + 2], body[o + 3]]);
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            Some((
                SocketAddr::new(ip(0), port(8)),
                SocketAddr::new(ip(4), port(10)),
            ))
        }
        0x21 | 0x22 => {
            let ip = |o: usize| {
                let mut a = [0u8; 16];
                a.copy_from_slice(&body[o..o + 16]);
                IpAddr::from(a)
            };
            let port = |o: usize| u16::from_be_bytes([body[o], body[o + 1]]);
            Some((
                SocketAddr::new(ip(0), port(32)),
                SocketAddr::new(ip(16), port(34)),
            ))
        }
        _ => None, // UNSPEC or UNIX: no IP addresses to report
    };
    let mut tlvs = Vec::new();
    let mut crc = false;
    let mut i = addr_len;
    while i < body.len() {
        if body.len() - i < 3 {
            return Err(Error::Truncated("PROXY v2 TLV"));
        }
        let t = body[i];
        let l = usize::from(u16::from_be_bytes([body[i + 1], body[i + 2]]));
        let v = body
            .get(i + 3..i + 3 + l)
            .ok_or(Error::Truncated("PROXY v2 TLV"))?;
        if t == TLV_CRC32C {
            if l != 4 {
                return Err(Error::Invalid("CRC32C TLV must be 4 bytes"));
            }
            let mut zeroed = buf[..total].to_vec();
            let at = 16 + i + 3;
            zeroed[at..at + 4].fill(0);
            if crc32c(&zeroed).to_be_bytes() != v {
                return Err(Error::Authentication);
            }
            crc = true;
        } else {
            tlvs.push((t, v.to_vec()));
        }
        i += 3 + l;
    }
    Ok(Some((
        ProxyHeader {
            version: 2,
            addresses,
            tlvs,
            crc32c: crc,
        },
        total,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn crc32c_check_value() {
        // The standard check value of CRC-32C.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn v1_round_trip_and_strictness() {
        let h = encode_v1(a("192.0.2.1:5000"), a("198.51.100.2:443")).unwrap();
        assert_eq!(h, b"PROXY TCP4 192.0.2.1 198.51.100.2 5000 443\r\n");
        let (d, n) = decode(&h).unwrap().unwrap();
        assert_eq!(n, h.len());
        assert_eq!(
            d.addresses,
            Some((a("192.0.2.1:5000"), a("198.51.100.2:443")))
        );
        for cut in 0..h.len() {
            assert_eq!(decode(&h[..cut]).unwrap(), None);
        }
        assert!(decode(b"PROXY TCP4 192.0.2.1 ::1 1 2\r\n").is_err());
        assert!(decode(b"PROXY TCP4 192.0.2.1 192.0.2.2 01 2\r\n").is_err());
        assert!(decode(b"PROXY TCP5 a b c d\r\n").is_err());
        assert!(decode(b"GET / HTTP/1.1\r\n").is_err());
        assert_eq!(
            decode(b"PROXY UNKNOWN\r\n").unwrap().unwrap().0.addresses,
            None
        );
    }

    #[test]
    fn v2_round_trip_with_crc_and_tamper() {
        for (s, d) in [
            ("192.0.2.1:5000", "198.51.100.2:443"),
            ("[2001:db8::1]:1", "[2001:db8::2]:2"),
        ] {
            let h = encode_v2(a(s), a(d), &[(0x05, b"id-1".to_vec())], true).unwrap();
            for cut in 0..h.len() {
                assert_eq!(decode(&h[..cut]).unwrap(), None, "cut {cut}");
            }
            let (p, n) = decode(&h).unwrap().unwrap();
            assert_eq!(n, h.len());
            assert!(p.crc32c);
            assert_eq!(p.addresses, Some((a(s), a(d))));
            assert_eq!(p.tlvs, vec![(0x05, b"id-1".to_vec())]);
            let mut bad = h.clone();
            bad[18] ^= 1;
            assert!(
                matches!(decode(&bad), Err(Error::Authentication)),
                "a flipped address bit"
            );
        }
    }

    #[test]
    fn v2_local_and_malformed() {
        let mut h = V2_SIGNATURE.to_vec();
        h.extend([0x20, 0x00, 0, 0]);
        assert_eq!(decode(&h).unwrap().unwrap().0.addresses, None);
        let mut bad = h.clone();
        bad[12] = 0x13;
        assert!(decode(&bad).is_err());
        let mut trunc = V2_SIGNATURE.to_vec();
        trunc.extend([0x21, 0x11, 0, 2, 0, 0]);
        assert!(decode(&trunc).is_err());
    }
}
