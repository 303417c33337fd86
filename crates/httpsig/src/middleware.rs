//! tower integration (feature `tower`): a [`VerifyLayer`] for servers and a [`SignLayer`]
//! for clients.
//!
//! **Verification** (`VerifyLayer`): the request body is read into memory up to a cap
//! ([`VerifyConfig::body_limit`], default 1 MiB; larger → 413) *before* the handler runs, so
//! the `Content-Digest` is checked against the real content and a handler never sees bytes
//! that were not verified. This costs a buffer per request; services with large uploads
//! should verify headers here and stream the content through [`crate::digest::DigestBody`]
//! instead. Outcomes:
//! * malformed `Signature-Input` / `Signature` / `Content-Digest`, unreadable body → **400**;
//! * no signature, a signature that fails policy or crypto, a digest mismatch → **401** with
//!   an `Accept-Signature` challenge describing what the policy wants (with a fresh nonce
//!   when the policy requires one);
//! * body over the cap → **413**; nonce store down → **503**.
//!
//! On success the handler finds a [`VerifiedRequest`] in the request extensions (label, key
//! id, algorithm, covered components, tag).
//!
//! **Signing** (`SignLayer`): signs each outgoing request with a [`Signer`]. With
//! [`SignConfig::digest`] set, the body is buffered (capped), `Content-Digest` is set and
//! `content-digest` is added to the covered components when there is content.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};

use crate::alg::Algorithm;
use crate::component::ComponentId;
use crate::digest::{CONTENT_DIGEST, DigestAlgorithm, Digests, collect_body, verify_digest_field};
use crate::error::Error;
use crate::fields::{ACCEPT_SIGNATURE, append_signature};
use crate::message::{MessageView, RequestView, StructuredTypes};
use crate::params::SignatureInput;
use crate::resolver::KeyResolver;
use crate::sign::{Signer, random_nonce, sign_input};
use crate::verify::Verifier;

/// A clock: where the layers get "now" (injectable for tests).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// What the verifying layer found, for handlers (request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// Label of the signature that verified.
    pub label: String,
    /// Its `keyid`.
    pub keyid: Option<String>,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// Covered components, in order.
    pub components: Vec<ComponentId>,
    /// Its `tag`.
    pub tag: Option<String>,
    /// The `Content-Digest` algorithm checked against the content, if any.
    pub content_digest: Option<DigestAlgorithm>,
}

/// A request body already read into memory (what the inner service receives).
#[derive(Debug, Clone, Default)]
pub struct BufferedBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl BufferedBody {
    /// A body with `data` and optional trailers.
    pub fn new(data: Bytes, trailers: Option<HeaderMap>) -> Self {
        BufferedBody {
            data: (!data.is_empty()).then_some(data),
            trailers,
        }
    }
}

impl Body for BufferedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(d) = this.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(d))));
        }
        Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

pin_project_lite::pin_project! {
    /// Response body of [`VerifyService`]: the inner service's body, or a rejection text.
    #[project = VerifyBodyProj]
    pub enum VerifyBody<B> {
        /// The handler's response.
        Inner { #[pin] body: B },
        /// A 4xx/5xx produced by the layer.
        Rejection { text: Option<Bytes> },
    }
}

impl<B> fmt::Debug for VerifyBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyBody::Inner { .. } => f.write_str("VerifyBody::Inner"),
            VerifyBody::Rejection { text } => write!(f, "VerifyBody::Rejection({text:?})"),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for VerifyBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            VerifyBodyProj::Inner { body } => body.poll_frame(cx),
            VerifyBodyProj::Rejection { text } => {
                Poll::Ready(text.take().map(|t| Ok(Frame::data(t))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            VerifyBody::Inner { body } => body.is_end_stream(),
            VerifyBody::Rejection { text } => text.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            VerifyBody::Inner { body } => body.size_hint(),
            VerifyBody::Rejection { text } => {
                SizeHint::with_exact(text.as_ref().map_or(0, |t| t.len() as u64))
            }
        }
    }
}

/// Configuration of [`VerifyLayer`].
#[derive(Clone)]
pub struct VerifyConfig {
    /// Largest request body read (default 1 MiB).
    pub body_limit: u64,
    /// Scheme of requests without one in the URI (default `https`).
    pub scheme: &'static str,
    /// Label used in the `Accept-Signature` challenge (default `sig1`).
    pub challenge_label: String,
    /// Send an `Accept-Signature` challenge with 401 responses (default on).
    pub challenge: bool,
    /// Structured field types for `sf` components, beyond the built-in list.
    pub structured: StructuredTypes,
    /// Where "now" comes from.
    pub clock: Clock,
}

impl fmt::Debug for VerifyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyConfig")
            .field("body_limit", &self.body_limit)
            .field("scheme", &self.scheme)
            .field("challenge_label", &self.challenge_label)
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

impl Default for VerifyConfig {
    fn default() -> Self {
        VerifyConfig {
            body_limit: 1 << 20,
            scheme: crate::message::DEFAULT_SCHEME,
            challenge_label: "sig1".into(),
            challenge: true,
            structured: StructuredTypes::new(),
            clock: system_clock(),
        }
    }
}

struct VerifyShared<R> {
    verifier: Verifier<R>,
    config: VerifyConfig,
}

/// Verifies every request before the inner service sees it.
pub struct VerifyLayer<R> {
    shared: Arc<VerifyShared<R>>,
}

impl<R> Clone for VerifyLayer<R> {
    fn clone(&self) -> Self {
        VerifyLayer {
            shared: self.shared.clone(),
        }
    }
}

impl<R: fmt::Debug> fmt::Debug for VerifyLayer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyLayer")
            .field("verifier", &self.shared.verifier)
            .field("config", &self.shared.config)
            .finish()
    }
}

impl<R: KeyResolver> VerifyLayer<R> {
    /// A layer using `verifier` with `config`.
    pub fn new(verifier: Verifier<R>, config: VerifyConfig) -> Self {
        VerifyLayer {
            shared: Arc::new(VerifyShared { verifier, config }),
        }
    }
}

impl<S, R> Layer<S> for VerifyLayer<R> {
    type Service = VerifyService<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyService {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service made by [`VerifyLayer`].
pub struct VerifyService<S, R> {
    inner: S,
    shared: Arc<VerifyShared<R>>,
}

impl<S: Clone, R> Clone for VerifyService<S, R> {
    fn clone(&self) -> Self {
        VerifyService {
            inner: self.inner.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl<S: fmt::Debug, R> fmt::Debug for VerifyService<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, R, B, RB> Service<Request<B>> for VerifyService<S, R>
where
    S: Service<Request<BufferedBody>, Response = Response<RB>> + Clone + Send + 'static,
    S::Future: Send,
    RB: Body<Data = Bytes>,
    R: KeyResolver + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: fmt::Display,
{
    type Response = Response<VerifyBody<RB>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let shared = self.shared.clone();
        Box::pin(async move {
            match verify_request(&shared, req).await {
                Ok(req) => {
                    let res = inner.call(req).await?;
                    Ok(res.map(|body| VerifyBody::Inner { body }))
                }
                Err(e) => Ok(rejection(&shared, &e)),
            }
        })
    }
}

async fn verify_request<R, B>(
    shared: &VerifyShared<R>,
    req: Request<B>,
) -> Result<Request<BufferedBody>, Error>
where
    R: KeyResolver,
    B: Body,
    B::Error: fmt::Display,
{
    let config = &shared.config;
    let (mut parts, body) = req.into_parts();
    let collected = if body.is_end_stream() {
        Default::default()
    } else {
        collect_body(body, config.body_limit).await?
    };
    let now = (config.clock)();
    let has_content = !collected.data.is_empty();
    let verified = {
        let mut view = RequestView::of_parts(&parts).scheme(config.scheme);
        if let Some(t) = &collected.trailers {
            view = view.trailers(t);
        }
        let msg = MessageView::request(view)
            .has_content(has_content)
            .structured_types(&config.structured);
        shared.verifier.verify_async(&msg, now).await?
    };
    let sig = verified
        .into_iter()
        .next()
        .ok_or_else(|| Error::NoMatchingSignature("none verified".into()))?;
    let content_digest = if has_content || parts.headers.contains_key(CONTENT_DIGEST) {
        if parts.headers.contains_key(CONTENT_DIGEST) {
            Some(verify_digest_field(
                &parts.headers,
                CONTENT_DIGEST,
                &collected.data,
            )?)
        } else {
            None
        }
    } else {
        None
    };
    parts.extensions.insert(VerifiedRequest {
        label: sig.label.clone(),
        keyid: sig.keyid.clone(),
        algorithm: sig.algorithm,
        tag: sig.tag().map(str::to_owned),
        components: sig.input.components,
        content_digest,
    });
    Ok(Request::from_parts(
        parts,
        BufferedBody::new(collected.data, collected.trailers),
    ))
}

fn rejection<R: KeyResolver, RB>(shared: &VerifyShared<R>, e: &Error) -> Response<VerifyBody<RB>> {
    let status = e.status();
    let mut res = Response::new(VerifyBody::Rejection {
        text: Some(Bytes::from(format!("{e}\n"))),
    });
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED && shared.config.challenge {
        let policy = shared.verifier.policy();
        let nonce = if policy.require_nonce {
            random_nonce().ok()
        } else {
            None
        };
        let challenge = policy.challenge(&shared.config.challenge_label, nonce.as_deref());
        if let Ok(v) = challenge.serialize()
            && let Ok(hv) = HeaderValue::from_str(&v)
        {
            res.headers_mut().insert(ACCEPT_SIGNATURE, hv);
        }
    }
    res
}

pin_project_lite::pin_project! {
    /// Request body forwarded by [`SignService`]: untouched, or buffered after digesting.
    #[project = SignBodyProj]
    pub enum SignBody<B> {
        /// The original body (no digest requested).
        Streaming { #[pin] body: B },
        /// The buffered content.
        Buffered { body: BufferedBody },
    }
}

impl<B> fmt::Debug for SignBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignBody::Streaming { .. } => f.write_str("SignBody::Streaming"),
            SignBody::Buffered { body } => write!(f, "SignBody::Buffered({body:?})"),
        }
    }
}

impl<B: Body<Data = Bytes>> Body for SignBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project() {
            SignBodyProj::Streaming { body } => body.poll_frame(cx),
            SignBodyProj::Buffered { body } => match Pin::new(body).poll_frame(cx) {
                Poll::Ready(Some(Ok(f))) => Poll::Ready(Some(Ok(f))),
                Poll::Ready(Some(Err(never))) => match never {},
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            SignBody::Streaming { body } => body.is_end_stream(),
            SignBody::Buffered { body } => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SignBody::Streaming { body } => body.size_hint(),
            SignBody::Buffered { body } => body.size_hint(),
        }
    }
}

/// Errors of [`SignService`]: signing failed, or the inner service failed.
#[derive(Debug)]
pub enum SignError<E> {
    /// Building the signature failed (missing component, oversize body…).
    Sign(Error),
    /// The inner service failed.
    Inner(E),
}

impl<E: fmt::Display> fmt::Display for SignError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::Sign(e) => write!(f, "signing the request failed: {e}"),
            SignError::Inner(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for SignError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SignError::Sign(e) => Some(e),
            SignError::Inner(e) => Some(e),
        }
    }
}

/// Configuration of [`SignLayer`].
#[derive(Clone)]
pub struct SignConfig {
    /// Set `Content-Digest` with these algorithms (buffers the body); empty for none.
    pub digest: Vec<DigestAlgorithm>,
    /// Largest body buffered for the digest (default 8 MiB).
    pub body_limit: u64,
    /// Scheme of requests without one in the URI (default `https`).
    pub scheme: &'static str,
    /// Structured field types for `sf` components, beyond the built-in list.
    pub structured: StructuredTypes,
    /// Where "now" comes from.
    pub clock: Clock,
}

impl fmt::Debug for SignConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignConfig")
            .field("digest", &self.digest)
            .field("body_limit", &self.body_limit)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl Default for SignConfig {
    fn default() -> Self {
        SignConfig {
            digest: vec![DigestAlgorithm::Sha256],
            body_limit: 8 << 20,
            scheme: crate::message::DEFAULT_SCHEME,
            structured: StructuredTypes::new(),
            clock: system_clock(),
        }
    }
}

/// Signs every outgoing request.
#[derive(Debug, Clone)]
pub struct SignLayer {
    signer: Arc<Signer>,
    config: SignConfig,
}

impl SignLayer {
    /// A layer signing with `signer`.
    pub fn new(signer: Signer, config: SignConfig) -> Self {
        SignLayer {
            signer: Arc::new(signer),
            config,
        }
    }
}

impl<S> Layer<S> for SignLayer {
    type Service = SignService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SignService {
            inner,
            signer: self.signer.clone(),
            config: self.config.clone(),
        }
    }
}

/// The service made by [`SignLayer`].
#[derive(Debug, Clone)]
pub struct SignService<S> {
    inner: S,
    signer: Arc<Signer>,
    config: SignConfig,
}

impl<S, B> Service<Request<B>> for SignService<S>
where
    S: Service<Request<SignBody<B>>> + Clone + Send + 'static,
    S::Future: Send,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: fmt::Display,
{
    type Response = S::Response;
    type Error = SignError<S::Error>;
    type Future = BoxFuture<Result<S::Response, SignError<S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(SignError::Inner)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let signer = self.signer.clone();
        let config = self.config.clone();
        Box::pin(async move {
            let req = sign_outgoing(&signer, &config, req)
                .await
                .map_err(SignError::Sign)?;
            inner.call(req).await.map_err(SignError::Inner)
        })
    }
}

async fn sign_outgoing<B>(
    signer: &Signer,
    config: &SignConfig,
    req: Request<B>,
) -> Result<Request<SignBody<B>>, Error>
where
    B: Body<Data = Bytes>,
    B::Error: fmt::Display,
{
    let now = (config.clock)();
    let mut components = signer.config().components.clone();
    let (mut parts, body) = req.into_parts();
    let body = if config.digest.is_empty() {
        SignBody::Streaming { body }
    } else {
        let collected = collect_body(body, config.body_limit).await?;
        if !collected.data.is_empty() {
            parts.headers.insert(
                CONTENT_DIGEST,
                Digests::of(&config.digest, &collected.data).header_value(),
            );
            let cd = ComponentId::field(CONTENT_DIGEST)?;
            if !components.contains(&cd) {
                components.push(cd);
            }
        }
        SignBody::Buffered {
            body: BufferedBody::new(collected.data, collected.trailers),
        }
    };
    let input = SignatureInput::new(components, signer.params(now)?);
    let signed = {
        let view = MessageView::request(RequestView::of_parts(&parts).scheme(config.scheme))
            .structured_types(&config.structured);
        sign_input(&view, &signer.config().label, input, signer.key())?
    };
    append_signature(
        &mut parts.headers,
        &signed.label,
        &signed.input,
        &signed.signature,
    )?;
    Ok(Request::from_parts(parts, body))
}
