//! TLS metadata for load balancers (draft-schwartz-tls-lb-02) as services: the load
//! balancer ([`balancer`], `secdispatch lb`) and the backend side ([`front_end`], which
//! the gateway runs on its listener). The protocol itself is `secdispatch-tlslb`.
//!
//! Keys are pre-shared between the two: a key file of PEM `TLS-LB PROXY KEY` blocks (the
//! -00/-01 `ProxyKey` structure: `psk_identity`, cipher suite, key), current key first.
//! `secdispatch lb keygen` puts a new key in front and keeps the old ones, so backends
//! that already have the new file open headers under either key while load balancers
//! move over; both sides reload the file when it changes. Give every load balancer
//! instance its own key: a backend keeps one replay ratchet per `psk_identity`, and two
//! balancers numbering connections independently under one identity would refuse each
//! other's connections as replays.

pub mod balancer;
pub mod config;
pub mod front_end;
pub mod prefixed;
pub mod relay;
mod tcp;

/// Bytes asked for per read until a connection's header and ClientHello are in (load
/// balancer and front end). The reads go straight into the connection's buffer: a
/// ClientHello usually fits in the first; reserving the whole 16 KiB a record may need
/// would cost an allocation of that size per connection, and a stack array held across an
/// `await` would make every connection's task that much larger (a task is moved several
/// times as it is spawned).
const READ_CHUNK: usize = 4096;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use balancer::{Balancer, LbError};
pub use config::{
    FrontEndConfig, FrontEndMode, FrontEndProtocol, LbConfig, LbHeader, PoolConfig, Splice,
};
pub use front_end::{Accepted, FrontEnd, FrontEndError, KeyFile, Via};
pub use prefixed::Prefixed;
use secdispatch_tlslb::encrypted::{Cipher, Keyring, ProxyKey};

use crate::config::Config;
use crate::services::{StartError, spawn_every};
use crate::{Metrics, Shutdown, serve};

/// Name of the key file in the data directory when none is configured.
pub const DEFAULT_KEY_FILE: &str = "tlslb.keys";

/// How often key files are checked for changes.
const KEY_RELOAD: Duration = Duration::from_secs(10);

/// The key file of `configured`, or the data directory's default.
pub fn key_path(configured: Option<&Path>, data_dir: &Path) -> PathBuf {
    configured.map_or_else(|| data_dir.join(DEFAULT_KEY_FILE), Path::to_path_buf)
}

/// Put a new random key of `cipher` named `identity` (default `lb-<unix time>`) in front
/// of the keys in `path` (made when absent, mode 0600). Returns the identity.
pub fn keygen(path: &Path, cipher: Cipher, identity: Option<&str>) -> Result<String, String> {
    let mut keys = if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Keyring::from_pem(&text)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .into_keys()
    } else {
        Vec::new()
    };
    let identity = identity.map_or_else(
        || {
            format!(
                "lb-{}",
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs())
            )
        },
        str::to_owned,
    );
    let mut secret = zeroize::Zeroizing::new(vec![0u8; cipher.key_len()]);
    aws_lc_rs::rand::fill(&mut secret).map_err(|_| "the system random generator failed")?;
    let key = ProxyKey::new(identity.as_bytes(), cipher, &secret).map_err(|e| e.to_string())?;
    keys.insert(0, key);
    let pem = Keyring::new(keys)
        .map_err(|e| e.to_string())?
        .to_pem()
        .map_err(|e| e.to_string())?;
    write_secret(path, pem.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(identity)
}

/// Replace `path` atomically (temporary file, then rename) with owner-only permissions,
/// so that a service reloading it never reads half a file.
fn write_secret(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Load a key file and reload it every few seconds when it changes.
fn watched_keys(path: &Path, shutdown: &Shutdown) -> Result<Arc<KeyFile>, StartError> {
    let keys = Arc::new(KeyFile::load(path).map_err(|e| StartError::Other(e.to_string()))?);
    spawn_every(shutdown, KEY_RELOAD, {
        let keys = keys.clone();
        move || {
            let keys = keys.clone();
            async move {
                match keys.reload_if_changed() {
                    Ok(true) => tracing::info!("TLS-LB keys reloaded"),
                    Ok(false) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "TLS-LB key file changed but does not load; keeping the old keys")
                    }
                }
            }
        }
    });
    Ok(keys)
}

/// The gateway's front end from `[gateway.front_end]` (`None` for protocol `none`).
pub fn front_end(
    config: &FrontEndConfig,
    data_dir: &Path,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<Option<Arc<FrontEnd>>, StartError> {
    if config.protocol == FrontEndProtocol::None {
        return Ok(None);
    }
    let keys = if config.protocol == FrontEndProtocol::TlsLb {
        Some(watched_keys(
            &key_path(config.key_file.as_deref(), data_dir),
            shutdown,
        )?)
    } else {
        None
    };
    let fe = FrontEnd::new(config, keys, metrics).map_err(|e| StartError::Other(e.to_string()))?;
    Ok(Some(Arc::new(fe)))
}

/// Start the load balancer of `config.lb` on `listen`.
pub async fn start_lb(
    config: &Config,
    data_dir: &Path,
    listen: SocketAddr,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<SocketAddr, StartError> {
    let lb = &config.lb;
    let keys = if lb.header == LbHeader::TlsLb {
        Some(watched_keys(
            &key_path(lb.key_file.as_deref(), data_dir),
            shutdown,
        )?)
    } else {
        None
    };
    let mut balancer =
        Balancer::new(lb, keys, metrics).map_err(|e| StartError::Other(e.to_string()))?;
    if let Some(to) = lb.flow_events {
        balancer = balancer.with_flow_events(crate::flow_events::FlowReporter::start(
            "lb", to, metrics, shutdown,
        ));
    }
    let balancer = Arc::new(balancer);
    let listener = serve::bind("lb", listen).await?;
    let addr = listener.local_addr()?;
    shutdown.spawn(balancer.run(listener, shutdown.clone()));
    Ok(addr)
}
