//! Signature parameters (RFC 9421 §2.3) and one `Signature-Input` member: the ordered
//! covered components plus `created`, `expires`, `nonce`, `alg`, `keyid`, `tag`.
//!
//! The order of parameters is chosen by the signer and is part of the signed bytes, so it is
//! preserved exactly. Parameters outside the registry are kept (they are signed too) and can
//! be refused by the verification policy.

use std::borrow::Cow;

use sfv::{BareItem, InnerList, Key};

use crate::component::ComponentId;
use crate::error::{Error, Result};
use crate::structured::{is_sf_key, is_sf_string, push_sf_string, serialize_bare_item};

/// Most components one signature may cover. Real signatures cover a handful; the cap keeps
/// the duplicate check and the base bounded for hostile `Signature-Input` values.
pub const MAX_COMPONENTS: usize = 128;

/// Largest sf-integer (RFC 8941 §3.3.1).
const MAX_SF_INTEGER: u64 = 999_999_999_999_999;

/// The name of a parameter: registered names are static (no allocation per signature).
fn param_name(name: &str) -> Cow<'static, str> {
    const REGISTERED: [&str; 6] = ["created", "expires", "nonce", "alg", "keyid", "tag"];
    match REGISTERED.iter().find(|r| **r == name) {
        Some(r) => Cow::Borrowed(r),
        None => Cow::Owned(name.to_owned()),
    }
}

/// One signature parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// `created` / `expires`: Unix seconds.
    Integer(u64),
    /// `nonce`, `alg`, `keyid`, `tag`: an sf-string.
    String(String),
    /// A parameter outside the registry, kept as parsed.
    Other(BareItem),
}

/// The signature parameters, in signer order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignatureParams {
    entries: Vec<(Cow<'static, str>, ParamValue)>,
}

impl SignatureParams {
    /// No parameters.
    pub fn new() -> Self {
        Self::default()
    }

    fn set(&mut self, name: &str, value: ParamValue) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| *k == name) {
            e.1 = value;
        } else {
            self.entries.push((param_name(name), value));
        }
    }

    fn set_string(&mut self, name: &'static str, value: &str) -> Result<()> {
        if !is_sf_string(value) {
            return Err(Error::InvalidSignatureParameter {
                name: name.into(),
                expected: "a string of printable ASCII",
            });
        }
        self.set(name, ParamValue::String(value.to_owned()));
        Ok(())
    }

    fn set_time(&mut self, name: &'static str, value: u64) -> Result<()> {
        if value > MAX_SF_INTEGER {
            return Err(Error::InvalidSignatureParameter {
                name: name.into(),
                expected: "a non-negative integer of at most 15 digits",
            });
        }
        self.set(name, ParamValue::Integer(value));
        Ok(())
    }

    /// Set `created` (Unix seconds).
    pub fn created(mut self, t: u64) -> Result<Self> {
        self.set_time("created", t)?;
        Ok(self)
    }
    /// Set `expires` (Unix seconds).
    pub fn expires(mut self, t: u64) -> Result<Self> {
        self.set_time("expires", t)?;
        Ok(self)
    }
    /// Set `nonce`.
    pub fn nonce(mut self, v: &str) -> Result<Self> {
        self.set_string("nonce", v)?;
        Ok(self)
    }
    /// Set `alg` (an HTTP Signature Algorithms registry name).
    pub fn alg(mut self, v: &str) -> Result<Self> {
        self.set_string("alg", v)?;
        Ok(self)
    }
    /// Set `keyid`.
    pub fn keyid(mut self, v: &str) -> Result<Self> {
        self.set_string("keyid", v)?;
        Ok(self)
    }
    /// Set `tag`.
    pub fn tag(mut self, v: &str) -> Result<Self> {
        self.set_string("tag", v)?;
        Ok(self)
    }
    /// Set a parameter outside the registry.
    pub fn other(mut self, name: &str, value: BareItem) -> Result<Self> {
        if !is_sf_key(name) {
            return Err(Error::InvalidSignatureParameter {
                name: name.into(),
                expected: "a valid structured-field key",
            });
        }
        self.set(name, ParamValue::Other(value));
        Ok(self)
    }

    fn integer(&self, name: &str) -> Option<u64> {
        self.entries.iter().find_map(|(k, v)| match v {
            ParamValue::Integer(i) if *k == name => Some(*i),
            _ => None,
        })
    }

    fn string(&self, name: &str) -> Option<&str> {
        self.entries.iter().find_map(|(k, v)| match v {
            ParamValue::String(s) if *k == name => Some(s.as_str()),
            _ => None,
        })
    }

    /// `created`, if present.
    pub fn get_created(&self) -> Option<u64> {
        self.integer("created")
    }
    /// `expires`, if present.
    pub fn get_expires(&self) -> Option<u64> {
        self.integer("expires")
    }
    /// `nonce`, if present.
    pub fn get_nonce(&self) -> Option<&str> {
        self.string("nonce")
    }
    /// `alg`, if present.
    pub fn get_alg(&self) -> Option<&str> {
        self.string("alg")
    }
    /// `keyid`, if present.
    pub fn get_keyid(&self) -> Option<&str> {
        self.string("keyid")
    }
    /// `tag`, if present.
    pub fn get_tag(&self) -> Option<&str> {
        self.string("tag")
    }

    /// All parameters in order.
    pub fn entries(&self) -> &[(Cow<'static, str>, ParamValue)] {
        &self.entries
    }

    /// Names of parameters outside the RFC 9421 registry.
    pub fn unknown_names(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|(_, v)| matches!(v, ParamValue::Other(_)))
            .map(|(k, _)| k.as_ref())
    }

    /// Build from the parameters of a parsed inner list, checking registered types.
    pub(crate) fn from_sfv(params: &sfv::Parameters) -> Result<Self> {
        Self::from_pairs(
            params
                .iter()
                .map(|(k, v)| (k.as_str(), sfv::RefBareItem::from(v))),
        )
    }

    /// Build from parameters as borrowed from the parser, checking registered types.
    pub(crate) fn from_pairs<'a>(
        params: impl Iterator<Item = (&'a str, sfv::RefBareItem<'a>)>,
    ) -> Result<Self> {
        use sfv::RefBareItem as R;
        let mut out = SignatureParams::new();
        for (name, v) in params {
            let value = match (name, v) {
                ("created" | "expires", R::Integer(i)) => {
                    ParamValue::Integer(u64::try_from(i64::from(i)).map_err(|_| {
                        Error::InvalidSignatureParameter {
                            name: name.into(),
                            expected: "a non-negative integer",
                        }
                    })?)
                }
                ("created" | "expires", _) => {
                    return Err(Error::InvalidSignatureParameter {
                        name: name.into(),
                        expected: "an integer",
                    });
                }
                ("nonce" | "alg" | "keyid" | "tag", R::String(s)) => {
                    ParamValue::String(s.as_str().to_owned())
                }
                ("nonce" | "alg" | "keyid" | "tag", _) => {
                    return Err(Error::InvalidSignatureParameter {
                        name: name.into(),
                        expected: "a string",
                    });
                }
                (_, other) => ParamValue::Other(BareItem::from(other)),
            };
            out.entries.push((param_name(name), value));
        }
        Ok(out)
    }

    /// Append `;name=value` for each parameter (RFC 8941 serialization).
    pub(crate) fn serialize_into(&self, out: &mut String) {
        for (k, v) in &self.entries {
            out.push(';');
            out.push_str(k);
            match v {
                ParamValue::Integer(i) => {
                    out.push('=');
                    out.push_str(itoa_u64(*i).as_str());
                }
                ParamValue::String(s) => {
                    out.push('=');
                    push_sf_string(out, s);
                }
                ParamValue::Other(BareItem::Boolean(true)) => {}
                ParamValue::Other(b) => {
                    out.push('=');
                    out.push_str(&serialize_bare_item(b));
                }
            }
        }
    }

    /// The parameters as `sfv` values (for callers serializing with `sfv` themselves).
    pub fn to_sfv(&self) -> Result<sfv::Parameters> {
        let mut p = sfv::Parameters::new();
        for (k, v) in &self.entries {
            let key = Key::from_string(k.to_string())
                .map_err(|_| Error::UnserializableParameter(k.to_string()))?;
            let item = match v {
                ParamValue::Integer(i) => BareItem::Integer(
                    sfv::Integer::try_from(*i)
                        .map_err(|_| Error::UnserializableParameter(k.to_string()))?,
                ),
                ParamValue::String(s) => BareItem::String(
                    sfv::String::from_string(s.clone())
                        .map_err(|_| Error::UnserializableParameter(k.to_string()))?,
                ),
                ParamValue::Other(b) => b.clone(),
            };
            p.insert(key, item);
        }
        Ok(p)
    }
}

fn itoa_u64(i: u64) -> String {
    i.to_string()
}

/// One signature's metadata: the covered components in order and the signature parameters.
/// This is one member of `Signature-Input` and the value of `@signature-params`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureInput {
    /// Covered components, in signing order.
    pub components: Vec<ComponentId>,
    /// Signature parameters, in signing order.
    pub params: SignatureParams,
}

impl SignatureInput {
    /// Covered components and parameters.
    pub fn new(components: Vec<ComponentId>, params: SignatureParams) -> Self {
        SignatureInput { components, params }
    }

    /// Build from a parsed `Signature-Input` inner list.
    pub fn from_inner_list(il: &InnerList) -> Result<Self> {
        if il.items.len() > MAX_COMPONENTS {
            return Err(Error::TooManyComponents {
                count: il.items.len(),
                limit: MAX_COMPONENTS,
            });
        }
        let components = il
            .items
            .iter()
            .map(ComponentId::from_item)
            .collect::<Result<Vec<_>>>()?;
        Ok(SignatureInput {
            components,
            params: SignatureParams::from_sfv(&il.params)?,
        })
    }

    /// The inner-list serialization: `("@method" ...);created=...;keyid="..."`. This is the
    /// value of the `@signature-params` line and of the `Signature-Input` member.
    pub fn serialize(&self) -> String {
        let mut s = String::with_capacity(32 + 24 * self.components.len());
        self.serialize_into(&mut s);
        s
    }

    pub(crate) fn serialize_into(&self, s: &mut String) {
        s.push('(');
        for (i, c) in self.components.iter().enumerate() {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(c.as_str());
        }
        s.push(')');
        self.params.serialize_into(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_in_order() {
        let p = SignatureParams::new()
            .keyid("test-key-rsa-pss")
            .unwrap()
            .alg("rsa-pss-sha512")
            .unwrap()
            .created(1618884475)
            .unwrap()
            .expires(1618884775)
            .unwrap();
        let input = SignatureInput::new(
            ComponentId::parse_list(r#""@target-uri" "@authority" "date" "cache-control""#)
                .unwrap(),
            p,
        );
        assert_eq!(
            input.serialize(),
            r#"("@target-uri" "@authority" "date" "cache-control");keyid="test-key-rsa-pss";alg="rsa-pss-sha512";created=1618884475;expires=1618884775"#
        );
    }

    #[test]
    fn component_count_is_capped() {
        let many: Vec<String> = (0..=MAX_COMPONENTS).map(|i| format!("\"h{i}\"")).collect();
        let v = format!("s=({})", many.join(" "));
        assert_eq!(
            crate::fields::parse_signature_input(&v).unwrap_err(),
            Error::TooManyComponents {
                count: MAX_COMPONENTS + 1,
                limit: MAX_COMPONENTS
            }
        );
        let ok: Vec<String> = (0..MAX_COMPONENTS).map(|i| format!("\"h{i}\"")).collect();
        assert!(crate::fields::parse_signature_input(&format!("s=({})", ok.join(" "))).is_ok());
    }

    #[test]
    fn rejects_bad_values() {
        assert!(SignatureParams::new().nonce("caf\u{e9}").is_err());
        assert!(SignatureParams::new().created(MAX_SF_INTEGER + 1).is_err());
        assert!(
            SignatureParams::new()
                .other("Bad", BareItem::Boolean(true))
                .is_err()
        );
    }
}
