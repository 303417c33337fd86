//! **Experimental** OCSPv2 chain bundle (notes §6 layer B): `OCSPv2Bundle ::= SEQUENCE SIZE
//! (1..MAX) OF BasicOCSPResponse`, leaf first, each element independently signed by the
//! authority of the certificate it is about, carried as `ResponseBytes.responseType =`
//! [`oid::OCSPV2_BUNDLE`] and negotiated with AcceptableResponses.

use der::{Any, Decode, Encode, Tag, Tagged};

use crate::error::{Error, Result};
use crate::oid;
use crate::response::{tlv, wrap_response};
use crate::types::BasicOcspResponse;

/// The DER of an OCSPv2Bundle from pre-signed BasicOCSPResponse DER blobs (copied, not
/// re-encoded).
pub fn bundle_der(elements: &[&[u8]]) -> Result<Vec<u8>> {
    if elements.is_empty() {
        return Err(Error::Invalid("a bundle holds at least one response"));
    }
    tlv(Tag::Sequence, elements)
}

/// A successful OCSPResponse of type OCSPv2Bundle from pre-signed BasicOCSPResponse blobs.
pub fn bundle_response(elements: &[&[u8]]) -> Result<Vec<u8>> {
    wrap_response(&oid::OCSPV2_BUNDLE, &bundle_der(elements)?)
}

/// The elements of an OCSPv2Bundle's DER, each as its exact DER (for signature checks).
pub fn bundle_elements(der: &[u8]) -> Result<Vec<Vec<u8>>> {
    let items = Vec::<Any>::from_der(der)?;
    if items.is_empty() {
        return Err(Error::Invalid("empty OCSPv2Bundle"));
    }
    items
        .iter()
        .map(|a| {
            if a.tag() != Tag::Sequence {
                return Err(Error::Invalid("bundle element is not a SEQUENCE"));
            }
            Ok(a.to_der()?)
        })
        .collect()
}

/// Decode an OCSPv2Bundle into typed responses.
pub fn decode_bundle(der: &[u8]) -> Result<Vec<BasicOcspResponse>> {
    bundle_elements(der)?
        .iter()
        .map(|e| Ok(BasicOcspResponse::from_der(e)?))
        .collect()
}
