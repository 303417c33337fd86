//! `secdispatch demo`: a scripted end-to-end session against a running `secdispatch up`
//! (found through its `endpoints.json`), or against one it starts itself in a temporary
//! data directory. Each step says what it did and what the other side saw:
//!
//! 1. Privacy Pass: the gateway's `/private/` answers 401 with a PrivateToken challenge;
//!    a token comes from the issuer (RFC 9578); the retry is let through.
//! 2. A fresh client certificate from the local CA (composite ML-DSA root), so that the
//!    revocation of step 4 leaves `up`'s own demo certificate alone.
//! 3. mTLS through the TLS-LB load balancer: the backend reports the client certificate it
//!    was given (trusted because the gateway's RFC 9421 signature covers it), the signature,
//!    and the client's address as carried in the lb's encrypted proxy_header (the demo
//!    connects from 127.0.0.2 when it can, so the address is visibly not the lb's).
//! 4. The CA revokes that certificate; the next requests are refused (403) once the OCSP
//!    responder and the gateway's cache have seen it.
//! 5. The token of step 1 is presented again and refused (double spend).
//!
//! Exit status 0 when every step passed, 1 otherwise; `--json` prints one JSON document.

use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, anyhow, bail};
use clap::Args;
use http::{Method, StatusCode};
use secdispatch_privacypass::TokenChallenge;
use secdispatch_privacypass::auth_scheme::{Quoting, build_authorization, parse_www_authenticate};
use secdispatch_privacypass::client::select_challenge;
use secdispatch_server::ca::{Ca, IssueSpec};
use secdispatch_server::issuer::http::{Client, Fetched};
use secdispatch_server::localpki::ISSUING;
use secdispatch_store::{Store, StoreLocation, serial_hex};
use serde_json::{Value, json};

use crate::cmd::token::{IssuerAccess, obtain};
use crate::context::Context;

/// `secdispatch demo`
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// The `endpoints.json` of a running `secdispatch up` (or its data directory)
    /// [default: endpoints.json in the data directory; when there is none, the demo starts
    /// its own `up` in a temporary directory].
    #[arg(long, value_name = "FILE|DIR")]
    against: Option<PathBuf>,
    /// Print the steps as one JSON document.
    #[arg(long)]
    json: bool,
}

/// How long a revocation may take to reach the gateway before the step fails.
const REVOCATION_DEADLINE: Duration = Duration::from_secs(15);

/// The services of an `up`, from its `endpoints.json`.
struct Endpoints {
    ocsp: String,
    gateway: String,
    lb: String,
    admin: String,
    ca_file: PathBuf,
}

impl Endpoints {
    fn read(path: &Path) -> anyhow::Result<Endpoints> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        let url = |name: &str| {
            doc["services"][name]["url"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("{} lists no {name} service", path.display()))
        };
        Ok(Endpoints {
            ocsp: url("ocsp")?,
            gateway: url("gateway")?,
            lb: url("lb")?,
            admin: url("admin")?,
            ca_file: doc["files"]["ca_certificate"]
                .as_str()
                .map(PathBuf::from)
                .ok_or_else(|| anyhow!("{} lists no CA certificate", path.display()))?,
        })
    }
}

/// One step's result.
struct Step {
    title: &'static str,
    ok: bool,
    summary: String,
    detail: Value,
}

/// An `up` the demo started, stopped when dropped.
struct OwnUp {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for OwnUp {
    fn drop(&mut self) {
        // SIGTERM lets it drain; kill if it is still there after a few seconds.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_own_up() -> anyhow::Result<OwnUp> {
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let exe = std::env::current_exe().context("cannot find the secdispatch binary")?;
    let log = std::fs::File::create(dir.path().join("up.log"))?;
    let mut args = vec![
        "--data-dir".to_owned(),
        dir.path().join("data").display().to_string(),
        "up".to_owned(),
    ];
    for flag in [
        "--admin",
        "--gateway",
        "--backend-demo",
        "--issuer",
        "--lb",
        "--ocsp",
        "--watch",
    ] {
        args.push(flag.to_owned());
        args.push("127.0.0.1:0".to_owned());
    }
    let child = std::process::Command::new(exe)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("cannot start secdispatch up")?;
    let up = OwnUp { child, dir };
    let endpoints = up.dir.path().join("data").join("endpoints.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !endpoints.exists() {
        if Instant::now() > deadline {
            bail!(
                "secdispatch up did not start within 60 s (log: {})",
                up.dir.path().join("up.log").display()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(up)
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(ctx: Context, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let (endpoints_file, own) = match &args.against {
        Some(p) if p.is_dir() => (p.join("endpoints.json"), None),
        Some(p) => (p.clone(), None),
        None => {
            let default = ctx.data_dir.join("endpoints.json");
            if default.exists() {
                (default, None)
            } else {
                if !args.json {
                    println!(
                        "No running `secdispatch up` in {}; starting one in a temporary directory.",
                        ctx.data_dir.display()
                    );
                }
                let up = start_own_up()?;
                (up.dir.path().join("data").join("endpoints.json"), Some(up))
            }
        }
    };
    let endpoints = Endpoints::read(&endpoints_file)?;
    // The CA operations use the store of that `up`: its own SQLite file when the demo
    // started it, else the configured store (the same configuration as the `up`).
    let store = match &own {
        Some(up) => Store::open(&StoreLocation::sqlite_in(&up.dir.path().join("data"))).await?,
        None => ctx.open_store().await?,
    };
    let store = Arc::new(store);
    if !args.json {
        println!("secdispatch demo against {}\n", endpoints_file.display());
    }
    let work = tempfile::tempdir()?;
    let mut steps = Vec::new();
    let mut report = |step: Step, json: bool| {
        if !json {
            println!(
                "{:>2}. {} {}: {}",
                steps.len() + 1,
                if step.ok { "✓" } else { "✗" },
                step.title,
                step.summary
            );
        }
        let ok = step.ok;
        steps.push(step);
        ok
    };

    let token = privacy_pass(&ctx, &endpoints).await;
    let authorization = token.as_ref().ok().map(|(_, auth)| auth.clone());
    report(
        outcome("Privacy Pass token", token.map(|(s, _)| s)),
        args.json,
    );

    let identity = client_certificate(&store, &endpoints, work.path()).await;
    let serial = identity.as_ref().ok().map(|(s, _)| s.clone());
    let cont = report(
        outcome("client certificate", identity.map(|(_, s)| s)),
        args.json,
    );

    if cont {
        let through = through_lb(&endpoints, work.path()).await;
        let cont = report(
            outcome("mTLS through the TLS-LB load balancer", through),
            args.json,
        );
        if let (true, Some(serial)) = (cont, &serial) {
            let revoked = revoke(&store, &endpoints, work.path(), serial).await;
            report(outcome("revocation via OCSP", revoked), args.json);
        }
    }
    if let Some(auth) = authorization {
        let replay = replay(&endpoints, &auth).await;
        report(outcome("token replay", replay), args.json);
    }

    let passed = steps.iter().filter(|s| s.ok).count();
    let all = passed == steps.len() && steps.len() == 5;
    if args.json {
        let doc = json!({
            "endpoints": endpoints_file,
            "ok": all,
            "steps": steps.iter().map(|s| json!({"step": s.title, "ok": s.ok, "summary": s.summary, "detail": s.detail})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if all {
        println!("\nall {passed} steps passed");
    } else {
        println!("\n{passed} of 5 steps passed");
    }
    drop(own);
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn outcome(title: &'static str, r: anyhow::Result<(String, Value)>) -> Step {
    match r {
        Ok((summary, detail)) => Step {
            title,
            ok: true,
            summary,
            detail,
        },
        Err(e) => Step {
            title,
            ok: false,
            summary: format!("{e:#}"),
            detail: Value::Null,
        },
    }
}

fn body_json(r: &Fetched) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&r.body).trim().to_owned()))
}

/// Step 1: 401 with a challenge, a token from the issuer, 200 with it. Returns the
/// summary and the Authorization value (for the replay step).
async fn privacy_pass(ctx: &Context, ep: &Endpoints) -> anyhow::Result<((String, Value), String)> {
    let client = Client::with_roots(&ep.ca_file)?;
    let url = format!("{}/private/hello", ep.gateway);
    let first = client.send(Method::GET, &url, &[], Vec::new()).await?;
    if first.status != StatusCode::UNAUTHORIZED {
        bail!("{url} answered {} without a token, not 401", first.status);
    }
    let values: Vec<&str> = first
        .headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let challenges = parse_www_authenticate(values);
    let chosen = select_challenge(&challenges, "localhost")
        .ok_or_else(|| anyhow!("the 401 carries no PrivateToken challenge for this client"))?;
    let challenge: &TokenChallenge = chosen
        .challenge()
        .ok_or_else(|| anyhow!("unsupported challenge"))?;
    let issuer = format!("http://{}", challenge.issuer_name());
    let access = IssuerAccess::with_ca(ep.ca_file.clone());
    let token = obtain(
        ctx,
        &access,
        &issuer,
        challenge,
        chosen.token_key.as_deref(),
    )
    .await?;
    let auth = build_authorization(&token, Quoting::Quoted);
    let second = client
        .send(
            Method::GET,
            &url,
            &[("authorization", auth.as_str())],
            Vec::new(),
        )
        .await?;
    if second.status != StatusCode::OK {
        bail!("{url} answered {} with the token", second.status);
    }
    let seen = body_json(&second);
    let summary = format!(
        "GET /private/hello → 401 with a PrivateToken challenge (type {}, issuer {}); token issued by {issuer} (RFC 9578); with it → 200 from the backend",
        challenge.token_type(),
        challenge.issuer_name()
    );
    Ok((
        (
            summary,
            json!({"token_type": challenge.token_type().0, "issuer": issuer, "backend": seen}),
        ),
        auth,
    ))
}

/// Step 2: a fresh P-256 client certificate from the local issuing CA, written to `dir`.
async fn client_certificate(
    store: &Arc<Store>,
    ep: &Endpoints,
    dir: &Path,
) -> anyhow::Result<(String, (String, Value))> {
    let ca = Ca::new(store.clone());
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let alg = secdispatch_pqpki::Algorithm::from_name("ecdsa-p256-sha256")?;
    let key = secdispatch_pqpki::SigningKey::generate(alg, &mut rng)?;
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let subject = format!("CN=demo run {stamp},O=secdispatch");
    let spec = IssueSpec {
        subject: Some(subject.clone()),
        sans: Vec::new(),
        profile: secdispatch_pqpki::cert::Profile::Client,
        days: 1,
        ocsp_url: None,
    };
    let cert = ca
        .issue(ISSUING, key.public_key(), &spec, SystemTime::now())
        .await
        .context("the local CA could not issue (is this the data directory of the running up?)")?;
    let chain = ca.chain(ISSUING).await?;
    let mut pem = secdispatch_pqpki::cert::to_pem(&cert)?;
    let issuing = chain.first().ok_or_else(|| anyhow!("issuing CA missing"))?;
    pem.push_str(&secdispatch_pqpki::cert::to_pem(issuing)?);
    std::fs::write(dir.join("client.crt"), pem)?;
    std::fs::write(dir.join("client.key"), key.to_pkcs8_pem()?.as_bytes())?;
    let serial = serial_hex(cert.tbs_certificate().serial_number().as_bytes());
    let ocsp_ms = ocsp_knows(ep, issuing, &cert).await?;
    let algs: Vec<String> = chain
        .iter()
        .map(|c| c.signature_algorithm().oid.to_string())
        .collect();
    let root_alg = chain
        .last()
        .and_then(|r| secdispatch_pqpki::Algorithm::from_pq_oid(&r.signature_algorithm().oid).ok())
        .map_or_else(|| "?".to_owned(), |a| a.name().to_owned());
    Ok((
        serial.clone(),
        (
            format!(
                "{subject}, serial {serial}, ECDSA P-256 key, issued by {ISSUING} under a {root_alg} root; the OCSP responder answered \"good\" (signature verified) {ocsp_ms} ms after issuance"
            ),
            json!({"subject": subject, "serial": serial, "chain_signature_oids": algs, "root_algorithm": root_alg, "ocsp_good_after_ms": ocsp_ms}),
        ),
    ))
}

/// Ask the OCSP responder about `cert` until it answers "good" (it learns of new
/// certificates by polling the CA database); the milliseconds that took.
async fn ocsp_knows(
    ep: &Endpoints,
    issuer: &x509_cert::Certificate,
    cert: &x509_cert::Certificate,
) -> anyhow::Result<u128> {
    use secdispatch_ocsp::{CertStatus, HashAlgorithm, RequestBuilder, VerifyOptions};
    let id = secdispatch_ocsp::cert_id_for(issuer, cert, HashAlgorithm::Sha256)?;
    let request = RequestBuilder::new().cert_id(id).to_der()?;
    let started = Instant::now();
    loop {
        let der = secdispatch_server::ocsp::client::query(&ep.ocsp, &request, false).await?;
        let answer = secdispatch_ocsp::verify_response_for(
            &der,
            issuer,
            cert,
            &VerifyOptions::at(SystemTime::now()),
        );
        match answer {
            Ok(v) if matches!(v.status, CertStatus::Good(_)) => {
                return Ok(started.elapsed().as_millis());
            }
            Ok(v) => bail!(
                "the OCSP responder says {:?} for a new certificate",
                v.status
            ),
            Err(e) if started.elapsed() > Duration::from_secs(5) => {
                bail!("the OCSP responder does not know the new certificate: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The lb's address and a client presenting the demo certificate, connecting from
/// 127.0.0.2 when the lb listens on IPv4 loopback.
fn lb_client(ep: &Endpoints, dir: &Path) -> anyhow::Result<(Client, Option<std::net::IpAddr>)> {
    let client = Client::with_identity(
        &ep.ca_file,
        &dir.join("client.crt"),
        &dir.join("client.key"),
    )?
    .timeout(Duration::from_secs(10));
    if ep.lb.contains("://localhost:") || ep.lb.contains("://127.0.0.1:") {
        let ip = std::net::IpAddr::from([127, 0, 0, 2]);
        return Ok((client.source(ip), Some(ip)));
    }
    Ok((client, None))
}

async fn tls_lb_accepted(ep: &Endpoints) -> Option<f64> {
    let m = Client::plain()
        .send(
            Method::GET,
            &format!("{}/metrics", ep.admin),
            &[],
            Vec::new(),
        )
        .await
        .ok()?;
    String::from_utf8_lossy(&m.body).lines().find_map(|l| {
        l.strip_prefix(r#"secdispatch_front_end_accepted_total{via="tls-lb"} "#)
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Step 3: GET /hello through the lb with the client certificate.
async fn through_lb(ep: &Endpoints, dir: &Path) -> anyhow::Result<(String, Value)> {
    let (client, source) = lb_client(ep, dir)?;
    let before = tls_lb_accepted(ep).await.unwrap_or(0.0);
    let url = format!("{}/hello", ep.lb);
    let r = client.send(Method::GET, &url, &[], Vec::new()).await?;
    if r.status != StatusCode::OK {
        bail!("{url} answered {}: {}", r.status, body_json(&r));
    }
    let seen = body_json(&r);
    let after = tls_lb_accepted(ep).await.unwrap_or(0.0);
    let subject = seen["client_certificate"]["subject"]
        .as_str()
        .unwrap_or("none");
    if !subject.starts_with("CN=demo run ") {
        bail!("the backend did not get the client certificate: {seen}");
    }
    if seen["client_certificate"]["trusted_by"] != "gateway-signature" {
        bail!("the backend did not verify the gateway's signature: {seen}");
    }
    let forwarded = seen["forwarded"].as_str().unwrap_or("-").to_owned();
    if let Some(ip) = source
        && !forwarded.contains(&format!("for={ip}"))
    {
        bail!("the backend saw client {forwarded}, not {ip}");
    }
    if after < before + 1.0 {
        bail!("the gateway did not count a connection through TLS-LB");
    }
    let keyid = seen["gateway_signature"]["keyid"].as_str().unwrap_or("-");
    let covered = seen["gateway_signature"]["covered"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    Ok((
        format!(
            "GET {url} → 200. The backend saw: client certificate \"{subject}\" (trusted because the gateway's signature covers it), gateway signature keyid {keyid} over {covered}, client address from the lb's TLS-LB proxy_header: Forwarded \"{forwarded}\" (peer of the lb's connection is not the client)"
        ),
        json!({"backend": seen, "tls_lb_connections_accepted": after - before}),
    ))
}

/// Step 4: revoke, then ask until refused.
async fn revoke(
    store: &Arc<Store>,
    ep: &Endpoints,
    dir: &Path,
    serial: &str,
) -> anyhow::Result<(String, Value)> {
    let ca = Ca::new(store.clone());
    ca.revoke(
        Some(ISSUING),
        serial,
        Some("keyCompromise"),
        SystemTime::now(),
    )
    .await?;
    let revoked = Instant::now();
    let (client, _) = lb_client(ep, dir)?;
    let url = format!("{}/hello", ep.lb);
    loop {
        let r = client.send(Method::GET, &url, &[], Vec::new()).await?;
        match r.status {
            StatusCode::FORBIDDEN => {
                let ms = revoked.elapsed().as_millis();
                let why = body_json(&r);
                return Ok((
                    format!(
                        "the CA revoked serial {serial} (keyCompromise); {ms} ms later the next request was refused: 403 {why}"
                    ),
                    json!({"serial": serial, "refused_after_ms": ms, "status": 403, "body": why}),
                ));
            }
            StatusCode::OK if revoked.elapsed() < REVOCATION_DEADLINE => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            s => bail!(
                "after revocation {url} answered {s} ({} ms after the revocation)",
                revoked.elapsed().as_millis()
            ),
        }
    }
}

/// Step 5: the spent token again.
async fn replay(ep: &Endpoints, auth: &str) -> anyhow::Result<(String, Value)> {
    let client = Client::with_roots(&ep.ca_file)?;
    let url = format!("{}/private/hello", ep.gateway);
    let r = client
        .send(Method::GET, &url, &[("authorization", auth)], Vec::new())
        .await?;
    if r.status != StatusCode::UNAUTHORIZED {
        bail!("the spent token was accepted again: {}", r.status);
    }
    Ok((
        format!(
            "the token of step 1 presented again → {} (double spend refused; a fresh challenge came with it)",
            r.status
        ),
        json!({"status": r.status.as_u16()}),
    ))
}
