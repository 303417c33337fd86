//! The HTTP Signature Algorithms registry (RFC 9421 §6.2, §3.3).

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// One of the six registered signature algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `rsa-pss-sha512`: RSASSA-PSS, SHA-512, MGF1-SHA-512, 64-byte salt (§3.3.1).
    RsaPssSha512,
    /// `rsa-v1_5-sha256`: RSASSA-PKCS1-v1_5 with SHA-256 (§3.3.2).
    RsaV15Sha256,
    /// `hmac-sha256`: HMAC with SHA-256 (§3.3.3).
    HmacSha256,
    /// `ecdsa-p256-sha256`: ECDSA P-256 / SHA-256, raw `r‖s` (§3.3.4).
    EcdsaP256Sha256,
    /// `ecdsa-p384-sha384`: ECDSA P-384 / SHA-384, raw `r‖s` (§3.3.5).
    EcdsaP384Sha384,
    /// `ed25519`: EdDSA over Curve25519, no prehash (§3.3.6).
    Ed25519,
}

impl Algorithm {
    /// All six, in registry order.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::RsaPssSha512,
        Algorithm::RsaV15Sha256,
        Algorithm::HmacSha256,
        Algorithm::EcdsaP256Sha256,
        Algorithm::EcdsaP384Sha384,
        Algorithm::Ed25519,
    ];

    /// The registry name, as used in the `alg` parameter.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RsaPssSha512 => "rsa-pss-sha512",
            Algorithm::RsaV15Sha256 => "rsa-v1_5-sha256",
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::EcdsaP256Sha256 => "ecdsa-p256-sha256",
            Algorithm::EcdsaP384Sha384 => "ecdsa-p384-sha384",
            Algorithm::Ed25519 => "ed25519",
        }
    }

    /// Whether signing twice gives the same bytes (PKCS#1 v1.5, HMAC, Ed25519).
    pub fn is_deterministic(self) -> bool {
        matches!(
            self,
            Algorithm::RsaV15Sha256 | Algorithm::HmacSha256 | Algorithm::Ed25519
        )
    }

    /// The JOSE (RFC 7518) name of the same operation, for JWK `alg` members.
    pub fn jose_name(self) -> &'static str {
        match self {
            Algorithm::RsaPssSha512 => "PS512",
            Algorithm::RsaV15Sha256 => "RS256",
            Algorithm::HmacSha256 => "HS256",
            Algorithm::EcdsaP256Sha256 => "ES256",
            Algorithm::EcdsaP384Sha384 => "ES384",
            Algorithm::Ed25519 => "EdDSA",
        }
    }

    /// Map a JWK `alg` member (JOSE name or registry name) to an algorithm.
    pub fn from_jose(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| {
            a.jose_name() == name
                || a.name() == name
                || (name == "Ed25519" && *a == Algorithm::Ed25519)
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    /// Parse a registry name. JOSE names and `none` are refused (§3.3.7).
    fn from_str(s: &str) -> Result<Self, Error> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| Error::UnknownAlgorithm(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(a.name().parse::<Algorithm>().unwrap(), a);
            assert_eq!(Algorithm::from_jose(a.jose_name()), Some(a));
        }
        assert!("RS256".parse::<Algorithm>().is_err());
        assert!("none".parse::<Algorithm>().is_err());
        assert!("RSA-PSS-SHA512".parse::<Algorithm>().is_err());
    }
}
