//! The algorithm registry: every signature algorithm this crate implements, its name, its OID,
//! and for composites the draft-19 parameter table (one static table drives everything).
//!
//! Names are the strings the CLI exposes (`--alg`): composites by their draft-19 names
//! (`id-MLDSA65-ECDSA-P256-SHA512`), pure ML-DSA as `id-ML-DSA-44|65|87`, classical algorithms as
//! `ecdsa-p256-sha256`, `ed25519`, `rsa3072-pss-sha256`, ...

use core::fmt;

use const_oid::ObjectIdentifier as Oid;

use crate::error::{Error, Result};
use crate::oid;

/// ML-DSA parameter set (FIPS 204).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MlDsaLevel {
    /// ML-DSA-44 (NIST category 2).
    L44,
    /// ML-DSA-65 (NIST category 3).
    L65,
    /// ML-DSA-87 (NIST category 5).
    L87,
}

impl MlDsaLevel {
    /// Encoded public key length (FIPS 204 §7.2).
    pub const fn public_key_len(self) -> usize {
        match self {
            MlDsaLevel::L44 => 1312,
            MlDsaLevel::L65 => 1952,
            MlDsaLevel::L87 => 2592,
        }
    }
    /// Encoded signature length.
    pub const fn signature_len(self) -> usize {
        match self {
            MlDsaLevel::L44 => 2420,
            MlDsaLevel::L65 => 3309,
            MlDsaLevel::L87 => 4627,
        }
    }
    /// Expanded private key length (the RFC 9881 `expandedKey` form).
    pub const fn expanded_key_len(self) -> usize {
        match self {
            MlDsaLevel::L44 => 2560,
            MlDsaLevel::L65 => 4032,
            MlDsaLevel::L87 => 4896,
        }
    }
    /// The id-ml-dsa-* OID.
    pub const fn oid(self) -> Oid {
        match self {
            MlDsaLevel::L44 => oid::ML_DSA_44,
            MlDsaLevel::L65 => oid::ML_DSA_65,
            MlDsaLevel::L87 => oid::ML_DSA_87,
        }
    }
    /// Component name used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            MlDsaLevel::L44 => "ML-DSA-44",
            MlDsaLevel::L65 => "ML-DSA-65",
            MlDsaLevel::L87 => "ML-DSA-87",
        }
    }
}

/// Hash function used inside a traditional signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// Digest length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }
    /// Hash algorithm OID (for RSASSA-PSS parameters).
    pub const fn oid(self) -> Oid {
        match self {
            HashAlg::Sha256 => oid::SHA256,
            HashAlg::Sha384 => oid::SHA384,
            HashAlg::Sha512 => oid::SHA512,
        }
    }
}

/// Composite pre-hash function PH (draft-19 §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PreHash {
    /// SHA-256 (32-byte output).
    Sha256,
    /// SHA-512 (64-byte output).
    Sha512,
    /// SHAKE256 with 64 bytes of output.
    Shake256,
}

/// Elliptic curve of an ECDSA component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
    /// NIST P-521 (secp521r1).
    P521,
    /// brainpoolP256r1.
    BrainpoolP256r1,
    /// brainpoolP384r1.
    BrainpoolP384r1,
}

impl Curve {
    /// Named-curve OID.
    pub const fn oid(self) -> Oid {
        match self {
            Curve::P256 => oid::SECP256R1,
            Curve::P384 => oid::SECP384R1,
            Curve::P521 => oid::SECP521R1,
            Curve::BrainpoolP256r1 => oid::BRAINPOOL_P256R1,
            Curve::BrainpoolP384r1 => oid::BRAINPOOL_P384R1,
        }
    }
    /// Length of a private scalar / field element in bytes.
    pub const fn scalar_len(self) -> usize {
        match self {
            Curve::P256 | Curve::BrainpoolP256r1 => 32,
            Curve::P384 | Curve::BrainpoolP384r1 => 48,
            Curve::P521 => 66,
        }
    }
    /// Uncompressed point length (`04 || X || Y`).
    pub const fn point_len(self) -> usize {
        1 + 2 * self.scalar_len()
    }
    /// Curve name for messages.
    pub const fn name(self) -> &'static str {
        match self {
            Curve::P256 => "ECDSA P-256",
            Curve::P384 => "ECDSA P-384",
            Curve::P521 => "ECDSA P-521",
            Curve::BrainpoolP256r1 => "ECDSA brainpoolP256r1",
            Curve::BrainpoolP384r1 => "ECDSA brainpoolP384r1",
        }
    }
    /// Curve from its named-curve OID.
    pub fn from_oid(o: &Oid) -> Option<Curve> {
        [
            Curve::P256,
            Curve::P384,
            Curve::P521,
            Curve::BrainpoolP256r1,
            Curve::BrainpoolP384r1,
        ]
        .into_iter()
        .find(|c| c.oid() == *o)
    }
}

/// RSA signature padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RsaPadding {
    /// RSASSA-PSS, MGF1 with the same hash, salt length = hash length.
    Pss,
    /// RSASSA-PKCS1-v1_5.
    Pkcs1v15,
}

/// A traditional (pre-quantum) signature algorithm with all its parameters: what a composite's
/// second component or a standalone classical key uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TradAlg {
    /// ECDSA on `curve`, hashing the message with `hash`; DER Ecdsa-Sig-Value signatures.
    Ecdsa {
        /// The curve.
        curve: Curve,
        /// The message hash.
        hash: HashAlg,
    },
    /// Pure Ed25519 (RFC 8032).
    Ed25519,
    /// Pure Ed448 (RFC 8032), empty context.
    Ed448,
    /// RSA with a fixed modulus size.
    Rsa {
        /// Modulus size in bits.
        bits: u16,
        /// Padding scheme.
        padding: RsaPadding,
        /// Message hash (and MGF1 hash for PSS).
        hash: HashAlg,
    },
}

impl TradAlg {
    /// Component name used in messages.
    pub const fn name(self) -> &'static str {
        match self {
            TradAlg::Ecdsa { curve, .. } => curve.name(),
            TradAlg::Ed25519 => "Ed25519",
            TradAlg::Ed448 => "Ed448",
            TradAlg::Rsa { bits: 2048, .. } => "RSA-2048",
            TradAlg::Rsa { bits: 3072, .. } => "RSA-3072",
            TradAlg::Rsa { bits: 4096, .. } => "RSA-4096",
            TradAlg::Rsa { .. } => "RSA",
        }
    }
}

/// Parameters of one composite ML-DSA algorithm (a row of draft-19 §7 / Table 2).
#[derive(Debug, PartialEq, Eq)]
pub struct CompositeParams {
    /// Draft name, e.g. `id-MLDSA65-ECDSA-P256-SHA512`.
    pub name: &'static str,
    /// The last arc under id-pkix-alg (37..=54).
    pub arc: u32,
    /// Label, ASCII; also the ML-DSA context string of the ML-DSA component.
    pub label: &'static str,
    /// The pre-hash PH applied to the message.
    pub prehash: PreHash,
    /// ML-DSA parameter set of the first component.
    pub mldsa: MlDsaLevel,
    /// Traditional second component.
    pub trad: TradAlg,
}

impl CompositeParams {
    /// The composite OID (1.3.6.1.5.5.7.6.`arc`).
    pub fn oid(&self) -> Oid {
        // The arc table is static and every arc is a small integer, so this cannot fail; fall back
        // to the parent arc rather than panicking.
        ID_PKIX_ALG_CHILDREN
            .iter()
            .find(|(a, _)| *a == self.arc)
            .map(|(_, o)| *o)
            .unwrap_or(oid::ID_PKIX_ALG)
    }
}

const ID_PKIX_ALG_CHILDREN: [(u32, Oid); 18] = [
    (37, Oid::new_unwrap("1.3.6.1.5.5.7.6.37")),
    (38, Oid::new_unwrap("1.3.6.1.5.5.7.6.38")),
    (39, Oid::new_unwrap("1.3.6.1.5.5.7.6.39")),
    (40, Oid::new_unwrap("1.3.6.1.5.5.7.6.40")),
    (41, Oid::new_unwrap("1.3.6.1.5.5.7.6.41")),
    (42, Oid::new_unwrap("1.3.6.1.5.5.7.6.42")),
    (43, Oid::new_unwrap("1.3.6.1.5.5.7.6.43")),
    (44, Oid::new_unwrap("1.3.6.1.5.5.7.6.44")),
    (45, Oid::new_unwrap("1.3.6.1.5.5.7.6.45")),
    (46, Oid::new_unwrap("1.3.6.1.5.5.7.6.46")),
    (47, Oid::new_unwrap("1.3.6.1.5.5.7.6.47")),
    (48, Oid::new_unwrap("1.3.6.1.5.5.7.6.48")),
    (49, Oid::new_unwrap("1.3.6.1.5.5.7.6.49")),
    (50, Oid::new_unwrap("1.3.6.1.5.5.7.6.50")),
    (51, Oid::new_unwrap("1.3.6.1.5.5.7.6.51")),
    (52, Oid::new_unwrap("1.3.6.1.5.5.7.6.52")),
    (53, Oid::new_unwrap("1.3.6.1.5.5.7.6.53")),
    (54, Oid::new_unwrap("1.3.6.1.5.5.7.6.54")),
];

const fn rsa(bits: u16, padding: RsaPadding, hash: HashAlg) -> TradAlg {
    TradAlg::Rsa {
        bits,
        padding,
        hash,
    }
}
const fn ec(curve: Curve, hash: HashAlg) -> TradAlg {
    TradAlg::Ecdsa { curve, hash }
}

use HashAlg::{Sha256 as H256, Sha384 as H384, Sha512 as H512};
use MlDsaLevel::{L44, L65, L87};
use RsaPadding::{Pkcs1v15, Pss};

/// The 18 composite ML-DSA algorithms of draft-ietf-lamps-pq-composite-sigs-19, in OID order.
///
/// Labels are those of the draft text and the official vectors (`COMPSIG-...`); the stale
/// `labelsTable.md` of the draft repository (e.g. `COMPSIG-MLDSA65-P256-SHA512`) is not used.
pub static COMPOSITES: [CompositeParams; 18] = [
    CompositeParams {
        name: "id-MLDSA44-RSA2048-PSS-SHA256",
        arc: 37,
        label: "COMPSIG-MLDSA44-RSA2048-PSS-SHA256",
        prehash: PreHash::Sha256,
        mldsa: L44,
        trad: rsa(2048, Pss, H256),
    },
    CompositeParams {
        name: "id-MLDSA44-RSA2048-PKCS15-SHA256",
        arc: 38,
        label: "COMPSIG-MLDSA44-RSA2048-PKCS15-SHA256",
        prehash: PreHash::Sha256,
        mldsa: L44,
        trad: rsa(2048, Pkcs1v15, H256),
    },
    CompositeParams {
        name: "id-MLDSA44-Ed25519-SHA512",
        arc: 39,
        label: "COMPSIG-MLDSA44-Ed25519-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L44,
        trad: TradAlg::Ed25519,
    },
    CompositeParams {
        name: "id-MLDSA44-ECDSA-P256-SHA256",
        arc: 40,
        label: "COMPSIG-MLDSA44-ECDSA-P256-SHA256",
        prehash: PreHash::Sha256,
        mldsa: L44,
        trad: ec(Curve::P256, H256),
    },
    CompositeParams {
        name: "id-MLDSA65-RSA3072-PSS-SHA512",
        arc: 41,
        label: "COMPSIG-MLDSA65-RSA3072-PSS-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L65,
        trad: rsa(3072, Pss, H256),
    },
    CompositeParams {
        name: "id-MLDSA65-RSA3072-PKCS15-SHA512",
        arc: 42,
        label: "COMPSIG-MLDSA65-RSA3072-PKCS15-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L65,
        trad: rsa(3072, Pkcs1v15, H256),
    },
    CompositeParams {
        name: "id-MLDSA65-RSA4096-PSS-SHA512",
        arc: 43,
        label: "COMPSIG-MLDSA65-RSA4096-PSS-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L65,
        trad: rsa(4096, Pss, H384),
    },
    CompositeParams {
        name: "id-MLDSA65-RSA4096-PKCS15-SHA512",
        arc: 44,
        label: "COMPSIG-MLDSA65-RSA4096-PKCS15-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L65,
        trad: rsa(4096, Pkcs1v15, H384),
    },
    CompositeParams {
        name: "id-MLDSA65-ECDSA-P256-SHA512",
        arc: 45,
        label: "COMPSIG-MLDSA65-ECDSA-P256-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L65,
        trad: ec(Curve::P256, H256),
    },
    CompositeParams {
        name: "id-MLDSA65-ECDSA-P384-SHA512",
        arc: 46,
        label: "COMPSIG-MLDSA65-ECDSA-P384-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L65,
        trad: ec(Curve::P384, H384),
    },
    CompositeParams {
        name: "id-MLDSA65-ECDSA-brainpoolP256r1-SHA512",
        arc: 47,
        label: "COMPSIG-MLDSA65-ECDSA-BP256-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L65,
        trad: ec(Curve::BrainpoolP256r1, H256),
    },
    CompositeParams {
        name: "id-MLDSA65-Ed25519-SHA512",
        arc: 48,
        label: "COMPSIG-MLDSA65-Ed25519-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L65,
        trad: TradAlg::Ed25519,
    },
    CompositeParams {
        name: "id-MLDSA87-ECDSA-P384-SHA512",
        arc: 49,
        label: "COMPSIG-MLDSA87-ECDSA-P384-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L87,
        trad: ec(Curve::P384, H384),
    },
    CompositeParams {
        name: "id-MLDSA87-ECDSA-brainpoolP384r1-SHA512",
        arc: 50,
        label: "COMPSIG-MLDSA87-ECDSA-BP384-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L87,
        trad: ec(Curve::BrainpoolP384r1, H384),
    },
    CompositeParams {
        name: "id-MLDSA87-Ed448-SHAKE256",
        arc: 51,
        label: "COMPSIG-MLDSA87-Ed448-SHAKE256",
        prehash: PreHash::Shake256,
        mldsa: L87,
        trad: TradAlg::Ed448,
    },
    CompositeParams {
        name: "id-MLDSA87-RSA3072-PSS-SHA512",
        arc: 52,
        label: "COMPSIG-MLDSA87-RSA3072-PSS-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L87,
        trad: rsa(3072, Pss, H256),
    },
    CompositeParams {
        name: "id-MLDSA87-RSA4096-PSS-SHA512",
        arc: 53,
        label: "COMPSIG-MLDSA87-RSA4096-PSS-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L87,
        trad: rsa(4096, Pss, H384),
    },
    CompositeParams {
        name: "id-MLDSA87-ECDSA-P521-SHA512",
        arc: 54,
        label: "COMPSIG-MLDSA87-ECDSA-P521-SHA512",
        prehash: PreHash::Sha512,
        mldsa: L87,
        trad: ec(Curve::P521, H512),
    },
];

/// Standalone classical algorithms (names the CLI exposes) and their parameters.
pub static CLASSICAL: [(&str, TradAlg); 10] = [
    ("ecdsa-p256-sha256", ec(Curve::P256, H256)),
    ("ecdsa-p384-sha384", ec(Curve::P384, H384)),
    ("ecdsa-p521-sha512", ec(Curve::P521, H512)),
    ("ed25519", TradAlg::Ed25519),
    ("rsa2048-pss-sha256", rsa(2048, Pss, H256)),
    ("rsa3072-pss-sha256", rsa(3072, Pss, H256)),
    ("rsa4096-pss-sha384", rsa(4096, Pss, H384)),
    ("rsa2048-pkcs1-sha256", rsa(2048, Pkcs1v15, H256)),
    ("rsa3072-pkcs1-sha256", rsa(3072, Pkcs1v15, H256)),
    ("rsa4096-pkcs1-sha384", rsa(4096, Pkcs1v15, H384)),
];

/// A signature algorithm (with its key type) that this crate can generate keys for, sign and
/// verify with.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Pure ML-DSA (FIPS 204, certificates per RFC 9881).
    MlDsa(MlDsaLevel),
    /// Composite ML-DSA; the index into [`COMPOSITES`].
    Composite(CompositeId),
    /// A classical algorithm; the index into [`CLASSICAL`].
    Classical(ClassicalId),
}

/// Index of a row of [`COMPOSITES`]. Only constructible for valid rows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct CompositeId(u8);

/// Index of a row of [`CLASSICAL`]. Only constructible for valid rows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ClassicalId(u8);

impl CompositeId {
    /// The parameter row.
    pub fn params(self) -> &'static CompositeParams {
        // Constructed only from indices < COMPOSITES.len().
        &COMPOSITES[usize::from(self.0) % COMPOSITES.len()]
    }
}

impl ClassicalId {
    /// The traditional parameters.
    pub fn params(self) -> TradAlg {
        CLASSICAL[usize::from(self.0) % CLASSICAL.len()].1
    }
    /// The CLI name.
    pub fn name(self) -> &'static str {
        CLASSICAL[usize::from(self.0) % CLASSICAL.len()].0
    }
}

impl fmt::Debug for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an algorithm is built, for policy evaluation and `pki inspect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlgClass {
    /// Post-quantum only (pure ML-DSA).
    PostQuantum,
    /// Traditional only.
    Traditional,
    /// Both (a composite).
    Composite,
}

impl Algorithm {
    /// The recommended default (draft-19 §11): `id-MLDSA65-ECDSA-P256-SHA512`.
    pub const DEFAULT: Algorithm = Algorithm::Composite(CompositeId(8));

    /// Every algorithm: 3 pure ML-DSA, 18 composites, then the classical ones.
    pub fn all() -> impl Iterator<Item = Algorithm> {
        [MlDsaLevel::L44, MlDsaLevel::L65, MlDsaLevel::L87]
            .into_iter()
            .map(Algorithm::MlDsa)
            .chain((0..COMPOSITES.len() as u8).map(|i| Algorithm::Composite(CompositeId(i))))
            .chain((0..CLASSICAL.len() as u8).map(|i| Algorithm::Classical(ClassicalId(i))))
    }

    /// `(name, OID)` for every algorithm, one per line of `secdispatch pki algs`.
    pub fn list() -> Vec<(&'static str, Oid)> {
        Algorithm::all().map(|a| (a.name(), a.oid())).collect()
    }

    /// The name used everywhere (`--alg`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::MlDsa(MlDsaLevel::L44) => "id-ML-DSA-44",
            Algorithm::MlDsa(MlDsaLevel::L65) => "id-ML-DSA-65",
            Algorithm::MlDsa(MlDsaLevel::L87) => "id-ML-DSA-87",
            Algorithm::Composite(c) => c.params().name,
            Algorithm::Classical(c) => c.name(),
        }
    }

    /// Parse a name produced by [`Algorithm::name`]. Matching ignores ASCII case.
    pub fn from_name(name: &str) -> Result<Algorithm> {
        Algorithm::all()
            .find(|a| a.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::UnknownAlgorithmName(name.to_owned()))
    }

    /// The signature algorithm OID. For classical algorithms this is the *signature* OID
    /// (e.g. ecdsa-with-SHA256, id-RSASSA-PSS); the key OID is [`Algorithm::key_oid`].
    pub fn oid(self) -> Oid {
        match self {
            Algorithm::MlDsa(l) => l.oid(),
            Algorithm::Composite(c) => c.params().oid(),
            Algorithm::Classical(c) => match c.params() {
                TradAlg::Ecdsa { hash, .. } => match hash {
                    HashAlg::Sha256 => oid::ECDSA_WITH_SHA256,
                    HashAlg::Sha384 => oid::ECDSA_WITH_SHA384,
                    HashAlg::Sha512 => oid::ECDSA_WITH_SHA512,
                },
                TradAlg::Ed25519 => oid::ED25519,
                TradAlg::Ed448 => oid::ED448,
                TradAlg::Rsa {
                    padding: RsaPadding::Pss,
                    ..
                } => oid::RSASSA_PSS,
                TradAlg::Rsa { hash, .. } => match hash {
                    HashAlg::Sha256 => oid::SHA256_WITH_RSA,
                    HashAlg::Sha384 => oid::SHA384_WITH_RSA,
                    HashAlg::Sha512 => oid::SHA512_WITH_RSA,
                },
            },
        }
    }

    /// The SubjectPublicKeyInfo algorithm OID of keys of this algorithm.
    pub fn key_oid(self) -> Oid {
        match self {
            Algorithm::MlDsa(_) | Algorithm::Composite(_) => self.oid(),
            Algorithm::Classical(c) => match c.params() {
                TradAlg::Ecdsa { .. } => oid::EC_PUBLIC_KEY,
                TradAlg::Ed25519 => oid::ED25519,
                TradAlg::Ed448 => oid::ED448,
                TradAlg::Rsa { .. } => oid::RSA_ENCRYPTION,
            },
        }
    }

    /// The composite (or pure ML-DSA) algorithm with this OID. Classical OIDs are ambiguous as a
    /// key type (an RSA key serves several algorithms) and are resolved from SPKI in
    /// [`crate::keys::VerifyingKey::from_spki`].
    pub fn from_pq_oid(o: &Oid) -> Result<Algorithm> {
        if let Some(arc) = oid::prototype_arc(o) {
            return Err(Error::PrototypeOid { oid: *o, arc });
        }
        Algorithm::all()
            .filter(|a| !matches!(a, Algorithm::Classical(_)))
            .find(|a| a.oid() == *o)
            .ok_or(Error::UnknownOid(*o))
    }

    /// Composite parameters, if this is a composite.
    pub fn composite(self) -> Option<&'static CompositeParams> {
        match self {
            Algorithm::Composite(c) => Some(c.params()),
            _ => None,
        }
    }

    /// Whether this algorithm is post-quantum, traditional or both.
    pub fn class(self) -> AlgClass {
        match self {
            Algorithm::MlDsa(_) => AlgClass::PostQuantum,
            Algorithm::Composite(_) => AlgClass::Composite,
            Algorithm::Classical(_) => AlgClass::Traditional,
        }
    }

    /// The classical algorithm with these traditional parameters, if it is one of [`CLASSICAL`].
    pub fn classical(t: TradAlg) -> Option<Algorithm> {
        CLASSICAL
            .iter()
            .position(|(_, p)| *p == t)
            .map(|i| Algorithm::Classical(ClassicalId(i as u8)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_ordered() {
        assert_eq!(COMPOSITES.len(), 18);
        for (i, c) in COMPOSITES.iter().enumerate() {
            assert_eq!(c.arc, 37 + i as u32);
            assert_eq!(c.oid().to_string(), format!("1.3.6.1.5.5.7.6.{}", c.arc));
            assert!(c.label.starts_with("COMPSIG-MLDSA"));
            assert!(c.name.starts_with("id-MLDSA"));
        }
        assert_eq!(Algorithm::all().count(), 3 + 18 + CLASSICAL.len());
        assert_eq!(Algorithm::DEFAULT.name(), "id-MLDSA65-ECDSA-P256-SHA512");
    }

    #[test]
    fn names_round_trip_and_unknowns_fail() {
        for a in Algorithm::all() {
            assert_eq!(Algorithm::from_name(a.name()).unwrap(), a);
        }
        assert!(matches!(
            Algorithm::from_name("id-MLDSA65-P256-SHA512"),
            Err(Error::UnknownAlgorithmName(_))
        ));
    }

    #[test]
    fn stale_labels_are_not_used() {
        // labelsTable.md in the draft repository lists e.g. COMPSIG-MLDSA65-P256-SHA512.
        for c in &COMPOSITES {
            if matches!(c.trad, TradAlg::Ecdsa { .. }) {
                assert!(c.label.contains("-ECDSA-"), "{}", c.label);
            }
        }
    }

    #[test]
    fn prototype_oids_are_refused_by_name() {
        let o = Oid::new_unwrap("2.16.840.1.114027.80.8.1.28");
        let e = Algorithm::from_pq_oid(&o).unwrap_err();
        assert!(e.to_string().contains("2.16.840.1.114027.80.8.1.28"));
        assert!(e.to_string().contains("prototype"));
        assert!(matches!(
            Algorithm::from_pq_oid(&Oid::new_unwrap("1.3.6.1.5.5.7.6.55")),
            Err(Error::UnknownOid(_))
        ));
    }
}
