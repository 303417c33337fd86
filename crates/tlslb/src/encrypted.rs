//! `EncryptedProxyData`, the keys it is sealed with, and the `proxy_header` record that
//! carries it (draft-schwartz-tls-lb-02 §3, §4):
//!
//! ```text
//! struct { opaque psk_identity<1..2^16-1>; opaque nonce<8..2^16-1>;
//!          opaque encrypted_proxy_data<1..2^16-1>; } EncryptedProxyData;
//! encrypted_proxy_data = AEAD-Encrypt(key, nonce, additional_data, ProxyData)
//! ```
//!
//! Upstream, the additional data is the client's complete ClientHello handshake message
//! (**[ours]**: `msg_type ‖ u24 length ‖ body`, reassembled across records, so it does not
//! depend on how the client fragmented it); downstream, the upstream
//! `EncryptedProxyData` bytes. A header is therefore bound to one ClientHello and an
//! answer to one header. Recipients check the direction inside (anti-reflection).
//!
//! The draft defines neither ciphers nor key files: we use the -00/-01 `ProxyKey`
//! structure (`ProtocolVersion version = 0; opaque psk_identity<1..2^16-1>; CipherSuite
//! cipher_suite; opaque key<16..2^16-1>`), with the TLS 1.3 AEAD cipher suites
//! (AES-128-GCM default, AES-256-GCM, ChaCha20-Poly1305) and 12-byte nonces.

use aws_lc_rs::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use base64::Engine as _;
use zeroize::Zeroizing;

use crate::Error;
use crate::codec::{Reader, put_vec16};
use crate::proxy_data::{Direction, ProxyData};

/// The AEAD nonce length we send and accept.
pub const NONCE_LEN: usize = 12;
/// Largest record payload (TLSPlaintext limit).
pub const MAX_RECORD: usize = 1 << 14;
/// PEM label of key files.
pub const KEY_PEM_LABEL: &str = "TLS-LB PROXY KEY";

/// `EncryptedProxyData`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedProxyData {
    /// Names the key (cleartext).
    pub psk_identity: Vec<u8>,
    /// The AEAD nonce.
    pub nonce: Vec<u8>,
    /// Ciphertext and tag.
    pub ciphertext: Vec<u8>,
}

impl EncryptedProxyData {
    /// Wire bytes.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(
            6 + self.psk_identity.len() + self.nonce.len() + self.ciphertext.len(),
        );
        put_vec16(&mut out, &self.psk_identity, "psk_identity")?;
        put_vec16(&mut out, &self.nonce, "nonce")?;
        put_vec16(&mut out, &self.ciphertext, "encrypted_proxy_data")?;
        Ok(out)
    }

    /// Parse, with the draft's minimum lengths (identity ≥ 1, nonce ≥ 8, ciphertext ≥ 1).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "EncryptedProxyData");
        let psk_identity = r.vec16(1)?.to_vec();
        let nonce = r.vec16(8)?.to_vec();
        let ciphertext = r.vec16(1)?.to_vec();
        r.finish()?;
        Ok(Self {
            psk_identity,
            nonce,
            ciphertext,
        })
    }
}

/// The AEADs of our key files, by TLS 1.3 cipher suite number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cipher {
    /// TLS_AES_128_GCM_SHA256 (0x1301), the default.
    Aes128Gcm,
    /// TLS_AES_256_GCM_SHA384 (0x1302).
    Aes256Gcm,
    /// TLS_CHACHA20_POLY1305_SHA256 (0x1303).
    ChaCha20Poly1305,
}

impl Cipher {
    /// The cipher suite number.
    pub fn suite(self) -> u16 {
        match self {
            Cipher::Aes128Gcm => 0x1301,
            Cipher::Aes256Gcm => 0x1302,
            Cipher::ChaCha20Poly1305 => 0x1303,
        }
    }

    /// From a cipher suite number.
    pub fn from_suite(s: u16) -> Result<Self, Error> {
        match s {
            0x1301 => Ok(Cipher::Aes128Gcm),
            0x1302 => Ok(Cipher::Aes256Gcm),
            0x1303 => Ok(Cipher::ChaCha20Poly1305),
            other => Err(Error::UnsupportedCipher(other)),
        }
    }

    /// From a name: `aes-128-gcm`, `aes-256-gcm`, `chacha20-poly1305`.
    pub fn from_name(s: &str) -> Result<Self, Error> {
        match s {
            "aes-128-gcm" => Ok(Cipher::Aes128Gcm),
            "aes-256-gcm" => Ok(Cipher::Aes256Gcm),
            "chacha20-poly1305" => Ok(Cipher::ChaCha20Poly1305),
            _ => Err(Error::Invalid(
                "cipher: aes-128-gcm, aes-256-gcm or chacha20-poly1305",
            )),
        }
    }

    /// Key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Gcm => 16,
            _ => 32,
        }
    }

    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Cipher::Aes128Gcm => &aead::AES_128_GCM,
            Cipher::Aes256Gcm => &aead::AES_256_GCM,
            Cipher::ChaCha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// One key: the -00/-01 `ProxyKey`.
pub struct ProxyKey {
    /// Names the key on the wire.
    pub psk_identity: Vec<u8>,
    /// The AEAD.
    pub cipher: Cipher,
    key: LessSafeKey,
    raw: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for ProxyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyKey")
            .field("psk_identity", &String::from_utf8_lossy(&self.psk_identity))
            .field("cipher", &self.cipher)
            .finish_non_exhaustive()
    }
}

impl ProxyKey {
    /// A key from its parts.
    pub fn new(psk_identity: &[u8], cipher: Cipher, key: &[u8]) -> Result<Self, Error> {
        if psk_identity.is_empty() || psk_identity.len() > 0xffff {
            return Err(Error::Invalid("psk_identity must be 1..65535 bytes"));
        }
        if key.len() != cipher.key_len() {
            return Err(Error::Invalid("key length does not match the cipher"));
        }
        let unbound =
            UnboundKey::new(cipher.algorithm(), key).map_err(|_| Error::Invalid("key"))?;
        Ok(Self {
            psk_identity: psk_identity.to_vec(),
            cipher,
            key: LessSafeKey::new(unbound),
            raw: Zeroizing::new(key.to_vec()),
        })
    }

    /// The `ProxyKey` structure.
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut out = Zeroizing::new(vec![0, 0]);
        put_vec16(&mut out, &self.psk_identity, "psk_identity")?;
        out.extend_from_slice(&self.cipher.suite().to_be_bytes());
        put_vec16(&mut out, &self.raw, "key")?;
        Ok(out)
    }

    /// Parse a `ProxyKey` structure.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "ProxyKey");
        if r.u16()? != 0 {
            return Err(Error::Invalid("ProxyKey version must be 0"));
        }
        let id = r.vec16(1)?;
        let cipher = Cipher::from_suite(r.u16()?)?;
        let key = Zeroizing::new(r.vec16(16)?.to_vec());
        r.finish()?;
        Self::new(id, cipher, &key)
    }

    /// Seal `data` with `aad` under `nonce`.
    pub fn seal(
        &self,
        data: &ProxyData,
        aad: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> Result<EncryptedProxyData, Error> {
        let mut buf = data.encode()?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| Error::Invalid("sealing failed"))?;
        Ok(EncryptedProxyData {
            psk_identity: self.psk_identity.clone(),
            nonce: nonce.to_vec(),
            ciphertext: buf,
        })
    }

    fn open(&self, epd: &EncryptedProxyData, aad: &[u8]) -> Result<ProxyData, Error> {
        let nonce: [u8; NONCE_LEN] = epd
            .nonce
            .as_slice()
            .try_into()
            .map_err(|_| Error::UnsupportedNonce(epd.nonce.len()))?;
        let mut buf = epd.ciphertext.clone();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| Error::Authentication)?;
        ProxyData::decode(plain)
    }
}

/// Keys by `psk_identity`: several during a rotation. The first seals; any opens.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: Vec<ProxyKey>,
}

impl Keyring {
    /// A keyring; `keys[0]` seals.
    pub fn new(keys: Vec<ProxyKey>) -> Result<Self, Error> {
        if keys.is_empty() {
            return Err(Error::Invalid("a keyring needs at least one key"));
        }
        for (i, k) in keys.iter().enumerate() {
            if keys[..i].iter().any(|o| o.psk_identity == k.psk_identity) {
                return Err(Error::Invalid("two keys with the same psk_identity"));
            }
        }
        Ok(Self { keys })
    }

    /// Read a key file: one or more `-----BEGIN TLS-LB PROXY KEY-----` blocks, each the
    /// base64 of a `ProxyKey`; the first seals.
    pub fn from_pem(text: &str) -> Result<Self, Error> {
        let begin = format!("-----BEGIN {KEY_PEM_LABEL}-----");
        let end = format!("-----END {KEY_PEM_LABEL}-----");
        let mut keys = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find(&begin) {
            let after = &rest[i + begin.len()..];
            let j = after
                .find(&end)
                .ok_or(Error::Invalid("unterminated key block"))?;
            let b64: String = after[..j]
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let der = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| Error::Invalid("key block is not base64"))?,
            );
            keys.push(ProxyKey::decode(&der)?);
            rest = &after[j + end.len()..];
        }
        Self::new(keys)
    }

    /// The key file text.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, Error> {
        let mut out = Zeroizing::new(String::new());
        for k in &self.keys {
            let enc = k.encode()?;
            let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*enc));
            out.push_str(&format!("-----BEGIN {KEY_PEM_LABEL}-----\n"));
            for line in b64.as_bytes().chunks(64) {
                out.push_str(&String::from_utf8_lossy(line));
                out.push('\n');
            }
            out.push_str(&format!("-----END {KEY_PEM_LABEL}-----\n"));
        }
        Ok(out)
    }

    /// The sealing key.
    pub fn current(&self) -> &ProxyKey {
        &self.keys[0]
    }

    /// Every key.
    pub fn keys(&self) -> &[ProxyKey] {
        &self.keys
    }

    /// The keys, current first (to add one in front when rotating).
    pub fn into_keys(self) -> Vec<ProxyKey> {
        self.keys
    }

    /// Open `epd` with the key it names, check the AEAD over `aad` and that the message
    /// travels in `direction`.
    pub fn open(
        &self,
        epd: &EncryptedProxyData,
        aad: &[u8],
        direction: Direction,
    ) -> Result<ProxyData, Error> {
        let key = self
            .keys
            .iter()
            .find(|k| k.psk_identity == epd.psk_identity)
            .ok_or_else(|| {
                Error::UnknownIdentity(String::from_utf8_lossy(&epd.psk_identity).into_owned())
            })?;
        let pd = key.open(epd, aad)?;
        if pd.direction != direction {
            return Err(Error::WrongDirection(
                "ProxyData direction does not match the way it travels",
            ));
        }
        Ok(pd)
    }

    /// The key that sealed `epd` (to answer with the same key, as the draft requires).
    pub fn key_for(&self, epd: &EncryptedProxyData) -> Option<&ProxyKey> {
        self.keys
            .iter()
            .find(|k| k.psk_identity == epd.psk_identity)
    }
}

/// A `proxy_header` record around `payload`: `content_type ‖ 0x0000 ‖ u16 length ‖ payload`.
pub fn record(content_type: u8, payload: &[u8]) -> Result<Vec<u8>, Error> {
    if payload.len() > MAX_RECORD {
        return Err(Error::TooLong("proxy_header record"));
    }
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(content_type);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(payload);
    Ok(out)
}

/// What the first bytes of a connection are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// A TLS handshake record: a direct client.
    DirectTls,
    /// A complete `proxy_header` record of this many bytes (header included).
    ProxyHeader(usize),
    /// Not enough bytes yet.
    NeedMore,
}

/// Classify the start of a connection: 22 is a direct TLS client, `content_type` a
/// `proxy_header` record; anything else is an error (the connection is closed).
pub fn sniff(buf: &[u8], content_type: u8) -> Result<Sniff, Error> {
    let Some(&first) = buf.first() else {
        return Ok(Sniff::NeedMore);
    };
    if first == 22 && content_type != 22 {
        return Ok(Sniff::DirectTls);
    }
    if first != content_type {
        return Err(Error::UnexpectedRecord(first));
    }
    if buf.len() < 5 {
        return Ok(Sniff::NeedMore);
    }
    let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    if len > MAX_RECORD {
        return Err(Error::TooLong("proxy_header record"));
    }
    if buf.len() < 5 + len {
        Ok(Sniff::NeedMore)
    } else {
        Ok(Sniff::ProxyHeader(5 + len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_round_trip_and_refuse_garbage() {
        let ring = Keyring::new(vec![
            ProxyKey::new(b"lb-key-2", Cipher::ChaCha20Poly1305, &[7; 32]).unwrap(),
            ProxyKey::new(b"lb-key-1", Cipher::Aes128Gcm, &[1; 16]).unwrap(),
        ])
        .unwrap();
        let pem = ring.to_pem().unwrap();
        let back = Keyring::from_pem(&pem).unwrap();
        assert_eq!(back.keys().len(), 2);
        assert_eq!(back.current().psk_identity, b"lb-key-2");
        assert!(Keyring::from_pem("").is_err());
        assert!(ProxyKey::new(b"x", Cipher::Aes128Gcm, &[0; 32]).is_err());
        assert!(ProxyKey::decode(&[0, 1, 0, 1, b'x', 0x13, 0x01, 0, 16]).is_err());
        assert!(matches!(
            ProxyKey::decode(&[0, 0, 0, 1, b'x', 0x13, 0x09, 0, 16]),
            Err(Error::UnsupportedCipher(0x1309))
        ));
        assert!(
            Keyring::new(vec![
                ProxyKey::new(b"a", Cipher::Aes128Gcm, &[1; 16]).unwrap(),
                ProxyKey::new(b"a", Cipher::Aes128Gcm, &[2; 16]).unwrap()
            ])
            .is_err()
        );
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(&[], 0).unwrap(), Sniff::NeedMore);
        assert_eq!(sniff(&[22, 3, 1], 0).unwrap(), Sniff::DirectTls);
        assert_eq!(sniff(&[0, 0, 0, 0], 0).unwrap(), Sniff::NeedMore);
        assert_eq!(sniff(&[0, 0, 0, 0, 2, 9], 0).unwrap(), Sniff::NeedMore);
        assert_eq!(
            sniff(&[0, 0, 0, 0, 2, 9, 9], 0).unwrap(),
            Sniff::ProxyHeader(7)
        );
        assert!(matches!(sniff(&[23], 0), Err(Error::UnexpectedRecord(23))));
        assert!(sniff(&[0, 0, 0, 0x40, 1], 0).is_err(), "over 2^14");
    }
}
