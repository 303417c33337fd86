//! The TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) in the clear: SNI, ALPN, a JA3
//! fingerprint, and the attacker-controllable fields the covert-channel estimate counts.

use md5::{Digest, Md5};

use crate::flow::TlsInfo;

/// Result of looking at the start of a client's byte stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hello {
    /// A complete ClientHello.
    Found(TlsInfo),
    /// Looks like TLS so far; the ClientHello continues in later bytes.
    NeedMore,
    /// Not a TLS ClientHello.
    NotTls,
}

/// Whether `v` is a GREASE value (RFC 8701): 0x?A?A with equal bytes.
pub fn is_grease(v: u16) -> bool {
    (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// Parse a ClientHello from the first bytes a client sent; handles a handshake message
/// split over several records.
pub fn client_hello(stream: &[u8]) -> Hello {
    // The common case: the whole handshake message in the first record, parsed in place.
    if let Some(h) = stream.get(..9)
        && h[0] == 0x16
        && h[1] == 0x03
        && h[2] <= 0x04
        && h[5] == 1
    {
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        let mlen = (usize::from(h[6]) << 16) | (usize::from(h[7]) << 8) | usize::from(h[8]);
        if (4..=18_432).contains(&len)
            && 4 + mlen <= len
            && let Some(body) = stream.get(9..9 + mlen)
        {
            return match parse_body(body) {
                Some(info) => Hello::Found(info),
                None => Hello::NotTls,
            };
        }
    }
    let mut hs = Vec::new();
    let mut pos = 0;
    loop {
        let Some(h) = stream.get(pos..pos + 5) else {
            return if !stream.is_empty() && stream[0] != 0x16 {
                Hello::NotTls
            } else {
                Hello::NeedMore
            };
        };
        if h[0] != 0x16 || h[1] != 0x03 || h[2] > 0x04 {
            return Hello::NotTls;
        }
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        if len == 0 || len > 18_432 {
            return Hello::NotTls;
        }
        let Some(body) = stream.get(pos + 5..pos + 5 + len) else {
            return Hello::NeedMore;
        };
        hs.extend_from_slice(body);
        pos += 5 + len;
        if hs.len() >= 4 {
            if hs[0] != 1 {
                return Hello::NotTls;
            }
            let mlen = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
            if hs.len() >= 4 + mlen {
                return match parse_body(&hs[4..4 + mlen]) {
                    Some(info) => Hello::Found(info),
                    None => Hello::NotTls,
                };
            }
            if mlen > 65_536 {
                return Hello::NotTls;
            }
        }
    }
}

/// A cursor over a byte slice; every read is bounds-checked.
struct Rd<'a>(&'a [u8]);

impl<'a> Rd<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// Append `v` as JA3 writes a list: decimal values joined by `-`. (By hand: the
/// formatting machinery was a sixth of the time of reading a capture of TLS beacons.)
fn push_list(s: &mut String, v: &[u16]) {
    for (i, &x) in v.iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        let mut digits = [0u8; 5];
        let (mut n, mut at) = (x, digits.len());
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        s.extend(digits[at..].iter().map(|&d| char::from(d)));
    }
}

fn parse_body(b: &[u8]) -> Option<TlsInfo> {
    let mut r = Rd(b);
    let version = r.u16()?;
    r.take(32)?; // random
    let sid = r.vec8()?;
    if sid.len() > 32 {
        return None;
    }
    let ciphers = r.vec16()?;
    r.vec8()?; // compression methods
    let mut info = TlsInfo {
        version,
        session_id_len: sid.len() as u8,
        ..TlsInfo::default()
    };
    let mut grease = 0u8;
    let mut suites = Vec::new();
    for c in u16s(ciphers) {
        if is_grease(c) {
            grease = grease.saturating_add(1);
        } else {
            suites.push(c);
        }
    }
    let (mut exts, mut groups, mut formats) = (Vec::new(), Vec::new(), Vec::new());
    if !r.0.is_empty() {
        let mut e = Rd(r.vec16()?);
        while !e.0.is_empty() {
            let typ = e.u16()?;
            let data = e.vec16()?;
            if is_grease(typ) {
                grease = grease.saturating_add(1);
                continue;
            }
            exts.push(typ);
            let mut d = Rd(data);
            match typ {
                0 => {
                    // server_name: list of (type, name)
                    if let Some(list) = d.vec16() {
                        let mut l = Rd(list);
                        while let (Some(t), Some(name)) = (l.u8(), l.vec16()) {
                            if t == 0 && info.sni.is_none() {
                                let s = String::from_utf8_lossy(name).to_ascii_lowercase();
                                info.sni = Some(s.trim_end_matches('.').to_owned());
                            }
                        }
                    }
                }
                16 => {
                    if let Some(list) = d.vec16() {
                        let mut l = Rd(list);
                        while let Some(p) = l.vec8() {
                            info.alpn.push(String::from_utf8_lossy(p).into_owned());
                        }
                    }
                }
                10 => {
                    if let Some(list) = d.vec16() {
                        for g in u16s(list) {
                            if is_grease(g) {
                                grease = grease.saturating_add(1);
                            } else {
                                groups.push(g);
                            }
                        }
                    }
                }
                11 => {
                    if let Some(list) = d.vec8() {
                        formats.extend(list.iter().map(|&f| u16::from(f)));
                    }
                }
                43 => {
                    if let Some(list) = d.vec8() {
                        grease = grease
                            .saturating_add(u16s(list).filter(|v| is_grease(*v)).count() as u8);
                    }
                }
                _ => {}
            }
        }
    }
    info.grease = grease;
    // JA3: "version,suites,extensions,groups,formats", then its MD5 in hex.
    let mut ja3 = String::with_capacity(256);
    for (i, list) in [&[version][..], &suites, &exts, &groups, &formats]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            ja3.push(',');
        }
        push_list(&mut ja3, list);
    }
    let digest = Md5::digest(ja3.as_bytes());
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(32);
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 15)]));
    }
    info.ja3 = hex;
    Some(info)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal ClientHello record with SNI, ALPN, groups and point formats.
    pub(crate) fn hello_record(sni: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        // GREASE extension
        ext.extend_from_slice(&[0x0a, 0x0a, 0, 0]);
        let name = sni.as_bytes();
        let sn_list_len = 3 + name.len();
        ext.extend_from_slice(&[0, 0]);
        ext.extend_from_slice(&((sn_list_len + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(sn_list_len as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(name.len() as u16).to_be_bytes());
        ext.extend_from_slice(name);
        ext.extend_from_slice(&[0, 10, 0, 6, 0, 4, 0, 0x1d, 0, 0x17]);
        ext.extend_from_slice(&[0, 11, 0, 2, 1, 0]);
        ext.extend_from_slice(&[0, 16, 0, 5, 0, 3, 2, b'h', b'2']);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(32);
        body.extend_from_slice(&[9; 32]);
        body.extend_from_slice(&[0, 6, 0x1a, 0x1a, 0x13, 0x01, 0xc0, 0x2f]);
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn sni_alpn_ja3() {
        let rec = hello_record("Testing.com");
        let Hello::Found(info) = client_hello(&rec) else {
            panic!("no hello")
        };
        assert_eq!(info.sni.as_deref(), Some("testing.com"));
        assert_eq!(info.alpn, vec!["h2"]);
        assert_eq!(info.session_id_len, 32);
        assert_eq!(info.grease, 2);
        // JA3 string "771,4865-49199,0-10-11-16,29-23,0"
        let expect: String = Md5::digest(b"771,4865-49199,0-10-11-16,29-23,0")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(info.ja3, expect);
    }

    #[test]
    fn partial_and_garbage() {
        let rec = hello_record("a.example");
        for cut in 0..rec.len() {
            assert_ne!(client_hello(&rec[..cut]), Hello::NotTls, "cut at {cut}");
        }
        assert_eq!(client_hello(b"GET / HTTP/1.1\r\n"), Hello::NotTls);
        // Split into two records.
        let hs = &rec[5..];
        let mut two = vec![0x16, 3, 1, 0, 10];
        two.extend_from_slice(&hs[..10]);
        two.extend_from_slice(&[0x16, 3, 1]);
        two.extend_from_slice(&((hs.len() - 10) as u16).to_be_bytes());
        two.extend_from_slice(&hs[10..]);
        assert!(matches!(client_hello(&two), Hello::Found(_)));
        assert!(is_grease(0xfafa) && !is_grease(0x0a1a));
    }
}
