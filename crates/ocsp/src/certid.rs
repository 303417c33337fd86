//! CertIDs: hash algorithms, computing a CertID from an issuer certificate and a serial,
//! matching a request's CertID against the issuers we serve.
//!
//! `issuerNameHash` = H(DER of the issuer's subject Name); `issuerKeyHash` = H(value of the
//! issuer's subjectPublicKey BIT STRING, without tag, length and unused-bits octet). SHA-1
//! (legacy, `openssl ocsp`'s default), SHA-256 (RFC 9919), SHA-384 and SHA-512 are supported;
//! a response echoes the request's hash algorithm.

use std::collections::HashMap;

use aws_lc_rs::digest;
use der::asn1::{Int, OctetString};
use der::{Any, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use crate::error::{Error, RequestError, Result};
use crate::oid;
use crate::types::{CertId, serial_magnitude};

/// A CertID hash algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlgorithm {
    /// SHA-1 (legacy; still the `openssl ocsp` default).
    Sha1,
    /// SHA-256 (RFC 9919 clients MUST use it).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [HashAlgorithm; 4] = [
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// Its OID.
    pub fn oid(self) -> const_oid::ObjectIdentifier {
        match self {
            HashAlgorithm::Sha1 => oid::SHA1,
            HashAlgorithm::Sha256 => oid::SHA256,
            HashAlgorithm::Sha384 => oid::SHA384,
            HashAlgorithm::Sha512 => oid::SHA512,
        }
    }

    /// The algorithm for an OID.
    pub fn from_oid(o: &const_oid::ObjectIdentifier) -> Option<HashAlgorithm> {
        HashAlgorithm::ALL.into_iter().find(|h| h.oid() == *o)
    }

    /// The algorithm of an AlgorithmIdentifier whose parameters are absent or NULL.
    pub fn from_algorithm_identifier(a: &AlgorithmIdentifierOwned) -> Option<HashAlgorithm> {
        if let Some(p) = &a.parameters
            && *p != Any::null()
        {
            return None;
        }
        HashAlgorithm::from_oid(&a.oid)
    }

    /// The AlgorithmIdentifier we put in CertIDs we make (parameters NULL, as OpenSSL does).
    pub fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: Some(Any::null()),
        }
    }

    /// Output length in bytes.
    pub fn output_len(self) -> usize {
        self.digest_algorithm().output_len()
    }

    fn digest_algorithm(self) -> &'static digest::Algorithm {
        match self {
            HashAlgorithm::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha256 => &digest::SHA256,
            HashAlgorithm::Sha384 => &digest::SHA384,
            HashAlgorithm::Sha512 => &digest::SHA512,
        }
    }

    /// Hash `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.digest_algorithm(), data)
            .as_ref()
            .to_vec()
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The value of a certificate's subjectPublicKey BIT STRING (what key hashes are taken over).
pub fn subject_public_key_bytes(cert: &Certificate) -> Result<&[u8]> {
    cert.tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .as_bytes()
        .ok_or(Error::KeyBits)
}

/// `KeyHash` of a certificate's key: SHA-1 of its subjectPublicKey value (ResponderID byKey).
pub fn key_hash(cert: &Certificate) -> Result<[u8; 20]> {
    let d = digest::digest(
        &digest::SHA1_FOR_LEGACY_USE_ONLY,
        subject_public_key_bytes(cert)?,
    );
    let mut out = [0u8; 20];
    out.copy_from_slice(d.as_ref());
    Ok(out)
}

/// An issuer's name and key hashes under every supported algorithm, precomputed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerHashes {
    name: [Vec<u8>; 4],
    key: [Vec<u8>; 4],
}

impl IssuerHashes {
    /// Hashes of `issuer` (the CA certificate that issued the certificates asked about).
    pub fn from_certificate(issuer: &Certificate) -> Result<IssuerHashes> {
        let name_der = issuer.tbs_certificate().subject().to_der()?;
        let key = subject_public_key_bytes(issuer)?;
        Ok(IssuerHashes {
            name: HashAlgorithm::ALL.map(|h| h.digest(&name_der)),
            key: HashAlgorithm::ALL.map(|h| h.digest(key)),
        })
    }

    /// issuerNameHash under `alg`.
    pub fn name_hash(&self, alg: HashAlgorithm) -> &[u8] {
        &self.name[alg.index()]
    }

    /// issuerKeyHash under `alg` (SHA-1 = the byKey KeyHash).
    pub fn key_hash(&self, alg: HashAlgorithm) -> &[u8] {
        &self.key[alg.index()]
    }

    /// The CertID for `serial` under `alg`.
    pub fn cert_id(&self, alg: HashAlgorithm, serial: Int) -> Result<CertId> {
        Ok(CertId {
            hash_algorithm: alg.algorithm_identifier(),
            issuer_name_hash: OctetString::new(self.name_hash(alg))?,
            issuer_key_hash: OctetString::new(self.key_hash(alg))?,
            serial_number: serial,
        })
    }

    /// Whether `id`'s hash algorithm and both issuer hashes are this issuer's (the serial is not
    /// compared). Unsupported hash algorithms are an error (answered `unauthorized`).
    pub fn matches_issuer(&self, id: &CertId) -> core::result::Result<bool, RequestError> {
        let alg = HashAlgorithm::from_algorithm_identifier(&id.hash_algorithm).ok_or(
            RequestError::UnsupportedHashAlgorithm(id.hash_algorithm.oid),
        )?;
        Ok(self.name_hash(alg) == id.issuer_name_hash.as_bytes()
            && self.key_hash(alg) == id.issuer_key_hash.as_bytes())
    }
}

/// The CertID of `cert` (issued by `issuer`) under `alg`.
pub fn cert_id_for(issuer: &Certificate, cert: &Certificate, alg: HashAlgorithm) -> Result<CertId> {
    // The INTEGER exactly as the certificate encodes it (clients compare it byte for byte).
    let serial = Int::new(cert.tbs_certificate().serial_number().as_bytes())?;
    IssuerHashes::from_certificate(issuer)?.cert_id(alg, serial)
}

/// What a request CertID resolved to: which issuer, which hash algorithm (to echo), which serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup<'a, I> {
    /// The issuer's handle, as registered in [`IssuerIndex::insert`].
    pub issuer: &'a I,
    /// The CertID's hash algorithm (the response must echo it).
    pub hash: HashAlgorithm,
    /// The serial's magnitude, big-endian, no leading zeros (the cache key together with `issuer`).
    pub serial: &'a [u8],
}

/// The issuers a responder serves, indexed by key hash under each supported algorithm.
#[derive(Debug, Clone)]
pub struct IssuerIndex<I> {
    issuers: Vec<(IssuerHashes, I)>,
    by_key: [HashMap<Box<[u8]>, Vec<usize>>; 4],
    enabled: [bool; 4],
}

impl<I> Default for IssuerIndex<I> {
    fn default() -> Self {
        IssuerIndex {
            issuers: Vec::new(),
            by_key: Default::default(),
            enabled: [true; 4],
        }
    }
}

impl<I> IssuerIndex<I> {
    /// An empty index accepting every supported hash algorithm.
    pub fn new() -> IssuerIndex<I> {
        IssuerIndex::default()
    }

    /// Only answer CertIDs hashed with `algs` (others get `unauthorized`).
    pub fn with_hash_algorithms(mut self, algs: &[HashAlgorithm]) -> IssuerIndex<I> {
        self.enabled = HashAlgorithm::ALL.map(|h| algs.contains(&h));
        self
    }

    /// Serve `issuer` under the handle `id`.
    pub fn insert(&mut self, issuer: &Certificate, id: I) -> Result<()> {
        let h = IssuerHashes::from_certificate(issuer)?;
        let idx = self.issuers.len();
        for alg in HashAlgorithm::ALL {
            self.by_key[alg.index()]
                .entry(h.key_hash(alg).into())
                .or_default()
                .push(idx);
        }
        self.issuers.push((h, id));
        Ok(())
    }

    /// Number of issuers.
    pub fn len(&self) -> usize {
        self.issuers.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    /// Resolve a request's CertID: unsupported hash → `UnsupportedHashAlgorithm`, no matching
    /// issuer → `UnknownIssuer` (both `unauthorized`), negative serial → `NegativeSerial`.
    pub fn lookup<'a>(
        &'a self,
        id: &'a CertId,
    ) -> core::result::Result<Lookup<'a, I>, RequestError> {
        let alg = HashAlgorithm::from_algorithm_identifier(&id.hash_algorithm)
            .filter(|a| self.enabled[a.index()])
            .ok_or(RequestError::UnsupportedHashAlgorithm(
                id.hash_algorithm.oid,
            ))?;
        let serial = serial_magnitude(&id.serial_number).ok_or(RequestError::NegativeSerial)?;
        let candidates = self.by_key[alg.index()]
            .get(id.issuer_key_hash.as_bytes())
            .ok_or(RequestError::UnknownIssuer)?;
        for &i in candidates {
            let (h, issuer) = &self.issuers[i];
            if h.name_hash(alg) == id.issuer_name_hash.as_bytes() {
                return Ok(Lookup {
                    issuer,
                    hash: alg,
                    serial,
                });
            }
        }
        Err(RequestError::UnknownIssuer)
    }
}
