//! Token key identifiers (RFC 9578 §5 and §6): `token_key_id = SHA-256(token-key)`, and its
//! truncation to the last byte carried in a `TokenRequest`.

use std::fmt;

/// `SHA-256` of the issuer's encoded token key (`Nid` = 32).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenKeyId(pub [u8; 32]);

impl TokenKeyId {
    /// The id of an encoded token key (the directory's `token-key`).
    pub fn of(token_key: &[u8]) -> Self {
        Self(crate::sha256(token_key))
    }

    /// `truncated_token_key_id`: the least significant (last) byte.
    pub fn truncated(&self) -> u8 {
        self.0[31]
    }

    /// Lower-case hex, e.g. for the double-spend scope `privacypass:<hex>`.
    pub fn to_hex(&self) -> String {
        crate::hex(&self.0)
    }
}

impl fmt::Debug for TokenKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenKeyId({})", self.to_hex())
    }
}

impl fmt::Display for TokenKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}
