//! `secdispatch lb`: the TLS-LB load balancer alone (draft-schwartz-tls-lb-02), and
//! `secdispatch lb keygen`: put a new pre-shared key in front of the key file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use secdispatch_server::lb;
use secdispatch_tlslb::encrypted::Cipher;

use crate::cmd::service::{Runtime, ServiceArgs};
use crate::context::Context;

/// `secdispatch lb [--listen ADDR] [--admin ADDR] | lb keygen`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct LbArgs {
    #[command(subcommand)]
    pub(crate) action: Option<LbAction>,
    #[command(flatten)]
    pub(crate) service: ServiceArgs,
}

/// What `secdispatch lb` does besides running.
#[derive(Debug, Subcommand)]
pub(crate) enum LbAction {
    /// Put a new random key in front of the TLS-LB key file (made when absent, mode 0600).
    /// Older keys stay, so backends open headers under both while load balancers switch;
    /// running services reload the file within seconds. Copy the file to every load
    /// balancer and backend.
    Keygen(KeygenArgs),
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Key file [default: lb.key_file, else tlslb.keys in the data directory].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// AEAD of the new key.
    #[arg(long, default_value = "aes-128-gcm", value_parser = ["aes-128-gcm", "aes-256-gcm", "chacha20-poly1305"])]
    cipher: String,
    /// psk_identity of the new key [default: lb-<unix time>].
    #[arg(long, value_name = "NAME")]
    identity: Option<String>,
}

/// Run the load balancer, or make a key.
pub(crate) async fn run(ctx: Context, args: LbArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(LbAction::Keygen(k)) => keygen(&ctx, &k),
        None => serve(ctx, args.service).await,
    }
}

#[allow(clippy::print_stdout)]
fn keygen(ctx: &Context, args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| lb::key_path(ctx.config.lb.key_file.as_deref(), &ctx.data_dir));
    let cipher = Cipher::from_name(&args.cipher).map_err(|e| anyhow!("{e}"))?;
    let identity = lb::keygen(&path, cipher, args.identity.as_deref()).map_err(|e| anyhow!(e))?;
    println!(
        "new TLS-LB key {identity:?} ({}) is now the current key of {}",
        args.cipher,
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
async fn serve(ctx: Context, args: ServiceArgs) -> anyhow::Result<ExitCode> {
    let rt = Runtime::start(ctx).await?;
    let listen = args.listen.unwrap_or(rt.ctx.config.lb.listen);
    let admin = rt.admin(args.admin).await?;
    let addr = lb::start_lb(
        &rt.ctx.config,
        &rt.ctx.data_dir,
        listen,
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    println!(
        "lb listening on {addr} ({:?} header to {} pool(s)), admin on http://{admin}",
        rt.ctx.config.lb.header,
        rt.ctx.config.lb.pools.len()
    );
    rt.wait_and_stop().await?;
    Ok(ExitCode::SUCCESS)
}
