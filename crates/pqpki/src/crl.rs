//! Certificate revocation lists (RFC 5280 §5): issue with reason codes, verify, look up.

use std::time::SystemTime;

use der::asn1::Uint;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::Time;

use crate::ca::CertificateAuthority;
use crate::cert::{CertInfo, ext};
use crate::error::{Error, Result};
use crate::keys::{VerifyingKey, pem_decode, pem_encode};

/// PEM label of CRLs.
pub const PEM_CRL: &str = "X509 CRL";

/// CRL reason names as the CLI spells them (RFC 5280 §5.3.1 identifiers), with their codes.
pub const REASONS: [(&str, CrlReason); 10] = [
    ("unspecified", CrlReason::Unspecified),
    ("keyCompromise", CrlReason::KeyCompromise),
    ("cACompromise", CrlReason::CaCompromise),
    ("affiliationChanged", CrlReason::AffiliationChanged),
    ("superseded", CrlReason::Superseded),
    ("cessationOfOperation", CrlReason::CessationOfOperation),
    ("certificateHold", CrlReason::CertificateHold),
    ("removeFromCRL", CrlReason::RemoveFromCRL),
    ("privilegeWithdrawn", CrlReason::PrivilegeWithdrawn),
    ("aACompromise", CrlReason::AaCompromise),
];

/// Parse a reason name (case-insensitive).
pub fn reason_from_name(s: &str) -> Result<CrlReason> {
    REASONS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(s))
        .map(|(_, r)| *r)
        .ok_or_else(|| Error::Crl(format!("unknown reason {s:?}")))
}

/// The name of a reason code.
pub fn reason_name(r: CrlReason) -> &'static str {
    REASONS
        .iter()
        .find(|(_, x)| *x == r)
        .map(|(n, _)| *n)
        .unwrap_or("unspecified")
}

/// One revoked certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial number, big-endian.
    pub serial: Vec<u8>,
    /// Revocation time.
    pub revoked_at: SystemTime,
    /// Reason code; `None` omits the reasonCode extension (RFC 5280 says use it rather than
    /// `unspecified`).
    pub reason: Option<CrlReason>,
}

impl CertificateAuthority<'_> {
    /// Issue a v2 CRL listing `entries`, with CRL number and authorityKeyIdentifier extensions.
    pub fn crl<R: rand_core::CryptoRng + ?Sized>(
        &self,
        entries: &[RevokedEntry],
        this_update: SystemTime,
        next_update: Option<SystemTime>,
        crl_number: u64,
        rng: &mut R,
    ) -> Result<CertificateList> {
        if let Some(n) = next_update
            && n <= this_update
        {
            return Err(Error::Crl("nextUpdate must be after thisUpdate".into()));
        }
        let mut revoked = Vec::with_capacity(entries.len());
        for e in entries {
            let crl_entry_extensions = match e.reason {
                Some(r) => Some(vec![ext(&r, false)?]),
                None => None,
            };
            revoked.push(RevokedCert {
                serial_number: SerialNumber::new(&e.serial)?,
                revocation_date: Time::try_from(e.revoked_at)?,
                crl_entry_extensions,
            });
        }
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(der::asn1::OctetString::new(self.key_id().to_vec())?),
            ..Default::default()
        };
        let tbs = TbsCertList {
            version: x509_cert::Version::V2,
            signature: self.key().signature_algorithm()?,
            issuer: self.certificate().tbs_certificate().subject().clone(),
            this_update: Time::try_from(this_update)?,
            next_update: next_update.map(Time::try_from).transpose()?,
            revoked_certificates: if revoked.is_empty() {
                None
            } else {
                Some(revoked)
            },
            crl_extensions: Some(vec![
                ext(&CrlNumber(Uint::new(&crl_number.to_be_bytes())?), false)?,
                ext(&aki, false)?,
            ]),
        };
        let sig = self.key().sign(&tbs.to_der()?, rng)?;
        Ok(CertificateList {
            signature_algorithm: tbs.signature.clone(),
            tbs_cert_list: tbs,
            signature: der::asn1::BitString::from_bytes(sig.as_bytes())?,
        })
    }
}

/// Verify a CRL against its issuer: name, signature, thisUpdate ≤ `at` < nextUpdate, and the
/// issuer's keyUsage permits cRLSign.
pub fn verify(crl: &CertificateList, issuer: &Certificate, at: SystemTime) -> Result<()> {
    let tbs = &crl.tbs_cert_list;
    if tbs.issuer != *issuer.tbs_certificate().subject() {
        return Err(Error::Crl(format!(
            "CRL issuer {} is not {}",
            tbs.issuer,
            issuer.tbs_certificate().subject()
        )));
    }
    if tbs.signature != crl.signature_algorithm {
        return Err(Error::Crl(
            "signature algorithm in TBSCertList differs from signatureAlgorithm".into(),
        ));
    }
    if let Some(ku) = CertInfo::new(issuer).key_usage()?
        && !ku.crl_sign()
    {
        return Err(Error::Crl("issuer keyUsage lacks cRLSign".into()));
    }
    let key = VerifyingKey::from_spki_der(
        &issuer
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()?,
    )?;
    let sig = crl
        .signature
        .as_bytes()
        .ok_or_else(|| Error::Crl("signature BIT STRING has unused bits".into()))?;
    key.verify_x509(&crl.signature_algorithm, &tbs.to_der()?, sig)
        .map_err(|e| Error::Crl(format!("signature does not verify: {e}")))?;
    if tbs.this_update.to_system_time() > at {
        return Err(Error::Crl("thisUpdate is in the future".into()));
    }
    if let Some(n) = tbs.next_update
        && n.to_system_time() <= at
    {
        return Err(Error::Crl("CRL is stale (nextUpdate has passed)".into()));
    }
    Ok(())
}

/// If `serial` is listed, its reason (entries without a reasonCode give `Unspecified`).
pub fn lookup(crl: &CertificateList, serial: &SerialNumber) -> Result<Option<CrlReason>> {
    let Some(list) = &crl.tbs_cert_list.revoked_certificates else {
        return Ok(None);
    };
    for r in list {
        if r.serial_number.as_bytes() == serial.as_bytes() {
            let mut reason = CrlReason::Unspecified;
            for e in r.crl_entry_extensions.iter().flatten() {
                if e.extn_id == <CrlReason as const_oid::AssociatedOid>::OID {
                    reason = CrlReason::from_der(e.extn_value.as_bytes())?;
                }
            }
            return Ok(Some(reason));
        }
    }
    Ok(None)
}

/// Parse DER.
pub fn from_der(der: &[u8]) -> Result<CertificateList> {
    Ok(CertificateList::from_der(der)?)
}

/// Parse PEM `X509 CRL`.
pub fn from_pem(pem: &str) -> Result<CertificateList> {
    from_der(&pem_decode(pem, PEM_CRL)?)
}

/// Encode PEM.
pub fn to_pem(crl: &CertificateList) -> Result<String> {
    pem_encode(PEM_CRL, &crl.to_der()?)
}
