//! **Experimental** OCSPv2 range responses (draft-pala-ocsp-range-responses, with the fixes of
//! notes §5): the `OCSPRange` singleExtension and the range table / pre-signing planner for
//! issuers with sequential serials.
//!
//! The planner walks the issued serial range and the sorted revocation list and yields good
//! ranges that cover **only issued serials** (a never-issued serial is never inside a good
//! range) plus one per-serial response for each revoked serial. R non-adjacent revocations
//! strictly inside the issued range give R+1 good ranges and R revoked responses, i.e. 2R+1
//! signatures instead of one per issued certificate (the draft's "about 1,002" for 10M / 1,000
//! counts only the R+1 range responses plus one).

use std::ops::RangeInclusive;

use der::asn1::Int;
use der::{Decode, Encode, Sequence};
use x509_cert::ext::Extension;

use crate::error::{Error, Result};
use crate::ext::extension;
use crate::oid;
use crate::types::{magnitude_to_u64, serial_from_u64, serial_magnitude};

/// Wire form (IMPLICIT TAGS): `OCSPRange ::= SEQUENCE { startCertID [0] INTEGER, endCertID [1] INTEGER OPTIONAL }`.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
struct OcspRangeAsn1 {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    start_cert_id: Int,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    end_cert_id: Option<Int>,
}

/// An inclusive serial range; `end: None` is unbounded (we never produce that for `good`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OcspRange {
    /// First serial covered.
    pub start: u64,
    /// Last serial covered, inclusive.
    pub end: Option<u64>,
}

impl OcspRange {
    /// The bounded range `r`.
    pub fn new(r: RangeInclusive<u64>) -> OcspRange {
        OcspRange {
            start: *r.start(),
            end: Some(*r.end()),
        }
    }

    /// Whether `serial` is inside.
    pub fn contains(&self, serial: u64) -> bool {
        self.start <= serial && self.end.is_none_or(|e| serial <= e)
    }

    /// DER (`30 xx 80 len start [81 len end]`).
    pub fn to_der(&self) -> Result<Vec<u8>> {
        Ok(OcspRangeAsn1 {
            start_cert_id: serial_from_u64(self.start)?,
            end_cert_id: self.end.map(serial_from_u64).transpose()?,
        }
        .to_der()?)
    }

    /// Parse the DER (bounds must be non-negative, fit in 64 bits, start ≤ end).
    pub fn from_der(der: &[u8]) -> Result<OcspRange> {
        let a = OcspRangeAsn1::from_der(der)?;
        let conv = |i: &Int| {
            serial_magnitude(i)
                .and_then(magnitude_to_u64)
                .ok_or(Error::Invalid(
                    "OCSPRange bound negative or wider than 64 bits",
                ))
        };
        let start = conv(&a.start_cert_id)?;
        let end = a.end_cert_id.as_ref().map(conv).transpose()?;
        if end.is_some_and(|e| e < start) {
            return Err(Error::Invalid("OCSPRange end before start"));
        }
        Ok(OcspRange { start, end })
    }

    /// Parse an extension's extnValue.
    pub fn from_extn_value(v: &[u8]) -> Result<OcspRange> {
        OcspRange::from_der(v)
    }

    /// The non-critical singleExtension id-ocsp-range carrying this range.
    pub fn to_extension(&self) -> Result<Extension> {
        extension(oid::OCSP_RANGE, false, &self.to_der()?)
    }
}

/// Where a serial stands in a [`RangeTable`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Not revoked; the good range (of issued serials) holding it.
    Good(RangeInclusive<u64>),
    /// Revoked: answer with its own per-serial response.
    Revoked,
    /// Never issued: never answer `good` (unauthorized / unknown / extended revoke).
    NotIssued,
}

/// The signed objects needed for one issuer in range mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangePlan {
    /// Good ranges, ascending, each covering issued serials only.
    pub good: Vec<RangeInclusive<u64>>,
    /// Revoked serials, ascending: one per-serial response each.
    pub revoked: Vec<u64>,
}

impl RangePlan {
    /// Signatures needed: one per good range and one per revoked serial.
    pub fn signatures(&self) -> usize {
        self.good.len() + self.revoked.len()
    }
}

/// What [`RangeTable::revoke`] changed: the good range to withdraw (purge its cached response),
/// the ranges to sign in its place, and the serial that now needs its own revoked response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeSplit {
    /// Range no longer valid.
    pub removed: RangeInclusive<u64>,
    /// Ranges replacing it (0, 1 or 2).
    pub added: Vec<RangeInclusive<u64>>,
    /// The newly revoked serial.
    pub revoked: u64,
}

/// The range table of one sequential-serial issuer: issued serials `first..=last`, revoked
/// serials, and the good ranges between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeTable {
    issued: Option<(u64, u64)>,
    good: Vec<(u64, u64)>,
    revoked: Vec<u64>,
}

impl RangeTable {
    /// A table for issued serials `issued` (empty range = nothing issued yet) and the revoked
    /// serials `revoked` (ascending, no duplicates, all issued).
    pub fn new(issued: RangeInclusive<u64>, revoked: &[u64]) -> Result<RangeTable> {
        let issued = (!issued.is_empty()).then(|| (*issued.start(), *issued.end()));
        if revoked.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::Invalid(
                "revoked serials must be ascending without duplicates",
            ));
        }
        let mut good = Vec::with_capacity(revoked.len() + 1);
        if let Some((first, last)) = issued {
            if revoked.iter().any(|r| *r < first || *r > last) {
                return Err(Error::Invalid("revoked serial outside the issued range"));
            }
            // `cursor` = first serial not yet placed; None once past u64::MAX.
            let mut cursor = Some(first);
            for &r in revoked {
                if let Some(c) = cursor
                    && r > c
                {
                    good.push((c, r - 1));
                }
                cursor = r.checked_add(1);
            }
            if let Some(c) = cursor
                && c <= last
            {
                good.push((c, last));
            }
        } else if !revoked.is_empty() {
            return Err(Error::Invalid("revoked serials but nothing issued"));
        }
        Ok(RangeTable {
            issued,
            good,
            revoked: revoked.to_vec(),
        })
    }

    /// The issued serials.
    pub fn issued(&self) -> Option<RangeInclusive<u64>> {
        self.issued.map(|(a, b)| a..=b)
    }

    /// Where `serial` stands.
    pub fn lookup(&self, serial: u64) -> Coverage {
        match self.issued {
            Some((a, b)) if (a..=b).contains(&serial) => {}
            _ => return Coverage::NotIssued,
        }
        if self.revoked.binary_search(&serial).is_ok() {
            return Coverage::Revoked;
        }
        let i = self.good.partition_point(|g| g.1 < serial);
        match self.good.get(i) {
            Some(&(s, e)) if s <= serial && serial <= e => Coverage::Good(s..=e),
            _ => Coverage::NotIssued,
        }
    }

    /// Revoke `serial`: split the good range holding it. `Ok(None)` if it already was revoked;
    /// an error if it was never issued.
    pub fn revoke(&mut self, serial: u64) -> Result<Option<RangeSplit>> {
        let (s, e) = match self.lookup(serial) {
            Coverage::Revoked => return Ok(None),
            Coverage::NotIssued => return Err(Error::Invalid("serial was never issued")),
            Coverage::Good(r) => (*r.start(), *r.end()),
        };
        let i = self.good.partition_point(|g| g.1 < serial);
        let mut added = Vec::with_capacity(2);
        if serial > s {
            added.push((s, serial - 1));
        }
        if serial < e {
            added.push((serial + 1, e));
        }
        self.good.splice(i..=i, added.iter().copied());
        let j = self.revoked.partition_point(|r| *r < serial);
        self.revoked.insert(j, serial);
        Ok(Some(RangeSplit {
            removed: s..=e,
            added: added.into_iter().map(|(a, b)| a..=b).collect(),
            revoked: serial,
        }))
    }

    /// Record issuance up to `new_last` (sequential): returns the new good range to sign
    /// (existing signed ranges stay valid), or `None` if nothing new was issued.
    pub fn extend_issued(&mut self, new_last: u64) -> Option<RangeInclusive<u64>> {
        let from = match self.issued {
            None => 1,
            Some((_, last)) if new_last <= last => return None,
            Some((_, last)) => last + 1,
        };
        if new_last < from {
            return None;
        }
        let first = self.issued.map_or(from, |(f, _)| f);
        self.issued = Some((first, new_last));
        self.good.push((from, new_last));
        Some(from..=new_last)
    }

    /// The good ranges and revoked serials to pre-sign.
    pub fn plan(&self) -> RangePlan {
        RangePlan {
            good: self.good.iter().map(|&(a, b)| a..=b).collect(),
            revoked: self.revoked.clone(),
        }
    }

    /// Number of good ranges.
    pub fn good_ranges(&self) -> usize {
        self.good.len()
    }
}

/// Plan range mode for issued serials `issued` and ascending `revoked` serials.
pub fn plan_ranges(issued: RangeInclusive<u64>, revoked: &[u64]) -> Result<RangePlan> {
    Ok(RangeTable::new(issued, revoked)?.plan())
}

/// Default validity of range-mode responses (nextUpdate = thisUpdate + 4 h, notes §6).
pub const RANGE_VALIDITY: std::time::Duration = std::time::Duration::from_secs(4 * 3600);

/// The CertID serial of a placeholder-mode range response ("a well-known value the client
/// ignores"): 0, never a valid certificate serial.
pub const PLACEHOLDER_SERIAL: u64 = 0;

/// How a good range is put on the wire (notes §6 layer A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeMode {
    /// CertID carries the requested serial (valid RFC 6960 for that serial, for any client);
    /// OCSPRange is a non-critical hint. Signed per serial on demand and cached.
    Exact(u64),
    /// CertID serial [`PLACEHOLDER_SERIAL`]; one pre-signed object per range, only for clients
    /// that opted in with `id-ocsp-range-responses`.
    Placeholder,
}

/// The `good` SingleResponse for `range` of the issuer with `hashes`, CertID hashed with `alg`.
/// In exact mode the serial must lie inside the range.
pub fn range_single_response(
    hashes: &crate::certid::IssuerHashes,
    alg: crate::certid::HashAlgorithm,
    range: &OcspRange,
    mode: RangeMode,
    this_update: std::time::SystemTime,
    next_update: std::time::SystemTime,
) -> Result<crate::types::SingleResponse> {
    let serial = match mode {
        RangeMode::Exact(s) if range.contains(s) => s,
        RangeMode::Exact(_) => return Err(Error::Invalid("serial outside the range")),
        RangeMode::Placeholder => PLACEHOLDER_SERIAL,
    };
    crate::types::SingleResponse::new(
        hashes.cert_id(alg, serial_from_u64(serial)?)?,
        crate::types::CertStatus::good(),
        this_update,
        Some(next_update),
    )?
    .with_range(range)
}

/// The signed objects of a [`RangePlan`]: complete OCSPResponse DER blobs ready to serve.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PresignedPlan {
    /// One placeholder-mode `good` response per range (for opted-in clients).
    pub good: Vec<(RangeInclusive<u64>, Vec<u8>)>,
    /// One per-serial `revoked` response per revoked serial (for every client).
    pub revoked: Vec<(u64, Vec<u8>)>,
}

/// Sign every object of `plan` for the issuer with `hashes` (CertIDs hashed with `alg`):
/// placeholder-mode range responses for the good ranges and per-serial responses for the
/// revoked serials, whose time and reason `revocation(serial)` gives. All share `this_update`
/// / `next_update` and producedAt = `this_update`.
#[allow(clippy::too_many_arguments)]
pub fn presign_plan<R: rand_core::TryCryptoRng + ?Sized>(
    plan: &RangePlan,
    hashes: &crate::certid::IssuerHashes,
    alg: crate::certid::HashAlgorithm,
    signer: &crate::response::ResponseSigner,
    revocation: impl Fn(
        u64,
    ) -> (
        std::time::SystemTime,
        Option<x509_cert::ext::pkix::crl::CrlReason>,
    ),
    this_update: std::time::SystemTime,
    next_update: std::time::SystemTime,
    rng: &mut R,
) -> Result<PresignedPlan> {
    use crate::response::ResponseBuilder;
    let mut out = PresignedPlan::default();
    for r in &plan.good {
        let single = range_single_response(
            hashes,
            alg,
            &OcspRange::new(r.clone()),
            RangeMode::Placeholder,
            this_update,
            next_update,
        )?;
        let der = ResponseBuilder::new(this_update)
            .response(single)
            .sign(signer, rng)?;
        out.good.push((r.clone(), der));
    }
    for &s in &plan.revoked {
        let (at, reason) = revocation(s);
        let single = crate::types::SingleResponse::new(
            hashes.cert_id(alg, serial_from_u64(s)?)?,
            crate::types::CertStatus::revoked(at, reason)?,
            this_update,
            Some(next_update),
        )?;
        let der = ResponseBuilder::new(this_update)
            .response(single)
            .sign(signer, rng)?;
        out.revoked.push((s, der));
    }
    Ok(out)
}
