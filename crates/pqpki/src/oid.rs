//! Object identifiers used by this crate, in one place.
//!
//! Composite OIDs are under id-pkix-alg (1.3.6.1.5.5.7.6), assigned by IANA in
//! draft-ietf-lamps-pq-composite-sigs-13 and unchanged through -19.

use const_oid::ObjectIdentifier as Oid;

/// id-pkix-alg arc of the composite signature OIDs.
pub const ID_PKIX_ALG: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.6");

/// id-ml-dsa-44 (FIPS 204, RFC 9881).
pub const ML_DSA_44: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.17");
/// id-ml-dsa-65 (FIPS 204, RFC 9881).
pub const ML_DSA_65: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.18");
/// id-ml-dsa-87 (FIPS 204, RFC 9881).
pub const ML_DSA_87: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.19");

/// id-ecPublicKey (RFC 5480).
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 / P-256.
pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1 / P-384.
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
/// secp521r1 / P-521.
pub const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
/// brainpoolP256r1 (RFC 5639).
pub const BRAINPOOL_P256R1: Oid = Oid::new_unwrap("1.3.36.3.3.2.8.1.1.7");
/// brainpoolP384r1 (RFC 5639).
pub const BRAINPOOL_P384R1: Oid = Oid::new_unwrap("1.3.36.3.3.2.8.1.1.11");
/// ecdsa-with-SHA256 (RFC 5758).
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758).
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512 (RFC 5758).
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
/// id-Ed25519 (RFC 8410).
pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
/// id-Ed448 (RFC 8410).
pub const ED448: Oid = Oid::new_unwrap("1.3.101.113");
/// rsaEncryption (RFC 8017).
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// id-RSASSA-PSS (RFC 4055).
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
/// id-mgf1 (RFC 8017).
pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
/// sha256WithRSAEncryption.
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// sha384WithRSAEncryption.
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
/// sha512WithRSAEncryption.
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
/// id-sha256.
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// id-sha384.
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// id-sha512.
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// Extended key usage id-kp-serverAuth.
pub const KP_SERVER_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.1");
/// Extended key usage id-kp-clientAuth.
pub const KP_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
/// Extended key usage id-kp-OCSPSigning.
pub const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");
/// anyExtendedKeyUsage.
pub const ANY_EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37.0");
/// id-ad-ocsp (AIA access method).
pub const AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");

/// id-pe-relatedCert (RFC 9763).
pub const RELATED_CERT: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.36");
/// id-ce-deltaCertificateDescriptor (draft-bonnell-lamps-chameleon-certs-05).
pub const DELTA_CERTIFICATE_DESCRIPTOR: Oid = Oid::new_unwrap("2.16.840.1.114027.80.6.1");

/// Prototype arcs of the composite drafts that are refused by name.
///
/// Each entry is (arc prefix, description). An OID equal to or under one of these arcs is
/// refused with [`crate::Error::PrototypeOid`].
pub const PROTOTYPE_ARCS: &[(Oid, &str)] = &[
    (
        Oid::new_unwrap("2.16.840.1.114027.80.8.1"),
        "Entrust prototype arc of draft-ietf-lamps-pq-composite-sigs-00..-07",
    ),
    (
        Oid::new_unwrap("2.16.840.1.114027.80.9.1"),
        "Entrust prototype arc of draft-ietf-lamps-pq-composite-sigs-08..-12",
    ),
    (
        Oid::new_unwrap("2.16.840.1.114027.80.8"),
        "Entrust prototype composite arc",
    ),
    (
        Oid::new_unwrap("2.16.840.1.114027.80.9"),
        "Entrust prototype composite arc",
    ),
    (
        Oid::new_unwrap("1.3.6.1.4.1.18227.2.1"),
        "generic id-alg-composite prototype of draft-ounsworth-pq-composite-sigs (OpenCA arc)",
    ),
];

/// If `oid` lies in a pre-standard prototype arc, the description of that arc.
pub fn prototype_arc(oid: &Oid) -> Option<&'static str> {
    let bytes = oid.as_bytes();
    PROTOTYPE_ARCS.iter().find_map(|(arc, desc)| {
        let a = arc.as_bytes();
        // An OID is under an arc when the arc's content octets are a prefix and the arc ends on
        // an arc boundary (the last octet of a sub-identifier has its high bit clear).
        (bytes.starts_with(a)).then_some(*desc)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prototype_arcs_are_detected() {
        let o = Oid::new_unwrap("2.16.840.1.114027.80.8.1.21");
        assert!(prototype_arc(&o).is_some_and(|d| d.contains("-00..-07")));
        let o = Oid::new_unwrap("2.16.840.1.114027.80.9.1.4");
        assert!(prototype_arc(&o).is_some_and(|d| d.contains("-08..-12")));
        assert!(prototype_arc(&Oid::new_unwrap("1.3.6.1.4.1.18227.2.1")).is_some());
        assert!(prototype_arc(&Oid::new_unwrap("1.3.6.1.5.5.7.6.45")).is_none());
        // the chameleon DCD OID shares the Entrust arc but is not a prototype signature arc
        assert!(prototype_arc(&DELTA_CERTIFICATE_DESCRIPTOR).is_none());
    }
}
