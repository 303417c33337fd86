//! The command line: global options and the command tree.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// secdispatch: the IETF 106 SecDispatch security proposals as one edge-security system.
///
/// Run `secdispatch up` to start every service on localhost with a self-made PKI and an
/// embedded database; run `secdispatch <command> --help` for any command.
#[derive(Debug, Parser)]
#[command(
    name = "secdispatch",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Configuration file (TOML); every option has a default, so it is optional.
    #[arg(long, global = true, value_name = "FILE", env = "SECDISPATCH_CONFIG")]
    pub(crate) config: Option<PathBuf>,

    /// Directory for keys, certificates and the embedded database [default: ./secdispatch-data].
    #[arg(long, global = true, value_name = "DIR", env = "SECDISPATCH_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,

    /// Log output format [default: the config's log.format, else text].
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub(crate) log_format: Option<LogFormatArg>,

    /// More log output (-v debug, -vv trace). RUST_LOG, when set, takes precedence.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Less log output (-q warnings and errors, -qq errors only).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) quiet: u8,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormatArg {
    Text,
    Json,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the version and the specifications implemented.
    Version,
    /// Write, check or show the configuration file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Start every service on localhost, print where each listens, stop on Ctrl-C.
    Up(UpArgs),
    /// Show the running system end to end: Privacy Pass, mTLS through the TLS-LB load
    /// balancer to the backend, revocation via OCSP, token replay refused.
    Demo(crate::cmd::demo::DemoArgs),
    /// HTTP Message Signatures (RFC 9421) and Digest Fields (RFC 9530) on message files.
    #[command(subcommand)]
    Sig(crate::cmd::sig::SigCommand),
    /// A certificate authority kept in the store: init, intermediate, issue, revoke, crl, list.
    #[command(subcommand)]
    Ca(crate::cmd::pki::CaCommand),
    /// Keys, requests, inspection and chain validation (classical, ML-DSA, composite).
    #[command(subcommand)]
    Pki(crate::cmd::pki::PkiCommand),
    /// Run the TLS gateway alone (RFC 9440 Client-Cert, RFC 9421 signed forwarding).
    Gateway(crate::cmd::service::ServiceArgs),
    /// Run the demo backend alone (accepts only gateway-signed requests).
    BackendDemo(crate::cmd::service::ServiceArgs),
    /// Run the Privacy Pass issuer alone (RFC 9578), or rotate its keys.
    Issuer(crate::cmd::issuer::IssuerArgs),
    /// Run the TLS-LB load balancer (draft-schwartz-tls-lb-02), or make its keys.
    Lb(crate::cmd::lb::LbArgs),
    /// OCSP responder (RFC 6960/9919/9654, experimental OCSPv2), our OCSP client, and the
    /// OpenSSL index.txt import.
    #[command(subcommand)]
    Ocsp(crate::cmd::ocsp::OcspCommand),
    /// Privacy Pass client: fetch a protected URL, or obtain a token for a challenge.
    #[command(subcommand)]
    Token(crate::cmd::token::TokenCommand),
    /// Malware lifecycle (draft-fabini-smart-malware-lifecycle) from captures, Zeek logs
    /// or live flow events: states, evidence, beacons, infection chain, containment.
    #[command(subcommand)]
    Lifecycle(crate::cmd::lifecycle::LifecycleCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Write a commented configuration file with every option at its default.
    Init {
        #[command(flatten)]
        out: OutArgs,
    },
    /// Validate a configuration file: exit 0 when valid, else print where it is wrong.
    Check {
        /// The file to check.
        file: PathBuf,
    },
    /// Print the effective configuration (file, defaults and flags combined) as TOML.
    Show,
}

/// Where a command writes the artifact it produces.
#[derive(Debug, Args)]
pub(crate) struct OutArgs {
    /// Write to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Replace FILE when it exists.
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Address of the admin listener (/healthz, /metrics); overrides admin.listen.
    #[arg(long, value_name = "ADDR")]
    pub(crate) admin: Option<SocketAddr>,
    /// Address of the gateway; overrides gateway.listen.
    #[arg(long, value_name = "ADDR")]
    pub(crate) gateway: Option<SocketAddr>,
    /// Address of the demo backend; overrides backend_demo.listen.
    #[arg(long, value_name = "ADDR")]
    pub(crate) backend_demo: Option<SocketAddr>,
    /// Address of the Privacy Pass issuer; overrides issuer.listen.
    #[arg(long, value_name = "ADDR")]
    pub(crate) issuer: Option<SocketAddr>,
    /// Address of the TLS-LB load balancer; overrides lb.listen.
    #[arg(long, value_name = "ADDR")]
    pub(crate) lb: Option<SocketAddr>,
    /// Address of the OCSP responder; overrides ocsp.listen.
    #[arg(long, value_name = "ADDR")]
    pub(crate) ocsp: Option<SocketAddr>,
    /// Where the lifecycle watcher takes the lb's and gateway's flow events.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4740")]
    pub(crate) watch: SocketAddr,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
    }
}
