//! Multi-algorithm policy — **experimental, non-standard**.
//!
//! draft-19 standardises only the pairwise AND composite. Pala's IETF 106 problem statement also
//! asked for OR ("a subset suffices" during migration) and k-of-n. This module evaluates such a
//! policy over the *evidence* a peer presents, so an operator can move from "classical OR PQ" to
//! "classical AND PQ" by configuration:
//!
//! * the two components of one composite signature, verified separately
//!   ([`evidence_from_composite`]);
//! * an RFC 9763 related-certificate pair, each chain validated on its own
//!   ([`evidence_from_related_pair`]);
//! * a chameleon Base/Delta pair (draft-bonnell-lamps-chameleon-certs-05)
//!   ([`evidence_from_chameleon_pair`]).
//!
//! OR and 1-of-n policies accept a peer whose post-quantum protection is absent or broken: they
//! exist for migration and testing only. Nothing in this module changes what the standard
//! composite verification ([`crate::VerifyingKey::verify`]) accepts.

use core::fmt;

use x509_cert::Certificate;

use crate::alg::{AlgClass, Algorithm};
use crate::composite;
use crate::error::{Error, Result};
use crate::keys::{KeyKind, VerifyingKey};
use crate::validate::ValidPath;

/// One verified (or failed) signature path that a peer presented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// What this is, for messages (e.g. "composite ML-DSA-65 component").
    pub label: String,
    /// Protected by a post-quantum algorithm end to end.
    pub pq: bool,
    /// Protected by a traditional algorithm end to end.
    pub traditional: bool,
    /// Whether it verified.
    pub valid: bool,
}

/// A policy over evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Some valid evidence is post-quantum.
    Pq,
    /// Some valid evidence is traditional.
    Traditional,
    /// All sub-policies hold.
    And(Vec<Policy>),
    /// At least one sub-policy holds.
    Or(Vec<Policy>),
    /// At least `k` of the sub-policies hold.
    KOfN {
        /// Threshold.
        k: usize,
        /// Sub-policies.
        of: Vec<Policy>,
    },
    /// At least this many pieces of evidence are valid (k-of-n over whatever was presented).
    AtLeast(usize),
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, sep: &str, v: &[Policy]| {
            write!(f, "(")?;
            for (i, p) in v.iter().enumerate() {
                if i > 0 {
                    write!(f, " {sep} ")?;
                }
                write!(f, "{p}")?;
            }
            write!(f, ")")
        };
        match self {
            Policy::Pq => write!(f, "pq"),
            Policy::Traditional => write!(f, "traditional"),
            Policy::And(v) => list(f, "AND", v),
            Policy::Or(v) => list(f, "OR", v),
            Policy::KOfN { k, of } => {
                write!(f, "{k}-of-{}", of.len())?;
                list(f, ",", of)
            }
            Policy::AtLeast(k) => write!(f, "at least {k} valid"),
        }
    }
}

impl Policy {
    /// The CLI spellings: `and` (PQ AND traditional), `or` (PQ OR traditional), `pq`,
    /// `traditional`, `k-of-n:K` (at least K valid pieces of evidence).
    pub fn parse(s: &str) -> Result<Policy> {
        Ok(match s {
            "and" => Policy::And(vec![Policy::Pq, Policy::Traditional]),
            "or" => Policy::Or(vec![Policy::Pq, Policy::Traditional]),
            "pq" => Policy::Pq,
            "traditional" => Policy::Traditional,
            _ => match s.strip_prefix("k-of-n:").map(str::parse::<usize>) {
                Some(Ok(k)) if k > 0 => Policy::AtLeast(k),
                _ => {
                    return Err(Error::Policy(format!(
                        "unknown policy {s:?} (and, or, pq, traditional, k-of-n:K)"
                    )));
                }
            },
        })
    }

    /// Whether the evidence satisfies the policy.
    pub fn holds(&self, ev: &[Evidence]) -> bool {
        match self {
            Policy::Pq => ev.iter().any(|e| e.valid && e.pq),
            Policy::Traditional => ev.iter().any(|e| e.valid && e.traditional),
            Policy::And(v) => v.iter().all(|p| p.holds(ev)),
            Policy::Or(v) => v.iter().any(|p| p.holds(ev)),
            Policy::KOfN { k, of } => of.iter().filter(|p| p.holds(ev)).count() >= *k,
            Policy::AtLeast(k) => ev.iter().filter(|e| e.valid).count() >= *k,
        }
    }

    /// [`Policy::holds`] as a result whose error names the policy and the evidence.
    pub fn check(&self, ev: &[Evidence]) -> Result<()> {
        if self.holds(ev) {
            return Ok(());
        }
        let summary: Vec<String> = ev
            .iter()
            .map(|e| format!("{}: {}", e.label, if e.valid { "valid" } else { "invalid" }))
            .collect();
        Err(Error::Policy(format!(
            "experimental policy {self} not satisfied by [{}]",
            summary.join(", ")
        )))
    }
}

/// Evidence from one composite signature: its two components verified separately.
pub fn evidence_from_composite(
    key: &VerifyingKey,
    msg: &[u8],
    ctx: &[u8],
    sig: &[u8],
) -> Result<Vec<Evidence>> {
    let KeyKind::Composite(id) = key.kind() else {
        return Err(Error::Policy("not a composite key".into()));
    };
    let p = id.params();
    let (a, b) = composite::verify_components(p, key.as_bytes(), msg, ctx, sig)?;
    Ok(vec![
        Evidence {
            label: format!("{} component of {}", p.mldsa.name(), p.name),
            pq: true,
            traditional: false,
            valid: a.is_ok(),
        },
        Evidence {
            label: format!("{} component of {}", p.trad.name(), p.name),
            pq: false,
            traditional: true,
            valid: b.is_ok(),
        },
    ])
}

/// Evidence from a chain: PQ if every link is ML-DSA or composite, traditional if every link is
/// classical or composite. `path` is `Err` when the chain failed validation.
pub fn evidence_from_path(label: &str, path: &Result<ValidPath>) -> Evidence {
    match path {
        Ok(p) => {
            let classes: Vec<Option<AlgClass>> = p
                .link_algorithms
                .iter()
                .map(|a| a.map(Algorithm::class))
                .collect();
            let all = |f: fn(AlgClass) -> bool| {
                !classes.is_empty() && classes.iter().all(|c| c.is_some_and(f))
            };
            Evidence {
                label: label.to_owned(),
                pq: all(|c| matches!(c, AlgClass::PostQuantum | AlgClass::Composite)),
                traditional: all(|c| matches!(c, AlgClass::Traditional | AlgClass::Composite)),
                valid: true,
            }
        }
        Err(_) => Evidence {
            label: label.to_owned(),
            pq: false,
            traditional: false,
            valid: false,
        },
    }
}

/// Evidence from an RFC 9763 pair: `a` (validated or not) must carry a relatedCertificate
/// extension binding `b`'s end-entity certificate, or vice versa.
pub fn evidence_from_related_pair(
    a: (&Certificate, &Result<ValidPath>),
    b: (&Certificate, &Result<ValidPath>),
) -> Result<Vec<Evidence>> {
    crate::related::verify_binding(a.0, b.0)
        .or_else(|_| crate::related::verify_binding(b.0, a.0))?;
    Ok(vec![
        evidence_from_path("related certificate A", a.1),
        evidence_from_path("related certificate B", b.1),
    ])
}

/// Evidence from a chameleon pair: `delta` must be the Delta reconstructed from `base`.
pub fn evidence_from_chameleon_pair(
    base: (&Certificate, &Result<ValidPath>),
    delta: (&Certificate, &Result<ValidPath>),
) -> Result<Vec<Evidence>> {
    if crate::chameleon::reconstruct(base.0)? != *delta.0 {
        return Err(Error::Policy(
            "the Delta is not the one encoded in the Base".into(),
        ));
    }
    Ok(vec![
        evidence_from_path("chameleon Base", base.1),
        evidence_from_path("chameleon Delta", delta.1),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(pq: bool, traditional: bool, valid: bool) -> Evidence {
        Evidence {
            label: "x".into(),
            pq,
            traditional,
            valid,
        }
    }

    #[test]
    fn and_or_k_of_n() {
        let both = [ev(true, false, true), ev(false, true, true)];
        let pq_broken = [ev(true, false, false), ev(false, true, true)];
        let and = Policy::parse("and").unwrap();
        let or = Policy::parse("or").unwrap();
        assert!(and.holds(&both));
        assert!(!and.holds(&pq_broken));
        assert!(or.holds(&pq_broken));
        assert!(!or.holds(&[ev(true, false, false), ev(false, true, false)]));
        assert!(Policy::parse("k-of-n:2").unwrap().holds(&both));
        assert!(!Policy::parse("k-of-n:2").unwrap().holds(&pq_broken));
        let k = Policy::KOfN {
            k: 2,
            of: vec![Policy::Pq, Policy::Traditional, Policy::AtLeast(3)],
        };
        assert!(k.holds(&both));
        assert!(!k.holds(&pq_broken));
        assert!(Policy::parse("k-of-n:0").is_err());
        assert!(Policy::parse("xor").is_err());
        assert!(
            and.check(&pq_broken)
                .unwrap_err()
                .to_string()
                .contains("experimental")
        );
    }
}
