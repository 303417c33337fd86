//! Raw HTTP/1.1 messages (RFC 9112) as stored in files: parse into `http` types and write
//! back with the original field order, name spelling, values and line endings.
//!
//! Accepted: a request line or status line, field lines (obs-fold continuation lines are
//! joined with one space, as RFC 9112 §5.2 allows a recipient to do), an empty line, then the
//! content: `Transfer-Encoding: chunked` is decoded (trailer fields included, for `tr`
//! components); otherwise `Content-Length` bytes are taken, and anything left over must be
//! line breaks only (files usually end with one). Without either, the rest of the file is
//! the content, and a rest made only of line breaks means no content. Lines may end in CRLF
//! (the wire format) or LF (files), and are written back the same way.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};

use crate::error::{Error, Result};

/// Most field lines accepted in one section.
pub const MAX_FIELDS: usize = 1000;

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `METHOD target HTTP/1.1`
    Request {
        /// Method.
        method: Method,
        /// Request-target as written.
        target: String,
        /// Protocol version text, e.g. `HTTP/1.1`.
        version: String,
    },
    /// `HTTP/1.1 200 OK`
    Response {
        /// Protocol version text.
        version: String,
        /// Status code.
        status: StatusCode,
        /// Reason phrase as written (may be empty).
        reason: String,
    },
}

/// Line ending style of a message file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\r\n`, as on the wire.
    CrLf,
    /// `\n`, as in many files.
    Lf,
}

impl LineEnding {
    fn as_str(self) -> &'static str {
        match self {
            LineEnding::CrLf => "\r\n",
            LineEnding::Lf => "\n",
        }
    }
}

/// A parsed HTTP/1.1 message that remembers how it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// Request line or status line.
    pub start: StartLine,
    /// Header fields in order, with the name as written.
    pub fields: Vec<(String, HeaderValue)>,
    /// Content (de-chunked).
    pub body: Bytes,
    /// Trailer fields in order (chunked messages only).
    pub trailers: Vec<(String, HeaderValue)>,
    /// Line endings used when writing the message back.
    pub line_ending: LineEnding,
    /// Whether the content was chunked (it is written back chunked).
    pub chunked: bool,
}

fn err(line: usize, reason: impl Into<String>) -> Error {
    Error::MalformedMessage {
        line,
        reason: reason.into(),
    }
}

/// Splits input into lines ending in LF (CR before it removed), tracking line numbers.
struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.input.len() {
            return None;
        }
        let rest = &self.input[self.pos..];
        let (line, used) = match rest.iter().position(|b| *b == b'\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += used;
        self.line += 1;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }

    fn rest(&self) -> &'a [u8] {
        self.input.get(self.pos..).unwrap_or(&[])
    }
}

fn parse_start(line: &[u8], n: usize) -> Result<StartLine> {
    let text = std::str::from_utf8(line).map_err(|_| err(n, "start line is not ASCII"))?;
    if text.starts_with("HTTP/") {
        let mut parts = text.splitn(3, ' ');
        let version = parts.next().unwrap_or_default().to_owned();
        let code = parts
            .next()
            .ok_or_else(|| err(n, "status line without a status code"))?;
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(n, format!("invalid status code {code:?}")));
        }
        let status = StatusCode::from_bytes(code.as_bytes())
            .map_err(|_| err(n, format!("invalid status code {code:?}")))?;
        let reason = parts.next().unwrap_or("").to_owned();
        Ok(StartLine::Response {
            version,
            status,
            reason,
        })
    } else {
        let mut parts = text.split(' ');
        let (Some(m), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err(n, "request line must be \"METHOD target HTTP/x.y\""));
        };
        if !version.starts_with("HTTP/") {
            return Err(err(n, format!("invalid protocol version {version:?}")));
        }
        let method = Method::from_bytes(m.as_bytes())
            .map_err(|_| err(n, format!("invalid method {m:?}")))?;
        if target.is_empty() {
            return Err(err(n, "empty request-target"));
        }
        Ok(StartLine::Request {
            method,
            target: target.to_owned(),
            version: version.to_owned(),
        })
    }
}

/// Read field lines up to and including the empty line.
fn parse_fields(lines: &mut Lines<'_>) -> Result<Vec<(String, HeaderValue)>> {
    let mut fields: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let n = lines.line + 1;
        let Some(line) = lines.next_line() else {
            return Err(err(
                n,
                "end of input before the empty line that ends the fields",
            ));
        };
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            // obs-fold: replace the fold with one SP.
            let Some((_, value)) = fields.last_mut() else {
                return Err(err(n, "continuation line before any field"));
            };
            value.push(b' ');
            value.extend_from_slice(crate::field::trim_ows(line));
            continue;
        }
        let colon = line
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(|| err(n, "field line without a colon"))?;
        let name = &line[..colon];
        if name.is_empty() || HeaderName::from_bytes(name).is_err() {
            return Err(err(n, "invalid field name"));
        }
        let name = std::str::from_utf8(name).map_err(|_| err(n, "invalid field name"))?;
        fields.push((
            name.to_owned(),
            crate::field::trim_ows(&line[colon + 1..]).to_vec(),
        ));
        if fields.len() > MAX_FIELDS {
            return Err(err(n, format!("more than {MAX_FIELDS} field lines")));
        }
    }
    fields
        .into_iter()
        .map(|(name, v)| {
            HeaderValue::from_bytes(&v)
                .map(|hv| (name.clone(), hv))
                .map_err(|_| err(lines.line, format!("field {name:?} has an invalid value")))
        })
        .collect()
}

fn find<'a>(fields: &'a [(String, HeaderValue)], name: &str) -> Vec<&'a HeaderValue> {
    fields
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .collect()
}

/// Field lines in order: name as written, value.
type FieldLines = Vec<(String, HeaderValue)>;

fn decode_chunked(lines: &mut Lines<'_>) -> Result<(Vec<u8>, FieldLines)> {
    let mut body = Vec::new();
    loop {
        let n = lines.line + 1;
        let size_line = lines
            .next_line()
            .ok_or_else(|| err(n, "end of input inside chunked content"))?;
        let size_text = size_line
            .split(|b| *b == b';')
            .next()
            .map(crate::field::trim_ows)
            .unwrap_or_default();
        let size_text = std::str::from_utf8(size_text).map_err(|_| err(n, "invalid chunk size"))?;
        if size_text.is_empty() || size_text.len() > 15 {
            return Err(err(n, "invalid chunk size"));
        }
        let size =
            usize::from_str_radix(size_text, 16).map_err(|_| err(n, "invalid chunk size"))?;
        if size == 0 {
            let trailers = parse_fields(lines)?;
            return Ok((body, trailers));
        }
        let rest = lines.rest();
        if rest.len() < size {
            return Err(err(n, "chunk longer than the remaining input"));
        }
        body.extend_from_slice(&rest[..size]);
        lines.pos += size;
        match lines.next_line() {
            Some([]) => {}
            _ => return Err(err(lines.line, "chunk data not followed by a line break")),
        }
    }
}

impl RawMessage {
    /// Parse a message file.
    pub fn parse(input: &[u8]) -> Result<RawMessage> {
        let mut lines = Lines {
            input,
            pos: 0,
            line: 0,
        };
        let first = lines.next_line().ok_or_else(|| err(1, "empty input"))?;
        let line_ending = if input.get(first.len()) == Some(&b'\r') {
            LineEnding::CrLf
        } else {
            LineEnding::Lf
        };
        let start = parse_start(first, 1)?;
        let fields = parse_fields(&mut lines)?;
        let chunked = find(&fields, "transfer-encoding").iter().any(|v| {
            v.to_str()
                .map(|s| {
                    s.rsplit(',')
                        .next()
                        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
                })
                .unwrap_or(false)
        });
        let body_line = lines.line + 1;
        let (body, trailers) = if chunked {
            let (b, t) = decode_chunked(&mut lines)?;
            (b, t)
        } else {
            let lengths = find(&fields, "content-length");
            let rest = lines.rest();
            match lengths.as_slice() {
                [] => {
                    if rest.iter().all(|b| *b == b'\r' || *b == b'\n') {
                        (Vec::new(), Vec::new())
                    } else {
                        (rest.to_vec(), Vec::new())
                    }
                }
                [len] => {
                    let len: usize = len
                        .to_str()
                        .ok()
                        .and_then(|s| s.trim().parse().ok())
                        .ok_or_else(|| err(body_line, "invalid Content-Length"))?;
                    if rest.len() < len {
                        return Err(err(
                            body_line,
                            format!(
                                "Content-Length is {len} but only {} bytes follow",
                                rest.len()
                            ),
                        ));
                    }
                    if !rest[len..].iter().all(|b| *b == b'\r' || *b == b'\n') {
                        return Err(err(body_line, "bytes after the content"));
                    }
                    (rest[..len].to_vec(), Vec::new())
                }
                _ => return Err(err(body_line, "several Content-Length fields")),
            }
        };
        Ok(RawMessage {
            start,
            fields,
            body: Bytes::from(body),
            trailers,
            line_ending,
            chunked,
        })
    }

    /// Write the message back: same start line, fields in order, same line endings.
    pub fn serialize(&self) -> Vec<u8> {
        let eol = self.line_ending.as_str();
        let mut out = Vec::with_capacity(256 + self.body.len());
        match &self.start {
            StartLine::Request {
                method,
                target,
                version,
            } => {
                out.extend_from_slice(format!("{method} {target} {version}").as_bytes());
            }
            StartLine::Response {
                version,
                status,
                reason,
            } => {
                out.extend_from_slice(format!("{version} {}", status.as_str()).as_bytes());
                if !reason.is_empty() {
                    out.push(b' ');
                    out.extend_from_slice(reason.as_bytes());
                }
            }
        }
        out.extend_from_slice(eol.as_bytes());
        let write_fields = |out: &mut Vec<u8>, fields: &[(String, HeaderValue)]| {
            for (n, v) in fields {
                out.extend_from_slice(n.as_bytes());
                out.extend_from_slice(b": ");
                out.extend_from_slice(v.as_bytes());
                out.extend_from_slice(eol.as_bytes());
            }
        };
        write_fields(&mut out, &self.fields);
        out.extend_from_slice(eol.as_bytes());
        if self.chunked {
            if !self.body.is_empty() {
                out.extend_from_slice(format!("{:x}", self.body.len()).as_bytes());
                out.extend_from_slice(eol.as_bytes());
                out.extend_from_slice(&self.body);
                out.extend_from_slice(eol.as_bytes());
            }
            out.push(b'0');
            out.extend_from_slice(eol.as_bytes());
            write_fields(&mut out, &self.trailers);
            out.extend_from_slice(eol.as_bytes());
        } else {
            out.extend_from_slice(&self.body);
            // Files usually end with a line break after the content; it is outside the
            // content only when Content-Length delimits it.
            let delimited = self
                .fields
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-length"));
            if delimited && !self.body.is_empty() && self.line_ending == LineEnding::Lf {
                out.push(b'\n');
            }
        }
        out
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The header fields as a `HeaderMap` (order within a name kept).
    pub fn headers(&self) -> Result<HeaderMap> {
        to_map(&self.fields)
    }

    /// The trailer fields as a `HeaderMap`.
    pub fn trailer_map(&self) -> Result<HeaderMap> {
        to_map(&self.trailers)
    }

    /// Convert to an `http::Request` (the body is the de-chunked content).
    pub fn to_request(&self) -> Result<http::Request<Bytes>> {
        let StartLine::Request { method, target, .. } = &self.start else {
            return Err(Error::WrongMessageKind("request"));
        };
        let uri: Uri = target
            .parse()
            .map_err(|_| err(1, format!("invalid request-target {target:?}")))?;
        let mut req = http::Request::new(self.body.clone());
        *req.method_mut() = method.clone();
        *req.uri_mut() = uri;
        *req.headers_mut() = self.headers()?;
        Ok(req)
    }

    /// Convert to an `http::Response`.
    pub fn to_response(&self) -> Result<http::Response<Bytes>> {
        let StartLine::Response { status, .. } = &self.start else {
            return Err(Error::WrongMessageKind("response"));
        };
        let mut res = http::Response::new(self.body.clone());
        *res.status_mut() = *status;
        *res.headers_mut() = self.headers()?;
        Ok(res)
    }

    /// Append a header field line.
    pub fn append_field(&mut self, name: &str, value: HeaderValue) {
        self.fields.push((name.to_owned(), value));
    }

    /// Replace every line of a field with one line (at the first line's place, or appended).
    pub fn set_field(&mut self, name: &str, value: HeaderValue) {
        match self
            .fields
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(i) => {
                self.fields[i].1 = value;
                let mut j = 0;
                self.fields.retain(|(n, _)| {
                    j += 1;
                    j - 1 == i || !n.eq_ignore_ascii_case(name)
                });
            }
            None => self.append_field(name, value),
        }
    }
}

fn to_map(fields: &[(String, HeaderValue)]) -> Result<HeaderMap> {
    let mut map = HeaderMap::with_capacity(fields.len());
    for (n, v) in fields {
        let name =
            HeaderName::from_bytes(n.as_bytes()).map_err(|_| err(0, "invalid field name"))?;
        map.append(name, v.clone());
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_lf_and_crlf() {
        let lf = b"POST /foo?a=b HTTP/1.1\nHost: example.com\nX-A: 1\nx-a: 2\nContent-Length: 3\n\nabc\n";
        let m = RawMessage::parse(lf).unwrap();
        assert_eq!(m.line_ending, LineEnding::Lf);
        assert_eq!(&m.body[..], b"abc");
        assert_eq!(m.serialize(), lf.to_vec());
        let crlf = b"HTTP/1.1 503 Service Unavailable\r\nA: b\r\n\r\n";
        let m = RawMessage::parse(crlf).unwrap();
        assert_eq!(m.serialize(), crlf.to_vec());
        let h = RawMessage::parse(lf).unwrap().headers().unwrap();
        let xs: Vec<_> = h.get_all("x-a").iter().collect();
        assert_eq!(xs, ["1", "2"]);
    }

    #[test]
    fn obs_fold_and_chunked_trailers() {
        let m = RawMessage::parse(
            b"HTTP/1.1 200 OK\r\nX: a\r\n  b\r\nTransfer-Encoding: chunked\r\nTrailer: Expires\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nExpires: Wed, 9 Nov 2022 07:28:00 GMT\r\n\r\n",
        )
        .unwrap();
        assert_eq!(m.fields[0].1, "a b");
        assert_eq!(&m.body[..], b"abcde");
        assert_eq!(m.trailers[0].0, "Expires");
        let again = RawMessage::parse(&m.serialize()).unwrap();
        assert_eq!(again.body, m.body);
        assert_eq!(again.trailers, m.trailers);
    }

    #[test]
    fn body_without_length_round_trips() {
        for text in [
            &b"POST / HTTP/1.1\nA: b\n\nabc"[..],
            b"POST / HTTP/1.1\nA: b\n\nabc\n",
            b"HTTP/1.1 200 OK\n\n",
        ] {
            let m = RawMessage::parse(text).unwrap();
            assert_eq!(m.serialize(), text.to_vec());
            assert_eq!(RawMessage::parse(&m.serialize()).unwrap(), m);
        }
    }

    #[test]
    fn set_field_replaces_all_lines() {
        let mut m = RawMessage::parse(b"GET / HTTP/1.1\nA: 1\nB: 2\na: 3\n\n").unwrap();
        m.set_field("a", HeaderValue::from_static("x"));
        assert_eq!(m.fields.len(), 2);
        assert_eq!(m.fields[0], ("A".to_owned(), HeaderValue::from_static("x")));
    }

    #[test]
    fn malformed_messages() {
        for bad in [
            &b""[..],
            b"GET /\n\n",
            b"GET / HTTP/1.1\nno colon\n\n",
            b"GET / HTTP/1.1\n bad: fold\n\n",
            b"GET / HTTP/1.1\nA: 1\n",
            b"GET / HTTP/1.1\nContent-Length: 10\n\nabc",
            b"GET / HTTP/1.1\nContent-Length: x\n\nabc",
            b"GET / HTTP/1.1\nContent-Length: 1\nContent-Length: 1\n\na",
            b"GET / HTTP/1.1\nContent-Length: 1\n\nabc",
            b"HTTP/1.1 2000 OK\n\n",
            b"GET / HTTP/1.1\nTransfer-Encoding: chunked\n\nzz\nabc\n0\n\n",
            b"GET / HTTP/1.1\nTransfer-Encoding: chunked\n\n5\nab\n",
            b"GE T / HTTP/1.1\n\n",
            b"GET / HTTP/1.1\nA\x01: b\n\n",
        ] {
            assert!(
                matches!(RawMessage::parse(bad), Err(Error::MalformedMessage { .. })),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
