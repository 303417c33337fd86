//! Prometheus metrics shared by every service of a process.
//!
//! Services register their metrics once at start-up through [`Metrics::register`]; the
//! admin listener renders them in the Prometheus text format at `/metrics`. Every HTTP
//! listener also counts its requests, by service, method and status class, and records
//! their latency in one histogram family ([`HttpMetrics`]).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};

/// The process-wide metric registry. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    http: HttpMetrics,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with the `secdispatch_` prefix, build information, start time and the
    /// HTTP request families.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("secdispatch");
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
            })
            .set(1);
        registry.register("build_info", "Build information; always 1", build);
        let start = Gauge::<i64>::default();
        start.set(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        );
        registry.register(
            "process_start_time_seconds",
            "Start time of the process",
            start,
        );
        let http = HttpMetrics::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by service, method and status class",
            http.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from request head to response head, by service",
            http.latency.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            http,
        }
    }

    /// Register a metric under `secdispatch_<name>`.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        self.lock().register(name, help, metric);
    }

    /// The HTTP request families, for listeners.
    pub fn http(&self) -> &HttpMetrics {
        &self.http
    }

    /// Everything in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.lock()) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        out
    }

    fn lock(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// Labels of the HTTP request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The service that answered (`admin`, `gateway`, ...).
    pub service: String,
    /// Request method.
    pub method: String,
    /// `2xx`, `4xx`, ...
    pub status: String,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabels {
    /// The service that answered.
    pub service: String,
}

fn latency_histogram() -> Histogram {
    // 100 µs .. ~26 s in 19 doubling steps.
    Histogram::new(exponential_buckets(0.0001, 2.0, 19))
}

/// HTTP request count and latency, by service.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<ServiceLabels, Histogram, fn() -> Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        }
    }
}

impl HttpMetrics {
    /// Record one answered request.
    pub fn observe(
        &self,
        service: &str,
        method: &http::Method,
        status: http::StatusCode,
        started: Instant,
    ) {
        let class = format!("{}xx", status.as_u16() / 100);
        self.requests
            .get_or_create(&RequestLabels {
                service: service.to_owned(),
                method: method.as_str().to_owned(),
                status: class,
            })
            .inc();
        self.latency
            .get_or_create(&ServiceLabels {
                service: service.to_owned(),
            })
            .observe(started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_build_info_and_requests() {
        let m = Metrics::new();
        m.http().observe(
            "admin",
            &http::Method::GET,
            http::StatusCode::OK,
            Instant::now(),
        );
        let c = Counter::<u64>::default();
        c.inc_by(3);
        m.register("widgets", "Widgets made", c);
        let text = m.render();
        assert!(text.contains("secdispatch_build_info{version=\""), "{text}");
        assert!(
            text.contains(
                "secdispatch_http_requests_total{service=\"admin\",method=\"GET\",status=\"2xx\"} 1"
            ),
            "{text}"
        );
        assert!(text.contains("secdispatch_widgets_total 3"), "{text}");
        assert!(
            text.contains("secdispatch_http_request_duration_seconds_bucket"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
