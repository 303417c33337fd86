//! Token type 0x0002, Blind RSA (2048-bit): RFC 9578 §6 over RFC 9474
//! `RSABSSA-SHA384-PSS-Deterministic` (empty prefix, salt length 48, MGF1-SHA-384).
//!
//! * `token-key`: DER `SubjectPublicKeyInfo` with the `id-RSASSA-PSS` OID and parameters
//!   {SHA-384, MGF1-SHA-384, salt 48}; for RSA-2048 with e = 65537 a fixed 72-byte prefix
//!   and the PKCS#1 `RSAPublicKey` ([`PublicKey::spki`]).
//! * Client: `EMSA-PSS-ENCODE(AuthenticatorInput)`, blinded with `r^e` ([`request`]);
//!   `Finalize` unblinds and verifies ([`TokenState::finalize`]).
//! * Issuer: `BlindSign` = `m^d mod n` plus the `s^e == m` check, through a
//!   [`BlindSigner`] backend: [`Backend::AwsLc`] (raw RSA in aws-lc, the default) or
//!   [`Backend::PureRust`] (the constant-time `rsa` crate).
//! * Anyone with the public key verifies: RSASSA-PSS-VERIFY through aws-lc-rs.

mod raw_rsa;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PSS_2048_8192_SHA384};
use crypto_bigint::{BoxedUint, Gcd, NonZero, RandomMod};
use rand_core::TryCryptoRng;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::key_id::TokenKeyId;
use crate::wire::challenge::{TokenChallenge, TokenType};
use crate::wire::token::{AUTHENTICATOR_INPUT_LEN, Token, authenticator_input};
use crate::wire::token_request::{TokenRequest, TokenResponse};

/// `Nk`: modulus, blinded message, blind signature and authenticator length.
pub const NK: usize = 256;
/// Salt length of RSABSSA-SHA384-PSS (= hash length).
pub const SALT_LEN: usize = 48;
/// The `SubjectPublicKeyInfo` prefix of an RSA-2048, e = 65537 `id-RSASSA-PSS` key with
/// SHA-384 / MGF1-SHA-384 / salt 48 parameters (RFC 9578 §6.5); the PKCS#1 key follows.
pub const SPKI_PREFIX: [u8; 72] = [
    0x30, 0x82, 0x01, 0x52, 0x30, 0x3d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
    0x0a, 0x30, 0x30, 0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
    0x02, 0x02, 0xa1, 0x1a, 0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
    0x08, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0xa2, 0x03,
    0x02, 0x01, 0x30, 0x03, 0x82, 0x01, 0x0f, 0x00,
];
/// Length of the PKCS#1 `RSAPublicKey` of a 2048-bit key with e = 65537.
const PKCS1_LEN: usize = 270;
const MODULUS_BITS: u32 = 2048;

/// An issuer's public key for type 0x0002.
#[derive(Clone)]
pub struct PublicKey {
    spki: Vec<u8>,
    key_id: TokenKeyId,
    rsa: rsa::PublicKey,
    verifier: ParsedPublicKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("type2::PublicKey")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl PublicKey {
    /// Decode a `token-key`: exactly the RSASSA-PSS SPKI of RFC 9578 §6.5 for a 2048-bit
    /// key with e = 65537 (any other parameters are refused).
    pub fn from_token_key(spki: &[u8]) -> Result<Self> {
        if spki.len() != SPKI_PREFIX.len() + PKCS1_LEN {
            return Err(Error::Length {
                what: "type 2 token-key",
                got: spki.len(),
                expected: SPKI_PREFIX.len() + PKCS1_LEN,
            });
        }
        let (prefix, pkcs1) = spki.split_at(SPKI_PREFIX.len());
        if prefix != SPKI_PREFIX {
            return Err(Error::InvalidKey(
                "type 2 token-key is not an RSASSA-PSS SHA-384 SPKI of a 2048-bit key".into(),
            ));
        }
        Self::from_pkcs1(pkcs1)
    }

    /// From a PKCS#1 `RSAPublicKey` (2048-bit, e = 65537).
    pub fn from_pkcs1(pkcs1: &[u8]) -> Result<Self> {
        let rsa = rsa::PublicKey::from_pkcs1_der(pkcs1)
            .map_err(|e| Error::InvalidKey(format!("RSA public key: {e}")))?;
        if rsa.n().bit_width() != MODULUS_BITS || rsa.e() != &BoxedUint::from(65_537u32) {
            return Err(Error::InvalidKey(
                "type 2 keys are RSA-2048 with e = 65537".into(),
            ));
        }
        let verifier = ParsedPublicKey::new(&RSA_PSS_2048_8192_SHA384, pkcs1)
            .map_err(|e| Error::InvalidKey(format!("RSA public key: {e}")))?;
        let mut spki = Vec::with_capacity(SPKI_PREFIX.len() + pkcs1.len());
        spki.extend_from_slice(&SPKI_PREFIX);
        spki.extend_from_slice(pkcs1);
        if spki.len() != SPKI_PREFIX.len() + PKCS1_LEN {
            return Err(Error::InvalidKey(
                "non-canonical RSAPublicKey encoding".into(),
            ));
        }
        Ok(Self {
            key_id: TokenKeyId::of(&spki),
            spki,
            rsa,
            verifier,
        })
    }

    /// The `token-key` (SPKI DER), as published in the directory.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// `SHA-256(token-key)`.
    pub fn key_id(&self) -> TokenKeyId {
        self.key_id
    }

    /// Verify a token (RFC 9578 §6.4): key id, then RSASSA-PSS-VERIFY over the
    /// `AuthenticatorInput` with SHA-384, MGF1-SHA-384, salt 48.
    pub fn verify(&self, token: &Token) -> Result<()> {
        if token.token_type != TokenType::PUBLIC_RSA {
            return Err(Error::UnsupportedTokenType(token.token_type));
        }
        if token.token_key_id != self.key_id.0 {
            return Err(Error::UnknownKeyId);
        }
        token.check_lengths()?;
        self.verifier
            .verify_sig(&token.authenticator_input(), &token.authenticator)
            .map_err(|_| Error::InvalidAuthenticator)
    }

    fn modulus(&self) -> &NonZero<BoxedUint> {
        self.rsa.n()
    }
}

/// Which implementation computes `BlindSign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// Raw RSA in aws-lc (the crate's one FFI module): the fast default.
    #[default]
    AwsLc,
    /// The constant-time `rsa` crate, for platforms or audits that want no C.
    PureRust,
}

/// `BlindSign(skS, blinded_msg)` of RFC 9474 §4.3, fault check included.
pub trait BlindSigner: Send + Sync {
    /// Sign a 256-byte blinded message `m < n`; an error when `m >= n` or the
    /// `s^e == m` check fails.
    fn blind_sign(&self, blinded_msg: &[u8; NK]) -> Result<[u8; NK]>;
}

struct AwsLcSigner(raw_rsa::RawRsaKey);

impl BlindSigner for AwsLcSigner {
    fn blind_sign(&self, m: &[u8; NK]) -> Result<[u8; NK]> {
        self.0.blind_sign(m).ok_or(Error::Issuance(
            "blinded_msg is not below the modulus, or the signature check failed",
        ))
    }
}

struct PureRustSigner(rsa::PrivateKey);

impl BlindSigner for PureRustSigner {
    fn blind_sign(&self, m: &[u8; NK]) -> Result<[u8; NK]> {
        let n = self.0.n();
        let c = BoxedUint::from_be_slice(m, n.bits_precision())
            .map_err(|_| Error::Issuance("blinded_msg does not fit the modulus"))?;
        if c >= *n.as_ref() {
            return Err(Error::Issuance("blinded_msg is not below the modulus"));
        }
        // `rsa_decrypt_and_check` blinds internally (timing) and verifies s^e == m.
        let s = rsa::hazmat::rsa_decrypt_and_check(&self.0, Some(&mut getrandom::SysRng), &c)
            .map_err(|_| Error::Issuance("RSA private operation or its check failed"))?;
        to_fixed(&s)
    }
}

fn to_fixed(x: &BoxedUint) -> Result<[u8; NK]> {
    let bytes = x.to_be_bytes();
    let mut out = [0u8; NK];
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let significant = &bytes[start..];
    if significant.len() > NK {
        return Err(Error::Issuance("integer longer than the modulus"));
    }
    out[NK - significant.len()..].copy_from_slice(significant);
    Ok(out)
}

/// An issuer's private key for type 0x0002.
pub struct IssuerKey {
    pkcs8: Zeroizing<Vec<u8>>,
    public: PublicKey,
    signer: Box<dyn BlindSigner>,
    backend: Backend,
}

impl std::fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("type2::IssuerKey")
            .field("key_id", &self.public.key_id)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl IssuerKey {
    /// A fresh RSA-2048 key (aws-lc key generation, e = 65537).
    pub fn generate(backend: Backend) -> Result<Self> {
        use aws_lc_rs::encoding::AsDer;
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
            .map_err(|_| Error::Issuance("RSA key generation failed"))?;
        let der = pair
            .as_der()
            .map_err(|_| Error::Issuance("RSA key encoding failed"))?;
        Self::from_pkcs8(der.as_ref(), backend)
    }

    /// A key from PKCS#8 DER (`rsaEncryption`), as kept in the key store.
    pub fn from_pkcs8(pkcs8: &[u8], backend: Backend) -> Result<Self> {
        let private = rsa::PrivateKey::from_pkcs8_der(pkcs8)
            .map_err(|e| Error::InvalidKey(format!("RSA private key: {e}")))?;
        let public_rsa = private.to_public_key();
        let pkcs1_public = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&public_rsa)
            .map_err(|e| Error::InvalidKey(format!("RSA public key: {e}")))?;
        let public = PublicKey::from_pkcs1(pkcs1_public.as_bytes())?;
        let signer: Box<dyn BlindSigner> = match backend {
            Backend::AwsLc => {
                let pkcs1 = private
                    .to_pkcs1_der()
                    .map_err(|e| Error::InvalidKey(format!("RSA private key: {e}")))?;
                let raw =
                    raw_rsa::RawRsaKey::from_pkcs1_der(pkcs1.as_bytes()).ok_or_else(|| {
                        Error::InvalidKey("aws-lc refused the RSA private key".into())
                    })?;
                Box::new(AwsLcSigner(raw))
            }
            Backend::PureRust => Box::new(PureRustSigner(private)),
        };
        Ok(Self {
            pkcs8: Zeroizing::new(pkcs8.to_vec()),
            public,
            signer,
            backend,
        })
    }

    /// The PKCS#8 DER, for the key store.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The signing backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answer one `TokenRequest` (RFC 9578 §6.2).
    pub fn issue(&self, request: &TokenRequest) -> Result<TokenResponse> {
        if request.token_type != TokenType::PUBLIC_RSA {
            return Err(Error::UnsupportedTokenType(request.token_type));
        }
        if request.truncated_token_key_id != self.public.key_id.truncated() {
            return Err(Error::UnknownTruncatedKeyId(request.truncated_token_key_id));
        }
        let m: &[u8; NK] =
            request
                .blinded_msg
                .as_slice()
                .try_into()
                .map_err(|_| Error::Length {
                    what: "blinded_msg",
                    got: request.blinded_msg.len(),
                    expected: NK,
                })?;
        let s = self.signer.blind_sign(m)?;
        Ok(TokenResponse {
            token_type: TokenType::PUBLIC_RSA,
            bytes: s.to_vec(),
        })
    }

    /// Verify a token (delegates to the public key).
    pub fn verify(&self, token: &Token) -> Result<()> {
        self.public.verify(token)
    }
}

/// What a client keeps between its `TokenRequest` and the issuer's `TokenResponse`.
pub struct TokenState {
    r_inv: Zeroizing<BoxedUint>,
    input: [u8; AUTHENTICATOR_INPUT_LEN],
    nonce: [u8; 32],
    challenge_digest: [u8; 32],
    public: PublicKey,
}

impl std::fmt::Debug for TokenState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("type2::TokenState")
            .field("key_id", &self.public.key_id)
            .finish_non_exhaustive()
    }
}

/// `EMSA-PSS-ENCODE` (RFC 8017 §9.1.1) with SHA-384, MGF1-SHA-384, for a 2047-bit
/// `emBits` (2048-bit modulus).
fn emsa_pss_encode(msg: &[u8], salt: &[u8; SALT_LEN]) -> [u8; NK] {
    const H: usize = 48;
    let m_hash = crate::sha384(msg);
    let mut m_prime = Vec::with_capacity(8 + H + SALT_LEN);
    m_prime.extend_from_slice(&[0u8; 8]);
    m_prime.extend_from_slice(&m_hash);
    m_prime.extend_from_slice(salt);
    let h = crate::sha384(&m_prime);
    let db_len = NK - H - 1;
    let mut em = [0u8; NK];
    // DB = PS ‖ 0x01 ‖ salt
    em[db_len - SALT_LEN - 1] = 0x01;
    em[db_len - SALT_LEN..db_len].copy_from_slice(salt);
    // maskedDB = DB xor MGF1(H, db_len)
    let mut counter = 0u32;
    let mut offset = 0;
    while offset < db_len {
        let mut block = Vec::with_capacity(H + 4);
        block.extend_from_slice(&h);
        block.extend_from_slice(&counter.to_be_bytes());
        let mask = crate::sha384(&block);
        for (e, m) in em[offset..db_len].iter_mut().zip(mask.iter()) {
            *e ^= m;
        }
        offset += H;
        counter += 1;
    }
    // 8*emLen - emBits = 1 leftmost bit cleared.
    em[0] &= 0x7f;
    em[db_len..db_len + H].copy_from_slice(&h);
    em[NK - 1] = 0xbc;
    em
}

fn token_input(
    challenge: &TokenChallenge,
    public: &PublicKey,
    nonce: &[u8; 32],
) -> Result<([u8; 32], [u8; AUTHENTICATOR_INPUT_LEN])> {
    if challenge.token_type() != TokenType::PUBLIC_RSA {
        return Err(Error::UnsupportedTokenType(challenge.token_type()));
    }
    let digest = challenge.digest();
    Ok((
        digest,
        authenticator_input(TokenType::PUBLIC_RSA, nonce, &digest, &public.key_id().0),
    ))
}

/// Client side: blind a fresh token for `challenge` under `public` (RFC 9578 §6.1).
pub fn request<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    challenge: &TokenChallenge,
    public: &PublicKey,
) -> Result<(TokenRequest, TokenState)> {
    let mut nonce = [0u8; 32];
    rng.try_fill_bytes(&mut nonce).map_err(|_| Error::Rng)?;
    let mut salt = [0u8; SALT_LEN];
    rng.try_fill_bytes(&mut salt).map_err(|_| Error::Rng)?;
    let n = public.modulus();
    // r uniform in [1, n) and invertible (anything else has probability ~2^-1024).
    let r = loop {
        let r = BoxedUint::try_random_mod_vartime(rng, n).map_err(|_| Error::Rng)?;
        if !bool::from(r.is_zero()) {
            break Zeroizing::new(r);
        }
    };
    blind(challenge, public, nonce, &salt, r)
}

/// Client side with a given nonce, salt and blinding factor `r` (big-endian): for known
/// answer tests. Production code uses [`request`].
pub fn request_with_blind(
    challenge: &TokenChallenge,
    public: &PublicKey,
    nonce: [u8; 32],
    salt: &[u8; SALT_LEN],
    r: &[u8],
) -> Result<(TokenRequest, TokenState)> {
    let r = BoxedUint::from_be_slice(r, public.modulus().bits_precision())
        .map_err(|_| Error::InvalidElement("blind"))?;
    blind(challenge, public, nonce, salt, Zeroizing::new(r))
}

fn blind(
    challenge: &TokenChallenge,
    public: &PublicKey,
    nonce: [u8; 32],
    salt: &[u8; SALT_LEN],
    r: Zeroizing<BoxedUint>,
) -> Result<(TokenRequest, TokenState)> {
    let (challenge_digest, input) = token_input(challenge, public, &nonce)?;
    let n = public.modulus();
    let em = emsa_pss_encode(&input, salt);
    let m = BoxedUint::from_be_slice(&em, n.bits_precision())
        .map_err(|_| Error::Issuance("encoded message does not fit the modulus"))?;
    // RFC 9474 §4.2 step 4: m must be coprime to n.
    if m.gcd(n.as_ref()) != BoxedUint::one_with_precision(n.bits_precision()) {
        return Err(Error::Issuance(
            "encoded message is not coprime to the modulus",
        ));
    }
    let r_inv: Option<BoxedUint> = r.invert_mod(n).into();
    let r_inv = r_inv.ok_or(Error::InvalidElement("blind is not invertible modulo n"))?;
    let x = rsa::hazmat::rsa_encrypt(&public.rsa, &r)
        .map_err(|_| Error::Issuance("RSA public operation failed"))?;
    let blinded = m.mul_mod(&x, n);
    let request = TokenRequest {
        token_type: TokenType::PUBLIC_RSA,
        truncated_token_key_id: public.key_id().truncated(),
        blinded_msg: to_fixed(&blinded)?.to_vec(),
    };
    Ok((
        request,
        TokenState {
            r_inv: Zeroizing::new(r_inv),
            input,
            nonce,
            challenge_digest,
            public: public.clone(),
        },
    ))
}

impl TokenState {
    /// Unblind the issuer's blind signature and verify it (RFC 9474 §4.4): the token.
    pub fn finalize(self, response: &TokenResponse) -> Result<Token> {
        if response.token_type != TokenType::PUBLIC_RSA || response.bytes.len() != NK {
            return Err(Error::Length {
                what: "type 2 TokenResponse",
                got: response.bytes.len(),
                expected: NK,
            });
        }
        let n = self.public.modulus();
        let z = BoxedUint::from_be_slice(&response.bytes, n.bits_precision())
            .map_err(|_| Error::InvalidAuthenticator)?;
        if z >= *n.as_ref() {
            return Err(Error::InvalidAuthenticator);
        }
        let s = z.mul_mod(&self.r_inv, n);
        let token = Token {
            token_type: TokenType::PUBLIC_RSA,
            nonce: self.nonce,
            challenge_digest: self.challenge_digest,
            token_key_id: self.public.key_id().0,
            authenticator: to_fixed(&s)?.to_vec(),
        };
        debug_assert_eq!(token.authenticator_input(), self.input);
        self.public.verify(&token)?;
        Ok(token)
    }
}
