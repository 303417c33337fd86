//! # secdispatch-pqpki — post-quantum multi-algorithm PKI core
//!
//! What this crate implements:
//!
//! * **Composite ML-DSA** exactly per **draft-ietf-lamps-pq-composite-sigs-19**: all 18
//!   algorithms (OIDs 1.3.6.1.5.5.7.6.37–.54) from one static table ([`alg::COMPOSITES`]), the
//!   message representative `Prefix || Label || len(ctx) || ctx || PH(M)`, raw-concatenation
//!   public keys, signatures and private keys (`seed || tradSK`), context strings up to 255
//!   bytes ([`composite`]). Pre-standard prototype OIDs (2.16.840.1.114027.80.8.x / .80.9.x,
//!   1.3.6.1.4.1.18227.2.1) are refused by name. The composite is EUF-CMA if either component is,
//!   but **not SUF-CMA** (ECDSA malleability passes through).
//! * **Pure ML-DSA-44/65/87** (FIPS 204) keys and certificates per **RFC 9881**: the three
//!   private-key forms (seed, expandedKey, both) are read, the seed form is written
//!   ([`pkcs8::MlDsaKeyForm`]).
//! * The **classical algorithms** the composites use: ECDSA P-256/P-384/P-521 (and brainpool
//!   as composite components), Ed25519 (and Ed448 as a component), RSA-PSS and RSA PKCS#1 v1.5
//!   with 2048/3072/4096-bit keys.
//! * One key abstraction, [`SigningKey`] / [`VerifyingKey`] / [`Signature`], implementing the
//!   `signature` (`Signer`, `RandomizedSigner`, `Keypair`, `Verifier`) and `spki`
//!   (`DynSignatureAlgorithmIdentifier`, `EncodePublicKey`, `SignatureBitStringEncoding`) traits,
//!   so the `x509-cert` 0.3 builders work unchanged, and any DER (a TBSCertificate, an OCSP
//!   tbsResponseData) can be signed with [`SigningKey::sign`].
//! * **X.509** ([`cert`], [`ca`], [`csr`], [`crl`]): self-signed roots, intermediates, server /
//!   client / OCSP-signing end entities, PKCS#10 requests, CRLs with reason codes, PEM and DER.
//! * **Chain validation** ([`validate`]): the RFC 5280 subset that matters in practice, with typed
//!   errors naming the failing link ([`validate::ChainFailure`]).
//! * **Experimental, non-standard**: a multi-algorithm AND / OR / k-of-n [`policy`] over
//!   composite components, RFC 9763 [`related`] certificate pairs and chameleon Base/Delta
//!   certificates ([`chameleon`], draft-bonnell-lamps-chameleon-certs-05).
//!
//! The crate is sans-I/O: no files, sockets, global clock or global RNG. Times and randomness are
//! parameters (a `rand_core` RNG). Exception, documented where it applies: aws-lc-rs draws RSA
//! primes, ECDSA nonces (NIST curves) and PSS salts from its own DRBG, since its API takes no RNG.
//!
//! Algorithm names (the strings `--alg` accepts) are listed by [`Algorithm::list`]:
//! `id-MLDSA65-ECDSA-P256-SHA512` (the default, [`Algorithm::DEFAULT`]), `id-ML-DSA-65`,
//! `ecdsa-p256-sha256`, `ed25519`, `rsa3072-pss-sha256`, ...
//!
//! ## Example: a composite root, a TLS server certificate, chain validation
//!
//! ```
//! use std::str::FromStr;
//! use std::time::{Duration, SystemTime};
//! use secdispatch_pqpki::ca::{self, CertificateAuthority, IssueRequest};
//! use secdispatch_pqpki::cert::{Profile, SubjectAltNames};
//! use secdispatch_pqpki::validate::{self, Options};
//! use secdispatch_pqpki::{Algorithm, SigningKey};
//! use x509_cert::name::Name;
//!
//! # fn main() -> Result<(), secdispatch_pqpki::Error> {
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000); // the caller's clock
//! let day = Duration::from_secs(86_400);
//!
//! // A root CA with the recommended composite algorithm.
//! let alg = Algorithm::from_name("id-MLDSA65-ECDSA-P256-SHA512")?;
//! let root_key = SigningKey::generate(alg, &mut rng)?;
//! let root = ca::self_signed_root(
//!     &root_key,
//!     Name::from_str("CN=Example Root,O=secdispatch").map_err(secdispatch_pqpki::Error::from)?,
//!     now,
//!     now + 3650 * day,
//!     None,
//!     None,
//!     &mut rng,
//! )?;
//!
//! // A server certificate for a fresh key.
//! let leaf_key = SigningKey::generate(alg, &mut rng)?;
//! let mut req = IssueRequest::new(
//!     Name::from_str("CN=gateway.example").map_err(secdispatch_pqpki::Error::from)?,
//!     leaf_key.public_key(),
//!     Profile::Server,
//!     now,
//!     now + 90 * day,
//! )?;
//! req.sans = SubjectAltNames::parse(["DNS:gateway.example"])?;
//! let leaf = CertificateAuthority::new(root.clone(), &root_key)?.issue(&req, &mut rng)?;
//!
//! // Validate it at a given time for a host name.
//! let mut opts = Options::at(now + day);
//! opts.host = Some("gateway.example");
//! let path = validate::validate_chain(&leaf, &[], &[root], &opts)?;
//! assert_eq!(path.chain.len(), 2);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod alg;
pub mod ca;
pub mod cert;
pub mod chameleon;
pub mod composite;
pub mod crl;
pub mod csr;
pub mod error;
pub mod inspect;
pub mod keys;
pub mod mldsa;
pub mod oid;
pub mod pkcs8;
pub mod policy;
pub mod related;
pub mod trad;
pub mod validate;

pub use alg::Algorithm;
pub use error::{Error, Result};
pub use keys::{Signature, SigningKey, VerifyingKey};

/// The composite-signature draft this crate implements.
pub const COMPOSITE_DRAFT: &str = "draft-ietf-lamps-pq-composite-sigs-19";
