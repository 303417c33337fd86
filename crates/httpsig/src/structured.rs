//! Structured Field Values (RFC 8941) plumbing shared by every field this crate reads.
//!
//! All parsing goes through the `sfv` crate and all output is re-serialized from parsed
//! values: header text is never sliced. Fields defined by RFC 9421 and RFC 9530 are parsed in
//! RFC 8941 mode, so the RFC 9651 Date (`@1`) and Display String (`%"x"`) types are refused.
//! Dictionaries are parsed strictly: a key that appears twice (for example the same
//! signature label on two field lines) is an error instead of RFC 8941's silent overwrite,
//! because RFC 9421 §4 requires labels to be unique across all field lines.

use std::convert::Infallible;

use http::HeaderMap;
use http::header::AsHeaderName;
use sfv::visitor::{DictionaryVisitor, EntryVisitor};
use sfv::{Dictionary, KeyRef, Parser, Version};

use crate::error::{Error, Result};

/// The combined value of every field line of `name`, joined with `", "` as RFC 9110 §5.3
/// allows for list-based fields. `None` when the field is absent.
pub(crate) fn combined_value<K: AsHeaderName + Copy>(
    headers: &HeaderMap,
    name: K,
    field: &'static str,
) -> Result<Option<String>> {
    let mut out: Option<String> = None;
    for value in headers.get_all(name) {
        let text = value.to_str().map_err(|_| Error::FieldNotAscii(field))?;
        match out.as_mut() {
            None => out = Some(text.to_owned()),
            Some(s) => {
                s.push_str(", ");
                s.push_str(text);
            }
        }
    }
    Ok(out)
}

/// Records the first repeated key seen by [`StrictDictionary`].
#[derive(Debug)]
struct RepeatedKey;

impl std::fmt::Display for RepeatedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("repeated dictionary key")
    }
}

impl std::error::Error for RepeatedKey {}

/// A dictionary visitor that refuses repeated keys and otherwise builds `sfv::Dictionary`.
struct StrictDictionary<'a> {
    dict: Dictionary,
    repeated: &'a mut Option<String>,
}

impl<'de> DictionaryVisitor<'de> for StrictDictionary<'_> {
    type Out = Dictionary;
    type Error = RepeatedKey;

    fn entry(&mut self, key: &'de KeyRef) -> Result<impl EntryVisitor<'de>, Self::Error> {
        if self.dict.contains_key(key) {
            *self.repeated = Some(key.as_str().to_owned());
            return Err(RepeatedKey);
        }
        let entry: Result<_, Infallible> = DictionaryVisitor::entry(&mut self.dict, key);
        match entry {
            Ok(e) => Ok(e),
            Err(never) => match never {},
        }
    }

    fn finish(self) -> Result<Self::Out, Self::Error> {
        Ok(self.dict)
    }
}

/// Parse `input` as an RFC 8941 Dictionary, refusing repeated keys.
pub(crate) fn parse_dictionary(field: &'static str, input: &str) -> Result<Dictionary> {
    let mut repeated = None;
    let visitor = StrictDictionary {
        dict: Dictionary::new(),
        repeated: &mut repeated,
    };
    let parsed = Parser::new(input)
        .with_version(Version::Rfc8941)
        .parse_dictionary_with_visitor(visitor);
    match parsed {
        Ok(d) => Ok(d),
        Err(e) => match repeated {
            Some(key) => Err(Error::DuplicateLabel { field, key }),
            None => Err(Error::MalformedField {
                field,
                reason: e.to_string(),
            }),
        },
    }
}

/// Parse the dictionary field `name` from `headers` (all field lines combined).
/// `Ok(None)` when the field is absent.
pub(crate) fn dictionary_field(
    headers: &HeaderMap,
    name: &'static str,
) -> Result<Option<Dictionary>> {
    let mut lines = headers.get_all(name).iter();
    match (lines.next(), lines.next()) {
        (None, _) => Ok(None),
        // One field line (the common case): parse it in place, without a copy.
        (Some(v), None) => {
            let text = v.to_str().map_err(|_| Error::FieldNotAscii(name))?;
            parse_dictionary(name, text).map(Some)
        }
        _ => match combined_value(headers, name, name)? {
            None => Ok(None),
            Some(v) => parse_dictionary(name, &v).map(Some),
        },
    }
}

/// Append `s` to `out` as an sf-string (RFC 8941 §4.1.6). The caller guarantees `s` holds only
/// printable ASCII (checked when the value entered the crate).
pub(crate) fn push_sf_string(out: &mut String, s: &str) {
    out.push('"');
    if s.bytes().any(|b| b == b'"' || b == b'\\') {
        for c in s.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    } else {
        out.push_str(s);
    }
    out.push('"');
}

/// Whether `s` can be an sf-string: printable ASCII only (%x20-7E).
pub(crate) fn is_sf_string(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// Whether `s` is a valid sf-key (lowercase alpha or `*`, then lcalpha, digits, `_-.*`).
pub(crate) fn is_sf_key(s: &str) -> bool {
    KeyRef::from_str(s).is_ok()
}

/// Serialize one bare item the way RFC 8941 §4.1.3 does.
pub(crate) fn serialize_bare_item(item: &sfv::BareItem) -> String {
    sfv::ItemSerializer::new().bare_item(item).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_key_is_an_error() {
        let e = parse_dictionary("Signature", "a=:AA==:, a=:AQ==:").unwrap_err();
        assert_eq!(
            e,
            Error::DuplicateLabel {
                field: "Signature",
                key: "a".into()
            }
        );
    }

    #[test]
    fn rfc9651_types_are_refused() {
        assert!(matches!(
            parse_dictionary("Signature-Input", "a=();created=@1618884473"),
            Err(Error::MalformedField { .. })
        ));
        assert!(matches!(
            parse_dictionary("Signature-Input", "a=();keyid=%\"x\""),
            Err(Error::MalformedField { .. })
        ));
    }

    #[test]
    fn combined_field_lines() {
        let mut h = HeaderMap::new();
        h.append("x", "a=1".parse().unwrap());
        h.append("x", "b=2".parse().unwrap());
        assert_eq!(
            combined_value(&h, "x", "x").unwrap().as_deref(),
            Some("a=1, b=2")
        );
        assert_eq!(combined_value(&h, "y", "y").unwrap(), None);
    }

    #[test]
    fn sf_string_escaping() {
        let mut s = String::new();
        push_sf_string(&mut s, r#"a"b\c"#);
        assert_eq!(s, r#""a\"b\\c""#);
    }
}
