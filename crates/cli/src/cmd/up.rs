//! `secdispatch up`: every service on localhost, one process, embedded store by default.
//!
//! Prints what listens where and writes the same to `endpoints.json` in the data
//! directory, so scripts and `secdispatch demo` can find the services. Stops cleanly on
//! SIGINT/SIGTERM: listeners close, in-flight requests finish (bounded by
//! `limits.shutdown_timeout`), the store is closed and `endpoints.json` removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use secdispatch_server::{Health, Metrics, Shutdown, admin, serve, wait_for_signal};
use secdispatch_store::{NonceStore, Store};
use serde_json::json;

use crate::args::UpArgs;
use crate::context::Context;
use crate::output::{Secrecy, write_file};

/// How often expired nonces are deleted from the store.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);

/// One running service, as printed and as written to `endpoints.json`.
struct Endpoint {
    name: &'static str,
    url: String,
    what: &'static str,
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(mut ctx: Context, args: UpArgs) -> anyhow::Result<ExitCode> {
    let data_dir = ctx.ensure_data_dir()?;
    let store = ctx.open_store().await?;
    tracing::info!(store = store.location(), "store ready");

    let limits = ctx.config.limits.clone();
    let metrics = Metrics::new();
    let health = Health::new();
    let shutdown = Shutdown::new();
    register_store_check(&health, &store);
    spawn_nonce_purge(&shutdown, store.clone());

    let mut endpoints = Vec::new();

    let admin_addr = args.admin.unwrap_or(ctx.config.admin.listen);
    let listener = serve::bind("admin", admin_addr).await?;
    let admin_addr = listener.local_addr()?;
    let app = serve::with_limits(
        admin::router(metrics.clone(), health),
        "admin",
        &limits,
        &metrics,
    );
    shutdown.spawn(serve::serve(
        listener,
        app,
        limits.clone(),
        shutdown.clone(),
    ));
    endpoints.push(Endpoint {
        name: "admin",
        url: format!("http://{admin_addr}"),
        what: "/healthz, /metrics",
    });

    let files: BTreeMap<&str, PathBuf> = BTreeMap::new();
    let endpoints_file = data_dir.join("endpoints.json");
    write_endpoints(&endpoints_file, &data_dir, &store, &endpoints, &files)?;

    println!(
        "secdispatch up: data in {}, store {}",
        data_dir.display(),
        store.location()
    );
    println!();
    println!("  {:<10} {:<32} WHAT", "SERVICE", "ADDRESS");
    for e in &endpoints {
        println!("  {:<10} {:<32} {}", e.name, e.url, e.what);
    }
    println!();
    println!(
        "No protocol service is built into this version yet, so only the admin listener runs."
    );
    println!(
        "Endpoints written to {}. Ctrl-C stops.",
        endpoints_file.display()
    );

    let signal = wait_for_signal()
        .await
        .context("cannot listen for signals")?;
    tracing::info!(signal, "stopping");
    let drained = shutdown.drain(limits.shutdown_timeout).await;
    if !drained {
        tracing::warn!(
            still_running = shutdown.running(),
            timeout = ?limits.shutdown_timeout,
            "shutdown timeout reached; cutting remaining connections"
        );
    }
    store.close().await;
    if let Err(e) = std::fs::remove_file(&endpoints_file) {
        tracing::warn!(file = %endpoints_file.display(), error = %e, "cannot remove endpoints file");
    }
    println!("secdispatch up: stopped");
    Ok(ExitCode::SUCCESS)
}

fn register_store_check(health: &Health, store: &Store) {
    let store = store.clone();
    health.register(
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

fn spawn_nonce_purge(shutdown: &Shutdown, store: Store) {
    let stop = shutdown.clone();
    shutdown.spawn(async move {
        let mut tick = tokio::time::interval(PURGE_INTERVAL);
        loop {
            tokio::select! {
                () = stop.triggered() => return,
                _ = tick.tick() => {}
            }
            match store.purge_expired(SystemTime::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(purged = n, "expired nonces deleted"),
                Err(e) => tracing::warn!(error = %e, "cannot purge expired nonces"),
            }
        }
    });
}

/// Write `endpoints.json` atomically (temporary file, then rename).
fn write_endpoints(
    path: &Path,
    data_dir: &Path,
    store: &Store,
    endpoints: &[Endpoint],
    files: &BTreeMap<&str, PathBuf>,
) -> anyhow::Result<()> {
    let services: serde_json::Map<String, serde_json::Value> = endpoints
        .iter()
        .map(|e| (e.name.to_owned(), json!({"url": e.url, "what": e.what})))
        .collect();
    let doc = json!({
        "secdispatch": env!("CARGO_PKG_VERSION"),
        "pid": std::process::id(),
        "data_dir": data_dir,
        "store": store.location(),
        "services": services,
        "files": files,
    });
    let tmp = path.with_extension("json.tmp");
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    write_file(&tmp, text.as_bytes(), Secrecy::Public, true)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
