//! `secdispatch config init | check | show`

use std::path::Path;
use std::process::ExitCode;

use secdispatch_server::config::{Config, DEFAULT_TOML};

use crate::args::OutArgs;
use crate::context::Context;
use crate::output::{Secrecy, write_artifact};

/// Write the commented default configuration.
pub(crate) fn init(out: &OutArgs) -> anyhow::Result<ExitCode> {
    write_artifact(out, DEFAULT_TOML.as_bytes(), Secrecy::Public)?;
    Ok(ExitCode::SUCCESS)
}

/// Validate a file; errors propagate as one line with file:line:column and key.
#[allow(clippy::print_stdout)]
pub(crate) fn check(file: &Path) -> anyhow::Result<ExitCode> {
    Config::load(file)?;
    println!("{}: ok", file.display());
    Ok(ExitCode::SUCCESS)
}

/// Print the effective configuration.
#[allow(clippy::print_stdout)]
pub(crate) fn show(ctx: &Context) -> anyhow::Result<ExitCode> {
    print!("{}", ctx.config.to_toml());
    Ok(ExitCode::SUCCESS)
}
