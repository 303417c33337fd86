//! P-384 group operations through aws-lc: decode, encode, scalar multiplication and
//! RFC 9380 hash-to-curve, for the type 0x0001 issuer's hot path. aws-lc's P-384 (s2n-bignum
//! field arithmetic) multiplies a point about 5.7 times faster than the pure-Rust `p384`
//! crate on our 2-core VMs (205 µs against 1.16 ms), and the issuer spends nearly all of
//! its time there (see `BENCHMARKS.md`). Scalars stay `p384::Scalar` (pure Rust, cheap);
//! only points cross into C.
//!
//! # Invariants (what makes every `unsafe` block below sound)
//!
//! 1. `group()` is aws-lc's static P-384 group (`EC_group_p384`), never freed and
//!    immutable, so it may be used from any thread.
//! 2. A [`Point`] owns a non-null `EC_POINT*` of that group, created by `EC_POINT_new`
//!    and freed exactly once, in `Drop`. It is only mutated while being built (inside the
//!    constructors below, before it is handed out), so `&Point` is read-only.
//! 3. A [`Bn`] owns a non-null `BIGNUM*` from `BN_bin2bn`, cleared and freed once in `Drop`
//!    (`BN_clear_free`: scalars here are often secret).
//! 4. Every buffer passed to aws-lc is a live Rust slice and its exact length is passed
//!    with it; output buffers are `NE` bytes and `point2oct` is told so.
//! 5. `EC_POINT_mul` and `EC_hash_to_curve_*` accept a NULL `BN_CTX` and then allocate
//!    their own temporaries; scalar multiplication of secret scalars is constant-time in
//!    aws-lc for P-384.
#![allow(unsafe_code)]

use std::ptr::{NonNull, null, null_mut};

use p384::Scalar;
use voprf::Group;

use super::{NE, Suite};

fn group() -> *const aws_lc_sys::EC_GROUP {
    // SAFETY: returns a pointer to a static, immutable group (invariant 1).
    unsafe { aws_lc_sys::EC_group_p384() }
}

/// A P-384 point owned by aws-lc (see the module invariants).
pub(crate) struct Point(NonNull<aws_lc_sys::EC_POINT>);

impl Drop for Point {
    fn drop(&mut self) {
        // SAFETY: invariant 2: we own the point and free it once.
        unsafe { aws_lc_sys::EC_POINT_free(self.0.as_ptr()) }
    }
}

impl Point {
    fn alloc() -> Option<Self> {
        // SAFETY: `group()` is valid (invariant 1); NULL is handled by `NonNull::new`.
        NonNull::new(unsafe { aws_lc_sys::EC_POINT_new(group()) }).map(Self)
    }

    /// `DeserializeElement`: a 49-byte compressed point on the curve. The identity has no
    /// 49-byte encoding, so it is refused by construction.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != NE {
            return None;
        }
        let p = Self::alloc()?;
        // SAFETY: `p` is a fresh point of `group()` (invariant 2); `bytes` is live for
        // `bytes.len()` bytes (invariant 4); NULL ctx is allowed (invariant 5).
        let ok = unsafe {
            aws_lc_sys::EC_POINT_oct2point(
                group(),
                p.0.as_ptr(),
                bytes.as_ptr(),
                bytes.len(),
                null_mut(),
            )
        };
        (ok == 1 && !p.is_identity()).then_some(p)
    }

    /// `SerializeElement`: compressed SEC1, 49 bytes. `None` for the identity, which
    /// RFC 9497 never lets an honest party serialize.
    pub(crate) fn encode(&self) -> Option<[u8; NE]> {
        let mut out = [0u8; NE];
        // SAFETY: `self` is a valid point (invariant 2); `out` holds `NE` bytes and aws-lc
        // is told so (invariant 4).
        let n = unsafe {
            aws_lc_sys::EC_POINT_point2oct(
                group(),
                self.0.as_ptr(),
                aws_lc_sys::point_conversion_form_t::POINT_CONVERSION_COMPRESSED,
                out.as_mut_ptr(),
                out.len(),
                null_mut(),
            )
        };
        (n == NE).then_some(out)
    }

    fn is_identity(&self) -> bool {
        // SAFETY: `self` is a valid point (invariant 2).
        unsafe { aws_lc_sys::EC_POINT_is_at_infinity(group(), self.0.as_ptr()) == 1 }
    }

    /// `k * self`.
    pub(crate) fn mul(&self, k: &Scalar) -> Option<Self> {
        let k = Bn::of(k)?;
        let out = Self::alloc()?;
        // SAFETY: `out` is fresh, `self` and `k` are valid (invariants 2, 3), NULL
        // generator scalar and ctx are allowed (invariant 5).
        let ok = unsafe {
            aws_lc_sys::EC_POINT_mul(
                group(),
                out.0.as_ptr(),
                null(),
                self.0.as_ptr(),
                k.0.as_ptr(),
                null_mut(),
            )
        };
        (ok == 1).then_some(out)
    }

    /// `k * G`.
    pub(crate) fn mul_base(k: &Scalar) -> Option<Self> {
        let k = Bn::of(k)?;
        let out = Self::alloc()?;
        // SAFETY: as in `mul`, with NULL point and point scalar (invariant 5).
        let ok = unsafe {
            aws_lc_sys::EC_POINT_mul(
                group(),
                out.0.as_ptr(),
                k.0.as_ptr(),
                null(),
                null(),
                null_mut(),
            )
        };
        (ok == 1).then_some(out)
    }

    /// `self + other`.
    pub(crate) fn add(&self, other: &Self) -> Option<Self> {
        let out = Self::alloc()?;
        // SAFETY: all three points are valid points of `group()` (invariant 2); `out` is
        // fresh and distinct from the inputs.
        let ok = unsafe {
            aws_lc_sys::EC_POINT_add(
                group(),
                out.0.as_ptr(),
                self.0.as_ptr(),
                other.0.as_ptr(),
                null_mut(),
            )
        };
        (ok == 1).then_some(out)
    }

    /// `HashToGroup(msg)` with domain separation tag `dst`: RFC 9380
    /// `P384_XMD:SHA-384_SSWU_RO_`. `None` for an empty DST or the (negligible) identity.
    pub(crate) fn hash_to_group(msg: &[u8], dst: &[u8]) -> Option<Self> {
        let out = Self::alloc()?;
        // SAFETY: `out` is fresh (invariant 2); `dst` and `msg` are live slices passed with
        // their lengths (invariant 4).
        let ok = unsafe {
            aws_lc_sys::EC_hash_to_curve_p384_xmd_sha384_sswu(
                group(),
                out.0.as_ptr(),
                dst.as_ptr(),
                dst.len(),
                msg.as_ptr(),
                msg.len(),
            )
        };
        (ok == 1 && !out.is_identity()).then_some(out)
    }
}

/// A scalar as an aws-lc `BIGNUM`, cleared on drop (invariant 3).
struct Bn(NonNull<aws_lc_sys::BIGNUM>);

impl Bn {
    fn of(k: &Scalar) -> Option<Self> {
        let bytes = zeroize::Zeroizing::new(Suite::serialize_scalar(*k));
        // SAFETY: `bytes` is live for its length (invariant 4); a NULL `ret` asks for a new
        // BIGNUM, which we then own (invariant 3).
        let raw = unsafe { aws_lc_sys::BN_bin2bn(bytes.as_ptr(), bytes.len(), null_mut()) };
        NonNull::new(raw).map(Self)
    }
}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: invariant 3: we own the BIGNUM and free it once.
        unsafe { aws_lc_sys::BN_clear_free(self.0.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use p384::ProjectivePoint;

    /// Every operation agrees with the pure-Rust `p384` crate.
    #[test]
    fn matches_the_p384_crate() {
        let k = Scalar::from(0x1234_5678_9abc_def0u64).invert().unwrap();
        let j = Scalar::from(977u64);
        let g = ProjectivePoint::GENERATOR;
        let enc = |p: ProjectivePoint| Suite::serialize_elem(p).to_vec();
        let kg = Point::mul_base(&k).unwrap();
        assert_eq!(kg.encode().unwrap().to_vec(), enc(g * k));
        let back = Point::decode(&kg.encode().unwrap()).unwrap();
        assert_eq!(
            back.mul(&j).unwrap().encode().unwrap().to_vec(),
            enc(g * k * j)
        );
        let sum = kg.add(&Point::mul_base(&j).unwrap()).unwrap();
        assert_eq!(sum.encode().unwrap().to_vec(), enc(g * (k + j)));
        let dst = b"HashToGroup-OPRFV1-\x01-P384-SHA384";
        let ours = Point::hash_to_group(b"input", dst).unwrap();
        let theirs =
            Suite::hash_to_curve::<<Suite as voprf::CipherSuite>::Hash>(&[b"input"], &[dst])
                .unwrap();
        assert_eq!(ours.encode().unwrap().to_vec(), enc(theirs));
    }

    /// Wrong lengths, points off the curve and the identity are refused.
    #[test]
    fn bad_encodings_are_refused() {
        let good = Point::mul_base(&Scalar::from(5u64))
            .unwrap()
            .encode()
            .unwrap();
        assert!(Point::decode(&good[..48]).is_none());
        assert!(Point::decode(&[0u8]).is_none());
        let mut off = good;
        off[0] = 0x04;
        assert!(Point::decode(&off).is_none());
        let mut bad_x = [0xffu8; NE];
        bad_x[0] = 0x02;
        assert!(Point::decode(&bad_x).is_none());
        // x >= p (the field prime) is not canonical: p + k for small k would reduce to k,
        // about half of which are x-coordinates of points, so a reducing decoder fails here.
        const P: &str = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe\
                         ffffffff0000000000000000ffffffff";
        for k in 0u8..64 {
            let mut x: Vec<u8> = (0..48)
                .map(|i| u8::from_str_radix(&P[2 * i..2 * i + 2], 16).unwrap())
                .collect();
            let mut carry = u16::from(k);
            for b in x.iter_mut().rev() {
                let v = u16::from(*b) + carry;
                *b = v as u8;
                carry = v >> 8;
            }
            let mut enc = vec![0x02];
            enc.extend_from_slice(&x);
            assert!(Point::decode(&enc).is_none(), "p + {k}");
        }
        let zero = Point::mul_base(&Scalar::ZERO);
        assert!(zero.is_none_or(|p| p.encode().is_none()));
    }

    proptest::proptest! {
        /// Arbitrary bytes never crash decoding, and whatever decodes re-encodes to the
        /// same bytes (aws-lc accepts only the canonical compressed form).
        #[test]
        fn decode_is_total_and_canonical(prefix in 0u8..8, x in proptest::collection::vec(proptest::num::u8::ANY, 48)) {
            let mut bytes = vec![prefix];
            bytes.extend_from_slice(&x);
            if let Some(p) = Point::decode(&bytes) {
                proptest::prop_assert_eq!(p.encode().unwrap().to_vec(), bytes);
            }
        }
    }
}
