//! # secdispatch-tlslb — TLS metadata for load balancers
//!
//! Implements **draft-schwartz-tls-lb-02** (the IETF 106 SecDispatch proposal "TLS
//! metadata for load balancers"), sans-I/O: a load balancer that does not terminate TLS
//! sends the backend one `proxy_header` record — encrypted, authenticated metadata such as
//! the client's address — in front of the client's untouched TLS stream, and the backend
//! answers with one of its own before its ServerHello.
//!
//! * [`proxy_data`]: `ProxyData` and the seven extensions of -02 (padding, client_address,
//!   destination_address, esni_inner, certificate_padding, overload, ratchet) plus our
//!   private-range `ports`; strict lengths, duplicates refused, unknown types ignored;
//! * [`encrypted`]: `EncryptedProxyData`, AEAD under a pre-shared key named by
//!   `psk_identity` (AES-128-GCM default, AES-256-GCM, ChaCha20-Poly1305), key files in the
//!   -00/-01 `ProxyKey` format, the `proxy_header` record and first-byte sniffing;
//! * [`client_hello`]: the ClientHello reassembled across records (the upstream additional
//!   data), with SNI and ALPN for routing;
//! * [`ratchet`] and [`overload`]: the replay ratchet (serial arithmetic, floor, optional
//!   window) and the load balancer's table of backend overload answers;
//! * [`proxy_protocol`]: PROXY protocol v1/v2 with CRC32C, for interoperating with haproxy
//!   and nginx.
//!
//! Where the draft is silent, the choices are marked **[ours]** in the module docs (record
//! content type configurable, default 0; the additional data is the complete ClientHello
//! handshake message; 12-byte nonces; addresses as 1-byte-length vectors; ports in
//! extension 0x8001). Nonces and times are parameters: no global RNG or clock.
//!
//! ```
//! use secdispatch_tlslb::encrypted::{Cipher, Keyring, ProxyKey};
//! use secdispatch_tlslb::proxy_data::{Direction, ProxyData, ext};
//! use secdispatch_tlslb::{open_downstream, open_upstream, seal_downstream, seal_upstream};
//!
//! # fn main() -> Result<(), secdispatch_tlslb::Error> {
//! let keys = Keyring::new(vec![ProxyKey::new(b"lb-key-1", Cipher::Aes128Gcm, &[7; 16])?])?;
//! let client_hello = b"\x01\x00\x00\x02\x03\x03"; // the ClientHello handshake message
//!
//! // Load balancer: seal the client's address to this ClientHello.
//! let up = ProxyData::new(Direction::Upstream).client_address("192.0.2.1".parse().unwrap()).pad_to(64);
//! let (record, upstream_epd) = seal_upstream(&keys, &up, client_hello, [1; 12], 0)?;
//!
//! // Backend: open it (the record's payload follows its 5-byte header) and answer.
//! let (data, epd) = open_upstream(&keys, &record[5..], client_hello)?;
//! assert_eq!(data.metadata()?.client_address, Some("192.0.2.1".parse().unwrap()));
//! let ack = ProxyData::new(Direction::Downstream).acknowledge(&[ext::CLIENT_ADDRESS]);
//! let answer = seal_downstream(&keys, &epd, &ack, &record[5..], [2; 12], 0)?;
//!
//! // Load balancer: the answer is bound to its header.
//! let back = open_downstream(&keys, &answer[5..], &upstream_epd)?;
//! assert!(back.metadata()?.client_address_ack);
//! # Ok(()) }
//! ```

pub mod client_hello;
mod codec;
pub mod encrypted;
pub mod nonce;
pub mod overload;
pub mod proxy_data;
pub mod proxy_protocol;
pub mod ratchet;

use encrypted::{EncryptedProxyData, Keyring, NONCE_LEN, record};
use proxy_data::{Direction, ProxyData};

/// The draft this crate implements.
pub const DRAFT: &str = "draft-schwartz-tls-lb-02";

/// What is wrong with a header, a key or a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Input ended inside a structure.
    #[error("{0} is truncated")]
    Truncated(&'static str),
    /// Bytes follow a complete structure.
    #[error("trailing bytes after {0}")]
    TrailingBytes(&'static str),
    /// A vector is below its minimum length.
    #[error("{what} is {len} bytes, below the minimum of {min}")]
    TooShort {
        /// The field.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// A value is too long for its length field or for our limits.
    #[error("{0} is too long")]
    TooLong(&'static str),
    /// A `ProxyDataDirection` other than 0 or 1.
    #[error("unknown ProxyData direction {0}")]
    UnknownDirection(u8),
    /// A message or extension travelling the wrong way (anti-reflection).
    #[error("wrong direction: {0}")]
    WrongDirection(&'static str),
    /// An extension type twice.
    #[error("extension type {0} appears twice")]
    DuplicateExtension(u16),
    /// A value that breaks its extension's rules.
    #[error("invalid: {0}")]
    Invalid(&'static str),
    /// No key with this `psk_identity`.
    #[error("unknown psk_identity {0:?}")]
    UnknownIdentity(String),
    /// A nonce length we do not use.
    #[error("unsupported nonce length {0} (12 bytes expected)")]
    UnsupportedNonce(usize),
    /// A cipher suite we do not use.
    #[error("unsupported cipher suite 0x{0:04x}")]
    UnsupportedCipher(u16),
    /// The AEAD (or a PROXY v2 CRC32C) did not verify: tampered, spliced onto another
    /// ClientHello, or the wrong key.
    #[error("authentication failed")]
    Authentication,
    /// The connection starts with neither a handshake nor a `proxy_header` record.
    #[error("unexpected first record type {0}")]
    UnexpectedRecord(u8),
    /// What should be a ClientHello is not one.
    #[error("not a ClientHello: {0}")]
    NotClientHello(&'static str),
}

/// Load balancer: seal `data` (upstream) to the ClientHello handshake message and frame it
/// as a `proxy_header` record of `content_type`. Returns the record and the
/// `EncryptedProxyData` bytes (the additional data of the backend's answer).
pub fn seal_upstream(
    keys: &Keyring,
    data: &ProxyData,
    client_hello: &[u8],
    nonce: [u8; NONCE_LEN],
    content_type: u8,
) -> Result<(Vec<u8>, Vec<u8>), Error> {
    if data.direction != Direction::Upstream {
        return Err(Error::WrongDirection("sealing downstream data as upstream"));
    }
    let epd = keys.current().seal(data, client_hello, nonce)?.encode()?;
    Ok((record(content_type, &epd)?, epd))
}

/// Backend: open a `proxy_header` record payload against the ClientHello handshake
/// message that follows it.
pub fn open_upstream(
    keys: &Keyring,
    payload: &[u8],
    client_hello: &[u8],
) -> Result<(ProxyData, EncryptedProxyData), Error> {
    let epd = EncryptedProxyData::decode(payload)?;
    let data = keys.open(&epd, client_hello, Direction::Upstream)?;
    Ok((data, epd))
}

/// Backend: seal an answer with the key that sealed `upstream`, bound to the upstream
/// payload bytes, as a record of `content_type`.
pub fn seal_downstream(
    keys: &Keyring,
    upstream: &EncryptedProxyData,
    data: &ProxyData,
    upstream_payload: &[u8],
    nonce: [u8; NONCE_LEN],
    content_type: u8,
) -> Result<Vec<u8>, Error> {
    if data.direction != Direction::Downstream {
        return Err(Error::WrongDirection("sealing upstream data as downstream"));
    }
    let key = keys.key_for(upstream).ok_or_else(|| {
        Error::UnknownIdentity(String::from_utf8_lossy(&upstream.psk_identity).into_owned())
    })?;
    record(
        content_type,
        &key.seal(data, upstream_payload, nonce)?.encode()?,
    )
}

/// Load balancer: open a backend's answer to the header whose payload was `upstream_payload`.
pub fn open_downstream(
    keys: &Keyring,
    payload: &[u8],
    upstream_payload: &[u8],
) -> Result<ProxyData, Error> {
    let epd = EncryptedProxyData::decode(payload)?;
    keys.open(&epd, upstream_payload, Direction::Downstream)
}
