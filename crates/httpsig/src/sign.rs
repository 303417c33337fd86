//! Creating signatures (RFC 9421 §3.1).
//!
//! A [`Signer`] holds a key, a label and what to cover; [`Signer::sign`] builds the
//! signature base for a message, signs it and returns the `Signature-Input` /
//! `Signature` members; [`Signer::sign_request`] and [`Signer::sign_response`] add them to
//! `http` messages. Several signers with different labels can sign the same message; a
//! response signer can cover request components with the `req` parameter.
//!
//! Time and randomness are inputs: `created` comes from the `now` argument, nonces from
//! the caller (or [`random_nonce`]).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use crate::base::{SignatureBase, signature_base};
use crate::component::ComponentId;
use crate::error::{Error, Result};
use crate::fields::append_signature;
use crate::key::SigningKey;
use crate::message::{MessageView, RequestView, ResponseView};
use crate::params::{SignatureInput, SignatureParams};

/// Unix seconds of `t` (0 before the epoch).
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A fresh 128-bit nonce, base64url without padding.
pub fn random_nonce() -> Result<String> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| Error::SigningFailed)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// A signature that was just made.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    /// The label.
    pub label: String,
    /// Covered components and parameters.
    pub input: SignatureInput,
    /// The exact signature base that was signed.
    pub base: SignatureBase,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// How a signer fills in the signature parameters.
#[derive(Debug, Clone)]
pub struct SignerConfig {
    /// Dictionary label, e.g. `sig1`.
    pub label: String,
    /// Components to cover, in order.
    pub components: Vec<ComponentId>,
    /// Add `created` (RECOMMENDED; default on).
    pub created: bool,
    /// Add `expires = created + this many seconds`.
    pub expires_in: Option<u64>,
    /// Add `keyid` from the key (default on when the key has one).
    pub keyid: bool,
    /// Add `alg` (default off: the verifier should know the key's algorithm).
    pub alg: bool,
    /// Add a fresh random `nonce` on every signature.
    pub random_nonce: bool,
    /// Add this `tag`.
    pub tag: Option<String>,
}

impl SignerConfig {
    /// Cover `components` under `label`, with `created` and `keyid`.
    pub fn new(label: impl Into<String>, components: Vec<ComponentId>) -> Self {
        SignerConfig {
            label: label.into(),
            components,
            created: true,
            expires_in: None,
            keyid: true,
            alg: false,
            random_nonce: false,
            tag: None,
        }
    }
}

/// Signs messages with one key under one label.
#[derive(Debug, Clone)]
pub struct Signer {
    key: Arc<SigningKey>,
    config: SignerConfig,
}

impl Signer {
    /// A signer for `key` with `config`.
    pub fn new(key: Arc<SigningKey>, config: SignerConfig) -> Self {
        Signer { key, config }
    }

    /// The configuration.
    pub fn config(&self) -> &SignerConfig {
        &self.config
    }

    /// The key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The signature parameters for a signature made at `now`.
    pub fn params(&self, now: SystemTime) -> Result<SignatureParams> {
        let c = &self.config;
        let t = unix_seconds(now);
        let mut p = SignatureParams::new();
        if c.created {
            p = p.created(t)?;
        }
        if let Some(e) = c.expires_in {
            p = p.expires(t.saturating_add(e))?;
        }
        if c.random_nonce {
            p = p.nonce(&random_nonce()?)?;
        }
        if c.keyid
            && let Some(k) = self.key.keyid()
        {
            p = p.keyid(k)?;
        }
        if c.alg {
            p = p.alg(self.key.algorithm().name())?;
        }
        if let Some(t) = &c.tag {
            p = p.tag(t)?;
        }
        Ok(p)
    }

    /// Sign `msg` at time `now` without modifying it.
    pub fn sign(&self, msg: &MessageView<'_>, now: SystemTime) -> Result<Signed> {
        let input = SignatureInput::new(self.config.components.clone(), self.params(now)?);
        sign_input(msg, &self.config.label, input, &self.key)
    }

    /// Sign a request and add the signature fields to it.
    pub fn sign_request<B>(&self, req: &mut http::Request<B>, now: SystemTime) -> Result<Signed> {
        let signed = self.sign(&MessageView::request(RequestView::of(req)), now)?;
        append_signature(
            req.headers_mut(),
            &signed.label,
            &signed.input,
            &signed.signature,
        )?;
        Ok(signed)
    }

    /// Sign a response (optionally bound to its request through `req` components) and add the
    /// signature fields to it.
    pub fn sign_response<B, RB>(
        &self,
        res: &mut http::Response<B>,
        request: Option<&http::Request<RB>>,
        now: SystemTime,
    ) -> Result<Signed> {
        let mut view = MessageView::response(ResponseView::of(res));
        if let Some(r) = request {
            view = view.related_request(RequestView::of(r));
        }
        let signed = self.sign(&view, now)?;
        append_signature(
            res.headers_mut(),
            &signed.label,
            &signed.input,
            &signed.signature,
        )?;
        Ok(signed)
    }
}

/// Sign `msg` with exactly the given covered components and parameters. If `alg` is
/// present it must name the key's algorithm.
pub fn sign_input(
    msg: &MessageView<'_>,
    label: &str,
    input: SignatureInput,
    key: &SigningKey,
) -> Result<Signed> {
    if let Some(a) = input.params.get_alg()
        && a != key.algorithm().name()
    {
        return Err(Error::AlgorithmMismatch {
            key: key.algorithm(),
            requested: a.to_owned(),
        });
    }
    let base = signature_base(msg, &input)?;
    let signature = key.sign(base.as_bytes())?;
    Ok(Signed {
        label: label.to_owned(),
        input,
        base,
        signature,
    })
}

/// Sign an outgoing request in place: the plain-function form of the client signer
/// (hyper, reqwest after `try_into`, or any `http::Request`).
pub fn sign_request<B>(
    req: &mut http::Request<B>,
    signer: &Signer,
    now: SystemTime,
) -> Result<Signed> {
    signer.sign_request(req, now)
}
