//! Chain validation (the RFC 5280 §6 subset that matters in practice).

use const_oid::ObjectIdentifier;

/// Why one link of a chain failed; carried in [`crate::Error::Chain`] with the link's index and
/// subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainFailure {
    /// The certificate's signature does not verify with its issuer's key.
    #[error("signature does not verify with the issuer's key: {0}")]
    BadSignature(String),
    /// The validation time is before notBefore.
    #[error("not yet valid (notBefore {0})")]
    NotYetValid(String),
    /// The validation time is after notAfter.
    #[error("expired (notAfter {0})")]
    Expired(String),
    /// The issuer name does not equal the next certificate's subject.
    #[error("issuer {issuer} does not match the subject {expected} of the next certificate")]
    IssuerMismatch {
        /// This certificate's issuer.
        issuer: String,
        /// The subject it should have matched.
        expected: String,
    },
    /// The issuing certificate is not a CA (basicConstraints cA absent or FALSE).
    #[error("issuer is not a CA (basicConstraints cA is not TRUE)")]
    NotCa,
    /// A CA's pathLenConstraint is exceeded.
    #[error(
        "pathLenConstraint {path_len} exceeded: {below} intermediate CA certificate(s) follow it"
    )]
    PathLenExceeded {
        /// The constraint.
        path_len: u8,
        /// Non-self-issued intermediates below.
        below: usize,
    },
    /// keyUsage does not permit what the certificate is used for, or is inconsistent with the key.
    #[error("keyUsage: {0}")]
    KeyUsage(String),
    /// extendedKeyUsage lacks the purpose asked for.
    #[error("extendedKeyUsage does not include {0}")]
    ExtendedKeyUsage(ObjectIdentifier),
    /// No subjectAltName matches the host name.
    #[error("no subjectAltName matches host {0:?}")]
    HostMismatch(String),
    /// The certificate is revoked by a CRL.
    #[error("revoked (serial {serial}, reason {reason})")]
    Revoked {
        /// Serial number, hex.
        serial: String,
        /// CRL reason code name.
        reason: String,
    },
    /// A CRL for this certificate's issuer could not be used.
    #[error("CRL: {0}")]
    Crl(String),
    /// An unrecognised critical extension.
    #[error("unrecognised critical extension {0}")]
    UnknownCriticalExtension(ObjectIdentifier),
    /// The chain does not end at a configured trust anchor.
    #[error("no trust anchor issued or equals this certificate")]
    NoTrustAnchor,
    /// The certificate is structurally unusable (bad extension encoding, unsupported key).
    #[error("malformed: {0}")]
    Malformed(String),
}

use std::net::IpAddr;
use std::time::SystemTime;

use der::Encode;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::KeyUsages;

use crate::alg::Algorithm;
use crate::cert::CertInfo;
use crate::error::{Error, Result};
use crate::keys::{KeyKind, VerifyingKey};
use crate::oid;

/// Extensions this validator understands; any other critical extension fails validation.
const KNOWN_EXTENSIONS: [&str; 10] = [
    "2.5.29.19",          // basicConstraints
    "2.5.29.15",          // keyUsage
    "2.5.29.37",          // extKeyUsage
    "2.5.29.17",          // subjectAltName
    "2.5.29.14",          // subjectKeyIdentifier
    "2.5.29.35",          // authorityKeyIdentifier
    "1.3.6.1.5.5.7.1.1",  // authorityInfoAccess
    "2.5.29.31",          // cRLDistributionPoints
    "2.5.29.32",          // certificatePolicies
    "1.3.6.1.5.5.7.1.36", // relatedCertificate (RFC 9763)
];

/// What to check besides signatures, names and basic constraints.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// The time at which the chain must be valid (sans-I/O: the caller's clock).
    pub time: SystemTime,
    /// A host name or IP address that a subjectAltName of the end entity must match.
    pub host: Option<&'a str>,
    /// An extended key usage the end entity must allow (absent EKU allows any).
    pub eku: Option<const_oid::ObjectIdentifier>,
    /// CRLs to check every non-anchor certificate against.
    pub crls: &'a [CertificateList],
    /// Fail when no CRL from a certificate's issuer is supplied.
    pub require_crl: bool,
    /// Maximum number of certificates in a path, anchor included.
    pub max_depth: usize,
}

impl<'a> Options<'a> {
    /// Validation at `time` with no host, EKU or CRL requirements and a depth limit of 8.
    pub fn at(time: SystemTime) -> Options<'a> {
        Options {
            time,
            host: None,
            eku: None,
            crls: &[],
            require_crl: false,
            max_depth: 8,
        }
    }
}

/// A validated path, end entity first, trust anchor last.
#[derive(Clone, Debug)]
pub struct ValidPath {
    /// The certificates, end entity first, trust anchor last.
    pub chain: Vec<Certificate>,
    /// The signature algorithm of each non-anchor link (the issuer's key algorithm).
    pub link_algorithms: Vec<Option<Algorithm>>,
}

fn subject_of(c: &Certificate) -> String {
    c.tbs_certificate().subject().to_string()
}

fn fail(index: usize, c: &Certificate, reason: ChainFailure) -> Error {
    Error::Chain {
        index,
        subject: subject_of(c),
        reason,
    }
}

fn malformed(index: usize, c: &Certificate) -> impl Fn(Error) -> Error + '_ {
    move |e| fail(index, c, ChainFailure::Malformed(e.to_string()))
}

fn key_of(c: &Certificate) -> Result<VerifyingKey> {
    VerifyingKey::from_spki_der(&c.tbs_certificate().subject_public_key_info().to_der()?)
}

fn same_cert(a: &Certificate, b: &Certificate) -> bool {
    a == b
}

/// Could `issuer` have issued `child` (names equal, key identifiers compatible)?
fn may_issue(issuer: &Certificate, child: &Certificate) -> bool {
    if issuer.tbs_certificate().subject() != child.tbs_certificate().issuer() {
        return false;
    }
    let aki = CertInfo::new(child).authority_key_id().ok().flatten();
    let ski = CertInfo::new(issuer).subject_key_id().ok().flatten();
    match (aki, ski) {
        (Some(a), Some(s)) => a == s,
        _ => true,
    }
}

fn verify_link(
    index: usize,
    child: &Certificate,
    issuer: &Certificate,
) -> Result<Option<Algorithm>> {
    let key = key_of(issuer).map_err(malformed(index + 1, issuer))?;
    if child.tbs_certificate().signature() != child.signature_algorithm() {
        return Err(fail(
            index,
            child,
            ChainFailure::Malformed(
                "TBSCertificate signature differs from signatureAlgorithm".into(),
            ),
        ));
    }
    let tbs = child
        .tbs_certificate()
        .to_der()
        .map_err(|e| malformed(index, child)(e.into()))?;
    let sig = child.signature().as_bytes().ok_or_else(|| {
        fail(
            index,
            child,
            ChainFailure::Malformed("signature BIT STRING has unused bits".into()),
        )
    })?;
    key.verify_x509(child.signature_algorithm(), &tbs, sig)
        .map_err(|e| fail(index, child, ChainFailure::BadSignature(e.to_string())))?;
    Ok(key.algorithm_for(child.signature_algorithm()))
}

fn check_time(index: usize, c: &Certificate, t: SystemTime) -> Result<()> {
    let v = c.tbs_certificate().validity();
    if t < v.not_before.to_system_time() {
        return Err(fail(
            index,
            c,
            ChainFailure::NotYetValid(v.not_before.to_string()),
        ));
    }
    if t > v.not_after.to_system_time() {
        return Err(fail(
            index,
            c,
            ChainFailure::Expired(v.not_after.to_string()),
        ));
    }
    Ok(())
}

fn check_extensions(index: usize, c: &Certificate) -> Result<()> {
    for (o, critical) in CertInfo::new(c).extension_oids() {
        if critical && !KNOWN_EXTENSIONS.iter().any(|k| o.to_string() == *k) {
            return Err(fail(index, c, ChainFailure::UnknownCriticalExtension(o)));
        }
    }
    Ok(())
}

/// draft-19 §5.4 / RFC 9881 §5: a signature-only key's keyUsage must not allow encryption or
/// key agreement. Applied to every key of the path.
fn check_signature_key_usage(index: usize, c: &Certificate) -> Result<()> {
    let info = CertInfo::new(c);
    let Some(ku) = info.key_usage().map_err(malformed(index, c))? else {
        return Ok(());
    };
    let kind = key_of(c).map_err(malformed(index, c))?.kind();
    let signature_only = matches!(
        kind,
        KeyKind::MlDsa(_) | KeyKind::Composite(_) | KeyKind::Ed25519 | KeyKind::Ed448
    );
    if signature_only {
        let forbidden = KeyUsages::KeyEncipherment
            | KeyUsages::DataEncipherment
            | KeyUsages::KeyAgreement
            | KeyUsages::EncipherOnly
            | KeyUsages::DecipherOnly;
        if !(ku.0 & forbidden).is_empty() {
            return Err(fail(
                index,
                c,
                ChainFailure::KeyUsage(format!(
                    "{kind:?} is a signature-only key but keyUsage allows encryption or key agreement"
                )),
            ));
        }
        let required = KeyUsages::DigitalSignature
            | KeyUsages::NonRepudiation
            | KeyUsages::KeyCertSign
            | KeyUsages::CRLSign;
        if (ku.0 & required).is_empty() {
            return Err(fail(
                index,
                c,
                ChainFailure::KeyUsage("no signature usage bit is set".into()),
            ));
        }
    }
    Ok(())
}

/// RFC 6125 §6.4 host matching against one dNSName: case-insensitive, a wildcard only as the
/// whole left-most label, matching exactly one label, and never directly under a single label
/// (`*.com` is refused).
pub fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    if p.is_empty() || h.is_empty() {
        return false;
    }
    match p.strip_prefix("*.") {
        Some(rest) => {
            if rest.contains('*') || !rest.contains('.') {
                return false;
            }
            match h.split_once('.') {
                Some((first, h_rest)) => !first.is_empty() && h_rest == rest,
                None => false,
            }
        }
        None => !p.contains('*') && p == h,
    }
}

fn check_host(c: &Certificate, host: &str) -> Result<()> {
    let sans = CertInfo::new(c)
        .subject_alt_names()
        .map_err(malformed(0, c))?
        .unwrap_or_default();
    let ok = match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(ip) => sans.ips.contains(&ip),
        Err(_) => sans.dns.iter().any(|p| dns_name_matches(p, host)),
    };
    if ok {
        Ok(())
    } else {
        Err(fail(0, c, ChainFailure::HostMismatch(host.to_owned())))
    }
}

fn check_revocation(
    index: usize,
    c: &Certificate,
    issuer: &Certificate,
    opts: &Options<'_>,
) -> Result<()> {
    let mut found = false;
    for crl in opts.crls {
        if crl.tbs_cert_list.issuer != *issuer.tbs_certificate().subject() {
            continue;
        }
        found = true;
        crate::crl::verify(crl, issuer, opts.time)
            .map_err(|e| fail(index, c, ChainFailure::Crl(e.to_string())))?;
        if let Some(reason) = crate::crl::lookup(crl, c.tbs_certificate().serial_number())
            .map_err(|e| fail(index, c, ChainFailure::Crl(e.to_string())))?
        {
            return Err(fail(
                index,
                c,
                ChainFailure::Revoked {
                    serial: c.tbs_certificate().serial_number().to_string(),
                    reason: crate::crl::reason_name(reason).to_owned(),
                },
            ));
        }
    }
    if !found && opts.require_crl {
        return Err(fail(
            index,
            c,
            ChainFailure::Crl(format!(
                "no CRL from issuer {} was supplied",
                issuer.tbs_certificate().subject()
            )),
        ));
    }
    Ok(())
}

fn is_self_issued(c: &Certificate) -> bool {
    c.tbs_certificate().subject() == c.tbs_certificate().issuer()
}

/// Validate `end_entity` up to one of `anchors`, using `intermediates` (any order) to build the
/// path. Checks, for every link: the signature with any supported algorithm (composites
/// included), validity at `opts.time`, issuer/subject name chaining (with key identifiers when
/// both present), that the issuer is a CA with keyCertSign, pathLenConstraint, signature-only
/// keyUsage rules for PQ keys, unknown critical extensions and CRLs; for the end entity the host
/// name and EKU when asked.
pub fn validate_chain(
    end_entity: &Certificate,
    intermediates: &[Certificate],
    anchors: &[Certificate],
    opts: &Options<'_>,
) -> Result<ValidPath> {
    // 1. Path building: follow issuer names, preferring a trust anchor at each step.
    let mut chain: Vec<Certificate> = vec![end_entity.clone()];
    let anchor_found = loop {
        let Some(current) = chain.last() else {
            return Err(fail(0, end_entity, ChainFailure::NoTrustAnchor));
        };
        if anchors.iter().any(|a| same_cert(a, current)) {
            break true;
        }
        if let Some(a) = anchors.iter().find(|a| may_issue(a, current)) {
            chain.push(a.clone());
            break true;
        }
        if chain.len() >= opts.max_depth {
            break false;
        }
        match intermediates
            .iter()
            .find(|i| may_issue(i, current) && !chain.iter().any(|c| same_cert(c, i)))
        {
            Some(i) => chain.push(i.clone()),
            None => break false,
        }
    };
    if !anchor_found {
        let last = chain.len() - 1;
        let c = &chain[last];
        // Name the mismatch precisely when the caller supplied a next certificate.
        if let Some(next) = intermediates
            .iter()
            .chain(anchors.iter())
            .find(|x| !chain.iter().any(|y| same_cert(x, y)))
        {
            return Err(fail(
                last,
                c,
                ChainFailure::IssuerMismatch {
                    issuer: c.tbs_certificate().issuer().to_string(),
                    expected: next.tbs_certificate().subject().to_string(),
                },
            ));
        }
        return Err(fail(last, c, ChainFailure::NoTrustAnchor));
    }

    // 2. Per-certificate checks.
    let n = chain.len();
    let mut link_algorithms = Vec::with_capacity(n.saturating_sub(1));
    for (i, c) in chain.iter().enumerate() {
        check_time(i, c, opts.time)?;
        check_extensions(i, c)?;
        check_signature_key_usage(i, c)?;
        if i + 1 < n {
            let issuer = &chain[i + 1];
            link_algorithms.push(verify_link(i, c, issuer)?);
            let info = CertInfo::new(issuer);
            let bc = info.basic_constraints().map_err(malformed(i + 1, issuer))?;
            if !bc.as_ref().is_some_and(|b| b.ca) {
                return Err(fail(i + 1, issuer, ChainFailure::NotCa));
            }
            if let Some(ku) = info.key_usage().map_err(malformed(i + 1, issuer))?
                && !ku.key_cert_sign()
            {
                return Err(fail(
                    i + 1,
                    issuer,
                    ChainFailure::KeyUsage("issuer keyUsage lacks keyCertSign".into()),
                ));
            }
            // pathLenConstraint: count non-self-issued CA certificates strictly between the
            // issuer and the end entity.
            if let Some(p) = bc.and_then(|b| b.path_len_constraint) {
                let below = chain[1..=i].iter().filter(|x| !is_self_issued(x)).count();
                if below > usize::from(p) {
                    return Err(fail(
                        i + 1,
                        issuer,
                        ChainFailure::PathLenExceeded { path_len: p, below },
                    ));
                }
            }
            check_revocation(i, c, issuer, opts)?;
        }
    }

    // 3. End-entity purpose.
    let ee = &chain[0];
    let info = CertInfo::new(ee);
    if n > 1
        && let Some(ku) = info.key_usage().map_err(malformed(0, ee))?
        && !ku.digital_signature()
    {
        return Err(fail(
            0,
            ee,
            ChainFailure::KeyUsage("end entity lacks digitalSignature".into()),
        ));
    }
    if let Some(want) = opts.eku
        && let Some(eku) = info.extended_key_usage().map_err(malformed(0, ee))?
        && !eku
            .0
            .iter()
            .any(|o| *o == want || *o == oid::ANY_EXTENDED_KEY_USAGE)
    {
        return Err(fail(0, ee, ChainFailure::ExtendedKeyUsage(want)));
    }
    if let Some(host) = opts.host {
        check_host(ee, host)?;
    }
    Ok(ValidPath {
        chain,
        link_algorithms,
    })
}

#[cfg(test)]
mod tests {
    use super::dns_name_matches as m;

    #[test]
    fn wildcard_rules() {
        assert!(m("example.com", "EXAMPLE.com."));
        assert!(m("*.example.com", "a.example.com"));
        assert!(!m("*.example.com", "example.com"));
        assert!(!m("*.example.com", "a.b.example.com"));
        assert!(!m("*.com", "example.com"));
        assert!(!m("a*.example.com", "ab.example.com"));
        assert!(!m("*.*.example.com", "a.b.example.com"));
        assert!(!m("", ""));
        assert!(!m("example.com", "example.org"));
    }
}
