//! `secdispatch ca ...` (a certificate authority kept in the store) and
//! `secdispatch pki ...` (keys, requests, inspection and chain validation on files).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use secdispatch_pqpki::cert::{Profile, SubjectAltNames};
use secdispatch_pqpki::policy::{Policy, evidence_from_path};
use secdispatch_pqpki::validate::{Options, validate_chain};
use secdispatch_pqpki::{Algorithm, SigningKey, VerifyingKey};
use secdispatch_server::ca::{Ca, IssueSpec};
use secdispatch_store::{CertificateDb, RevokeOutcome};

use crate::args::OutArgs;
use crate::context::Context;
use crate::output::{Secrecy, write_artifact, write_file};

/// `secdispatch ca ...`
#[derive(Debug, Subcommand)]
pub(crate) enum CaCommand {
    /// Create a self-signed root authority (key kept in the store) and print its certificate.
    Init {
        /// Signature algorithm (see `secdispatch pki algs`).
        #[arg(long, default_value = "id-MLDSA65-ECDSA-P256-SHA512")]
        alg: String,
        /// Subject distinguished name, e.g. "CN=Example Root,O=Example".
        #[arg(long)]
        subject: String,
        /// Lifetime in days.
        #[arg(long, default_value_t = 3650)]
        days: u32,
        /// Name of the authority in the store.
        #[arg(long, default_value = "root")]
        name: String,
        /// Number issued certificates 1, 2, 3, ... (OCSPv2 range responses need it).
        #[arg(long)]
        sequential_serials: bool,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Create an intermediate authority under another one and print its certificate.
    Intermediate {
        /// The issuing authority.
        #[arg(long, default_value = "root")]
        parent: String,
        /// Name of the new authority.
        #[arg(long)]
        name: String,
        /// Signature algorithm of its key.
        #[arg(long, default_value = "id-MLDSA65-ECDSA-P256-SHA512")]
        alg: String,
        /// Subject distinguished name.
        #[arg(long)]
        subject: String,
        /// Lifetime in days.
        #[arg(long, default_value_t = 1825)]
        days: u32,
        /// basicConstraints pathLenConstraint.
        #[arg(long, default_value_t = 0)]
        path_len: u8,
        /// Number issued certificates sequentially.
        #[arg(long)]
        sequential_serials: bool,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Issue a certificate from a CSR, or for a new key (written to --key-out).
    Issue(IssueArgs),
    /// Revoke a certificate by serial number.
    Revoke {
        /// Serial number in hex (colons and 0x accepted).
        serial: String,
        /// RFC 5280 reason: keyCompromise, cACompromise, affiliationChanged, superseded,
        /// cessationOfOperation, certificateHold, privilegeWithdrawn, ...
        #[arg(long)]
        reason: Option<String>,
        /// The issuing authority (needed only when two issued the same serial).
        #[arg(long = "ca")]
        authority: Option<String>,
    },
    /// Print a CRL of an authority.
    Crl {
        /// The authority.
        #[arg(long = "ca", default_value = "root")]
        authority: String,
        /// nextUpdate, in days from now.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// Write DER instead of PEM.
        #[arg(long)]
        der: bool,
        #[command(flatten)]
        out: OutArgs,
    },
    /// List authorities, or the certificates of one.
    List {
        /// List this authority's certificates.
        #[arg(long = "ca")]
        authority: Option<String>,
        /// Only revoked certificates.
        #[arg(long, requires = "authority")]
        revoked: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    /// The issuing authority.
    #[arg(long = "ca", default_value = "root")]
    authority: String,
    /// A PKCS#10 request (PEM or DER): its subject, key and SANs are used.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["subject", "alg", "key_out"])]
    csr: Option<PathBuf>,
    /// Subject DN, for a certificate with a new key.
    #[arg(long, required_unless_present = "csr")]
    subject: Option<String>,
    /// subjectAltName: DNS:name, IP:addr, URI:uri, email:addr (repeatable; overrides a CSR's).
    #[arg(long)]
    san: Vec<String>,
    /// Algorithm of the new key.
    #[arg(long, default_value = "ecdsa-p256-sha256")]
    alg: String,
    /// Where to write the new private key (PKCS#8 PEM, mode 0600).
    #[arg(long, value_name = "FILE", required_unless_present = "csr")]
    key_out: Option<PathBuf>,
    /// server, client, server-client or ocsp.
    #[arg(long, default_value = "server")]
    profile: String,
    /// Lifetime in days (never beyond the issuer's).
    #[arg(long, default_value_t = 90)]
    days: u32,
    /// OCSP responder URL for authorityInfoAccess.
    #[arg(long)]
    ocsp_url: Option<String>,
    #[command(flatten)]
    out: OutArgs,
}

/// `secdispatch pki ...`
#[derive(Debug, Subcommand)]
pub(crate) enum PkiCommand {
    /// List every signature algorithm: name and OID, one a line.
    Algs,
    /// Make a private key (PKCS#8 PEM; written 0600 with --out).
    Keygen {
        /// Algorithm name (see `pki algs`).
        #[arg(long, default_value = "id-MLDSA65-ECDSA-P256-SHA512")]
        alg: String,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Make a PKCS#10 certificate request.
    Csr {
        /// The private key (PKCS#8 PEM).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Subject DN.
        #[arg(long)]
        subject: String,
        /// subjectAltName entries (repeatable).
        #[arg(long)]
        san: Vec<String>,
        #[command(flatten)]
        out: OutArgs,
    },
    /// Describe a certificate, CSR, CRL, public or private key (PEM or DER).
    Inspect {
        /// The file.
        file: PathBuf,
    },
    /// Validate a certificate chain against trust anchors.
    VerifyChain {
        /// PEM file of trust anchors.
        #[arg(long, value_name = "FILE")]
        roots: PathBuf,
        /// The end-entity certificate (PEM; further certificates in it count as chain).
        cert: PathBuf,
        /// Intermediate certificates (PEM files).
        chain: Vec<PathBuf>,
        /// Validation time: Unix seconds or RFC 3339 [default: now].
        #[arg(long)]
        at: Option<String>,
        /// Host name or IP the certificate must be valid for.
        #[arg(long)]
        host: Option<String>,
        /// CRL files (PEM or DER) to check against.
        #[arg(long)]
        crl: Vec<PathBuf>,
        /// EXPERIMENTAL multi-algorithm policy over the chain's algorithms: and, or, pq,
        /// traditional, k-of-n:K.
        #[arg(long)]
        policy: Option<String>,
    },
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn alg(name: &str) -> anyhow::Result<Algorithm> {
    Algorithm::from_name(name).with_context(|| "run `secdispatch pki algs` for the names")
}

fn pem_or_der(bytes: &[u8], label: &'static str) -> anyhow::Result<Vec<u8>> {
    if bytes.starts_with(b"-----BEGIN") {
        Ok(secdispatch_pqpki::keys::pem_decode(
            &String::from_utf8_lossy(bytes),
            label,
        )?)
    } else {
        Ok(bytes.to_vec())
    }
}

pub(crate) async fn run_ca(ctx: Context, cmd: CaCommand) -> anyhow::Result<ExitCode> {
    let mut ctx = ctx;
    ctx.ensure_data_dir()?;
    let store = Arc::new(ctx.open_store().await?);
    let ca = Ca::new(store.clone());
    let now = SystemTime::now();
    let pem = |c: &x509_cert::Certificate| secdispatch_pqpki::cert::to_pem(c);
    match cmd {
        CaCommand::Init {
            alg: a,
            subject,
            days,
            name,
            sequential_serials,
            out,
        } => {
            let cert = ca
                .init_root(&name, alg(&a)?, &subject, days, sequential_serials, now)
                .await?;
            write_artifact(&out, pem(&cert)?.as_bytes(), Secrecy::Public)?;
        }
        CaCommand::Intermediate {
            parent,
            name,
            alg: a,
            subject,
            days,
            path_len,
            sequential_serials,
            out,
        } => {
            let cert = ca
                .create_intermediate(
                    &parent,
                    &name,
                    alg(&a)?,
                    &subject,
                    days,
                    Some(path_len),
                    sequential_serials,
                    now,
                )
                .await?;
            write_artifact(&out, pem(&cert)?.as_bytes(), Secrecy::Public)?;
        }
        CaCommand::Issue(a) => issue(&ca, a, now).await?,
        CaCommand::Revoke {
            serial,
            reason,
            authority,
        } => {
            let (name, outcome) = ca
                .revoke(authority.as_deref(), &serial, reason.as_deref(), now)
                .await?;
            #[allow(clippy::print_stdout)]
            match outcome {
                RevokeOutcome::Revoked => println!("revoked {serial} of {name}"),
                RevokeOutcome::AlreadyRevoked(r) => println!(
                    "{serial} of {name} was already revoked at {} ({})",
                    unix(r.at),
                    r.reason.as_deref().unwrap_or("unspecified")
                ),
            }
        }
        CaCommand::Crl {
            authority,
            days,
            der,
            out,
        } => {
            let crl = ca.crl(&authority, days, now).await?;
            let bytes = if der {
                der::Encode::to_der(&crl)?
            } else {
                secdispatch_pqpki::crl::to_pem(&crl)?.into_bytes()
            };
            write_artifact(&out, &bytes, Secrecy::Public)?;
        }
        CaCommand::List { authority, revoked } => list(&ca, authority.as_deref(), revoked).await?,
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn issue(ca: &Ca, a: IssueArgs, now: SystemTime) -> anyhow::Result<()> {
    let profile = Profile::from_name(&a.profile)?;
    if profile.is_ca() {
        bail!("use `secdispatch ca intermediate` for CA certificates");
    }
    let spec = IssueSpec {
        subject: a.subject.clone(),
        sans: a.san.clone(),
        profile,
        days: a.days,
        ocsp_url: a.ocsp_url.clone(),
    };
    let cert = match &a.csr {
        Some(path) => {
            let der = pem_or_der(&read(path)?, secdispatch_pqpki::csr::PEM_CSR)?;
            let csr = secdispatch_pqpki::csr::from_der(&der)?;
            ca.issue_csr(&a.authority, &csr, &spec, now).await?
        }
        None => {
            let key_out = a
                .key_out
                .as_deref()
                .context("--key-out is required without --csr")?;
            if key_out.exists() {
                bail!(
                    "{} exists; refusing to overwrite a private key",
                    key_out.display()
                );
            }
            let key =
                SigningKey::generate(alg(&a.alg)?, &mut rand_core::UnwrapErr(getrandom::SysRng))?;
            let cert = ca.issue(&a.authority, key.public_key(), &spec, now).await?;
            write_file(
                key_out,
                key.to_pkcs8_pem()?.as_bytes(),
                Secrecy::Secret,
                false,
            )?;
            cert
        }
    };
    write_artifact(
        &a.out,
        secdispatch_pqpki::cert::to_pem(&cert)?.as_bytes(),
        Secrecy::Public,
    )
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[allow(clippy::print_stdout)]
async fn list(ca: &Ca, authority: Option<&str>, only_revoked: bool) -> anyhow::Result<()> {
    let store = ca.store();
    match authority {
        None => {
            println!(
                "{:<20} {:<20} {:<10} SUBJECT",
                "AUTHORITY", "PARENT", "SERIALS"
            );
            for a in store.authorities().await? {
                let cert: x509_cert::Certificate = der::Decode::from_der(&a.certificate)?;
                println!(
                    "{:<20} {:<20} {:<10} {}",
                    a.name,
                    a.parent.as_deref().unwrap_or("-"),
                    if a.sequential { "sequential" } else { "random" },
                    cert.tbs_certificate().subject()
                );
            }
        }
        Some(name) => {
            if store.authority(name).await?.is_none() {
                bail!("no authority named {name:?}");
            }
            println!(
                "{:<34} {:<13} {:<12} {:<22} SUBJECT",
                "SERIAL", "PROFILE", "NOT AFTER", "STATUS"
            );
            for c in store.certificates(name).await? {
                if only_revoked && c.revocation.is_none() {
                    continue;
                }
                let status = match &c.revocation {
                    None if c.not_after < SystemTime::now() => "expired".to_owned(),
                    None => "good".to_owned(),
                    Some(r) => {
                        format!("revoked ({})", r.reason.as_deref().unwrap_or("unspecified"))
                    }
                };
                println!(
                    "{:<34} {:<13} {:<12} {:<22} {}",
                    c.serial,
                    c.profile,
                    unix(c.not_after),
                    status,
                    c.subject
                );
            }
        }
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
pub(crate) fn run_pki(cmd: PkiCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        PkiCommand::Algs => {
            for (name, oid) in Algorithm::list() {
                println!("{name} {oid}");
            }
        }
        PkiCommand::Keygen { alg: a, out } => {
            let key = SigningKey::generate(alg(&a)?, &mut rand_core::UnwrapErr(getrandom::SysRng))?;
            write_artifact(&out, key.to_pkcs8_pem()?.as_bytes(), Secrecy::Secret)?;
        }
        PkiCommand::Csr {
            key,
            subject,
            san,
            out,
        } => {
            let key = SigningKey::from_pkcs8_pem(&String::from_utf8_lossy(&read(&key)?))?;
            let subject: x509_cert::name::Name = std::str::FromStr::from_str(&subject)
                .map_err(|e| anyhow::anyhow!("invalid subject {subject:?}: {e}"))?;
            let sans = SubjectAltNames::parse(san.iter().map(String::as_str))?;
            let csr = secdispatch_pqpki::csr::build(
                &key,
                subject,
                &sans,
                &mut rand_core::UnwrapErr(getrandom::SysRng),
            )?;
            write_artifact(
                &out,
                secdispatch_pqpki::csr::to_pem(&csr)?.as_bytes(),
                Secrecy::Public,
            )?;
        }
        PkiCommand::Inspect { file } => inspect(&file)?,
        PkiCommand::VerifyChain {
            roots,
            cert,
            chain,
            at,
            host,
            crl,
            policy,
        } => {
            return verify_chain(
                &roots,
                &cert,
                &chain,
                at.as_deref(),
                host.as_deref(),
                &crl,
                policy.as_deref(),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
fn inspect(file: &Path) -> anyhow::Result<()> {
    let bytes = read(file)?;
    let text = String::from_utf8_lossy(&bytes);
    let label = text.lines().find_map(|l| {
        l.strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
    });
    match label {
        Some("CERTIFICATE") => {
            for c in secdispatch_pqpki::cert::chain_from_pem(&text)? {
                println!("{}", secdispatch_pqpki::inspect::certificate(&c)?);
            }
        }
        Some("CERTIFICATE REQUEST") => {
            let csr = secdispatch_pqpki::csr::from_pem(&text)?;
            let key = secdispatch_pqpki::csr::verify(&csr)?;
            println!("PKCS#10 request, self-signature valid");
            println!("subject: {}", csr.info.subject);
            print_key(&key)?;
            let sans = secdispatch_pqpki::csr::requested_sans(&csr)?;
            if !sans.is_empty() {
                println!("requested subjectAltName: {sans:?}");
            }
        }
        Some("X509 CRL") => {
            let crl = secdispatch_pqpki::crl::from_pem(&text)?;
            let tbs = &crl.tbs_cert_list;
            println!("CRL issued by {}", tbs.issuer);
            println!("thisUpdate: {}", tbs.this_update);
            if let Some(n) = &tbs.next_update {
                println!("nextUpdate: {n}");
            }
            for r in tbs.revoked_certificates.iter().flatten() {
                println!(
                    "  revoked {} at {}",
                    secdispatch_store::serial_hex(r.serial_number.as_bytes()),
                    r.revocation_date
                );
            }
        }
        Some("PRIVATE KEY") => {
            let key = SigningKey::from_pkcs8_pem(&text)?;
            println!("private key (PKCS#8)");
            print_key(key.public_key())?;
        }
        Some("PUBLIC KEY") => print_key(&VerifyingKey::from_spki_pem(&text)?)?,
        Some(other) => bail!(
            "{}: PEM type {other:?} is not one inspect knows",
            file.display()
        ),
        None => {
            // DER: try a certificate, then a key.
            if let Ok(c) = secdispatch_pqpki::cert::from_der(&bytes) {
                println!("{}", secdispatch_pqpki::inspect::certificate(&c)?);
            } else if let Ok(k) = SigningKey::from_pkcs8_der(&bytes) {
                println!("private key (PKCS#8 DER)");
                print_key(k.public_key())?;
            } else {
                print_key(&VerifyingKey::from_spki_der(&bytes).with_context(|| {
                    format!(
                        "{} is not a certificate, CSR, CRL or key in PEM or DER",
                        file.display()
                    )
                })?)?;
            }
        }
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn print_key(k: &VerifyingKey) -> anyhow::Result<()> {
    let s = secdispatch_pqpki::inspect::key(k)?;
    println!("algorithm: {} ({})", s.algorithm, s.oid);
    if let Some(c) = s.class {
        println!("class: {c:?}");
    }
    println!("public key: {} bytes", s.public_key_len);
    for (name, len) in s.components {
        println!("  component {name}: {len} bytes");
    }
    Ok(())
}

fn parse_time(s: &str) -> anyhow::Result<SystemTime> {
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(UNIX_EPOCH + Duration::from_secs(secs));
    }
    humantime::parse_rfc3339_weak(s)
        .with_context(|| format!("--at {s:?}: expected Unix seconds or RFC 3339"))
}

#[allow(clippy::print_stdout)]
fn verify_chain(
    roots: &Path,
    cert: &Path,
    chain: &[PathBuf],
    at: Option<&str>,
    host: Option<&str>,
    crls: &[PathBuf],
    policy: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let anchors = secdispatch_pqpki::cert::chain_from_pem(&String::from_utf8_lossy(&read(roots)?))?;
    let mut certs =
        secdispatch_pqpki::cert::chain_from_pem(&String::from_utf8_lossy(&read(cert)?))?;
    for c in chain {
        certs.extend(secdispatch_pqpki::cert::chain_from_pem(
            &String::from_utf8_lossy(&read(c)?),
        )?);
    }
    let ee = certs.remove(0);
    let crl_list = crls
        .iter()
        .map(|p| {
            let b = read(p)?;
            Ok(secdispatch_pqpki::crl::from_der(&pem_or_der(
                &b,
                secdispatch_pqpki::crl::PEM_CRL,
            )?)?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut opts = Options::at(
        at.map(parse_time)
            .transpose()?
            .unwrap_or_else(SystemTime::now),
    );
    opts.host = host;
    opts.crls = &crl_list;
    let result = validate_chain(&ee, &certs, &anchors, &opts);
    if let Some(p) = policy {
        let policy = Policy::parse(p)?;
        let evidence = evidence_from_path("chain", &result);
        println!(
            "EXPERIMENTAL policy {policy}: chain is {}{}",
            if evidence.pq { "post-quantum " } else { "" },
            if evidence.traditional {
                "traditional"
            } else {
                ""
            }
        );
        policy.check(&[evidence])?;
    }
    let path = result?;
    println!(
        "OK: {} certificate(s), end entity {}",
        path.chain.len(),
        ee.tbs_certificate().subject()
    );
    for (i, (c, a)) in path
        .chain
        .iter()
        .zip(path.link_algorithms.iter().chain(std::iter::repeat(&None)))
        .enumerate()
    {
        let alg = a.map_or("trust anchor".to_owned(), |a| {
            format!("signed with {}", a.name())
        });
        println!("  [{i}] {} ({alg})", c.tbs_certificate().subject());
    }
    Ok(ExitCode::SUCCESS)
}
