//! `secdispatch`: the edge-security system of the IETF 106 SecDispatch proposals behind one
//! command. Each subcommand is thin: parse, load the configuration, call into the service
//! and protocol crates.
#![allow(clippy::print_stderr)]

mod args;
mod cmd;
mod context;
mod logging;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // One line: the error and its causes, outermost first.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
