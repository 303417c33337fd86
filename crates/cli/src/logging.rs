//! Log set-up: `tracing` to standard error, as text or JSON lines.

use std::io::IsTerminal;

use secdispatch_server::config::LogFormat;
use tracing_subscriber::EnvFilter;

/// Install the global subscriber. Precedence: `RUST_LOG`, then `-v`/`-q`, then the
/// configuration's `log.level`.
pub(crate) fn init(format: LogFormat, level: &str, verbose: u8, quiet: u8) -> anyhow::Result<()> {
    let directive = match (verbose, quiet) {
        (0, 0) => level.to_owned(),
        (1, _) => "debug".to_owned(),
        (v, _) if v >= 2 => "trace".to_owned(),
        (_, 1) => "warn".to_owned(),
        _ => "error".to_owned(),
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(&env)
            .map_err(|e| anyhow::anyhow!("RUST_LOG={env:?} is not a valid filter: {e}"))?,
        _ => EnvFilter::try_new(&directive)
            .map_err(|e| anyhow::anyhow!("log level {directive:?} is not a valid filter: {e}"))?,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))
}
