//! Building and signing responses: [`ResponseSigner`] over any `secdispatch-pqpki` key
//! (classical, ML-DSA, composite), [`ResponseBuilder`], and the DER framing helpers the hot path
//! uses to serve pre-signed bytes without re-encoding.

use std::sync::Arc;
use std::time::SystemTime;

use der::asn1::{BitString, OctetString};
use der::{Encode, Header, Length, Tag};
use rand_core::TryCryptoRng;
use secdispatch_pqpki::SigningKey;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::name::Name;

use crate::certid::{HashAlgorithm, subject_public_key_bytes};
use crate::error::{Error, Result};
use crate::ext::{Nonce, extension, null_extension};
use crate::oid;
use crate::range::OcspRange;
use crate::types::{
    CertId, CertStatus, OcspResponse, OcspResponseStatus, ResponderId, ResponseBytes, ResponseData,
    SingleResponse, Version, generalized_time,
};

/// A response signing key with its responderID and the certificates to attach: the issuing CA
/// itself, or a CA-designated (delegated) responder whose certificate goes into `certs`.
#[derive(Debug, Clone)]
pub struct ResponseSigner {
    key: Arc<SigningKey>,
    signature_algorithm: AlgorithmIdentifierOwned,
    key_algorithm: AlgorithmIdentifierOwned,
    key_hash: [u8; 20],
    responder_id: ResponderId,
    certs: Option<Vec<Certificate>>,
}

impl ResponseSigner {
    /// Sign with `key`, identified byKey (RFC 9919 default), no certificates attached. Use this
    /// when `key` is the issuing CA's key.
    pub fn new(key: impl Into<Arc<SigningKey>>) -> Result<ResponseSigner> {
        let key = key.into();
        let spki = key.public_key().to_spki()?;
        let spk = spki.subject_public_key.as_bytes().ok_or(Error::KeyBits)?;
        let key_hash = sha1_20(spk);
        Ok(ResponseSigner {
            signature_algorithm: key.signature_algorithm()?,
            key_algorithm: spki.algorithm,
            key_hash,
            responder_id: ResponderId::ByKey(OctetString::new(key_hash)?),
            certs: None,
            key,
        })
    }

    /// A delegated responder: `key` with its certificate `responder_cert` (issued by the CA
    /// with EKU id-kp-OCSPSigning), attached in `certs`; byKey. The certificate's key must be
    /// `key`'s public key.
    pub fn delegated(
        key: impl Into<Arc<SigningKey>>,
        responder_cert: Certificate,
    ) -> Result<ResponseSigner> {
        let s = ResponseSigner::new(key)?;
        if sha1_20(subject_public_key_bytes(&responder_cert)?) != s.key_hash {
            return Err(Error::Invalid(
                "responder certificate is not for the signing key",
            ));
        }
        Ok(s.with_certs(vec![responder_cert]))
    }

    /// Identify the responder byName (the subject of its certificate) instead of byKey.
    pub fn by_name(mut self, name: Name) -> ResponseSigner {
        self.responder_id = ResponderId::ByName(name);
        self
    }

    /// Attach these certificates to every response (or none with an empty vector).
    pub fn with_certs(mut self, certs: Vec<Certificate>) -> ResponseSigner {
        self.certs = (!certs.is_empty()).then_some(certs);
        self
    }

    /// The signatureAlgorithm of responses.
    pub fn signature_algorithm(&self) -> &AlgorithmIdentifierOwned {
        &self.signature_algorithm
    }

    /// The AlgorithmIdentifier of the signing key's SPKI (PreferredSignatureAlgorithm matching).
    pub fn key_algorithm(&self) -> &AlgorithmIdentifierOwned {
        &self.key_algorithm
    }

    /// The responderID put in responses.
    pub fn responder_id(&self) -> &ResponderId {
        &self.responder_id
    }

    /// SHA-1 of the signing key (the byKey value).
    pub fn key_hash(&self) -> &[u8; 20] {
        &self.key_hash
    }

    /// The signing key.
    pub fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The attached certificates.
    pub fn certs(&self) -> Option<&[Certificate]> {
        self.certs.as_deref()
    }

    /// Sign the DER of a tbsResponseData (ML-DSA hedged with `rng`; composites with ctx "").
    pub fn sign<R: TryCryptoRng + ?Sized>(&self, tbs_der: &[u8], rng: &mut R) -> Result<Vec<u8>> {
        Ok(self.key.sign(tbs_der, rng)?.into_bytes())
    }
}

fn sha1_20(data: &[u8]) -> [u8; 20] {
    let h = HashAlgorithm::Sha1.digest(data);
    let mut out = [0u8; 20];
    out.copy_from_slice(&h);
    out
}

impl SingleResponse {
    /// A SingleResponse for `cert_id` with `status`, valid from `this_update` to `next_update`.
    pub fn new(
        cert_id: CertId,
        status: CertStatus,
        this_update: SystemTime,
        next_update: Option<SystemTime>,
    ) -> Result<SingleResponse> {
        Ok(SingleResponse {
            cert_id,
            cert_status: status,
            this_update: generalized_time(this_update)?,
            next_update: next_update.map(generalized_time).transpose()?,
            single_extensions: None,
        })
    }

    /// Add the experimental OCSPRange singleExtension (non-critical).
    pub fn with_range(mut self, range: &OcspRange) -> Result<SingleResponse> {
        self.single_extensions
            .get_or_insert_with(Vec::new)
            .push(range.to_extension()?);
        Ok(self)
    }

    /// The OCSPRange singleExtension, if present and well-formed.
    pub fn range(&self) -> Option<OcspRange> {
        self.single_extensions
            .as_deref()?
            .iter()
            .find(|e| e.extn_id == oid::OCSP_RANGE)
            .and_then(|e| OcspRange::from_extn_value(e.extn_value.as_bytes()).ok())
    }
}

/// Builds and signs a BasicOCSPResponse.
#[derive(Debug, Clone)]
pub struct ResponseBuilder {
    produced_at: SystemTime,
    responses: Vec<SingleResponse>,
    extensions: Vec<Extension>,
}

impl ResponseBuilder {
    /// A response produced (signed) at `produced_at`.
    pub fn new(produced_at: SystemTime) -> ResponseBuilder {
        ResponseBuilder {
            produced_at,
            responses: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// Add a SingleResponse.
    pub fn response(mut self, r: SingleResponse) -> ResponseBuilder {
        self.responses.push(r);
        self
    }

    /// Echo the request's nonce.
    pub fn nonce(mut self, nonce: &Nonce) -> Result<ResponseBuilder> {
        self.extensions.push(nonce.to_extension()?);
        Ok(self)
    }

    /// Add the extended-revoke extension (required when answering `revoked` for a non-issued
    /// serial, RFC 6960 §4.4.8).
    pub fn extended_revoke(mut self) -> Result<ResponseBuilder> {
        self.extensions
            .push(null_extension(oid::OCSP_EXTENDED_REVOKE)?);
        Ok(self)
    }

    /// Any response extension.
    pub fn extension(mut self, e: Extension) -> ResponseBuilder {
        self.extensions.push(e);
        self
    }

    /// The tbsResponseData this builder describes, with `signer`'s responderID.
    pub fn response_data(&self, signer: &ResponseSigner) -> Result<ResponseData> {
        if self.responses.is_empty() {
            return Err(Error::Invalid(
                "a response needs at least one SingleResponse",
            ));
        }
        Ok(ResponseData {
            version: Version::V1,
            responder_id: signer.responder_id.clone(),
            produced_at: generalized_time(self.produced_at)?,
            responses: self.responses.clone(),
            response_extensions: (!self.extensions.is_empty()).then(|| self.extensions.clone()),
        })
    }

    /// Sign: the DER of the BasicOCSPResponse.
    pub fn sign_basic<R: TryCryptoRng + ?Sized>(
        &self,
        signer: &ResponseSigner,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        let tbs = self.response_data(signer)?.to_der()?;
        sign_response_data(&tbs, signer, rng)
    }

    /// Sign: the DER of the complete OCSPResponse (status successful, type basic).
    pub fn sign<R: TryCryptoRng + ?Sized>(
        &self,
        signer: &ResponseSigner,
        rng: &mut R,
    ) -> Result<Vec<u8>> {
        wrap_basic(&self.sign_basic(signer, rng)?)
    }
}

/// Sign the DER of a tbsResponseData and frame the BasicOCSPResponse around it (the tbs bytes
/// are copied, not re-encoded).
pub fn sign_response_data<R: TryCryptoRng + ?Sized>(
    tbs_der: &[u8],
    signer: &ResponseSigner,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let sig = signer.sign(tbs_der, rng)?;
    let alg = signer.signature_algorithm.to_der()?;
    let bits = BitString::from_bytes(&sig)?.to_der()?;
    let certs = match &signer.certs {
        None => Vec::new(),
        Some(c) => {
            let inner = c.to_der()?;
            tlv(
                Tag::ContextSpecific {
                    constructed: true,
                    number: der::TagNumber(0),
                },
                &[&inner],
            )?
        }
    };
    tlv(Tag::Sequence, &[tbs_der, &alg, &bits, &certs])
}

/// DER TLV with `tag` around the concatenation of `parts`.
pub(crate) fn tlv(tag: Tag, parts: &[&[u8]]) -> Result<Vec<u8>> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let header = Header::new(tag, Length::try_from(len)?);
    let mut out = Vec::with_capacity(len + 6);
    header.encode_to_vec(&mut out)?;
    for p in parts {
        out.extend_from_slice(p);
    }
    Ok(out)
}

/// Wrap the DER of a response of `response_type` into a successful OCSPResponse (copying the
/// bytes once; this is what serving a pre-signed BasicOCSPResponse costs).
pub fn wrap_response(
    response_type: &der::asn1::ObjectIdentifier,
    response_der: &[u8],
) -> Result<Vec<u8>> {
    let status = [0x0a, 0x01, 0x00];
    let oid_der = response_type.to_der()?;
    let octets = tlv(Tag::OctetString, &[response_der])?;
    let rb = tlv(Tag::Sequence, &[&oid_der, &octets])?;
    let explicit = tlv(
        Tag::ContextSpecific {
            constructed: true,
            number: der::TagNumber(0),
        },
        &[&rb],
    )?;
    tlv(Tag::Sequence, &[&status, &explicit])
}

/// Wrap a BasicOCSPResponse's DER into a successful OCSPResponse (type id-pkix-ocsp-basic).
pub fn wrap_basic(basic_der: &[u8]) -> Result<Vec<u8>> {
    wrap_response(&oid::OCSP_BASIC, basic_der)
}

/// An OCSPResponse (typed) for a BasicOCSPResponse's DER.
pub fn ocsp_response_for(basic_der: &[u8]) -> Result<OcspResponse> {
    Ok(OcspResponse {
        response_status: OcspResponseStatus::Successful,
        response_bytes: Some(ResponseBytes {
            response_type: oid::OCSP_BASIC,
            response: OctetString::new(basic_der)?,
        }),
    })
}

/// A non-critical extension helper re-exported for callers composing responses.
pub fn response_extension(oid: der::asn1::ObjectIdentifier, value_der: &[u8]) -> Result<Extension> {
    extension(oid, false, value_der)
}
