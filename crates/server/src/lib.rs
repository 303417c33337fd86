//! # secdispatch-server — the plumbing every secdispatch service runs on
//!
//! The protocol cores of secdispatch are sans-I/O; this crate gives them sockets. It holds
//! what all services share, so that each service module is only its protocol:
//!
//! * [`config`]: the one TOML configuration file (schema, defaults, precise errors);
//! * [`serve`]: HTTP/1.1 + HTTP/2 listeners with the shared size limits (431, 413) and
//!   timeouts (slow clients, slow handlers, idle connections);
//! * [`Shutdown`]: SIGINT/SIGTERM handling and draining with a deadline;
//! * [`admin`]: the admin listener with `/healthz` and Prometheus `/metrics` ([`Metrics`]).
//!
//! ```no_run
//! use secdispatch_server::{Health, Metrics, Shutdown, admin, config::Config, serve};
//!
//! # async fn run() -> std::io::Result<()> {
//! let mut signals = secdispatch_server::Signals::listen()?;
//! let config = Config::default();
//! let (metrics, health, shutdown) = (Metrics::new(), Health::new(), Shutdown::new());
//! let app = serve::with_limits(admin::router(metrics.clone(), health), "admin", &config.limits, &metrics);
//! let listener = serve::bind("admin", config.admin.listen).await?;
//! shutdown.spawn(serve::serve(listener, app, config.limits.clone(), shutdown.clone()));
//! signals.recv().await?;
//! shutdown.drain(config.limits.shutdown_timeout).await;
//! # Ok(()) }
//! ```

// Handlers return `Result<_, Response>` so an early exit is the response itself; boxing
// every rejection would buy nothing on these cold paths.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod backend;
pub mod backend_demo;
pub mod ca;
pub mod config;
pub mod flow_events;
pub mod gateway;
pub mod issuer;
pub mod keyring;
pub mod lb;
pub mod lifecycle_watch;
pub mod localpki;
pub mod metrics;
pub mod ocsp;
pub mod serve;
pub mod services;
mod shutdown;

pub use admin::Health;
pub use metrics::Metrics;
pub use shutdown::{Shutdown, Signals};
