//! RFC 9421 signing keys kept in the key store, with rotation, for the two ends of a
//! signed hop: the gateway that signs ([`SigningKeyring`]) and the backend that verifies
//! ([`VerifyingKeyring`]).
//!
//! A key lives under a name (`gateway-signing`) in versions; the `keyid` of version N is
//! `<name>-v<N>`. Rotation publishes ahead: when the current key has less than a quarter
//! of its lifetime left, the next version is stored with `not_before` a little in the
//! future ([`PUBLISH_AHEAD`]), so every verifier has loaded it before the first signature
//! made with it. The old version keeps verifying until its own `not_after`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use secdispatch_httpsig::alg::Algorithm;
use secdispatch_httpsig::key::{SigningKey, VerifyingKey};
use secdispatch_httpsig::resolver::KeyResolver;
use secdispatch_store::{KeyRecord, KeyStore, NewKey, StoreError};

/// How far ahead of its first use a rotated key is published.
pub const PUBLISH_AHEAD: Duration = Duration::from_secs(60);

/// Why a keyring cannot provide a key.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    /// The key store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An algorithm the keyring cannot generate.
    #[error("cannot make {0:?} signing keys: use ed25519, ecdsa-p256-sha256 or ecdsa-p384-sha384")]
    Algorithm(String),
    /// Key generation or loading failed.
    #[error("key {name}: {reason}")]
    Key {
        /// Key name and version.
        name: String,
        /// What failed.
        reason: String,
    },
}

/// `keyid` of a stored version.
pub fn keyid(name: &str, version: u32) -> String {
    format!("{name}-v{version}")
}

/// A new key pair for `alg`: (PKCS#8 DER, raw public key).
fn generate(alg: Algorithm) -> Result<(Vec<u8>, Vec<u8>), KeyringError> {
    use aws_lc_rs::signature::{self, KeyPair};
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let fail = |e: aws_lc_rs::error::Unspecified| KeyringError::Key {
        name: alg.name().to_owned(),
        reason: format!("generation failed: {e}"),
    };
    let (pkcs8, public) = match alg {
        Algorithm::Ed25519 => {
            let doc = signature::Ed25519KeyPair::generate_pkcs8(&rng).map_err(fail)?;
            let pair = signature::Ed25519KeyPair::from_pkcs8(doc.as_ref())
                .map_err(|_| fail(aws_lc_rs::error::Unspecified))?;
            (doc.as_ref().to_vec(), pair.public_key().as_ref().to_vec())
        }
        Algorithm::EcdsaP256Sha256 | Algorithm::EcdsaP384Sha384 => {
            let a = if alg == Algorithm::EcdsaP256Sha256 {
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING
            };
            let doc = signature::EcdsaKeyPair::generate_pkcs8(a, &rng).map_err(fail)?;
            let pair = signature::EcdsaKeyPair::from_pkcs8(a, doc.as_ref())
                .map_err(|_| fail(aws_lc_rs::error::Unspecified))?;
            (doc.as_ref().to_vec(), pair.public_key().as_ref().to_vec())
        }
        other => return Err(KeyringError::Algorithm(other.name().to_owned())),
    };
    Ok((pkcs8, public))
}

/// PKCS#8 DER as PEM text, the form `SigningKey::from_pem` reads.
fn pkcs8_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    pem
}

fn signing_key(record: &KeyRecord) -> Result<SigningKey, KeyringError> {
    let fail = |reason: String| KeyringError::Key {
        name: keyid(&record.name, record.version),
        reason,
    };
    let alg: Algorithm = record
        .algorithm
        .parse()
        .map_err(|_| fail(format!("unknown algorithm {}", record.algorithm)))?;
    let pem = zeroize::Zeroizing::new(pkcs8_pem(&record.material));
    Ok(SigningKey::from_pem(&pem, Some(alg))
        .map_err(|e| fail(e.to_string()))?
        .with_keyid(keyid(&record.name, record.version)))
}

fn verifying_key(record: &KeyRecord) -> Result<VerifyingKey, KeyringError> {
    let fail = |reason: String| KeyringError::Key {
        name: keyid(&record.name, record.version),
        reason,
    };
    let alg: Algorithm = record
        .algorithm
        .parse()
        .map_err(|_| fail(format!("unknown algorithm {}", record.algorithm)))?;
    Ok(VerifyingKey::public(alg, &record.public)
        .map_err(|e| fail(e.to_string()))?
        .with_keyid(keyid(&record.name, record.version)))
}

/// The signer's side: the current key, made and rotated as needed.
pub struct SigningKeyring {
    store: Arc<dyn KeyStore>,
    name: String,
    algorithm: Algorithm,
    lifetime: Duration,
    current: RwLock<Option<Arc<SigningKey>>>,
}

impl std::fmt::Debug for SigningKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyring")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for VerifyingKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKeyring")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SigningKeyring {
    /// A keyring for `name`, making `algorithm` keys valid for `lifetime`.
    pub fn new(
        store: Arc<dyn KeyStore>,
        name: &str,
        algorithm: &str,
        lifetime: Duration,
    ) -> Result<Self, KeyringError> {
        let algorithm: Algorithm = algorithm
            .parse()
            .map_err(|_| KeyringError::Algorithm(algorithm.to_owned()))?;
        if !matches!(
            algorithm,
            Algorithm::Ed25519 | Algorithm::EcdsaP256Sha256 | Algorithm::EcdsaP384Sha384
        ) {
            return Err(KeyringError::Algorithm(algorithm.name().to_owned()));
        }
        Ok(Self {
            store,
            name: name.to_owned(),
            algorithm,
            lifetime: lifetime.max(PUBLISH_AHEAD * 8),
            current: RwLock::new(None),
        })
    }

    /// Make sure a key is usable at `now` and one will be when this one ends: store a
    /// first key (valid at once) or the next one (published ahead), then load the newest
    /// valid key. Call at start and periodically.
    pub async fn refresh(&self, now: SystemTime) -> Result<Arc<SigningKey>, KeyringError> {
        let versions = self.store.key_versions(&self.name).await?;
        let newest_end = versions.iter().map(|k| k.not_after).max();
        let active_now = versions.iter().any(|k| k.is_active(now));
        let rotate_at = newest_end.and_then(|end| end.checked_sub(self.lifetime / 4));
        let needs_new = match (active_now, rotate_at) {
            (false, _) | (_, None) => Some(now),
            (true, Some(at)) if now >= at => Some(now + PUBLISH_AHEAD),
            _ => None,
        };
        if let Some(not_before) = needs_new {
            let (pkcs8, public) = generate(self.algorithm)?;
            let rec = self
                .store
                .insert_key(NewKey {
                    name: self.name.clone(),
                    algorithm: self.algorithm.name().to_owned(),
                    material: pkcs8.into(),
                    public,
                    not_before,
                    not_after: not_before + self.lifetime,
                })
                .await?;
            tracing::info!(keyid = %keyid(&rec.name, rec.version), "new signing key stored");
        }
        let record = self
            .store
            .current_key(&self.name, now)
            .await?
            .ok_or_else(|| KeyringError::Key {
                name: self.name.clone(),
                reason: "no key valid now".into(),
            })?;
        let key = Arc::new(signing_key(&record)?);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(key.clone());
        Ok(key)
    }

    /// The key loaded by the last [`SigningKeyring::refresh`].
    pub fn current(&self) -> Option<Arc<SigningKey>> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A verifying key with its `[not_before, not_after)` window.
type WindowedKey = (Arc<VerifyingKey>, SystemTime, SystemTime);

/// The verifier's side: every version of one key name with its validity window, reloaded
/// from the store by [`VerifyingKeyring::refresh`]; implements the RFC 9421 `KeyResolver`.
pub struct VerifyingKeyring {
    store: Arc<dyn KeyStore>,
    name: String,
    keys: RwLock<HashMap<String, WindowedKey>>,
}

impl VerifyingKeyring {
    /// A keyring for the key `name` (empty until the first refresh).
    pub fn new(store: Arc<dyn KeyStore>, name: &str) -> Self {
        Self {
            store,
            name: name.to_owned(),
            keys: RwLock::new(HashMap::new()),
        }
    }

    /// Reload every version from the store; returns how many keys are known.
    pub async fn refresh(&self) -> Result<usize, KeyringError> {
        let mut keys = HashMap::new();
        for record in self.store.key_versions(&self.name).await? {
            let key = verifying_key(&record)?;
            keys.insert(
                keyid(&record.name, record.version),
                (Arc::new(key), record.not_before, record.not_after),
            );
        }
        let n = keys.len();
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
        Ok(n)
    }
}

impl KeyResolver for VerifyingKeyring {
    fn resolve(
        &self,
        keyid: Option<&str>,
        now: SystemTime,
    ) -> secdispatch_httpsig::Result<Vec<Arc<VerifyingKey>>> {
        use secdispatch_httpsig::Error;
        let keyid = keyid.ok_or_else(|| Error::UnknownKey("(no keyid)".into()))?;
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        match keys.get(keyid) {
            None => Err(Error::UnknownKey(keyid.to_owned())),
            Some((key, nb, na)) if *nb <= now && now < *na => Ok(vec![key.clone()]),
            Some(_) => Err(Error::KeyNotValidNow(keyid.to_owned())),
        }
    }
}
