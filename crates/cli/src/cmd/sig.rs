//! `secdispatch sig sign | verify | base | digest`: RFC 9421 signatures and RFC 9530
//! digests on raw HTTP/1.1 message files (`-` reads standard input).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use secdispatch_httpsig::alg::Algorithm;
use secdispatch_httpsig::component::ComponentId;
use secdispatch_httpsig::digest::DigestAlgorithm;
use secdispatch_httpsig::http1::RawMessage;
use secdispatch_httpsig::offline::{self, SignOptions, VerifyOptions};

use crate::args::OutArgs;
use crate::output::{Secrecy, write_artifact};

/// `secdispatch sig ...`
#[derive(Debug, Subcommand)]
pub(crate) enum SigCommand {
    /// Sign a message: print it with Signature-Input and Signature (and Content-Digest) added.
    Sign(SignArgs),
    /// Verify a signature: exit 0 and print what was verified, or exit 1 with the reason.
    Verify(VerifyArgs),
    /// Print the exact signature base of an existing signature or of the given components.
    Base(BaseArgs),
    /// Check a message's Content-Digest, or add one when it has none.
    Digest(DigestArgs),
}

/// Options shared by every `sig` command.
#[derive(Debug, Args)]
pub(crate) struct MessageArgs {
    /// The raw HTTP/1.1 message (request or response); `-` for standard input.
    message: PathBuf,
    /// The request a response's `req` components refer to.
    #[arg(long, value_name = "REQFILE")]
    request: Option<PathBuf>,
    /// Scheme for @scheme and @target-uri when the request-target has none.
    #[arg(long, default_value = "https", value_parser = ["http", "https"])]
    scheme: String,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    msg: MessageArgs,
    /// Private key: PEM (PKCS#8, PKCS#1, SEC1, RSASSA-PSS), JWK, or a file with a base64 HMAC secret.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Algorithm, for keys that do not fix one (RSA): rsa-pss-sha512 or rsa-v1_5-sha256.
    #[arg(long)]
    alg: Option<Algorithm>,
    /// Also write the alg parameter.
    #[arg(long)]
    include_alg: bool,
    /// The keyid parameter [default: the JWK's kid, if any].
    #[arg(long)]
    keyid: Option<String>,
    /// Covered components, as in Signature-Input: '"@method" "@authority" "content-digest"'.
    #[arg(long)]
    components: String,
    /// Signature label.
    #[arg(long, default_value = "sig1")]
    label: String,
    /// The created parameter: `now`, a Unix time, or `none` to leave it out.
    #[arg(long, default_value = "now")]
    created: String,
    /// The expires parameter (Unix time), or `+SECONDS` from created.
    #[arg(long)]
    expires: Option<String>,
    /// The tag parameter.
    #[arg(long)]
    tag: Option<String>,
    /// The nonce parameter; `random` for a fresh random one.
    #[arg(long)]
    nonce: Option<String>,
    /// Add Content-Digest with these algorithms first (sha-256, sha-512; repeatable).
    #[arg(long, value_name = "ALG")]
    digest: Vec<String>,
    #[command(flatten)]
    out: OutArgs,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    msg: MessageArgs,
    /// Public key (PEM SPKI or PKCS#1, JWK), a private key, or a base64 HMAC secret.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// Algorithm, for RSA keys that do not fix one.
    #[arg(long)]
    alg: Option<Algorithm>,
    /// Verify the signature with this label.
    #[arg(long)]
    label: Option<String>,
    /// Only signatures with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Refuse signatures older than this many seconds (from created).
    #[arg(long, value_name = "SECONDS")]
    max_age: Option<u64>,
    /// Verify as of this Unix time instead of now (old examples verify as of their time).
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Components that must be covered: '"@method" "@authority"'.
    #[arg(long)]
    require: Option<String>,
    /// Require content-digest to be covered when the message has content.
    #[arg(long)]
    require_digest: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BaseArgs {
    #[command(flatten)]
    msg: MessageArgs,
    /// The signature whose base to print (needed when there are several).
    #[arg(long, conflicts_with = "components")]
    label: Option<String>,
    /// Preview the base of these components instead of an existing signature.
    #[arg(long)]
    components: Option<String>,
    /// With --components: the created parameter (Unix time).
    #[arg(long, requires = "components")]
    created: Option<u64>,
    /// With --components: the keyid parameter.
    #[arg(long, requires = "components")]
    keyid: Option<String>,
    /// With --components: the tag parameter.
    #[arg(long, requires = "components")]
    tag: Option<String>,
    /// With --components: the nonce parameter.
    #[arg(long, requires = "components")]
    nonce: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DigestArgs {
    /// The raw HTTP/1.1 message; `-` for standard input.
    message: PathBuf,
    /// Recompute and replace Content-Digest even when present.
    #[arg(long)]
    replace: bool,
    /// Algorithms when adding (sha-256, sha-512; repeatable).
    #[arg(long = "alg", value_name = "ALG", default_value = "sha-256")]
    algs: Vec<String>,
    #[command(flatten)]
    out: OutArgs,
}

pub(crate) fn run(cmd: SigCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        SigCommand::Sign(a) => sign(a),
        SigCommand::Verify(a) => verify(a),
        SigCommand::Base(a) => base(a),
        SigCommand::Digest(a) => digest(a),
    }
}

fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn read_message(path: &Path) -> anyhow::Result<RawMessage> {
    let bytes = read_input(path)?;
    RawMessage::parse(&bytes)
        .with_context(|| format!("{} is not an HTTP/1.1 message", path.display()))
}

fn related(args: &MessageArgs) -> anyhow::Result<Option<RawMessage>> {
    args.request.as_deref().map(read_message).transpose()
}

fn components(list: &str) -> anyhow::Result<Vec<ComponentId>> {
    ComponentId::parse_list(list).with_context(|| format!("invalid component list {list:?}"))
}

fn digest_algs(names: &[String]) -> anyhow::Result<Vec<DigestAlgorithm>> {
    names
        .iter()
        .map(|n| match DigestAlgorithm::from_name(n)? {
            Some(a) => Ok(a),
            None => bail!("unknown digest algorithm {n:?}: use sha-256 or sha-512"),
        })
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn sign(a: SignArgs) -> anyhow::Result<ExitCode> {
    let mut msg = read_message(&a.msg.message)?;
    let request = related(&a.msg)?;
    let key = read_input(&a.key)?;
    let created = match a.created.as_str() {
        "now" => Some(unix_now()),
        "none" => None,
        t => Some(
            t.parse()
                .with_context(|| format!("--created {t:?}: expected now, none or a Unix time"))?,
        ),
    };
    let expires = match a.expires.as_deref() {
        None => None,
        Some(rel) if rel.starts_with('+') => {
            let secs: u64 = rel[1..]
                .parse()
                .with_context(|| format!("--expires {rel:?}"))?;
            Some(created.unwrap_or_else(unix_now) + secs)
        }
        Some(t) => Some(
            t.parse()
                .with_context(|| format!("--expires {t:?}: expected a Unix time or +SECONDS"))?,
        ),
    };
    let nonce = match a.nonce.as_deref() {
        Some("random") => Some(secdispatch_httpsig::sign::random_nonce()?),
        other => other.map(str::to_owned),
    };
    let opts = SignOptions {
        label: a.label,
        components: components(&a.components)?,
        created,
        expires,
        keyid: a.keyid,
        alg: a.alg,
        include_alg: a.include_alg,
        nonce,
        tag: a.tag,
        digest: digest_algs(&a.digest)?,
        scheme: a.msg.scheme,
    };
    offline::sign_message(&mut msg, &key, &opts, request.as_ref()).context("signing failed")?;
    write_artifact(&a.out, &msg.serialize(), Secrecy::Public)?;
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
fn verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let msg = read_message(&a.msg.message)?;
    let request = related(&a.msg)?;
    let key = read_input(&a.key)?;
    let opts = VerifyOptions {
        label: a.label,
        tag: a.tag,
        alg: a.alg,
        now: a
            .now
            .map_or_else(SystemTime::now, |t| UNIX_EPOCH + Duration::from_secs(t)),
        max_age: a.max_age.map(Duration::from_secs),
        required: a
            .require
            .as_deref()
            .map(components)
            .transpose()?
            .unwrap_or_default(),
        require_content_digest: a.require_digest,
        scheme: a.msg.scheme,
    };
    let v = offline::verify_message(&msg, &key, &opts, request.as_ref())
        .context("verification failed")?;
    println!("{v}");
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
fn base(a: BaseArgs) -> anyhow::Result<ExitCode> {
    let msg = read_message(&a.msg.message)?;
    let request = related(&a.msg)?;
    let input = match &a.components {
        None => None,
        Some(list) => Some(
            SignOptions {
                components: components(list)?,
                created: a.created,
                keyid: a.keyid.clone(),
                tag: a.tag.clone(),
                nonce: a.nonce.clone(),
                ..SignOptions::default()
            }
            .signature_input()?,
        ),
    };
    let base = offline::message_base(
        &msg,
        a.label.as_deref(),
        input.as_ref(),
        &a.msg.scheme,
        request.as_ref(),
    )
    .context("cannot build the signature base")?;
    // The base has no final newline (RFC 9421 §2.5): print it exactly, so it can be fed
    // to other tools, adding a newline only for a terminal.
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        println!("{}", base.as_str());
    } else {
        print!("{}", base.as_str());
    }
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
fn digest(a: DigestArgs) -> anyhow::Result<ExitCode> {
    let mut msg = read_message(&a.message)?;
    let has = msg.headers()?.contains_key("content-digest");
    if has && !a.replace {
        let alg = offline::check_content_digest(&msg).context("Content-Digest does not match")?;
        println!(
            "Content-Digest {} matches the content ({} bytes)",
            alg.name(),
            msg.body.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    offline::add_content_digest(&mut msg, &digest_algs(&a.algs)?);
    write_artifact(&a.out, &msg.serialize(), Secrecy::Public)?;
    Ok(ExitCode::SUCCESS)
}
