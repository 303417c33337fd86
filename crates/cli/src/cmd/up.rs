//! `secdispatch up`: every service on localhost, one process, embedded store by default.
//!
//! From an empty data directory it makes the local PKI (a composite root and issuing CA in
//! the certificate database, gateway and demo client certificates in `pki/`) and the
//! gateway's signing key, then starts the demo backend, the gateway in front of it and the
//! admin listener. It prints what listens where and writes the same to `endpoints.json` in
//! the data directory, so scripts and `secdispatch demo` can find the services. A second
//! start reuses everything. SIGINT/SIGTERM: listeners close, in-flight requests finish
//! (bounded by `limits.shutdown_timeout`), the store is closed and `endpoints.json` removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use secdispatch_server::ca::Ca;
use secdispatch_server::localpki::LocalPki;
use secdispatch_server::services;
use serde_json::json;

use crate::args::UpArgs;
use crate::cmd::service::Runtime;
use crate::context::Context;
use crate::output::{Secrecy, write_file};

/// An OpenSSL configuration that lets curl load a client certificate whose issuer signs
/// with composite ML-DSA (OpenSSL 3.0 does not know the algorithm and otherwise refuses).
const OPENSSL_SECLEVEL0: &str = "openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n\
[ssl_sect]\nsystem_default = system_default_sect\n[system_default_sect]\nCipherString = DEFAULT@SECLEVEL=0\n";

/// One running service, as printed and as written to `endpoints.json`.
struct Endpoint {
    name: &'static str,
    url: String,
    what: &'static str,
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(ctx: Context, args: UpArgs) -> anyhow::Result<ExitCode> {
    let rt = Runtime::start(ctx).await?;
    let data_dir = rt.ctx.data_dir.clone();
    let config = rt.ctx.config.clone();

    let pki = LocalPki::at(&data_dir);
    let made = pki
        .ensure(
            &Ca::new(rt.store.clone()),
            &["localhost", "127.0.0.1"],
            None,
            SystemTime::now(),
        )
        .await
        .context("cannot make the local PKI")?;
    if made {
        tracing::info!(dir = %pki.dir.display(), "local PKI made");
    }
    // The signing key exists before the backend loads the keys it trusts.
    services::ensure_gateway_key(&config, rt.store.clone()).await?;

    let mut endpoints = Vec::new();
    let admin = rt.admin(args.admin).await?;
    endpoints.push(Endpoint {
        name: "admin",
        url: format!("http://{admin}"),
        what: "/healthz, /metrics",
    });

    let backend = services::start_backend_demo(
        &config,
        args.backend_demo.unwrap_or(config.backend_demo.listen),
        rt.store.clone(),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    endpoints.push(Endpoint {
        name: "backend",
        url: format!("http://{backend}"),
        what: "demo app; accepts only requests signed by the gateway",
    });
    let gateway = services::start_gateway(
        &config,
        &data_dir,
        args.gateway.unwrap_or(config.gateway.listen),
        rt.store.clone(),
        Some(backend),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    endpoints.push(Endpoint {
        name: "gateway",
        url: format!("https://localhost:{}", gateway.port()),
        what: "TLS + mTLS, Client-Cert (RFC 9440), signs for the backend (RFC 9421)",
    });

    let files: BTreeMap<&str, PathBuf> = BTreeMap::from([
        ("ca_certificate", pki.root_cert.clone()),
        ("client_certificate", pki.client_cert.clone()),
        ("client_key", pki.client_key.clone()),
    ]);
    let endpoints_file = data_dir.join("endpoints.json");
    write_endpoints(
        &endpoints_file,
        &data_dir,
        rt.store.location(),
        &endpoints,
        &files,
    )?;

    println!(
        "secdispatch up: data in {}, store {}",
        data_dir.display(),
        rt.store.location()
    );
    println!();
    println!("  {:<10} {:<32} WHAT", "SERVICE", "ADDRESS");
    for e in &endpoints {
        println!("  {:<10} {:<32} {}", e.name, e.url, e.what);
    }
    println!();
    for (name, path) in &files {
        println!("  {:<20} {}", name.replace('_', " "), path.display());
    }
    println!();
    // OpenSSL 3.0 cannot verify a composite root (hence -k) and refuses to load a client
    // certificate signed with an algorithm it does not know unless its security level is
    // 0 (hence the configuration file); the gateway still checks the client certificate.
    let ossl = pki.dir.join("openssl-seclevel0.cnf");
    write_file(&ossl, OPENSSL_SECLEVEL0.as_bytes(), Secrecy::Public, true)?;
    println!(
        "Try: OPENSSL_CONF={} curl -k --cert {} --key {} https://localhost:{}/hello",
        ossl.display(),
        pki.client_cert.display(),
        pki.client_key.display(),
        gateway.port()
    );
    println!(
        "Endpoints written to {}. Ctrl-C stops.",
        endpoints_file.display()
    );

    rt.wait_and_stop().await?;
    if let Err(e) = std::fs::remove_file(&endpoints_file) {
        tracing::warn!(file = %endpoints_file.display(), error = %e, "cannot remove endpoints file");
    }
    println!("secdispatch up: stopped");
    Ok(ExitCode::SUCCESS)
}

/// Write `endpoints.json` atomically (temporary file, then rename).
fn write_endpoints(
    path: &Path,
    data_dir: &Path,
    store: &str,
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
        "store": store,
        "services": services,
        "files": files,
    });
    let tmp = path.with_extension("json.tmp");
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    write_file(&tmp, text.as_bytes(), Secrecy::Public, true)?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
