//! Chameleon certificates (draft-bonnell-lamps-chameleon-certs-05) — **experimental**.
//!
//! A Base certificate carries, in the non-critical DeltaCertificateDescriptor extension
//! (2.16.840.1.114027.80.6.1), the fields in which a second, Delta certificate differs from it
//! plus the Delta's signature. A relying party that prefers the Delta's algorithm reconstructs
//! the Delta from the Base; one that does not simply uses the Base (OR-style compatibility).
//!
//! ```text
//! DeltaCertificateDescriptor ::= SEQUENCE {
//!   serialNumber          CertificateSerialNumber,
//!   signature             [0] EXPLICIT AlgorithmIdentifier OPTIONAL,
//!   issuer                [1] EXPLICIT Name OPTIONAL,
//!   validity              [2] EXPLICIT Validity OPTIONAL,
//!   subject               [3] EXPLICIT Name OPTIONAL,
//!   subjectPublicKeyInfo  SubjectPublicKeyInfo,
//!   extensions            [4] EXPLICIT Extensions OPTIONAL,
//!   signatureValue        BIT STRING }
//! ```
//!
//! Reconstruction (§4.3): copy the Base's TBSCertificate without the DCD extension, then replace
//! the serial number, the signature algorithm (in the TBS and the Certificate), issuer, validity,
//! subject, subjectPublicKeyInfo, the extensions listed in the DCD (in place), and the signature.

use der::asn1::{BitString, ContextSpecific};
use der::{Any, Decode, Encode, Sequence, Tag, TagMode, TagNumber, Tagged};
use x509_cert::Certificate;
use x509_cert::ext::Extension;

use crate::error::{Error, Result};
use crate::oid;

/// The DeltaCertificateDescriptor extension value. Fields are kept as raw DER so that
/// reconstruction is byte-exact.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct DeltaCertificateDescriptor {
    /// Serial number of the Delta (INTEGER, raw).
    pub serial_number: Any,
    /// Delta signature algorithm, when it differs from the Base's.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub signature: Option<Any>,
    /// Delta issuer, when it differs.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub issuer: Option<Any>,
    /// Delta validity, when it differs.
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub validity: Option<Any>,
    /// Delta subject, when it differs.
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    pub subject: Option<Any>,
    /// Delta subjectPublicKeyInfo.
    pub subject_public_key_info: Any,
    /// Delta extensions that differ from the Base's, in Delta order.
    #[asn1(context_specific = "4", tag_mode = "EXPLICIT", optional = "true")]
    pub extensions: Option<Vec<Extension>>,
    /// The Delta's signature.
    pub signature_value: BitString,
}

/// Positions of the TBSCertificate fields after the optional version.
struct TbsFields {
    items: Vec<Any>,
    /// index of serialNumber (0 or 1 depending on the version field)
    base: usize,
}

impl TbsFields {
    fn parse(tbs_der: &[u8]) -> Result<TbsFields> {
        let items: Vec<Any> = Vec::<Any>::from_der(tbs_der)?;
        let base = match items.first().map(|a| a.tag()) {
            Some(Tag::ContextSpecific {
                number: TagNumber(0),
                ..
            }) => 1,
            _ => 0,
        };
        if items.len() < base + 6 {
            return Err(Error::Delta("TBSCertificate has too few fields".into()));
        }
        Ok(TbsFields { items, base })
    }
    fn at(&mut self, i: usize) -> Result<&mut Any> {
        self.items
            .get_mut(self.base + i)
            .ok_or_else(|| Error::Delta("missing TBSCertificate field".into()))
    }
    /// The [3] extensions, decoded, and its index.
    fn extensions(&self) -> Result<Option<(usize, Vec<Extension>)>> {
        for (i, a) in self.items.iter().enumerate().skip(self.base + 6) {
            if a.tag()
                == (Tag::ContextSpecific {
                    constructed: true,
                    number: TagNumber(3),
                })
            {
                return Ok(Some((i, Vec::<Extension>::from_der(a.value())?)));
            }
        }
        Ok(None)
    }
}

fn explicit3(exts: &[Extension]) -> Result<Any> {
    let cs = ContextSpecific {
        tag_number: TagNumber(3),
        tag_mode: TagMode::Explicit,
        value: exts.to_vec(),
    };
    Ok(Any::from_der(&cs.to_der()?)?)
}

/// The DCD of `base`, if it has one.
pub fn descriptor(base: &Certificate) -> Result<Option<DeltaCertificateDescriptor>> {
    let Some(exts) = base.tbs_certificate().extensions() else {
        return Ok(None);
    };
    let mut it = exts
        .iter()
        .filter(|e| e.extn_id == oid::DELTA_CERTIFICATE_DESCRIPTOR);
    let Some(e) = it.next() else {
        return Ok(None);
    };
    if it.next().is_some() {
        return Err(Error::Delta(
            "two DeltaCertificateDescriptor extensions".into(),
        ));
    }
    if e.critical {
        return Err(Error::Delta(
            "the DCD extension MUST be non-critical".into(),
        ));
    }
    Ok(Some(DeltaCertificateDescriptor::from_der(
        e.extn_value.as_bytes(),
    )?))
}

/// Reconstruct the Delta certificate encoded in `base` (§4.3), byte-exact.
pub fn reconstruct(base: &Certificate) -> Result<Certificate> {
    let dcd = descriptor(base)?.ok_or_else(|| Error::Delta("certificate has no DCD".into()))?;
    let mut f = TbsFields::parse(&base.tbs_certificate().to_der()?)?;
    *f.at(0)? = dcd.serial_number.clone();
    if let Some(s) = &dcd.signature {
        *f.at(1)? = s.clone();
    }
    if let Some(v) = &dcd.issuer {
        *f.at(2)? = v.clone();
    }
    if let Some(v) = &dcd.validity {
        *f.at(3)? = v.clone();
    }
    if let Some(v) = &dcd.subject {
        *f.at(4)? = v.clone();
    }
    *f.at(5)? = dcd.subject_public_key_info.clone();
    let (idx, mut exts) = f
        .extensions()?
        .ok_or_else(|| Error::Delta("Base has no extensions".into()))?;
    exts.retain(|e| e.extn_id != oid::DELTA_CERTIFICATE_DESCRIPTOR);
    for d in dcd.extensions.iter().flatten() {
        if d.extn_id == oid::DELTA_CERTIFICATE_DESCRIPTOR {
            return Err(Error::Delta(
                "a DCD may not describe a DCD extension".into(),
            ));
        }
        match exts.iter_mut().find(|e| e.extn_id == d.extn_id) {
            Some(e) => *e = d.clone(),
            None => {
                return Err(Error::Delta(format!(
                    "DCD extension {} is not present in the Base certificate",
                    d.extn_id
                )));
            }
        }
    }
    f.items[idx] = explicit3(&exts)?;
    let tbs = Any::from_der(&f.items.to_der()?)?;
    // a SEQUENCE OF Any encodes as SEQUENCE: re-tag is not needed
    let sig_alg = match &dcd.signature {
        Some(s) => s.clone(),
        None => Any::encode_from(base.signature_algorithm())?,
    };
    let cert = vec![tbs, sig_alg, Any::encode_from(&dcd.signature_value)?];
    Ok(Certificate::from_der(&cert.to_der()?)?)
}

/// Build the DCD that describes `delta` relative to `base` (§4.1; a DCD already in `base` is
/// ignored): optional fields
/// only where the DER differs, extensions only where they differ, in Delta order.
pub fn describe(delta: &Certificate, base: &Certificate) -> Result<DeltaCertificateDescriptor> {
    let mut d = TbsFields::parse(&delta.tbs_certificate().to_der()?)?;
    let mut b = TbsFields::parse(&base.tbs_certificate().to_der()?)?;
    let differ = |x: &Any, y: &Any| -> Option<Any> { (x != y).then(|| x.clone()) };
    let serial_number = d.at(0)?.clone();
    let signature = differ(&d.at(1)?.clone(), b.at(1)?);
    let issuer = differ(&d.at(2)?.clone(), b.at(2)?);
    let validity = differ(&d.at(3)?.clone(), b.at(3)?);
    let subject = differ(&d.at(4)?.clone(), b.at(4)?);
    let subject_public_key_info = d.at(5)?.clone();
    let dexts = d.extensions()?.map(|x| x.1).unwrap_or_default();
    let mut bexts = b.extensions()?.map(|x| x.1).unwrap_or_default();
    bexts.retain(|e| e.extn_id != oid::DELTA_CERTIFICATE_DESCRIPTOR);
    let mut changed = Vec::new();
    for e in &dexts {
        match bexts.iter().find(|x| x.extn_id == e.extn_id) {
            Some(x) if x == e => {}
            Some(_) => changed.push(e.clone()),
            None => {
                return Err(Error::Delta(format!(
                    "Delta extension {} must also be present in the Base",
                    e.extn_id
                )));
            }
        }
    }
    for x in &bexts {
        if !dexts.iter().any(|e| e.extn_id == x.extn_id) {
            return Err(Error::Delta(format!(
                "Base extension {} is absent from the Delta; the DCD cannot express a removal",
                x.extn_id
            )));
        }
    }
    Ok(DeltaCertificateDescriptor {
        serial_number,
        signature,
        issuer,
        validity,
        subject,
        subject_public_key_info,
        extensions: (!changed.is_empty()).then_some(changed),
        signature_value: delta.signature().clone(),
    })
}

/// The DCD as a (non-critical) extension, to add to a Base certificate's issuance request.
pub fn to_extension(dcd: &DeltaCertificateDescriptor) -> Result<Extension> {
    Ok(Extension {
        extn_id: oid::DELTA_CERTIFICATE_DESCRIPTOR,
        critical: false,
        extn_value: der::asn1::OctetString::new(dcd.to_der()?)?,
    })
}

impl crate::ca::CertificateAuthority<'_> {
    /// Issue a Base certificate that carries `delta` in a DeltaCertificateDescriptor (the Delta
    /// is issued first, by whichever CA, with the same profile). The request's serial is drawn
    /// once if absent, the Base is assembled without the DCD to compute the differences, then
    /// issued with it.
    pub fn issue_with_delta<R: rand_core::CryptoRng + ?Sized>(
        &self,
        req: &crate::ca::IssueRequest,
        delta: &Certificate,
        rng: &mut R,
    ) -> Result<Certificate> {
        let mut req = req.clone();
        if req.serial.is_none() {
            req.serial = Some(crate::ca::random_serial(rng)?);
        }
        let draft = self.issue(&req, rng)?;
        let dcd = describe(delta, &draft)?;
        req.extra_extensions.push(to_extension(&dcd)?);
        let base = self.issue(&req, rng)?;
        if reconstruct(&base)? != *delta {
            return Err(Error::Delta(
                "the Delta does not reconstruct from the issued Base".into(),
            ));
        }
        Ok(base)
    }
}
