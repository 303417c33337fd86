//! Digest Fields (RFC 9530): `Content-Digest`, `Repr-Digest`, `Want-Content-Digest`,
//! `Want-Repr-Digest`.
//!
//! `Content-Digest` is the digest of the message content as sent (after content coding);
//! `Repr-Digest` of the selected representation. Both are Dictionaries `alg=:base64:`.
//! Active algorithms `sha-256` and `sha-512` are created and checked; the deprecated ones
//! (`md5`, `sha`, `unixsum`, `unixcksum`, `adler`, `crc32c`) are recognised and refused,
//! as RFC 9530 §5 forbids them where an attacker is present; unknown ones are ignored as
//! the RFC allows. A field that has no supported entry fails; every supported entry must
//! match. Values are compared in constant time.
//!
//! [`DigestHasher`] is the incremental (sans-I/O) form; [`collect_body`] and
//! [`DigestBody`] apply it to an `http_body::Body` with a size cap.

use std::pin::Pin;
use std::task::{Context, Poll};

use aws_lc_rs::digest as lc;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::{Buf, Bytes, BytesMut};
use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame};
use sfv::{BareItem, ListEntry};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};
use crate::structured::{combined_value, parse_dictionary};

/// `Content-Digest` field name.
pub const CONTENT_DIGEST: &str = "content-digest";
/// `Repr-Digest` field name.
pub const REPR_DIGEST: &str = "repr-digest";
/// `Want-Content-Digest` field name.
pub const WANT_CONTENT_DIGEST: &str = "want-content-digest";
/// `Want-Repr-Digest` field name.
pub const WANT_REPR_DIGEST: &str = "want-repr-digest";

/// Most entries accepted in one digest field (resource exhaustion, RFC 9530 §6.7).
pub const MAX_DIGEST_ENTRIES: usize = 8;

/// Deprecated algorithms of the Hash Algorithms for HTTP Digest Fields registry.
pub const DEPRECATED: [&str; 6] = ["md5", "sha", "unixsum", "unixcksum", "adler", "crc32c"];

/// An active digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// `sha-256`.
    Sha256,
    /// `sha-512`.
    Sha512,
}

impl DigestAlgorithm {
    /// Both active algorithms, strongest first.
    pub const ALL: [DigestAlgorithm; 2] = [DigestAlgorithm::Sha512, DigestAlgorithm::Sha256];

    /// The registry name.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha-256",
            DigestAlgorithm::Sha512 => "sha-512",
        }
    }

    /// Parse a registry name; deprecated names are an error, unknown names `None`.
    pub fn from_name(name: &str) -> Result<Option<Self>> {
        match name {
            "sha-256" => Ok(Some(DigestAlgorithm::Sha256)),
            "sha-512" => Ok(Some(DigestAlgorithm::Sha512)),
            d if DEPRECATED.contains(&d) => Err(Error::DeprecatedDigestAlgorithm(d.to_owned())),
            _ => Ok(None),
        }
    }

    fn lc(self) -> &'static lc::Algorithm {
        match self {
            DigestAlgorithm::Sha256 => &lc::SHA256,
            DigestAlgorithm::Sha512 => &lc::SHA512,
        }
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        self.lc().output_len()
    }

    /// Digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        lc::digest(self.lc(), data).as_ref().to_vec()
    }
}

/// Incremental hashing with one or more algorithms at once.
#[derive(Clone)]
pub struct DigestHasher {
    contexts: Vec<(DigestAlgorithm, lc::Context)>,
    len: u64,
}

impl std::fmt::Debug for DigestHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestHasher")
            .field(
                "algorithms",
                &self.contexts.iter().map(|c| c.0).collect::<Vec<_>>(),
            )
            .field("len", &self.len)
            .finish()
    }
}

impl DigestHasher {
    /// A hasher for `algs` (duplicates ignored).
    pub fn new(algs: &[DigestAlgorithm]) -> Self {
        let mut contexts: Vec<(DigestAlgorithm, lc::Context)> = Vec::with_capacity(algs.len());
        for a in algs {
            if !contexts.iter().any(|(b, _)| b == a) {
                contexts.push((*a, lc::Context::new(a.lc())));
            }
        }
        DigestHasher { contexts, len: 0 }
    }

    /// Feed bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.len = self.len.saturating_add(data.len() as u64);
        for (_, c) in &mut self.contexts {
            c.update(data);
        }
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was fed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digests, in the order the algorithms were given.
    pub fn finish(self) -> Digests {
        Digests(
            self.contexts
                .into_iter()
                .map(|(a, c)| (a, c.finish().as_ref().to_vec()))
                .collect(),
        )
    }
}

/// Computed digests, one per algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests(pub Vec<(DigestAlgorithm, Vec<u8>)>);

impl Digests {
    /// Digest `data` with `algs`.
    pub fn of(algs: &[DigestAlgorithm], data: &[u8]) -> Self {
        let mut h = DigestHasher::new(algs);
        h.update(data);
        h.finish()
    }

    /// The field value, e.g. `sha-256=:...:, sha-512=:...:`.
    pub fn field_value(&self) -> String {
        let mut s = String::new();
        for (i, (a, d)) in self.0.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(a.name());
            s.push_str("=:");
            STANDARD.encode_string(d, &mut s);
            s.push(':');
        }
        s
    }

    /// The field value as a `HeaderValue`.
    pub fn header_value(&self) -> HeaderValue {
        // Only the registry names, '=', ':', ',', ' ' and base64: always a valid value.
        HeaderValue::from_str(&self.field_value()).unwrap_or(HeaderValue::from_static(""))
    }

    /// Check these digests against a received field value (see [`verify_digest_field`]).
    pub fn check(&self, field: &'static str, value: &str) -> Result<DigestAlgorithm> {
        let entries = parse_digest_field(field, value)?;
        let mut matched = None;
        for (alg, expected) in &entries {
            let Some(alg) = alg else { continue };
            let Some((_, actual)) = self.0.iter().find(|(a, _)| a == alg) else {
                continue;
            };
            if !bool::from(actual.as_slice().ct_eq(expected.as_slice())) {
                return Err(Error::DigestMismatch {
                    field,
                    algorithm: alg.name(),
                });
            }
            matched.get_or_insert(*alg);
        }
        matched.ok_or(Error::NoSupportedDigest(field))
    }
}

/// Parse a `Content-Digest` / `Repr-Digest` value into `(algorithm, bytes)` entries.
/// Unknown algorithms give `None`; deprecated ones are an error; active ones must carry a
/// byte sequence of the algorithm's length.
pub fn parse_digest_field(
    field: &'static str,
    value: &str,
) -> Result<Vec<(Option<DigestAlgorithm>, Vec<u8>)>> {
    let dict = parse_dictionary(field, value)?;
    if dict.len() > MAX_DIGEST_ENTRIES {
        return Err(Error::MalformedField {
            field,
            reason: format!("more than {MAX_DIGEST_ENTRIES} entries"),
        });
    }
    let mut out = Vec::with_capacity(dict.len());
    for (k, v) in dict {
        let alg = DigestAlgorithm::from_name(k.as_str())?;
        let bytes = match v {
            ListEntry::Item(sfv::Item {
                bare_item: BareItem::ByteSequence(b),
                ..
            }) => b,
            _ if alg.is_none() => continue,
            _ => {
                return Err(Error::InvalidDigestValue {
                    field,
                    algorithm: k.as_str().to_owned(),
                });
            }
        };
        if let Some(a) = alg
            && bytes.len() != a.output_len()
        {
            return Err(Error::InvalidDigestValue {
                field,
                algorithm: k.as_str().to_owned(),
            });
        }
        out.push((alg, bytes));
    }
    Ok(out)
}

/// Check `body` against the digest field `field` in `headers`. Returns the strongest
/// algorithm that matched. Errors: field absent, no supported entry, deprecated algorithm,
/// malformed value, mismatch.
pub fn verify_digest_field(
    headers: &HeaderMap,
    field: &'static str,
    body: &[u8],
) -> Result<DigestAlgorithm> {
    let value = combined_value(headers, field, field)?.ok_or(Error::MissingDigest(field))?;
    let entries = parse_digest_field(field, &value)?;
    let algs: Vec<_> = entries.iter().filter_map(|(a, _)| *a).collect();
    Digests::of(&algs, body).check(field, &value)
}

/// Set `Content-Digest` on `headers` for `body`.
pub fn set_content_digest(headers: &mut HeaderMap, algs: &[DigestAlgorithm], body: &[u8]) {
    headers.insert(CONTENT_DIGEST, Digests::of(algs, body).header_value());
}

/// Parse a `Want-Content-Digest` / `Want-Repr-Digest` value: `(name, weight 0..=10)`.
pub fn parse_want_digest(field: &'static str, value: &str) -> Result<Vec<(String, u8)>> {
    let dict = parse_dictionary(field, value)?;
    dict.into_iter()
        .map(|(k, v)| {
            let weight = match v {
                ListEntry::Item(sfv::Item {
                    bare_item: BareItem::Integer(i),
                    ..
                }) => u8::try_from(i64::from(i)).ok().filter(|w| *w <= 10),
                _ => None,
            };
            weight.map(|w| (k.as_str().to_owned(), w)).ok_or_else(|| {
                Error::InvalidDigestPreference {
                    field,
                    algorithm: k.as_str().to_owned(),
                }
            })
        })
        .collect()
}

/// Choose the algorithm to answer a `Want-*-Digest` preference with: the supported active
/// algorithm of highest weight above 0 (ties go to the stronger). `None` when the peer
/// accepts none of ours.
pub fn choose_digest(preferences: &[(String, u8)]) -> Option<DigestAlgorithm> {
    let mut best: Option<(u8, DigestAlgorithm)> = None;
    for alg in DigestAlgorithm::ALL {
        if let Some((_, w)) = preferences.iter().find(|(n, _)| n == alg.name())
            && *w > 0
            && best.is_none_or(|(bw, _)| *w > bw)
        {
            best = Some((*w, alg));
        }
    }
    best.map(|(_, a)| a)
}

/// A `Want-*-Digest` value for our preferences.
pub fn want_digest_value(preferences: &[(DigestAlgorithm, u8)]) -> String {
    preferences
        .iter()
        .map(|(a, w)| format!("{}={}", a.name(), (*w).min(10)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A body read to the end, with its trailers.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// The content.
    pub data: Bytes,
    /// Trailer fields, if the body had any.
    pub trailers: Option<HeaderMap>,
}

/// Read `body` to the end, failing with [`Error::BodyTooLarge`] past `limit` bytes (checked
/// against the size hint first, then while reading).
pub async fn collect_body<B>(body: B, limit: u64) -> Result<Collected>
where
    B: Body,
    B::Error: std::fmt::Display,
{
    if body.size_hint().lower() > limit {
        return Err(Error::BodyTooLarge { limit });
    }
    let mut body = std::pin::pin!(body);
    let mut data = BytesMut::new();
    let mut trailers: Option<HeaderMap> = None;
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| Error::BodyRead(e.to_string()))?;
        match frame.into_data() {
            Ok(mut chunk) => {
                if (data.len() as u64).saturating_add(chunk.remaining() as u64) > limit {
                    return Err(Error::BodyTooLarge { limit });
                }
                while chunk.has_remaining() {
                    let c = chunk.chunk();
                    data.extend_from_slice(c);
                    let n = c.len();
                    chunk.advance(n);
                }
            }
            Err(frame) => {
                if let Ok(t) = frame.into_trailers() {
                    match trailers.as_mut() {
                        Some(existing) => existing.extend(t),
                        None => trailers = Some(t),
                    }
                }
            }
        }
    }
    Ok(Collected {
        data: data.freeze(),
        trailers,
    })
}

pin_project_lite::pin_project! {
    /// A body that hashes its data as it streams, enforces a size cap, and at the end of the
    /// stream compares the digests with the expected field value: on a mismatch the last
    /// poll yields an error instead of the end of the stream. Use it when the content is too
    /// large to buffer; the consumer must treat the content as unverified until the stream
    /// ended without error.
    pub struct DigestBody<B> {
        #[pin]
        inner: B,
        hasher: Option<DigestHasher>,
        expected: String,
        field: &'static str,
        limit: u64,
    }
}

impl<B> std::fmt::Debug for DigestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DigestBody")
            .field("field", &self.field)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<B> DigestBody<B> {
    /// Wrap `inner`; `expected` is the received value of `field`.
    pub fn new(inner: B, field: &'static str, expected: &str, limit: u64) -> Result<Self> {
        let entries = parse_digest_field(field, expected)?;
        let algs: Vec<_> = entries.iter().filter_map(|(a, _)| *a).collect();
        if algs.is_empty() {
            return Err(Error::NoSupportedDigest(field));
        }
        Ok(DigestBody {
            inner,
            hasher: Some(DigestHasher::new(&algs)),
            expected: expected.to_owned(),
            field,
            limit,
        })
    }
}

impl<B> Body for DigestBody<B>
where
    B: Body,
    B::Error: std::fmt::Display,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, Error>>> {
        let this = self.project();
        let Some(hasher) = this.hasher.as_mut() else {
            return Poll::Ready(None);
        };
        match this.inner.poll_frame(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Err(e))) => {
                *this.hasher = None;
                Poll::Ready(Some(Err(Error::BodyRead(e.to_string()))))
            }
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(mut chunk) => {
                    let bytes = chunk.copy_to_bytes(chunk.remaining());
                    hasher.update(&bytes);
                    if hasher.len() > *this.limit {
                        *this.hasher = None;
                        return Poll::Ready(Some(Err(Error::BodyTooLarge { limit: *this.limit })));
                    }
                    Poll::Ready(Some(Ok(Frame::data(bytes))))
                }
                Err(frame) => match frame.into_trailers() {
                    Ok(t) => Poll::Ready(Some(Ok(Frame::trailers(t)))),
                    Err(_) => Poll::Ready(Some(Err(Error::BodyRead("unknown frame type".into())))),
                },
            },
            Poll::Ready(None) => {
                let Some(h) = this.hasher.take() else {
                    return Poll::Ready(None);
                };
                match h.finish().check(this.field, this.expected) {
                    Ok(_) => Poll::Ready(None),
                    Err(e) => Poll::Ready(Some(Err(e))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.hasher.is_none()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_values() {
        let d = Digests::of(&[DigestAlgorithm::Sha256], br#"{"hello": "world"}"#);
        assert_eq!(
            d.field_value(),
            "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
        );
        let d = Digests::of(&[DigestAlgorithm::Sha256], b"");
        assert_eq!(
            d.field_value(),
            "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
        );
    }

    #[test]
    fn deprecated_and_unknown() {
        assert_eq!(
            parse_digest_field("Content-Digest", "md5=:Sd/dVLAcvNLSq16eXua5uQ==:").unwrap_err(),
            Error::DeprecatedDigestAlgorithm("md5".into())
        );
        let e = parse_digest_field("Content-Digest", "blake3=:AA==:").unwrap();
        assert_eq!(e[0].0, None);
        assert_eq!(
            Digests::of(&[DigestAlgorithm::Sha256], b"x")
                .check("Content-Digest", "blake3=:AA==:")
                .unwrap_err(),
            Error::NoSupportedDigest("Content-Digest")
        );
        assert!(matches!(
            parse_digest_field("Content-Digest", "sha-256=:AA==:"),
            Err(Error::InvalidDigestValue { .. })
        ));
        assert!(matches!(
            parse_digest_field("Content-Digest", "sha-256=\"x\""),
            Err(Error::InvalidDigestValue { .. })
        ));
    }

    #[test]
    fn want_preferences() {
        let p = parse_want_digest("Want-Content-Digest", "sha-256=1, sha-512=3").unwrap();
        assert_eq!(choose_digest(&p), Some(DigestAlgorithm::Sha512));
        let p = parse_want_digest("Want-Content-Digest", "sha-256=10, sha-512=3").unwrap();
        assert_eq!(choose_digest(&p), Some(DigestAlgorithm::Sha256));
        let p = parse_want_digest("Want-Content-Digest", "sha-256=0, md5=10").unwrap();
        assert_eq!(choose_digest(&p), None);
        assert!(parse_want_digest("Want-Content-Digest", "sha-256=11").is_err());
        assert!(parse_want_digest("Want-Content-Digest", "sha-256=-1").is_err());
        assert!(parse_want_digest("Want-Content-Digest", "sha-256=?1").is_err());
        assert_eq!(
            want_digest_value(&[(DigestAlgorithm::Sha512, 10), (DigestAlgorithm::Sha256, 3)]),
            "sha-512=10, sha-256=3"
        );
    }
}
