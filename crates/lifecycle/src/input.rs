//! Telling inputs apart by their first bytes: pcap/pcapng captures, gzip (Zeek `.log.gz`
//! or a compressed capture), Zeek TSV or JSON logs.

use std::io::{self, BufRead, BufReader};

use flate2::bufread::MultiGzDecoder;

use crate::pcap::is_capture;

/// What an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// pcap or pcapng.
    Capture,
    /// A Zeek log (TSV or JSON lines).
    ZeekLog,
}

/// Wrap `r` in a gzip decoder when it starts with the gzip magic.
pub fn maybe_gunzip<'a, R: BufRead + Send + 'a>(
    mut r: R,
) -> io::Result<Box<dyn BufRead + Send + 'a>> {
    let head = r.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            MultiGzDecoder::new(r),
        )))
    } else {
        Ok(Box::new(r))
    }
}

/// Sniff the (decompressed) input's kind from its first bytes.
pub fn sniff<R: BufRead + ?Sized>(r: &mut R) -> io::Result<InputKind> {
    let head = r.fill_buf()?;
    Ok(if is_capture(head) {
        InputKind::Capture
    } else {
        InputKind::ZeekLog
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn gzip_and_kinds() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"#separator \\x09\n").unwrap();
        let bytes = gz.finish().unwrap();
        let mut r = maybe_gunzip(&bytes[..]).unwrap();
        assert_eq!(sniff(&mut r).unwrap(), InputKind::ZeekLog);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert!(s.starts_with("#separator"));
        let mut pcap: &[u8] = &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0];
        assert_eq!(sniff(&mut pcap).unwrap(), InputKind::Capture);
    }
}
