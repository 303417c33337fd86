//! The admin listener: `/healthz` and Prometheus `/metrics`.
//!
//! `/healthz` runs every registered check (each bounded by a timeout) and answers 200 with
//! `{"status":"ok","checks":{...}}` when all pass, 503 with the failing checks' reasons
//! otherwise. Load balancers and orchestrators poll it; operators read it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{StatusCode, header};
use secdispatch_replay::BoxFuture;

use crate::metrics::Metrics;

/// One health check: `Ok(detail)` when healthy, `Err(reason)` when not.
pub type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// How long one check may take before it counts as failed.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The named health checks of a process.
#[derive(Clone, Default)]
pub struct Health {
    checks: Arc<Mutex<BTreeMap<String, Check>>>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Health")
    }
}

impl Health {
    /// No checks: always healthy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or replace) the check called `name`.
    pub fn register(&self, name: &str, check: Check) {
        self.checks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_owned(), check);
    }

    /// Run every check; `(all healthy, name → detail or reason)`.
    pub async fn run(&self) -> (bool, BTreeMap<String, serde_json::Value>) {
        let checks: Vec<(String, Check)> = self
            .checks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut ok = true;
        let mut out = BTreeMap::new();
        for (name, check) in checks {
            let res = match tokio::time::timeout(CHECK_TIMEOUT, check()).await {
                Ok(r) => r,
                Err(_) => Err(format!("no answer within {}s", CHECK_TIMEOUT.as_secs())),
            };
            let v = match res {
                Ok(detail) => serde_json::json!({"ok": true, "detail": detail}),
                Err(reason) => {
                    ok = false;
                    serde_json::json!({"ok": false, "error": reason})
                }
            };
            out.insert(name, v);
        }
        (ok, out)
    }
}

#[derive(Clone)]
struct AdminState {
    metrics: Metrics,
    health: Health,
}

/// The admin router (wrap it with [`crate::serve::with_limits`] before serving).
pub fn router(metrics: Metrics, health: Health) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(AdminState { metrics, health })
}

async fn healthz(State(s): State<AdminState>) -> Response {
    let (ok, checks) = s.health.run().await;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({"status": if ok { "ok" } else { "failing" }, "checks": checks});
    (status, axum::Json(body)).into_response()
}

async fn metrics_text(State(s): State<AdminState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}
