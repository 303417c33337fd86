//! Writing what a command produces: standard output unless `--out FILE` is given.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::args::OutArgs;

/// Whether the artifact holds secrets (private keys): then a file is created mode 0600.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Secrecy {
    Public,
    #[allow(dead_code)] // used by the key-producing commands
    Secret,
}

/// Write `bytes` to `--out FILE` (refusing to replace it without `--force`) or stdout.
pub(crate) fn write_artifact(out: &OutArgs, bytes: &[u8], secrecy: Secrecy) -> anyhow::Result<()> {
    match &out.out {
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(bytes)
                .and_then(|()| stdout.flush())
                .context("writing to standard output")
        }
        Some(path) => write_file(path, bytes, secrecy, out.force),
    }
}

/// Create `path` with `bytes`; secrets get mode 0600.
pub(crate) fn write_file(
    path: &Path,
    bytes: &[u8],
    secrecy: Secrecy,
    force: bool,
) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secrecy == Secrecy::Secret {
            0o600
        } else {
            0o644
        });
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{} exists; pass --force to replace it", path.display())
        } else {
            anyhow::anyhow!("cannot write {}: {e}", path.display())
        }
    })?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))
}
