//! High-level operations on stored HTTP/1.1 messages, so that a command line
//! (`secdispatch sig sign|verify|base|digest`) is a thin layer: read files, call one function,
//! print the result.
//!
//! Keys are given as file contents and auto-detected (PEM, JWK, base64 HMAC secret). The
//! scheme of `@scheme` / `@target-uri` defaults to `https` for files (override in the
//! options). Responses can be bound to their request (`req` components) by passing the
//! request message.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderValue;

use crate::alg::Algorithm;
use crate::base::{SignatureBase, signature_base};
use crate::component::ComponentId;
use crate::digest::{CONTENT_DIGEST, DigestAlgorithm, Digests, verify_digest_field};
use crate::error::{Error, Result};
use crate::fields::{
    SIGNATURE, SIGNATURE_INPUT, signature_input_member, signature_member, signatures,
};
use crate::http1::RawMessage;
use crate::key::{SigningKey, VerifyingKey};
use crate::message::{DEFAULT_SCHEME, MessageView, RequestView, ResponseView};
use crate::params::{SignatureInput, SignatureParams};
use crate::resolver::SingleKey;
use crate::sign::{Signed, sign_input};
use crate::verify::{Verified, Verifier, VerifyPolicy};

/// Run `f` with a view of `msg` (and of `request`, for a response).
fn with_view<T>(
    msg: &RawMessage,
    request: Option<&RawMessage>,
    scheme: &str,
    f: impl FnOnce(&MessageView<'_>) -> Result<T>,
) -> Result<T> {
    let related = match request {
        Some(r) => Some((r.to_request()?, r.trailer_map()?)),
        None => None,
    };
    let trailers = msg.trailer_map()?;
    let has_trailers = !msg.trailers.is_empty();
    let has_content = !msg.body.is_empty();
    if msg.is_request() {
        if request.is_some() {
            return Err(Error::WrongMessageKind(
                "response when a related request is given",
            ));
        }
        let req = msg.to_request()?;
        let mut rv = RequestView::of(&req).scheme(scheme);
        if has_trailers {
            rv = rv.trailers(&trailers);
        }
        f(&MessageView::request(rv).has_content(has_content))
    } else {
        let res = msg.to_response()?;
        let mut rv = ResponseView::of(&res);
        if has_trailers {
            rv = rv.trailers(&trailers);
        }
        let mut view = MessageView::response(rv).has_content(has_content);
        if let Some((req, rt)) = &related {
            let mut q = RequestView::of(req).scheme(scheme);
            if !rt.is_empty() {
                q = q.trailers(rt);
            }
            view = view.related_request(q);
        }
        f(&view)
    }
}

/// Options of [`sign_message`].
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Signature label (default `sig1`).
    pub label: String,
    /// Components to cover, in order.
    pub components: Vec<ComponentId>,
    /// `created` (Unix seconds); `None` leaves it out.
    pub created: Option<u64>,
    /// `expires` (Unix seconds).
    pub expires: Option<u64>,
    /// `keyid`; `None` uses the key's own id (a JWK `kid`) if it has one.
    pub keyid: Option<String>,
    /// Algorithm for keys that need one (RSA); must agree with the key otherwise.
    pub alg: Option<Algorithm>,
    /// Also write the `alg` parameter.
    pub include_alg: bool,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// Add (or replace) `Content-Digest` with these algorithms before signing.
    pub digest: Vec<DigestAlgorithm>,
    /// Scheme for messages whose request-target has none (default `https`).
    pub scheme: String,
}

impl Default for SignOptions {
    fn default() -> Self {
        SignOptions {
            label: "sig1".into(),
            components: Vec::new(),
            created: None,
            expires: None,
            keyid: None,
            alg: None,
            include_alg: false,
            nonce: None,
            tag: None,
            digest: Vec::new(),
            scheme: DEFAULT_SCHEME.into(),
        }
    }
}

impl SignOptions {
    /// The covered components and parameters these options describe, without a key: for
    /// previewing a base (`sig base` with signing options). `keyid` comes from the options
    /// only; `alg` is written when `include_alg` is set and `alg` is given.
    pub fn signature_input(&self) -> Result<SignatureInput> {
        let mut p = SignatureParams::new();
        if let Some(c) = self.created {
            p = p.created(c)?;
        }
        if let Some(e) = self.expires {
            p = p.expires(e)?;
        }
        if let Some(n) = &self.nonce {
            p = p.nonce(n)?;
        }
        if let Some(k) = &self.keyid {
            p = p.keyid(k)?;
        }
        if let (true, Some(a)) = (self.include_alg, self.alg) {
            p = p.alg(a.name())?;
        }
        if let Some(t) = &self.tag {
            p = p.tag(t)?;
        }
        Ok(SignatureInput::new(self.components.clone(), p))
    }

    fn params(&self, key: &SigningKey) -> Result<SignatureParams> {
        let mut p = SignatureParams::new();
        if let Some(c) = self.created {
            p = p.created(c)?;
        }
        if let Some(e) = self.expires {
            p = p.expires(e)?;
        }
        if let Some(n) = &self.nonce {
            p = p.nonce(n)?;
        }
        if let Some(k) = self.keyid.as_deref().or(key.keyid()) {
            p = p.keyid(k)?;
        }
        if self.include_alg {
            p = p.alg(key.algorithm().name())?;
        }
        if let Some(t) = &self.tag {
            p = p.tag(t)?;
        }
        Ok(p)
    }
}

/// Sign `msg` in place with the key in `key_file` and append `Signature-Input` and
/// `Signature` (after adding `Content-Digest` when asked). `request` is the related request
/// when `msg` is a response that covers `req` components.
pub fn sign_message(
    msg: &mut RawMessage,
    key_file: &[u8],
    opts: &SignOptions,
    request: Option<&RawMessage>,
) -> Result<Signed> {
    let key = SigningKey::from_key_file(key_file, opts.alg)?;
    if !opts.digest.is_empty() {
        add_content_digest(msg, &opts.digest);
    }
    let existing = msg.headers()?;
    if existing.contains_key(SIGNATURE_INPUT) || existing.contains_key(SIGNATURE) {
        // Refuse a label that is already used (and surface malformed existing fields).
        if signatures(&existing)?.iter().any(|s| s.label == opts.label) {
            return Err(Error::DuplicateLabel {
                field: "Signature-Input",
                key: opts.label.clone(),
            });
        }
    }
    let input = SignatureInput::new(opts.components.clone(), opts.params(&key)?);
    let signed = with_view(msg, request, &opts.scheme, |v| {
        sign_input(v, &opts.label, input, &key)
    })?;
    let si = signature_input_member(&signed.label, &signed.input)?;
    let sig = signature_member(&signed.label, &signed.signature)?;
    let hv = |s: String| {
        HeaderValue::from_str(&s).map_err(|_| Error::UnserializableParameter(opts.label.clone()))
    };
    msg.append_field("Signature-Input", hv(si)?);
    msg.append_field("Signature", hv(sig)?);
    Ok(signed)
}

/// Options of [`verify_message`].
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Verify only the signature with this label.
    pub label: Option<String>,
    /// Only signatures with this tag.
    pub tag: Option<String>,
    /// Algorithm for keys that need one (RSA).
    pub alg: Option<Algorithm>,
    /// Verification time (so old examples verify as of their time).
    pub now: SystemTime,
    /// Maximum age from `created`; `None` for no limit.
    pub max_age: Option<Duration>,
    /// Components that must be covered.
    pub required: Vec<ComponentId>,
    /// Require `content-digest` to be covered when the message has content.
    pub require_content_digest: bool,
    /// Scheme for messages whose request-target has none (default `https`).
    pub scheme: String,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            label: None,
            tag: None,
            alg: None,
            now: SystemTime::now(),
            max_age: None,
            required: Vec::new(),
            require_content_digest: false,
            scheme: DEFAULT_SCHEME.into(),
        }
    }
}

/// What [`verify_message`] established.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The signature that verified.
    pub signature: Verified,
    /// The `Content-Digest` algorithm that matched the content, when the message has one.
    pub content_digest: Option<DigestAlgorithm>,
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.signature;
        write!(
            f,
            "signature {:?} verified: alg {}, keyid {}, covers",
            s.label,
            s.algorithm,
            s.keyid.as_deref().unwrap_or("(none)")
        )?;
        for c in s.components() {
            write!(f, " {c}")?;
        }
        if let Some(c) = s.input.params.get_created() {
            write!(f, ", created {c}")?;
        }
        if let Some(e) = s.input.params.get_expires() {
            write!(f, ", expires {e}")?;
        }
        if let Some(t) = s.tag() {
            write!(f, ", tag {t:?}")?;
        }
        if let Some(d) = self.content_digest {
            write!(f, "; Content-Digest {} matches the content", d.name())?;
        }
        Ok(())
    }
}

/// Verify a signature of `msg` with the key in `key_file`. The content is checked against
/// `Content-Digest` whenever the message has that field; a mismatch fails verification.
pub fn verify_message(
    msg: &RawMessage,
    key_file: &[u8],
    opts: &VerifyOptions,
    request: Option<&RawMessage>,
) -> Result<Verification> {
    let key: VerifyingKey = VerifyingKey::from_key_file(key_file, opts.alg)?;
    let policy = VerifyPolicy {
        label: opts.label.clone(),
        tag: opts.tag.clone(),
        required_components: opts.required.clone(),
        require_content_digest: opts.require_content_digest,
        require_created: false,
        max_age: opts.max_age,
        ..VerifyPolicy::permissive()
    };
    let verifier = Verifier::new(SingleKey(Arc::new(key)), policy);
    let mut verified = with_view(msg, request, &opts.scheme, |v| verifier.verify(v, opts.now))?;
    let signature = verified.remove(0);
    let headers = msg.headers()?;
    let content_digest = if headers.contains_key(CONTENT_DIGEST) {
        Some(verify_digest_field(&headers, CONTENT_DIGEST, &msg.body)?)
    } else {
        None
    };
    Ok(Verification {
        signature,
        content_digest,
    })
}

/// The signature base of `msg`: of the existing signature `label` (or the only one), when
/// `input` is `None`; otherwise of the given components and parameters (to preview what
/// [`sign_message`] would sign).
pub fn message_base(
    msg: &RawMessage,
    label: Option<&str>,
    input: Option<&SignatureInput>,
    scheme: &str,
    request: Option<&RawMessage>,
) -> Result<SignatureBase> {
    let owned;
    let input = match input {
        Some(i) => i,
        None => {
            let all = signatures(&msg.headers()?)?;
            let found = match label {
                Some(l) => all.into_iter().find(|s| s.label == l),
                None if all.len() == 1 => all.into_iter().next(),
                None => {
                    return Err(Error::NoMatchingSignature(
                        "several signatures: choose a label".into(),
                    ));
                }
            };
            owned = found
                .ok_or_else(|| Error::NoMatchingSignature(format!("label {label:?}")))?
                .input;
            &owned
        }
    };
    with_view(msg, request, scheme, |v| signature_base(v, input))
}

/// Set `Content-Digest` for the message's content (replacing any existing one).
pub fn add_content_digest(msg: &mut RawMessage, algs: &[DigestAlgorithm]) -> String {
    let d = Digests::of(algs, &msg.body);
    msg.set_field("Content-Digest", d.header_value());
    d.field_value()
}

/// Check the message's `Content-Digest` against its content.
pub fn check_content_digest(msg: &RawMessage) -> Result<DigestAlgorithm> {
    verify_digest_field(&msg.headers()?, CONTENT_DIGEST, &msg.body)
}
