//! The origin as a tower [`Layer`] (feature `tower`): a protected service sees only
//! requests that redeemed a fresh token.
//!
//! * no `Authorization: PrivateToken ...`, or a token that does not redeem (unknown key,
//!   wrong challenge, bad authenticator, replayed) → **401** with one `WWW-Authenticate`
//!   field per token type (a fresh challenge), the reason in the plain-text body and the
//!   log-friendly [`Error`] in the response extensions;
//! * double-spend store unavailable, or no issuer key loaded yet → **503** (fail closed);
//! * otherwise the request goes on with the `Authorization` field removed and a
//!   [`Redeemed`] extension.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, Request, Response, StatusCode};
use tower::{Layer, Service};

use crate::error::Error;
use crate::origin::{Origin, Redeemed};

/// A clock: where the layer gets "now" (injectable for tests).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Protects the wrapped service with Privacy Pass.
#[derive(Clone)]
pub struct PrivacyPassLayer {
    origin: Arc<Origin>,
    clock: Clock,
}

impl std::fmt::Debug for PrivacyPassLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivacyPassLayer")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl PrivacyPassLayer {
    /// A layer for `origin`, with the system clock.
    pub fn new(origin: Arc<Origin>) -> Self {
        Self {
            origin,
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Use another clock.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}

impl<S> Layer<S> for PrivacyPassLayer {
    type Service = PrivacyPassService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        PrivacyPassService {
            inner,
            origin: self.origin.clone(),
            clock: self.clock.clone(),
        }
    }
}

/// The service [`PrivacyPassLayer`] makes.
#[derive(Clone)]
pub struct PrivacyPassService<S> {
    inner: S,
    origin: Arc<Origin>,
    clock: Clock,
}

impl<S> std::fmt::Debug for PrivacyPassService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivacyPassService").finish_non_exhaustive()
    }
}

/// Whether a redemption failure is the client's (401 with a fresh challenge) or ours (503).
fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::NonceStore(_) | Error::Rng => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNAUTHORIZED,
    }
}

/// The refusal for a request that did not redeem: 401 + fresh challenges, or 503.
pub fn refusal<B: From<String>>(origin: &Origin, error: Error, now: SystemTime) -> Response<B> {
    let mut status = status_of(&error);
    let challenges = origin
        .challenges(&mut getrandom::SysRng, now)
        .unwrap_or_default();
    if challenges.is_empty() && status == StatusCode::UNAUTHORIZED {
        // No key to challenge with: the origin cannot be satisfied right now.
        status = StatusCode::SERVICE_UNAVAILABLE;
    }
    let mut resp = Response::new(B::from(format!("privacy pass: {error}\n")));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        for c in challenges {
            if let Ok(v) = HeaderValue::from_str(&c) {
                resp.headers_mut().append(WWW_AUTHENTICATE, v);
            }
        }
    }
    resp.extensions_mut().insert(error);
    resp
}

/// Check one request: `Ok(Redeemed)` or the response to send instead.
pub async fn check<B, R: From<String>>(
    origin: &Origin,
    req: &mut Request<B>,
    now: SystemTime,
) -> Result<Redeemed, Response<R>> {
    let mut result = Err(Error::NoCredentials);
    for value in req.headers().get_all(AUTHORIZATION) {
        let Ok(text) = value.to_str() else { continue };
        if !text
            .trim_start()
            .get(..crate::auth_scheme::SCHEME.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(crate::auth_scheme::SCHEME))
        {
            continue;
        }
        result = origin.redeem(text, now).await;
        break;
    }
    match result {
        Ok(r) => {
            req.headers_mut().remove(AUTHORIZATION);
            req.extensions_mut().insert(r.clone());
            Ok(r)
        }
        Err(e) => Err(refusal(origin, e, now)),
    }
}

impl<S, B, R> Service<Request<B>> for PrivacyPassService<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    R: From<String> + Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The ready inner service handles this request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let origin = self.origin.clone();
        let now = (self.clock)();
        Box::pin(async move {
            match check::<B, R>(&origin, &mut req, now).await {
                Ok(_) => inner.call(req).await,
                Err(resp) => Ok(resp),
            }
        })
    }
}
