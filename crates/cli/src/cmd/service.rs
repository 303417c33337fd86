//! What every long-running command shares: the store, metrics, health checks, the admin
//! listener, and a clean stop on SIGINT/SIGTERM. `up` runs every service on one of these;
//! `gateway`, `backend-demo`, ... run one each.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use clap::Args;
use secdispatch_server::{Health, Metrics, Shutdown, Signals, admin, serve};
use secdispatch_store::{NonceStore, Store};

use crate::context::Context;

/// How often expired nonces are deleted from the store.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// Listener overrides every service command takes.
#[derive(Debug, Args)]
pub(crate) struct ServiceArgs {
    /// Address of the service's listener (overrides the config).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// Address of the admin listener with /healthz and /metrics (overrides admin.listen).
    #[arg(long, value_name = "ADDR")]
    pub(crate) admin: Option<SocketAddr>,
}

/// The shared machinery of a running process.
pub(crate) struct Runtime {
    pub(crate) ctx: Context,
    pub(crate) store: Arc<Store>,
    pub(crate) metrics: Metrics,
    pub(crate) health: Health,
    pub(crate) shutdown: Shutdown,
    /// Registered before any listener exists, so that a SIGINT/SIGTERM sent as soon as
    /// the process reports its addresses is drained like any other, never fatal.
    signals: Signals,
}

impl Runtime {
    /// Signal listeners, data directory, store (with a health check and the nonce purge),
    /// metrics.
    pub(crate) async fn start(mut ctx: Context) -> anyhow::Result<Self> {
        let signals = Signals::listen().context("cannot listen for signals")?;
        ctx.ensure_data_dir()?;
        let store = Arc::new(ctx.open_store().await?);
        tracing::info!(store = store.location(), "store ready");
        let rt = Self {
            ctx,
            store,
            metrics: Metrics::new(),
            health: Health::new(),
            shutdown: Shutdown::new(),
            signals,
        };
        rt.register_store_check();
        rt.spawn_nonce_purge();
        Ok(rt)
    }

    /// Start the admin listener; returns its address.
    pub(crate) async fn admin(&self, addr: Option<SocketAddr>) -> anyhow::Result<SocketAddr> {
        let limits = &self.ctx.config.limits;
        let listener = serve::bind("admin", addr.unwrap_or(self.ctx.config.admin.listen)).await?;
        let local = listener.local_addr()?;
        let app = serve::with_limits(
            admin::router(self.metrics.clone(), self.health.clone()),
            "admin",
            limits,
            &self.metrics,
        );
        self.shutdown.spawn(serve::serve(
            listener,
            app,
            limits.clone(),
            self.shutdown.clone(),
        ));
        Ok(local)
    }

    /// Wait for SIGINT/SIGTERM, drain within `limits.shutdown_timeout`, close the store.
    pub(crate) async fn wait_and_stop(mut self) -> anyhow::Result<()> {
        let signal = self
            .signals
            .recv()
            .await
            .context("cannot listen for signals")?;
        tracing::info!(signal, "stopping");
        let timeout = self.ctx.config.limits.shutdown_timeout;
        if !self.shutdown.drain(timeout).await {
            tracing::warn!(
                still_running = self.shutdown.running(),
                ?timeout,
                "shutdown timeout reached; cutting remaining connections"
            );
        }
        self.store.close().await;
        Ok(())
    }

    /// Report the listener of service `name` in `/healthz`: healthy while it accepts TCP
    /// connections. Under `up` every service runs in one process; one whose listener died
    /// shows here as failing while the others keep serving. Only for listeners where an
    /// empty connection is harmless (plain HTTP, flow events): the gateway and the lb
    /// would count it as a failed handshake and report it as a flow.
    pub(crate) fn watch_listener(&self, name: &str, addr: SocketAddr) {
        let mut target = addr;
        if target.ip().is_unspecified() {
            target.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        self.health.register(
            name,
            Arc::new(move || {
                Box::pin(async move {
                    tokio::net::TcpStream::connect(target)
                        .await
                        .map(|_| format!("listening on {addr}"))
                        .map_err(|e| format!("{addr} does not accept connections: {e}"))
                })
            }),
        );
    }

    fn register_store_check(&self) {
        let store = self.store.clone();
        self.health.register(
            "store",
            Arc::new(move || {
                let store = store.clone();
                Box::pin(async move {
                    store
                        .ping()
                        .await
                        .map(|()| store.location().to_owned())
                        .map_err(|e| e.to_string())
                })
            }),
        );
    }

    fn spawn_nonce_purge(&self) {
        let store = self.store.clone();
        secdispatch_server::services::spawn_every(&self.shutdown, PURGE_INTERVAL, move || {
            let store = store.clone();
            async move {
                match store.purge_expired(SystemTime::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(purged = n, "expired nonces deleted"),
                    Err(e) => tracing::warn!(error = %e, "cannot purge expired nonces"),
                }
            }
        });
    }
}

/// `secdispatch gateway`: the gateway alone.
#[allow(clippy::print_stdout)]
pub(crate) async fn gateway(
    ctx: Context,
    args: ServiceArgs,
) -> anyhow::Result<std::process::ExitCode> {
    let rt = Runtime::start(ctx).await?;
    let listen = args.listen.unwrap_or(rt.ctx.config.gateway.listen);
    let admin = rt.admin(args.admin).await?;
    let addr = secdispatch_server::services::start_gateway(
        &rt.ctx.config,
        &rt.ctx.data_dir,
        listen,
        rt.store.clone(),
        None,
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    println!("gateway listening on https://{addr}, admin on http://{admin}");
    rt.wait_and_stop().await?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// `secdispatch backend-demo`: the demo backend alone.
#[allow(clippy::print_stdout)]
pub(crate) async fn backend_demo(
    ctx: Context,
    args: ServiceArgs,
) -> anyhow::Result<std::process::ExitCode> {
    let rt = Runtime::start(ctx).await?;
    let listen = args.listen.unwrap_or(rt.ctx.config.backend_demo.listen);
    let admin = rt.admin(args.admin).await?;
    let addr = secdispatch_server::services::start_backend_demo(
        &rt.ctx.config,
        listen,
        rt.store.clone(),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    rt.watch_listener("backend-demo", addr);
    println!("backend-demo listening on http://{addr}, admin on http://{admin}");
    rt.wait_and_stop().await?;
    Ok(std::process::ExitCode::SUCCESS)
}
