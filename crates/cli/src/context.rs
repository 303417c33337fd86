//! What every command resolves first: the configuration, the data directory, the store.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use secdispatch_server::config::Config;
use secdispatch_store::{RedisNonceStore, Store, StoreLocation, StoreOptions};

use crate::args::Global;

/// The data directory when neither `--data-dir` nor the config names one.
pub(crate) const DEFAULT_DATA_DIR: &str = "./secdispatch-data";

/// Configuration and paths, resolved from flags, environment, file and defaults.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) config: Config,
    pub(crate) data_dir: PathBuf,
}

impl Context {
    /// Load the config file (if any) and apply the global flags over it.
    pub(crate) fn load(global: &Global) -> anyhow::Result<Self> {
        let mut config = match &global.config {
            Some(path) => Config::load(path)?,
            None => Config::default(),
        };
        if let Some(f) = global.log_format {
            config.log.format = match f {
                crate::args::LogFormatArg::Text => secdispatch_server::config::LogFormat::Text,
                crate::args::LogFormatArg::Json => secdispatch_server::config::LogFormat::Json,
            };
        }
        let data_dir = global
            .data_dir
            .clone()
            .or_else(|| config.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        config.data_dir = Some(data_dir.clone());
        Ok(Self { config, data_dir })
    }

    /// Create the data directory (mode 0700) if needed, check that it is writable, and
    /// make `data_dir` absolute so that everything printed from here on is unambiguous.
    pub(crate) fn ensure_data_dir(&mut self) -> anyhow::Result<PathBuf> {
        let dir = &self.data_dir;
        create_private_dir(dir)
            .with_context(|| format!("cannot create data directory {}", dir.display()))?;
        let probe = dir.join(".write-test");
        std::fs::write(&probe, b"")
            .and_then(|()| std::fs::remove_file(&probe))
            .with_context(|| format!("data directory {} is not writable", dir.display()))?;
        let abs = dir
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dir.display()))?;
        self.data_dir = abs.clone();
        self.config.data_dir = Some(abs.clone());
        Ok(abs)
    }

    /// Where the store is: `store.url`, else `DATABASE_URL`, else SQLite in the data dir.
    pub(crate) fn store_location(&self) -> anyhow::Result<StoreLocation> {
        let url = match self.config.store.url.as_str() {
            "" => std::env::var("DATABASE_URL").unwrap_or_default(),
            url => url.to_owned(),
        };
        if url.is_empty() {
            return Ok(StoreLocation::sqlite_in(&self.data_dir));
        }
        Ok(StoreLocation::parse(&url)?)
    }

    /// Open and migrate the store.
    pub(crate) async fn open_store(&self) -> anyhow::Result<Store> {
        let location = self.store_location()?;
        let options = StoreOptions {
            max_connections: self.config.store.max_connections,
            connect_timeout: self.config.store.connect_timeout,
        };
        let store = Store::open_with(&location, &options).await?;
        let replay = &self.config.store.replay;
        if replay.is_empty() {
            return Ok(store);
        }
        let redis = RedisNonceStore::connect(replay, self.config.store.connect_timeout).await?;
        let shown = redis.location().to_owned();
        Ok(store.with_nonce_store(std::sync::Arc::new(redis), shown))
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}
