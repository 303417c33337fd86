//! The TLS presentation-language primitives the draft's structures are made of:
//! big-endian integers and length-prefixed vectors with bounds.

use crate::Error;

/// Reads from a byte slice; every read checks the remaining length.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    /// What is being read, for error messages.
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, what }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.buf.len() < n {
            return Err(Error::Truncated(self.what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// `opaque x<min..2^8-1>`
    pub(crate) fn vec8(&mut self, min: usize) -> Result<&'a [u8], Error> {
        let n = usize::from(self.u8()?);
        self.bounded(n, min)
    }

    /// `opaque x<min..2^16-1>`
    pub(crate) fn vec16(&mut self, min: usize) -> Result<&'a [u8], Error> {
        let n = usize::from(self.u16()?);
        self.bounded(n, min)
    }

    fn bounded(&mut self, n: usize, min: usize) -> Result<&'a [u8], Error> {
        if n < min {
            return Err(Error::TooShort {
                what: self.what,
                len: n,
                min,
            });
        }
        self.take(n)
    }

    /// Fail when bytes are left over.
    pub(crate) fn finish(&self) -> Result<(), Error> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::TrailingBytes(self.what))
        }
    }
}

/// `opaque x<..2^16-1>` into `out`.
pub(crate) fn put_vec16(out: &mut Vec<u8>, data: &[u8], what: &'static str) -> Result<(), Error> {
    let n = u16::try_from(data.len()).map_err(|_| Error::TooLong(what))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
}

/// `opaque x<..2^8-1>` into `out`.
pub(crate) fn put_vec8(out: &mut Vec<u8>, data: &[u8], what: &'static str) -> Result<(), Error> {
    let n = u8::try_from(data.len()).map_err(|_| Error::TooLong(what))?;
    out.push(n);
    out.extend_from_slice(data);
    Ok(())
}
