//! `ProxyData` and its `ProxyExtension`s (draft-schwartz-tls-lb-02 §4, §5):
//!
//! ```text
//! enum { upstream(0), downstream(1), (255) } ProxyDataDirection;
//! struct { ProxyExtensionType extension_type; opaque extension_data<0..2^16-1>; } ProxyExtension;
//! struct { ProxyDataDirection direction; ProxyExtension proxy_data<0..2^16-1>; } ProxyData;
//! ```
//!
//! Known extensions are validated when decoded (strict lengths, zero padding, types that
//! belong to the direction); unknown ones are kept opaque and ignored, as the draft
//! requires of backends; a type that appears twice is refused.

use std::net::IpAddr;

use crate::Error;
use crate::codec::{Reader, put_vec8, put_vec16};

/// Extension type numbers of -02, plus our private-range `ports`.
pub mod ext {
    /// Zero bytes that hide the other lengths.
    pub const PADDING: u16 = 0;
    /// The client's IP address (upstream); empty = acknowledged (downstream).
    pub const CLIENT_ADDRESS: u16 = 1;
    /// The address the client connected to.
    pub const DESTINATION_ADDRESS: u16 = 2;
    /// The decrypted ESNI inner values (upstream only).
    pub const ESNI_INNER: u16 = 3;
    /// Certificate padding granularity (upstream) or unpadded Certificate size (downstream).
    pub const CERTIFICATE_PADDING: u16 = 4;
    /// Share of connections (upstream) or the backend's overload state (downstream).
    pub const OVERLOAD: u16 = 5;
    /// Replay ratchet (upstream); empty = acknowledged (downstream).
    pub const RATCHET: u16 = 6;
    /// **[ours]** client and destination TCP ports, which -02 cannot express
    /// (first-come-first-served range, ≥ 0x8000).
    pub const PORTS: u16 = 0x8001;
}

/// Which way a `ProxyData` travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Load balancer → backend.
    Upstream,
    /// Backend → load balancer.
    Downstream,
}

impl Direction {
    fn code(self) -> u8 {
        match self {
            Direction::Upstream => 0,
            Direction::Downstream => 1,
        }
    }
}

/// One extension, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyExtension {
    /// `extension_type`.
    pub extension_type: u16,
    /// `extension_data`.
    pub data: Vec<u8>,
}

/// The backend's answer about its load (`OverloadValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverloadValue {
    /// The backend's state.
    pub state: OverloadState,
    /// Load, out of 65535.
    pub load: u16,
    /// How many seconds the state holds.
    pub ttl: u32,
}

/// `OverloadState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverloadState {
    /// The connection was taken; send more.
    Accepted,
    /// The connection was taken; prefer other backends.
    Overloaded,
    /// The connection will be closed without a ServerHello; retry it elsewhere.
    Rejected,
}

/// `RatchetValue`: the connection's index and the load balancer's floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatchetValue {
    /// Index of this connection.
    pub index: u64,
    /// Index of the earliest connection not yet connected or closed.
    pub floor: u64,
}

/// `ClientESNIInner`: the 16-byte ESNI nonce and the padded real server name list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsniInner {
    /// `nonce[16]`.
    pub nonce: [u8; 16],
    /// `PaddedServerNameList`, kept as bytes (ServerNameList then zeros).
    pub padded_server_names: Vec<u8>,
}

/// The decoded metadata of a `ProxyData`, every known extension validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// `client_address` with an address.
    pub client_address: Option<IpAddr>,
    /// An empty `client_address`: the backend acknowledges using it.
    pub client_address_ack: bool,
    /// `destination_address`.
    pub destination_address: Option<IpAddr>,
    /// **[ours]** `(client port, destination port)`.
    pub ports: Option<(u16, u16)>,
    /// `ratchet` with values.
    pub ratchet: Option<RatchetValue>,
    /// An empty `ratchet`: the backend acknowledges it.
    pub ratchet_ack: bool,
    /// Upstream `overload`: this backend's share of connections (/65535).
    pub overload_share: Option<u16>,
    /// Downstream `overload`.
    pub overload: Option<OverloadValue>,
    /// `certificate_padding`.
    pub certificate_padding: Option<u32>,
    /// `esni_inner`.
    pub esni_inner: Option<EsniInner>,
    /// Bytes of padding.
    pub padding: usize,
    /// Types received that we do not know (ignored).
    pub unknown: Vec<u16>,
}

/// A `ProxyData` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyData {
    /// Upstream or downstream.
    pub direction: Direction,
    /// The extensions, in order.
    pub extensions: Vec<ProxyExtension>,
}

fn address_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// **[ours]** an address is `opaque address<4..16>` (1-byte length, 4 or 16 bytes): the
/// draft points at draft-kinnear-tls-client-net-address, whose `<32..255>` is in bits by
/// mistake.
fn encode_address(ip: IpAddr) -> Vec<u8> {
    let raw = address_bytes(ip);
    let mut out = Vec::with_capacity(17);
    // 4 or 16 bytes always fit.
    let _ = put_vec8(&mut out, &raw, "address");
    out
}

fn decode_address(data: &[u8]) -> Result<IpAddr, Error> {
    let mut r = Reader::new(data, "address");
    let raw = r.vec8(4)?;
    r.finish()?;
    match raw.len() {
        4 => Ok(IpAddr::from(
            <[u8; 4]>::try_from(raw).map_err(|_| Error::Invalid("address"))?,
        )),
        16 => Ok(IpAddr::from(
            <[u8; 16]>::try_from(raw).map_err(|_| Error::Invalid("address"))?,
        )),
        _ => Err(Error::Invalid("address length must be 4 or 16 bytes")),
    }
}

impl ProxyData {
    /// An empty message for `direction`.
    pub fn new(direction: Direction) -> Self {
        Self {
            direction,
            extensions: Vec::new(),
        }
    }

    fn push(mut self, extension_type: u16, data: Vec<u8>) -> Self {
        self.extensions
            .retain(|e| e.extension_type != extension_type);
        self.extensions.push(ProxyExtension {
            extension_type,
            data,
        });
        self
    }

    /// Add `client_address`.
    pub fn client_address(self, ip: IpAddr) -> Self {
        self.push(ext::CLIENT_ADDRESS, encode_address(ip))
    }

    /// Add `destination_address`.
    pub fn destination_address(self, ip: IpAddr) -> Self {
        self.push(ext::DESTINATION_ADDRESS, encode_address(ip))
    }

    /// **[ours]** add the client and destination ports.
    pub fn ports(self, client: u16, destination: u16) -> Self {
        let mut d = client.to_be_bytes().to_vec();
        d.extend_from_slice(&destination.to_be_bytes());
        self.push(ext::PORTS, d)
    }

    /// Add `ratchet`.
    pub fn ratchet(self, r: RatchetValue) -> Self {
        let mut d = r.index.to_be_bytes().to_vec();
        d.extend_from_slice(&r.floor.to_be_bytes());
        self.push(ext::RATCHET, d)
    }

    /// Add an upstream `overload` share (/65535).
    pub fn overload_share(self, share: u16) -> Self {
        self.push(ext::OVERLOAD, share.to_be_bytes().to_vec())
    }

    /// Add a downstream `overload` value.
    pub fn overload(self, v: OverloadValue) -> Self {
        let mut d = vec![match v.state {
            OverloadState::Accepted => 0,
            OverloadState::Overloaded => 1,
            OverloadState::Rejected => 2,
        }];
        d.extend_from_slice(&v.load.to_be_bytes());
        d.extend_from_slice(&v.ttl.to_be_bytes());
        self.push(ext::OVERLOAD, d)
    }

    /// Add `certificate_padding`.
    pub fn certificate_padding(self, v: u32) -> Self {
        self.push(ext::CERTIFICATE_PADDING, v.to_be_bytes().to_vec())
    }

    /// Add `esni_inner`.
    pub fn esni_inner(self, v: &EsniInner) -> Self {
        let mut d = v.nonce.to_vec();
        d.extend_from_slice(&v.padded_server_names);
        self.push(ext::ESNI_INNER, d)
    }

    /// Acknowledge (downstream) the given types with empty extensions.
    pub fn acknowledge(mut self, types: &[u16]) -> Self {
        for t in types {
            self = self.push(*t, Vec::new());
        }
        self
    }

    /// Add a `padding` extension so the encoded message is a multiple of `bucket` bytes
    /// (at least 4 bytes of padding extension header are always needed, so the result is
    /// the next multiple that fits). `bucket` 0 or 1 removes padding.
    pub fn pad_to(mut self, bucket: usize) -> Self {
        self.extensions.retain(|e| e.extension_type != ext::PADDING);
        if bucket <= 1 {
            return self;
        }
        let base = self.encoded_len() + 4;
        let target = base.div_ceil(bucket) * bucket;
        self.push(ext::PADDING, vec![0; target - base])
    }

    fn encoded_len(&self) -> usize {
        3 + self
            .extensions
            .iter()
            .map(|e| 4 + e.data.len())
            .sum::<usize>()
    }

    /// `ProxyData` bytes.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let mut exts = Vec::with_capacity(self.encoded_len());
        for e in &self.extensions {
            exts.extend_from_slice(&e.extension_type.to_be_bytes());
            put_vec16(&mut exts, &e.data, "extension_data")?;
        }
        let mut out = vec![self.direction.code()];
        put_vec16(&mut out, &exts, "proxy_data")?;
        Ok(out)
    }

    /// Parse `ProxyData`; every known extension is checked (see [`ProxyData::metadata`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "ProxyData");
        let direction = match r.u8()? {
            0 => Direction::Upstream,
            1 => Direction::Downstream,
            d => return Err(Error::UnknownDirection(d)),
        };
        let list = r.vec16(0)?;
        r.finish()?;
        let mut lr = Reader::new(list, "proxy_data");
        let mut extensions: Vec<ProxyExtension> = Vec::new();
        while !lr.is_empty() {
            let extension_type = lr.u16()?;
            let data = lr.vec16(0)?.to_vec();
            if extensions
                .iter()
                .any(|e| e.extension_type == extension_type)
            {
                return Err(Error::DuplicateExtension(extension_type));
            }
            extensions.push(ProxyExtension {
                extension_type,
                data,
            });
        }
        let pd = Self {
            direction,
            extensions,
        };
        pd.metadata()?;
        Ok(pd)
    }

    /// The validated values of the known extensions.
    pub fn metadata(&self) -> Result<Metadata, Error> {
        let mut m = Metadata::default();
        let up = self.direction == Direction::Upstream;
        for e in &self.extensions {
            let d = e.data.as_slice();
            match e.extension_type {
                ext::PADDING => {
                    if d.iter().any(|b| *b != 0) {
                        return Err(Error::Invalid("padding must be zero bytes"));
                    }
                    m.padding = d.len();
                }
                ext::CLIENT_ADDRESS if d.is_empty() && !up => m.client_address_ack = true,
                ext::CLIENT_ADDRESS => m.client_address = Some(decode_address(d)?),
                ext::DESTINATION_ADDRESS => m.destination_address = Some(decode_address(d)?),
                ext::ESNI_INNER => {
                    if !up {
                        return Err(Error::WrongDirection("esni_inner is upstream only"));
                    }
                    if d.len() < 18 {
                        return Err(Error::Invalid(
                            "esni_inner is a 16-byte nonce and a server name list",
                        ));
                    }
                    let mut nonce = [0u8; 16];
                    nonce.copy_from_slice(&d[..16]);
                    m.esni_inner = Some(EsniInner {
                        nonce,
                        padded_server_names: d[16..].to_vec(),
                    });
                }
                ext::CERTIFICATE_PADDING => {
                    let mut r = Reader::new(d, "certificate_padding");
                    m.certificate_padding = Some(r.u32()?);
                    r.finish()?;
                }
                ext::OVERLOAD if up => {
                    let mut r = Reader::new(d, "overload");
                    m.overload_share = Some(r.u16()?);
                    r.finish()?;
                }
                ext::OVERLOAD => {
                    let mut r = Reader::new(d, "OverloadValue");
                    let state = match r.u8()? {
                        0 => OverloadState::Accepted,
                        1 => OverloadState::Overloaded,
                        2 => OverloadState::Rejected,
                        _ => return Err(Error::Invalid("unknown OverloadState")),
                    };
                    let load = r.u16()?;
                    let ttl = r.u32()?;
                    r.finish()?;
                    m.overload = Some(OverloadValue { state, load, ttl });
                }
                ext::RATCHET if d.is_empty() && !up => m.ratchet_ack = true,
                ext::RATCHET => {
                    let mut r = Reader::new(d, "RatchetValue");
                    let index = r.u64()?;
                    let floor = r.u64()?;
                    r.finish()?;
                    m.ratchet = Some(RatchetValue { index, floor });
                }
                ext::PORTS => {
                    let mut r = Reader::new(d, "ports");
                    let c = r.u16()?;
                    let s = r.u16()?;
                    r.finish()?;
                    m.ports = Some((c, s));
                }
                other => m.unknown.push(other),
            }
        }
        Ok(m)
    }

    /// Whether this downstream message only uses types the upstream one had (the draft:
    /// downstream SHOULD NOT contain types absent upstream).
    pub fn answers(&self, upstream: &ProxyData) -> bool {
        self.direction == Direction::Downstream
            && upstream.direction == Direction::Upstream
            && self.extensions.iter().all(|e| {
                e.extension_type == ext::PADDING
                    || upstream
                        .extensions
                        .iter()
                        .any(|u| u.extension_type == e.extension_type)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_draft_vector_upstream_proxy_data() {
        // notes/tlslb.md §6: client_address 192.0.2.1, ratchet, 11 bytes of padding.
        let pd = ProxyData::new(Direction::Upstream)
            .client_address("192.0.2.1".parse().unwrap())
            .ratchet(RatchetValue {
                index: 0x0123_4567_89ab_cdef,
                floor: 0x0123_4567_89ab_cde0,
            })
            .push(ext::PADDING, vec![0; 11]);
        let hex: String = pd
            .encode()
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            "00002c0001000504c0000201000600100123456789abcdef0123456789abcde00000000b0000000000000000000000"
        );
        let back = ProxyData::decode(&pd.encode().unwrap()).unwrap();
        let m = back.metadata().unwrap();
        assert_eq!(m.client_address, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(m.padding, 11);
    }

    #[test]
    fn the_draft_vector_downstream_acknowledgement() {
        let pd =
            ProxyData::new(Direction::Downstream).acknowledge(&[ext::CLIENT_ADDRESS, ext::RATCHET]);
        let hex: String = pd
            .encode()
            .unwrap()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, "0100080001000000060000");
        let m = ProxyData::decode(&pd.encode().unwrap())
            .unwrap()
            .metadata()
            .unwrap();
        assert!(m.client_address_ack && m.ratchet_ack);
    }

    #[test]
    fn strict_checks() {
        let bad = |bytes: &[u8]| ProxyData::decode(bytes).unwrap_err();
        assert!(matches!(bad(&[2, 0, 0]), Error::UnknownDirection(2)));
        assert!(matches!(bad(&[0, 0, 1, 0]), Error::Truncated(_)));
        assert!(matches!(bad(&[0, 0, 0, 0]), Error::TrailingBytes(_)));
        // Duplicate padding.
        assert!(matches!(
            bad(&[0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]),
            Error::DuplicateExtension(0)
        ));
        // Non-zero padding.
        assert!(matches!(bad(&[0, 0, 5, 0, 0, 0, 1, 7]), Error::Invalid(_)));
        // IPv4 address with 3 bytes.
        assert!(
            bad(&[0, 0, 8, 0, 1, 0, 4, 3, 1, 2, 3])
                .to_string()
                .contains("address")
        );
        // An empty client_address upstream is not an acknowledgement.
        assert!(ProxyData::decode(&[0, 0, 4, 0, 1, 0, 0]).is_err());
        // esni_inner downstream.
        let mut d = vec![1, 0, 22, 0, 3, 0, 18];
        d.extend([0u8; 18]);
        assert!(matches!(
            ProxyData::decode(&d),
            Err(Error::WrongDirection(_))
        ));
    }

    #[test]
    fn unknown_types_are_kept_and_ignored() {
        let pd = ProxyData::decode(&[0, 0, 6, 0x12, 0x34, 0, 2, 0xab, 0xcd]).unwrap();
        assert_eq!(pd.metadata().unwrap().unknown, vec![0x1234]);
    }

    #[test]
    fn padding_reaches_the_bucket() {
        for bucket in [16, 64, 100] {
            let pd = ProxyData::new(Direction::Upstream)
                .client_address("2001:db8::1".parse().unwrap())
                .pad_to(bucket);
            assert_eq!(pd.encode().unwrap().len() % bucket, 0, "bucket {bucket}");
        }
    }

    #[test]
    fn downstream_answers_only_what_was_asked() {
        let up = ProxyData::new(Direction::Upstream).client_address("192.0.2.1".parse().unwrap());
        assert!(
            ProxyData::new(Direction::Downstream)
                .acknowledge(&[ext::CLIENT_ADDRESS])
                .pad_to(16)
                .answers(&up)
        );
        assert!(
            !ProxyData::new(Direction::Downstream)
                .acknowledge(&[ext::RATCHET])
                .answers(&up)
        );
    }
}
