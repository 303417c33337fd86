//! Extensions: nonce (RFC 9654), AcceptableResponses, PreferredSignatureAlgorithms (RFC 6960
//! §4.4.7), extended revoke, OCSP no-check, and the experimental OCSPv2 ones.

use der::asn1::{Null, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;

use crate::error::{RequestError, Result};
use crate::oid;

/// Longest nonce RFC 9654 allows.
pub const MAX_NONCE_LEN: usize = 128;

/// An extension with `value_der` as extnValue.
pub fn extension(oid: ObjectIdentifier, critical: bool, value_der: &[u8]) -> Result<Extension> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value_der)?,
    })
}

/// A non-critical extension whose value is NULL (`05 00`): range opt-in, include-chain,
/// extended revoke, no-check.
pub fn null_extension(oid: ObjectIdentifier) -> Result<Extension> {
    extension(oid, false, &Null.to_der()?)
}

/// A request nonce as received: its octets and the extnValue to echo verbatim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nonce {
    value: Vec<u8>,
    extn_value: Vec<u8>,
}

impl Nonce {
    /// A nonce in RFC 9654's form (extnValue = DER of an OCTET STRING), 1..=128 octets.
    pub fn new(value: &[u8]) -> core::result::Result<Nonce, RequestError> {
        if value.is_empty() || value.len() > MAX_NONCE_LEN {
            return Err(RequestError::NonceLength(value.len()));
        }
        let extn_value = OctetString::new(value)
            .and_then(|o| o.to_der())
            .map_err(|e| RequestError::Decode(e.to_string()))?;
        Ok(Nonce {
            value: value.to_vec(),
            extn_value,
        })
    }

    /// Parse an extnValue: the DER of an OCTET STRING (RFC 9654, what OpenSSL sends) or, from
    /// old clients, the raw nonce. The nonce must be 1..=128 octets.
    pub fn from_extn_value(extn_value: &[u8]) -> core::result::Result<Nonce, RequestError> {
        let value = match OctetString::from_der(extn_value) {
            Ok(o) if extn_value.first() == Some(&0x04) => o.as_bytes().to_vec(),
            _ => extn_value.to_vec(),
        };
        if value.is_empty() || value.len() > MAX_NONCE_LEN {
            return Err(RequestError::NonceLength(value.len()));
        }
        Ok(Nonce {
            value,
            extn_value: extn_value.to_vec(),
        })
    }

    /// The nonce octets.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The extnValue as received (echoed verbatim in the response).
    pub fn extn_value(&self) -> &[u8] {
        &self.extn_value
    }

    /// The response extension echoing this nonce.
    pub fn to_extension(&self) -> Result<Extension> {
        extension(oid::OCSP_NONCE, false, &self.extn_value)
    }
}

/// `AcceptableResponses ::= SEQUENCE OF OBJECT IDENTIFIER`: DER of the extension value.
pub fn acceptable_responses_der(types: &[ObjectIdentifier]) -> Result<Vec<u8>> {
    Ok(types.to_vec().to_der()?)
}

/// `PreferredSignatureAlgorithm ::= SEQUENCE { sigIdentifier AlgorithmIdentifier,
/// pubKeyAlgIdentifier SMIMECapability OPTIONAL }` (SMIMECapability has AlgorithmIdentifier's shape).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct PreferredSignatureAlgorithm {
    /// The signature algorithm.
    pub sig_identifier: AlgorithmIdentifierOwned,
    /// The public key algorithm, if the client constrains it.
    #[asn1(optional = "true")]
    pub pub_key_alg_identifier: Option<AlgorithmIdentifierOwned>,
}

/// DER of `PreferredSignatureAlgorithms ::= SEQUENCE OF PreferredSignatureAlgorithm`.
pub fn preferred_signature_algorithms_der(
    prefs: &[PreferredSignatureAlgorithm],
) -> Result<Vec<u8>> {
    Ok(prefs.to_vec().to_der()?)
}

fn same_alg(pref: &AlgorithmIdentifierOwned, have: &AlgorithmIdentifierOwned) -> bool {
    // Parameters only discriminate when the client gave some other than NULL (RSASSA-PSS).
    pref.oid == have.oid
        && match &pref.parameters {
            None => true,
            Some(p) if *p == der::Any::null() => true,
            Some(p) => have.parameters.as_ref() == Some(p),
        }
}

/// Choose a signer variant by the client's preferences (in the client's order of preference).
/// `variants` yields each variant's (signatureAlgorithm, subjectPublicKeyInfo algorithm);
/// returns the index of the first variant matching the most preferred entry that any variant
/// matches, or `None` (serve the default variant).
pub fn choose_signer<'a>(
    prefs: &[PreferredSignatureAlgorithm],
    variants: impl IntoIterator<Item = (&'a AlgorithmIdentifierOwned, &'a AlgorithmIdentifierOwned)>,
) -> Option<usize> {
    let variants: Vec<_> = variants.into_iter().collect();
    prefs.iter().find_map(|p| {
        variants.iter().position(|(sig, key)| {
            same_alg(&p.sig_identifier, sig)
                && p.pub_key_alg_identifier
                    .as_ref()
                    .is_none_or(|k| same_alg(k, key))
        })
    })
}
