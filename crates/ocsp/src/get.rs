//! Decoding the request of an OCSP GET (`{url}/{url-encoded base64 of the DER}`) the way real
//! clients send it (notes §3): `%2F %2B %3D` escapes, `+` turned into a space by naive query
//! decoding, a `//` prefix when the AIA URL ends in `/`, base64url and missing padding, and any
//! path prefix before the request.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use der::{Decode, Header, Reader, SliceReader, Tag};

use crate::error::GetPathError;

/// Longest path accepted (a base64 OCSP request of 16 KiB plus slack).
pub const MAX_GET_PATH: usize = 24 * 1024;

/// Most positions of a path tried as the start of the base64 request.
const MAX_CANDIDATES: usize = 16;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The DER request carried by a GET request path (`path` as it appears in the request line,
/// without query string). The request is taken from the first position after a `/` (or the
/// start) whose remainder decodes to exactly one DER SEQUENCE, so any route prefix works and a
/// raw `/` inside the base64 (clients that do not escape it) is kept.
pub fn decode_get_path(path: &str) -> Result<Vec<u8>, GetPathError> {
    if path.len() > MAX_GET_PATH {
        return Err(GetPathError::TooLong {
            len: path.len(),
            max: MAX_GET_PATH,
        });
    }
    let trimmed = path.trim_start_matches('/');
    if trimmed.is_empty() {
        return Err(GetPathError::Empty);
    }
    let starts = std::iter::once(0).chain(
        trimmed
            .match_indices('/')
            .map(|(i, _)| i + 1)
            .filter(|i| *i < trimmed.len()),
    );
    let mut first_err = None;
    // A DER SEQUENCE (0x30 ...) always base64-encodes to a leading 'M': only such positions are
    // candidates, and at most MAX_CANDIDATES of them (bounds the work on hostile paths).
    let starts = starts
        .filter(|i| trimmed.as_bytes().get(*i) == Some(&b'M'))
        .take(MAX_CANDIDATES);
    for start in starts {
        let offset = path.len() - trimmed.len() + start;
        match decode_candidate(&trimmed[start..], offset) {
            Ok(der) => return Ok(der),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(match first_err {
        Some(e @ GetPathError::PercentEscape(_)) => e,
        _ => GetPathError::NotBase64Der,
    })
}

fn decode_candidate(s: &str, offset: usize) -> Result<Vec<u8>, GetPathError> {
    let text = percent_decode(s.as_bytes(), offset)?;
    let normalized: Vec<u8> = text
        .into_iter()
        .filter(|b| !matches!(b, b'\r' | b'\n'))
        .map(|b| match b {
            b' ' | b'-' => b'+',
            b'_' => b'/',
            other => other,
        })
        .collect();
    let der = LENIENT
        .decode(&normalized)
        .map_err(|_| GetPathError::NotBase64Der)?;
    if is_one_sequence(&der) {
        Ok(der)
    } else {
        Err(GetPathError::NotBase64Der)
    }
}

/// Whether `der` is exactly one DER SEQUENCE TLV (header and length only, contents unchecked).
fn is_one_sequence(der: &[u8]) -> bool {
    let Ok(mut r) = SliceReader::new(der) else {
        return false;
    };
    match Header::decode(&mut r) {
        Ok(h) => h.tag() == Tag::Sequence && r.remaining_len() == h.length(),
        Err(_) => false,
    }
}

fn percent_decode(s: &[u8], offset: usize) -> Result<Vec<u8>, GetPathError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' {
            let hex = |b: u8| (b as char).to_digit(16);
            match (
                s.get(i + 1).and_then(|b| hex(*b)),
                s.get(i + 2).and_then(|b| hex(*b)),
            ) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => return Err(GetPathError::PercentEscape(offset + i)),
            }
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// The path component a client appends to the responder URL for `der` (RFC 9919: standard
/// base64 with padding, then URL-encoded).
pub fn encode_get_path(der: &[u8]) -> String {
    let b64 = general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + 16);
    for c in b64.chars() {
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}
