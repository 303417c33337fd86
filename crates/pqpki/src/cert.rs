//! Certificate profiles and extensions (RFC 5280 §4.2) as this CA issues them, plus helpers to
//! read the extensions back.
//!
//! Every profile marks basicConstraints and keyUsage critical. keyUsage is consistent with a
//! signature-only key (draft-19 §5.4, RFC 9881 §5): digitalSignature for end entities,
//! keyCertSign + cRLSign (+ digitalSignature, so the CA key may sign OCSP responses) for CAs, and
//! never keyEncipherment, dataEncipherment, keyAgreement, encipherOnly or decipherOnly.

use std::net::IpAddr;
use std::time::SystemTime;

use aws_lc_rs::digest;
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::asn1::{Ia5String, OctetString};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::time::{Time, Validity};

use crate::error::{Error, Result};
use crate::keys::pem_encode;
use crate::oid;

/// PEM label of certificates.
pub const PEM_CERTIFICATE: &str = "CERTIFICATE";

/// What kind of certificate to issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// A self-signed root CA; `path_len` is the basicConstraints pathLenConstraint.
    Root {
        /// pathLenConstraint (None = unlimited).
        path_len: Option<u8>,
    },
    /// An intermediate (subordinate) CA.
    Intermediate {
        /// pathLenConstraint (None = unlimited).
        path_len: Option<u8>,
    },
    /// TLS server end entity: EKU serverAuth.
    Server,
    /// TLS client end entity: EKU clientAuth.
    Client,
    /// Both serverAuth and clientAuth (e.g. a gateway that is also an mTLS client).
    ServerClient,
    /// A delegated OCSP responder: EKU OCSPSigning.
    OcspSigning,
}

impl Profile {
    /// Whether the profile is a CA.
    pub fn is_ca(self) -> bool {
        matches!(self, Profile::Root { .. } | Profile::Intermediate { .. })
    }

    /// Parse the CLI names `root`, `intermediate`, `server`, `client`, `server-client`, `ocsp`.
    pub fn from_name(s: &str) -> Result<Profile> {
        Ok(match s {
            "root" => Profile::Root { path_len: None },
            "intermediate" => Profile::Intermediate { path_len: Some(0) },
            "server" => Profile::Server,
            "client" => Profile::Client,
            "server-client" => Profile::ServerClient,
            "ocsp" => Profile::OcspSigning,
            _ => return Err(Error::Profile(format!("unknown profile {s:?}"))),
        })
    }

    fn key_usage(self) -> KeyUsage {
        if self.is_ca() {
            KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign | KeyUsages::DigitalSignature)
        } else {
            KeyUsage(KeyUsages::DigitalSignature.into())
        }
    }

    fn eku(self) -> Option<ExtendedKeyUsage> {
        let v = match self {
            Profile::Root { .. } | Profile::Intermediate { .. } => return None,
            Profile::Server => vec![oid::KP_SERVER_AUTH],
            Profile::Client => vec![oid::KP_CLIENT_AUTH],
            Profile::ServerClient => vec![oid::KP_SERVER_AUTH, oid::KP_CLIENT_AUTH],
            Profile::OcspSigning => vec![oid::KP_OCSP_SIGNING],
        };
        Some(ExtendedKeyUsage(v))
    }
}

/// subjectAltName entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectAltNames {
    /// dNSName entries (may start with `*.`).
    pub dns: Vec<String>,
    /// iPAddress entries.
    pub ips: Vec<IpAddr>,
    /// uniformResourceIdentifier entries.
    pub uris: Vec<String>,
    /// rfc822Name entries.
    pub emails: Vec<String>,
}

impl SubjectAltNames {
    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ips.is_empty() && self.uris.is_empty() && self.emails.is_empty()
    }

    /// Parse CLI-style entries: `DNS:name`, `IP:addr`, `URI:uri`, `email:addr`; a bare value is a
    /// DNS name, or an IP address if it parses as one.
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<SubjectAltNames> {
        let mut s = SubjectAltNames::default();
        for e in entries {
            let (kind, v) = e.split_once(':').unwrap_or(("", e));
            match kind.to_ascii_lowercase().as_str() {
                "dns" => s.dns.push(v.to_owned()),
                "ip" => s.ips.push(
                    v.parse()
                        .map_err(|_| Error::Profile(format!("not an IP address: {v:?}")))?,
                ),
                "uri" => s.uris.push(v.to_owned()),
                "email" => s.emails.push(v.to_owned()),
                _ => match e.parse::<IpAddr>() {
                    Ok(ip) => s.ips.push(ip),
                    Err(_) => s.dns.push(e.to_owned()),
                },
            }
        }
        Ok(s)
    }

    pub(crate) fn to_general_names(&self) -> Result<Vec<GeneralName>> {
        let ia5 = |v: &str, what: &str| {
            if !v.is_ascii() || v.is_empty() {
                return Err(Error::Profile(format!(
                    "{what} {v:?} must be non-empty ASCII"
                )));
            }
            Ia5String::new(v).map_err(Error::from)
        };
        let mut out = Vec::new();
        for d in &self.dns {
            out.push(GeneralName::DnsName(ia5(d, "DNS name")?));
        }
        for ip in &self.ips {
            let b = match ip {
                IpAddr::V4(a) => a.octets().to_vec(),
                IpAddr::V6(a) => a.octets().to_vec(),
            };
            out.push(GeneralName::IpAddress(OctetString::new(b)?));
        }
        for u in &self.uris {
            out.push(GeneralName::UniformResourceIdentifier(ia5(u, "URI")?));
        }
        for e in &self.emails {
            out.push(GeneralName::Rfc822Name(ia5(e, "email")?));
        }
        Ok(out)
    }

    /// Read the entries this crate understands from GeneralNames.
    pub fn from_general_names(names: &[GeneralName]) -> SubjectAltNames {
        let mut s = SubjectAltNames::default();
        for n in names {
            match n {
                GeneralName::DnsName(d) => s.dns.push(d.to_string()),
                GeneralName::IpAddress(o) => match o.as_bytes().len() {
                    4 => {
                        let mut a = [0u8; 4];
                        a.copy_from_slice(o.as_bytes());
                        s.ips.push(IpAddr::from(a));
                    }
                    16 => {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(o.as_bytes());
                        s.ips.push(IpAddr::from(a));
                    }
                    _ => {}
                },
                GeneralName::UniformResourceIdentifier(u) => s.uris.push(u.to_string()),
                GeneralName::Rfc822Name(e) => s.emails.push(e.to_string()),
                _ => {}
            }
        }
        s
    }
}

/// A validity window with explicit times (sans-I/O: the caller supplies the clock).
pub fn validity(not_before: SystemTime, not_after: SystemTime) -> Result<Validity> {
    if not_after <= not_before {
        return Err(Error::Profile(
            "notAfter must be later than notBefore".into(),
        ));
    }
    Ok(Validity::new(
        Time::try_from(not_before)?,
        Time::try_from(not_after)?,
    ))
}

/// Subject key identifier: RFC 7093 §2 method 1 (leftmost 160 bits of the SHA-256 of the
/// subjectPublicKey BIT STRING value).
pub fn key_identifier(subject_public_key: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, subject_public_key).as_ref()[..20].to_vec()
}

pub(crate) fn ext<T: Encode + AssociatedOid>(v: &T, critical: bool) -> Result<Extension> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(v.to_der()?)?,
    })
}

/// Everything the profile contributes to a certificate besides names, key and validity.
pub(crate) struct ExtensionSet {
    pub(crate) profile: Profile,
    pub(crate) sans: SubjectAltNames,
    pub(crate) ocsp_url: Option<String>,
    pub(crate) subject_key_id: Vec<u8>,
    pub(crate) authority_key_id: Vec<u8>,
    pub(crate) extra: Vec<Extension>,
}

impl ExtensionSet {
    pub(crate) fn build(&self) -> Result<Vec<Extension>> {
        let mut v = Vec::new();
        let bc = match self.profile {
            Profile::Root { path_len } | Profile::Intermediate { path_len } => BasicConstraints {
                ca: true,
                path_len_constraint: path_len,
            },
            _ => BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        };
        v.push(ext(&bc, true)?);
        v.push(ext(&self.profile.key_usage(), true)?);
        if let Some(eku) = self.profile.eku() {
            v.push(ext(&eku, false)?);
        }
        v.push(ext(
            &SubjectKeyIdentifier(OctetString::new(self.subject_key_id.clone())?),
            false,
        )?);
        v.push(ext(
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(self.authority_key_id.clone())?),
                ..Default::default()
            },
            false,
        )?);
        if !self.sans.is_empty() {
            v.push(ext(&SubjectAltName(self.sans.to_general_names()?), false)?);
        } else if matches!(self.profile, Profile::Server | Profile::ServerClient) {
            return Err(Error::Profile(
                "a server certificate needs at least one subjectAltName".into(),
            ));
        }
        if let Some(url) = &self.ocsp_url {
            let loc = GeneralName::UniformResourceIdentifier(Ia5String::new(url.as_str())?);
            v.push(ext(
                &AuthorityInfoAccessSyntax(vec![AccessDescription {
                    access_method: oid::AD_OCSP,
                    access_location: loc,
                }]),
                false,
            )?);
        }
        for e in &self.extra {
            if v.iter().any(|x| x.extn_id == e.extn_id) {
                return Err(Error::Profile(format!(
                    "extension {} given twice",
                    e.extn_id
                )));
            }
            v.push(e.clone());
        }
        Ok(v)
    }
}

/// Typed read access to the extensions of a certificate (errors on malformed encodings).
pub struct CertInfo<'a> {
    cert: &'a Certificate,
}

impl core::fmt::Debug for CertInfo<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "CertInfo({})", self.cert.tbs_certificate().subject())
    }
}

impl<'a> CertInfo<'a> {
    /// Wrap a certificate.
    pub fn new(cert: &'a Certificate) -> CertInfo<'a> {
        CertInfo { cert }
    }

    fn find<T: Decode<'a, Error = der::Error> + AssociatedOid>(&self) -> Result<Option<(bool, T)>> {
        let Some(exts) = self.cert.tbs_certificate().extensions() else {
            return Ok(None);
        };
        let mut found = exts.iter().filter(|e| e.extn_id == T::OID);
        let Some(e) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(Error::Profile(format!(
                "extension {} appears twice",
                T::OID
            )));
        }
        Ok(Some((e.critical, T::from_der(e.extn_value.as_bytes())?)))
    }

    /// The subject public key, interpreted (refuses prototype OIDs, present parameters, ...).
    pub fn public_key(&self) -> Result<crate::keys::VerifyingKey> {
        crate::keys::VerifyingKey::from_spki_der(
            &self
                .cert
                .tbs_certificate()
                .subject_public_key_info()
                .to_der()?,
        )
    }

    /// basicConstraints.
    pub fn basic_constraints(&self) -> Result<Option<BasicConstraints>> {
        Ok(self.find::<BasicConstraints>()?.map(|x| x.1))
    }
    /// keyUsage.
    pub fn key_usage(&self) -> Result<Option<KeyUsage>> {
        Ok(self.find::<KeyUsage>()?.map(|x| x.1))
    }
    /// extendedKeyUsage.
    pub fn extended_key_usage(&self) -> Result<Option<ExtendedKeyUsage>> {
        Ok(self.find::<ExtendedKeyUsage>()?.map(|x| x.1))
    }
    /// subjectAltName.
    pub fn subject_alt_names(&self) -> Result<Option<SubjectAltNames>> {
        Ok(self
            .find::<SubjectAltName>()?
            .map(|x| SubjectAltNames::from_general_names(&x.1.0)))
    }
    /// subjectKeyIdentifier.
    pub fn subject_key_id(&self) -> Result<Option<Vec<u8>>> {
        Ok(self
            .find::<SubjectKeyIdentifier>()?
            .map(|x| x.1.0.as_bytes().to_vec()))
    }
    /// authorityKeyIdentifier keyIdentifier.
    pub fn authority_key_id(&self) -> Result<Option<Vec<u8>>> {
        Ok(self
            .find::<AuthorityKeyIdentifier>()?
            .and_then(|x| x.1.key_identifier.map(|k| k.as_bytes().to_vec())))
    }
    /// OCSP URLs from authorityInfoAccess.
    pub fn ocsp_urls(&self) -> Result<Vec<String>> {
        Ok(self
            .find::<AuthorityInfoAccessSyntax>()?
            .map(|x| {
                x.1.0
                    .iter()
                    .filter(|a| a.access_method == oid::AD_OCSP)
                    .filter_map(|a| match &a.access_location {
                        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
    /// The extension OIDs, with criticality.
    pub fn extension_oids(&self) -> Vec<(ObjectIdentifier, bool)> {
        self.cert
            .tbs_certificate()
            .extensions()
            .map(|e| e.iter().map(|x| (x.extn_id, x.critical)).collect())
            .unwrap_or_default()
    }
}

/// Certificate to PEM.
pub fn to_pem(cert: &Certificate) -> Result<String> {
    pem_encode(PEM_CERTIFICATE, &cert.to_der()?)
}

/// Certificate from PEM (one `CERTIFICATE` block).
pub fn from_pem(pem: &str) -> Result<Certificate> {
    Ok(Certificate::from_der(&crate::keys::pem_decode(
        pem,
        PEM_CERTIFICATE,
    )?)?)
}

/// Certificate from DER.
pub fn from_der(der: &[u8]) -> Result<Certificate> {
    Ok(Certificate::from_der(der)?)
}

/// All `CERTIFICATE` blocks of a PEM bundle, in order.
pub fn chain_from_pem(pem: &str) -> Result<Vec<Certificate>> {
    Ok(Certificate::load_pem_chain(pem.as_bytes())?)
}
