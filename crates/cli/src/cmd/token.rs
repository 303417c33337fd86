//! `secdispatch token fetch URL`: get a resource protected by Privacy Pass (challenge,
//! token from the issuer, retry with `Authorization`), and `secdispatch token issue`: one
//! token for a given challenge, printed base64url.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, bail};
use clap::{Args, Subcommand};
use http::Method;
use secdispatch_privacypass::auth_scheme::{
    Quoting, b64_decode, b64_encode, build_authorization, parse_www_authenticate,
};
use secdispatch_privacypass::directory::{IssuerDirectory, WELL_KNOWN_PATH};
use secdispatch_privacypass::wire::token_request::{
    MEDIA_TYPE_TOKEN_REQUEST, MEDIA_TYPE_TOKEN_RESPONSE,
};
use secdispatch_privacypass::{Token, TokenChallenge, TokenType, client};
use secdispatch_server::issuer::http::{Client, Fetched};

use crate::context::Context;

/// `secdispatch token ...`
#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// GET URL; on a PrivateToken challenge obtain a token from its issuer and retry;
    /// print the response body (status and headers on stderr with -v).
    Fetch(FetchArgs),
    /// Obtain one token for a challenge from an issuer and print it (base64url).
    Issue(IssueArgs),
}

/// How to reach the issuer.
#[derive(Debug, Args)]
pub(crate) struct IssuerAccess {
    /// Attester bearer secret sent to the issuer (Authorization: Bearer).
    #[arg(long, value_name = "SECRET", env = "SECDISPATCH_ATTESTER_SECRET")]
    attester_secret: Option<String>,
    /// PEM trust anchors for https:// URLs [default: pki/root.crt in the data directory].
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// The protected resource.
    url: String,
    /// Issuer base URL [default: http://<issuer_name of the challenge>].
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    #[command(flatten)]
    access: IssuerAccess,
}

#[derive(Debug, Args)]
pub(crate) struct IssueArgs {
    /// Issuer base URL (its directory is read from /.well-known/private-token-issuer-directory).
    #[arg(long, value_name = "URL")]
    issuer: String,
    /// Token type: 1 (VOPRF P-384) or 2 (blind RSA).
    #[arg(long = "type", value_name = "1|2", value_parser = clap::value_parser!(u16).range(1..=2))]
    token_type: u16,
    /// The TokenChallenge, base64url (the challenge parameter of WWW-Authenticate).
    #[arg(long, value_name = "B64")]
    challenge: String,
    #[command(flatten)]
    access: IssuerAccess,
}

/// Run a `token` command.
pub(crate) async fn run(ctx: Context, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Fetch(a) => fetch(&ctx, a).await,
        TokenCommand::Issue(a) => issue(&ctx, a).await,
    }
}

impl IssuerAccess {
    /// No attester secret; `https://` trusted through the PEM roots in `ca_file`.
    pub(crate) fn with_ca(ca_file: PathBuf) -> Self {
        Self {
            attester_secret: None,
            ca_file: Some(ca_file),
        }
    }
}

fn http_client(ctx: &Context, access: &IssuerAccess, url: &str) -> anyhow::Result<Client> {
    if !url.starts_with("https://") {
        return Ok(Client::plain());
    }
    let ca = access
        .ca_file
        .clone()
        .unwrap_or_else(|| ctx.data_dir.join("pki").join("root.crt"));
    Ok(Client::with_roots(&ca)?)
}

/// Read the directory at `issuer` and obtain a token for `challenge` (with the
/// challenge's own `token-key` when given and listed).
pub(crate) async fn obtain(
    ctx: &Context,
    access: &IssuerAccess,
    issuer: &str,
    challenge: &TokenChallenge,
    offered_key: Option<&[u8]>,
) -> anyhow::Result<Token> {
    let issuer = issuer.trim_end_matches('/');
    let client = http_client(ctx, access, issuer)?;
    let dir_url = format!("{issuer}{WELL_KNOWN_PATH}");
    let dir = client.send(Method::GET, &dir_url, &[], Vec::new()).await?;
    if !dir.status.is_success() {
        bail!("issuer directory {dir_url}: {}", dir.status);
    }
    let directory = IssuerDirectory::from_json(&dir.body)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let listed: Vec<Vec<u8>> = directory
        .keys_of(challenge.token_type())
        .filter_map(|k| k.key_bytes().ok())
        .collect();
    let key = match offered_key {
        Some(k) if listed.iter().any(|l| l == k) => k.to_vec(),
        Some(_) => bail!("the challenge's token-key is not in the issuer's directory"),
        None => directory
            .select(challenge.token_type(), now)
            .ok_or_else(|| {
                anyhow!(
                    "the issuer lists no usable key of type {}",
                    challenge.token_type()
                )
            })?
            .key_bytes()?,
    };
    let (request, pending) = client::begin(&mut getrandom::SysRng, challenge, &key)?;
    let request_url = directory.request_uri(issuer);
    let auth = access
        .attester_secret
        .as_ref()
        .map(|s| format!("Bearer {s}"));
    let mut headers = vec![
        ("content-type", MEDIA_TYPE_TOKEN_REQUEST),
        ("accept", MEDIA_TYPE_TOKEN_RESPONSE),
    ];
    if let Some(a) = &auth {
        headers.push(("authorization", a.as_str()));
    }
    let client = http_client(ctx, access, &request_url)?;
    let resp = client
        .send(Method::POST, &request_url, &headers, request.encode())
        .await?;
    if resp.status != http::StatusCode::OK {
        bail!(
            "issuer {request_url} answered {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body).trim()
        );
    }
    Ok(pending.finalize(&resp.body)?)
}

#[allow(clippy::print_stdout)]
async fn issue(ctx: &Context, args: IssueArgs) -> anyhow::Result<ExitCode> {
    let bytes = b64_decode("challenge", &args.challenge)?;
    let challenge = TokenChallenge::decode(&bytes)?;
    if challenge.token_type() != TokenType(args.token_type) {
        bail!(
            "the challenge is for token type {}, not {}",
            challenge.token_type(),
            TokenType(args.token_type)
        );
    }
    let token = obtain(ctx, &args.access, &args.issuer, &challenge, None).await?;
    println!("{}", b64_encode(&token.encode()));
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
async fn fetch(ctx: &Context, args: FetchArgs) -> anyhow::Result<ExitCode> {
    let client = http_client(ctx, &args.access, &args.url)?;
    let first = client.send(Method::GET, &args.url, &[], Vec::new()).await?;
    let done = |r: &Fetched| -> ExitCode {
        tracing::info!(status = %r.status, "response");
        print!("{}", String::from_utf8_lossy(&r.body));
        if r.status.is_success() {
            ExitCode::SUCCESS
        } else {
            eprintln!("{} answered {}", args.url, r.status);
            ExitCode::FAILURE
        }
    };
    if first.status != http::StatusCode::UNAUTHORIZED {
        return Ok(done(&first));
    }
    let values: Vec<&str> = first
        .headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let challenges = parse_www_authenticate(values);
    let origin = http::Uri::try_from(args.url.as_str())
        .ok()
        .and_then(|u| u.host().map(str::to_owned))
        .context("URL has no host")?;
    let chosen = client::select_challenge(&challenges, &origin)
        .ok_or_else(|| anyhow!("401 without a PrivateToken challenge this client can answer"))?;
    let challenge = chosen
        .challenge()
        .ok_or_else(|| anyhow!("unsupported challenge"))?;
    let issuer = args
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{}", challenge.issuer_name()));
    let token = obtain(
        ctx,
        &args.access,
        &issuer,
        challenge,
        chosen.token_key.as_deref(),
    )
    .await?;
    let auth = build_authorization(&token, Quoting::Quoted);
    let second = client
        .send(
            Method::GET,
            &args.url,
            &[("authorization", auth.as_str())],
            Vec::new(),
        )
        .await?;
    Ok(done(&second))
}
