//! Starting each service from the configuration: what `secdispatch up` and the single
//! service commands (`gateway`, `backend-demo`) share. Each `start_*` binds its listener,
//! spawns its tasks on the [`Shutdown`] and returns the bound address.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secdispatch_store::{KeyStore, Store};

use crate::Shutdown;
use crate::backend::GatewayTrust;
use crate::config::{ClientAuth, Config, RouteConfig};
use crate::gateway::tls::{CertSource, ClientValidator, HostAuth, TlsTerminator};
use crate::gateway::{Gateway, GatewayError};
use crate::keyring::{SigningKeyring, VerifyingKeyring};
use crate::localpki::LocalPki;
use crate::metrics::Metrics;
use crate::serve;

/// Why a service did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listener could not bind.
    #[error(transparent)]
    Bind(#[from] std::io::Error),
    /// The gateway's configuration is unusable.
    #[error("gateway: {0}")]
    Gateway(#[from] GatewayError),
    /// TLS material is unusable.
    #[error("gateway: {0}")]
    Tls(#[from] crate::gateway::tls::TlsError),
    /// A signing or verifying key is unusable.
    #[error(transparent)]
    Keyring(#[from] crate::keyring::KeyringError),
    /// Something else the message explains.
    #[error("{0}")]
    Other(String),
}

/// How often the gateway checks its signing key for rotation and backends reload keys.
const KEY_REFRESH: Duration = Duration::from_secs(15);

/// Start the gateway. Routes come from the configuration; `default_upstream` (used by
/// `up`) adds a catch-all route to the demo backend when none is configured.
pub async fn start_gateway(
    config: &Config,
    data_dir: &Path,
    listen: SocketAddr,
    store: Arc<Store>,
    default_upstream: Option<SocketAddr>,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<SocketAddr, StartError> {
    let mut gw_config = config.gateway.clone();
    if gw_config.routes.is_empty()
        && let Some(up) = default_upstream
    {
        gw_config.routes.push(RouteConfig {
            host: None,
            path_prefix: "/".into(),
            client_auth: ClientAuth::Optional,
            upstreams: vec![format!("http://{up}")],
            upstream_protocol: crate::config::UpstreamProtocol::Http1,
            privacy_pass: None,
        });
    }
    if gw_config.routes.is_empty() {
        return Err(StartError::Other(
            "gateway: no routes configured ([[gateway.routes]] in the config file)".into(),
        ));
    }

    let pki = LocalPki::at(data_dir);
    let sources: Vec<CertSource> = if gw_config.certificates.is_empty() {
        if !pki.exists() {
            return Err(StartError::Other(format!(
                "gateway: no certificate configured and none in {} (run `secdispatch up` once, \
                 or set [[gateway.certificates]])",
                pki.dir.display()
            )));
        }
        vec![CertSource {
            server_names: vec![],
            cert: pki.gateway_cert.clone(),
            key: pki.gateway_key.clone(),
        }]
    } else {
        gw_config
            .certificates
            .iter()
            .map(|c| CertSource {
                server_names: c.server_names.clone(),
                cert: c.cert.clone(),
                key: c.key.clone(),
            })
            .collect()
    };

    // Client-auth mode per host, from the routes that can serve it.
    let named: Vec<String> = gw_config
        .routes
        .iter()
        .filter_map(|r| r.host.clone())
        .collect();
    let wildcard = gw_config
        .routes
        .iter()
        .filter(|r| r.host.is_none())
        .map(|r| r.client_auth);
    let mut host_auth = HashMap::new();
    for h in &named {
        let modes = gw_config
            .routes
            .iter()
            .filter(|r| r.host.as_deref().is_none_or(|x| x.eq_ignore_ascii_case(h)))
            .map(|r| r.client_auth);
        host_auth.insert(h.to_ascii_lowercase(), HostAuth::of_routes(modes));
    }
    let any_host = HostAuth::of_routes(wildcard);
    let no_sni = HostAuth::of_routes(gw_config.routes.iter().map(|r| r.client_auth));
    let wants_certs = gw_config
        .routes
        .iter()
        .any(|r| r.client_auth != ClientAuth::None);
    let validator = if wants_certs {
        let ca = gw_config
            .client_ca
            .clone()
            .unwrap_or_else(|| pki.root_cert.clone());
        Some(Arc::new(ClientValidator::from_pem_file(&ca)?))
    } else {
        None
    };
    let anchors = validator.as_ref().map(|v| v.anchors().to_vec());
    let tls = Arc::new(TlsTerminator::new(
        sources, validator, host_auth, any_host, no_sni,
    )?);

    let signer = if gw_config.signing.enabled {
        let keyring = Arc::new(SigningKeyring::new(
            store.clone() as Arc<dyn KeyStore>,
            &gw_config.signing.key_name,
            &gw_config.signing.algorithm,
            gw_config.signing.key_lifetime,
        )?);
        keyring.refresh(SystemTime::now()).await?;
        spawn_every(shutdown, KEY_REFRESH, {
            let keyring = keyring.clone();
            move || {
                let keyring = keyring.clone();
                async move {
                    if let Err(e) = keyring.refresh(SystemTime::now()).await {
                        tracing::error!(error = %e, "gateway signing key refresh failed");
                    }
                }
            }
        });
        Some(keyring)
    } else {
        tracing::warn!(
            "gateway signing is disabled: backends cannot tell forwarded requests from forged ones"
        );
        None
    };

    let mut gateway = Gateway::new(&gw_config, tls.clone(), signer, &config.limits, metrics)?;
    if let Some(to) = gw_config.flow_events {
        gateway = gateway.with_flow_events(crate::flow_events::FlowReporter::start(
            "gateway", to, metrics, shutdown,
        ));
    }
    if gw_config.ocsp.enabled {
        let Some(anchors) = anchors else {
            return Err(StartError::Other(
                "gateway: [gateway.ocsp] is enabled but no route asks for client certificates"
                    .into(),
            ));
        };
        gateway = gateway.with_revocation(Arc::new(
            crate::gateway::revocation::RevocationChecker::new(
                gw_config.ocsp.clone(),
                anchors,
                metrics,
            ),
        ));
    }
    let gateway = Arc::new(gateway);
    gateway.privacy_pass().bind_store(store);
    spawn_every(shutdown, gw_config.reload_interval, move || {
        let tls = tls.clone();
        async move {
            match tls.reload_if_changed() {
                Ok(true) => tracing::info!("gateway certificates reloaded"),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(error = %e, "gateway certificates changed but do not load; keeping the old ones")
                }
            }
        }
    });
    let front_end = crate::lb::front_end(&gw_config.front_end, data_dir, metrics, shutdown)?;
    let listener = serve::bind("gateway", listen).await?;
    let addr = listener.local_addr()?;
    if gw_config.workers == 0 {
        shutdown.spawn(gateway.run(listener, front_end, shutdown.clone()));
        return Ok(addr);
    }
    // Worker event loops, each with its own copy of the listening socket.
    let listener = listener.into_std()?;
    for i in 0..gw_config.workers {
        let gateway = gateway.clone();
        let front_end = front_end.clone();
        serve::spawn_worker(
            format!("gateway-{i}"),
            listener.try_clone()?,
            shutdown,
            move |listener, shutdown| gateway.run(listener, front_end, shutdown),
        )?;
    }
    Ok(addr)
}

/// Make the gateway's signing key if the store has none valid now, so that a backend
/// started next loads it (`up` starts the backend before the gateway).
pub async fn ensure_gateway_key(config: &Config, store: Arc<Store>) -> Result<(), StartError> {
    if config.gateway.signing.enabled {
        SigningKeyring::new(
            store as Arc<dyn KeyStore>,
            &config.gateway.signing.key_name,
            &config.gateway.signing.algorithm,
            config.gateway.signing.key_lifetime,
        )?
        .refresh(SystemTime::now())
        .await?;
    }
    Ok(())
}

/// Start the demo backend: trusts the gateway's signing keys from the store and the
/// configured peers.
pub async fn start_backend_demo(
    config: &Config,
    listen: SocketAddr,
    store: Arc<Store>,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<SocketAddr, StartError> {
    let keys = Arc::new(VerifyingKeyring::new(
        store as Arc<dyn KeyStore>,
        &config.gateway.signing.key_name,
    ));
    keys.refresh().await?;
    spawn_every(shutdown, KEY_REFRESH, {
        let keys = keys.clone();
        move || {
            let keys = keys.clone();
            async move {
                if let Err(e) = keys.refresh().await {
                    tracing::error!(error = %e, "backend key refresh failed");
                }
            }
        }
    });
    let trust = GatewayTrust::new(
        keys,
        &config.gateway.signing.label,
        &config.gateway.signing.tag,
        Duration::from_secs(300),
        config.backend_demo.trusted_peers.clone(),
        config.limits.max_body_bytes,
    );
    let app = crate::backend_demo::router().layer(trust.layer());
    let app = serve::with_limits(app, "backend-demo", &config.limits, metrics);
    let listener = serve::bind("backend-demo", listen).await?;
    let addr = listener.local_addr()?;
    shutdown.spawn(serve::serve(
        listener,
        app,
        config.limits.clone(),
        shutdown.clone(),
    ));
    Ok(addr)
}

/// Run `task` every `period` until shutdown.
pub fn spawn_every<F, Fut>(shutdown: &Shutdown, period: Duration, task: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let stop = shutdown.clone();
    shutdown.spawn(async move {
        let mut tick = tokio::time::interval(period.max(Duration::from_millis(100)));
        tick.tick().await;
        loop {
            tokio::select! {
                () = stop.triggered() => return,
                _ = tick.tick() => task().await,
            }
        }
    });
}

/// Keep one timer pending that always expires within `every` (at least 100 ms) of now, so
/// that setting a timeout of `every` or longer never makes tokio wake its own I/O driver.
///
/// tokio's time driver writes to the I/O driver's `eventfd` whenever a timer is set that
/// expires before every timer pending when the driver last parked, in case a thread sleeps
/// in `epoll_wait` until then — also on a single-threaded runtime, where nobody does.
/// Connection-setup timeouts (seconds) are set and cancelled within a millisecond, so under
/// load the timer wheel was often empty when the driver parked, and `secdispatch lb` made
/// 1.0 (PROXY v2) to 1.6 (TLS-LB) such `write`s per connection (strace). With this timer
/// pending, the driver never sleeps past `every` from now, so no longer timeout needs to
/// wake it. It costs one wake-up per `every`; shorter timeouts work as before.
pub fn keep_timer_floor(shutdown: &Shutdown, every: Duration) {
    spawn_every(shutdown, every, || async {});
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::print_stderr)]
    use super::*;

    /// `write`-family system calls made by this thread so far (Linux task I/O accounting).
    fn writes() -> Option<u64> {
        let io = std::fs::read_to_string("/proc/thread-self/io").ok()?;
        io.lines()
            .find_map(|l| l.strip_prefix("syscw: "))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Writes made while setting 50 timeouts of 2 s around a future that is pending once,
    /// each after the driver parked with no timeout pending (as between connections).
    async fn writes_for_timeouts() -> u64 {
        let before = writes().unwrap_or(0);
        for _ in 0..50 {
            let _ = tokio::time::timeout(Duration::from_secs(2), tokio::task::yield_now()).await;
            tokio::task::yield_now().await;
        }
        writes().unwrap_or(0) - before
    }

    #[tokio::test(flavor = "current_thread")]
    async fn with_a_timer_floor_timeouts_do_not_wake_the_driver() {
        if writes().is_none() {
            eprintln!("skipped: /proc/thread-self/io is not available (no task I/O accounting)");
            return;
        }
        let shutdown = Shutdown::new();
        let without = writes_for_timeouts().await;
        keep_timer_floor(&shutdown, Duration::from_secs(1));
        tokio::task::yield_now().await;
        let with = writes_for_timeouts().await;
        shutdown.trigger();
        assert!(
            without >= 40,
            "without the floor, {without} eventfd writes for 50 timeouts (expected one each)"
        );
        assert_eq!(
            with, 0,
            "{with} eventfd writes for 50 timeouts with the floor"
        );
    }
}
