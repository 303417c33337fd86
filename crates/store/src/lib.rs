//! # secdispatch-store — the one crate that talks to a database
//!
//! Every persistent thing secdispatch keeps goes through [`Store`]: key material that
//! rotates (the [`KeyStore`] trait), values that may be used only once (the
//! [`NonceStore`] trait of `secdispatch-replay`: RFC 9421 signature nonces, Privacy Pass
//! token nonces), and the certificate authorities with everything they issued and
//! revoked (the [`CertificateDb`] trait).
//!
//! Two backends share one schema, one set of migrations and the same SQL:
//!
//! * **SQLite**, embedded, the default: one file in the data directory (created `0600`,
//!   the directory `0700`), WAL journal, a busy timeout so concurrent writers queue instead
//!   of failing;
//! * **PostgreSQL**, for deployments with several replicas: `postgres://…` from the
//!   configuration or `DATABASE_URL`.
//!
//! Migrations are compiled into the binary and applied on open, under an exclusive lock
//! (SQLite `BEGIN IMMEDIATE`, PostgreSQL an advisory lock) so that processes starting
//! together do not race. A database written by a newer secdispatch is refused.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use secdispatch_store::{KeyStore, NewKey, Store, StoreLocation};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = Store::open(&StoreLocation::sqlite_in(dir.path())).await?;
//! let now = SystemTime::now();
//! let key = store
//!     .insert_key(NewKey {
//!         name: "gateway-signing".into(),
//!         algorithm: "ed25519".into(),
//!         material: b"secret pkcs8 bytes".to_vec().into(),
//!         public: b"public key bytes".to_vec(),
//!         not_before: now,
//!         not_after: now + Duration::from_secs(86_400),
//!     })
//!     .await?;
//! assert_eq!(key.version, 1);
//! let current = store.current_key("gateway-signing", now).await?.expect("a current key");
//! assert_eq!(current.version, 1);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```

mod certdb;
mod keys;
mod location;
mod migrate;
mod nonces;
mod redis_nonces;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};

pub use certdb::{
    Authority, CertificateDb, IssuedCertificate, Revocation, RevokeOutcome, serial_hex,
};
pub use keys::{KeyRecord, KeyStore, NewKey};
pub use location::StoreLocation;
pub use redis_nonces::RedisNonceStore;
pub use secdispatch_replay::{NonceStore, ReplayError, Reservation};

/// What went wrong in the store. Every variant names the thing that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store URL is neither `sqlite:…` nor `postgres://…`.
    #[error("unsupported store URL {0:?}: expected sqlite:PATH or postgres://USER@HOST/DB")]
    BadUrl(String),
    /// The data directory or database file could not be created or secured.
    #[error("data directory {path}: {cause}")]
    DataDir {
        /// The directory or file.
        path: String,
        /// The operating system's reason.
        cause: std::io::Error,
    },
    /// The database did not answer or refused the connection.
    #[error("cannot open store {location}: {cause}")]
    Open {
        /// The store, with any password removed.
        location: String,
        /// The driver's reason.
        cause: sqlx::Error,
    },
    /// The database was migrated by a newer secdispatch.
    #[error(
        "store schema is at version {found}, newer than this secdispatch knows (up to {known}); \
         upgrade secdispatch"
    )]
    SchemaTooNew {
        /// Highest version recorded in the database.
        found: i64,
        /// Highest version this binary carries.
        known: i64,
    },
    /// A migration failed and was rolled back.
    #[error("store migration {version} ({name}) failed: {cause}")]
    Migration {
        /// The migration's version.
        version: i64,
        /// The migration's name.
        name: &'static str,
        /// The driver's reason.
        cause: sqlx::Error,
    },
    /// A key version that does not exist.
    #[error("key {name:?} version {version} not found")]
    KeyNotFound {
        /// Key name.
        name: String,
        /// Key version.
        version: u32,
    },
    /// Something looked up that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Something created that already exists.
    #[error("{0}")]
    Conflict(String),
    /// A key that cannot be stored as given.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// Redis did not answer or refused.
    #[error("cannot use replay store {location}: {reason}")]
    Redis {
        /// The server, without password.
        location: String,
        /// Why.
        reason: String,
    },
    /// Any other database failure.
    #[error("store query failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Which SQL dialect a [`Store`] speaks; only DDL and locking differ between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Options for [`Store::open_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Largest number of pooled connections.
    pub max_connections: u32,
    /// How long to wait for a connection (and for the first one when opening).
    pub connect_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A connection pool to the SQLite or PostgreSQL store, migrated and ready.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
    location: String,
    nonces: Option<NonceBackend>,
}

/// Where nonces live when not in the database (see [`Store::with_nonce_store`]).
#[derive(Clone)]
struct NonceBackend {
    store: std::sync::Arc<dyn secdispatch_replay::NonceStore>,
    location: String,
}

impl std::fmt::Debug for NonceBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceBackend")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open (creating if needed) and migrate the store at `location`, with default options.
    pub async fn open(location: &StoreLocation) -> Result<Self, StoreError> {
        Self::open_with(location, &StoreOptions::default()).await
    }

    /// Open (creating if needed) and migrate the store at `location`.
    pub async fn open_with(
        location: &StoreLocation,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        install_default_drivers();
        let url = location.prepare()?;
        let dialect = location.dialect();
        let shown = location.to_string();
        let mut pool = AnyPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.connect_timeout);
        if dialect == Dialect::Sqlite {
            // Per-connection settings: wait for a busy writer instead of failing at once,
            // and `NORMAL` syncing, which is durable under WAL except across power loss.
            pool = pool.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;")
                        .await?;
                    Ok(())
                })
            });
        }
        let open_error = |cause| StoreError::Open {
            location: shown.clone(),
            cause,
        };
        // One direct connection first: the pool reports only "timed out" when the server
        // refuses, while a direct attempt says why (refused, authentication, no database).
        let probe = tokio::time::timeout(options.connect_timeout, AnyConnection::connect(&url))
            .await
            .map_err(|_| {
                open_error(sqlx::Error::Io(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {:?}", options.connect_timeout),
                )))
            })?
            .map_err(open_error)?;
        probe.close().await.map_err(open_error)?;
        let pool = pool.connect(&url).await.map_err(open_error)?;
        if dialect == Dialect::Sqlite {
            // WAL is a property of the file: set once, kept by every later connection.
            let mode: (String,) = sqlx::query_as("PRAGMA journal_mode = WAL")
                .fetch_one(&pool)
                .await
                .map_err(open_error)?;
            if !mode.0.eq_ignore_ascii_case("wal") {
                tracing::warn!(store = %shown, journal_mode = %mode.0, "SQLite refused WAL mode");
            }
        }
        let store = Self {
            pool,
            dialect,
            location: shown,
            nonces: None,
        };
        migrate::run(&store).await?;
        tracing::debug!(store = %store.location, "store open and migrated");
        Ok(store)
    }

    /// Keep nonces (RFC 9421 signature nonces, spent Privacy Pass tokens) in `nonces`,
    /// e.g. a [`RedisNonceStore`] shared by every replica, instead of this database.
    /// `location` (credentials redacted) is what [`Store::nonce_location`] reports.
    pub fn with_nonce_store(
        mut self,
        nonces: std::sync::Arc<dyn secdispatch_replay::NonceStore>,
        location: String,
    ) -> Self {
        self.nonces = Some(NonceBackend {
            store: nonces,
            location,
        });
        self
    }

    /// Where nonces are kept: the nonce store given to [`Store::with_nonce_store`], else
    /// this database.
    pub fn nonce_location(&self) -> &str {
        self.nonces
            .as_ref()
            .map_or(self.location.as_str(), |n| n.location.as_str())
    }

    /// The SQL dialect of this store.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Where the store lives, without credentials, for logs and status output.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The highest migration applied.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        migrate::current_version(self).await
    }

    /// Whether the database, and the separate nonce store if there is one, answer (for
    /// readiness checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        if let Some(n) = &self.nonces {
            n.store.ping().await.map_err(|e| StoreError::Redis {
                location: n.location.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Close every pooled connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}
