//! The `Signature-Input`, `Signature` (RFC 9421 §4) and `Accept-Signature` (§5) fields.
//!
//! All three are RFC 8941 Dictionaries parsed by `sfv` (RFC 8941 mode, repeated labels
//! refused) and written back from parsed values. `Signature-Input` and `Signature` are paired
//! by label; a label in one field only is an error. Labels are not signed: select signatures
//! by their signed `tag` where possible.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderValue};
use sfv::{BareItem, ListEntry};

use crate::component::ComponentId;
use crate::error::{Error, Result};
use crate::params::{SignatureInput, SignatureParams};
use crate::structured::{dictionary_field, is_sf_key, is_sf_string, parse_dictionary};

/// `Signature-Input` field name.
pub const SIGNATURE_INPUT: &str = "signature-input";
/// `Signature` field name.
pub const SIGNATURE: &str = "signature";
/// `Accept-Signature` field name.
pub const ACCEPT_SIGNATURE: &str = "accept-signature";

/// One signature found in a message: label, metadata and signature bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureEntry {
    /// The dictionary label (unsigned).
    pub label: String,
    /// Covered components and parameters.
    pub input: SignatureInput,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// Parse a `Signature-Input` field value into `(label, input)` pairs, in field order.
pub fn parse_signature_input(value: &str) -> Result<Vec<(String, SignatureInput)>> {
    crate::signature_input::parse(value)
}

/// Parse a `Signature` field value into `(label, bytes)` pairs, in field order.
pub fn parse_signature(value: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let dict = parse_dictionary("Signature", value)?;
    signatures_from_dict(dict)
}

fn signatures_from_dict(dict: sfv::Dictionary) -> Result<Vec<(String, Vec<u8>)>> {
    dict.into_iter()
        .map(|(label, entry)| match entry {
            ListEntry::Item(sfv::Item {
                bare_item: BareItem::ByteSequence(b),
                ..
            }) => Ok((label.as_str().to_owned(), b)),
            _ => Err(Error::SignatureNotByteSequence(label.as_str().to_owned())),
        })
        .collect()
}

/// Every signature in `headers`, paired by label, in `Signature-Input` order.
/// Fails when either field is malformed, or a label is in one field only.
pub fn signatures(headers: &HeaderMap) -> Result<Vec<SignatureEntry>> {
    let inputs = {
        let mut lines = headers.get_all(SIGNATURE_INPUT).iter();
        match (lines.next(), lines.next()) {
            (None, _) => return Err(Error::NoSignatureInput),
            (Some(v), None) => parse_signature_input(
                v.to_str()
                    .map_err(|_| Error::FieldNotAscii("Signature-Input"))?,
            )?,
            _ => match crate::structured::combined_value(
                headers,
                SIGNATURE_INPUT,
                "Signature-Input",
            )? {
                Some(v) => parse_signature_input(&v)?,
                None => return Err(Error::NoSignatureInput),
            },
        }
    };
    let sigs = match dictionary_field(headers, SIGNATURE)? {
        Some(d) => signatures_from_dict(d)?,
        None => return Err(Error::NoSignature),
    };
    // Pair by label: a scan for the usual one or two signatures, a map beyond that so the
    // cost stays linear however many labels a hostile message carries.
    let mut out = Vec::with_capacity(inputs.len());
    if sigs.len() <= 8 {
        let mut sigs: Vec<Option<(String, Vec<u8>)>> = sigs.into_iter().map(Some).collect();
        for (label, input) in inputs {
            let signature = sigs
                .iter_mut()
                .find(|s| s.as_ref().is_some_and(|(l, _)| *l == label))
                .and_then(Option::take)
                .ok_or_else(|| Error::MissingSignatureValue(label.clone()))?
                .1;
            out.push(SignatureEntry {
                label,
                input,
                signature,
            });
        }
        if let Some((label, _)) = sigs.into_iter().flatten().next() {
            return Err(Error::MissingSignatureInput(label));
        }
        return Ok(out);
    }
    let mut by_label: std::collections::HashMap<String, Vec<u8>> = sigs.into_iter().collect();
    for (label, input) in inputs {
        let signature = by_label
            .remove(&label)
            .ok_or_else(|| Error::MissingSignatureValue(label.clone()))?;
        out.push(SignatureEntry {
            label,
            input,
            signature,
        });
    }
    if let Some(label) = by_label.into_keys().min() {
        return Err(Error::MissingSignatureInput(label));
    }
    Ok(out)
}

fn check_label(label: &str) -> Result<()> {
    if is_sf_key(label) {
        Ok(())
    } else {
        Err(Error::InvalidSignatureParameter {
            name: format!("label {label:?}"),
            expected: "a structured-field key (lowercase letters, digits, _-.*)",
        })
    }
}

/// The `Signature-Input` member `label=(...);params`.
pub fn signature_input_member(label: &str, input: &SignatureInput) -> Result<String> {
    check_label(label)?;
    let mut s = String::with_capacity(label.len() + 128);
    s.push_str(label);
    s.push('=');
    input.serialize_into(&mut s);
    Ok(s)
}

/// The `Signature` member `label=:base64:`.
pub fn signature_member(label: &str, signature: &[u8]) -> Result<String> {
    check_label(label)?;
    let mut s = String::with_capacity(label.len() + 4 + signature.len() * 4 / 3 + 4);
    s.push_str(label);
    s.push_str("=:");
    STANDARD.encode_string(signature, &mut s);
    s.push(':');
    Ok(s)
}

/// Add one signature to `headers` as new `Signature-Input` and `Signature` field lines.
/// Existing signatures are kept; a label already in use is refused (§4.3).
pub fn append_signature(
    headers: &mut HeaderMap,
    label: &str,
    input: &SignatureInput,
    signature: &[u8],
) -> Result<()> {
    let taken = |name| -> Result<bool> {
        Ok(dictionary_field(headers, name)?
            .map(|d| d.contains_key(label))
            .unwrap_or(false))
    };
    if taken(SIGNATURE_INPUT)? || taken(SIGNATURE)? {
        return Err(Error::DuplicateLabel {
            field: "Signature-Input",
            key: label.to_owned(),
        });
    }
    let si = signature_input_member(label, input)?;
    let sig = signature_member(label, signature)?;
    let value = |s: String| {
        HeaderValue::from_str(&s).map_err(|_| Error::UnserializableParameter(label.to_owned()))
    };
    headers.append(SIGNATURE_INPUT, value(si)?);
    headers.append(SIGNATURE, value(sig)?);
    Ok(())
}

/// One requested signature in `Accept-Signature` (§5.1): the label, the exact components,
/// and the parameters the responder must include. `created` / `expires` are requests
/// ("include one"), the others carry required values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureRequest {
    /// Label the signer must use.
    pub label: String,
    /// Components to cover, in order.
    pub components: Vec<ComponentId>,
    /// Include `created`.
    pub created: bool,
    /// Include `expires`.
    pub expires: bool,
    /// Use this nonce.
    pub nonce: Option<String>,
    /// Use this algorithm.
    pub alg: Option<String>,
    /// Use this key.
    pub keyid: Option<String>,
    /// Use this tag.
    pub tag: Option<String>,
}

impl SignatureRequest {
    /// The `Accept-Signature` member for this request.
    pub fn serialize(&self) -> Result<String> {
        check_label(&self.label)?;
        let mut s = self.label.clone();
        s.push('=');
        s.push('(');
        for (i, c) in self.components.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(c.as_str());
        }
        s.push(')');
        for (name, v) in [
            ("keyid", &self.keyid),
            ("alg", &self.alg),
            ("nonce", &self.nonce),
            ("tag", &self.tag),
        ] {
            if let Some(v) = v {
                if !is_sf_string(v) {
                    return Err(Error::InvalidSignatureParameter {
                        name: name.into(),
                        expected: "a string of printable ASCII",
                    });
                }
                s.push(';');
                s.push_str(name);
                s.push('=');
                crate::structured::push_sf_string(&mut s, v);
            }
        }
        if self.created {
            s.push_str(";created");
        }
        if self.expires {
            s.push_str(";expires");
        }
        Ok(s)
    }

    /// Check that the request can be honoured by a signature over a message of the given
    /// kind: `@status` only exists in responses, so it cannot be requested for a request
    /// (RFC 9421 §5.1); `req` components only exist in responses too.
    pub fn check_for(&self, message_is_request: bool) -> Result<()> {
        if !message_is_request {
            return Ok(());
        }
        for c in &self.components {
            if c.name()
                == &crate::component::ComponentName::Derived(crate::component::Derived::Status)
            {
                return Err(Error::DerivedNotApplicable {
                    component: c.to_string(),
                    message: "request",
                });
            }
            if c.is_req() {
                return Err(Error::ReqInRequest(c.to_string()));
            }
        }
        Ok(())
    }

    /// Signature parameters that satisfy this request at time `now` (the responder may add
    /// more). `expires_in` is used when `expires` was requested.
    pub fn params(&self, now: u64, expires_in: u64) -> Result<SignatureParams> {
        let mut p = SignatureParams::new();
        if self.created {
            p = p.created(now)?;
        }
        if self.expires {
            p = p.expires(now.saturating_add(expires_in))?;
        }
        if let Some(v) = &self.keyid {
            p = p.keyid(v)?;
        }
        if let Some(v) = &self.alg {
            p = p.alg(v)?;
        }
        if let Some(v) = &self.nonce {
            p = p.nonce(v)?;
        }
        if let Some(v) = &self.tag {
            p = p.tag(v)?;
        }
        Ok(p)
    }
}

/// Parse an `Accept-Signature` field value.
pub fn parse_accept_signature(value: &str) -> Result<Vec<SignatureRequest>> {
    let dict = parse_dictionary("Accept-Signature", value)?;
    let mut out = Vec::with_capacity(dict.len());
    for (label, entry) in &dict {
        let ListEntry::InnerList(il) = entry else {
            return Err(Error::SignatureInputNotInnerList(label.as_str().to_owned()));
        };
        let mut req = SignatureRequest {
            label: label.as_str().to_owned(),
            components: il
                .items
                .iter()
                .map(ComponentId::from_item)
                .collect::<Result<_>>()?,
            ..SignatureRequest::default()
        };
        for (k, v) in &il.params {
            let name = k.as_str();
            match (name, v) {
                ("created", BareItem::Boolean(b)) => req.created = *b,
                ("expires", BareItem::Boolean(b)) => req.expires = *b,
                ("nonce" | "alg" | "keyid" | "tag", BareItem::String(s)) => {
                    let s = Some(s.as_str().to_owned());
                    match name {
                        "nonce" => req.nonce = s,
                        "alg" => req.alg = s,
                        "keyid" => req.keyid = s,
                        _ => req.tag = s,
                    }
                }
                ("created" | "expires", _) => {
                    return Err(Error::InvalidSignatureParameter {
                        name: name.into(),
                        expected: "a boolean in Accept-Signature",
                    });
                }
                ("nonce" | "alg" | "keyid" | "tag", _) => {
                    return Err(Error::InvalidSignatureParameter {
                        name: name.into(),
                        expected: "a string",
                    });
                }
                // Unknown requested parameters are ignored, as a receiver MAY ignore the
                // whole request (§5.2).
                _ => {}
            }
        }
        out.push(req);
    }
    Ok(out)
}

/// Serialize several requests as one `Accept-Signature` value.
pub fn accept_signature_value(requests: &[SignatureRequest]) -> Result<String> {
    let members = requests
        .iter()
        .map(SignatureRequest::serialize)
        .collect::<Result<Vec<_>>>()?;
    Ok(members.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_signature_rfc_example() {
        let v = r#"sig1=("@method" "@target-uri" "@authority" "content-digest" "cache-control");keyid="test-key-rsa-pss";created;tag="app-123""#;
        let reqs = parse_accept_signature(v).unwrap();
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.label, "sig1");
        assert!(r.created && !r.expires);
        assert_eq!(r.keyid.as_deref(), Some("test-key-rsa-pss"));
        assert_eq!(r.tag.as_deref(), Some("app-123"));
        assert_eq!(r.components.len(), 5);
        let again = parse_accept_signature(&accept_signature_value(&reqs).unwrap()).unwrap();
        assert_eq!(again, reqs);
        let p = r.params(1618884475, 300).unwrap();
        assert_eq!(p.get_created(), Some(1618884475));
        assert_eq!(p.get_tag(), Some("app-123"));
    }

    #[test]
    fn status_cannot_be_requested_for_a_request() {
        let r = parse_accept_signature(r#"a=("@status" "content-type")"#).unwrap();
        assert!(matches!(
            r[0].check_for(true),
            Err(Error::DerivedNotApplicable { .. })
        ));
        r[0].check_for(false).unwrap();
        let r = parse_accept_signature(r#"a=("@method";req)"#).unwrap();
        assert!(matches!(r[0].check_for(true), Err(Error::ReqInRequest(_))));
    }

    #[test]
    fn accept_signature_rejects_wrong_types() {
        assert!(parse_accept_signature(r#"a=("@method");created=1"#).is_err());
        assert!(parse_accept_signature(r#"a=("@method");keyid=1"#).is_err());
        assert!(parse_accept_signature(r#"a="x""#).is_err());
    }

    #[test]
    fn pairing_errors() {
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_INPUT, HeaderValue::from_static("a=();created=1"));
        assert_eq!(signatures(&h).unwrap_err(), Error::NoSignature);
        h.insert(SIGNATURE, HeaderValue::from_static("b=:AA==:"));
        assert_eq!(
            signatures(&h).unwrap_err(),
            Error::MissingSignatureValue("a".into())
        );
        h.insert(SIGNATURE, HeaderValue::from_static("a=:AA==:, b=:AA==:"));
        assert_eq!(
            signatures(&h).unwrap_err(),
            Error::MissingSignatureInput("b".into())
        );
        h.insert(SIGNATURE, HeaderValue::from_static("a=\"AA==\""));
        assert_eq!(
            signatures(&h).unwrap_err(),
            Error::SignatureNotByteSequence("a".into())
        );
        h.insert(SIGNATURE, HeaderValue::from_static("a=:AA==:"));
        h.insert(SIGNATURE_INPUT, HeaderValue::from_static("a=\"x\""));
        assert_eq!(
            signatures(&h).unwrap_err(),
            Error::SignatureInputNotInnerList("a".into())
        );
        h.remove(SIGNATURE_INPUT);
        assert_eq!(signatures(&h).unwrap_err(), Error::NoSignatureInput);
    }

    #[test]
    fn pairing_many_labels() {
        let n = 20;
        let si: Vec<String> = (0..n).map(|i| format!("s{i}=()")).collect();
        let mut sig: Vec<String> = (0..n).map(|i| format!("s{i}=:AA==:")).collect();
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_INPUT, si.join(", ").parse().unwrap());
        h.insert(SIGNATURE, sig.join(", ").parse().unwrap());
        assert_eq!(signatures(&h).unwrap().len(), n);
        sig.push("extra=:AA==:".into());
        h.insert(SIGNATURE, sig.join(", ").parse().unwrap());
        assert_eq!(
            signatures(&h).unwrap_err(),
            Error::MissingSignatureInput("extra".into())
        );
        sig.truncate(n - 1);
        h.insert(SIGNATURE, sig.join(", ").parse().unwrap());
        assert!(matches!(
            signatures(&h).unwrap_err(),
            Error::MissingSignatureValue(_)
        ));
    }

    #[test]
    fn labels_unique_across_field_lines() {
        let mut h = HeaderMap::new();
        h.append(SIGNATURE_INPUT, HeaderValue::from_static("a=();created=1"));
        h.append(SIGNATURE_INPUT, HeaderValue::from_static("a=();created=2"));
        h.append(SIGNATURE, HeaderValue::from_static("a=:AA==:"));
        assert!(matches!(
            signatures(&h).unwrap_err(),
            Error::DuplicateLabel { .. }
        ));
    }

    #[test]
    fn url_safe_base64_is_refused() {
        assert!(parse_signature("a=:-_8=:").is_err());
    }

    #[test]
    fn append_refuses_used_label() {
        let mut h = HeaderMap::new();
        let input = SignatureInput::new(vec![], SignatureParams::new().created(1).unwrap());
        append_signature(&mut h, "a", &input, &[1, 2]).unwrap();
        assert!(append_signature(&mut h, "a", &input, &[1, 2]).is_err());
        append_signature(&mut h, "b", &input, &[3]).unwrap();
        let s = signatures(&h).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[1].signature, vec![3]);
        assert!(append_signature(&mut h, "Bad", &input, &[1]).is_err());
    }
}
