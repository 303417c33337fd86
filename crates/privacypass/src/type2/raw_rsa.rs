//! Raw RSA-2048 through aws-lc (`RSA_sign_raw` / `RSA_verify_raw` with `RSA_NO_PADDING`):
//! the one module of secdispatch that calls C directly, because RSA blind signing is a
//! raw private-key operation that aws-lc-rs does not expose and aws-lc computes it about
//! 6.5 times faster than the pure-Rust backend (see `BENCHMARKS.md`).
//!
//! # Invariants (what makes every `unsafe` block below sound)
//!
//! 1. `RawRsaKey::ptr` is a non-null `RSA*` returned by `RSA_private_key_from_bytes`,
//!    owned exclusively by this value and freed exactly once, in `Drop`.
//! 2. The key passed `RSA_check_key` and `RSA_size(ptr) == MODULUS_BYTES` (256), checked in
//!    [`RawRsaKey::from_pkcs1_der`]; every buffer handed to aws-lc is exactly
//!    `MODULUS_BYTES` long, so `max_out >= RSA_size` always holds and reads stay in bounds.
//! 3. `RSA_sign_raw` and `RSA_verify_raw` are documented by aws-lc as non-mutating for
//!    thread-safety purposes ("may be used concurrently", `openssl/rsa.h`), and nothing
//!    here calls a mutating function after construction: sharing `&RawRsaKey` between
//!    threads (`Sync`) and moving it (`Send`) is therefore safe.
//! 4. Input larger than the modulus is refused by aws-lc itself (return value 0), never
//!    reduced silently; we also compare the output of the public operation with the
//!    input (RFC 9474 §4.3 fault protection), so a faulty CRT computation that could leak
//!    a prime factor never leaves this module.
#![allow(unsafe_code)]

use std::ptr::NonNull;

use subtle::ConstantTimeEq;

/// Bytes of an RSA-2048 modulus.
pub(crate) const MODULUS_BYTES: usize = 256;

/// An aws-lc RSA private key (see the module invariants).
pub(crate) struct RawRsaKey {
    ptr: NonNull<aws_lc_sys::RSA>,
}

// SAFETY: invariant 3: after construction only non-mutating, concurrency-safe aws-lc
// functions are called on `ptr`, and invariant 1 gives this value sole ownership.
unsafe impl Send for RawRsaKey {}
// SAFETY: invariant 3.
unsafe impl Sync for RawRsaKey {}

impl RawRsaKey {
    /// Parse a PKCS#1 `RSAPrivateKey` (DER) of a 2048-bit key; `None` when aws-lc refuses
    /// it or the key is not 2048-bit or fails `RSA_check_key`.
    pub(crate) fn from_pkcs1_der(der: &[u8]) -> Option<Self> {
        // SAFETY: `der` is a valid slice for `der.len()` bytes; aws-lc copies what it needs
        // and returns either NULL or a new RSA object we then own (invariant 1).
        let raw = unsafe { aws_lc_sys::RSA_private_key_from_bytes(der.as_ptr(), der.len()) };
        let key = Self {
            ptr: NonNull::new(raw)?,
        };
        // SAFETY: `key.ptr` is a valid RSA object (just created, non-null).
        let ok = unsafe { aws_lc_sys::RSA_check_key(key.ptr.as_ptr()) } == 1;
        // SAFETY: as above.
        let size = unsafe { aws_lc_sys::RSA_size(key.ptr.as_ptr()) };
        (ok && usize::try_from(size).ok() == Some(MODULUS_BYTES)).then_some(key)
    }

    /// `m^d mod n`, then checked by `s^e mod n == m` (RFC 9474 §4.3 step 2–3). `None` when
    /// `m >= n` or the check fails.
    pub(crate) fn blind_sign(&self, m: &[u8; MODULUS_BYTES]) -> Option<[u8; MODULUS_BYTES]> {
        let mut s = [0u8; MODULUS_BYTES];
        let mut s_len = 0usize;
        // SAFETY: invariant 2: `s` has RSA_size bytes, `m` is RSA_size bytes; the pointer
        // is a valid key (invariant 1); RSA_sign_raw is concurrency-safe (invariant 3).
        let ok = unsafe {
            aws_lc_sys::RSA_sign_raw(
                self.ptr.as_ptr(),
                &mut s_len,
                s.as_mut_ptr(),
                s.len(),
                m.as_ptr(),
                m.len(),
                aws_lc_sys::RSA_NO_PADDING,
            )
        };
        if ok != 1 || s_len != MODULUS_BYTES {
            return None;
        }
        let check = self.public_raw(&s)?;
        bool::from(check.ct_eq(m)).then_some(s)
    }

    /// `s^e mod n`.
    fn public_raw(&self, s: &[u8; MODULUS_BYTES]) -> Option<[u8; MODULUS_BYTES]> {
        let mut out = [0u8; MODULUS_BYTES];
        let mut out_len = 0usize;
        // SAFETY: as in `blind_sign`: buffers of RSA_size bytes, valid key, non-mutating.
        let ok = unsafe {
            aws_lc_sys::RSA_verify_raw(
                self.ptr.as_ptr(),
                &mut out_len,
                out.as_mut_ptr(),
                out.len(),
                s.as_ptr(),
                s.len(),
                aws_lc_sys::RSA_NO_PADDING,
            )
        };
        (ok == 1 && out_len == MODULUS_BYTES).then_some(out)
    }
}

impl Drop for RawRsaKey {
    fn drop(&mut self) {
        // SAFETY: invariant 1: we own the object and free it once; aws-lc clears the
        // private key material when it frees an RSA object.
        unsafe { aws_lc_sys::RSA_free(self.ptr.as_ptr()) }
    }
}
