//! Object identifiers: RFC 6960 / RFC 9654 and the experimental OCSPv2 arc.
//!
//! The experimental OIDs all hang off one arc, [`OCSPV2_ARC`] (the OpenCA arc of
//! draft-pala-ocsp-range-responses, `1.3.6.1.4.1.18227.3.2024`). To move them elsewhere, change
//! the single `ocspv2_arc!` macro below: every experimental OID is derived from it.

use const_oid::ObjectIdentifier as Oid;

/// id-pkix-ocsp, 1.3.6.1.5.5.7.48.1.
pub const PKIX_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
/// id-pkix-ocsp-basic: responseType of a BasicOCSPResponse.
pub const OCSP_BASIC: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-pkix-ocsp-nonce (RFC 9654).
pub const OCSP_NONCE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// id-pkix-ocsp-crl.
pub const OCSP_CRL: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.3");
/// id-pkix-ocsp-response (AcceptableResponses).
pub const OCSP_RESPONSE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.4");
/// id-pkix-ocsp-nocheck.
pub const OCSP_NOCHECK: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.5");
/// id-pkix-ocsp-archive-cutoff.
pub const OCSP_ARCHIVE_CUTOFF: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.6");
/// id-pkix-ocsp-service-locator.
pub const OCSP_SERVICE_LOCATOR: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.7");
/// id-pkix-ocsp-pref-sig-algs (PreferredSignatureAlgorithms, RFC 6960 §4.4.7).
pub const OCSP_PREF_SIG_ALGS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.8");
/// id-pkix-ocsp-extended-revoke (RFC 6960 §4.4.8).
pub const OCSP_EXTENDED_REVOKE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.9");
/// id-kp-OCSPSigning.
pub const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");
/// id-pe-tlsfeature (RFC 7633 must-staple).
pub const PE_TLS_FEATURE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.24");
/// id-ce-extKeyUsage.
pub const CE_EXT_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");

/// id-sha1 (legacy CertIDs; `openssl ocsp` default).
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// id-sha256.
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// id-sha384.
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// id-sha512.
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// The one place the experimental arc is configured (a literal, so `concat!` can extend it).
macro_rules! ocspv2_arc {
    () => {
        "1.3.6.1.4.1.18227.3.2024"
    };
}

/// **Experimental** arc of every OCSPv2 OID this crate uses (OpenCA, draft-pala-ocsp-range-*).
pub const OCSPV2_ARC: Oid = Oid::new_unwrap(ocspv2_arc!());
/// **Experimental** `id-ocsp-range-responses` (arc .1): request extension, value NULL; the client
/// opts in to range responses (draft-pala-ocsp-range-responses).
pub const OCSP_RANGE_RESPONSES: Oid = Oid::new_unwrap(concat!(ocspv2_arc!(), ".1"));
/// **Experimental** `id-ocsp-range` (arc .2): singleExtension carrying [`crate::OcspRange`].
pub const OCSP_RANGE: Oid = Oid::new_unwrap(concat!(ocspv2_arc!(), ".2"));
/// **Experimental, ours** (arc .3): responseType of an `OCSPv2Bundle` (a SEQUENCE OF
/// BasicOCSPResponse, leaf first); also listed in AcceptableResponses to ask for a bundle.
pub const OCSPV2_BUNDLE: Oid = Oid::new_unwrap(concat!(ocspv2_arc!(), ".3"));
/// **Experimental, ours** (arc .4): request extension (NULL) asking for the statuses of the
/// requested certificate's whole chain.
pub const OCSPV2_INCLUDE_CHAIN: Oid = Oid::new_unwrap(concat!(ocspv2_arc!(), ".4"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experimental_oids_hang_off_one_arc() {
        for o in [
            OCSP_RANGE_RESPONSES,
            OCSP_RANGE,
            OCSPV2_BUNDLE,
            OCSPV2_INCLUDE_CHAIN,
        ] {
            assert_eq!(o.parent(), Some(OCSPV2_ARC));
        }
        assert_eq!(OCSP_RANGE.to_string(), "1.3.6.1.4.1.18227.3.2024.2");
    }
}
