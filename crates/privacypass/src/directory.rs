//! The issuer directory (RFC 9578 §4): `GET /.well-known/private-token-issuer-directory`,
//! media type `application/private-token-issuer-directory`.
//!
//! ```json
//! {"issuer-request-uri": "https://issuer.example/token-request",
//!  "token-keys": [{"token-type": 2, "token-key": "MI...AB", "not-before": 1686913811}]}
//! ```
//!
//! Keys are listed in preference order. A client uses the first key of the wanted type
//! whose `not-before` is absent or past; an origin may accept any listed key. Unknown
//! members are ignored, as are keys of unknown token types.

use serde::{Deserialize, Serialize};

use crate::auth_scheme::{b64_decode, b64_encode};
use crate::error::{Error, Result};
use crate::wire::challenge::TokenType;

/// Well-known path of the directory.
pub const WELL_KNOWN_PATH: &str = "/.well-known/private-token-issuer-directory";
/// Media type of the directory.
pub const MEDIA_TYPE: &str = "application/private-token-issuer-directory";

/// One entry of `token-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryKey {
    /// Token type.
    #[serde(rename = "token-type")]
    pub token_type: u16,
    /// The key, base64url (padded on output; padding optional on input).
    #[serde(rename = "token-key")]
    pub token_key: String,
    /// Seconds since the epoch before which the key must not be used.
    #[serde(
        rename = "not-before",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub not_before: Option<u64>,
}

impl DirectoryKey {
    /// An entry for an encoded key.
    pub fn new(token_type: TokenType, token_key: &[u8], not_before: Option<u64>) -> Self {
        Self {
            token_type: token_type.0,
            token_key: b64_encode(token_key),
            not_before,
        }
    }

    /// The decoded key.
    pub fn key_bytes(&self) -> Result<Vec<u8>> {
        b64_decode("token-key", &self.token_key)
    }

    /// Whether a client may use the key at `now` (seconds since the epoch).
    pub fn usable_at(&self, now: u64) -> bool {
        self.not_before.is_none_or(|nb| nb <= now)
    }
}

/// The directory document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerDirectory {
    /// Where to POST token requests; may be relative to the directory's URL.
    #[serde(rename = "issuer-request-uri")]
    pub issuer_request_uri: String,
    /// Keys in preference order.
    #[serde(rename = "token-keys")]
    pub token_keys: Vec<DirectoryKey>,
}

impl IssuerDirectory {
    /// Parse a directory body.
    pub fn from_json(body: &[u8]) -> Result<Self> {
        serde_json::from_slice(body).map_err(|e| Error::Directory(e.to_string()))
    }

    /// The directory as JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // A struct of strings and integers always serializes.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The preferred key of `token_type` usable at `now` (RFC 9578 §4: the first one).
    pub fn select(&self, token_type: TokenType, now: u64) -> Option<&DirectoryKey> {
        self.token_keys
            .iter()
            .find(|k| k.token_type == token_type.0 && k.usable_at(now))
    }

    /// Every key of `token_type`, whatever its `not-before` (what an origin may accept).
    pub fn keys_of(&self, token_type: TokenType) -> impl Iterator<Item = &DirectoryKey> {
        self.token_keys
            .iter()
            .filter(move |k| k.token_type == token_type.0)
    }

    /// The absolute request URI: as given when absolute, else resolved against
    /// `https://<issuer_name>` (the directory's origin).
    pub fn request_uri(&self, issuer_base: &str) -> String {
        let uri = self.issuer_request_uri.trim();
        if uri.starts_with("https://") || uri.starts_with("http://") {
            return uri.to_owned();
        }
        let base = issuer_base.trim_end_matches('/');
        if uri.starts_with('/') {
            format!("{base}{uri}")
        } else {
            format!("{base}/{uri}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc_shape_ignores_unknown_and_selects_by_not_before() {
        let d = IssuerDirectory::from_json(
            br#"{"issuer-request-uri":"/req","extra":1,"token-keys":[
                {"token-type":2,"token-key":"AAEC","not-before":200},
                {"token-type":2,"token-key":"AwQF"},
                {"token-type":1,"token-key":"BgcI","future-field":true}]}"#,
        )
        .unwrap();
        assert_eq!(
            d.select(TokenType::PUBLIC_RSA, 100).unwrap().token_key,
            "AwQF"
        );
        assert_eq!(
            d.select(TokenType::PUBLIC_RSA, 200).unwrap().token_key,
            "AAEC"
        );
        assert_eq!(d.keys_of(TokenType::PUBLIC_RSA).count(), 2);
        assert_eq!(d.select(TokenType(0x5A63), 0), None);
        assert_eq!(
            d.select(TokenType::PRIVATE_P384, 0)
                .unwrap()
                .key_bytes()
                .unwrap(),
            vec![6, 7, 8]
        );
        assert_eq!(
            d.request_uri("https://issuer.example"),
            "https://issuer.example/req"
        );
        assert_eq!(IssuerDirectory::from_json(&d.to_json()).unwrap(), d);
        assert!(IssuerDirectory::from_json(b"{}").is_err());
    }
}
