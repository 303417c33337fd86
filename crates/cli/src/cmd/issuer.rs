//! `secdispatch issuer`: the Privacy Pass issuer alone (RFC 9578), and
//! `secdispatch issuer rotate`: store a new key of every configured token type now.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use secdispatch_server::issuer::IssuerKeys;
use secdispatch_store::KeyStore;

use crate::cmd::service::{Runtime, ServiceArgs};
use crate::context::Context;

/// `secdispatch issuer [--listen ADDR] [--admin ADDR] | issuer rotate`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct IssuerArgs {
    #[command(subcommand)]
    pub(crate) action: Option<IssuerAction>,
    #[command(flatten)]
    pub(crate) service: ServiceArgs,
}

/// What `secdispatch issuer` does besides running.
#[derive(Debug, Subcommand)]
pub(crate) enum IssuerAction {
    /// Store a new issuer key of every configured token type. It is listed in the directory
    /// at once (with not-before) and issues from issuer.publish_ahead on; the old keys stay
    /// valid until their own end, so tokens already issued keep redeeming.
    Rotate,
}

/// Run the issuer, or rotate its keys.
pub(crate) async fn run(ctx: Context, args: IssuerArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(IssuerAction::Rotate) => rotate(ctx).await,
        None => serve(ctx, args.service).await,
    }
}

#[allow(clippy::print_stdout)]
async fn serve(ctx: Context, args: ServiceArgs) -> anyhow::Result<ExitCode> {
    let rt = Runtime::start(ctx).await?;
    let listen = args.listen.unwrap_or(rt.ctx.config.issuer.listen);
    let admin = rt.admin(args.admin).await?;
    let addr = secdispatch_server::issuer::start_issuer(
        &rt.ctx.config,
        listen,
        rt.store.clone(),
        &rt.metrics,
        &rt.shutdown,
    )
    .await?;
    rt.watch_listener("issuer", addr);
    println!(
        "issuer listening on http://{addr} (directory http://{addr}{}), admin on http://{admin}",
        secdispatch_privacypass::directory::WELL_KNOWN_PATH
    );
    rt.wait_and_stop().await?;
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
async fn rotate(mut ctx: Context) -> anyhow::Result<ExitCode> {
    ctx.ensure_data_dir()?;
    let store = Arc::new(ctx.open_store().await?);
    let keys = IssuerKeys::new(store.clone() as Arc<dyn KeyStore>, &ctx.config.issuer)?;
    let now = SystemTime::now();
    // Make sure the current keys exist first, so a rotation on a fresh store leaves a
    // key valid now and its successor.
    keys.refresh(now).await?;
    for (t, version) in keys.rotate(now).await? {
        println!(
            "token type {t}: new key version {version}, issuing from {}",
            humantime::format_rfc3339_seconds(now + ctx.config.issuer.publish_ahead)
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
