//! The key store: named, versioned key material with a validity window.
//!
//! A *key name* ("gateway-signing", "privacypass-type2", ...) has versions 1, 2, 3, ...
//! Each version has a window `[not_before, not_after)`. Rotation is adding a version whose
//! window starts when the new key should take over, and shortening the old one's
//! `not_after` to when its last signatures or tokens stop mattering. Signers use
//! [`KeyStore::current_key`]; verifiers accept any of [`KeyStore::active_keys`].

use std::fmt;
use std::time::SystemTime;

use secdispatch_replay::{BoxFuture, from_unix_millis, unix_millis};
use sqlx::Row;
use sqlx::any::AnyRow;
use zeroize::Zeroizing;

use crate::{Store, StoreError};

/// A key version to add; the store assigns the version number.
pub struct NewKey {
    /// Key name, e.g. `gateway-signing`.
    pub name: String,
    /// Algorithm identifier understood by the key's user, e.g. `ed25519`.
    pub algorithm: String,
    /// Secret material (e.g. PKCS#8 DER); may be empty for public-only keys.
    pub material: Zeroizing<Vec<u8>>,
    /// Public part (e.g. SPKI DER), published without touching the secret.
    pub public: Vec<u8>,
    /// First instant the key is valid.
    pub not_before: SystemTime,
    /// First instant the key is no longer valid.
    pub not_after: SystemTime,
}

impl fmt::Debug for NewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("material", &"<redacted>")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// One stored key version. The secret material is zeroed when the record is dropped and
/// never printed by `Debug`.
#[derive(Clone)]
pub struct KeyRecord {
    /// Key name.
    pub name: String,
    /// Version, from 1.
    pub version: u32,
    /// Algorithm identifier.
    pub algorithm: String,
    /// Secret material.
    pub material: Zeroizing<Vec<u8>>,
    /// Public part.
    pub public: Vec<u8>,
    /// First instant the key is valid.
    pub not_before: SystemTime,
    /// First instant the key is no longer valid.
    pub not_after: SystemTime,
    /// When this version was stored.
    pub created_at: SystemTime,
}

impl KeyRecord {
    /// Whether the key is valid at `at`.
    pub fn is_active(&self, at: SystemTime) -> bool {
        self.not_before <= at && at < self.not_after
    }
}

impl fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRecord")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("algorithm", &self.algorithm)
            .field("material", &"<redacted>")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// Named, versioned keys with validity windows.
pub trait KeyStore: Send + Sync {
    /// Store a new version of `key.name`; its version is one more than the highest so far.
    fn insert_key(&self, key: NewKey) -> BoxFuture<'_, Result<KeyRecord, StoreError>>;

    /// One version of a key.
    fn key<'a>(
        &'a self,
        name: &'a str,
        version: u32,
    ) -> BoxFuture<'a, Result<Option<KeyRecord>, StoreError>>;

    /// Every version of a key, oldest first.
    fn key_versions<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyRecord>, StoreError>>;

    /// The versions valid at `at`, newest first: what a verifier accepts during rotation.
    fn active_keys<'a>(
        &'a self,
        name: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<Vec<KeyRecord>, StoreError>>;

    /// The newest version valid at `at`: what a signer uses.
    fn current_key<'a>(
        &'a self,
        name: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<Option<KeyRecord>, StoreError>> {
        Box::pin(async move { Ok(self.active_keys(name, at).await?.into_iter().next()) })
    }

    /// Set a version's `not_after` (retire it, or end its overlap with its successor).
    fn set_key_not_after<'a>(
        &'a self,
        name: &'a str,
        version: u32,
        not_after: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Every key name, sorted.
    fn key_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
}

/// The columns of `keys`, in the order [`record`] reads them by name.
macro_rules! select_keys {
    ($filter:literal) => {
        concat!(
            "SELECT name, version, algorithm, material, public, not_before, not_after, created_at \
             FROM keys WHERE ",
            $filter
        )
    };
}

/// Insert with the next version number for the name, computed in the same statement.
const INSERT_KEY: &str = "INSERT INTO keys \
     (name, version, algorithm, material, public, not_before, not_after, created_at) \
     SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4, $5, $6, $7 \
     FROM keys WHERE name = $8 RETURNING version";

/// How many times an insert retries when another process took the same version number.
const VERSION_RACE_RETRIES: usize = 8;

fn record(row: &AnyRow) -> Result<KeyRecord, StoreError> {
    let version: i64 = row.try_get("version")?;
    Ok(KeyRecord {
        name: row.try_get("name")?,
        version: u32::try_from(version)
            .map_err(|_| StoreError::InvalidKey("version out of range"))?,
        algorithm: row.try_get("algorithm")?,
        material: Zeroizing::new(row.try_get("material")?),
        public: row.try_get("public")?,
        not_before: from_unix_millis(row.try_get("not_before")?),
        not_after: from_unix_millis(row.try_get("not_after")?),
        created_at: from_unix_millis(row.try_get("created_at")?),
    })
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Store {
    async fn insert_key_now(&self, key: NewKey) -> Result<KeyRecord, StoreError> {
        if key.name.is_empty() || key.name.len() > 255 {
            return Err(StoreError::InvalidKey("name must be 1..=255 bytes"));
        }
        if key.not_after <= key.not_before {
            return Err(StoreError::InvalidKey(
                "not_after must be later than not_before",
            ));
        }
        let created_at = unix_millis(SystemTime::now());
        let mut attempt = 0;
        loop {
            let res = sqlx::query_scalar::<_, i64>(INSERT_KEY)
                .bind(&key.name)
                .bind(&key.algorithm)
                .bind(key.material.as_slice())
                .bind(key.public.as_slice())
                .bind(unix_millis(key.not_before))
                .bind(unix_millis(key.not_after))
                .bind(created_at)
                .bind(&key.name)
                .fetch_one(self.pool())
                .await;
            match res {
                Ok(version) => {
                    return Ok(KeyRecord {
                        version: u32::try_from(version)
                            .map_err(|_| StoreError::InvalidKey("version out of range"))?,
                        created_at: from_unix_millis(created_at),
                        name: key.name,
                        algorithm: key.algorithm,
                        material: key.material,
                        public: key.public,
                        not_before: key.not_before,
                        not_after: key.not_after,
                    });
                }
                Err(e) if is_unique_violation(&e) && attempt < VERSION_RACE_RETRIES => {
                    attempt += 1;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn query_keys(
        &self,
        sql: &'static str,
        name: &str,
        at: Option<SystemTime>,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let mut q = sqlx::query(sql).bind(name);
        if let Some(at) = at {
            let at = unix_millis(at);
            q = q.bind(at).bind(at);
        }
        q.fetch_all(self.pool()).await?.iter().map(record).collect()
    }
}

impl KeyStore for Store {
    fn insert_key(&self, key: NewKey) -> BoxFuture<'_, Result<KeyRecord, StoreError>> {
        Box::pin(self.insert_key_now(key))
    }

    fn key<'a>(
        &'a self,
        name: &'a str,
        version: u32,
    ) -> BoxFuture<'a, Result<Option<KeyRecord>, StoreError>> {
        Box::pin(async move {
            let row = sqlx::query(select_keys!("name = $1 AND version = $2"))
                .bind(name)
                .bind(i64::from(version))
                .fetch_optional(self.pool())
                .await?;
            row.as_ref().map(record).transpose()
        })
    }

    fn key_versions<'a>(
        &'a self,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<KeyRecord>, StoreError>> {
        Box::pin(self.query_keys(select_keys!("name = $1 ORDER BY version"), name, None))
    }

    fn active_keys<'a>(
        &'a self,
        name: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<Vec<KeyRecord>, StoreError>> {
        Box::pin(self.query_keys(
            select_keys!("name = $1 AND not_before <= $2 AND not_after > $3 ORDER BY version DESC"),
            name,
            Some(at),
        ))
    }

    fn set_key_not_after<'a>(
        &'a self,
        name: &'a str,
        version: u32,
        not_after: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let done =
                sqlx::query("UPDATE keys SET not_after = $1 WHERE name = $2 AND version = $3")
                    .bind(unix_millis(not_after))
                    .bind(name)
                    .bind(i64::from(version))
                    .execute(self.pool())
                    .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::KeyNotFound {
                    name: name.to_owned(),
                    version,
                });
            }
            Ok(())
        })
    }

    fn key_names(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            Ok(
                sqlx::query_scalar("SELECT DISTINCT name FROM keys ORDER BY name")
                    .fetch_all(self.pool())
                    .await?,
            )
        })
    }
}
