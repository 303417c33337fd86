//! HTTP field component values (RFC 9421 §2.1) with the `sf`, `key`, `bs` and `tr`
//! parameters.
//!
//! Plain value: every field line of the name, in order, each stripped of leading and
//! trailing whitespace, joined with `", "`. Internal whitespace is kept. An empty field gives
//! an empty value; an absent field is an error. `sf` and `key` re-serialize the parsed
//! structured value strictly; `bs` wraps each field line as a byte sequence.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName};
use sfv::{Dictionary, FieldType, Item, List, ListEntry, Parser, Version};

use crate::component::{ComponentId, ComponentParam};
use crate::error::{Error, Result};
use crate::message::{SfType, StructuredTypes};

/// Strip leading and trailing SP / HTAB.
pub(crate) fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v.iter().position(|b| *b != b' ' && *b != b'\t');
    match start {
        None => &[],
        Some(s) => {
            let end = v
                .iter()
                .rposition(|b| *b != b' ' && *b != b'\t')
                .unwrap_or(s);
            &v[s..=end]
        }
    }
}

/// Whether a byte may appear in a signature base value: printable ASCII or HTAB.
fn base_byte(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) || b == b'\t'
}

/// `v` as text, if every byte may appear in a signature base.
fn ascii_value<'a>(v: &'a [u8], id: &ComponentId) -> Result<&'a str> {
    match std::str::from_utf8(v) {
        Ok(s) if s.bytes().all(base_byte) => Ok(s),
        _ => Err(Error::NonAsciiValue(id.to_string())),
    }
}

/// Append the value of field component `id` named `name`.
pub(crate) fn field_value(
    out: &mut String,
    id: &ComponentId,
    name: &HeaderName,
    headers: &HeaderMap,
    trailers: Option<&HeaderMap>,
    types: &StructuredTypes,
) -> Result<()> {
    let tr = id.has(&ComponentParam::Tr);
    let map = if tr {
        trailers.ok_or_else(|| Error::MissingTrailer(id.to_string()))?
    } else {
        headers
    };
    let mut lines = map.get_all(name).iter().peekable();
    if lines.peek().is_none() {
        return Err(if tr {
            Error::MissingTrailer(id.to_string())
        } else {
            Error::MissingField(id.to_string())
        });
    }

    if id.has(&ComponentParam::Bs) {
        for (i, v) in lines.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push(':');
            STANDARD.encode_string(trim_ows(v.as_bytes()), out);
            out.push(':');
        }
        return Ok(());
    }

    let structured = id.key_param().is_some() || id.has(&ComponentParam::Sf);
    if !structured {
        for (i, v) in lines.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(ascii_value(trim_ows(v.as_bytes()), id)?);
        }
        return Ok(());
    }

    // Structured: combine, parse, re-serialize.
    let mut combined = String::new();
    for (i, v) in lines.enumerate() {
        if i > 0 {
            combined.push_str(", ");
        }
        combined.push_str(ascii_value(trim_ows(v.as_bytes()), id)?);
    }
    let parse_err = |e: sfv::Error| Error::StructuredFieldParse {
        component: id.to_string(),
        reason: e.to_string(),
    };
    // Fields other than RFC 9421's own may be RFC 9651 fields (Dates, Display Strings);
    // their serialization is ASCII either way.
    let parser = Parser::new(&combined).with_version(Version::Rfc9651);
    if let Some(key) = id.key_param() {
        let dict: Dictionary = parser.parse_dictionary().map_err(parse_err)?;
        let member = dict.get(key).ok_or_else(|| Error::MissingDictionaryKey {
            component: id.to_string(),
            key: key.to_owned(),
        })?;
        out.push_str(&serialize_member(member));
        return Ok(());
    }
    let ty = types
        .get(name)
        .ok_or_else(|| Error::UnknownStructuredType(id.to_string()))?;
    let s = match ty {
        SfType::Item => {
            let item: Item = parser.parse_item().map_err(parse_err)?;
            item.serialize()
        }
        SfType::List => {
            let list: List = parser.parse_list().map_err(parse_err)?;
            list.serialize().unwrap_or_default()
        }
        SfType::Dictionary => {
            let dict: Dictionary = parser.parse_dictionary().map_err(parse_err)?;
            dict.serialize().unwrap_or_default()
        }
    };
    out.push_str(&s);
    Ok(())
}

/// Serialize one dictionary member value (item or inner list) with its parameters.
fn serialize_member(member: &ListEntry) -> String {
    let mut ser = sfv::ListSerializer::new();
    ser.members(std::iter::once(member));
    ser.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_whitespace() {
        assert_eq!(trim_ows(b"  a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b"x"), b"x");
    }
}
