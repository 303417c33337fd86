//! Serving HTTP/1.1 and HTTP/2 with the shared [`Limits`] and graceful shutdown.
//!
//! What every listener of secdispatch enforces:
//!
//! * a request head larger than `max_header_bytes` or with more than `max_headers` fields
//!   gets 431 (hyper answers it before any handler runs);
//! * a head that does not arrive within `header_read_timeout` closes the connection
//!   (slowloris);
//! * a body larger than `max_body_bytes` gets 413, at once when `Content-Length` says so,
//!   otherwise as soon as the handler reads past the limit;
//! * a request that takes longer than `request_timeout` gets 503;
//! * a connection without a byte either way for `idle_timeout` is closed;
//! * on shutdown, listeners stop accepting, connections finish their in-flight requests
//!   and close; [`crate::Shutdown::drain`] bounds the wait.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::Shutdown;
use crate::config::Limits;
use crate::metrics::Metrics;

/// Wrap `app` with the per-request limits and metrics of service `name`.
pub fn with_limits(app: Router, name: &'static str, limits: &Limits, metrics: &Metrics) -> Router {
    let state = Arc::new(RequestGuard {
        name,
        max_body: limits.max_body_bytes,
        timeout: limits.request_timeout,
        metrics: metrics.clone(),
    });
    app.layer(middleware::from_fn(move |req: Request, next: Next| {
        let state = state.clone();
        async move { state.run(req, next).await }
    }))
}

struct RequestGuard {
    name: &'static str,
    max_body: u64,
    timeout: Duration,
    metrics: Metrics,
}

impl RequestGuard {
    async fn run(&self, req: Request, next: Next) -> Response {
        let started = Instant::now();
        let method = req.method().clone();
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let response = if declared.is_some_and(|n| n > self.max_body) {
            short(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
        } else {
            let limit = usize::try_from(self.max_body).unwrap_or(usize::MAX);
            let req = req.map(|b| Body::new(http_body_util::Limited::new(b, limit)));
            match tokio::time::timeout(self.timeout, next.run(req)).await {
                Ok(r) => r,
                Err(_) => {
                    tracing::warn!(service = self.name, %method, "request timed out");
                    short(StatusCode::SERVICE_UNAVAILABLE, "request timed out")
                }
            }
        };
        self.metrics
            .http()
            .observe(self.name, &method, response.status(), started);
        response
    }
}

/// A response with a one-line plain-text body.
pub fn short(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{text}\n"),
    )
        .into_response()
}

thread_local! {
    /// The event loop this thread runs: 0 for the process's shared runtime, a number of
    /// its own for each worker (see [`spawn_worker`]).
    static EVENT_LOOP: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Worker event loops started so far in this process (numbers them from 1).
static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// The event loop the calling thread runs: resources bound to a runtime (sockets) are
/// kept per event loop.
pub fn event_loop() -> usize {
    EVENT_LOOP.with(std::cell::Cell::get)
}

/// Mark the calling thread as running event loop `n`.
pub(crate) fn enter_event_loop(n: usize) {
    EVENT_LOOP.with(|l| l.set(n));
}

/// Run `serve` on a thread of its own, on a single-threaded runtime: an event loop that
/// owns its connections from accept to close, as an nginx or haproxy worker does. Nothing
/// moves between threads, so there is no work stealing and no cross-thread wake-up per
/// request. `serve` gets the std listener to register with this runtime (a clone of a
/// shared one: every worker accepts from it) and returns once `shutdown` has triggered;
/// the thread then keeps its runtime turning until every task spawned through
/// `shutdown` has finished, so its connections drain like the others.
pub fn spawn_worker<F, Fut>(
    name: String,
    listener: std::net::TcpListener,
    shutdown: &Shutdown,
    serve: F,
) -> io::Result<()>
where
    F: FnOnce(TcpListener, Shutdown) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let shutdown = shutdown.clone();
    let number = WORKERS.fetch_add(1, Ordering::Relaxed) + 1;
    std::thread::Builder::new().name(name).spawn(move || {
        enter_event_loop(number);
        runtime.block_on(async move {
            match TcpListener::from_std(listener) {
                Ok(listener) => serve(listener, shutdown.clone()).await,
                Err(e) => tracing::error!(error = %e, "worker cannot use its listener"),
            }
            shutdown.finished().await;
        });
    })?;
    Ok(())
}

/// Bind `addr`, with a message that names the address when it fails.
pub async fn bind(name: &str, addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("{name}: cannot listen on {addr}: {e}")))
}

/// What a handler can learn about the connection its request came on: a request
/// extension on every request served here.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The TCP peer (a load balancer, when there is one in front).
    pub peer: SocketAddr,
    /// The real client: the peer, or the address a trusted front end (TLS-LB, PROXY
    /// protocol) reported.
    pub client: SocketAddr,
    /// Our address.
    pub local: SocketAddr,
    /// The TLS session, when the listener terminates TLS.
    pub tls: Option<Arc<TlsSession>>,
}

/// What was negotiated on a TLS connection.
#[derive(Debug, Clone, Default)]
pub struct TlsSession {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: &'static str,
    /// The negotiated ALPN protocol.
    pub alpn: Option<String>,
    /// The server name the client asked for.
    pub sni: Option<String>,
    /// The client certificate chain as presented (end entity first), when there was one.
    pub peer_certificates: Vec<Vec<u8>>,
    /// Whether the presented chain validated against the configured trust anchors.
    pub client_cert_valid: bool,
    /// Why it did not, when it did not.
    pub client_cert_error: Option<String>,
    /// Subject of the validated client certificate, for logs.
    pub client_subject: Option<String>,
}

/// Accept connections on `listener` and serve `app` on each (HTTP/1.1 or HTTP/2, by
/// preface) until `shutdown` triggers; then stop accepting and let every connection
/// finish. Connection tasks are spawned through `shutdown` so its drain waits for them.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, shutdown: Shutdown) {
    let local = listener.local_addr().ok();
    loop {
        let accepted = tokio::select! {
            () = shutdown.triggered() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and similar: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let limits = limits.clone();
        let conn_shutdown = shutdown.clone();
        let info = Arc::new(Connection {
            peer,
            client: peer,
            local: stream.local_addr().unwrap_or(peer),
            tls: None,
        });
        shutdown.spawn(async move {
            serve_connection(stream, app, &limits, conn_shutdown, info).await;
            tracing::trace!(%peer, "connection closed");
        });
    }
    tracing::debug!(listener = ?local, "stopped accepting");
}

/// Serve one established connection (plain TCP, TLS, or anything that reads and writes);
/// every request gets `info` as an extension.
pub async fn serve_connection<I>(
    io: I,
    app: Router,
    limits: &Limits,
    shutdown: Shutdown,
    info: Arc<Connection>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let io = TokioIo::new(IdleIo {
        inner: io,
        activity: activity.clone(),
        started,
    });
    // Count requests being handled, so a slow handler does not make the connection idle.
    let counter = in_flight.clone();
    let service = hyper_util::service::TowerToHyperService::new(tower::service_fn(
        move |mut req: http::Request<hyper::body::Incoming>| {
            let app = app.clone();
            let guard = InFlight::enter(&counter);
            req.extensions_mut().insert(info.clone());
            async move {
                let res = app.oneshot(req.map(Body::new)).await;
                drop(guard);
                res
            }
        },
    ));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX));
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let idle = limits.idle_timeout;
    let mut closing = false;
    loop {
        let since = Duration::from_millis(activity.load(Ordering::Relaxed));
        let quiet_for = if in_flight.load(Ordering::Relaxed) > 0 {
            Duration::ZERO
        } else {
            started.elapsed().saturating_sub(since)
        };
        let check_in = idle
            .saturating_sub(quiet_for)
            .max(Duration::from_millis(10));
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = shutdown.triggered(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep(check_in) => {
                if !closing && quiet_for >= idle {
                    tracing::debug!("closing idle connection");
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                } else if closing && quiet_for >= idle {
                    // A graceful close that makes no progress either: cut it.
                    return;
                }
            }
        }
    }
}

/// Counts one request as in flight for as long as it lives.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Records the time of the last byte read or written, for the idle timeout.
struct IdleIo<I> {
    inner: I,
    activity: Arc<AtomicU64>,
    started: Instant,
}

impl<I> IdleIo<I> {
    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.activity.store(ms, Ordering::Relaxed);
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for IdleIo<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        res
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for IdleIo<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
