//! Flow events for `secdispatch lifecycle watch`: one JSON object per line over TCP
//! (format version 1, documented in `secdispatch_lifecycle::event`), an `open` when a
//! connection is accepted and a `close` with its byte counts when it ends.
//!
//! Reporting never slows or fails a connection: events go through a bounded queue to one
//! background task that (re)connects to the watcher; when the queue is full or the watcher
//! is away, events are dropped and counted in `flow_events_dropped`.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prometheus_client::metrics::counter::Counter;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::mpsc;

use crate::{Metrics, Shutdown};

/// Events queued at most before new ones are dropped.
const QUEUE: usize = 4096;

/// A connection's report handle: `close` sends the matching `close` event.
#[derive(Debug)]
pub struct FlowReport {
    reporter: Arc<FlowReporter>,
    id: String,
    src: SocketAddr,
    dst: SocketAddr,
}

/// Sends flow events of one component (`lb`, `gateway`) to a watcher.
#[derive(Debug)]
pub struct FlowReporter {
    name: &'static str,
    tx: mpsc::Sender<String>,
    next_id: AtomicU64,
    dropped: Counter,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl FlowReporter {
    /// Report as `name` to the watcher at `to`; the sender task stops at shutdown.
    pub fn start(
        name: &'static str,
        to: SocketAddr,
        metrics: &Metrics,
        shutdown: &Shutdown,
    ) -> Arc<Self> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let dropped = Counter::default();
        metrics.register(
            &format!("{name}_flow_events_dropped"),
            "Flow events not delivered to the lifecycle watcher (queue full or watcher away)",
            dropped.clone(),
        );
        shutdown.spawn(send_loop(to, rx, dropped.clone(), shutdown.clone()));
        Arc::new(Self {
            name,
            tx,
            next_id: AtomicU64::new(1),
            dropped,
        })
    }

    fn send(&self, event: Value) {
        let mut line = event.to_string();
        line.push('\n');
        if self.tx.try_send(line).is_err() {
            self.dropped.inc();
        }
    }

    /// Report a new connection from `src` to `dst` (`sni` when known).
    pub fn open(
        self: &Arc<Self>,
        src: SocketAddr,
        dst: SocketAddr,
        sni: Option<&str>,
    ) -> FlowReport {
        let id = format!(
            "{}-{}",
            self.name,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let mut e = base("open", &id, src, dst, self.name);
        if let Some(s) = sni {
            e.insert("sni".into(), json!(s));
        }
        self.send(Value::Object(e));
        FlowReport {
            reporter: self.clone(),
            id,
            src,
            dst,
        }
    }
}

impl FlowReport {
    /// Report the end of the connection with the payload bytes each way.
    pub fn close(self, orig_bytes: u64, resp_bytes: u64) {
        let mut e = base("close", &self.id, self.src, self.dst, self.reporter.name);
        e.insert("orig_bytes".into(), json!(orig_bytes));
        e.insert("resp_bytes".into(), json!(resp_bytes));
        self.reporter.send(Value::Object(e));
    }
}

/// Bytes read from and written to a stream so far (what `close` reports).
#[derive(Debug, Default)]
pub struct ByteCounts {
    read: AtomicU64,
    written: AtomicU64,
}

impl ByteCounts {
    /// (bytes read from the peer, bytes written to it).
    pub fn get(&self) -> (u64, u64) {
        (
            self.read.load(Ordering::Relaxed),
            self.written.load(Ordering::Relaxed),
        )
    }
}

/// A stream that counts the bytes through it, for services that hand the stream on
/// (to TLS and HTTP) and report its byte counts when it is done.
#[derive(Debug)]
pub struct Counted<S> {
    inner: S,
    counts: Arc<ByteCounts>,
}

impl<S> Counted<S> {
    /// Count `inner`'s bytes into `counts`.
    pub fn new(inner: S, counts: Arc<ByteCounts>) -> Self {
        Self { inner, counts }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before) as u64;
        self.counts.read.fetch_add(n, Ordering::Relaxed);
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.counts.written.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &r {
            self.counts.written.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

fn base(event: &str, id: &str, src: SocketAddr, dst: SocketAddr, name: &str) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("v".into(), json!(1));
    e.insert("event".into(), json!(event));
    e.insert("id".into(), json!(id));
    e.insert("ts".into(), json!(now()));
    e.insert("src".into(), json!(src.to_string()));
    e.insert("dst".into(), json!(dst.to_string()));
    e.insert("reporter".into(), json!(name));
    e.insert("service".into(), json!("ssl"));
    e
}

async fn send_loop(
    to: SocketAddr,
    mut rx: mpsc::Receiver<String>,
    dropped: Counter,
    shutdown: Shutdown,
) {
    let mut conn: Option<tokio::net::TcpStream> = None;
    let mut warned = false;
    // After a failed connect, events are dropped for a second before the next attempt.
    let mut retry_at = tokio::time::Instant::now();
    loop {
        let line = tokio::select! {
            () = shutdown.triggered() => return,
            l = rx.recv() => match l { Some(l) => l, None => return },
        };
        if conn.is_none() {
            if tokio::time::Instant::now() < retry_at {
                dropped.inc();
                continue;
            }
            match tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(to))
                .await
            {
                Ok(Ok(s)) => {
                    tracing::info!(watcher = %to, "flow events: connected to the lifecycle watcher");
                    warned = false;
                    conn = Some(s);
                }
                _ => {
                    if !warned {
                        tracing::warn!(watcher = %to, "flow events: lifecycle watcher unreachable; dropping events until it is back");
                        warned = true;
                    }
                    retry_at = tokio::time::Instant::now() + Duration::from_secs(1);
                    dropped.inc();
                    continue;
                }
            }
        }
        if let Some(s) = conn.as_mut()
            && s.write_all(line.as_bytes()).await.is_err()
        {
            dropped.inc();
            conn = None;
        }
    }
}
