//! One module per command; each is parse → load → call the layers below.

mod config;
pub(crate) mod demo;
pub(crate) mod issuer;
pub(crate) mod lb;
pub(crate) mod lifecycle;
pub(crate) mod ocsp;
pub(crate) mod pki;
pub(crate) mod service;
pub(crate) mod sig;
pub(crate) mod token;
mod up;
mod version;

use std::process::ExitCode;

use crate::args::{Cli, Command, ConfigCommand};
use crate::context::Context;

/// Run the parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Commands that must work without (or on a broken) configuration come first.
    match &cli.command {
        Command::Version => return version::run(),
        Command::Config(ConfigCommand::Check { file }) => return config::check(file),
        Command::Config(ConfigCommand::Init { out }) => return config::init(out),
        _ => {}
    }
    let ctx = Context::load(&cli.global)?;
    crate::logging::init(
        ctx.config.log.format,
        &ctx.config.log.level,
        cli.global.verbose,
        cli.global.quiet,
    )?;
    match cli.command {
        Command::Config(ConfigCommand::Show) => config::show(&ctx),
        Command::Up(args) => runtime()?.block_on(up::run(ctx, args)),
        Command::Demo(args) => runtime()?.block_on(demo::run(ctx, args)),
        Command::Sig(cmd) => sig::run(cmd),
        Command::Lifecycle(cmd) => lifecycle::run(cmd),
        Command::Ca(cmd) => runtime()?.block_on(pki::run_ca(ctx, cmd)),
        Command::Pki(cmd) => pki::run_pki(cmd),
        Command::Gateway(args) => runtime()?.block_on(service::gateway(ctx, args)),
        Command::BackendDemo(args) => runtime()?.block_on(service::backend_demo(ctx, args)),
        Command::Issuer(args) => runtime()?.block_on(issuer::run(ctx, args)),
        Command::Lb(args) => runtime()?.block_on(lb::run(ctx, args)),
        Command::Token(cmd) => runtime()?.block_on(token::run(ctx, cmd)),
        Command::Ocsp(cmd) => runtime()?.block_on(ocsp::run(ctx, cmd)),
        Command::Version | Command::Config(_) => Ok(ExitCode::SUCCESS),
    }
}

/// The runtime the services run on: one worker per CPU, or `TOKIO_WORKER_THREADS`
/// workers (tokio's own variable). With exactly one, tokio's single-threaded scheduler
/// runs everything on this thread, which costs less per task and wakeup than a
/// one-worker multi-threaded one (as haproxy with `nbthread 1`).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    let one = std::env::var("TOKIO_WORKER_THREADS").is_ok_and(|v| v.trim() == "1");
    let mut builder = if one {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder
        .enable_all()
        .thread_name("secdispatch")
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}
