//! # secdispatch-clientcert — the `Client-Cert` HTTP fields (RFC 9440)
//!
//! A TLS-terminating reverse proxy (TTRP) tells the backend which certificate the client
//! presented in mutual TLS with two Structured Fields (RFC 8941):
//!
//! * `Client-Cert` (RFC 9440 §2.2): an Item, a Byte Sequence holding the DER of the
//!   end-entity certificate;
//! * `Client-Cert-Chain` (§2.3): a List of Byte Sequences, the rest of the chain in TLS
//!   order (issuer of the end entity first), never the end entity itself, never without
//!   `Client-Cert`.
//!
//! This crate encodes, decodes and sanitises them over `http` types, with no I/O. Both
//! fields are parsed as Structured Fields and re-serialised, never sliced as text.
//! Everything that decides whether to *trust* the fields (a gateway signature, a peer
//! allowlist) lives with the backend layer; RFC 9440 §4 is blunt that a forged
//! `Client-Cert` reaching a backend is a full authentication bypass, so the TTRP must
//! [`sanitize`] every request and a backend must accept the fields only from a trusted TTRP.
//!
//! ```
//! use http::HeaderMap;
//! use secdispatch_clientcert::{CLIENT_CERT, decode, encode_client_cert, sanitize};
//!
//! # fn main() -> Result<(), secdispatch_clientcert::Error> {
//! let ee_der = [0x30, 0x03, 0x02, 0x01, 0x07]; // any DER SEQUENCE
//! let mut headers = HeaderMap::new();
//! // A client tried to forge the field: the TTRP removes it first ...
//! headers.insert(CLIENT_CERT, ":Zm9yZ2Vk:".parse().unwrap());
//! assert!(sanitize(&mut headers));
//! // ... then adds the certificate of the verified TLS session.
//! headers.insert(CLIENT_CERT, encode_client_cert(&ee_der)?);
//! let fields = decode(&headers)?.expect("present");
//! assert_eq!(fields.end_entity, ee_der);
//! # Ok(()) }
//! ```

mod pem;

use base64::Engine as _;
use http::header::{HeaderMap, HeaderName, HeaderValue, VARY};
use sfv::{BareItem, FieldType, Item, List, ListEntry, Parser};

pub use pem::certificates_from_pem;

/// `Client-Cert` (lower case, as HTTP/2 and HTTP/3 carry it).
pub const CLIENT_CERT: HeaderName = HeaderName::from_static("client-cert");
/// `Client-Cert-Chain`.
pub const CLIENT_CERT_CHAIN: HeaderName = HeaderName::from_static("client-cert-chain");

/// What is wrong with a `Client-Cert` or `Client-Cert-Chain` field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `Client-Cert` appears on more than one field line; it is a singleton Item.
    #[error("Client-Cert appears {0} times; it must be one field line")]
    RepeatedClientCert(usize),
    /// A field value is not a valid Structured Field of its type.
    #[error("{field} is not a valid structured field: {reason}")]
    Syntax {
        /// The field.
        field: &'static str,
        /// The parser's reason.
        reason: String,
    },
    /// A value (or chain member) is not a Byte Sequence.
    #[error("{field} must hold byte sequences (:base64:), found {found}")]
    NotByteSequence {
        /// The field.
        field: &'static str,
        /// What was found instead.
        found: &'static str,
    },
    /// A byte sequence is not a DER-encoded certificate (a single DER SEQUENCE).
    #[error("{field} does not hold a DER certificate: {reason}")]
    NotDer {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// `Client-Cert-Chain` without `Client-Cert` (RFC 9440 §2.3: MUST NOT).
    #[error("Client-Cert-Chain is present without Client-Cert")]
    ChainWithoutCertificate,
    /// An empty certificate or an empty chain to encode.
    #[error("nothing to encode: {0}")]
    Empty(&'static str),
    /// PEM input that is not a sequence of CERTIFICATE blocks.
    #[error("invalid PEM: {0}")]
    Pem(&'static str),
}

/// The decoded fields of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertFields {
    /// DER of the end-entity certificate (`Client-Cert`).
    pub end_entity: Vec<u8>,
    /// DER of the other certificates, issuer of the end entity first
    /// (`Client-Cert-Chain`; empty when the field is absent).
    pub chain: Vec<Vec<u8>>,
}

/// Encode an end-entity certificate's DER as a `Client-Cert` value (`:base64:`).
pub fn encode_client_cert(der: &[u8]) -> Result<HeaderValue, Error> {
    check_der("Client-Cert", der)?;
    Ok(byte_sequence_value(&[der]))
}

/// Encode the chain above the end entity (issuer first; the trust anchor may be left
/// out) as a `Client-Cert-Chain` value. The end entity itself must not be passed.
pub fn encode_client_cert_chain<C: AsRef<[u8]>>(chain: &[C]) -> Result<HeaderValue, Error> {
    if chain.is_empty() {
        return Err(Error::Empty(
            "Client-Cert-Chain needs at least one certificate",
        ));
    }
    let ders: Vec<&[u8]> = chain.iter().map(AsRef::as_ref).collect();
    for der in &ders {
        check_der("Client-Cert-Chain", der)?;
    }
    Ok(byte_sequence_value(&ders))
}

/// `:b64:, :b64:` — the serialisation of a List of Byte Sequences (an Item is a List of
/// one, textually). Standard base64 alphabet with padding, as RFC 8941 §4.1.8 requires.
fn byte_sequence_value(ders: &[&[u8]]) -> HeaderValue {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = String::with_capacity(ders.iter().map(|d| d.len() * 4 / 3 + 8).sum());
    for (i, der) in ders.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push(':');
        b64.encode_string(der, &mut out);
        out.push(':');
    }
    // Only base64 characters, ':', ',' and ' ': always a valid header value.
    HeaderValue::try_from(out).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Decode the fields of a request. `Ok(None)` when `Client-Cert` is absent (and so is
/// the chain); an error for anything malformed, so a caller can answer 400.
pub fn decode(headers: &HeaderMap) -> Result<Option<ClientCertFields>, Error> {
    let mut lines = headers.get_all(&CLIENT_CERT).iter();
    let Some(first) = lines.next() else {
        if headers.contains_key(&CLIENT_CERT_CHAIN) {
            return Err(Error::ChainWithoutCertificate);
        }
        return Ok(None);
    };
    let count = 1 + lines.count();
    if count > 1 {
        return Err(Error::RepeatedClientCert(count));
    }
    let item: Item = parse("Client-Cert", first.as_bytes())?;
    let end_entity = byte_sequence("Client-Cert", item.bare_item)?;
    check_der("Client-Cert", &end_entity)?;

    // Several Client-Cert-Chain lines combine into one list (RFC 9110 §5.3).
    let mut chain = Vec::new();
    for line in headers.get_all(&CLIENT_CERT_CHAIN) {
        let list: List = parse("Client-Cert-Chain", line.as_bytes())?;
        for entry in list {
            let item = match entry {
                ListEntry::Item(item) => item,
                ListEntry::InnerList(_) => {
                    return Err(Error::NotByteSequence {
                        field: "Client-Cert-Chain",
                        found: "an inner list",
                    });
                }
            };
            let der = byte_sequence("Client-Cert-Chain", item.bare_item)?;
            check_der("Client-Cert-Chain", &der)?;
            chain.push(der);
        }
    }
    Ok(Some(ClientCertFields { end_entity, chain }))
}

fn parse<T: FieldType>(field: &'static str, value: &[u8]) -> Result<T, Error> {
    Parser::new(value).parse::<T>().map_err(|e| Error::Syntax {
        field,
        reason: e.to_string(),
    })
}

fn byte_sequence(field: &'static str, item: BareItem) -> Result<Vec<u8>, Error> {
    let found = match item {
        BareItem::ByteSequence(b) => return Ok(b),
        BareItem::Integer(_) => "an integer",
        BareItem::Decimal(_) => "a decimal",
        BareItem::String(_) => "a string",
        BareItem::Token(_) => "a token",
        BareItem::Boolean(_) => "a boolean",
        BareItem::Date(_) => "a date",
        BareItem::DisplayString(_) => "a display string",
    };
    Err(Error::NotByteSequence { field, found })
}

/// A certificate is exactly one DER SEQUENCE: tag 0x30, a definite minimal length, and
/// nothing after it. Full X.509 parsing belongs to whoever validates the chain; this
/// catches garbage and truncation at the field boundary.
fn check_der(field: &'static str, der: &[u8]) -> Result<(), Error> {
    let not = |reason| Err(Error::NotDer { field, reason });
    match der {
        [] => not("empty"),
        [0x30, rest @ ..] => {
            let (len, header) = match rest {
                [l, ..] if *l < 0x80 => (usize::from(*l), 2),
                [0x81, l, ..] if *l >= 0x80 => (usize::from(*l), 3),
                [0x82, a, b, ..] if *a != 0 => (usize::from(*a) << 8 | usize::from(*b), 4),
                [0x83, a, b, c, ..] if *a != 0 => (
                    usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c),
                    5,
                ),
                [] | [_] => return not("truncated length"),
                _ => return not("length is not minimal DER or too large"),
            };
            if der.len() != header + len {
                return not("length does not match the data");
            }
            Ok(())
        }
        _ => not("not a SEQUENCE"),
    }
}

/// Remove every `Client-Cert` and `Client-Cert-Chain` field line (header names are
/// case-insensitive, so every spelling is covered). Returns whether any was present, for
/// a TTRP that rejects such requests with 400 or counts them.
///
/// A TTRP must call this on every request before adding its own fields (RFC 9440 §2.4),
/// and on every response, since the fields are request-only.
pub fn sanitize(headers: &mut HeaderMap) -> bool {
    let a = headers.remove(&CLIENT_CERT).is_some();
    // `remove` drops every line of a multi-line field.
    let b = headers.remove(&CLIENT_CERT_CHAIN).is_some();
    a | b
}

/// For responses leaving the TTRP: a `Vary` naming `Client-Cert` or `Client-Cert-Chain`
/// means nothing to caches outside (they never see the fields), so it becomes `Vary: *`
/// (RFC 9440 §2.4). Returns whether `Vary` was rewritten.
pub fn rewrite_vary(headers: &mut HeaderMap) -> bool {
    let names_field = headers.get_all(VARY).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').map(str::trim).any(|n| {
                n.eq_ignore_ascii_case("client-cert") || n.eq_ignore_ascii_case("client-cert-chain")
            })
        })
    });
    if names_field {
        headers.insert(VARY, HeaderValue::from_static("*"));
    }
    names_field
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hv(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    const SEQ: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x07];

    #[test]
    fn der_check_accepts_minimal_forms_only() {
        assert!(check_der("f", SEQ).is_ok());
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend(std::iter::repeat_n(0u8, 0x80));
        assert!(check_der("f", &long).is_ok());
        // Non-minimal long form for a short length.
        assert!(check_der("f", &[0x30, 0x81, 0x01, 0x00]).is_err());
        assert!(check_der("f", &[0x30]).is_err());
        assert!(check_der("f", &[0x30, 0x05, 0x00]).is_err());
        assert!(check_der("f", &[0x31, 0x00]).is_err());
        assert!(
            check_der("f", &[0x30, 0x00, 0x00]).is_err(),
            "trailing data"
        );
        assert!(
            check_der("f", &[0x30, 0x80]).is_err(),
            "indefinite length is not DER"
        );
    }

    #[test]
    fn chain_without_certificate_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(CLIENT_CERT_CHAIN, encode_client_cert_chain(&[SEQ]).unwrap());
        assert_eq!(decode(&h), Err(Error::ChainWithoutCertificate));
    }

    #[test]
    fn repeated_client_cert_is_refused() {
        let mut h = HeaderMap::new();
        h.append(CLIENT_CERT, encode_client_cert(SEQ).unwrap());
        h.append(CLIENT_CERT, encode_client_cert(SEQ).unwrap());
        assert_eq!(decode(&h), Err(Error::RepeatedClientCert(2)));
    }

    #[test]
    fn chain_lines_combine_in_order() {
        let a = [0x30, 0x01, 0x0a];
        let b = [0x30, 0x01, 0x0b];
        let c = [0x30, 0x01, 0x0c];
        let mut h = HeaderMap::new();
        h.insert(CLIENT_CERT, encode_client_cert(SEQ).unwrap());
        h.append(
            CLIENT_CERT_CHAIN,
            encode_client_cert_chain(&[a, b]).unwrap(),
        );
        h.append(CLIENT_CERT_CHAIN, encode_client_cert_chain(&[c]).unwrap());
        let f = decode(&h).unwrap().unwrap();
        assert_eq!(f.chain, vec![a.to_vec(), b.to_vec(), c.to_vec()]);
    }

    #[test]
    fn wrong_item_types_are_named() {
        for (value, found) in [
            ("42", "an integer"),
            ("\"MIIB\"", "a string"),
            ("MIIB", "a token"),
            ("?1", "a boolean"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(CLIENT_CERT, hv(value));
            assert_eq!(
                decode(&h),
                Err(Error::NotByteSequence {
                    field: "Client-Cert",
                    found
                }),
                "{value}"
            );
        }
        let mut h = HeaderMap::new();
        h.insert(CLIENT_CERT, encode_client_cert(SEQ).unwrap());
        h.insert(CLIENT_CERT_CHAIN, hv("(:MAMCAQc=:)"));
        assert_eq!(
            decode(&h),
            Err(Error::NotByteSequence {
                field: "Client-Cert-Chain",
                found: "an inner list"
            })
        );
    }

    #[test]
    fn malformed_values_are_syntax_errors() {
        for value in [
            ":MAMCAQc=",
            ":MAMC_AQc=:",
            ":MAMCAQc=:, :MAMCAQc=:",
            ":MAM CAQc=:",
            "",
        ] {
            let mut h = HeaderMap::new();
            h.insert(CLIENT_CERT, hv(value));
            assert!(matches!(decode(&h), Err(Error::Syntax { .. })), "{value:?}");
        }
    }

    #[test]
    fn item_parameters_are_ignored() {
        // RFC 8941: unknown parameters are ignored by recipients.
        let mut h = HeaderMap::new();
        h.insert(CLIENT_CERT, hv(":MAMCAQc=:;x=1"));
        assert_eq!(decode(&h).unwrap().unwrap().end_entity, SEQ);
    }

    #[test]
    fn empty_inputs_are_refused() {
        assert!(matches!(encode_client_cert(&[]), Err(Error::NotDer { .. })));
        assert!(matches!(
            encode_client_cert_chain::<&[u8]>(&[]),
            Err(Error::Empty(_))
        ));
    }

    #[test]
    fn sanitize_removes_every_line() {
        let mut h = HeaderMap::new();
        h.append(CLIENT_CERT, hv(":AA==:"));
        h.append(CLIENT_CERT, hv(":AQ==:"));
        h.append(CLIENT_CERT_CHAIN, hv(":AA==:"));
        h.append(HeaderName::from_static("x-other"), hv("kept"));
        assert!(sanitize(&mut h));
        assert!(!h.contains_key(&CLIENT_CERT) && !h.contains_key(&CLIENT_CERT_CHAIN));
        assert_eq!(h.len(), 1);
        assert!(!sanitize(&mut h));
    }

    #[test]
    fn vary_on_client_cert_becomes_star() {
        let mut h = HeaderMap::new();
        h.append(VARY, hv("Accept-Encoding, Client-Cert"));
        assert!(rewrite_vary(&mut h));
        assert_eq!(h.get_all(VARY).iter().collect::<Vec<_>>(), vec![hv("*")]);
        let mut h = HeaderMap::new();
        h.append(VARY, hv("accept-encoding"));
        assert!(!rewrite_vary(&mut h));
        assert_eq!(h[VARY], "accept-encoding");
    }
}
