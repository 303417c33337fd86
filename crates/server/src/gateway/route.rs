//! Routes (host + path prefix → upstream pool) and upstream pools with round-robin and
//! passive health: an upstream that fails to connect is skipped for a back-off period.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::Uri;

use crate::config::{ClientAuth, RouteConfig, UpstreamProtocol};

/// A route as configured, resolved.
#[derive(Debug)]
pub struct Route {
    /// Lower-case host, or `None` for every host.
    pub host: Option<String>,
    /// Path prefix without a trailing slash (`""` for the root).
    prefix: String,
    /// Client certificate handling.
    pub client_auth: ClientAuth,
    /// Where requests go.
    pub pool: Pool,
}

/// Why a route cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// An upstream that is not `http://host:port`.
    #[error("route {prefix:?}: upstream {upstream:?} {reason}")]
    Upstream {
        /// The route's prefix.
        prefix: String,
        /// The upstream as written.
        upstream: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A route without upstreams.
    #[error("route {0:?} has no upstreams")]
    NoUpstreams(String),
    /// A prefix not starting with `/`.
    #[error("route path_prefix {0:?} must start with /")]
    Prefix(String),
}

impl Route {
    /// Resolve a configured route.
    pub fn new(c: &RouteConfig, backoff: Duration) -> Result<Self, RouteError> {
        if !c.path_prefix.starts_with('/') {
            return Err(RouteError::Prefix(c.path_prefix.clone()));
        }
        if c.upstreams.is_empty() {
            return Err(RouteError::NoUpstreams(c.path_prefix.clone()));
        }
        let mut upstreams = Vec::new();
        for u in &c.upstreams {
            let bad = |reason| RouteError::Upstream {
                prefix: c.path_prefix.clone(),
                upstream: u.clone(),
                reason,
            };
            let uri: Uri = u.parse().map_err(|_| bad("is not a URL"))?;
            if uri.scheme_str() != Some("http") {
                return Err(bad(
                    "must be an http:// URL (TLS to upstreams is not supported)",
                ));
            }
            let authority = uri.authority().ok_or(bad("has no host"))?.clone();
            if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
                return Err(bad("must not have a path or query"));
            }
            upstreams.push(Upstream {
                authority,
                down_until: AtomicU64::new(0),
                connections: Arc::default(),
            });
        }
        Ok(Self {
            host: c.host.as_ref().map(|h| h.to_ascii_lowercase()),
            prefix: c.path_prefix.trim_end_matches('/').to_owned(),
            client_auth: c.client_auth,
            pool: Pool {
                upstreams,
                next: AtomicUsize::new(0),
                protocol: c.upstream_protocol,
                backoff,
                epoch: Instant::now(),
            },
        })
    }

    /// Whether `path` is under this route's prefix, on a segment boundary.
    fn matches_path(&self, path: &str) -> bool {
        path.strip_prefix(&self.prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || self.prefix.is_empty())
    }
}

/// The route table.
#[derive(Debug, Default)]
pub struct Routes {
    routes: Vec<Route>,
}

impl Routes {
    /// Build the table from configuration.
    pub fn new(configs: &[RouteConfig], backoff: Duration) -> Result<Self, RouteError> {
        let routes = configs
            .iter()
            .map(|c| Route::new(c, backoff))
            .collect::<Result<_, _>>()?;
        Ok(Self { routes })
    }

    /// The route for a request: among routes of its host, the longest prefix; otherwise
    /// among routes for every host, the longest prefix.
    pub fn find(&self, host: &str, path: &str) -> Option<&Route> {
        let host = host.to_ascii_lowercase();
        let best = |exact: bool| {
            self.routes
                .iter()
                .filter(|r| match &r.host {
                    Some(h) => exact && *h == host,
                    None => !exact,
                })
                .filter(|r| r.matches_path(path))
                .max_by_key(|r| r.prefix.len())
        };
        best(true).or_else(|| best(false))
    }

    /// Every route.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// Whether there are no routes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// Upstreams used round-robin.
#[derive(Debug)]
pub struct Pool {
    upstreams: Vec<Upstream>,
    next: AtomicUsize,
    /// Protocol spoken to them.
    pub protocol: UpstreamProtocol,
    backoff: Duration,
    epoch: Instant,
}

/// One upstream server.
#[derive(Debug)]
pub struct Upstream {
    /// `host:port`.
    pub authority: http::uri::Authority,
    /// Milliseconds since the pool's epoch until which the upstream is skipped.
    down_until: AtomicU64,
    /// Kept-alive HTTP/1.1 connections to it.
    pub connections: Arc<super::upstream::Connections>,
}

impl Pool {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The next healthy upstream in turn; when all are marked down, the one that comes back
    /// soonest (failing open to trying, not to refusing: a back-off is only a guess).
    pub fn pick(&self) -> &Upstream {
        let n = self.upstreams.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = self.now_ms();
        (0..n)
            .map(|i| &self.upstreams[(start + i) % n])
            .find(|u| u.down_until.load(Ordering::Relaxed) <= now)
            .unwrap_or_else(|| {
                // `n >= 1` is guaranteed by `Route::new`.
                self.upstreams
                    .iter()
                    .min_by_key(|u| u.down_until.load(Ordering::Relaxed))
                    .unwrap_or(&self.upstreams[0])
            })
    }

    /// Skip `upstream` for the back-off period.
    pub fn mark_failed(&self, upstream: &Upstream) {
        let until = self.now_ms() + u64::try_from(self.backoff.as_millis()).unwrap_or(u64::MAX);
        upstream.down_until.store(until, Ordering::Relaxed);
    }

    /// Number of upstreams.
    pub fn len(&self) -> usize {
        self.upstreams.len()
    }

    /// Whether the pool is empty (never true for a built route).
    pub fn is_empty(&self) -> bool {
        self.upstreams.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(host: Option<&str>, prefix: &str, upstreams: &[&str]) -> RouteConfig {
        RouteConfig {
            host: host.map(str::to_owned),
            path_prefix: prefix.to_owned(),
            client_auth: ClientAuth::None,
            upstreams: upstreams.iter().map(|s| (*s).to_owned()).collect(),
            upstream_protocol: UpstreamProtocol::Http1,
            privacy_pass: None,
        }
    }

    #[test]
    fn longest_prefix_on_segment_boundaries_host_first() {
        let routes = Routes::new(
            &[
                route(None, "/", &["http://a:1"]),
                route(None, "/api", &["http://b:1"]),
                route(Some("Example.com"), "/", &["http://c:1"]),
            ],
            Duration::from_secs(1),
        )
        .unwrap();
        let up = |host: &str, path: &str| {
            routes
                .find(host, path)
                .map(|r| r.pool.pick().authority.to_string())
        };
        assert_eq!(up("x", "/api/v1").as_deref(), Some("b:1"));
        assert_eq!(up("x", "/api").as_deref(), Some("b:1"));
        assert_eq!(up("x", "/apix").as_deref(), Some("a:1"));
        assert_eq!(up("x", "/").as_deref(), Some("a:1"));
        assert_eq!(up("EXAMPLE.com", "/api").as_deref(), Some("c:1"));
    }

    #[test]
    fn no_route_without_a_match() {
        let routes = Routes::new(
            &[route(Some("only.example"), "/x", &["http://a:1"])],
            Duration::ZERO,
        )
        .unwrap();
        assert!(routes.find("other", "/x").is_none());
        assert!(routes.find("only.example", "/y").is_none());
    }

    #[test]
    fn round_robin_skips_failed_upstreams() {
        let routes = Routes::new(
            &[route(
                None,
                "/",
                &["http://a:1", "http://b:1", "http://c:1"],
            )],
            Duration::from_secs(60),
        )
        .unwrap();
        let pool = &routes.find("h", "/").unwrap().pool;
        let picks: Vec<String> = (0..3).map(|_| pool.pick().authority.to_string()).collect();
        assert_eq!(picks, ["a:1", "b:1", "c:1"]);
        let b = pool
            .upstreams
            .iter()
            .find(|u| u.authority == "b:1")
            .unwrap();
        pool.mark_failed(b);
        for _ in 0..6 {
            assert_ne!(pool.pick().authority, "b:1");
        }
        // All down: still answers with one (the soonest back).
        for u in &pool.upstreams {
            pool.mark_failed(u);
        }
        let _ = pool.pick();
    }

    #[test]
    fn bad_upstreams_are_refused() {
        for (u, why) in [
            ("https://a:1", "http://"),
            ("http://a:1/path", "path"),
            ("not a url", "URL"),
        ] {
            let e = Routes::new(&[route(None, "/", &[u])], Duration::ZERO).unwrap_err();
            assert!(e.to_string().contains(why), "{u}: {e}");
        }
        assert!(matches!(
            Routes::new(&[route(None, "/", &[])], Duration::ZERO),
            Err(RouteError::NoUpstreams(_))
        ));
        assert!(matches!(
            Routes::new(&[route(None, "api", &["http://a:1"])], Duration::ZERO),
            Err(RouteError::Prefix(_))
        ));
    }
}
