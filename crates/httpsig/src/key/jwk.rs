//! JSON Web Keys (RFC 7517/7518) for the six algorithms, and RFC 7638 thumbprints.
//!
//! Supported: `RSA` (private keys need the CRT members `p q dp dq qi`; multi-prime `oth`
//! is refused), `EC` with `crv` `P-256`/`P-384`, `OKP` with `crv` `Ed25519`, `oct` (HMAC).
//! The `alg` member binds the key: a JOSE name (`PS512`, `RS256`, `ES256`, `ES384`,
//! `EdDSA`, `HS256`) or an RFC 9421 registry name. Private members are zeroized on drop.

use aws_lc_rs::digest;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::der::{TAG_SEQUENCE, push_tlv, push_uint};
use super::{KeyType, SignInner, SigningKey, VerifyingKey, ec_signing, rejected, settle};
use crate::alg::Algorithm;
use crate::error::{Error, Result};

/// A parsed JWK. Unknown members are ignored; private members are wiped on drop.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop, Default, Clone)]
pub struct Jwk {
    /// Key type: `RSA`, `EC`, `OKP`, `oct`.
    pub kty: String,
    /// Key id.
    #[serde(default)]
    pub kid: Option<String>,
    /// Algorithm binding (JOSE or RFC 9421 name).
    #[serde(default)]
    pub alg: Option<String>,
    /// Curve for `EC` / `OKP`.
    #[serde(default)]
    pub crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    d: Option<String>,
    #[serde(default)]
    p: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    dp: Option<String>,
    #[serde(default)]
    dq: Option<String>,
    #[serde(default)]
    qi: Option<String>,
    #[serde(default)]
    #[zeroize(skip)]
    oth: Option<serde_json::Value>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    k: Option<String>,
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("crv", &self.crv)
            .finish_non_exhaustive()
    }
}

fn bad(reason: impl Into<String>) -> Error {
    Error::InvalidKey {
        format: "JWK",
        reason: reason.into(),
    }
}

fn member<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str> {
    v.as_deref()
        .ok_or_else(|| bad(format!("missing member \"{name}\"")))
}

fn b64(v: &Option<String>, name: &str) -> Result<Zeroizing<Vec<u8>>> {
    let s = member(v, name)?;
    URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| bad(format!("member \"{name}\" is not unpadded base64url")))
}

fn b64_len(v: &Option<String>, name: &str, len: usize) -> Result<Zeroizing<Vec<u8>>> {
    let b = b64(v, name)?;
    if b.len() != len {
        return Err(bad(format!("member \"{name}\" must be {len} bytes")));
    }
    Ok(b)
}

impl Jwk {
    /// Parse one JWK from JSON text.
    pub fn parse(json: &str) -> Result<Jwk> {
        let jwk: Jwk = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        jwk.key_type()?;
        Ok(jwk)
    }

    /// The key type, checking `kty` and `crv`.
    pub fn key_type(&self) -> Result<KeyType> {
        match (self.kty.as_str(), self.crv.as_deref()) {
            ("RSA", _) => Ok(KeyType::Rsa),
            ("EC", Some("P-256")) => Ok(KeyType::EcP256),
            ("EC", Some("P-384")) => Ok(KeyType::EcP384),
            ("OKP", Some("Ed25519")) => Ok(KeyType::Ed25519),
            ("oct", _) => Ok(KeyType::Hmac),
            ("EC" | "OKP", crv) => Err(Error::UnsupportedKey(format!(
                "JWK {} curve {crv:?}",
                self.kty
            ))),
            (kty, _) => Err(Error::UnsupportedKey(format!("JWK kty {kty:?}"))),
        }
    }

    /// Whether the JWK holds private material.
    pub fn is_private(&self) -> bool {
        self.d.is_some() || self.kty == "oct"
    }

    fn bound_alg(&self) -> Result<Option<Algorithm>> {
        match &self.alg {
            None => Ok(None),
            Some(a) => Algorithm::from_jose(a)
                .map(Some)
                .ok_or_else(|| Error::UnknownAlgorithm(a.clone())),
        }
    }

    fn algorithm(&self, requested: Option<Algorithm>) -> Result<Algorithm> {
        settle(self.key_type()?, self.bound_alg()?, requested)
    }

    fn ec_point(&self, len: usize) -> Result<Vec<u8>> {
        let x = b64_len(&self.x, "x", len)?;
        let y = b64_len(&self.y, "y", len)?;
        let mut point = Vec::with_capacity(1 + 2 * len);
        point.push(4);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Ok(point)
    }

    fn rsa_public_der(&self) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        push_uint(&mut body, &b64(&self.n, "n")?);
        push_uint(&mut body, &b64(&self.e, "e")?);
        let mut out = Vec::new();
        push_tlv(&mut out, TAG_SEQUENCE, &body);
        Ok(out)
    }

    fn rsa_private_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        if self.oth.is_some() {
            return Err(Error::UnsupportedKey(
                "multi-prime RSA JWK (\"oth\")".into(),
            ));
        }
        if self.p.is_none() {
            return Err(Error::UnsupportedKey(
                "RSA JWK without the CRT members p, q, dp, dq, qi".into(),
            ));
        }
        let mut body = Zeroizing::new(vec![0x02, 0x01, 0x00]);
        for (v, name) in [
            (&self.n, "n"),
            (&self.e, "e"),
            (&self.d, "d"),
            (&self.p, "p"),
            (&self.q, "q"),
            (&self.dp, "dp"),
            (&self.dq, "dq"),
            (&self.qi, "qi"),
        ] {
            push_uint(&mut body, &b64(v, name)?);
        }
        let mut out = Zeroizing::new(Vec::new());
        push_tlv(&mut out, TAG_SEQUENCE, &body);
        Ok(out)
    }

    /// The signing key. `alg` is needed for RSA keys without an `alg` member.
    pub fn signing_key(&self, alg: Option<Algorithm>) -> Result<SigningKey> {
        let alg = self.algorithm(alg)?;
        let inner = match self.key_type()? {
            KeyType::Rsa => {
                member(&self.d, "d")?;
                let der = self.rsa_private_der()?;
                SignInner::Rsa(RsaKeyPair::from_der(&der).map_err(rejected("JWK"))?)
            }
            ty @ (KeyType::EcP256 | KeyType::EcP384) => {
                let len = if ty == KeyType::EcP256 { 32 } else { 48 };
                let d = b64_len(&self.d, "d", len)?;
                let point = self.ec_point(len)?;
                SignInner::Ecdsa(
                    EcdsaKeyPair::from_private_key_and_public_key(ec_signing(ty), &d, &point)
                        .map_err(rejected("JWK"))?,
                )
            }
            KeyType::Ed25519 => {
                let d = b64_len(&self.d, "d", 32)?;
                let x = b64_len(&self.x, "x", 32)?;
                SignInner::Ed25519(
                    Ed25519KeyPair::from_seed_and_public_key(&d, &x).map_err(rejected("JWK"))?,
                )
            }
            KeyType::Hmac => return Ok(self.with_kid(SigningKey::hmac(&b64(&self.k, "k")?)?)),
        };
        Ok(self.with_kid(SigningKey::new(alg, inner)))
    }

    fn with_kid(&self, key: SigningKey) -> SigningKey {
        match &self.kid {
            Some(k) => key.with_keyid(k.clone()),
            None => key,
        }
    }

    /// The verification key (public half; for `oct`, the secret).
    pub fn verifying_key(&self, alg: Option<Algorithm>) -> Result<VerifyingKey> {
        let alg = self.algorithm(alg)?;
        let key = match self.key_type()? {
            KeyType::Rsa => VerifyingKey::public(alg, &self.rsa_public_der()?)?,
            KeyType::EcP256 => VerifyingKey::public(alg, &self.ec_point(32)?)?,
            KeyType::EcP384 => VerifyingKey::public(alg, &self.ec_point(48)?)?,
            KeyType::Ed25519 => VerifyingKey::public(alg, &b64_len(&self.x, "x", 32)?)?,
            KeyType::Hmac => VerifyingKey::hmac(&b64(&self.k, "k")?)?,
        };
        Ok(match &self.kid {
            Some(k) => key.with_keyid(k.clone()),
            None => key,
        })
    }

    /// The RFC 7638 thumbprint: base64url(SHA-256) of the required members in
    /// lexicographic order, no whitespace.
    pub fn thumbprint(&self) -> Result<String> {
        let mut members: Vec<(&str, &str)> = match self.key_type()? {
            KeyType::Rsa => vec![("e", member(&self.e, "e")?), ("n", member(&self.n, "n")?)],
            KeyType::EcP256 | KeyType::EcP384 => vec![
                ("crv", member(&self.crv, "crv")?),
                ("x", member(&self.x, "x")?),
                ("y", member(&self.y, "y")?),
            ],
            KeyType::Ed25519 => vec![
                ("crv", member(&self.crv, "crv")?),
                ("x", member(&self.x, "x")?),
            ],
            KeyType::Hmac => vec![("k", member(&self.k, "k")?)],
        };
        members.push(("kty", self.kty.as_str()));
        members.sort_by(|a, b| a.0.cmp(b.0));
        let mut json = Zeroizing::new(String::from("{"));
        for (i, (k, v)) in members.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&serde_json::Value::from(*k).to_string());
            json.push(':');
            json.push_str(&serde_json::Value::from(*v).to_string());
        }
        json.push('}');
        Ok(URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, json.as_bytes())))
    }
}

/// The RFC 7638 thumbprint of a JWK given as JSON text.
pub fn jwk_thumbprint(json: &str) -> Result<String> {
    Jwk::parse(json)?.thumbprint()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_example() {
        // RFC 7638 §3.1.
        let jwk = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;
        assert_eq!(
            jwk_thumbprint(jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn rejects_bad_jwks() {
        assert!(Jwk::parse("not json").is_err());
        assert!(matches!(
            Jwk::parse(r#"{"kty":"EC","crv":"P-521"}"#),
            Err(Error::UnsupportedKey(_))
        ));
        assert!(matches!(
            Jwk::parse(r#"{"kty":"XYZ"}"#),
            Err(Error::UnsupportedKey(_))
        ));
        let jwk = Jwk::parse(r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#).unwrap();
        assert!(jwk.verifying_key(None).is_err());
        let jwk = Jwk::parse(r#"{"kty":"oct","k":"AAAA","alg":"RS256"}"#).unwrap();
        assert!(matches!(
            jwk.verifying_key(None),
            Err(Error::AlgorithmMismatch { .. })
        ));
    }
}
