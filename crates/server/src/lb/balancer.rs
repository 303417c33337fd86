//! `secdispatch lb`: an L4 load balancer that does not terminate TLS.
//!
//! Per connection: read the client's ClientHello (however many records it takes), pick
//! the pool by its server name, then try backends in the order of the overload table
//! (accepted and unknown ones, round robin; never overloaded or rejected ones while their
//! TTL runs). To a backend it writes one header — a TLS-LB `proxy_header` record sealed to
//! this ClientHello with the client's address, ports, destination and ratchet, padded to
//! `pad_to`; or PROXY v2/v1 — and then the client's bytes verbatim. With TLS-LB it reads
//! the backend's answer before relaying anything back: `overload` states go into the
//! table, and a `rejected` connection is retried on the next backend with the buffered
//! ClientHello (the client never notices). A backend that answers with its ServerHello
//! directly is proxied anyway, as the draft asks; one that sends nothing at all within
//! `answer_timeout` is given up and the next one tried. Then both directions are copied
//! until either side closes.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use secdispatch_tlslb::client_hello::{self, ClientHello, MAX_CLIENT_HELLO};
use secdispatch_tlslb::encrypted::{MAX_RECORD, Sniff, sniff};
use secdispatch_tlslb::nonce::Nonces;
use secdispatch_tlslb::overload::OverloadTable;
use secdispatch_tlslb::proxy_data::{Direction, OverloadState, ProxyData};
use secdispatch_tlslb::ratchet::RatchetSender;
use secdispatch_tlslb::{open_downstream, proxy_protocol, seal_upstream};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::config::{LbConfig, LbHeader, Splice};
use super::front_end::KeyFile;
use super::{READ_CHUNK, tcp};
use crate::flow_events::FlowReporter;
use crate::{Metrics, Shutdown};

/// Why a connection could not be balanced.
#[derive(Debug, thiserror::Error)]
pub enum LbError {
    /// The configuration is unusable.
    #[error("lb: {0}")]
    Config(String),
    /// Reading the client failed.
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// What the client sent is not a ClientHello.
    #[error("{0}")]
    ClientHello(#[from] secdispatch_tlslb::Error),
}

#[derive(Debug)]
struct Pool {
    names: Vec<String>,
    backends: Vec<SocketAddr>,
    table: Mutex<OverloadTable>,
    ratchets: Vec<Mutex<RatchetSender>>,
}

impl Pool {
    fn matches(&self, name: &str) -> bool {
        self.names.iter().any(|n| {
            if let Some(suffix) = n.strip_prefix("*.") {
                name.len() > suffix.len() + 1
                    && name.ends_with(suffix)
                    && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
                    && !name[..name.len() - suffix.len() - 1].contains('.')
            } else {
                n == name
            }
        })
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    // Static, so counting a connection allocates nothing.
    outcome: &'static str,
}

#[derive(Clone, Debug)]
struct LbMetrics {
    connections: Family<OutcomeLabels, Counter>,
    attempts: Family<OutcomeLabels, Counter>,
    setup_seconds: Histogram,
}

impl LbMetrics {
    fn register(metrics: &Metrics) -> Self {
        let m = Self {
            connections: Family::default(),
            attempts: Family::default(),
            setup_seconds: Histogram::new([
                0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1.0,
            ]),
        };
        metrics.register(
            "lb_connections",
            "Client connections by outcome (proxied, no_backend, all_overloaded, bad_client_hello, ...)",
            m.connections.clone(),
        );
        metrics.register(
            "lb_backend_attempts",
            "Backend attempts by outcome (answered, unanswered, rejected, silent, connect_error, answer_invalid, closed)",
            m.attempts.clone(),
        );
        metrics.register(
            "lb_setup_seconds",
            "From the complete ClientHello to the first byte relayed to the client's backend",
            m.setup_seconds.clone(),
        );
        m
    }

    fn connection(&self, outcome: &'static str) {
        self.connections
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    fn attempt(&self, outcome: &'static str) {
        self.attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}

/// The running load balancer.
#[derive(Debug)]
pub struct Balancer {
    config: LbConfig,
    keys: Option<Arc<KeyFile>>,
    pools: Vec<Pool>,
    metrics: LbMetrics,
    flows: Option<Arc<FlowReporter>>,
    nonces: Nonces,
}

/// A backend connection ready to be relayed, with bytes it sent after its answer.
struct Connected {
    stream: TcpStream,
    early: Vec<u8>,
}

impl Balancer {
    /// A balancer for `config`; `keys` is required with `header = "tls-lb"`.
    pub fn new(
        config: &LbConfig,
        keys: Option<Arc<KeyFile>>,
        metrics: &Metrics,
    ) -> Result<Self, LbError> {
        if config.pools.is_empty() || config.pools.iter().any(|p| p.backends.is_empty()) {
            return Err(LbError::Config(
                "every [[lb.pools]] needs backends, and at least one pool is needed".into(),
            ));
        }
        if config.header == LbHeader::TlsLb && keys.is_none() {
            return Err(LbError::Config("header tls-lb needs a key file".into()));
        }
        if config.content_type == client_hello::HANDSHAKE {
            return Err(LbError::Config(
                "content_type 22 is the TLS handshake type; pick another".into(),
            ));
        }
        if config.max_attempts == 0 {
            return Err(LbError::Config("max_attempts must be at least 1".into()));
        }
        let mut pools = Vec::new();
        for p in &config.pools {
            let mut ratchets = Vec::new();
            for _ in &p.backends {
                ratchets.push(Mutex::new(RatchetSender::new(ratchet_start(
                    SystemTime::now(),
                ))));
            }
            pools.push(Pool {
                names: p
                    .server_names
                    .iter()
                    .map(|n| n.to_ascii_lowercase())
                    .collect(),
                backends: p.backends.clone(),
                table: Mutex::new(OverloadTable::new(p.backends.len())),
                ratchets,
            });
        }
        Ok(Self {
            config: config.clone(),
            keys,
            pools,
            metrics: LbMetrics::register(metrics),
            flows: None,
            nonces: Nonces::new().map_err(|e| LbError::Config(e.to_string()))?,
        })
    }

    /// Report every balanced connection to a lifecycle watcher.
    pub fn with_flow_events(mut self, reporter: Arc<FlowReporter>) -> Self {
        self.flows = Some(reporter);
        self
    }

    /// Accept connections until shutdown; each is balanced on its own task.
    pub async fn run(self: Arc<Self>, listener: TcpListener, shutdown: Shutdown) {
        let inherited = match tcp::tune_listener(&listener, self.config.delayed_acks) {
            Ok(inherited) => inherited,
            Err(e) => {
                tracing::warn!(error = %e, "lb: cannot set the listener's TCP options; setting TCP_NODELAY per connection");
                false
            }
        };
        // Every connection sets a connect and an answer timeout (and a ClientHello one when
        // it must wait): with the floor, none of them wakes the I/O driver.
        let c = &self.config;
        crate::services::keep_timer_floor(
            &shutdown,
            c.client_hello_timeout
                .min(c.connect_timeout)
                .min(c.answer_timeout),
        );
        // A listener bound to one address accepts connections to that address only, so
        // the destination is known without a `getsockname` per connection.
        let bound = listener
            .local_addr()
            .ok()
            .filter(|a| !a.ip().is_unspecified());
        loop {
            let accepted = tokio::select! {
                () = shutdown.triggered() => break,
                a = listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "lb: accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            tcp::tune_accepted(&stream, inherited);
            let lb = self.clone();
            shutdown.spawn(async move {
                let local = bound.unwrap_or_else(|| stream.local_addr().unwrap_or(peer));
                if let Err(e) = lb.handle(stream, peer, local).await {
                    tracing::debug!(%peer, error = %e, "lb: connection ended");
                }
            });
        }
    }

    fn pool_for(&self, hello: &ClientHello) -> Option<&Pool> {
        let name = hello.server_name.as_deref().map(str::to_ascii_lowercase);
        name.as_deref()
            .and_then(|n| self.pools.iter().find(|p| p.matches(n)))
            .or_else(|| self.pools.iter().find(|p| p.names.is_empty()))
    }

    /// Balance one client connection.
    pub async fn handle(
        &self,
        mut client: TcpStream,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<(), LbError> {
        let mut buf = Vec::with_capacity(READ_CHUNK);
        let read = tokio::time::timeout(
            self.config.client_hello_timeout,
            read_client_hello(&mut client, &mut buf),
        )
        .await;
        let hello = match read {
            Ok(Ok(h)) => h,
            Ok(Err(e)) => {
                self.metrics.connection("bad_client_hello");
                tracing::info!(%peer, error = %e, "lb: not a ClientHello; connection closed");
                return Err(e);
            }
            Err(_) => {
                self.metrics.connection("client_hello_timeout");
                return Ok(());
            }
        };
        let started = Instant::now();
        let Some(pool) = self.pool_for(&hello) else {
            self.metrics.connection("no_pool");
            tracing::info!(%peer, server_name = ?hello.server_name, "lb: no pool for this server name");
            return Ok(());
        };
        let order = pool
            .table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .order(now_ms());
        if order.is_empty() {
            self.metrics.connection("all_overloaded");
            tracing::warn!(%peer, "lb: every backend is overloaded or rejecting; connection dropped");
            return Ok(());
        }
        for i in order.into_iter().take(self.config.max_attempts) {
            let Some(mut backend) = self.attempt(pool, i, &hello, &buf, peer, local).await else {
                continue;
            };
            self.metrics
                .setup_seconds
                .observe(started.elapsed().as_secs_f64());
            self.metrics.connection("proxied");
            let report = self
                .flows
                .as_ref()
                .map(|f| f.open(peer, local, hello.server_name.as_deref()));
            let copied = relay(
                &mut client,
                &mut backend,
                buf.len() as u64,
                self.config.splice,
            )
            .await;
            if let Some(r) = report {
                let (up, down) = copied.as_ref().map_or((buf.len() as u64, 0), |c| *c);
                r.close(up, down);
            }
            copied?;
            return Ok(());
        }
        self.metrics.connection("no_backend");
        tracing::warn!(%peer, "lb: no backend took the connection");
        Ok(())
    }

    /// Connect to backend `i` of `pool`, send the header and the client's bytes, and read
    /// its answer. `None`: try the next backend.
    async fn attempt(
        &self,
        pool: &Pool,
        i: usize,
        hello: &ClientHello,
        client_bytes: &[u8],
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Option<Connected> {
        let addr = pool.backends[i];
        let mut stream = match tokio::time::timeout(
            self.config.connect_timeout,
            tcp::connect(addr, self.config.delayed_acks),
        )
        .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                self.metrics.attempt("connect_error");
                tracing::warn!(backend = %addr, error = %e, "lb: backend connection failed");
                pool.table
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .forget(i);
                return None;
            }
            Err(_) => {
                self.metrics.attempt("connect_error");
                tracing::warn!(backend = %addr, "lb: backend connection timed out");
                return None;
            }
        };
        let mut sealed = None;
        let header = match self.config.header {
            LbHeader::TlsLb => match self.seal(pool, i, hello, peer, local) {
                Ok((record, epd, index)) => {
                    sealed = Some((epd, index));
                    record
                }
                Err(e) => {
                    tracing::error!(error = %e, "lb: cannot seal the proxy_header");
                    return None;
                }
            },
            LbHeader::ProxyV2 => proxy_protocol::encode_v2(peer, local, &[], true).ok()?,
            LbHeader::ProxyV1 => proxy_protocol::encode_v1(peer, local).ok()?,
            LbHeader::None => Vec::new(),
        };
        let mut out = Vec::with_capacity(header.len() + client_bytes.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(client_bytes);
        let written = stream.write_all(&out).await;
        let Some((epd, index)) = sealed else {
            if written.is_err() {
                self.metrics.attempt("closed");
                return None;
            }
            self.metrics.attempt("unanswered");
            return Some(Connected {
                stream,
                early: Vec::new(),
            });
        };
        let answered = if written.is_ok() {
            self.read_answer(pool, i, &mut stream, &epd).await
        } else {
            None
        };
        pool.ratchets[i]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .finish(index);
        let early = answered?;
        Some(Connected { stream, early })
    }

    fn seal(
        &self,
        pool: &Pool,
        i: usize,
        hello: &ClientHello,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<(Vec<u8>, Vec<u8>, u64), secdispatch_tlslb::Error> {
        let Some(keys) = &self.keys else {
            return Err(secdispatch_tlslb::Error::UnknownIdentity("no keys".into()));
        };
        let ratchet = pool.ratchets[i]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .start();
        let data = ProxyData::new(Direction::Upstream)
            .client_address(peer.ip())
            .destination_address(local.ip())
            .ports(peer.port(), local.port())
            .ratchet(ratchet)
            .pad_to(self.config.pad_to);
        let sealed = seal_upstream(
            &keys.keys(),
            &data,
            &hello.message,
            self.nonces.next(),
            self.config.content_type,
        );
        match sealed {
            Ok((record, epd)) => Ok((record, epd, ratchet.index)),
            Err(e) => {
                pool.ratchets[i]
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .finish(ratchet.index);
                Err(e)
            }
        }
    }

    /// Read the backend's downstream `proxy_header`. `Some(bytes to relay)` to go on with
    /// this backend, `None` to try the next one.
    async fn read_answer(
        &self,
        pool: &Pool,
        i: usize,
        stream: &mut TcpStream,
        upstream_epd: &[u8],
    ) -> Option<Vec<u8>> {
        let ct = self.config.content_type;
        let mut buf = Vec::with_capacity(READ_CHUNK);
        let deadline = tokio::time::Instant::now() + self.config.answer_timeout;
        let n = loop {
            match sniff(&buf, ct) {
                Ok(Sniff::ProxyHeader(n)) => break n,
                Ok(Sniff::NeedMore) => {}
                // The backend went straight to its ServerHello (or an alert): no answer.
                Ok(Sniff::DirectTls) | Err(_) if !buf.is_empty() => {
                    self.metrics.attempt("unanswered");
                    return Some(buf);
                }
                Ok(Sniff::DirectTls) | Err(_) => {}
            }
            if buf.len() >= 5 + MAX_RECORD {
                self.metrics.attempt("answer_invalid");
                return None;
            }
            buf.reserve(READ_CHUNK);
            match tokio::time::timeout_at(deadline, stream.read_buf(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    // Closed without a ServerHello: the ClientHello goes to the next one.
                    self.metrics.attempt("closed");
                    pool.table
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .forget(i);
                    return None;
                }
                Ok(Ok(_)) => {}
                Err(_) if buf.is_empty() => {
                    // A TLS server speaks right after the ClientHello; one that is silent
                    // this long is stuck. Its answer could still come and must not reach
                    // the client, so the ClientHello goes to the next backend instead.
                    self.metrics.attempt("silent");
                    tracing::warn!(backend = %pool.backends[i], timeout = ?self.config.answer_timeout, "lb: backend sent nothing after the ClientHello; trying the next one");
                    return None;
                }
                Err(_) => {
                    // Half a header: nothing sensible can be relayed.
                    self.metrics.attempt("answer_invalid");
                    return None;
                }
            }
        };
        if let Some(keys) = &self.keys
            && !self.heed_answer(pool, i, keys, &buf[5..n], upstream_epd)
        {
            return None;
        }
        // What follows the answer (usually the ServerHello) is relayed from this buffer.
        buf.drain(..n);
        Some(buf)
    }

    /// Open the backend's answer (`payload`) and act on its overload state; `false` when
    /// the backend rejected the connection and the next one must be tried. An answer that
    /// does not verify is counted and logged, and the connection goes on (the draft).
    fn heed_answer(
        &self,
        pool: &Pool,
        i: usize,
        keys: &KeyFile,
        payload: &[u8],
        upstream_epd: &[u8],
    ) -> bool {
        let answer =
            open_downstream(&keys.keys(), payload, upstream_epd).and_then(|d| d.metadata());
        match answer {
            Ok(meta) => {
                if let Some(v) = meta.overload {
                    pool.table
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(i, v, now_ms());
                    if v.state == OverloadState::Rejected {
                        self.metrics.attempt("rejected");
                        tracing::info!(backend = %pool.backends[i], ttl = v.ttl, "lb: backend rejected the connection (overload); trying the next one");
                        return false;
                    }
                }
                self.metrics.attempt("answered");
            }
            Err(e) => {
                // The draft: a missing or failed answer does not stop the connection.
                self.metrics.attempt("answer_invalid");
                tracing::warn!(backend = %pool.backends[i], error = %e, "lb: backend answer does not verify; proxying on");
            }
        }
        true
    }
}

/// Relay until either side closes; returns the bytes client → backend (counting the
/// ClientHello, `sent` bytes) and backend → client.
async fn relay(
    client: &mut TcpStream,
    backend: &mut Connected,
    sent: u64,
    splice: Splice,
) -> io::Result<(u64, u64)> {
    if !backend.early.is_empty() {
        client.write_all(&backend.early).await?;
    }
    let (up, down) = super::relay::copy_both_ways(client, &mut backend.stream, splice).await?;
    Ok((sent + up, backend.early.len() as u64 + down))
}

async fn read_client_hello(
    client: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> Result<ClientHello, LbError> {
    loop {
        if let Some(h) = client_hello::parse(buf)? {
            return Ok(h);
        }
        if buf.len() > MAX_CLIENT_HELLO + 5 * 8 {
            return Err(secdispatch_tlslb::Error::TooLong("ClientHello").into());
        }
        buf.reserve(READ_CHUNK);
        if client.read_buf(buf).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "client closed before its ClientHello was complete",
            )
            .into());
        }
    }
}

/// Where the ratchet index of a backend starts: the time in microseconds since the epoch.
///
/// The draft starts it at random, but a backend keeps the floor it learned from this load
/// balancer's previous run (same `psk_identity`) and refuses every index below it in serial
/// order, which a random restart point is half of the time: the restarted load balancer
/// would be refused by that backend until the backend restarts too. Time only moves forward
/// and a load balancer opens far fewer than one connection per microsecond per backend, so
/// a restarted one always continues above the indices of its previous run. The index is
/// inside the encrypted ProxyData, so only the backend sees it, and it can count
/// connections anyway.
fn ratchet_start(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(names: &[&str]) -> Pool {
        Pool {
            names: names.iter().map(|s| (*s).to_owned()).collect(),
            backends: vec![],
            table: Mutex::new(OverloadTable::new(0)),
            ratchets: vec![],
        }
    }

    /// A backend that served a load balancer keeps serving it after the load balancer
    /// restarts (the ratchet continues above the previous run's indices).
    #[test]
    fn a_restarted_load_balancer_stays_above_the_backends_floor() {
        use secdispatch_tlslb::ratchet::RatchetReceiver;
        use std::time::Duration;
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut backend = RatchetReceiver::new(1024);
        let mut first_run = RatchetSender::new(ratchet_start(t0));
        for _ in 0..10_000 {
            let v = first_run.start();
            backend.check(v).unwrap();
            first_run.finish(v.index);
        }
        // Restarted 50 ms later (10,000 connections in 50 ms is 200k/s).
        let mut second_run = RatchetSender::new(ratchet_start(t0 + Duration::from_millis(50)));
        for _ in 0..100 {
            let v = second_run.start();
            backend.check(v).unwrap();
            second_run.finish(v.index);
        }
    }

    #[test]
    fn server_names_exact_and_one_label_wildcards() {
        let p = pool(&["www.example.com", "*.example.net"]);
        assert!(p.matches("www.example.com"));
        assert!(!p.matches("example.com"));
        assert!(p.matches("a.example.net"));
        assert!(!p.matches("a.b.example.net"));
        assert!(!p.matches("example.net"));
        assert!(!p.matches("xexample.net"));
    }
}
