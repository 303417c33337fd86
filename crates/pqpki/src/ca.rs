//! A sans-I/O certificate authority: given the issuer certificate and key, explicit validity
//! times, a serial (caller-provided or drawn from the caller's RNG) and a subject/SAN/profile or a
//! CSR, produce certificate DER; given revocation entries, produce CRL DER.
//!
//! Issuance goes through the `x509-cert` 0.3 `CertificateBuilder` with [`SigningKey`] as the
//! signer, unchanged: composite, ML-DSA and classical CAs use the same code path.

use std::time::SystemTime;

use der::Encode;
use rand_core::CryptoRng;
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::builder::{Builder, CertificateBuilder, profile::BuilderProfile};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::{Certificate, TbsCertificate};

use crate::cert::{CertInfo, ExtensionSet, Profile, SubjectAltNames, key_identifier, validity};
use crate::error::{Error, Result};
use crate::keys::{Signature, SigningKey, VerifyingKey};

/// Profile adapter for the `x509-cert` builder: fixed names and precomputed extensions.
struct FixedProfile {
    subject: Name,
    issuer: Name,
    extensions: Vec<Extension>,
}

impl BuilderProfile for FixedProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        _spk: spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(self.extensions.clone())
    }
}

/// A positive serial number of 16 random bytes (RFC 5280 §4.1.2.2: ≤ 20 octets, positive).
pub fn random_serial<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<Vec<u8>> {
    let mut b = vec![0u8; 16];
    rng.try_fill_bytes(&mut b).map_err(|_| Error::Rng)?;
    b[0] = (b[0] & 0x7f).max(1);
    Ok(b)
}

fn serial_number(serial: &[u8]) -> Result<SerialNumber> {
    if serial.is_empty() || serial.len() > 20 || serial.iter().all(|b| *b == 0) {
        return Err(Error::Profile(
            "serial number must be 1 to 20 bytes and non-zero".into(),
        ));
    }
    if serial[0] & 0x80 != 0 {
        return Err(Error::Profile("serial number must be positive".into()));
    }
    Ok(SerialNumber::new(serial)?)
}

/// What to put in a certificate.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    /// Subject distinguished name.
    pub subject: Name,
    /// Subject public key.
    pub public_key: SubjectPublicKeyInfoOwned,
    /// Certificate profile.
    pub profile: Profile,
    /// subjectAltName entries.
    pub sans: SubjectAltNames,
    /// notBefore.
    pub not_before: SystemTime,
    /// notAfter.
    pub not_after: SystemTime,
    /// Serial number (big-endian, positive); `None` draws 16 random bytes.
    pub serial: Option<Vec<u8>>,
    /// Optional OCSP responder URL for authorityInfoAccess.
    pub ocsp_url: Option<String>,
    /// Additional extensions (e.g. RFC 9763 relatedCertificate, a chameleon DCD).
    pub extra_extensions: Vec<Extension>,
}

impl IssueRequest {
    /// A request for `public_key` with no SANs, a random serial and no OCSP URL.
    pub fn new(
        subject: Name,
        public_key: &VerifyingKey,
        profile: Profile,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<IssueRequest> {
        Ok(IssueRequest {
            subject,
            public_key: public_key.to_spki()?,
            profile,
            sans: SubjectAltNames::default(),
            not_before,
            not_after,
            serial: None,
            ocsp_url: None,
            extra_extensions: Vec::new(),
        })
    }
}

fn build<R: CryptoRng + ?Sized>(
    key: &SigningKey,
    issuer: Name,
    authority_key_id: Vec<u8>,
    req: &IssueRequest,
    rng: &mut R,
) -> Result<Certificate> {
    let spk = req
        .public_key
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| Error::Profile("subjectPublicKey has unused bits".into()))?;
    // The key must be one we can interpret (refuses prototype OIDs, present parameters, ...).
    VerifyingKey::from_spki_der(&req.public_key.to_der()?)?;
    let exts = ExtensionSet {
        profile: req.profile,
        sans: req.sans.clone(),
        ocsp_url: req.ocsp_url.clone(),
        subject_key_id: key_identifier(spk),
        authority_key_id,
        extra: req.extra_extensions.clone(),
    }
    .build()?;
    let serial = match &req.serial {
        Some(s) => serial_number(s)?,
        None => serial_number(&random_serial(rng)?)?,
    };
    let profile = FixedProfile {
        subject: req.subject.clone(),
        issuer,
        extensions: exts,
    };
    let builder = CertificateBuilder::new(
        profile,
        serial,
        validity(req.not_before, req.not_after)?,
        req.public_key.clone(),
    )?;
    Ok(builder.build_with_rng::<_, Signature, _>(key, rng)?)
}

/// Issue a self-signed root certificate for `key`.
pub fn self_signed_root<R: CryptoRng + ?Sized>(
    key: &SigningKey,
    subject: Name,
    not_before: SystemTime,
    not_after: SystemTime,
    path_len: Option<u8>,
    serial: Option<Vec<u8>>,
    rng: &mut R,
) -> Result<Certificate> {
    let mut req = IssueRequest::new(
        subject.clone(),
        key.public_key(),
        Profile::Root { path_len },
        not_before,
        not_after,
    )?;
    req.serial = serial;
    let ski = key_identifier(key.public_key().as_bytes());
    build(key, subject, ski, &req, rng)
}

/// An issuing CA: its certificate and private key.
#[derive(Debug)]
pub struct CertificateAuthority<'k> {
    cert: Certificate,
    key: &'k SigningKey,
    key_id: Vec<u8>,
}

impl<'k> CertificateAuthority<'k> {
    /// Pair a CA certificate with its key; checks the key matches the certificate and that the
    /// certificate is a CA allowed to sign certificates.
    pub fn new(cert: Certificate, key: &'k SigningKey) -> Result<CertificateAuthority<'k>> {
        let spki = cert.tbs_certificate().subject_public_key_info();
        if spki.to_der()? != key.public_key().to_spki_der()? {
            return Err(Error::Profile(
                "the private key does not belong to the CA certificate".into(),
            ));
        }
        let info = CertInfo::new(&cert);
        if !info.basic_constraints()?.is_some_and(|b| b.ca) {
            return Err(Error::Profile(
                "CA certificate lacks basicConstraints cA=TRUE".into(),
            ));
        }
        if let Some(ku) = info.key_usage()?
            && !ku.key_cert_sign()
        {
            return Err(Error::Profile(
                "CA certificate keyUsage lacks keyCertSign".into(),
            ));
        }
        let key_id = match info.subject_key_id()? {
            Some(k) => k,
            None => key_identifier(key.public_key().as_bytes()),
        };
        Ok(CertificateAuthority { cert, key, key_id })
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }

    /// The CA key.
    pub fn key(&self) -> &SigningKey {
        self.key
    }

    /// The CA's subject key identifier (the AKI of everything it issues).
    pub fn key_id(&self) -> &[u8] {
        &self.key_id
    }

    /// Issue a certificate. The validity must lie within the CA's own, and a CA profile's
    /// pathLenConstraint must be below the CA's.
    pub fn issue<R: CryptoRng + ?Sized>(
        &self,
        req: &IssueRequest,
        rng: &mut R,
    ) -> Result<Certificate> {
        let v = self.cert.tbs_certificate().validity();
        if req.not_after > v.not_after.to_system_time() {
            return Err(Error::Profile(
                "requested notAfter is later than the CA certificate's notAfter".into(),
            ));
        }
        if req.not_before < v.not_before.to_system_time() {
            return Err(Error::Profile(
                "requested notBefore is earlier than the CA certificate's notBefore".into(),
            ));
        }
        if let Profile::Intermediate { path_len } = req.profile
            && let Some(ca_len) = CertInfo::new(&self.cert)
                .basic_constraints()?
                .and_then(|b| b.path_len_constraint)
        {
            if ca_len == 0 {
                return Err(Error::Profile(
                    "the CA's pathLenConstraint is 0: it cannot issue CA certificates".into(),
                ));
            }
            if path_len.is_none_or(|p| p >= ca_len) {
                return Err(Error::Profile(format!(
                    "subordinate pathLenConstraint must be below the CA's ({ca_len})"
                )));
            }
        }
        if req.public_key.to_der()?
            == self
                .cert
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()?
        {
            return Err(Error::Profile(
                "refusing to issue a certificate for the CA's own key".into(),
            ));
        }
        build(
            self.key,
            self.cert.tbs_certificate().subject().clone(),
            self.key_id.clone(),
            req,
            rng,
        )
    }

    /// Issue from a PKCS#10 request: verifies the request's self-signature, then takes its subject,
    /// its key and its requested subjectAltNames; `terms` supplies everything the CA decides.
    pub fn issue_from_csr<R: CryptoRng + ?Sized>(
        &self,
        csr: &x509_cert::request::CertReq,
        terms: &CsrTerms,
        rng: &mut R,
    ) -> Result<Certificate> {
        crate::csr::verify(csr)?;
        let req = IssueRequest {
            subject: csr.info.subject.clone(),
            public_key: csr.info.public_key.clone(),
            profile: terms.profile,
            sans: crate::csr::requested_sans(csr)?,
            not_before: terms.not_before,
            not_after: terms.not_after,
            serial: terms.serial.clone(),
            ocsp_url: terms.ocsp_url.clone(),
            extra_extensions: Vec::new(),
        };
        self.issue(&req, rng)
    }
}

/// What the CA decides when it issues from a CSR.
#[derive(Clone, Debug)]
pub struct CsrTerms {
    /// Certificate profile.
    pub profile: Profile,
    /// notBefore.
    pub not_before: SystemTime,
    /// notAfter.
    pub not_after: SystemTime,
    /// Serial number; `None` draws 16 random bytes.
    pub serial: Option<Vec<u8>>,
    /// Optional OCSP responder URL for authorityInfoAccess.
    pub ocsp_url: Option<String>,
}

impl CsrTerms {
    /// Terms with a random serial and no OCSP URL.
    pub fn new(profile: Profile, not_before: SystemTime, not_after: SystemTime) -> CsrTerms {
        CsrTerms {
            profile,
            not_before,
            not_after,
            serial: None,
            ocsp_url: None,
        }
    }
}

/// Key identifiers of every component of a public key (the key itself for non-composites, and for
/// a composite also each component), so a CA can check all of them against known-compromised
/// keys (Pala's problem statement §6).
pub fn component_key_ids(key: &VerifyingKey) -> Vec<Vec<u8>> {
    let mut v = vec![key_identifier(key.as_bytes())];
    if let Some((a, b)) = key.composite_components() {
        v.push(key_identifier(a));
        v.push(key_identifier(b));
    }
    v
}
