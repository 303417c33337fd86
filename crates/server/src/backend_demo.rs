//! `secdispatch backend-demo`: a small application behind the gateway that answers every
//! request with what it was told and how it knows: the verified client certificate, the
//! gateway signature, the client address. `up` and the tests use it; operators can point
//! the gateway at it to see what their backends would receive.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Request};
use axum::response::{IntoResponse, Json};
use serde_json::{Value, json};

use crate::backend::{ClientCertificate, GatewaySignature, TrustedBy};
use crate::serve::Connection;

/// The demo application (wrap it with a [`crate::backend::GatewayTrust`] layer).
pub fn router() -> Router {
    Router::new().fallback(echo)
}

async fn echo(
    Extension(conn): Extension<Arc<Connection>>,
    cert: Option<ClientCertificate>,
    sig: Option<GatewaySignature>,
    req: Request,
) -> impl IntoResponse {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let client_certificate = cert.map(|c| {
        let (how, detail) = match &c.trusted_by {
            TrustedBy::GatewaySignature(k) => ("gateway-signature", k.clone()),
            TrustedBy::TrustedPeer(ip) => ("trusted-peer", ip.to_string()),
        };
        json!({
            "subject": c.subject,
            "chain_length": 1 + c.chain.len(),
            "trusted_by": how,
            "trusted_by_detail": detail,
        })
    });
    let gateway_signature = sig.map(
        |s| json!({"label": s.label, "keyid": s.keyid, "covered": s.covered, "created": s.created}),
    );
    let doc: Value = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query(),
        "host": header("host"),
        "peer": conn.peer.to_string(),
        "forwarded": header("forwarded"),
        "x_forwarded_for": header("x-forwarded-for"),
        "client_certificate": client_certificate,
        "gateway_signature": gateway_signature,
        "content_digest": header("content-digest"),
        "body_bytes": body.len(),
    });
    ([(http::header::CACHE_CONTROL, "no-store")], Json(doc))
}
