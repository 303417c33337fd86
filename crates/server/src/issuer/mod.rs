//! `secdispatch issuer`: the Privacy Pass issuer (RFC 9578) with its key directory,
//! key rotation and the simplest attester of RFC 9576 §3.2.
//!
//! * `GET /.well-known/private-token-issuer-directory`: the keys (RFC 9578 §4), newest
//!   first with `not-before`, `Cache-Control: max-age` matched to rotation with jitter;
//! * `POST <request_path>` (`/token-request`): `application/private-token-request` →
//!   `application/private-token-response`; the amortized and generic batch media types of
//!   draft-ietf-privacypass-batched-tokens too. 415 for another media type, 422 for a
//!   request that cannot be answered (unknown key id, unsupported type, wrong size, bad
//!   element), 401 when the attester's bearer secret is missing or wrong.
//!
//! Keys live in the key store ([`keys`]). [`start_issuer`] is what `secdispatch up` and
//! `secdispatch issuer` call. The gateway's protected routes use [`gateway`].

pub mod config;
pub mod gateway;
pub mod http;
pub mod keys;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use secdispatch_privacypass::directory::{MEDIA_TYPE, WELL_KNOWN_PATH};
use secdispatch_store::{KeyStore, Store};
use subtle::ConstantTimeEq;

pub use config::{IssuerConfig, PrivacyPassRouteConfig, RedemptionContextConfig};
pub use keys::IssuerKeys;

use crate::config::Config;
use crate::services::{StartError, spawn_every};
use crate::{Metrics, Shutdown, serve};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone)]
struct IssuerState {
    keys: Arc<IssuerKeys>,
    attesters: Arc<Vec<[u8; 32]>>,
    directory_max_age: Duration,
    outcomes: Family<OutcomeLabels, Counter>,
}

fn count(s: &IssuerState, outcome: &str) {
    s.outcomes
        .get_or_create(&OutcomeLabels {
            outcome: outcome.to_owned(),
        })
        .inc();
}

fn text(status: StatusCode, msg: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{msg}\n"),
    )
        .into_response()
}

fn parse_attesters(list: &[String]) -> Result<Vec<[u8; 32]>, StartError> {
    list.iter()
        .map(|h| {
            let h = h.trim();
            let ok = h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit());
            if !ok {
                return Err(StartError::Other(format!(
                    "issuer.attester_bearer_sha256: {h:?} is not 64 hex digits"
                )));
            }
            let mut out = [0u8; 32];
            for (i, o) in out.iter_mut().enumerate() {
                *o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap_or(0);
            }
            Ok(out)
        })
        .collect()
}

/// The attester check: `Authorization: Bearer <secret>` whose SHA-256 is allowlisted.
fn attested(s: &IssuerState, headers: &HeaderMap) -> bool {
    if s.attesters.is_empty() {
        return true;
    }
    let Some(secret) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
    else {
        return false;
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    // Compare against every entry so timing does not say which one matched.
    s.attesters
        .iter()
        .fold(subtle::Choice::from(0), |acc, a| {
            acc | a.as_slice().ct_eq(digest.as_ref())
        })
        .into()
}

async fn directory(State(s): State<IssuerState>) -> Response {
    let snapshot = s.keys.snapshot();
    let body = snapshot.directory.to_json();
    // Up to 10% off so that caches do not all refresh at once.
    let max = s.directory_max_age.as_secs();
    let mut r = [0u8; 2];
    let jitter = if getrandom::fill(&mut r).is_ok() && max >= 10 {
        u64::from(u16::from_le_bytes(r)) % (max / 10)
    } else {
        0
    };
    let mut resp = Response::new(Body::from(body));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    if let Ok(v) = HeaderValue::from_str(&format!("max-age={}", max - jitter)) {
        h.insert(header::CACHE_CONTROL, v);
    }
    resp
}

async fn token_request(State(s): State<IssuerState>, headers: HeaderMap, body: Bytes) -> Response {
    if !attested(&s, &headers) {
        count(&s, "unattested");
        tracing::info!(target: "secdispatch::issuer", "token request refused: no valid attester credential");
        let mut r = text(
            StatusCode::UNAUTHORIZED,
            "an attester credential is required (Authorization: Bearer)".into(),
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"secdispatch-issuer\""),
        );
        return r;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let snapshot = s.keys.snapshot();
    match snapshot
        .issuer
        .handle(&mut getrandom::SysRng, content_type, &body)
    {
        Ok(answer) => {
            count(
                &s,
                if answer.status == 206 {
                    "partial"
                } else {
                    "issued"
                },
            );
            let mut resp = Response::new(Body::from(answer.body));
            *resp.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(answer.content_type),
            );
            resp
        }
        Err(refusal) => {
            count(&s, &refusal.status.to_string());
            tracing::info!(target: "secdispatch::issuer", status = refusal.status, reason = %refusal.error, "token request refused");
            text(
                StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                refusal.error.to_string(),
            )
        }
    }
}

/// The issuer's HTTP application over loaded keys.
pub fn router(
    keys: Arc<IssuerKeys>,
    config: &IssuerConfig,
    metrics: &Metrics,
) -> Result<Router, StartError> {
    let outcomes = Family::<OutcomeLabels, Counter>::default();
    metrics.register(
        "privacypass_issuer_requests",
        "Privacy Pass token requests by outcome (issued, partial, 415, 422, 400, unattested)",
        outcomes.clone(),
    );
    let state = IssuerState {
        keys,
        attesters: Arc::new(parse_attesters(&config.attester_bearer_sha256)?),
        directory_max_age: config.directory_max_age,
        outcomes,
    };
    if !config.request_path.starts_with('/') || config.request_path == WELL_KNOWN_PATH {
        return Err(StartError::Other(format!(
            "issuer.request_path {:?} must be an absolute path other than the directory's",
            config.request_path
        )));
    }
    Ok(Router::new()
        .route(WELL_KNOWN_PATH, get(directory))
        .route(&config.request_path, post(token_request))
        .with_state(state))
}

/// Start the issuer: keys from the store (made on first start), rotation every
/// `issuer.key_check_interval`, the HTTP listener on `listen`. Returns the bound address.
pub async fn start_issuer(
    config: &Config,
    listen: SocketAddr,
    store: Arc<Store>,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<SocketAddr, StartError> {
    let ic = &config.issuer;
    let keys = Arc::new(
        IssuerKeys::new(store as Arc<dyn KeyStore>, ic)
            .map_err(|e| StartError::Other(e.to_string()))?,
    );
    keys.refresh(SystemTime::now())
        .await
        .map_err(|e| StartError::Other(e.to_string()))?;
    spawn_every(shutdown, ic.key_check_interval, {
        let keys = keys.clone();
        move || {
            let keys = keys.clone();
            async move {
                if let Err(e) = keys.refresh(SystemTime::now()).await {
                    tracing::error!(error = %e, "Privacy Pass issuer key refresh failed");
                }
            }
        }
    });
    if ic.attester_bearer_sha256.is_empty() {
        tracing::warn!(
            "issuer: no attester secrets configured; the issuance endpoint is open to anyone who can reach it"
        );
    }
    let app = serve::with_limits(
        router(keys, ic, metrics)?,
        "issuer",
        &config.limits,
        metrics,
    );
    let listener = serve::bind("issuer", listen).await?;
    let addr = listener.local_addr()?;
    shutdown.spawn(serve::serve(
        listener,
        app,
        config.limits.clone(),
        shutdown.clone(),
    ));
    Ok(addr)
}
