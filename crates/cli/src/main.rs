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

/// mimalloc instead of glibc's malloc: the gateway allocates per request (hyper, headers,
/// signature bases), and glibc malloc/free were ~12% of its CPU under load; with mimalloc
/// the gateway needs ~11% less CPU per request (bench/gateway.sh, CPU µs per request).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
