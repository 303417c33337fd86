//! `[issuer]` and the gateway route option `privacy_pass = { ... }`.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::duration;

/// `[issuer]`: the Privacy Pass issuer (RFC 9578) and its simple attester.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IssuerConfig {
    /// Address of the issuer's HTTP listener; `--listen` overrides.
    pub listen: SocketAddr,
    /// Path of the issuance endpoint (the directory's `issuer-request-uri`).
    pub request_path: String,
    /// Token types issued: 2 (blind RSA, publicly verifiable) and/or 1 (VOPRF P-384,
    /// verifiable only with the issuer's key).
    pub token_types: Vec<u16>,
    /// Lifetime of an issuer key. A successor is made when a quarter is left and
    /// published `publish_ahead` before it is used; the old key stays valid (and listed)
    /// until its own end, so tokens issued under it keep redeeming.
    #[serde(with = "duration")]
    pub key_lifetime: Duration,
    /// How long before first use a new key appears in the directory (`not-before`).
    #[serde(with = "duration")]
    pub publish_ahead: Duration,
    /// How often keys are checked for rotation.
    #[serde(with = "duration")]
    pub key_check_interval: Duration,
    /// `Cache-Control: max-age` of the directory; up to 10% is taken off at random so
    /// that caches do not all expire together.
    #[serde(with = "duration")]
    pub directory_max_age: Duration,
    /// Most token requests in one batch.
    pub max_batch: usize,
    /// RSA blind-signing backend: `aws-lc` (fast, the default) or `pure-rust`.
    pub rsa_backend: String,
    /// The attester (RFC 9576 §3.2) in its simplest form: SHA-256 (hex) of the bearer
    /// secrets allowed to request tokens (`Authorization: Bearer <secret>`). Empty: the
    /// issuance endpoint is open (put mTLS in front, e.g. a gateway route with
    /// `client_auth = "required"`, or keep it on localhost).
    pub attester_bearer_sha256: Vec<String>,
}

impl Default for IssuerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8444)),
            request_path: "/token-request".to_owned(),
            token_types: vec![2, 1],
            key_lifetime: Duration::from_secs(30 * 86_400),
            publish_ahead: Duration::from_secs(3600),
            key_check_interval: Duration::from_secs(60),
            directory_max_age: Duration::from_secs(3600),
            max_batch: 100,
            rsa_backend: "aws-lc".to_owned(),
            attester_bearer_sha256: Vec::new(),
        }
    }
}

/// Redemption context of a protected route's challenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RedemptionContextConfig {
    /// Empty context: tokens can be fetched ahead and redeemed on any request.
    #[default]
    Empty,
    /// A fresh random context per challenge: one token per challenged request.
    PerRequest,
}

/// `privacy_pass = { ... }` on a `[[gateway.routes]]` entry: the route answers 401 with
/// a `PrivateToken` challenge until the client redeems a token (RFC 9577).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyPassRouteConfig {
    /// `issuer_name` in the challenges: the issuer's `host[:port]`.
    pub issuer_name: String,
    /// Where the issuer directory is fetched from (type 2 public keys). Default:
    /// `http://<issuer_name>/.well-known/private-token-issuer-directory`.
    #[serde(default)]
    pub directory_url: Option<String>,
    /// Token types to ask for, preferred first (default `[2]`). Type 1 needs the issuer's
    /// private key, available only when the gateway shares the issuer's key store.
    #[serde(default = "default_route_types")]
    pub token_types: Vec<u16>,
    /// `empty` or `per-request`.
    #[serde(default)]
    pub redemption_context: RedemptionContextConfig,
    /// `origin_info`: origin names tokens are bound to. Empty: cross-origin tokens.
    #[serde(default)]
    pub origin_info: Vec<String>,
    /// `max-age` of the challenges.
    #[serde(default = "default_max_age", with = "duration")]
    pub max_age: Duration,
    /// How often the directory (or key store) is re-read.
    #[serde(default = "default_refresh", with = "duration")]
    pub key_refresh: Duration,
    /// The issuer keeps its keys in this gateway's store (same `[store]` database, as
    /// under `secdispatch up`): read keys from the store instead of the directory. Needed
    /// for type 1 tokens, whose verification takes the issuer's private key.
    #[serde(default)]
    pub shared_store: bool,
}

fn default_route_types() -> Vec<u16> {
    vec![2]
}

fn default_max_age() -> Duration {
    Duration::from_secs(60)
}

fn default_refresh() -> Duration {
    Duration::from_secs(60)
}
