//! `TokenChallenge` (RFC 9577 §2.1.1) and its digest.

use std::fmt;

use crate::error::{Error, Result};
use crate::wire::codec::{Reader, put_vec8, put_vec16};

/// A Privacy Pass token type (RFC 9577 §2.1.1, IANA "Privacy Pass Token Types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenType(pub u16);

impl TokenType {
    /// 0x0001: VOPRF(P-384, SHA-384), RFC 9578 §5. Privately verifiable.
    pub const PRIVATE_P384: Self = Self(0x0001);
    /// 0x0002: Blind RSA (2048-bit), RFC 9578 §6. Publicly verifiable.
    pub const PUBLIC_RSA: Self = Self(0x0002);

    /// The reserved values a client must ignore (RFC 9577 §6.2, "greased" types).
    pub const GREASE: [u16; 17] = [
        0x0000, 0x02AA, 0x1132, 0x2E96, 0x3CD3, 0x4473, 0x5A63, 0x6D32, 0x7F3F, 0x8D07, 0x916B,
        0xA6A4, 0xBEAB, 0xC3F3, 0xDA42, 0xE944, 0xF057,
    ];

    /// Whether this is one of the reserved (greased) values.
    pub fn is_greased(self) -> bool {
        Self::GREASE.contains(&self.0)
    }

    /// Whether this crate issues and redeems this type.
    pub fn is_supported(self) -> bool {
        self == Self::PRIVATE_P384 || self == Self::PUBLIC_RSA
    }

    /// `Nk`, the authenticator length of a supported type.
    pub fn authenticator_len(self) -> Result<usize> {
        match self {
            Self::PRIVATE_P384 => Ok(crate::type1::NK),
            Self::PUBLIC_RSA => Ok(crate::type2::NK),
            other => Err(Error::UnsupportedTokenType(other)),
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}

/// `redemption_context`: empty (tokens usable across requests) or 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RedemptionContext {
    /// Empty: the token may be redeemed with any challenge of the same issuer and origins.
    Empty,
    /// 32 bytes, usually random per challenge or derived from a time window.
    Bound([u8; 32]),
}

impl RedemptionContext {
    /// The encoded bytes (0 or 32).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Empty => &[],
            Self::Bound(b) => b,
        }
    }
}

/// Longest `issuer_name` and `origin_info` the wire format allows.
const MAX_VEC16: usize = u16::MAX as usize;

/// A `TokenChallenge` of a supported token type.
///
/// ```text
/// struct {
///     uint16_t token_type;
///     opaque issuer_name<1..2^16-1>;
///     opaque redemption_context<0..32>;
///     opaque origin_info<0..2^16-1>;
/// } TokenChallenge;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenChallenge {
    token_type: TokenType,
    issuer_name: String,
    redemption_context: RedemptionContext,
    origin_info: String,
}

fn check_issuer_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::IssuerName("empty"));
    }
    if name.len() > MAX_VEC16 {
        return Err(Error::IssuerName("longer than 65535 bytes"));
    }
    if !name.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::IssuerName("not printable ASCII without spaces"));
    }
    if name.contains(['@', '/', ',']) {
        return Err(Error::IssuerName(
            "must be host[:port] without userinfo or path",
        ));
    }
    Ok(())
}

fn check_origin_info(info: &str) -> Result<()> {
    if info.len() > MAX_VEC16 {
        return Err(Error::OriginInfo("longer than 65535 bytes"));
    }
    if !info.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::OriginInfo("not printable ASCII without spaces"));
    }
    Ok(())
}

impl TokenChallenge {
    /// A challenge; `origin_info` lists the origins (none: the token is cross-origin).
    pub fn new(
        token_type: TokenType,
        issuer_name: &str,
        redemption_context: RedemptionContext,
        origin_info: &[&str],
    ) -> Result<Self> {
        if !token_type.is_supported() {
            return Err(Error::UnsupportedTokenType(token_type));
        }
        check_issuer_name(issuer_name)?;
        if origin_info.iter().any(|o| o.is_empty() || o.contains(',')) {
            return Err(Error::OriginInfo(
                "an origin name is empty or contains a comma",
            ));
        }
        let origin_info = origin_info.join(",");
        check_origin_info(&origin_info)?;
        Ok(Self {
            token_type,
            issuer_name: issuer_name.to_owned(),
            redemption_context,
            origin_info,
        })
    }

    /// Decode a challenge. A type this crate does not support (greased ones included) is
    /// [`Error::UnsupportedTokenType`] and nothing after `token_type` is read, as RFC 9577
    /// requires; callers ignore such challenges.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "TokenChallenge");
        let token_type = TokenType(r.u16()?);
        if !token_type.is_supported() {
            return Err(Error::UnsupportedTokenType(token_type));
        }
        let issuer = r.vec16()?;
        let context = r.vec8()?;
        let origin = r.vec16()?;
        r.finish()?;
        let issuer_name =
            std::str::from_utf8(issuer).map_err(|_| Error::IssuerName("not ASCII"))?;
        check_issuer_name(issuer_name)?;
        let redemption_context = match context.len() {
            0 => RedemptionContext::Empty,
            32 => {
                let mut b = [0u8; 32];
                b.copy_from_slice(context);
                RedemptionContext::Bound(b)
            }
            n => return Err(Error::RedemptionContextLength(n)),
        };
        let origin_info =
            std::str::from_utf8(origin).map_err(|_| Error::OriginInfo("not ASCII"))?;
        check_origin_info(origin_info)?;
        Ok(Self {
            token_type,
            issuer_name: issuer_name.to_owned(),
            redemption_context,
            origin_info: origin_info.to_owned(),
        })
    }

    /// The encoded challenge.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            2 + 2 + self.issuer_name.len() + 1 + 32 + 2 + self.origin_info.len(),
        );
        out.extend_from_slice(&self.token_type.0.to_be_bytes());
        // Lengths were checked on construction; these cannot fail.
        let _ = put_vec16(&mut out, "issuer_name", self.issuer_name.as_bytes());
        let _ = put_vec8(
            &mut out,
            "redemption_context",
            self.redemption_context.as_bytes(),
        );
        let _ = put_vec16(&mut out, "origin_info", self.origin_info.as_bytes());
        out
    }

    /// `challenge_digest = SHA-256(TokenChallenge)` (RFC 9577 §2.2, every token type).
    pub fn digest(&self) -> [u8; 32] {
        crate::sha256(&self.encode())
    }

    /// The token type.
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// The issuer, `host[:port]`.
    pub fn issuer_name(&self) -> &str {
        &self.issuer_name
    }

    /// The redemption context.
    pub fn redemption_context(&self) -> &RedemptionContext {
        &self.redemption_context
    }

    /// `origin_info` as sent (comma-separated names, or empty).
    pub fn origin_info(&self) -> &str {
        &self.origin_info
    }

    /// The origin names of `origin_info` (none when empty).
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.origin_info.split(',').filter(|o| !o.is_empty())
    }

    /// RFC 9577 §2.1.1: a client must not use a challenge whose non-empty `origin_info`
    /// does not contain the origin that sent it (compared case-insensitively).
    pub fn check_origin(&self, origin: &str) -> Result<()> {
        if self.origin_info.is_empty() || self.origins().any(|o| o.eq_ignore_ascii_case(origin)) {
            Ok(())
        } else {
            Err(Error::OriginNotListed(origin.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redemption_context_lengths_other_than_0_and_32_are_refused() {
        for n in (1..32).chain([33, 64, 255]) {
            let mut b = vec![0, 2, 0, 1, b'i', n as u8];
            b.extend(std::iter::repeat_n(7, n));
            b.extend_from_slice(&[0, 0]);
            assert_eq!(
                TokenChallenge::decode(&b),
                Err(Error::RedemptionContextLength(n)),
                "{n}"
            );
        }
    }

    #[test]
    fn unknown_types_are_not_parsed_further() {
        // A greased type followed by garbage: only the type is read.
        let b = [0x2E, 0x96, 0xff];
        assert_eq!(
            TokenChallenge::decode(&b),
            Err(Error::UnsupportedTokenType(TokenType(0x2E96)))
        );
        assert!(TokenType(0x2E96).is_greased());
    }

    #[test]
    fn origin_check_is_case_insensitive_and_empty_means_any() {
        let c = TokenChallenge::new(
            TokenType::PUBLIC_RSA,
            "issuer.example",
            RedemptionContext::Empty,
            &["a.example", "B.example"],
        )
        .unwrap();
        assert_eq!(c.origin_info(), "a.example,B.example");
        c.check_origin("b.EXAMPLE").unwrap();
        assert_eq!(
            c.check_origin("c.example"),
            Err(Error::OriginNotListed("c.example".into()))
        );
        let any = TokenChallenge::new(
            TokenType::PUBLIC_RSA,
            "issuer.example",
            RedemptionContext::Empty,
            &[],
        )
        .unwrap();
        any.check_origin("whatever.example").unwrap();
        assert_eq!(TokenChallenge::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn bad_issuer_names_are_refused() {
        for bad in ["", "user@issuer.example", "issuer.example/path", "a b"] {
            assert!(
                TokenChallenge::new(TokenType::PUBLIC_RSA, bad, RedemptionContext::Empty, &[])
                    .is_err(),
                "{bad:?}"
            );
        }
    }
}
