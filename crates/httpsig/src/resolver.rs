//! Key resolution by `keyid` (RFC 9421 §3.2 step 6): a [`KeyResolver`] trait, a static map
//! with rotation windows, and a JWKS document.
//!
//! Resolution never looks at the signature's `alg`: the algorithm comes with the key.
//! Rotation: each key may carry a validity window; outside it the key is refused
//! ([`Error::KeyNotValidNow`]), so an old key can overlap with its successor for a grace
//! period and then stop working without a restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use crate::alg::Algorithm;
use crate::error::{Error, Result};
use crate::key::{Jwk, VerifyingKey};

/// Most keys returned for one key id (bounds the work an attacker can cause).
pub const MAX_KEYS_PER_ID: usize = 4;

/// Finds the verification keys for a signature.
pub trait KeyResolver: Send + Sync + std::fmt::Debug {
    /// The keys that may have made a signature with this `keyid` (`None` when the signature
    /// has none), valid at `now`. Never empty on success.
    fn resolve(&self, keyid: Option<&str>, now: SystemTime) -> Result<Vec<Arc<VerifyingKey>>>;
}

impl<R: KeyResolver + ?Sized> KeyResolver for Arc<R> {
    fn resolve(&self, keyid: Option<&str>, now: SystemTime) -> Result<Vec<Arc<VerifyingKey>>> {
        (**self).resolve(keyid, now)
    }
}

/// One key with an optional validity window.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// The key.
    pub key: Arc<VerifyingKey>,
    /// Not valid before this time.
    pub not_before: Option<SystemTime>,
    /// Not valid after this time.
    pub not_after: Option<SystemTime>,
}

impl KeyEntry {
    fn valid_at(&self, now: SystemTime) -> bool {
        self.not_before.is_none_or(|t| now >= t) && self.not_after.is_none_or(|t| now <= t)
    }
}

/// A fixed set of keys by key id, with rotation windows and an optional default key for
/// signatures without `keyid`.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    keys: HashMap<String, Vec<KeyEntry>>,
    default: Option<Arc<VerifyingKey>>,
}

impl StaticResolver {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a key valid at all times.
    pub fn insert(&mut self, keyid: impl Into<String>, key: VerifyingKey) -> &mut Self {
        self.insert_window(keyid, key, None, None)
    }

    /// Add a key valid from `not_before` to `not_after` (either end open).
    pub fn insert_window(
        &mut self,
        keyid: impl Into<String>,
        key: VerifyingKey,
        not_before: Option<SystemTime>,
        not_after: Option<SystemTime>,
    ) -> &mut Self {
        self.keys.entry(keyid.into()).or_default().push(KeyEntry {
            key: Arc::new(key),
            not_before,
            not_after,
        });
        self
    }

    /// The key for signatures that carry no `keyid`.
    pub fn set_default(&mut self, key: VerifyingKey) -> &mut Self {
        self.default = Some(Arc::new(key));
        self
    }

    /// Builder form of [`StaticResolver::insert`].
    pub fn with(mut self, keyid: impl Into<String>, key: VerifyingKey) -> Self {
        self.insert(keyid, key);
        self
    }

    /// Number of key ids.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.default.is_none()
    }
}

impl KeyResolver for StaticResolver {
    fn resolve(&self, keyid: Option<&str>, now: SystemTime) -> Result<Vec<Arc<VerifyingKey>>> {
        let Some(id) = keyid else {
            return self
                .default
                .clone()
                .map(|k| vec![k])
                .ok_or_else(|| Error::UnknownKey(String::new()));
        };
        let entries = self
            .keys
            .get(id)
            .ok_or_else(|| Error::UnknownKey(id.to_owned()))?;
        let valid: Vec<_> = entries
            .iter()
            .filter(|e| e.valid_at(now))
            .take(MAX_KEYS_PER_ID)
            .map(|e| e.key.clone())
            .collect();
        if valid.is_empty() {
            return Err(Error::KeyNotValidNow(id.to_owned()));
        }
        Ok(valid)
    }
}

/// Keys from a JWKS document (`{"keys": [...]}`), found by `kid` or by RFC 7638
/// thumbprint. The document can be replaced at run time ([`JwksResolver::replace`]) for
/// rotation; the core never reads files itself.
#[derive(Debug)]
pub struct JwksResolver {
    rsa_alg: Option<Algorithm>,
    inner: RwLock<StaticResolver>,
}

#[derive(serde::Deserialize)]
struct Jwks {
    keys: Vec<serde_json::Value>,
}

fn load_jwks(json: &[u8], rsa_alg: Option<Algorithm>) -> Result<StaticResolver> {
    let doc: Jwks = serde_json::from_slice(json).map_err(|e| Error::InvalidKey {
        format: "JWKS",
        reason: e.to_string(),
    })?;
    let mut r = StaticResolver::new();
    for (i, v) in doc.keys.iter().enumerate() {
        let text = v.to_string();
        let jwk = Jwk::parse(&text).map_err(|e| Error::InvalidKey {
            format: "JWKS",
            reason: format!("key #{i}: {e}"),
        })?;
        let needs_rsa_alg = jwk.kty == "RSA" && jwk.alg.is_none();
        let key = jwk
            .verifying_key(if needs_rsa_alg { rsa_alg } else { None })
            .map_err(|e| Error::InvalidKey {
                format: "JWKS",
                reason: format!("key #{i}: {e}"),
            })?;
        let thumb = jwk.thumbprint()?;
        let key = Arc::new(key);
        for id in [jwk.kid.clone(), Some(thumb)].into_iter().flatten() {
            r.keys.entry(id).or_default().push(KeyEntry {
                key: key.clone(),
                not_before: None,
                not_after: None,
            });
        }
    }
    Ok(r)
}

impl JwksResolver {
    /// Parse a JWKS. RSA keys without an `alg` member get `rsa_alg`, or are refused.
    pub fn from_json(json: &[u8], rsa_alg: Option<Algorithm>) -> Result<Self> {
        Ok(JwksResolver {
            rsa_alg,
            inner: RwLock::new(load_jwks(json, rsa_alg)?),
        })
    }

    /// Replace the key set with a new document (all-or-nothing).
    pub fn replace(&self, json: &[u8]) -> Result<()> {
        let fresh = load_jwks(json, self.rsa_alg)?;
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        *guard = fresh;
        Ok(())
    }
}

impl KeyResolver for JwksResolver {
    fn resolve(&self, keyid: Option<&str>, now: SystemTime) -> Result<Vec<Arc<VerifyingKey>>> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .resolve(keyid, now)
    }
}

/// One key that answers for every `keyid` (and for signatures without one): for tools that
/// are handed "the" key explicitly, such as `secdispatch sig verify --key FILE`.
#[derive(Debug, Clone)]
pub struct SingleKey(pub Arc<VerifyingKey>);

impl KeyResolver for SingleKey {
    fn resolve(&self, _keyid: Option<&str>, _now: SystemTime) -> Result<Vec<Arc<VerifyingKey>>> {
        Ok(vec![self.0.clone()])
    }
}
