//! `TokenRequest` and `TokenResponse` of RFC 9578 §5.1/§5.2 (type 0x0001) and §6.1/§6.2
//! (type 0x0002): the same shape for both types, only the sizes differ.

use crate::error::{Error, Result};
use crate::wire::challenge::TokenType;
use crate::wire::codec::Reader;

/// Media type of a token request body (RFC 9578 §8.3).
pub const MEDIA_TYPE_TOKEN_REQUEST: &str = "application/private-token-request";
/// Media type of a token response body (RFC 9578 §8.3).
pub const MEDIA_TYPE_TOKEN_RESPONSE: &str = "application/private-token-response";

/// `blinded_msg` length for a token type: `Ne` = 49 (type 1), `Nk` = 256 (type 2).
pub fn blinded_msg_len(token_type: TokenType) -> Result<usize> {
    match token_type {
        TokenType::PRIVATE_P384 => Ok(crate::type1::NE),
        TokenType::PUBLIC_RSA => Ok(crate::type2::NK),
        other => Err(Error::UnsupportedTokenType(other)),
    }
}

/// `TokenResponse` length for a token type: `Ne + 2*Ns` = 145 (type 1), `Nk` = 256 (type 2).
pub fn token_response_len(token_type: TokenType) -> Result<usize> {
    match token_type {
        TokenType::PRIVATE_P384 => Ok(crate::type1::NE + 2 * crate::type1::NS),
        TokenType::PUBLIC_RSA => Ok(crate::type2::NK),
        other => Err(Error::UnsupportedTokenType(other)),
    }
}

/// ```text
/// struct {
///    uint16_t token_type = 0x0001 | 0x0002;
///    uint8_t truncated_token_key_id;
///    uint8_t blinded_msg[Ne | Nk];
/// } TokenRequest;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// Token type.
    pub token_type: TokenType,
    /// Last byte of the issuer key's `token_key_id`.
    pub truncated_token_key_id: u8,
    /// The blinded element (type 1) or blinded message (type 2).
    pub blinded_msg: Vec<u8>,
}

impl TokenRequest {
    /// Decode one request; a type this crate does not issue is
    /// [`Error::UnsupportedTokenType`] and a wrong `blinded_msg` size is [`Error::Length`]
    /// (both 422 at the issuer, RFC 9578 §5.2 and §6.2).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "TokenRequest");
        let token_type = TokenType(r.u16()?);
        let n = blinded_msg_len(token_type)?;
        let truncated_token_key_id = r.u8()?;
        let rest = r.remaining();
        if rest != n {
            return Err(Error::Length {
                what: "blinded_msg",
                got: rest,
                expected: n,
            });
        }
        let blinded_msg = r.take(n)?.to_vec();
        r.finish()?;
        Ok(Self {
            token_type,
            truncated_token_key_id,
            blinded_msg,
        })
    }

    /// Decode one request from the front of `r` (inside a batch).
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self> {
        let token_type = TokenType(r.u16()?);
        let n = blinded_msg_len(token_type)?;
        let truncated_token_key_id = r.u8()?;
        let blinded_msg = r.take(n)?.to_vec();
        Ok(Self {
            token_type,
            truncated_token_key_id,
            blinded_msg,
        })
    }

    /// The encoded request.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.blinded_msg.len());
        self.write(&mut out);
        out
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.token_type.0.to_be_bytes());
        out.push(self.truncated_token_key_id);
        out.extend_from_slice(&self.blinded_msg);
    }
}

/// A `TokenResponse`: `evaluate_msg ‖ evaluate_proof` (type 1) or `blind_sig` (type 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The token type it answers (not on the wire; known from the request).
    pub token_type: TokenType,
    /// The encoded response.
    pub bytes: Vec<u8>,
}

impl TokenResponse {
    /// Decode a response to a request of `token_type`.
    pub fn decode(token_type: TokenType, bytes: &[u8]) -> Result<Self> {
        let n = token_response_len(token_type)?;
        if bytes.len() != n {
            return Err(Error::Length {
                what: "TokenResponse",
                got: bytes.len(),
                expected: n,
            });
        }
        Ok(Self {
            token_type,
            bytes: bytes.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_type() {
        let mut b = vec![0, 1, 0x42];
        b.extend([2u8; 49]);
        let r = TokenRequest::decode(&b).unwrap();
        assert_eq!(r.encode(), b);
        b.push(0);
        assert!(matches!(
            TokenRequest::decode(&b),
            Err(Error::Length {
                got: 50,
                expected: 49,
                ..
            })
        ));
        assert!(matches!(
            TokenRequest::decode(&[0, 3, 1]),
            Err(Error::UnsupportedTokenType(TokenType(3)))
        ));
        assert!(TokenResponse::decode(TokenType::PUBLIC_RSA, &[0; 255]).is_err());
        assert!(TokenResponse::decode(TokenType::PRIVATE_P384, &[0; 145]).is_ok());
    }
}
