//! The little DER (X.690) this crate needs: read the key containers of PKCS#1, PKCS#8,
//! SPKI and SEC1 to find out what a key is, and write PKCS#1 structures for JWK RSA keys.
//! Only definite lengths are accepted; every read is bounds-checked.

use crate::error::{Error, Result};

pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_CONTEXT_0: u8 = 0xa0;

/// rsaEncryption, 1.2.840.113549.1.1.1
pub(crate) const OID_RSA_ENCRYPTION: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// id-RSASSA-PSS, 1.2.840.113549.1.1.10
pub(crate) const OID_RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
/// id-ecPublicKey, 1.2.840.10045.2.1
pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 / P-256, 1.2.840.10045.3.1.7
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1 / P-384, 1.3.132.0.34
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// id-Ed25519, 1.3.101.112
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

fn bad(reason: &str) -> Error {
    Error::InvalidKey {
        format: "DER",
        reason: reason.to_owned(),
    }
}

/// A cursor over DER bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Reader { input }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// Read one TLV and return its tag and contents.
    pub(crate) fn read(&mut self) -> Result<(u8, &'a [u8])> {
        let [tag, first, rest @ ..] = self.input else {
            return Err(bad("truncated element"));
        };
        let (len, rest) = if *first < 0x80 {
            (usize::from(*first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(bad("unsupported or truncated length"));
            }
            let mut len = 0usize;
            for b in &rest[..n] {
                len = (len << 8) | usize::from(*b);
            }
            if len < 0x80 || rest[0] == 0 {
                return Err(bad("non-minimal length encoding"));
            }
            (len, &rest[n..])
        };
        if rest.len() < len {
            return Err(bad("element longer than its container"));
        }
        let (content, tail) = rest.split_at(len);
        self.input = tail;
        Ok((*tag, content))
    }

    /// Read one TLV with the given tag.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<&'a [u8]> {
        let (t, c) = self.read()?;
        if t != tag {
            return Err(bad("unexpected element type"));
        }
        Ok(c)
    }

    /// Read a SEQUENCE and return a reader over its contents.
    pub(crate) fn sequence(&mut self) -> Result<Reader<'a>> {
        self.expect(TAG_SEQUENCE).map(Reader::new)
    }

    /// Read a BIT STRING with no unused bits and return its bytes.
    pub(crate) fn bit_string(&mut self) -> Result<&'a [u8]> {
        match self.expect(TAG_BIT_STRING)? {
            [0, bytes @ ..] => Ok(bytes),
            _ => Err(bad("bit string with unused bits")),
        }
    }

    /// Read a small non-negative INTEGER.
    pub(crate) fn small_uint(&mut self) -> Result<u64> {
        let c = self.expect(TAG_INTEGER)?;
        if c.is_empty() || c.len() > 8 || c[0] & 0x80 != 0 {
            return Err(bad("integer out of range"));
        }
        Ok(c.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }
}

/// The AlgorithmIdentifier of a key: OID and the parameters' raw TLV contents, if any.
pub(crate) struct AlgorithmId<'a> {
    pub(crate) oid: &'a [u8],
    /// The parameter element: tag and contents.
    pub(crate) params: Option<(u8, &'a [u8])>,
}

pub(crate) fn algorithm_id<'a>(r: &mut Reader<'a>) -> Result<AlgorithmId<'a>> {
    let mut seq = r.sequence()?;
    let oid = seq.expect(TAG_OID)?;
    let params = if seq.is_empty() {
        None
    } else {
        Some(seq.read()?)
    };
    if !seq.is_empty() {
        return Err(bad("trailing data in AlgorithmIdentifier"));
    }
    Ok(AlgorithmId { oid, params })
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Append a TLV.
pub(crate) fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// Append an unsigned big-endian integer as a DER INTEGER (minimal, positive).
pub(crate) fn push_uint(out: &mut Vec<u8>, be: &[u8]) {
    let skip = be.iter().take_while(|b| **b == 0).count();
    let digits = &be[skip..];
    let mut content = Vec::with_capacity(digits.len() + 1);
    if digits.is_empty() || digits[0] & 0x80 != 0 {
        content.push(0);
    }
    content.extend_from_slice(digits);
    push_tlv(out, TAG_INTEGER, &content);
    zeroize::Zeroize::zeroize(&mut content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 70000] {
            let content = vec![7u8; len];
            let mut out = Vec::new();
            push_tlv(&mut out, TAG_OCTET_STRING, &content);
            let mut r = Reader::new(&out);
            assert_eq!(r.expect(TAG_OCTET_STRING).unwrap(), &content[..]);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn rejects_truncated_and_overlong() {
        assert!(Reader::new(&[0x30]).read().is_err());
        assert!(Reader::new(&[0x30, 0x05, 0x00]).read().is_err());
        assert!(
            Reader::new(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0])
                .read()
                .is_err()
        );
        assert!(Reader::new(&[0x30, 0x85, 1, 1, 1, 1, 1]).read().is_err());
    }

    #[test]
    fn integers() {
        let mut out = Vec::new();
        push_uint(&mut out, &[0, 0, 0x80]);
        assert_eq!(out, [0x02, 0x02, 0x00, 0x80]);
        let mut out = Vec::new();
        push_uint(&mut out, &[]);
        assert_eq!(out, [0x02, 0x01, 0x00]);
        assert_eq!(Reader::new(&[0x02, 0x01, 0x05]).small_uint().unwrap(), 5);
    }
}
