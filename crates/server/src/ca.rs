//! The certificate authority behind `secdispatch ca`: certificates made with
//! `secdispatch-pqpki`, state kept in the store (authorities and everything they issued
//! in the certificate database, their private keys in the key store as PKCS#8 under
//! `ca-<name>`). Revocations land in the same database the OCSP responder reads.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use der::{Decode, Encode};
use secdispatch_pqpki::ca::{self, CertificateAuthority, IssueRequest};
use secdispatch_pqpki::cert::{CertInfo, Profile, SubjectAltNames};
use secdispatch_pqpki::crl::RevokedEntry;
use secdispatch_pqpki::{Algorithm, SigningKey};
use secdispatch_store::{
    Authority, CertificateDb, IssuedCertificate, KeyStore, NewKey, Revocation, RevokeOutcome,
    Store, StoreError, serial_hex,
};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::name::Name;

/// One day.
pub const DAY: Duration = Duration::from_secs(86_400);

/// Why a CA operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Certificate or key trouble.
    #[error(transparent)]
    Pki(#[from] secdispatch_pqpki::Error),
    /// Something the caller asked for cannot be done; the message says why.
    #[error("{0}")]
    Invalid(String),
}

impl From<der::Error> for CaError {
    fn from(e: der::Error) -> Self {
        CaError::Pki(e.into())
    }
}

/// What to put in a certificate issued by [`Ca::issue`].
#[derive(Debug, Clone)]
pub struct IssueSpec {
    /// Subject DN (ignored when issuing from a CSR, which has its own).
    pub subject: Option<String>,
    /// subjectAltName entries (`DNS:`, `IP:`, `URI:`, `email:`); from a CSR, its own are used.
    pub sans: Vec<String>,
    /// Certificate profile.
    pub profile: Profile,
    /// Lifetime.
    pub days: u32,
    /// An OCSP URL for authorityInfoAccess.
    pub ocsp_url: Option<String>,
}

/// A CA backed by the store.
#[derive(Debug, Clone)]
pub struct Ca {
    store: Arc<Store>,
}

fn key_name(authority: &str) -> String {
    format!("ca-{authority}")
}

fn name(dn: &str) -> Result<Name, CaError> {
    Name::from_str(dn).map_err(|e| CaError::Invalid(format!("invalid subject {dn:?}: {e}")))
}

fn rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

fn serial_of(cert: &Certificate) -> String {
    serial_hex(cert.tbs_certificate().serial_number().as_bytes())
}

/// The positive DER serial for the canonical hex of the certificate database.
fn serial_from_hex(hex: &str) -> Result<Vec<u8>, CaError> {
    let t = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex.to_owned()
    };
    let mut b = (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(t.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| CaError::Invalid(format!("serial {hex:?} is not hex")))?;
    if b.first().is_none_or(|x| x & 0x80 != 0) {
        b.insert(0, 0);
    }
    Ok(b)
}

/// A positive DER serial for counter value `n` (big-endian, a leading zero when the high
/// bit is set).
fn sequential_serial(n: u64) -> Vec<u8> {
    let mut b: Vec<u8> = n
        .to_be_bytes()
        .iter()
        .copied()
        .skip_while(|x| *x == 0)
        .collect();
    if b.is_empty() {
        b.push(0);
    }
    if b[0] & 0x80 != 0 {
        b.insert(0, 0);
    }
    b
}

impl Ca {
    /// A CA over `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self { store }
    }

    async fn save_key(
        &self,
        authority: &str,
        key: &SigningKey,
        cert: &Certificate,
    ) -> Result<(), CaError> {
        let v = cert.tbs_certificate().validity();
        self.store
            .insert_key(NewKey {
                name: key_name(authority),
                algorithm: key.algorithm().name().to_owned(),
                material: key.to_pkcs8_der()?,
                public: key.public_key().to_spki_der()?,
                not_before: v.not_before.to_system_time(),
                not_after: v.not_after.to_system_time(),
            })
            .await?;
        Ok(())
    }

    /// The authority's certificate and private key.
    pub async fn load(
        &self,
        authority: &str,
    ) -> Result<(Authority, Certificate, SigningKey), CaError> {
        let a = self.store.authority(authority).await?.ok_or_else(|| {
            CaError::Invalid(format!(
                "no authority named {authority:?} (see `secdispatch ca list`)"
            ))
        })?;
        let cert = Certificate::from_der(&a.certificate)?;
        let versions = self.store.key_versions(&a.key_name).await?;
        let record = versions.last().ok_or_else(|| {
            CaError::Invalid(format!("the key of authority {authority:?} is missing"))
        })?;
        let key = SigningKey::from_pkcs8_der(&record.material)?;
        Ok((a, cert, key))
    }

    /// Create a self-signed root authority.
    pub async fn init_root(
        &self,
        authority: &str,
        alg: Algorithm,
        subject: &str,
        days: u32,
        sequential: bool,
        now: SystemTime,
    ) -> Result<Certificate, CaError> {
        if self.store.authority(authority).await?.is_some() {
            return Err(CaError::Invalid(format!(
                "authority {authority:?} already exists"
            )));
        }
        let mut rng = rng();
        let key = SigningKey::generate(alg, &mut rng)?;
        let cert = ca::self_signed_root(
            &key,
            name(subject)?,
            now,
            now + DAY * days,
            None,
            None,
            &mut rng,
        )?;
        self.save_key(authority, &key, &cert).await?;
        self.store
            .insert_authority(Authority {
                name: authority.to_owned(),
                parent: None,
                certificate: cert.to_der()?,
                key_name: key_name(authority),
                sequential,
            })
            .await?;
        Ok(cert)
    }

    /// Create an intermediate authority under `parent`.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_intermediate(
        &self,
        parent: &str,
        authority: &str,
        alg: Algorithm,
        subject: &str,
        days: u32,
        path_len: Option<u8>,
        sequential: bool,
        now: SystemTime,
    ) -> Result<Certificate, CaError> {
        if self.store.authority(authority).await?.is_some() {
            return Err(CaError::Invalid(format!(
                "authority {authority:?} already exists"
            )));
        }
        let mut rng = rng();
        let key = SigningKey::generate(alg, &mut rng)?;
        let req = IssueRequest::new(
            name(subject)?,
            key.public_key(),
            Profile::Intermediate { path_len },
            now,
            now + DAY * days,
        )?;
        let cert = self.issue_request(parent, req, "intermediate", now).await?;
        self.save_key(authority, &key, &cert).await?;
        self.store
            .insert_authority(Authority {
                name: authority.to_owned(),
                parent: Some(parent.to_owned()),
                certificate: cert.to_der()?,
                key_name: key_name(authority),
                sequential,
            })
            .await?;
        Ok(cert)
    }

    async fn issue_request(
        &self,
        authority: &str,
        mut req: IssueRequest,
        profile: &str,
        now: SystemTime,
    ) -> Result<Certificate, CaError> {
        let (a, cert, key) = self.load(authority).await?;
        // Never outlive the issuer.
        let ca_end = cert.tbs_certificate().validity().not_after.to_system_time();
        if req.not_after > ca_end {
            req.not_after = ca_end;
        }
        if a.sequential {
            req.serial = Some(sequential_serial(self.store.take_serial(authority).await?));
        }
        let issuer = CertificateAuthority::new(cert, &key)?;
        let issued = issuer.issue(&req, &mut rng())?;
        self.record(authority, &issued, profile, now).await?;
        Ok(issued)
    }

    async fn record(
        &self,
        authority: &str,
        cert: &Certificate,
        profile: &str,
        now: SystemTime,
    ) -> Result<(), CaError> {
        let v = cert.tbs_certificate().validity();
        self.store
            .insert_certificate(IssuedCertificate {
                authority: authority.to_owned(),
                serial: serial_of(cert),
                subject: cert.tbs_certificate().subject().to_string(),
                profile: profile.to_owned(),
                not_before: v.not_before.to_system_time(),
                not_after: v.not_after.to_system_time(),
                der: cert.to_der()?,
                issued_at: now,
                revocation: None,
                updated_at: now,
            })
            .await?;
        Ok(())
    }

    /// Issue an end-entity certificate for `public_key`.
    pub async fn issue(
        &self,
        authority: &str,
        public_key: &secdispatch_pqpki::VerifyingKey,
        spec: &IssueSpec,
        now: SystemTime,
    ) -> Result<Certificate, CaError> {
        let subject = spec
            .subject
            .as_deref()
            .ok_or_else(|| CaError::Invalid("a subject is required".into()))?;
        let mut req = IssueRequest::new(
            name(subject)?,
            public_key,
            spec.profile,
            now,
            now + DAY * spec.days,
        )?;
        req.sans = SubjectAltNames::parse(spec.sans.iter().map(String::as_str))?;
        req.ocsp_url = spec.ocsp_url.clone();
        self.issue_request(authority, req, profile_name(spec.profile), now)
            .await
    }

    /// Issue from a PKCS#10 request (its subject, key and SANs; the CA decides the rest).
    pub async fn issue_csr(
        &self,
        authority: &str,
        csr: &x509_cert::request::CertReq,
        spec: &IssueSpec,
        now: SystemTime,
    ) -> Result<Certificate, CaError> {
        secdispatch_pqpki::csr::verify(csr)?;
        let mut req = IssueRequest {
            subject: csr.info.subject.clone(),
            public_key: csr.info.public_key.clone(),
            profile: spec.profile,
            sans: secdispatch_pqpki::csr::requested_sans(csr)?,
            not_before: now,
            not_after: now + DAY * spec.days,
            serial: None,
            ocsp_url: spec.ocsp_url.clone(),
            extra_extensions: Vec::new(),
        };
        if !spec.sans.is_empty() {
            req.sans = SubjectAltNames::parse(spec.sans.iter().map(String::as_str))?;
        }
        self.issue_request(authority, req, profile_name(spec.profile), now)
            .await
    }

    /// Revoke a certificate. Without `authority`, the serial is looked up in every one.
    pub async fn revoke(
        &self,
        authority: Option<&str>,
        serial: &str,
        reason: Option<&str>,
        at: SystemTime,
    ) -> Result<(String, RevokeOutcome), CaError> {
        if let Some(r) = reason {
            secdispatch_pqpki::crl::reason_from_name(r)?;
        }
        let names: Vec<String> = match authority {
            Some(a) => vec![a.to_owned()],
            None => self
                .store
                .authorities()
                .await?
                .into_iter()
                .map(|a| a.name)
                .collect(),
        };
        let mut found = Vec::new();
        for n in &names {
            if self.store.certificate(n, serial).await?.is_some() {
                found.push(n.clone());
            }
        }
        let authority = match found.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(CaError::Invalid(format!(
                    "no certificate with serial {serial}"
                )));
            }
            _ => {
                return Err(CaError::Invalid(format!(
                    "serial {serial} exists under {}: name the authority with --ca",
                    found.join(", ")
                )));
            }
        };
        let outcome = self
            .store
            .revoke(
                &authority,
                serial,
                Revocation {
                    at,
                    reason: reason.map(str::to_owned),
                },
            )
            .await?;
        Ok((authority, outcome))
    }

    /// A CRL of `authority`, valid for `days`.
    pub async fn crl(
        &self,
        authority: &str,
        days: u32,
        now: SystemTime,
    ) -> Result<CertificateList, CaError> {
        let (_, cert, key) = self.load(authority).await?;
        let mut entries = Vec::new();
        for c in self.store.certificates(authority).await? {
            if let Some(r) = c.revocation {
                // Records imported from an OpenSSL index.txt have no DER: their serial is
                // the canonical hex of the database.
                let serial = if c.der.is_empty() {
                    serial_from_hex(&c.serial)?
                } else {
                    Certificate::from_der(&c.der)?
                        .tbs_certificate()
                        .serial_number()
                        .as_bytes()
                        .to_vec()
                };
                let reason = r
                    .reason
                    .as_deref()
                    .map(secdispatch_pqpki::crl::reason_from_name)
                    .transpose()?;
                entries.push(RevokedEntry {
                    serial,
                    revoked_at: r.at,
                    reason,
                });
            }
        }
        let number = self.store.take_crl_number(authority).await?;
        let issuer = CertificateAuthority::new(cert, &key)?;
        Ok(issuer.crl(&entries, now, Some(now + DAY * days), number, &mut rng())?)
    }

    /// The chain of `authority` up to its root: its certificate first.
    pub async fn chain(&self, authority: &str) -> Result<Vec<Certificate>, CaError> {
        let mut out = Vec::new();
        let mut next = Some(authority.to_owned());
        while let Some(n) = next {
            let a = self
                .store
                .authority(&n)
                .await?
                .ok_or_else(|| CaError::Invalid(format!("no authority {n:?}")))?;
            out.push(Certificate::from_der(&a.certificate)?);
            next = a.parent;
            if out.len() > 8 {
                return Err(CaError::Invalid("authority chain longer than 8".into()));
            }
        }
        Ok(out)
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

/// The profile's CLI name.
pub fn profile_name(p: Profile) -> &'static str {
    match p {
        Profile::Root { .. } => "root",
        Profile::Intermediate { .. } => "intermediate",
        Profile::Server => "server",
        Profile::Client => "client",
        Profile::ServerClient => "server-client",
        Profile::OcspSigning => "ocsp",
    }
}

/// Whether `cert` is a CA certificate.
pub fn is_ca(cert: &Certificate) -> bool {
    CertInfo::new(cert)
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|b| b.ca)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_serials_are_positive_der_integers() {
        assert_eq!(sequential_serial(1), vec![1]);
        assert_eq!(sequential_serial(0x80), vec![0, 0x80]);
        assert_eq!(sequential_serial(0x1234), vec![0x12, 0x34]);
        assert_eq!(sequential_serial(0), vec![0]);
        assert_eq!(serial_from_hex("8f01").unwrap(), vec![0, 0x8f, 1]);
        assert_eq!(serial_from_hex("1002").unwrap(), vec![0x10, 2]);
        assert!(serial_from_hex("xy").is_err());
    }
}
