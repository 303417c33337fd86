//! Issuer keys in the key store, generated on first start and rotated on a schedule.
//!
//! Each token type has a key name (`privacypass-type1`, `privacypass-type2`) with
//! versions. Version N+1 is stored when version N has a quarter of its lifetime left,
//! with `not_before` `publish_ahead` in the future: the directory lists it (with
//! `not-before`) before any token is issued under it, so origins and clients have it
//! when it takes over. The old version keeps issuing until then and stays accepted until
//! its own `not_after`, so tokens issued under it redeem until that key's expiry. A key
//! published ahead is already loaded for issuance and verification (listed after the
//! current one), so a client that reads its not-before as passed before this replica has
//! reloaded is not refused.
//! A new key never shares its truncated key id with a key still valid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secdispatch_privacypass::directory::{DirectoryKey, IssuerDirectory};
use secdispatch_privacypass::issuer::Issuer;
use secdispatch_privacypass::origin::{AcceptedKey, VerificationKey};
use secdispatch_privacypass::{TokenType, type1, type2};
use secdispatch_store::{KeyRecord, KeyStore, NewKey, StoreError};
use zeroize::Zeroizing;

/// Key store name of type 1 issuer keys.
pub const TYPE1_KEY_NAME: &str = "privacypass-type1";
/// Key store name of type 2 issuer keys.
pub const TYPE2_KEY_NAME: &str = "privacypass-type2";
const TYPE1_ALG: &str = "privacypass-voprf-p384-sha384";
const TYPE2_ALG: &str = "privacypass-blindrsa-2048-pss-sha384";

/// Why keys could not be made, loaded or rotated.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key store failed.
    #[error("issuer key store: {0}")]
    Store(#[from] StoreError),
    /// A stored key does not load, or generation failed.
    #[error("issuer key {name} v{version}: {reason}")]
    Key {
        /// Key name.
        name: &'static str,
        /// Version.
        version: u32,
        /// Why.
        reason: String,
    },
    /// A configuration value the key manager cannot use.
    #[error("issuer: {0}")]
    Config(String),
}

/// A loaded key version.
#[derive(Clone)]
enum Loaded {
    T1(Arc<type1::IssuerKey>),
    T2(Arc<type2::IssuerKey>),
}

/// What the service answers with, rebuilt on every refresh.
#[derive(Debug, Clone)]
pub struct KeySnapshot {
    /// Keys valid now, newest first: what issuance uses.
    pub issuer: Issuer,
    /// The directory document: keys not yet expired, newest first, with `not-before`.
    pub directory: IssuerDirectory,
    /// Keys an origin co-located with the issuer accepts (valid now), with their ends.
    pub accepted: Vec<AcceptedKey>,
}

/// The issuer's keys (see the module documentation).
pub struct IssuerKeys {
    store: Arc<dyn KeyStore>,
    types: Vec<TokenType>,
    lifetime: Duration,
    publish_ahead: Duration,
    backend: type2::Backend,
    max_batch: usize,
    request_path: String,
    cache: Mutex<HashMap<(TokenType, u32), Loaded>>,
    snapshot: RwLock<Arc<KeySnapshot>>,
}

impl std::fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKeys")
            .field("types", &self.types)
            .finish_non_exhaustive()
    }
}

fn key_name(t: TokenType) -> &'static str {
    if t == TokenType::PRIVATE_P384 {
        TYPE1_KEY_NAME
    } else {
        TYPE2_KEY_NAME
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl IssuerKeys {
    /// A key manager for `types`; nothing is loaded until [`IssuerKeys::refresh`].
    pub fn new(store: Arc<dyn KeyStore>, config: &super::IssuerConfig) -> Result<Self, KeyError> {
        let mut types = Vec::new();
        for t in &config.token_types {
            let t = TokenType(*t);
            if !t.is_supported() {
                return Err(KeyError::Config(format!(
                    "token type {t} is not supported (use 1 and/or 2)"
                )));
            }
            if !types.contains(&t) {
                types.push(t);
            }
        }
        if types.is_empty() {
            return Err(KeyError::Config("issuer.token_types is empty".into()));
        }
        let backend = match config.rsa_backend.as_str() {
            "aws-lc" => type2::Backend::AwsLc,
            "pure-rust" => type2::Backend::PureRust,
            other => {
                return Err(KeyError::Config(format!(
                    "issuer.rsa_backend {other:?}: use \"aws-lc\" or \"pure-rust\""
                )));
            }
        };
        let lifetime = config.key_lifetime.max(Duration::from_secs(60));
        Ok(Self {
            store,
            types,
            lifetime,
            publish_ahead: config.publish_ahead.min(lifetime / 4),
            backend,
            max_batch: config.max_batch,
            request_path: config.request_path.clone(),
            cache: Mutex::new(HashMap::new()),
            snapshot: RwLock::new(Arc::new(KeySnapshot {
                issuer: Issuer::new(config.max_batch),
                directory: IssuerDirectory {
                    issuer_request_uri: config.request_path.clone(),
                    token_keys: Vec::new(),
                },
                accepted: Vec::new(),
            })),
        })
    }

    /// The token types issued.
    pub fn types(&self) -> &[TokenType] {
        &self.types
    }

    /// The keys as of the last refresh.
    pub fn snapshot(&self) -> Arc<KeySnapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Make sure every type has a key valid at `now` and a successor when the current one
    /// nears its end, then reload. Call at start and periodically.
    pub async fn refresh(&self, now: SystemTime) -> Result<Arc<KeySnapshot>, KeyError> {
        for t in self.types.clone() {
            let versions = self.store.key_versions(key_name(t)).await?;
            let active_now = versions.iter().any(|k| k.is_active(now));
            let newest_end = versions.iter().map(|k| k.not_after).max();
            let rotate_at = newest_end.and_then(|end| end.checked_sub(self.lifetime / 4));
            let not_before = match (active_now, rotate_at) {
                (false, _) | (_, None) => Some(now),
                (true, Some(at)) if now >= at => Some(now + self.publish_ahead),
                _ => None,
            };
            if let Some(nb) = not_before {
                self.create(t, &versions, now, nb).await?;
            }
        }
        self.reload(now).await
    }

    /// Store a new key of every type now, used from `now + publish_ahead` on
    /// (`secdispatch issuer rotate`). Old keys keep their validity.
    pub async fn rotate(&self, now: SystemTime) -> Result<Vec<(TokenType, u32)>, KeyError> {
        let mut made = Vec::new();
        for t in self.types.clone() {
            let versions = self.store.key_versions(key_name(t)).await?;
            let v = self
                .create(t, &versions, now, now + self.publish_ahead)
                .await?;
            made.push((t, v));
        }
        self.reload(now).await?;
        Ok(made)
    }

    async fn create(
        &self,
        t: TokenType,
        versions: &[KeyRecord],
        now: SystemTime,
        not_before: SystemTime,
    ) -> Result<u32, KeyError> {
        let name = key_name(t);
        // Truncated ids of keys still valid: a new key must not collide with them.
        let taken: Vec<u8> = versions
            .iter()
            .filter(|k| k.not_after > now)
            .filter_map(|k| {
                secdispatch_privacypass::TokenKeyId::of(&k.public)
                    .0
                    .last()
                    .copied()
            })
            .collect();
        let fail = |reason: String| KeyError::Key {
            name,
            version: 0,
            reason,
        };
        let (algorithm, material, public) = 'generate: {
            for _ in 0..64 {
                let (alg, material, public) = if t == TokenType::PRIVATE_P384 {
                    let k = type1::IssuerKey::generate(&mut getrandom::SysRng)
                        .map_err(|e| fail(e.to_string()))?;
                    (TYPE1_ALG, k.secret_bytes(), k.public().token_key().to_vec())
                } else {
                    let k = type2::IssuerKey::generate(self.backend)
                        .map_err(|e| fail(e.to_string()))?;
                    (
                        TYPE2_ALG,
                        Zeroizing::new(k.pkcs8().to_vec()),
                        k.public().spki().to_vec(),
                    )
                };
                let truncated = secdispatch_privacypass::TokenKeyId::of(&public).truncated();
                if !taken.contains(&truncated) {
                    break 'generate (alg, material, public);
                }
            }
            return Err(fail("no free truncated key id after 64 keys".into()));
        };
        let record = self
            .store
            .insert_key(NewKey {
                name: name.to_owned(),
                algorithm: algorithm.to_owned(),
                material,
                public,
                not_before,
                not_after: not_before + self.lifetime,
            })
            .await?;
        tracing::info!(
            key = name,
            version = record.version,
            not_before = unix(not_before),
            "new Privacy Pass issuer key stored"
        );
        Ok(record.version)
    }

    fn load(&self, t: TokenType, record: &KeyRecord) -> Result<Loaded, KeyError> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = cache.get(&(t, record.version)) {
            return Ok(k.clone());
        }
        let fail = |reason: String| KeyError::Key {
            name: key_name(t),
            version: record.version,
            reason,
        };
        let loaded = if t == TokenType::PRIVATE_P384 {
            if record.algorithm != TYPE1_ALG {
                return Err(fail(format!("unexpected algorithm {}", record.algorithm)));
            }
            Loaded::T1(Arc::new(
                type1::IssuerKey::from_secret(&record.material).map_err(|e| fail(e.to_string()))?,
            ))
        } else {
            if record.algorithm != TYPE2_ALG {
                return Err(fail(format!("unexpected algorithm {}", record.algorithm)));
            }
            Loaded::T2(Arc::new(
                type2::IssuerKey::from_pkcs8(&record.material, self.backend)
                    .map_err(|e| fail(e.to_string()))?,
            ))
        };
        cache.insert((t, record.version), loaded.clone());
        Ok(loaded)
    }

    async fn reload(&self, now: SystemTime) -> Result<Arc<KeySnapshot>, KeyError> {
        let mut issuer = Issuer::new(self.max_batch);
        let mut token_keys = Vec::new();
        let mut accepted = Vec::new();
        let mut pending = Vec::new();
        for t in self.types.clone() {
            let mut versions = self.store.key_versions(key_name(t)).await?;
            versions.retain(|k| k.not_after > now);
            versions.sort_by_key(|k| std::cmp::Reverse(k.version));
            for record in &versions {
                let loaded = self.load(t, record)?;
                let token_key = match &loaded {
                    Loaded::T1(k) => k.public().token_key().to_vec(),
                    Loaded::T2(k) => k.public().spki().to_vec(),
                };
                token_keys.push(DirectoryKey::new(
                    t,
                    &token_key,
                    Some(unix(record.not_before)),
                ));
                // A key published ahead issues and verifies already: a client may read
                // its not-before as passed before this replica reloads, and must not get
                // a 422 for following the directory. It goes last in `accepted`, so that
                // challenges name the current key until the next reload.
                let (key, added) = match &loaded {
                    Loaded::T1(k) => (
                        VerificationKey::Type1(k.clone()),
                        issuer.add_type1(k.clone()),
                    ),
                    Loaded::T2(k) => (
                        VerificationKey::Type2(k.public().clone()),
                        issuer.add_type2(k.clone()),
                    ),
                };
                let entry = AcceptedKey {
                    key,
                    not_after: record.not_after,
                };
                if record.is_active(now) {
                    accepted.push(entry);
                } else {
                    pending.push(entry);
                }
                if let Err(e) = added {
                    // Older key with the same truncated id (only from outside edits): the
                    // newer one issues; tokens under the older one still redeem.
                    tracing::warn!(key = key_name(t), version = record.version, error = %e, "key not used for issuance");
                }
            }
        }
        accepted.extend(pending);
        // Newest first, as clients take the first usable key (not-before in the past).
        let snapshot = Arc::new(KeySnapshot {
            issuer,
            directory: IssuerDirectory {
                issuer_request_uri: self.request_path.clone(),
                token_keys,
            },
            accepted,
        });
        *self.snapshot.write().unwrap_or_else(|p| p.into_inner()) = snapshot.clone();
        Ok(snapshot)
    }
}
