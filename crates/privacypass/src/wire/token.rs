//! `Token` (RFC 9577 §2.2) and the `AuthenticatorInput` it is verified over.

use crate::error::{Error, Result};
use crate::wire::challenge::TokenType;
use crate::wire::codec::Reader;

/// Length of `AuthenticatorInput` for the 32-byte key ids of types 1 and 2.
pub const AUTHENTICATOR_INPUT_LEN: usize = 2 + 32 + 32 + 32;

/// A redeemable token.
///
/// ```text
/// struct {
///     uint16_t token_type;
///     uint8_t nonce[32];
///     uint8_t challenge_digest[32];
///     uint8_t token_key_id[Nid];
///     uint8_t authenticator[Nk];
/// } Token;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    /// Token type.
    pub token_type: TokenType,
    /// Client-chosen random nonce: the double-spend key together with `token_key_id`.
    pub nonce: [u8; 32],
    /// SHA-256 of the `TokenChallenge` the token answers.
    pub challenge_digest: [u8; 32],
    /// SHA-256 of the issuer's token key.
    pub token_key_id: [u8; 32],
    /// VOPRF output (48 bytes, type 1) or RSA-PSS signature (256 bytes, type 2).
    pub authenticator: Vec<u8>,
}

impl Token {
    /// Decode a token of a supported type; the authenticator must have the type's `Nk`.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "Token");
        let token_type = TokenType(r.u16()?);
        let nk = token_type.authenticator_len()?;
        let nonce = r.array()?;
        let challenge_digest = r.array()?;
        let token_key_id = r.array()?;
        let authenticator = r.take(nk)?.to_vec();
        r.finish()?;
        Ok(Self {
            token_type,
            nonce,
            challenge_digest,
            token_key_id,
            authenticator,
        })
    }

    /// The encoded token.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(AUTHENTICATOR_INPUT_LEN + self.authenticator.len());
        out.extend_from_slice(&self.authenticator_input());
        out.extend_from_slice(&self.authenticator);
        out
    }

    /// `token_type ‖ nonce ‖ challenge_digest ‖ token_key_id`: what the authenticator
    /// covers.
    pub fn authenticator_input(&self) -> [u8; AUTHENTICATOR_INPUT_LEN] {
        authenticator_input(
            self.token_type,
            &self.nonce,
            &self.challenge_digest,
            &self.token_key_id,
        )
    }

    /// Check the authenticator length against the token type.
    pub fn check_lengths(&self) -> Result<()> {
        let nk = self.token_type.authenticator_len()?;
        if self.authenticator.len() != nk {
            return Err(Error::Length {
                what: "authenticator",
                got: self.authenticator.len(),
                expected: nk,
            });
        }
        Ok(())
    }
}

/// Build an `AuthenticatorInput`.
pub fn authenticator_input(
    token_type: TokenType,
    nonce: &[u8; 32],
    challenge_digest: &[u8; 32],
    token_key_id: &[u8; 32],
) -> [u8; AUTHENTICATOR_INPUT_LEN] {
    let mut out = [0u8; AUTHENTICATOR_INPUT_LEN];
    out[..2].copy_from_slice(&token_type.0.to_be_bytes());
    out[2..34].copy_from_slice(nonce);
    out[34..66].copy_from_slice(challenge_digest);
    out[66..].copy_from_slice(token_key_id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_sizes_are_refused() {
        let mut t = vec![0, 2];
        t.extend([0u8; 96]);
        t.extend([1u8; 255]);
        assert!(matches!(Token::decode(&t), Err(Error::Truncated { .. })));
        t.push(1);
        let tok = Token::decode(&t).unwrap();
        assert_eq!(tok.encode(), t);
        t.push(1);
        assert!(matches!(
            Token::decode(&t),
            Err(Error::TrailingBytes { .. })
        ));
        assert_eq!(
            Token::decode(&[0x5A, 0x63, 1, 2]),
            Err(Error::UnsupportedTokenType(TokenType(0x5A63)))
        );
    }
}
