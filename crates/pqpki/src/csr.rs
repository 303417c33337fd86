//! PKCS#10 certification requests (RFC 2986): build, parse, verify the self-signature, read the
//! requested subjectAltNames.

use der::{Decode, Encode};
use rand_core::CryptoRng;
use x509_cert::builder::{Builder, RequestBuilder};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::name::Name;
use x509_cert::request::{CertReq, ExtensionReq};

use crate::cert::{SubjectAltNames, ext};
use crate::error::{Error, Result};
use crate::keys::{Signature, SigningKey, VerifyingKey, pem_decode, pem_encode};

/// PEM label of PKCS#10 requests.
pub const PEM_CSR: &str = "CERTIFICATE REQUEST";

/// Build and sign a request for `key` with `subject` and optional subjectAltNames.
pub fn build<R: CryptoRng + ?Sized>(
    key: &SigningKey,
    subject: Name,
    sans: &SubjectAltNames,
    rng: &mut R,
) -> Result<CertReq> {
    let mut b = RequestBuilder::new(subject)?;
    if !sans.is_empty() {
        b.add_extension(ext(&SubjectAltName(sans.to_general_names()?), false)?)?;
    }
    Ok(b.build_with_rng::<_, Signature, _>(key, rng)?)
}

/// Verify the request's version and self-signature; returns the requested key.
pub fn verify(csr: &CertReq) -> Result<VerifyingKey> {
    if csr.info.version != x509_cert::request::Version::V1 {
        return Err(Error::Csr("version must be v1 (0)".into()));
    }
    let key = VerifyingKey::from_spki_der(&csr.info.public_key.to_der()?)?;
    let msg = csr.info.to_der()?;
    let sig = csr
        .signature
        .as_bytes()
        .ok_or_else(|| Error::Csr("signature BIT STRING has unused bits".into()))?;
    key.verify_x509(&csr.algorithm, &msg, sig)
        .map_err(|e| Error::Csr(format!("self-signature does not verify: {e}")))?;
    Ok(key)
}

/// The subjectAltNames in the request's extensionRequest attribute (empty if none).
pub fn requested_sans(csr: &CertReq) -> Result<SubjectAltNames> {
    let mut out = SubjectAltNames::default();
    for attr in csr.info.attributes.iter() {
        if attr.oid != <ExtensionReq as const_oid::AssociatedOid>::OID {
            continue;
        }
        for v in attr.values.iter() {
            let req: ExtensionReq = v.decode_as()?;
            for e in req
                .0
                .iter()
                .filter(|e| e.extn_id == <SubjectAltName as const_oid::AssociatedOid>::OID)
            {
                let san = SubjectAltName::from_der(e.extn_value.as_bytes())?;
                let s = SubjectAltNames::from_general_names(&san.0);
                out.dns.extend(s.dns);
                out.ips.extend(s.ips);
                out.uris.extend(s.uris);
                out.emails.extend(s.emails);
            }
        }
    }
    Ok(out)
}

/// Parse DER.
pub fn from_der(der: &[u8]) -> Result<CertReq> {
    Ok(CertReq::from_der(der)?)
}

/// Parse PEM `CERTIFICATE REQUEST`.
pub fn from_pem(pem: &str) -> Result<CertReq> {
    from_der(&pem_decode(pem, PEM_CSR)?)
}

/// Encode PEM.
pub fn to_pem(csr: &CertReq) -> Result<String> {
    pem_encode(PEM_CSR, &csr.to_der()?)
}
