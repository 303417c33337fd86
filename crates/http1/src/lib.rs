//! HTTP/1.1 on the wire (RFC 9112), sans-I/O, for the gateway's side towards its upstreams:
//! the request head it writes, the response head it reads, how long the response's content
//! is (RFC 9112 §6.3) and the chunked transfer coding (§7.1) both ways.
//!
//! Strict where a proxy has to be: conflicting `Content-Length` values, a malformed chunk
//! size, a missing CRLF after chunk data or a head over the limit are errors (the gateway
//! answers 502), never a guess about where a message ends. `Transfer-Encoding` overrides
//! `Content-Length` and the `Content-Length` is dropped (§6.3 item 3); a response whose
//! length is only known when the connection closes, or that came with both fields, leaves
//! its connection unusable for another request.

use std::io::Write as _;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

/// Most header (or trailer) fields accepted in one response.
pub const MAX_FIELDS: usize = 128;

/// Longest chunk-size line accepted (size and extensions).
pub const MAX_CHUNK_LINE: usize = 4096;

/// Why a response cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The status line or a field line is malformed.
    #[error("malformed response head: {0}")]
    Head(&'static str),
    /// The head did not end within the limit.
    #[error("response head larger than {0} bytes")]
    HeadTooLarge(usize),
    /// More fields than [`MAX_FIELDS`].
    #[error("more than {MAX_FIELDS} fields in a response head or trailer section")]
    TooManyFields,
    /// `Content-Length` is not one non-negative integer (repeated equal values are one).
    #[error("invalid Content-Length")]
    ContentLength,
    /// The chunked coding is broken.
    #[error("malformed chunked body: {0}")]
    Chunk(&'static str),
}

/// How the content of a message is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No content: a response to HEAD, a 1xx, 204 or 304, or a request without a body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
    /// Everything until the server closes the connection (responses only).
    UntilClose,
}

/// How a request's body will be sent, from what the gateway knows before sending it.
///
/// `body_empty`: the body is known to have no data; `headers` are the fields that will be
/// written (a `Content-Length` among them is kept and followed).
pub fn request_framing(headers: &HeaderMap, body_empty: bool) -> Framing {
    if body_empty {
        Framing::Empty
    } else if let Ok(Some(n)) = content_length(headers) {
        Framing::Length(n)
    } else {
        Framing::Chunked
    }
}

/// Append a request head to `out`: request line in origin form, `headers` as given, then
/// the framing field the body needs (`Transfer-Encoding: chunked`, or `Content-Length: 0`
/// for an empty POST, PUT or PATCH that has none, RFC 9110 §8.6), then the empty line.
///
/// `headers` must not contain hop-by-hop fields or `Transfer-Encoding`: the caller removes
/// them (a gateway forwards end-to-end fields only).
pub fn write_request_head(
    out: &mut Vec<u8>,
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    framing: Framing,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    write_fields(out, headers);
    match framing {
        Framing::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        Framing::Empty
            if matches!(*method, Method::POST | Method::PUT | Method::PATCH)
                && !headers.contains_key(header::CONTENT_LENGTH) =>
        {
            out.extend_from_slice(b"content-length: 0\r\n");
        }
        _ => {}
    }
    out.extend_from_slice(b"\r\n");
}

/// Append `name: value` field lines.
fn write_fields(out: &mut Vec<u8>, fields: &HeaderMap) {
    for (name, value) in fields {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Append the chunk-size line for `len` bytes of data (the data and its CRLF follow).
pub fn write_chunk_size(out: &mut Vec<u8>, len: usize) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{len:x}\r\n");
}

/// The CRLF that ends each chunk's data.
pub const CHUNK_END: &[u8] = b"\r\n";

/// Append the last chunk, the trailer fields and the final CRLF.
pub fn write_last_chunk(out: &mut Vec<u8>, trailers: Option<&HeaderMap>) {
    out.extend_from_slice(b"0\r\n");
    if let Some(t) = trailers {
        write_fields(out, t);
    }
    out.extend_from_slice(b"\r\n");
}

/// A parsed response head.
#[derive(Debug, Clone)]
pub struct ResponseHead {
    /// Status code.
    pub status: StatusCode,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// Fields as received, minus a `Content-Length` that `Transfer-Encoding` overrides.
    pub headers: HeaderMap,
    /// How the content that follows is delimited.
    pub framing: Framing,
    /// Whether the connection can carry another request once this response is read.
    pub keep_alive: bool,
}

/// Parse a response head at the start of `buf`, sent in answer to a `method` request.
///
/// `Ok(None)`: not complete yet (read more). `Ok(Some((head, n)))`: the head took the first
/// `n` bytes. A head that is not complete within `max_bytes` is an error.
pub fn parse_response_head(
    buf: &[u8],
    method: &Method,
    max_bytes: usize,
) -> Result<Option<(ResponseHead, usize)>, Error> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
    let mut resp = httparse::Response::new(&mut fields);
    let n = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= max_bytes => n,
        Ok(_) if buf.len() > max_bytes => return Err(Error::HeadTooLarge(max_bytes)),
        Ok(httparse::Status::Complete(_)) => return Err(Error::HeadTooLarge(max_bytes)),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Error::TooManyFields),
        Err(e) => return Err(Error::Head(head_error(e))),
    };
    let version = match resp.version {
        Some(1) => Version::HTTP_11,
        Some(0) => Version::HTTP_10,
        _ => return Err(Error::Head("version")),
    };
    let status = resp
        .code
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or(Error::Head("status code"))?;
    let mut headers = fields_to_map(resp.headers)?;

    let code = status.as_u16();
    let has_te = headers.contains_key(header::TRANSFER_ENCODING);
    let has_cl = headers.contains_key(header::CONTENT_LENGTH);
    let framing =
        if *method == Method::HEAD || status.is_informational() || code == 204 || code == 304 {
            Framing::Empty
        } else if has_te {
            // §6.3 item 3: Transfer-Encoding overrides Content-Length, which is not forwarded;
            // chunked must be the final coding, otherwise the content runs until close. §6.1:
            // an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            headers.remove(header::CONTENT_LENGTH);
            if version == Version::HTTP_11 && chunked_is_final(&headers) {
                Framing::Chunked
            } else {
                Framing::UntilClose
            }
        } else if has_cl {
            match content_length(&headers)? {
                Some(n) => Framing::Length(n),
                None => Framing::UntilClose,
            }
        } else {
            Framing::UntilClose
        };
    let keep_alive = version == Version::HTTP_11
        && !(has_te && has_cl)
        && framing != Framing::UntilClose
        && !has_token(&headers, header::CONNECTION, "close");
    Ok(Some((
        ResponseHead {
            status,
            version,
            headers,
            framing,
            keep_alive,
        },
        n,
    )))
}

fn head_error(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "field name",
        httparse::Error::HeaderValue => "field value",
        httparse::Error::NewLine => "line ending",
        httparse::Error::Status => "status code",
        httparse::Error::Token => "token",
        httparse::Error::Version => "version",
        httparse::Error::TooManyHeaders => "too many fields",
    }
}

fn fields_to_map(fields: &[httparse::Header<'_>]) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::with_capacity(fields.len());
    for f in fields {
        let name =
            HeaderName::from_bytes(f.name.as_bytes()).map_err(|_| Error::Head("field name"))?;
        let value = HeaderValue::from_bytes(f.value).map_err(|_| Error::Head("field value"))?;
        map.append(name, value);
    }
    Ok(map)
}

/// The message's `Content-Length`: `None` without the field; an error unless every value
/// (across field lines and comma-separated lists) is the same decimal integer.
pub fn content_length(headers: &HeaderMap) -> Result<Option<u64>, Error> {
    let mut found: Option<u64> = None;
    for value in headers.get_all(header::CONTENT_LENGTH) {
        for item in value.as_bytes().split(|&b| b == b',') {
            let item = item.trim_ascii();
            if item.is_empty() || item.len() > 19 || !item.iter().all(u8::is_ascii_digit) {
                return Err(Error::ContentLength);
            }
            let n = item
                .iter()
                .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            if found.is_some_and(|f| f != n) {
                return Err(Error::ContentLength);
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// Whether `chunked` is the last transfer coding listed.
fn chunked_is_final(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.rsplit(',').next())
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// Whether a comma-separated field contains `token` (case-insensitive).
pub fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// What [`ChunkedDecoder::decode`] found in the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Data (part of a chunk, or a whole one).
    Data(Bytes),
    /// The last chunk and its trailer section (`None` when it has no fields): the content is
    /// complete.
    End(Option<HeaderMap>),
    /// The buffer holds no complete element: read more.
    NeedMore,
}

/// Decodes the chunked transfer coding (RFC 9112 §7.1) from a buffer that grows as bytes
/// arrive. Chunk extensions are skipped; a trailer section is returned whole.
#[derive(Debug, Clone, Default)]
pub struct ChunkedDecoder {
    state: State,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Size,
    Data(u64),
    DataEnd,
    Trailers,
    Done,
}

impl ChunkedDecoder {
    /// Take the next element from the front of `buf`. `max_trailers` bounds the trailer
    /// section in bytes.
    pub fn decode(&mut self, buf: &mut BytesMut, max_trailers: usize) -> Result<Chunk, Error> {
        loop {
            match self.state {
                State::Size => {
                    let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
                        if buf.len() > MAX_CHUNK_LINE {
                            return Err(Error::Chunk("chunk size line too long"));
                        }
                        return Ok(Chunk::NeedMore);
                    };
                    if eol > MAX_CHUNK_LINE {
                        return Err(Error::Chunk("chunk size line too long"));
                    }
                    let size = chunk_size(&buf[..eol])?;
                    buf.advance(eol + 2);
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(remaining) => {
                    if buf.is_empty() {
                        return Ok(Chunk::NeedMore);
                    }
                    let n = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
                    let data = buf.split_to(n).freeze();
                    let left = remaining - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok(Chunk::Data(data));
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Chunk::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(Error::Chunk("no CRLF after chunk data"));
                    }
                    buf.advance(2);
                    self.state = State::Size;
                }
                State::Trailers => {
                    let mut fields = [httparse::EMPTY_HEADER; MAX_FIELDS];
                    let (n, map) = match httparse::parse_headers(buf, &mut fields) {
                        Ok(httparse::Status::Complete((n, _))) if n > max_trailers => {
                            return Err(Error::Chunk("trailer section too large"));
                        }
                        Ok(httparse::Status::Complete((n, fields))) => (n, fields_to_map(fields)?),
                        Ok(httparse::Status::Partial) if buf.len() > max_trailers => {
                            return Err(Error::Chunk("trailer section too large"));
                        }
                        Ok(httparse::Status::Partial) => return Ok(Chunk::NeedMore),
                        Err(httparse::Error::TooManyHeaders) => return Err(Error::TooManyFields),
                        Err(_) => return Err(Error::Chunk("malformed trailer section")),
                    };
                    buf.advance(n);
                    self.state = State::Done;
                    return Ok(Chunk::End((!map.is_empty()).then_some(map)));
                }
                State::Done => return Ok(Chunk::End(None)),
            }
        }
    }

    /// Whether the last chunk has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }
}

/// `chunk-size [ chunk-ext ]` of one line (without its CRLF).
fn chunk_size(line: &[u8]) -> Result<u64, Error> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(Error::Chunk("chunk size is not hexadecimal"));
    }
    // Leading zeros are allowed; more than 16 significant digits overflow u64.
    let significant = line[..digits].iter().skip_while(|&&b| b == b'0').count();
    if significant > 16 {
        return Err(Error::Chunk("chunk size too large"));
    }
    let size = line[..digits].iter().fold(0u64, |acc, &b| {
        let d = (b as char).to_digit(16).unwrap_or(0);
        (acc << 4) | u64::from(d)
    });
    // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): skipped, but only
    // visible characters, spaces and tabs may be in it.
    let rest = &line[digits..];
    let after_ws = rest
        .iter()
        .skip_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let ext = &rest[rest.len() - after_ws..];
    if !ext.is_empty()
        && (ext[0] != b';'
            || !ext
                .iter()
                .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b)))
    {
        return Err(Error::Chunk("malformed chunk extension"));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use proptest::prelude::*;

    fn head(text: &str, method: &Method) -> Result<Option<(ResponseHead, usize)>, Error> {
        parse_response_head(text.as_bytes(), method, 65_536)
    }

    fn parsed(text: &str) -> ResponseHead {
        head(text, &Method::GET).unwrap().unwrap().0
    }

    #[test]
    fn request_head_in_origin_form_with_framing() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("a.example"));
        let mut out = Vec::new();
        write_request_head(&mut out, &Method::GET, "/x?y=1", &h, Framing::Empty);
        assert_eq!(out, b"GET /x?y=1 HTTP/1.1\r\nhost: a.example\r\n\r\n");
        out.clear();
        write_request_head(&mut out, &Method::POST, "/", &h, Framing::Empty);
        assert_eq!(
            out,
            b"POST / HTTP/1.1\r\nhost: a.example\r\ncontent-length: 0\r\n\r\n"
        );
        out.clear();
        write_request_head(&mut out, &Method::POST, "/", &h, Framing::Chunked);
        assert!(out.ends_with(b"transfer-encoding: chunked\r\n\r\n"));
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        assert_eq!(request_framing(&h, false), Framing::Length(5));
        assert_eq!(request_framing(&h, true), Framing::Empty);
        h.remove(header::CONTENT_LENGTH);
        assert_eq!(request_framing(&h, false), Framing::Chunked);
    }

    #[test]
    fn chunk_encoding_round_trips_through_the_decoder() {
        let mut out = Vec::new();
        for part in [&b"hello "[..], &[b'x'; 300][..]] {
            write_chunk_size(&mut out, part.len());
            out.extend_from_slice(part);
            out.extend_from_slice(CHUNK_END);
        }
        let mut t = HeaderMap::new();
        t.insert("digest-ish", HeaderValue::from_static("1"));
        write_last_chunk(&mut out, Some(&t));
        assert!(out.starts_with(b"6\r\nhello \r\n12c\r\n"));
        let mut buf = BytesMut::from(&out[..]);
        let mut d = ChunkedDecoder::default();
        let mut data = Vec::new();
        let end = loop {
            match d.decode(&mut buf, 4096).unwrap() {
                Chunk::Data(b) => data.extend_from_slice(&b),
                Chunk::End(t) => break t,
                Chunk::NeedMore => panic!("complete input"),
            }
        };
        assert_eq!(data.len(), 306);
        assert_eq!(end.unwrap()["digest-ish"], "1");
        assert!(buf.is_empty() && d.is_done());
    }

    #[test]
    fn framing_follows_rfc9112_section_6_3() {
        let ok = "HTTP/1.1 200 OK\r\n";
        assert_eq!(
            parsed(&format!("{ok}content-length: 3\r\n\r\n")).framing,
            Framing::Length(3)
        );
        assert_eq!(
            parsed(&format!("{ok}transfer-encoding: chunked\r\n\r\n")).framing,
            Framing::Chunked
        );
        // Chunked not final: until close.
        let r = parsed(&format!("{ok}transfer-encoding: chunked, gzip\r\n\r\n"));
        assert_eq!(r.framing, Framing::UntilClose);
        assert!(!r.keep_alive);
        // Neither field: until close, not reusable.
        let r = parsed(&format!("{ok}\r\n"));
        assert_eq!(r.framing, Framing::UntilClose);
        assert!(!r.keep_alive);
        // Transfer-Encoding wins over Content-Length, which is dropped; not reusable.
        let r = parsed(&format!(
            "{ok}content-length: 10\r\ntransfer-encoding: chunked\r\n\r\n"
        ));
        assert_eq!(r.framing, Framing::Chunked);
        assert!(!r.headers.contains_key(header::CONTENT_LENGTH));
        assert!(!r.keep_alive);
        // No content whatever the fields say.
        for s in [
            "204 No Content",
            "304 Not Modified",
            "100 Continue",
            "101 Switching",
        ] {
            let r = parsed(&format!("HTTP/1.1 {s}\r\ncontent-length: 5\r\n\r\n"));
            assert_eq!(r.framing, Framing::Empty, "{s}");
        }
        let (r, _) = head(&format!("{ok}content-length: 5\r\n\r\n"), &Method::HEAD)
            .unwrap()
            .unwrap();
        assert_eq!(r.framing, Framing::Empty);
        assert!(r.keep_alive);
        // HTTP/1.0 with chunked: faulty framing, until close.
        let r = parsed("HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
        assert_eq!(r.framing, Framing::UntilClose);
    }

    #[test]
    fn keep_alive_needs_http11_and_no_close() {
        assert!(parsed("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").keep_alive);
        assert!(
            !parsed(
                "HTTP/1.1 200 OK\r\nconnection: keep-alive, Close\r\ncontent-length: 0\r\n\r\n"
            )
            .keep_alive
        );
        assert!(!parsed("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n").keep_alive);
    }

    #[test]
    fn content_length_must_be_one_integer() {
        let cl = |v: &str| parsed(&format!("HTTP/1.1 200 OK\r\ncontent-length: {v}\r\n\r\n"));
        assert_eq!(cl("7, 7").framing, Framing::Length(7));
        for bad in ["7, 8", "-1", "0x10", "", "1 2", "99999999999999999999"] {
            let r = head(
                &format!("HTTP/1.1 200 OK\r\ncontent-length: {bad}\r\n\r\n"),
                &Method::GET,
            );
            assert_eq!(r.unwrap_err(), Error::ContentLength, "{bad:?}");
        }
        let two = "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n";
        assert_eq!(head(two, &Method::GET).unwrap_err(), Error::ContentLength);
    }

    #[test]
    fn incomplete_oversized_and_malformed_heads() {
        assert!(
            head("HTTP/1.1 200 OK\r\nx: y\r\n", &Method::GET)
                .unwrap()
                .is_none()
        );
        let big = format!("HTTP/1.1 200 OK\r\nx: {}\r\n", "a".repeat(100));
        assert_eq!(
            parse_response_head(big.as_bytes(), &Method::GET, 64).unwrap_err(),
            Error::HeadTooLarge(64)
        );
        assert!(matches!(
            head("HTTP/2 200 OK\r\n\r\n", &Method::GET),
            Err(Error::Head(_))
        ));
        assert!(matches!(
            head("HTTP/1.1 200 OK\r\nbad name: v\r\n\r\n", &Method::GET),
            Err(Error::Head(_))
        ));
        let many: String = (0..=MAX_FIELDS).map(|i| format!("f{i}: v\r\n")).collect();
        assert_eq!(
            head(&format!("HTTP/1.1 200 OK\r\n{many}\r\n"), &Method::GET).unwrap_err(),
            Error::TooManyFields
        );
    }

    #[test]
    fn head_length_excludes_the_content() {
        let text = "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n";
        let (_, n) = head(text, &Method::GET).unwrap().unwrap();
        assert_eq!(&text[n..], "ok\n");
    }

    #[test]
    fn malformed_chunks_are_errors() {
        for bad in [
            &b"zz\r\n"[..],
            b"5\r\nhelloXX",
            b"5 x\r\n",
            b"11111111111111111\r\n",
            b"5;ext\x01\r\n",
        ] {
            let mut buf = BytesMut::from(bad);
            let mut d = ChunkedDecoder::default();
            let r = loop {
                match d.decode(&mut buf, 1024) {
                    Ok(Chunk::Data(_)) => continue,
                    other => break other,
                }
            };
            assert!(r.is_err(), "{bad:?}: {r:?}");
        }
        // Leading zeros and extensions are fine.
        let mut buf = BytesMut::from(&b"0005;name=value\r\nhello\r\n0\r\n\r\n"[..]);
        let mut d = ChunkedDecoder::default();
        assert_eq!(
            d.decode(&mut buf, 1024).unwrap(),
            Chunk::Data(Bytes::from_static(b"hello"))
        );
        assert_eq!(d.decode(&mut buf, 1024).unwrap(), Chunk::End(None));
        let mut long = BytesMut::from(&[b'1'; MAX_CHUNK_LINE + 1][..]);
        assert!(ChunkedDecoder::default().decode(&mut long, 1024).is_err());
    }

    proptest! {
        /// Whatever the split into reads, the decoder yields the same data and trailers.
        #[test]
        fn chunked_decoding_does_not_depend_on_how_bytes_arrive(
            parts in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..200), 0..6),
            cuts in proptest::collection::vec(1usize..40, 1..50),
        ) {
            let mut wire = Vec::new();
            for p in &parts {
                write_chunk_size(&mut wire, p.len());
                wire.extend_from_slice(p);
                wire.extend_from_slice(CHUNK_END);
            }
            write_last_chunk(&mut wire, None);
            wire.extend_from_slice(b"NEXT");
            let mut d = ChunkedDecoder::default();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            let mut fed = 0;
            let mut cut = cuts.iter().cycle();
            let mut ended = false;
            while !ended {
                match d.decode(&mut buf, 1024).unwrap() {
                    Chunk::Data(b) => got.extend_from_slice(&b),
                    Chunk::End(t) => { prop_assert!(t.is_none()); ended = true; }
                    Chunk::NeedMore => {
                        prop_assert!(fed < wire.len());
                        let n = (*cut.next().unwrap()).min(wire.len() - fed);
                        buf.extend_from_slice(&wire[fed..fed + n]);
                        fed += n;
                    }
                }
            }
            prop_assert_eq!(got, parts.concat());
            let mut rest = buf.to_vec();
            rest.extend_from_slice(&wire[fed..]);
            prop_assert_eq!(rest, b"NEXT".to_vec());
        }

        /// A response head cut anywhere is incomplete, never an error or a wrong head.
        #[test]
        fn truncated_heads_need_more(cut in 0usize..60) {
            let text = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nx-a: b\r\n\r\n";
            let cut = cut.min(text.len() - 1);
            prop_assert!(parse_response_head(&text[..cut], &Method::GET, 1024).unwrap().is_none());
        }
    }
}
