//! Related certificates (RFC 9763) — used by the **experimental** policy layer to bind a PQ and a
//! traditional certificate of the same entity.
//!
//! ```text
//! id-pe-relatedCert  1.3.6.1.5.5.7.1.36
//! RelatedCertificate ::= SEQUENCE { hashAlgorithm DigestAlgorithmIdentifier,
//!                                   hashValue     OCTET STRING }   -- hash of the related cert's DER
//! id-aa-relatedCertRequest 1.2.840.113549.1.9.16.2.60
//! RequesterCertificate ::= SEQUENCE { certID IssuerAndSerialNumber, requestTime BinaryTime,
//!                                     locationInfo UniformResourceIdentifier,
//!                                     signature BIT STRING }  -- over DER(certID) || DER(requestTime)
//! ```

use std::time::{Duration, SystemTime};

use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, Ia5String, OctetString};
use der::{Decode, Encode, Sequence};
use rand_core::CryptoRng;
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use crate::alg::HashAlg;
use crate::error::{Error, Result};
use crate::keys::{SigningKey, VerifyingKey};
use crate::oid;

/// id-aa-relatedCertRequest.
pub const RELATED_CERT_REQUEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.60");

/// The relatedCertificate extension value.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RelatedCertificate {
    /// Digest algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// Digest of the related certificate's DER.
    pub hash_value: OctetString,
}

/// IssuerAndSerialNumber (RFC 5652).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct IssuerAndSerialNumber {
    /// Issuer name.
    pub issuer: Name,
    /// Serial number.
    pub serial_number: SerialNumber,
}

/// The relatedCertRequest attribute value.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct RequesterCertificate {
    /// Which certificate is related.
    pub cert_id: IssuerAndSerialNumber,
    /// BinaryTime: seconds since the epoch.
    pub request_time: u64,
    /// Where the related certificate can be fetched.
    pub location_info: Ia5String,
    /// Signature with the related certificate's key over DER(certID) || DER(requestTime).
    pub signature: BitString,
}

fn hash(alg: HashAlg, data: &[u8]) -> Vec<u8> {
    let a = match alg {
        HashAlg::Sha256 => &digest::SHA256,
        HashAlg::Sha384 => &digest::SHA384,
        HashAlg::Sha512 => &digest::SHA512,
    };
    digest::digest(a, data).as_ref().to_vec()
}

/// The (non-critical) relatedCertificate extension naming `related` by its SHA-256 hash.
pub fn extension(related: &Certificate) -> Result<Extension> {
    let v = RelatedCertificate {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: oid::SHA256,
            parameters: None,
        },
        hash_value: OctetString::new(hash(HashAlg::Sha256, &related.to_der()?))?,
    };
    Ok(Extension {
        extn_id: oid::RELATED_CERT,
        critical: false,
        extn_value: OctetString::new(v.to_der()?)?,
    })
}

/// Check that `cert` carries a relatedCertificate extension whose hash matches `related`.
pub fn verify_binding(cert: &Certificate, related: &Certificate) -> Result<()> {
    let ext = cert
        .tbs_certificate()
        .extensions()
        .and_then(|e| e.iter().find(|x| x.extn_id == oid::RELATED_CERT))
        .ok_or_else(|| Error::Related("certificate has no relatedCertificate extension".into()))?;
    let v = RelatedCertificate::from_der(ext.extn_value.as_bytes())?;
    let alg = [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512]
        .into_iter()
        .find(|h| h.oid() == v.hash_algorithm.oid)
        .ok_or_else(|| Error::Related(format!("unsupported hash {}", v.hash_algorithm.oid)))?;
    if hash(alg, &related.to_der()?) != v.hash_value.as_bytes() {
        return Err(Error::Related(
            "hash in relatedCertificate does not match the related certificate".into(),
        ));
    }
    Ok(())
}

fn signed_data(cert_id: &IssuerAndSerialNumber, request_time: u64) -> Result<Vec<u8>> {
    let mut m = cert_id.to_der()?;
    m.extend_from_slice(&request_time.to_der()?);
    Ok(m)
}

fn unix(t: SystemTime) -> Result<u64> {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Error::Related("time before the epoch".into()))
}

/// Build the relatedCertRequest CSR attribute proving possession of `related_key`.
pub fn request_attribute<R: CryptoRng + ?Sized>(
    related: &Certificate,
    related_key: &SigningKey,
    request_time: SystemTime,
    location: &str,
    rng: &mut R,
) -> Result<Attribute> {
    let cert_id = IssuerAndSerialNumber {
        issuer: related.tbs_certificate().issuer().clone(),
        serial_number: related.tbs_certificate().serial_number().clone(),
    };
    let t = unix(request_time)?;
    let sig = related_key.sign(&signed_data(&cert_id, t)?, rng)?;
    let v = RequesterCertificate {
        cert_id,
        request_time: t,
        location_info: Ia5String::new(location)?,
        signature: BitString::from_bytes(sig.as_bytes())?,
    };
    let mut values = der::asn1::SetOfVec::new();
    values.insert(der::Any::encode_from(&v)?)?;
    Ok(Attribute {
        oid: RELATED_CERT_REQUEST,
        values,
    })
}

/// Verify a relatedCertRequest attribute against the related certificate (fetched by the CA
/// from `location_info`): it names that certificate, its time is within `freshness` of `now`,
/// and its signature verifies with the related certificate's key.
pub fn verify_request_attribute(
    attr: &Attribute,
    related: &Certificate,
    now: SystemTime,
    freshness: Duration,
) -> Result<RequesterCertificate> {
    if attr.oid != RELATED_CERT_REQUEST {
        return Err(Error::Related("not a relatedCertRequest attribute".into()));
    }
    let mut it = attr.values.iter();
    let (Some(v), None) = (it.next(), it.next()) else {
        return Err(Error::Related(
            "relatedCertRequest must have exactly one value".into(),
        ));
    };
    let rc: RequesterCertificate = v.decode_as()?;
    if rc.cert_id.issuer != *related.tbs_certificate().issuer()
        || rc.cert_id.serial_number != *related.tbs_certificate().serial_number()
    {
        return Err(Error::Related(
            "certID does not name the related certificate".into(),
        ));
    }
    let n = unix(now)?;
    if rc.request_time.abs_diff(n) > freshness.as_secs() {
        return Err(Error::Related("requestTime is not fresh".into()));
    }
    let key = VerifyingKey::from_spki_der(
        &related
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()?,
    )?;
    let sig = rc
        .signature
        .as_bytes()
        .ok_or_else(|| Error::Related("signature has unused bits".into()))?;
    key.verify(&signed_data(&rc.cert_id, rc.request_time)?, sig)
        .map_err(|e| Error::Related(format!("signature does not verify: {e}")))?;
    Ok(rc)
}
