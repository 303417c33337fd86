//! `@query-param` (RFC 9421 §2.2.8): one named query parameter, re-encoded.
//!
//! The query is parsed with the WHATWG URL "application/x-www-form-urlencoded parser"
//! (split on `&`, split at the first `=`, `+` becomes a space, percent-decode, UTF-8 decode
//! with replacement), then the name and the value are put through "percent-encode after
//! encoding" with the application/x-www-form-urlencoded percent-encode set. As in the RFC's
//! own examples, a space is encoded as `%20`, never `+`, so `with+plus+whitespace` becomes
//! `with%20plus%20whitespace`. The result is always ASCII, so a decoded newline cannot
//! reach the signature base.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// Percent-decode `input`, turning `+` into a space first (WHATWG URL §5.1 steps 3.4–3.5).
fn form_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encode with the application/x-www-form-urlencoded percent-encode set: every byte
/// except ASCII alphanumerics and `*-._` becomes `%XX` (uppercase hex); space is `%20`.
pub(crate) fn form_encode(input: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in input.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// Append the encoded value of the query parameter whose encoded name is `name`.
///
/// Errors: the parameter is absent ([`Error::MissingQueryParam`]) or occurs more than once
/// ([`Error::RepeatedQueryParam`]: §2.2.8 says such a parameter MUST NOT be signed).
pub(crate) fn query_param_value(query: Option<&str>, name: &str, out: &mut String) -> Result<()> {
    let mut found: Option<String> = None;
    let mut enc_name = String::new();
    for pair in query.unwrap_or("").split('&') {
        if pair.is_empty() {
            continue;
        }
        let (raw_name, raw_value) = match pair.find('=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, ""),
        };
        // Fast path: a name made only of unreserved characters encodes to itself.
        let decoded_name: Cow<'_, str> = if raw_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'))
        {
            Cow::Borrowed(raw_name)
        } else {
            Cow::Owned(form_decode(raw_name))
        };
        enc_name.clear();
        form_encode(&decoded_name, &mut enc_name);
        if enc_name != name {
            continue;
        }
        if found.is_some() {
            return Err(Error::RepeatedQueryParam(name.to_owned()));
        }
        let mut v = String::new();
        form_encode(&form_decode(raw_value), &mut v);
        found = Some(v);
    }
    match found {
        Some(v) => {
            out.push_str(&v);
            Ok(())
        }
        None => Err(Error::MissingQueryParam(name.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(q: &str, name: &str) -> Result<String> {
        let mut s = String::new();
        query_param_value(Some(q), name, &mut s).map(|()| s)
    }

    #[test]
    fn rfc_examples() {
        let q = "param=value&foo=bar&baz=batman&qux=";
        assert_eq!(get(q, "baz").unwrap(), "batman");
        assert_eq!(get(q, "qux").unwrap(), "");
        assert_eq!(get(q, "param").unwrap(), "value");
        let q = "var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something";
        assert_eq!(
            get(q, "var").unwrap(),
            "this%20is%20a%20big%0Amultiline%20value"
        );
        assert_eq!(get(q, "bar").unwrap(), "with%20plus%20whitespace");
        assert_eq!(get(q, "fa%C3%A7ade%22%3A%20").unwrap(), "something");
    }

    #[test]
    fn missing_and_repeated() {
        assert_eq!(
            get("a=1&b=2", "c").unwrap_err(),
            Error::MissingQueryParam("c".into())
        );
        assert_eq!(
            get("a=1&a=2", "a").unwrap_err(),
            Error::RepeatedQueryParam("a".into())
        );
        assert_eq!(get("a", "a").unwrap(), "");
        assert!(query_param_value(None, "a", &mut String::new()).is_err());
    }

    #[test]
    fn malformed_percent_and_invalid_utf8() {
        assert_eq!(get("a=%zz%4", "a").unwrap(), "%25zz%254");
        assert_eq!(get("a=%FF", "a").unwrap(), "%EF%BF%BD");
        assert_eq!(get("a=~!'()", "a").unwrap(), "%7E%21%27%28%29");
    }
}
