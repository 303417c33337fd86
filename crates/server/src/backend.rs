//! The backend side of the gateway: accept `Client-Cert` only from the gateway.
//!
//! RFC 9440 §4: a forged `Client-Cert` that reaches a backend is a full authentication
//! bypass, so a backend must take the field only from its TLS-terminating proxy. This
//! module gives an axum backend that rule in one line, [`GatewayTrust::layer`]:
//!
//! * a request signed by the gateway (RFC 9421, the configured label and tag, a key from
//!   the gateway's keyring, `content-digest` checked against the body) is accepted, and its
//!   `Client-Cert` only when the signature covers it (and `Client-Cert-Chain` when sent);
//! * a request from an allowlisted peer address (a proxy that cannot sign, such as haproxy
//!   or nginx) is accepted unsigned, its fields taken as sent;
//! * anything else is refused: 401 (with an `Accept-Signature` challenge) without a valid
//!   signature, 400 for malformed fields or fields the signature does not cover.
//!
//! Handlers then extract [`ClientCertificate`] (403 when absent) or
//! `Option<ClientCertificate>`, and [`GatewaySignature`] to see what was signed.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use secdispatch_clientcert::{CLIENT_CERT, CLIENT_CERT_CHAIN};
use secdispatch_httpsig::component::ComponentId;
use secdispatch_httpsig::digest::{CONTENT_DIGEST, collect_body, verify_digest_field};
use secdispatch_httpsig::fields::ACCEPT_SIGNATURE;
use secdispatch_httpsig::message::{MessageView, RequestView};
use secdispatch_httpsig::resolver::KeyResolver;
use secdispatch_httpsig::verify::{Verifier, VerifyPolicy};

use crate::serve::{Connection, short};

/// The client certificate the gateway vouched for.
#[derive(Debug, Clone)]
pub struct ClientCertificate {
    /// DER of the end-entity certificate.
    pub end_entity: Vec<u8>,
    /// DER of the rest of the chain as forwarded (issuer first; empty when not sent).
    pub chain: Vec<Vec<u8>>,
    /// Subject distinguished name of the end entity.
    pub subject: String,
    /// How the backend came to trust the field.
    pub trusted_by: TrustedBy,
}

/// Why a backend accepted `Client-Cert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedBy {
    /// A gateway signature with this key id covers it.
    GatewaySignature(String),
    /// It came from this allowlisted peer.
    TrustedPeer(IpAddr),
}

/// What the gateway's signature covered, for handlers that want to show or log it.
#[derive(Debug, Clone)]
pub struct GatewaySignature {
    /// Signature label.
    pub label: String,
    /// Key id of the gateway key.
    pub keyid: Option<String>,
    /// The covered components, serialized (`"@method"`, `"client-cert"`, ...).
    pub covered: Vec<String>,
    /// `created`, seconds since the epoch.
    pub created: Option<u64>,
}

/// A response still being computed.
pub type BoxResponse = std::pin::Pin<Box<dyn Future<Output = Response> + Send>>;

/// The layer [`GatewayTrust::layer`] returns.
pub type TrustLayer<F> = axum::middleware::FromFnLayer<F, (), (Request,)>;

/// How a backend decides to trust the gateway.
pub struct GatewayTrust<R> {
    verifier: Verifier<R>,
    trusted_peers: Vec<IpAddr>,
    body_limit: u64,
}

impl<R> std::fmt::Debug for GatewayTrust<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayTrust")
            .field("trusted_peers", &self.trusted_peers)
            .finish_non_exhaustive()
    }
}

impl<R: KeyResolver + 'static> GatewayTrust<R> {
    /// Trust signatures by keys from `resolver` with `label` and `tag`, at most
    /// `max_age` old; and unsigned requests from `trusted_peers`.
    pub fn new(
        resolver: R,
        label: &str,
        tag: &str,
        max_age: Duration,
        trusted_peers: Vec<IpAddr>,
        body_limit: u64,
    ) -> Self {
        let policy = VerifyPolicy {
            label: Some(label.to_owned()),
            tag: Some(tag.to_owned()),
            require_keyid: true,
            max_age: Some(max_age),
            ..VerifyPolicy::requests()
        };
        Self {
            verifier: Verifier::new(resolver, policy),
            trusted_peers,
            body_limit,
        }
    }

    /// An axum layer applying this trust to every request of a router.
    pub fn layer(self) -> TrustLayer<impl Fn(Request, Next) -> BoxResponse + Clone> {
        let trust = Arc::new(self);
        middleware::from_fn(move |req: Request, next: Next| {
            let trust = trust.clone();
            Box::pin(async move { trust.check(req, next).await }) as BoxResponse
        })
    }

    async fn check(&self, req: Request, next: Next) -> Response {
        let peer = req
            .extensions()
            .get::<Arc<Connection>>()
            .map(|c| c.peer.ip());
        let signed = req.headers().contains_key("signature");
        if !signed && let Some(ip) = peer.filter(|ip| self.trusted_peers.contains(ip)) {
            return match fields(req.headers(), TrustedBy::TrustedPeer(ip)) {
                Ok(cert) => {
                    let mut req = req;
                    if let Some(c) = cert {
                        req.extensions_mut().insert(c);
                    }
                    next.run(req).await
                }
                Err(r) => r,
            };
        }
        match self.verify(req).await {
            Ok(req) => next.run(req).await,
            Err(r) => r,
        }
    }

    async fn verify(&self, req: Request) -> Result<Request, Response> {
        let (mut parts, body) = req.into_parts();
        let collected = if http_body::Body::is_end_stream(&body) {
            Default::default()
        } else {
            collect_body(body, self.body_limit)
                .await
                .map_err(|e| rejection(&e))?
        };
        let has_content = !collected.data.is_empty();
        let now = SystemTime::now();
        let verified = {
            let view = RequestView::of_parts(&parts).scheme("https");
            let msg = MessageView::request(view).has_content(has_content);
            self.verifier
                .verify_async(&msg, now)
                .await
                .map_err(|e| rejection(&e))?
        };
        let sig = verified
            .into_iter()
            .next()
            .ok_or_else(|| short(StatusCode::UNAUTHORIZED, "no gateway signature verified"))?;
        if has_content || parts.headers.contains_key(CONTENT_DIGEST) {
            verify_digest_field(&parts.headers, CONTENT_DIGEST, &collected.data)
                .map_err(|e| rejection(&e))?;
        }
        let covers =
            |name: &str| ComponentId::field(name).is_ok_and(|c| sig.input.components.contains(&c));
        for name in [CLIENT_CERT.as_str(), CLIENT_CERT_CHAIN.as_str()] {
            if parts.headers.contains_key(name) && !covers(name) {
                return Err(short(
                    StatusCode::BAD_REQUEST,
                    "a Client-Cert field is not covered by the gateway signature",
                ));
            }
        }
        let keyid = sig.keyid.clone().unwrap_or_default();
        if let Some(cert) = fields(&parts.headers, TrustedBy::GatewaySignature(keyid))? {
            parts.extensions.insert(cert);
        }
        parts.extensions.insert(GatewaySignature {
            label: sig.label.clone(),
            keyid: sig.keyid.clone(),
            covered: sig.input.components.iter().map(|c| c.to_string()).collect(),
            created: sig.input.params.get_created(),
        });
        Ok(Request::from_parts(parts, Body::from(collected.data)))
    }
}

/// Decode the fields into a [`ClientCertificate`]; 400 when malformed.
fn fields(
    headers: &http::HeaderMap,
    trusted_by: TrustedBy,
) -> Result<Option<ClientCertificate>, Response> {
    let decoded = secdispatch_clientcert::decode(headers)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response())?;
    let Some(f) = decoded else { return Ok(None) };
    let cert = secdispatch_pqpki::cert::from_der(&f.end_entity).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("Client-Cert is not a certificate: {e}\n"),
        )
            .into_response()
    })?;
    Ok(Some(ClientCertificate {
        subject: cert.tbs_certificate().subject().to_string(),
        end_entity: f.end_entity,
        chain: f.chain,
        trusted_by,
    }))
}

/// The response for a verification failure: the status the error names, and an
/// `Accept-Signature` hint on 401 so the sender learns what is expected.
fn rejection(e: &secdispatch_httpsig::Error) -> Response {
    let status = e.status();
    let mut res = (status, format!("{e}\n")).into_response();
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            ACCEPT_SIGNATURE,
            http::HeaderValue::from_static(
                "gateway=(\"@method\" \"@authority\" \"@path\" \"@query\");tag=\"secdispatch-gateway\"",
            ),
        );
    }
    res
}

impl<S: Send + Sync> FromRequestParts<S> for ClientCertificate {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        parts
            .extensions
            .get::<ClientCertificate>()
            .cloned()
            .ok_or_else(|| short(StatusCode::FORBIDDEN, "a client certificate is required"))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClientCertificate {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<ClientCertificate>().cloned())
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for GatewaySignature {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<GatewaySignature>().cloned())
    }
}
