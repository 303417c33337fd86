//! Human-readable summaries of keys and certificates (what `secdispatch pki inspect` prints):
//! algorithm names, OIDs, component sizes, extensions.

use core::fmt::Write;

use der::Encode;
use x509_cert::Certificate;

use crate::alg::AlgClass;
use crate::cert::CertInfo;
use crate::chameleon;
use crate::error::Result;
use crate::keys::{KeyKind, VerifyingKey};

/// A public key summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySummary {
    /// Algorithm name (for classical keys from SPKI, the conventional one), or the key kind.
    pub algorithm: String,
    /// SPKI algorithm OID.
    pub oid: String,
    /// Post-quantum, traditional or composite.
    pub class: Option<AlgClass>,
    /// Public key length in bytes.
    pub public_key_len: usize,
    /// For composites: (component name, component public key length).
    pub components: Vec<(&'static str, usize)>,
}

/// Summarise a public key.
pub fn key(k: &VerifyingKey) -> Result<KeySummary> {
    let components = match (k.kind(), k.composite_components()) {
        (KeyKind::Composite(id), Some((a, b))) => {
            let p = id.params();
            vec![(p.mldsa.name(), a.len()), (p.trad.name(), b.len())]
        }
        _ => Vec::new(),
    };
    Ok(KeySummary {
        algorithm: k
            .algorithm()
            .map(|a| a.name().to_owned())
            .unwrap_or_else(|| format!("{:?}", k.kind())),
        oid: k.spki_algorithm()?.oid.to_string(),
        class: k.algorithm().map(|a| a.class()),
        public_key_len: k.as_bytes().len(),
        components,
    })
}

/// A multi-line description of a certificate.
pub fn certificate(c: &Certificate) -> Result<String> {
    let tbs = c.tbs_certificate();
    let info = CertInfo::new(c);
    let k = info.public_key()?;
    let ks = key(&k)?;
    let mut s = String::new();
    let sig_alg = k
        .algorithm_for(c.signature_algorithm())
        .map(|a| a.name())
        .unwrap_or("?");
    // Writing to a String cannot fail.
    let _ = writeln!(s, "subject:     {}", tbs.subject());
    let _ = writeln!(s, "issuer:      {}", tbs.issuer());
    let _ = writeln!(s, "serial:      {}", tbs.serial_number());
    let _ = writeln!(s, "not before:  {}", tbs.validity().not_before);
    let _ = writeln!(s, "not after:   {}", tbs.validity().not_after);
    let _ = writeln!(
        s,
        "key:         {} ({}), {} bytes",
        ks.algorithm, ks.oid, ks.public_key_len
    );
    for (n, l) in &ks.components {
        let _ = writeln!(s, "  component: {n}, {l} bytes");
    }
    let issuer_alg = crate::alg::Algorithm::from_pq_oid(&c.signature_algorithm().oid)
        .map(|a| a.name().to_owned())
        .unwrap_or_else(|_| sig_alg.to_owned());
    let _ = writeln!(
        s,
        "signature:   {} ({}), {} bytes",
        issuer_alg,
        c.signature_algorithm().oid,
        c.signature().raw_bytes().len()
    );
    let _ = writeln!(s, "size:        {} bytes DER", c.to_der()?.len());
    for (oid, critical) in info.extension_oids() {
        let name = const_oid::db::DB.by_oid(&oid).unwrap_or("unknown");
        let _ = writeln!(
            s,
            "extension:   {name} ({oid}){}",
            if critical { ", critical" } else { "" }
        );
    }
    if let Some(sans) = info.subject_alt_names()? {
        for d in &sans.dns {
            let _ = writeln!(s, "  DNS:       {d}");
        }
        for i in &sans.ips {
            let _ = writeln!(s, "  IP:        {i}");
        }
        for u in &sans.uris {
            let _ = writeln!(s, "  URI:       {u}");
        }
        for e in &sans.emails {
            let _ = writeln!(s, "  email:     {e}");
        }
    }
    if chameleon::descriptor(c)?.is_some() {
        let _ = writeln!(
            s,
            "chameleon:   carries a Delta certificate (experimental, draft-bonnell-lamps-chameleon-certs-05)"
        );
    }
    Ok(s)
}
