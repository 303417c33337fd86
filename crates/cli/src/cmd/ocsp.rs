//! `secdispatch ocsp serve`: the OCSP responder alone; `secdispatch ocsp query`: our client
//! (builds the request, sends it, verifies signature, CertID and freshness, prints the
//! status); `secdispatch ocsp import-index`: bring an OpenSSL CA's `index.txt` into the CA
//! database so that the responder answers for it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use der::{Decode, Encode};
use secdispatch_ocsp::{
    CertStatus, HashAlgorithm, Nonce, PreferredSignatureAlgorithm, RequestBuilder, VerifiedStatus,
    VerifyError, VerifyOptions, cert_id_for, verify_bundle, verify_response_for,
};
use secdispatch_pqpki::{Algorithm, SigningKey};
use secdispatch_server::ocsp::client;
use secdispatch_server::ocsp::source::parse_index;
use secdispatch_store::{
    Authority, CertificateDb, IssuedCertificate, KeyStore, NewKey, Revocation,
};
use x509_cert::Certificate;

use crate::cmd::service::{Runtime, ServiceArgs};
use crate::context::Context;

/// `secdispatch ocsp ...`
#[derive(Debug, Subcommand)]
pub(crate) enum OcspCommand {
    /// Run the OCSP responder over the CA database (`[ocsp]` in the config).
    Serve(ServiceArgs),
    /// Ask a responder about a certificate, verify the answer, print the status. Exit code:
    /// 0 good, 1 revoked, 2 unknown, 3 no valid answer.
    Query(QueryArgs),
    /// Import an OpenSSL CA database (index.txt: V/R/E lines) into the CA database, creating
    /// the authority from --ca-cert and --ca-key when it does not exist yet; `ocsp serve`
    /// then answers for it. Importing again applies new revocations.
    ImportIndex {
        /// Name of the authority in the store.
        #[arg(long)]
        authority: String,
        /// The CA certificate (PEM or DER); needed when the authority is new.
        #[arg(long, value_name = "FILE")]
        ca_cert: Option<PathBuf>,
        /// The CA private key (PKCS#8 PEM); needed when the authority is new.
        #[arg(long, value_name = "FILE", requires = "ca_cert")]
        ca_key: Option<PathBuf>,
        /// The index.txt file.
        index: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The issuer's certificate (PEM or DER).
    #[arg(long, value_name = "FILE")]
    issuer: PathBuf,
    /// The certificate asked about (PEM or DER).
    #[arg(long, value_name = "FILE")]
    cert: PathBuf,
    /// Responder URL.
    #[arg(long)]
    url: String,
    /// Send a 32-byte nonce (RFC 9654) and require it echoed.
    #[arg(long)]
    nonce: bool,
    /// EXPERIMENTAL: opt in to OCSPv2 range responses.
    #[arg(long)]
    range: bool,
    /// EXPERIMENTAL: ask for an OCSPv2 chain bundle; FILE holds the certificates above
    /// --issuer (PEM), its issuer first, up to the root.
    #[arg(long, value_name = "FILE")]
    chain: Option<PathBuf>,
    /// Send by GET (RFC 9919) instead of POST.
    #[arg(long)]
    get: bool,
    /// SHA-1 CertID (legacy) instead of SHA-256.
    #[arg(long)]
    sha1: bool,
    /// Preferred signature algorithm of the response (repeatable, most preferred first;
    /// names of `secdispatch pki algs`).
    #[arg(long, value_name = "ALG")]
    prefer_alg: Vec<String>,
    /// Locally trusted responder certificates (PEM), like openssl's -VAfile.
    #[arg(long, value_name = "FILE")]
    trust: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(ctx: Context, cmd: OcspCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        OcspCommand::Serve(args) => serve(ctx, args).await,
        OcspCommand::Query(args) => query(args).await,
        OcspCommand::ImportIndex {
            authority,
            ca_cert,
            ca_key,
            index,
        } => {
            import_index(
                ctx,
                &authority,
                ca_cert.as_deref(),
                ca_key.as_deref(),
                &index,
            )
            .await
        }
    }
}

#[allow(clippy::print_stdout)]
async fn serve(ctx: Context, args: ServiceArgs) -> anyhow::Result<ExitCode> {
    let rt = Runtime::start(ctx).await?;
    let listen = args.listen.unwrap_or(rt.ctx.config.ocsp.listen);
    let admin = rt.admin(args.admin).await?;
    let addr = secdispatch_server::ocsp::start_ocsp(
        &rt.ctx.config,
        listen,
        rt.store.clone(),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    rt.watch_listener("ocsp", addr);
    println!("ocsp responder listening on http://{addr}, admin on http://{admin}");
    rt.wait_and_stop().await?;
    Ok(ExitCode::SUCCESS)
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn certs(path: &Path) -> anyhow::Result<Vec<Certificate>> {
    let bytes = read(path)?;
    if bytes.starts_with(b"-----BEGIN") {
        let v = secdispatch_pqpki::cert::chain_from_pem(&String::from_utf8_lossy(&bytes))
            .with_context(|| format!("{}: not PEM certificates", path.display()))?;
        if v.is_empty() {
            bail!("{}: no certificate", path.display());
        }
        Ok(v)
    } else {
        Ok(vec![Certificate::from_der(&bytes).with_context(|| {
            format!("{}: not a DER certificate", path.display())
        })?])
    }
}

fn cert(path: &Path) -> anyhow::Result<Certificate> {
    certs(path)?
        .into_iter()
        .next()
        .with_context(|| format!("{}: no certificate", path.display()))
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn status_fields(v: &VerifiedStatus) -> serde_json::Value {
    let mut o = serde_json::json!({
        "this_update": rfc3339(v.this_update),
        "next_update": v.next_update.map(rfc3339),
        "produced_at": rfc3339(v.produced_at),
        "signer": format!("{:?}", v.signer).to_lowercase(),
        "nonce_echoed": v.nonce_echoed,
    });
    match &v.status {
        CertStatus::Good(_) => o["status"] = "good".into(),
        CertStatus::Unknown(_) => o["status"] = "unknown".into(),
        CertStatus::Revoked(r) => {
            o["status"] = "revoked".into();
            o["revocation_time"] = rfc3339(r.revocation_time.to_system_time()).into();
            o["reason"] = r
                .revocation_reason
                .map(secdispatch_pqpki::crl::reason_name)
                .into();
        }
    }
    if let Some(r) = v.range {
        o["range"] = serde_json::json!({ "start": r.start, "end": r.end });
    }
    if v.extended_revoke {
        o["extended_revoke"] = true.into();
    }
    o
}

#[allow(clippy::print_stdout)]
fn print_status(label: &str, v: &VerifiedStatus) {
    let f = status_fields(v);
    let s = |k: &str| f[k].as_str().unwrap_or("").to_owned();
    println!("{label}: {}", s("status"));
    if f["status"] == "revoked" {
        println!(
            "\tReason: {}",
            f["reason"].as_str().unwrap_or("unspecified")
        );
        println!("\tRevocation Time: {}", s("revocation_time"));
    }
    println!("\tThis Update: {}", s("this_update"));
    if let Some(n) = f["next_update"].as_str() {
        println!("\tNext Update: {n}");
    }
    if let Some(r) = v.range {
        match r.end {
            Some(e) => println!("\tRange: {}..={e} (OCSPv2, experimental)", r.start),
            None => println!("\tRange: {}.. (OCSPv2, experimental)", r.start),
        }
    }
    println!("\tSigner: {}", s("signer"));
}

fn exit_for(statuses: &[VerifiedStatus]) -> ExitCode {
    if statuses
        .iter()
        .any(|v| matches!(v.status, CertStatus::Revoked(_)))
    {
        ExitCode::from(1)
    } else if statuses
        .iter()
        .any(|v| matches!(v.status, CertStatus::Unknown(_)))
    {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
async fn query(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let issuer = cert(&args.issuer)?;
    let leaf = cert(&args.cert)?;
    let above = match &args.chain {
        Some(p) => certs(p)?,
        None => Vec::new(),
    };
    let trusted = match &args.trust {
        Some(p) => certs(p)?,
        None => Vec::new(),
    };
    let hash = if args.sha1 {
        HashAlgorithm::Sha1
    } else {
        HashAlgorithm::Sha256
    };
    let mut b = RequestBuilder::new().cert_id(cert_id_for(&issuer, &leaf, hash)?);
    let nonce_value = if args.nonce {
        let mut n = [0u8; 32];
        getrandom::fill(&mut n).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        b = b.nonce(&Nonce::new(&n)?)?;
        Some(n)
    } else {
        None
    };
    if args.range {
        b = b.range_opt_in()?;
    }
    if args.chain.is_some() {
        b = b.include_chain()?;
    }
    if !args.prefer_alg.is_empty() {
        let prefs = args
            .prefer_alg
            .iter()
            .map(|n| {
                let a = Algorithm::from_name(n)
                    .with_context(|| "run `secdispatch pki algs` for the names")?;
                Ok(PreferredSignatureAlgorithm {
                    sig_identifier: x509_cert::spki::AlgorithmIdentifierOwned {
                        oid: a.oid(),
                        parameters: None,
                    },
                    pub_key_alg_identifier: None,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        b = b.preferred_signature_algorithms(&prefs)?;
    }
    let request = b.to_der()?;
    let response = match client::query(&args.url, &request, args.get).await {
        Ok(r) => r,
        Err(client::QueryError::Status { status, body }) => {
            // A 400 still carries the 5-byte unsuccessful response: show it.
            let why = secdispatch_ocsp::OcspResponse::from_der(&body)
                .map(|r| format!(" ({:?})", r.response_status))
                .unwrap_or_default();
            eprintln!("{}: responder answered HTTP {status}{why}", args.url);
            return Ok(ExitCode::from(3));
        }
        Err(e) => return Err(e.into()),
    };
    let mut opts = VerifyOptions::at(SystemTime::now());
    opts.nonce = nonce_value.as_ref().map(|n| &n[..]);
    opts.require_nonce = args.nonce;
    opts.trusted_responders = &trusted;
    opts.accept_ranges = args.range;
    let label = args.cert.display().to_string();
    let result: Result<Vec<(String, VerifiedStatus)>, VerifyError> = if above.is_empty() {
        verify_response_for(&response, &issuer, &leaf, &opts).map(|v| vec![(label, v)])
    } else {
        let mut chain = vec![leaf, issuer];
        chain.extend(above);
        verify_bundle(&response, &chain, &opts).map(|v| {
            v.into_iter()
                .zip(chain.iter())
                .enumerate()
                .map(|(i, (s, c))| {
                    let name = if i == 0 {
                        label.clone()
                    } else {
                        c.tbs_certificate().subject().to_string()
                    };
                    (name, s)
                })
                .collect()
        })
    };
    match result {
        Ok(statuses) => {
            if args.json {
                let list: Vec<serde_json::Value> = statuses
                    .iter()
                    .map(|(n, v)| {
                        let mut f = status_fields(v);
                        f["certificate"] = n.clone().into();
                        f
                    })
                    .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "verified": true,
                        "responses": list,
                        "response_bytes": response.len(),
                    }))?
                );
            } else {
                println!("Response verify OK");
                for (n, v) in &statuses {
                    print_status(n, v);
                }
            }
            let only: Vec<VerifiedStatus> = statuses.into_iter().map(|(_, v)| v).collect();
            Ok(exit_for(&only))
        }
        Err(e) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "verified": false, "error": e.to_string() })
                    )?
                );
            } else {
                eprintln!("Response verify FAILED: {e}");
            }
            Ok(ExitCode::from(3))
        }
    }
}

#[allow(clippy::print_stdout)]
async fn import_index(
    mut ctx: Context,
    authority: &str,
    ca_cert: Option<&Path>,
    ca_key: Option<&Path>,
    index: &Path,
) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(index)
        .with_context(|| format!("cannot read {}", index.display()))?;
    let entries = parse_index(&text)?;
    ctx.ensure_data_dir()?;
    let store = Arc::new(ctx.open_store().await?);
    let now = SystemTime::now();
    if store.authority(authority).await?.is_none() {
        let (Some(cert_path), Some(key_path)) = (ca_cert, ca_key) else {
            bail!(
                "authority {authority:?} does not exist: give --ca-cert and --ca-key to create it"
            );
        };
        let cert = cert(cert_path)?;
        let key_pem = String::from_utf8(read(key_path)?)
            .with_context(|| format!("{}: not PEM", key_path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&key_pem)
            .with_context(|| format!("{}: not a PKCS#8 private key", key_path.display()))?;
        let spki = cert.tbs_certificate().subject_public_key_info().to_der()?;
        if key.public_key().to_spki_der()? != spki {
            bail!(
                "{} is not the key of {}",
                key_path.display(),
                cert_path.display()
            );
        }
        let v = cert.tbs_certificate().validity();
        let key_name = format!("ca-{authority}");
        store
            .insert_key(NewKey {
                name: key_name.clone(),
                algorithm: key.algorithm().name().to_owned(),
                material: key.to_pkcs8_der()?,
                public: key.public_key().to_spki_der()?,
                not_before: v.not_before.to_system_time(),
                not_after: v.not_after.to_system_time(),
            })
            .await?;
        store
            .insert_authority(Authority {
                name: authority.to_owned(),
                parent: None,
                certificate: cert.to_der()?,
                key_name,
                sequential: false,
            })
            .await?;
        println!("authority {authority} created");
    }
    let (mut added, mut revoked, mut unchanged) = (0, 0, 0);
    for e in entries {
        match store.certificate(authority, &e.serial).await? {
            None => {
                store
                    .insert_certificate(IssuedCertificate {
                        authority: authority.to_owned(),
                        serial: e.serial.clone(),
                        subject: e.subject.clone(),
                        profile: "imported".to_owned(),
                        not_before: SystemTime::UNIX_EPOCH,
                        not_after: e.not_after,
                        der: Vec::new(),
                        issued_at: now,
                        revocation: e.revocation.clone(),
                        updated_at: now,
                    })
                    .await?;
                added += 1;
            }
            Some(c) if c.revocation.is_none() && e.revocation.is_some() => {
                let r = e.revocation.clone().unwrap_or(Revocation {
                    at: now,
                    reason: None,
                });
                store.revoke(authority, &e.serial, r).await?;
                revoked += 1;
            }
            Some(_) => unchanged += 1,
        }
    }
    println!(
        "{}: {added} certificates added, {revoked} newly revoked, {unchanged} unchanged",
        index.display()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
