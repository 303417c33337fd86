//! The signature base (RFC 9421 §2.5): the exact bytes that are signed.
//!
//! ```text
//! "<identifier>": <value>\n          one line per covered component, in order
//! "@signature-params": <inner list>  last line, no trailing newline
//! ```
//!
//! Building the base fails, and nothing is signed or verified, when an identifier is
//! repeated, a parameter is unknown or inapplicable, `req` appears in a request, a derived
//! component does not exist for the message kind, a field / dictionary key / query
//! parameter is missing, `sf` names a field of unknown type, or a value is not ASCII.
//! Each case is its own [`Error`] variant.

use crate::component::ComponentName;
use crate::derived::{request_value, response_value};
use crate::error::{Error, Result};
use crate::field::field_value;
use crate::message::{Kind, MessageView};
use crate::params::SignatureInput;

/// A signature base: the bytes to sign, all ASCII.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureBase {
    text: String,
    params_start: usize,
}

impl SignatureBase {
    /// The base as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The base as bytes (what the algorithm signs).
    pub fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// The serialized `@signature-params` value (the `Signature-Input` member value).
    pub fn signature_params(&self) -> &str {
        &self.text[self.params_start..]
    }

    /// The base as an owned string.
    pub fn into_string(self) -> String {
        self.text
    }
}

/// Build the signature base for `input` over `msg`.
pub fn signature_base(msg: &MessageView<'_>, input: &SignatureInput) -> Result<SignatureBase> {
    let covered = &input.components;
    if covered.len() > crate::params::MAX_COMPONENTS {
        return Err(Error::TooManyComponents {
            count: covered.len(),
            limit: crate::params::MAX_COMPONENTS,
        });
    }
    let mut out = String::with_capacity(64 + covered.len() * 48);
    for (i, id) in covered.iter().enumerate() {
        if covered[..i].iter().any(|c| c == id) {
            return Err(Error::DuplicateComponent(id.to_string()));
        }
        out.push_str(id.as_str());
        out.push_str(": ");
        let start = out.len();
        if id.is_req() {
            let Kind::Response(_) = msg.kind else {
                return Err(Error::ReqInRequest(id.to_string()));
            };
            let req = msg
                .related
                .ok_or_else(|| Error::MissingRelatedRequest(id.to_string()))?;
            match id.name() {
                ComponentName::Field(name) => field_value(
                    &mut out,
                    id,
                    name,
                    req.headers,
                    req.trailers,
                    msg.structured,
                )?,
                ComponentName::Derived(d) => request_value(id, *d, &req, &mut out)?,
            }
        } else {
            match (id.name(), msg.kind) {
                (ComponentName::Field(name), _) => field_value(
                    &mut out,
                    id,
                    name,
                    msg.headers(),
                    msg.trailers(),
                    msg.structured,
                )?,
                (ComponentName::Derived(d), Kind::Request(r)) => {
                    request_value(id, *d, &r, &mut out)?
                }
                (ComponentName::Derived(d), Kind::Response(r)) => {
                    response_value(id, *d, &r, &mut out)?
                }
            }
        }
        // Component values never contain LF or non-ASCII (§2.5 step 2.5).
        if out[start..]
            .bytes()
            .any(|b| !((0x20..=0x7e).contains(&b) || b == b'\t'))
        {
            return Err(Error::NonAsciiValue(id.to_string()));
        }
        out.push('\n');
    }
    out.push_str("\"@signature-params\": ");
    let params_start = out.len();
    input.serialize_into(&mut out);
    Ok(SignatureBase {
        text: out,
        params_start,
    })
}
