//! Batched issuance, draft-ietf-privacypass-batched-tokens-07.
//!
//! * Amortized batches (§5, types with a VOPRF, here 0x0001): many blinded elements under
//!   one key and one batched DLEQ proof.
//! * Generic batches (§6): any mix of token requests; each may be answered or refused.
//!
//! `<V>` vectors carry a QUIC variable-length integer byte length (§2), minimally encoded.

use crate::error::{Error, Result};
use crate::wire::challenge::TokenType;
use crate::wire::codec::{Reader, put_vec_v};
use crate::wire::token_request::{TokenRequest, TokenResponse, token_response_len};

/// Media type of an amortized batch request.
pub const MEDIA_TYPE_AMORTIZED_REQUEST: &str = "application/private-token-amortized-batch-request";
/// Media type of an amortized batch response.
pub const MEDIA_TYPE_AMORTIZED_RESPONSE: &str =
    "application/private-token-amortized-batch-response";
/// Media type of a generic batch request.
pub const MEDIA_TYPE_GENERIC_REQUEST: &str = "application/private-token-generic-batch-request";
/// Media type of a generic batch response.
pub const MEDIA_TYPE_GENERIC_RESPONSE: &str = "application/private-token-generic-batch-response";

/// ```text
/// struct {
///     uint16_t token_type;
///     uint8_t truncated_token_key_id;
///     BlindedElement blinded_elements<V>;
/// } AmortizedBatchTokenRequest;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmortizedBatchTokenRequest {
    /// Token type (0x0001).
    pub token_type: TokenType,
    /// Last byte of the key id.
    pub truncated_token_key_id: u8,
    /// The blinded elements, `Ne` bytes each.
    pub blinded_elements: Vec<Vec<u8>>,
}

fn amortized_element_len(token_type: TokenType) -> Result<usize> {
    match token_type {
        TokenType::PRIVATE_P384 => Ok(crate::type1::NE),
        other => Err(Error::UnsupportedTokenType(other)),
    }
}

impl AmortizedBatchTokenRequest {
    /// Decode; a type without amortized issuance is [`Error::UnsupportedTokenType`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "AmortizedBatchTokenRequest");
        let token_type = TokenType(r.u16()?);
        let ne = amortized_element_len(token_type)?;
        let truncated_token_key_id = r.u8()?;
        let list = r.vec_v()?;
        r.finish()?;
        if list.len() % ne != 0 {
            return Err(Error::Batch(
                "blinded_elements is not a whole number of elements",
            ));
        }
        Ok(Self {
            token_type,
            truncated_token_key_id,
            blinded_elements: list.chunks(ne).map(<[u8]>::to_vec).collect(),
        })
    }

    /// Encode.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let ne = amortized_element_len(self.token_type)?;
        let mut body = Vec::with_capacity(ne * self.blinded_elements.len());
        for e in &self.blinded_elements {
            if e.len() != ne {
                return Err(Error::Length {
                    what: "BlindedElement",
                    got: e.len(),
                    expected: ne,
                });
            }
            body.extend_from_slice(e);
        }
        let mut out = Vec::with_capacity(body.len() + 12);
        out.extend_from_slice(&self.token_type.0.to_be_bytes());
        out.push(self.truncated_token_key_id);
        put_vec_v(&mut out, &body)?;
        Ok(out)
    }
}

/// ```text
/// struct {
///     EvaluatedElement evaluated_elements<V>;
///     uint8_t evaluated_proof[Ns + Ns];
/// } AmortizedBatchTokenResponse;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmortizedBatchTokenResponse {
    /// The evaluated elements, in request order.
    pub evaluated_elements: Vec<Vec<u8>>,
    /// One DLEQ proof `c ‖ s` for the whole batch.
    pub evaluated_proof: Vec<u8>,
}

impl AmortizedBatchTokenResponse {
    /// Decode a response to an amortized request of `token_type`.
    pub fn decode(token_type: TokenType, bytes: &[u8]) -> Result<Self> {
        let ne = amortized_element_len(token_type)?;
        let mut r = Reader::new(bytes, "AmortizedBatchTokenResponse");
        let list = r.vec_v()?;
        let proof = r.take(2 * crate::type1::NS)?.to_vec();
        r.finish()?;
        if list.len() % ne != 0 {
            return Err(Error::Batch(
                "evaluated_elements is not a whole number of elements",
            ));
        }
        Ok(Self {
            evaluated_elements: list.chunks(ne).map(<[u8]>::to_vec).collect(),
            evaluated_proof: proof,
        })
    }

    /// Encode.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let body: Vec<u8> = self.evaluated_elements.concat();
        let mut out = Vec::with_capacity(body.len() + 8 + self.evaluated_proof.len());
        put_vec_v(&mut out, &body)?;
        out.extend_from_slice(&self.evaluated_proof);
        Ok(out)
    }
}

/// ```text
/// struct {
///     GenericTokenRequest generic_token_requests<V>;   // each a TokenRequest
/// } GenericBatchTokenRequest;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericBatchTokenRequest {
    /// The requests, in order.
    pub token_requests: Vec<TokenRequest>,
}

impl GenericBatchTokenRequest {
    /// Decode. Every inner request must be of a supported type (its size depends on it).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "GenericBatchTokenRequest");
        let list = r.vec_v()?;
        r.finish()?;
        let mut inner = Reader::new(list, "GenericTokenRequest");
        let mut token_requests = Vec::new();
        while !inner.is_empty() {
            token_requests.push(TokenRequest::read(&mut inner)?);
        }
        Ok(Self { token_requests })
    }

    /// Encode.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        for t in &self.token_requests {
            t.write(&mut body);
        }
        let mut out = Vec::with_capacity(body.len() + 8);
        put_vec_v(&mut out, &body)?;
        Ok(out)
    }
}

/// ```text
/// struct {
///     uint16_t token_type;
///     TokenResponse token_response;
/// } GenericTokenResponse;
/// struct {
///     optional<GenericTokenResponse> token_responses<V>;
/// } GenericBatchTokenResponse;
/// ```
/// `None` is a request the issuer refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericBatchTokenResponse {
    /// One entry per request, in order.
    pub token_responses: Vec<Option<TokenResponse>>,
}

impl GenericBatchTokenResponse {
    /// Decode.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes, "GenericBatchTokenResponse");
        let list = r.vec_v()?;
        r.finish()?;
        let mut inner = Reader::new(list, "GenericTokenResponse");
        let mut token_responses = Vec::new();
        while !inner.is_empty() {
            match inner.u8()? {
                0 => token_responses.push(None),
                1 => {
                    let token_type = TokenType(inner.u16()?);
                    let n = token_response_len(token_type)?;
                    let bytes = inner.take(n)?;
                    token_responses.push(Some(TokenResponse::decode(token_type, bytes)?));
                }
                _ => return Err(Error::Batch("optional<T> presence byte is neither 0 nor 1")),
            }
        }
        Ok(Self { token_responses })
    }

    /// Encode.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        for t in &self.token_responses {
            match t {
                None => body.push(0),
                Some(t) => {
                    body.push(1);
                    body.extend_from_slice(&t.token_type.0.to_be_bytes());
                    body.extend_from_slice(&t.bytes);
                }
            }
        }
        let mut out = Vec::with_capacity(body.len() + 8);
        put_vec_v(&mut out, &body)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_presence_byte_must_be_0_or_1() {
        assert!(matches!(
            GenericBatchTokenResponse::decode(&[1, 2]),
            Err(Error::Batch(_))
        ));
        let r = GenericBatchTokenResponse::decode(&[2, 0, 0]).unwrap();
        assert_eq!(r.token_responses, vec![None, None]);
        assert_eq!(r.encode().unwrap(), vec![2, 0, 0]);
    }

    #[test]
    fn amortized_requires_whole_elements_and_a_voprf_type() {
        let mut b = vec![0, 1, 7, 50];
        b.extend([2u8; 50]);
        assert!(matches!(
            AmortizedBatchTokenRequest::decode(&b),
            Err(Error::Batch(_))
        ));
        assert!(matches!(
            AmortizedBatchTokenRequest::decode(&[0, 2, 7, 0]),
            Err(Error::UnsupportedTokenType(_))
        ));
    }
}
