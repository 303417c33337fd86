//! The backend side of a load balancer: what may precede TLS on a listener.
//!
//! * `tls-lb` (draft-schwartz-tls-lb-02): the first byte tells a direct client (22, a
//!   handshake record) from a load-balanced one (the configured `proxy_header` content
//!   type). The header is read, then the ClientHello it is bound to (reassembled across
//!   records); the header is opened with the ClientHello as additional data, its ratchet
//!   checked, and the answer (acknowledgements, overload state) written before anything
//!   else, that is before the ServerHello (in the same write as the ServerHello; a
//!   `rejected` answer is written at once and the connection closed). The TLS stack then
//!   reads the buffered ClientHello as if nothing had happened ([`Prefixed`]).
//! * `proxy`: a PROXY protocol v1 or v2 header (CRC32C checked when present) from a
//!   trusted peer.
//!
//! Whatever is refused (bit flips, a header spliced onto another ClientHello, the wrong
//! direction, an unknown `psk_identity`, a replayed ratchet index, truncation, oversize)
//! closes that connection only, counts it in `front_end_refused{reason}` and logs one line.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use secdispatch_tlslb::client_hello::{self, MAX_CLIENT_HELLO};
use secdispatch_tlslb::encrypted::{Keyring, MAX_RECORD, Sniff, sniff};
use secdispatch_tlslb::nonce::Nonces;
use secdispatch_tlslb::proxy_data::{Direction, OverloadState, OverloadValue, ProxyData, ext};
use secdispatch_tlslb::ratchet::{RatchetReceiver, RatchetRefusal};
use secdispatch_tlslb::{open_upstream, proxy_protocol, seal_downstream};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::READ_CHUNK;
use super::config::{FrontEndConfig, FrontEndMode, FrontEndProtocol};
use super::prefixed::Prefixed;
use crate::Metrics;

/// How a connection reached the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// Directly (or the listener takes no header).
    Direct,
    /// Through a TLS-LB load balancer whose header verified.
    TlsLb,
    /// Through a PROXY protocol proxy.
    Proxy,
}

/// A connection whose front-end header (if any) was consumed and verified.
#[derive(Debug)]
pub struct Accepted<S> {
    /// The stream, replaying the bytes read after the header.
    pub io: Prefixed<S>,
    /// The client: from the header, else the socket's peer.
    pub client: SocketAddr,
    /// How it came.
    pub via: Via,
}

/// Why a connection was closed before TLS.
#[derive(Debug, thiserror::Error)]
pub enum FrontEndError {
    /// Reading or writing failed, or the peer closed early.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// The header did not arrive in time.
    #[error("header timeout")]
    Timeout,
    /// `mode = "require"` and the connection came without a header.
    #[error("a front-end header is required")]
    Required,
    /// The header or ClientHello is invalid or does not verify.
    #[error("{0}")]
    Invalid(#[from] secdispatch_tlslb::Error),
    /// The ratchet refused the header: a replay.
    #[error("replayed header ({0:?})")]
    Replay(RatchetRefusal),
    /// A PROXY header from a peer not in `trusted_peers`.
    #[error("PROXY header from untrusted peer {0}")]
    Untrusted(std::net::IpAddr),
    /// This backend answered `rejected` (overload) and closes the connection.
    #[error("rejected: overloaded")]
    Rejected,
    /// The TLS-LB key file cannot be used.
    #[error("{0}")]
    Keys(String),
}

impl FrontEndError {
    fn reason(&self) -> &'static str {
        match self {
            Self::Io(_) => "io",
            Self::Timeout => "timeout",
            Self::Required => "required",
            Self::Invalid(secdispatch_tlslb::Error::Authentication) => "authentication",
            Self::Invalid(secdispatch_tlslb::Error::UnknownIdentity(_)) => "unknown_identity",
            Self::Invalid(secdispatch_tlslb::Error::WrongDirection(_)) => "direction",
            Self::Invalid(_) => "malformed",
            Self::Replay(_) => "replay",
            Self::Untrusted(_) => "untrusted_peer",
            Self::Rejected => "overload_rejected",
            Self::Keys(_) => "keys",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ViaLabels {
    via: &'static str,
}

/// A key file and its modification time, reloaded when it changes.
#[derive(Debug)]
pub struct KeyFile {
    path: PathBuf,
    keys: RwLock<(Arc<Keyring>, Option<SystemTime>)>,
}

impl KeyFile {
    /// Load `path` (PEM `TLS-LB PROXY KEY` blocks, current key first).
    pub fn load(path: &Path) -> Result<Self, FrontEndError> {
        let (ring, mtime) = read_keys(path)?;
        Ok(Self {
            path: path.to_owned(),
            keys: RwLock::new((Arc::new(ring), mtime)),
        })
    }

    /// The keys now.
    pub fn keys(&self) -> Arc<Keyring> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .clone()
    }

    /// Reload when the file changed; `Ok(true)` when it did. A file that no longer
    /// loads leaves the old keys in place.
    pub fn reload_if_changed(&self) -> Result<bool, FrontEndError> {
        let mtime = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        let current = self.keys.read().unwrap_or_else(|p| p.into_inner()).1;
        if mtime == current {
            return Ok(false);
        }
        let (ring, mtime) = read_keys(&self.path)?;
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = (Arc::new(ring), mtime);
        Ok(true)
    }
}

fn read_keys(path: &Path) -> Result<(Keyring, Option<SystemTime>), FrontEndError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        FrontEndError::Keys(format!(
            "TLS-LB key file {}: {e} (make one with `secdispatch lb keygen`)",
            path.display()
        ))
    })?;
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let ring = Keyring::from_pem(&text)
        .map_err(|e| FrontEndError::Keys(format!("TLS-LB key file {}: {e}", path.display())))?;
    Ok((ring, mtime))
}

/// The acceptor of one listener.
#[derive(Debug)]
pub struct FrontEnd {
    config: FrontEndConfig,
    keys: Option<Arc<KeyFile>>,
    ratchets: Mutex<HashMap<Vec<u8>, RatchetReceiver>>,
    overload: Mutex<Option<OverloadValue>>,
    refused: Family<ReasonLabels, Counter>,
    accepted: Family<ViaLabels, Counter>,
    nonces: Nonces,
}

impl FrontEnd {
    /// An acceptor for `config`; `keys` is required for `tls-lb`.
    pub fn new(
        config: &FrontEndConfig,
        keys: Option<Arc<KeyFile>>,
        metrics: &Metrics,
    ) -> Result<Self, FrontEndError> {
        if config.protocol == FrontEndProtocol::TlsLb && keys.is_none() {
            return Err(FrontEndError::Keys(
                "front_end protocol tls-lb needs a key file".into(),
            ));
        }
        if config.content_type == client_hello::HANDSHAKE {
            return Err(FrontEndError::Keys(
                "front_end content_type 22 is the TLS handshake type; pick another".into(),
            ));
        }
        let refused = Family::<ReasonLabels, Counter>::default();
        let accepted = Family::<ViaLabels, Counter>::default();
        metrics.register(
            "front_end_refused",
            "Connections closed before TLS, by reason (authentication, replay, malformed, ...)",
            refused.clone(),
        );
        metrics.register(
            "front_end_accepted",
            "Connections handed to TLS, by how they came (direct, tls-lb, proxy)",
            accepted.clone(),
        );
        Ok(Self {
            config: config.clone(),
            keys,
            ratchets: Mutex::new(HashMap::new()),
            overload: Mutex::new(None),
            refused,
            accepted,
            nonces: Nonces::new().map_err(|e| FrontEndError::Keys(e.to_string()))?,
        })
    }

    /// The configured protocol.
    pub fn protocol(&self) -> FrontEndProtocol {
        self.config.protocol
    }

    /// Report this overload state in TLS-LB answers from now on (`None`: report none).
    /// With `rejected` every load-balanced connection is answered and closed, so the load
    /// balancer retries it on another backend.
    pub fn set_overload(&self, value: Option<OverloadValue>) {
        *self.overload.lock().unwrap_or_else(|p| p.into_inner()) = value;
    }

    /// Consume and check the front-end header of a new connection.
    pub async fn accept<S>(&self, io: S, peer: SocketAddr) -> Result<Accepted<S>, FrontEndError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let result =
            match tokio::time::timeout(self.config.header_timeout, self.read(io, peer)).await {
                Ok(r) => r,
                Err(_) => Err(FrontEndError::Timeout),
            };
        match &result {
            Ok(a) => {
                let via = match a.via {
                    Via::Direct => "direct",
                    Via::TlsLb => "tls-lb",
                    Via::Proxy => "proxy",
                };
                self.accepted.get_or_create(&ViaLabels { via }).inc();
            }
            Err(e) => {
                self.refused
                    .get_or_create(&ReasonLabels { reason: e.reason() })
                    .inc();
                tracing::info!(%peer, reason = e.reason(), error = %e, "front-end header refused; connection closed");
            }
        }
        result
    }

    async fn read<S>(&self, io: S, peer: SocketAddr) -> Result<Accepted<S>, FrontEndError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match self.config.protocol {
            FrontEndProtocol::None => Ok(Accepted {
                io: Prefixed::new(Vec::new(), io),
                client: peer,
                via: Via::Direct,
            }),
            FrontEndProtocol::TlsLb => self.read_tlslb(io, peer).await,
            FrontEndProtocol::Proxy => self.read_proxy(io, peer).await,
        }
    }

    async fn read_tlslb<S>(&self, mut io: S, peer: SocketAddr) -> Result<Accepted<S>, FrontEndError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let ct = self.config.content_type;
        let mut buf = Vec::with_capacity(READ_CHUNK);
        let header_len = loop {
            match sniff(&buf, ct)? {
                Sniff::NeedMore => read_more(&mut io, &mut buf, 5 + MAX_RECORD).await?,
                Sniff::DirectTls if self.config.mode == FrontEndMode::Require => {
                    return Err(FrontEndError::Required);
                }
                Sniff::DirectTls => {
                    return Ok(Accepted {
                        io: Prefixed::new(buf, io),
                        client: peer,
                        via: Via::Direct,
                    });
                }
                Sniff::ProxyHeader(n) => break n,
            }
        };
        let hello = loop {
            match client_hello::parse(&buf[header_len..])? {
                Some(h) => break h,
                None => read_more(&mut io, &mut buf, header_len + MAX_CLIENT_HELLO + 5).await?,
            }
        };
        let Some(keys) = &self.keys else {
            return Err(FrontEndError::Keys("no TLS-LB keys".into()));
        };
        let ring = keys.keys();
        let payload = &buf[5..header_len];
        let (data, epd) = open_upstream(&ring, payload, &hello.message)?;
        let meta = data.metadata()?;
        let mut acks = Vec::new();
        if let Some(r) = meta.ratchet {
            let mut ratchets = self.ratchets.lock().unwrap_or_else(|p| p.into_inner());
            // Looked up by reference first: the identity is copied once per key, not per
            // connection.
            let receiver = match ratchets.get_mut(&epd.psk_identity) {
                Some(r) => r,
                None => ratchets
                    .entry(epd.psk_identity.clone())
                    .or_insert_with(|| RatchetReceiver::new(self.config.ratchet_window)),
            };
            receiver.check(r).map_err(FrontEndError::Replay)?;
            acks.push(ext::RATCHET);
        }
        if meta.client_address.is_some() {
            acks.push(ext::CLIENT_ADDRESS);
        }
        let mut answer = ProxyData::new(Direction::Downstream).acknowledge(&acks);
        let overload = *self.overload.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(v) = overload {
            answer = answer.overload(v);
        }
        let answer = answer.pad_to(64);
        let record = seal_downstream(&ring, &epd, &answer, payload, self.nonces.next(), ct)?;
        if overload.is_some_and(|v| v.state == OverloadState::Rejected) {
            io.write_all(&record).await?;
            io.flush().await?;
            return Err(FrontEndError::Rejected);
        }
        let client = SocketAddr::new(
            meta.client_address.unwrap_or(peer.ip()),
            meta.ports
                .map_or(peer.port(), |(client_port, _)| client_port),
        );
        buf.drain(..header_len);
        // The answer leaves with the ServerHello, in one write.
        Ok(Accepted {
            io: Prefixed::answering(buf, record, io),
            client,
            via: Via::TlsLb,
        })
    }

    async fn read_proxy<S>(&self, mut io: S, peer: SocketAddr) -> Result<Accepted<S>, FrontEndError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let trusted =
            self.config.trusted_peers.is_empty() || self.config.trusted_peers.contains(&peer.ip());
        let mut buf = Vec::with_capacity(512);
        read_more(&mut io, &mut buf, 536).await?;
        if buf[0] == client_hello::HANDSHAKE {
            if self.config.mode == FrontEndMode::Require {
                return Err(FrontEndError::Required);
            }
            return Ok(Accepted {
                io: Prefixed::new(buf, io),
                client: peer,
                via: Via::Direct,
            });
        }
        if !trusted {
            return Err(FrontEndError::Untrusted(peer.ip()));
        }
        let (header, used) = loop {
            match proxy_protocol::decode(&buf)? {
                Some(h) => break h,
                // v2 headers may carry TLVs: up to 16 + 65535 bytes.
                None => read_more(&mut io, &mut buf, 16 + 65_535).await?,
            }
        };
        buf.drain(..used);
        Ok(Accepted {
            io: Prefixed::new(buf, io),
            // LOCAL/UNKNOWN (the proxy's own health check): the socket's peer.
            client: header.addresses.map_or(peer, |(src, _)| src),
            via: Via::Proxy,
        })
    }
}

/// Read more bytes into `buf`, refusing to grow past `cap` or an early end of stream.
async fn read_more<S: AsyncRead + Unpin>(
    io: &mut S,
    buf: &mut Vec<u8>,
    cap: usize,
) -> Result<(), FrontEndError> {
    use bytes::BufMut;
    if buf.len() >= cap {
        return Err(secdispatch_tlslb::Error::TooLong("front-end header and ClientHello").into());
    }
    let room = (cap - buf.len()).min(READ_CHUNK);
    buf.reserve(room);
    // Into the spare capacity, not zeroed first: this runs for every connection.
    let n = io.read_buf(&mut (&mut *buf).limit(room)).await?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed inside the front-end header or ClientHello",
        )
        .into());
    }
    Ok(())
}
