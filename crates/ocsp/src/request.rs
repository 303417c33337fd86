//! Requests: decoding and validating an `OCSPRequest` (responder side) and building one
//! (client side).

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::ext::{Extension, Extensions};

use crate::error::{RequestError, Result};
use crate::ext::{
    Nonce, PreferredSignatureAlgorithm, acceptable_responses_der, extension, null_extension,
    preferred_signature_algorithms_der,
};
use crate::oid;
use crate::types::{CertId, OcspRequest, Request, TbsRequest, Version};

/// What a responder accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestPolicy {
    /// Largest DER request accepted (notes §3: ~10 KiB for v1; larger for bundles / PQ).
    pub max_len: usize,
    /// Most `Request`s in one `OCSPRequest` (a chain bundle asks for several).
    pub max_requests: usize,
    /// Refuse unsigned requests with `sigRequired`.
    pub require_signature: bool,
}

impl Default for RequestPolicy {
    fn default() -> Self {
        RequestPolicy {
            max_len: 16 * 1024,
            max_requests: 16,
            require_signature: false,
        }
    }
}

/// A decoded, validated request with its extensions interpreted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedRequest {
    /// The request as decoded.
    pub request: OcspRequest,
    /// RFC 9654 nonce, if any.
    pub nonce: Option<Nonce>,
    /// The client opted in to range responses (experimental `id-ocsp-range-responses`).
    pub range_opt_in: bool,
    /// The client asked for its chain's statuses (experimental `id-ocspv2-include-chain`).
    pub include_chain: bool,
    /// AcceptableResponses (None = absent: only id-pkix-ocsp-basic).
    pub acceptable_responses: Option<Vec<ObjectIdentifier>>,
    /// PreferredSignatureAlgorithms, most preferred first (empty = absent).
    pub preferred_signature_algorithms: Vec<PreferredSignatureAlgorithm>,
}

impl ParsedRequest {
    /// The CertIDs asked about, in order.
    pub fn cert_ids(&self) -> impl Iterator<Item = &CertId> {
        self.request
            .tbs_request
            .request_list
            .iter()
            .map(|r| &r.req_cert)
    }

    /// Whether the client accepts responses of type `response_type` (absent
    /// AcceptableResponses means id-pkix-ocsp-basic only).
    pub fn accepts(&self, response_type: &ObjectIdentifier) -> bool {
        match &self.acceptable_responses {
            None => *response_type == oid::OCSP_BASIC,
            Some(list) => list.contains(response_type),
        }
    }

    /// Whether the client negotiated an OCSPv2 chain bundle.
    pub fn wants_bundle(&self) -> bool {
        self.accepts(&oid::OCSPV2_BUNDLE)
    }
}

/// Decode and validate a DER `OCSPRequest`: size, DER, at least one and at most
/// `max_requests` requests, version v1, nonce length (1..=128), no duplicate extensions, no
/// unknown critical extension, decodable known extensions, signature if required.
pub fn decode_request(der: &[u8], policy: &RequestPolicy) -> Result<ParsedRequest, RequestError> {
    if der.len() > policy.max_len {
        return Err(RequestError::TooLarge {
            len: der.len(),
            max: policy.max_len,
        });
    }
    let request = OcspRequest::from_der(der).map_err(|e| RequestError::Decode(e.to_string()))?;
    validate_request(request, policy)
}

/// Validate an already decoded request (see [`decode_request`]).
pub fn validate_request(
    request: OcspRequest,
    policy: &RequestPolicy,
) -> Result<ParsedRequest, RequestError> {
    let tbs = &request.tbs_request;
    let count = tbs.request_list.len();
    if count == 0 {
        return Err(RequestError::EmptyRequestList);
    }
    if count > policy.max_requests {
        return Err(RequestError::TooManyRequests {
            count,
            max: policy.max_requests,
        });
    }
    if policy.require_signature && request.optional_signature.is_none() {
        return Err(RequestError::SignatureRequired);
    }
    let mut nonce = None;
    let mut range_opt_in = false;
    let mut include_chain = false;
    let mut acceptable_responses = None;
    let mut preferred_signature_algorithms = Vec::new();
    let exts = tbs.request_extensions.as_deref().unwrap_or(&[]);
    check_duplicates(exts)?;
    for e in exts {
        let v = e.extn_value.as_bytes();
        let bad = |reason: String| RequestError::BadExtension {
            oid: e.extn_id,
            reason,
        };
        match e.extn_id {
            o if o == oid::OCSP_NONCE => nonce = Some(Nonce::from_extn_value(v)?),
            o if o == oid::OCSP_RANGE_RESPONSES => range_opt_in = true,
            o if o == oid::OCSPV2_INCLUDE_CHAIN => include_chain = true,
            o if o == oid::OCSP_RESPONSE => {
                acceptable_responses =
                    Some(Vec::<ObjectIdentifier>::from_der(v).map_err(|e| bad(e.to_string()))?);
            }
            o if o == oid::OCSP_PREF_SIG_ALGS => {
                preferred_signature_algorithms = Vec::<PreferredSignatureAlgorithm>::from_der(v)
                    .map_err(|e| bad(e.to_string()))?;
            }
            o if e.critical => return Err(RequestError::UnsupportedCriticalExtension(o)),
            _ => {}
        }
    }
    for r in &tbs.request_list {
        let exts = r.single_request_extensions.as_deref().unwrap_or(&[]);
        check_duplicates(exts)?;
        // RFC 6960 defines only the service locator here; nothing we must act on.
        if let Some(e) = exts
            .iter()
            .find(|e| e.critical && e.extn_id != oid::OCSP_SERVICE_LOCATOR)
        {
            return Err(RequestError::UnsupportedCriticalExtension(e.extn_id));
        }
    }
    Ok(ParsedRequest {
        request,
        nonce,
        range_opt_in,
        include_chain,
        acceptable_responses,
        preferred_signature_algorithms,
    })
}

fn check_duplicates(exts: &[Extension]) -> Result<(), RequestError> {
    for (i, e) in exts.iter().enumerate() {
        if exts[..i].iter().any(|p| p.extn_id == e.extn_id) {
            return Err(RequestError::DuplicateExtension(e.extn_id));
        }
    }
    Ok(())
}

/// Builds an `OCSPRequest` (our client).
#[derive(Clone, Debug, Default)]
pub struct RequestBuilder {
    requests: Vec<Request>,
    extensions: Extensions,
}

impl RequestBuilder {
    /// An empty request.
    pub fn new() -> RequestBuilder {
        RequestBuilder::default()
    }

    /// Ask about `cert_id`.
    pub fn cert_id(mut self, cert_id: CertId) -> RequestBuilder {
        self.requests.push(Request {
            req_cert: cert_id,
            single_request_extensions: None,
        });
        self
    }

    /// Add an RFC 9654 nonce (DER OCTET STRING form).
    pub fn nonce(mut self, nonce: &Nonce) -> Result<RequestBuilder> {
        self.extensions.push(nonce.to_extension()?);
        Ok(self)
    }

    /// Opt in to range responses (experimental).
    pub fn range_opt_in(mut self) -> Result<RequestBuilder> {
        self.extensions
            .push(null_extension(oid::OCSP_RANGE_RESPONSES)?);
        Ok(self)
    }

    /// Ask for the whole chain's statuses as an OCSPv2 bundle (experimental): adds
    /// include-chain and AcceptableResponses {bundle, basic}.
    pub fn include_chain(mut self) -> Result<RequestBuilder> {
        self.extensions
            .push(null_extension(oid::OCSPV2_INCLUDE_CHAIN)?);
        self.acceptable_responses(&[oid::OCSPV2_BUNDLE, oid::OCSP_BASIC])
    }

    /// AcceptableResponses.
    pub fn acceptable_responses(mut self, types: &[ObjectIdentifier]) -> Result<RequestBuilder> {
        self.extensions.retain(|e| e.extn_id != oid::OCSP_RESPONSE);
        self.extensions.push(extension(
            oid::OCSP_RESPONSE,
            false,
            &acceptable_responses_der(types)?,
        )?);
        Ok(self)
    }

    /// PreferredSignatureAlgorithms, most preferred first.
    pub fn preferred_signature_algorithms(
        mut self,
        prefs: &[PreferredSignatureAlgorithm],
    ) -> Result<RequestBuilder> {
        self.extensions.push(extension(
            oid::OCSP_PREF_SIG_ALGS,
            false,
            &preferred_signature_algorithms_der(prefs)?,
        )?);
        Ok(self)
    }

    /// Any other request extension.
    pub fn extension(mut self, e: Extension) -> RequestBuilder {
        self.extensions.push(e);
        self
    }

    /// The request.
    pub fn build(self) -> OcspRequest {
        OcspRequest {
            tbs_request: TbsRequest {
                version: Version::V1,
                requestor_name: None,
                request_list: self.requests,
                request_extensions: (!self.extensions.is_empty()).then_some(self.extensions),
            },
            optional_signature: None,
        }
    }

    /// The request's DER.
    pub fn to_der(self) -> Result<Vec<u8>> {
        Ok(self.build().to_der()?)
    }
}
