//! `secdispatch up`: every service on localhost, one process, embedded store by default.
//!
//! From an empty data directory it makes the local PKI (a composite root and issuing CA in
//! the certificate database, gateway and demo client certificates in `pki/`) and the
//! gateway's signing key, then starts the demo backend, the Privacy Pass issuer, the OCSP
//! responder for the local CA, the gateway in front of the backend (checking client
//! certificates with that responder) and the admin listener. Without configured routes the
//! gateway forwards everything to the demo backend and asks for a Privacy Pass token
//! (RFC 9577, type 2 from the issuer) under `/private/`. The TLS-LB load balancer
//! (draft-schwartz-tls-lb-02) runs in front of the gateway with a key made on first
//! start; the gateway accepts both its connections and direct ones. A lifecycle watcher
//! takes the flow events of both and logs the clients' malware-lifecycle state changes.
//! It prints what listens where and writes the same to `endpoints.json` in the data
//! directory, so scripts and `secdispatch demo` can find the services. A second
//! start reuses everything. SIGINT/SIGTERM: listeners close, in-flight requests finish
//! (bounded by `limits.shutdown_timeout`), the store is closed and `endpoints.json` removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use secdispatch_server::ca::Ca;
use secdispatch_server::config::{ClientAuth, RouteConfig, UpstreamProtocol};
use secdispatch_server::issuer::{PrivacyPassRouteConfig, RedemptionContextConfig};
use secdispatch_server::lb::{self, FrontEndProtocol, LbHeader, PoolConfig};
use secdispatch_server::localpki::LocalPki;
use secdispatch_server::services;
use secdispatch_tlslb::encrypted::Cipher;
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
    let mut config = rt.ctx.config.clone();

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
    rt.watch_listener("backend", backend);
    endpoints.push(Endpoint {
        name: "backend",
        url: format!("http://{backend}"),
        what: "demo app; accepts only requests signed by the gateway",
    });
    let issuer = secdispatch_server::issuer::start_issuer(
        &config,
        args.issuer.unwrap_or(config.issuer.listen),
        rt.store.clone(),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    rt.watch_listener("issuer", issuer);
    endpoints.push(Endpoint {
        name: "issuer",
        url: format!("http://{issuer}"),
        what: "Privacy Pass issuer (RFC 9578): directory and token requests",
    });
    if config.gateway.routes.is_empty() {
        config.gateway.routes = demo_routes(backend, issuer);
    }
    // The OCSP responder answers for the local CA; the gateway asks it about every client
    // certificate (unless the configuration already set up revocation checking).
    let ocsp = secdispatch_server::ocsp::start_ocsp(
        &config,
        args.ocsp.unwrap_or(config.ocsp.listen),
        rt.store.clone(),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    rt.watch_listener("ocsp", ocsp);
    endpoints.push(Endpoint {
        name: "ocsp",
        url: format!("http://{ocsp}"),
        what: "OCSP responder (RFC 6960/9919, OCSPv2 experimental) for the local CA",
    });
    if !config.gateway.ocsp.enabled {
        config.gateway.ocsp.enabled = true;
        config.gateway.ocsp.responder = format!("http://{ocsp}");
        // A revocation reaches the gateway within a second (the demo shows it).
        config.gateway.ocsp.cache_max_age = std::time::Duration::from_secs(1);
    }
    // The lifecycle watcher takes the flow events of the lb and of direct gateway clients,
    // unless the configuration sends them elsewhere.
    let watcher = secdispatch_server::lifecycle_watch::start_lifecycle_watch(
        args.watch,
        std::time::Duration::from_secs(1),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    config.gateway.flow_events.get_or_insert(watcher);
    config.lb.flow_events.get_or_insert(watcher);
    rt.watch_listener("lifecycle", watcher);
    endpoints.push(Endpoint {
        name: "lifecycle",
        url: format!("tcp://{watcher}"),
        what: "lifecycle watcher: flow events of lb and gateway; state changes in the log and /metrics",
    });
    let lb_keys = lb::key_path(config.lb.key_file.as_deref(), &data_dir);
    if config.lb.header == LbHeader::TlsLb && !lb_keys.exists() {
        let id = lb::keygen(&lb_keys, Cipher::Aes128Gcm, None).map_err(|e| anyhow::anyhow!(e))?;
        tracing::info!(file = %lb_keys.display(), identity = id, "TLS-LB key made");
    }
    let lb_in_front =
        config.lb.pools.is_empty() && config.gateway.front_end.protocol == FrontEndProtocol::None;
    if lb_in_front {
        config.gateway.front_end.protocol = match config.lb.header {
            LbHeader::TlsLb => FrontEndProtocol::TlsLb,
            LbHeader::ProxyV1 | LbHeader::ProxyV2 => FrontEndProtocol::Proxy,
            LbHeader::None => FrontEndProtocol::None,
        };
        config.gateway.front_end.content_type = config.lb.content_type;
        config.gateway.front_end.key_file = config.lb.key_file.clone();
    }
    let gateway = services::start_gateway(
        &config,
        &data_dir,
        args.gateway.unwrap_or(config.gateway.listen),
        rt.store.clone(),
        None,
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    endpoints.push(Endpoint {
        name: "gateway",
        url: format!("https://localhost:{}", gateway.port()),
        what: "TLS + mTLS, Client-Cert (RFC 9440), signs for the backend (RFC 9421); /private/ needs a Privacy Pass token",
    });
    if lb_in_front {
        config.lb.pools = vec![PoolConfig {
            server_names: Vec::new(),
            backends: vec![gateway],
        }];
    }
    let balancer = lb::start_lb(
        &config,
        &data_dir,
        args.lb.unwrap_or(config.lb.listen),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    endpoints.push(Endpoint {
        name: "lb",
        url: format!("https://localhost:{}", balancer.port()),
        what: "TLS-LB load balancer (draft-schwartz-tls-lb-02) in front of the gateway",
    });

    let mut files: BTreeMap<&str, PathBuf> = BTreeMap::from([
        ("ca_certificate", pki.root_cert.clone()),
        ("client_certificate", pki.client_cert.clone()),
        ("client_key", pki.client_key.clone()),
    ]);
    if lb_keys.exists() {
        files.insert("tlslb_keys", lb_keys);
    }
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
        "     secdispatch --data-dir {} token fetch https://localhost:{}/private/hello",
        data_dir.display(),
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

/// The gateway routes of `up` when none are configured: everything to the demo backend
/// (client certificate optional), and `/private/` behind a Privacy Pass type 2 token from
/// the local issuer, which shares the store.
fn demo_routes(backend: std::net::SocketAddr, issuer: std::net::SocketAddr) -> Vec<RouteConfig> {
    let route = |prefix: &str, privacy_pass| RouteConfig {
        host: None,
        path_prefix: prefix.into(),
        client_auth: ClientAuth::Optional,
        upstreams: vec![format!("http://{backend}")],
        upstream_protocol: UpstreamProtocol::Http1,
        privacy_pass,
    };
    vec![
        route("/", None),
        route(
            "/private",
            Some(PrivacyPassRouteConfig {
                issuer_name: issuer.to_string(),
                directory_url: None,
                token_types: vec![2],
                redemption_context: RedemptionContextConfig::Empty,
                origin_info: vec![],
                max_age: std::time::Duration::from_secs(60),
                key_refresh: std::time::Duration::from_secs(60),
                shared_store: true,
            }),
        ),
    ]
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
