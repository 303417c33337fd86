//! The TLS presentation language pieces Privacy Pass uses: fixed arrays, `u8`/`u16`
//! length-prefixed vectors, QUIC variable-length integers (`<V>` vectors of the batched
//! tokens draft) and `optional<T>`. Our own reader so that an unknown token type stays
//! opaque: nothing is parsed past what the caller asks for.

use crate::error::{Error, Result};

/// A cursor over borrowed bytes that fails with [`Error::Truncated`] instead of panicking.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// Read `buf`, naming the structure `what` in errors.
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(Error::Truncated {
                what: self.what,
                needed: n - self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// `opaque x<0..255>`.
    pub(crate) fn vec8(&mut self) -> Result<&'a [u8]> {
        let n = usize::from(self.u8()?);
        self.take(n)
    }

    /// `opaque x<0..2^16-1>`.
    pub(crate) fn vec16(&mut self) -> Result<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }

    /// A QUIC variable-length integer (RFC 9000 §16), minimal encoding required.
    pub(crate) fn varint(&mut self) -> Result<u64> {
        let first = self.u8()?;
        let len = 1usize << (first >> 6);
        let mut v = u64::from(first & 0x3f);
        for b in self.take(len - 1)? {
            v = (v << 8) | u64::from(*b);
        }
        let min = match len {
            1 => 0,
            2 => 64,
            4 => 16_384,
            _ => 1 << 30,
        };
        if v < min {
            return Err(Error::Varint("not minimally encoded"));
        }
        Ok(v)
    }

    /// `T x<V>`: a varint byte length, then that many bytes.
    pub(crate) fn vec_v(&mut self) -> Result<&'a [u8]> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| Error::Varint("length too large"))?;
        self.take(n)
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything was read.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Succeed only when everything was read.
    pub(crate) fn finish(self) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes {
                what: self.what,
                extra: self.buf.len(),
            })
        }
    }
}

/// Append a QUIC variable-length integer, minimally encoded (`v < 2^62`).
pub(crate) fn put_varint(out: &mut Vec<u8>, v: u64) -> Result<()> {
    match v {
        0..=63 => out.push(v as u8),
        64..=16_383 => out.extend_from_slice(&((v as u16) | 0x4000).to_be_bytes()),
        16_384..=1_073_741_823 => out.extend_from_slice(&((v as u32) | 0x8000_0000).to_be_bytes()),
        1_073_741_824..=0x3fff_ffff_ffff_ffff => {
            out.extend_from_slice(&(v | 0xc000_0000_0000_0000).to_be_bytes());
        }
        _ => return Err(Error::Varint("value needs more than 62 bits")),
    }
    Ok(())
}

/// Append `opaque x<0..255>`.
pub(crate) fn put_vec8(out: &mut Vec<u8>, what: &'static str, v: &[u8]) -> Result<()> {
    let n = u8::try_from(v.len()).map_err(|_| Error::Length {
        what,
        got: v.len(),
        expected: 255,
    })?;
    out.push(n);
    out.extend_from_slice(v);
    Ok(())
}

/// Append `opaque x<0..2^16-1>`.
pub(crate) fn put_vec16(out: &mut Vec<u8>, what: &'static str, v: &[u8]) -> Result<()> {
    let n = u16::try_from(v.len()).map_err(|_| Error::Length {
        what,
        got: v.len(),
        expected: 65_535,
    })?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(v);
    Ok(())
}

/// Append `T x<V>` from already encoded items.
pub(crate) fn put_vec_v(out: &mut Vec<u8>, body: &[u8]) -> Result<()> {
    put_varint(out, body.len() as u64)?;
    out.extend_from_slice(body);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip_and_minimality() {
        for v in [
            0u64,
            63,
            64,
            16_383,
            16_384,
            1_073_741_823,
            1_073_741_824,
            (1 << 62) - 1,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v).unwrap();
            let mut r = Reader::new(&out, "t");
            assert_eq!(r.varint().unwrap(), v);
            assert!(r.is_empty());
        }
        assert!(put_varint(&mut Vec::new(), 1 << 62).is_err());
        // 5 encoded in two bytes is not minimal.
        assert_eq!(
            Reader::new(&[0x40, 0x05], "t").varint(),
            Err(Error::Varint("not minimally encoded"))
        );
        assert!(matches!(
            Reader::new(&[0x80, 0x00], "t").varint(),
            Err(Error::Truncated { .. })
        ));
        // RFC 9000 §A.1 examples.
        assert_eq!(Reader::new(&[0x7b, 0xbd], "t").varint().unwrap(), 15_293);
        assert_eq!(
            Reader::new(&[0x9d, 0x7f, 0x3e, 0x7d], "t")
                .varint()
                .unwrap(),
            494_878_333
        );
    }

    #[test]
    fn truncation_and_trailing_are_errors() {
        let mut r = Reader::new(&[1, 2], "s");
        assert_eq!(
            r.take(3),
            Err(Error::Truncated {
                what: "s",
                needed: 1
            })
        );
        assert_eq!(r.u8().unwrap(), 1);
        assert_eq!(
            r.finish(),
            Err(Error::TrailingBytes {
                what: "s",
                extra: 1
            })
        );
    }
}
