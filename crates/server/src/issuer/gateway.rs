//! Privacy Pass on gateway routes: `privacy_pass = { ... }` on a `[[gateway.routes]]`
//! entry makes the gateway the origin of RFC 9576 for that route. Requests without a
//! redeemable token get 401 and a fresh `PrivateToken` challenge; redeemed tokens are
//! removed from the request before it is forwarded.
//!
//! Keys come from the issuer's key store on routes with `shared_store = true` (the gateway
//! and the issuer share a database, the only way to accept type 1 tokens), otherwise from
//! the issuer directory over HTTP (type 2 public keys), re-read every `key_refresh`. The
//! double-spend store is the store bound by [`RouteOrigins::bind_store`] (shared by every
//! gateway replica on the same database), or an in-process one until a store is bound.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use secdispatch_privacypass::directory::{IssuerDirectory, WELL_KNOWN_PATH};
use secdispatch_privacypass::origin::{
    AcceptedKey, Origin, OriginConfig, RedemptionMode, VerificationKey,
};
use secdispatch_privacypass::{TokenType, type1, type2};
use secdispatch_replay::{MemoryNonceStore, NonceStore};
use secdispatch_store::{KeyStore, Store};

use super::config::{PrivacyPassRouteConfig, RedemptionContextConfig};
use super::keys::{TYPE1_KEY_NAME, TYPE2_KEY_NAME};
use crate::config::RouteConfig;
use crate::gateway::route::{Route, Routes};
use crate::metrics::Metrics;

/// How long the spent mark of a token under a directory-listed key is kept: directory
/// entries carry no expiry, so this must exceed any issuer key lifetime (30 days by
/// default).
const DIRECTORY_KEY_RETENTION: Duration = Duration::from_secs(31 * 86_400);

/// The origin of one protected route.
pub struct RouteOrigin {
    config: PrivacyPassRouteConfig,
    origin_config: OriginConfig,
    origin: RwLock<Arc<Origin>>,
    key_store: RwLock<Option<Arc<dyn KeyStore>>>,
    directory_url: String,
    client: super::http::Client,
    last_refresh: tokio::sync::Mutex<Option<Instant>>,
    outcomes: Outcomes,
}

/// Redemption outcomes of every protected route, and whether the double-spend store is
/// failing (so that losing it and getting it back are each logged once, not per request).
#[derive(Debug, Clone, Default)]
struct Outcomes {
    results: Family<OutcomeLabels, Counter>,
    store_failing: Arc<AtomicBool>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    result: &'static str,
}

impl Outcomes {
    fn count(&self, result: &'static str) {
        self.results.get_or_create(&OutcomeLabels { result }).inc();
    }

    /// A redemption reached the double-spend store (it answered, whatever it said).
    fn store_answered(&self) {
        if self.store_failing.swap(false, Ordering::Relaxed) {
            tracing::warn!(
                "Privacy Pass double-spend store reachable again; protected routes redeem tokens"
            );
        }
    }

    /// The double-spend store failed: the request is refused with 503 (fail closed).
    fn store_failed(&self, error: &str) {
        if !self.store_failing.swap(true, Ordering::Relaxed) {
            tracing::error!(
                %error,
                "Privacy Pass double-spend store unreachable; protected routes answer 503 until it is back"
            );
        }
    }
}

impl std::fmt::Debug for RouteOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteOrigin")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The per-route origins of a gateway, in route order (`None`: unprotected route).
#[derive(Debug, Default)]
pub struct RouteOrigins {
    per_route: Vec<Option<Arc<RouteOrigin>>>,
    outcomes: Outcomes,
}

impl RouteOrigins {
    /// Build from the configured routes (same order as [`Routes::new`]).
    pub fn new(routes: &[RouteConfig]) -> Result<Self, String> {
        let outcomes = Outcomes::default();
        let mut per_route = Vec::with_capacity(routes.len());
        for r in routes {
            per_route.push(match &r.privacy_pass {
                None => None,
                Some(pp) => Some(Arc::new(
                    RouteOrigin::new(pp, outcomes.clone())
                        .map_err(|e| format!("route {:?} privacy_pass: {e}", r.path_prefix))?,
                )),
            });
        }
        Ok(Self {
            per_route,
            outcomes,
        })
    }

    /// Register `gateway_privacypass_redemptions{result}`.
    pub fn register_metrics(&self, metrics: &Metrics) {
        metrics.register(
            "gateway_privacypass_redemptions",
            "Requests to Privacy Pass routes by result (accepted, challenged: no token, refused: invalid or spent token, store_unavailable: 503)",
            self.outcomes.results.clone(),
        );
    }

    /// Whether no route is protected.
    pub fn is_empty(&self) -> bool {
        self.per_route.iter().all(Option::is_none)
    }

    /// Use `store` for double-spend checks (shared by every gateway replica on the same
    /// database), and for issuer keys on routes with `shared_store = true`.
    pub fn bind_store(&self, store: Arc<Store>) {
        for o in self.per_route.iter().flatten() {
            o.bind(store.clone());
        }
    }

    /// The origin of `route`, if it is protected.
    pub fn for_route(&self, routes: &Routes, route: &Route) -> Option<&Arc<RouteOrigin>> {
        let i = routes.iter().position(|r| std::ptr::eq(r, route))?;
        self.per_route.get(i)?.as_ref()
    }

    /// `None` when the request may go on (unprotected route or redeemed token), else the
    /// 401/503 response to send.
    pub async fn check(
        &self,
        routes: &Routes,
        route: &Route,
        req: &mut Request,
    ) -> Option<Response> {
        let origin = self.for_route(routes, route)?;
        origin.check(req).await
    }
}

impl RouteOrigin {
    fn new(config: &PrivacyPassRouteConfig, outcomes: Outcomes) -> Result<Self, String> {
        let mut origin_config = OriginConfig::new(&config.issuer_name, "");
        origin_config.origin_info = config.origin_info.clone();
        origin_config.token_types = config.token_types.iter().map(|t| TokenType(*t)).collect();
        if let Some(t) = origin_config.token_types.iter().find(|t| !t.is_supported()) {
            return Err(format!("token type {t} is not supported (use 1 and/or 2)"));
        }
        origin_config.redemption = match config.redemption_context {
            RedemptionContextConfig::Empty => RedemptionMode::Empty,
            RedemptionContextConfig::PerRequest => RedemptionMode::PerRequest,
        };
        origin_config.max_age = Some(config.max_age.as_secs());
        let origin = Origin::new(origin_config.clone(), Arc::new(MemoryNonceStore::new()))
            .map_err(|e| e.to_string())?;
        let directory_url = config
            .directory_url
            .clone()
            .unwrap_or_else(|| format!("http://{}{WELL_KNOWN_PATH}", config.issuer_name));
        Ok(Self {
            config: config.clone(),
            origin_config,
            origin: RwLock::new(Arc::new(origin)),
            key_store: RwLock::new(None),
            directory_url,
            client: super::http::Client::plain().timeout(Duration::from_secs(5)),
            last_refresh: tokio::sync::Mutex::new(None),
            outcomes,
        })
    }

    fn bind(&self, store: Arc<Store>) {
        let nonces: Arc<dyn NonceStore> = store.clone();
        if let Ok(o) = Origin::new(self.origin_config.clone(), nonces) {
            o.set_keys(self.origin().keys().to_vec());
            *self.origin.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(o);
        }
        if self.config.shared_store {
            *self.key_store.write().unwrap_or_else(|p| p.into_inner()) =
                Some(store as Arc<dyn KeyStore>);
        }
    }

    /// The current origin core.
    pub fn origin(&self) -> Arc<Origin> {
        self.origin
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn check(&self, req: &mut Request) -> Option<Response> {
        self.refresh_if_due().await;
        let origin = self.origin();
        match secdispatch_privacypass::layer::check::<Body, Body>(&origin, req, SystemTime::now())
            .await
        {
            Ok(r) => {
                tracing::debug!(token_type = %r.token_type, key = %r.token_key_id, "Privacy Pass token redeemed");
                self.outcomes.count("accepted");
                self.outcomes.store_answered();
                None
            }
            Err(resp) => {
                use secdispatch_privacypass::Error;
                match resp.extensions().get::<Error>() {
                    Some(Error::NonceStore(e)) => {
                        self.outcomes.count("store_unavailable");
                        self.outcomes.store_failed(e);
                    }
                    Some(Error::NoCredentials) | None => self.outcomes.count("challenged"),
                    Some(e) => {
                        tracing::info!(target: "secdispatch::privacypass", reason = %e, status = resp.status().as_u16(), "token not accepted");
                        self.outcomes.count("refused");
                        if matches!(e, Error::DoubleSpend) {
                            self.outcomes.store_answered();
                        }
                    }
                }
                Some(resp)
            }
        }
    }

    /// Reload keys when `key_refresh` has passed (one refresher at a time; others go on
    /// with the keys they have unless there are none).
    async fn refresh_if_due(&self) {
        let has_keys = !self.origin().keys().is_empty();
        let mut last = if has_keys {
            match self.last_refresh.try_lock() {
                Ok(g) => g,
                Err(_) => return,
            }
        } else {
            self.last_refresh.lock().await
        };
        if last.is_some_and(|t| t.elapsed() < self.config.key_refresh) && has_keys {
            return;
        }
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(1)) {
            return; // failing source: at most one attempt per second
        }
        *last = Some(Instant::now());
        match self.load_keys(SystemTime::now()).await {
            Ok(keys) => self.origin().set_keys(keys),
            Err(e) => {
                tracing::warn!(directory = %self.directory_url, error = %e, "Privacy Pass key refresh failed; keeping the previous keys")
            }
        }
    }

    async fn load_keys(&self, now: SystemTime) -> Result<Vec<AcceptedKey>, String> {
        let store = self
            .key_store
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match store {
            Some(store) => self.keys_from_store(&*store, now).await,
            None => self.keys_from_directory(now).await,
        }
    }

    async fn keys_from_store(
        &self,
        store: &dyn KeyStore,
        now: SystemTime,
    ) -> Result<Vec<AcceptedKey>, String> {
        let mut usable = Vec::new();
        let mut future = Vec::new();
        for t in &self.origin_config.token_types {
            let name = if *t == TokenType::PRIVATE_P384 {
                TYPE1_KEY_NAME
            } else {
                TYPE2_KEY_NAME
            };
            let mut versions = store.key_versions(name).await.map_err(|e| e.to_string())?;
            versions.retain(|k| k.not_after > now);
            versions.sort_by_key(|k| std::cmp::Reverse(k.version));
            for v in versions {
                let key = if *t == TokenType::PRIVATE_P384 {
                    VerificationKey::Type1(Arc::new(
                        type1::IssuerKey::from_secret(&v.material).map_err(|e| e.to_string())?,
                    ))
                } else {
                    VerificationKey::Type2(
                        type2::PublicKey::from_token_key(&v.public).map_err(|e| e.to_string())?,
                    )
                };
                let entry = AcceptedKey {
                    key,
                    not_after: v.not_after,
                };
                if v.not_before <= now {
                    usable.push(entry);
                } else {
                    future.push(entry);
                }
            }
        }
        usable.extend(future);
        Ok(usable)
    }

    async fn keys_from_directory(&self, now: SystemTime) -> Result<Vec<AcceptedKey>, String> {
        let fetched = self
            .client
            .send(::http::Method::GET, &self.directory_url, &[], Vec::new())
            .await
            .map_err(|e| e.to_string())?;
        if !fetched.status.is_success() {
            return Err(format!("directory answered {}", fetched.status));
        }
        let dir = IssuerDirectory::from_json(&fetched.body).map_err(|e| e.to_string())?;
        let unix_now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut usable = Vec::new();
        let mut future = Vec::new();
        for k in dir.keys_of(TokenType::PUBLIC_RSA) {
            if !self
                .origin_config
                .token_types
                .contains(&TokenType::PUBLIC_RSA)
            {
                break;
            }
            let Ok(bytes) = k.key_bytes() else { continue };
            let Ok(pk) = type2::PublicKey::from_token_key(&bytes) else {
                continue;
            };
            let entry = AcceptedKey {
                key: VerificationKey::Type2(pk),
                not_after: now + DIRECTORY_KEY_RETENTION,
            };
            if k.usable_at(unix_now) {
                usable.push(entry);
            } else {
                future.push(entry);
            }
        }
        usable.extend(future);
        Ok(usable)
    }
}
