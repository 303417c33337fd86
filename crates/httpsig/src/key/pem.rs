//! PEM (RFC 7468) decoding: label plus base64 body, with strict framing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// One PEM block: its label and decoded DER, zeroized on drop.
pub(crate) struct Block {
    pub(crate) label: String,
    pub(crate) der: Zeroizing<Vec<u8>>,
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidKey {
        format: "PEM",
        reason: reason.into(),
    }
}

/// Decode every PEM block in `text`, in order.
pub(crate) fn decode_all(text: &str) -> Result<Vec<Block>> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = Zeroizing::new(String::new());
        let mut closed = false;
        for l in lines.by_ref() {
            if l == end {
                closed = true;
                break;
            }
            if l.contains(':') {
                return Err(bad(format!(
                    "{label} has encapsulated headers (an encrypted legacy key?)"
                )));
            }
            body.push_str(l);
        }
        if !closed {
            return Err(bad(format!("missing \"{end}\"")));
        }
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| bad(format!("{label}: {e}")))?;
        blocks.push(Block {
            label: label.to_owned(),
            der: Zeroizing::new(der),
        });
    }
    if blocks.is_empty() {
        return Err(bad("no PEM block found"));
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_rejects() {
        let b = decode_all("junk\n-----BEGIN X-----\nAAEC\nAw==\n-----END X-----\n").unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].label, "X");
        assert_eq!(&b[0].der[..], &[0, 1, 2, 3]);
        assert!(decode_all("-----BEGIN X-----\nAAEC\n").is_err());
        assert!(decode_all("nothing").is_err());
        assert!(decode_all("-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n-----END X-----").is_err());
        assert!(decode_all("-----BEGIN X-----\n!!!\n-----END X-----").is_err());
    }
}
