//! `secdispatch gateway`: a TLS-terminating reverse proxy that authenticates clients by
//! certificate, tells the backend who they are with RFC 9440 `Client-Cert`, and signs every
//! forwarded request with RFC 9421 so the backend can prove the request came through it.
//!
//! On every request, in order:
//!
//! 1. the route is chosen by host and longest path prefix (404 without one);
//! 2. a route that requires a client certificate answers 403 when the connection has no
//!    valid one (hosts whose routes all require one refuse it in the TLS handshake);
//! 3. `Client-Cert`, `Client-Cert-Chain`, `Signature` and `Signature-Input` sent by the
//!    client are removed (or answered with 400 when so configured), as are hop-by-hop
//!    fields;
//! 4. `Forwarded` / `X-Forwarded-*` are set from the connection (never taken from the
//!    client);
//! 5. `Client-Cert` (and `Client-Cert-Chain` when configured) are added from the verified
//!    TLS session;
//! 6. with a body and no `Content-Digest`, the body is read (up to the body limit) and a
//!    SHA-256 `Content-Digest` added; a body that comes with a `Content-Digest` streams
//!    through and the backend checks it;
//! 7. the request is signed (label `gateway`, `tag="secdispatch-gateway"`, `created`,
//!    `keyid`) over `@method @authority @path @query`, plus `client-cert`,
//!    `client-cert-chain` and `content-digest` when present;
//! 8. it goes to the next healthy upstream of the route's pool; a connection failure marks
//!    the upstream down for a while and, for requests without a body, tries the next one;
//!    502 when none answers, 504 when the response head is late.
//!
//! Responses stream back without `Client-Cert` fields and with `Vary: Client-Cert`
//! rewritten to `Vary: *` (RFC 9440 §2.4). Upgrades (WebSocket) are spliced through.

pub mod revocation;
pub mod route;
pub mod tls;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Body;
use axum::extract::{Extension, Request};
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{StatusCode, Uri, Version};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use secdispatch_clientcert::{CLIENT_CERT, CLIENT_CERT_CHAIN};
use secdispatch_httpsig::component::ComponentId;
use secdispatch_httpsig::digest::{CONTENT_DIGEST, DigestAlgorithm, Digests};
use secdispatch_httpsig::fields::append_signature;
use secdispatch_httpsig::message::{MessageView, RequestView};
use secdispatch_httpsig::params::{SignatureInput, SignatureParams};
use secdispatch_httpsig::sign::{sign_input, unix_seconds};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::Shutdown;
use crate::config::{ClientAuth, ForwardedMode, GatewayConfig, Limits, UpstreamProtocol};
use crate::keyring::SigningKeyring;
use crate::metrics::Metrics;
use crate::serve::{self, Connection, short};
use route::{Route, Routes};
use secdispatch_http1::Framing;
use tls::TlsTerminator;
use upstream::{Answer, Failure};

/// Hop-by-hop fields (RFC 9110 §7.6.1), never forwarded.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

const SIGNATURE: HeaderName = HeaderName::from_static("signature");
const SIGNATURE_INPUT: HeaderName = HeaderName::from_static("signature-input");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");

/// The gateway's own metrics.
#[derive(Clone, Debug)]
struct GatewayMetrics {
    handshakes: Family<HandshakeLabels, Counter>,
    handshake_failures: Counter,
    upstream_errors: Family<UpstreamErrorLabels, Counter>,
    forged_fields: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandshakeLabels {
    version: String,
    client_auth: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamErrorLabels {
    kind: String,
}

impl GatewayMetrics {
    fn register(metrics: &Metrics) -> Self {
        let m = Self {
            handshakes: Family::default(),
            handshake_failures: Counter::default(),
            upstream_errors: Family::default(),
            forged_fields: Counter::default(),
        };
        metrics.register(
            "gateway_tls_handshakes",
            "Completed TLS handshakes by version and client certificate result (none, valid, invalid)",
            m.handshakes.clone(),
        );
        metrics.register(
            "gateway_tls_handshake_failures",
            "TLS handshakes that failed or timed out",
            m.handshake_failures.clone(),
        );
        metrics.register(
            "gateway_upstream_errors",
            "Upstream failures by kind (connect, timeout, protocol)",
            m.upstream_errors.clone(),
        );
        metrics.register(
            "gateway_client_cert_fields_removed",
            "Requests that arrived with their own Client-Cert or Client-Cert-Chain",
            m.forged_fields.clone(),
        );
        m
    }

    fn upstream_error(&self, kind: &str) {
        self.upstream_errors
            .get_or_create(&UpstreamErrorLabels {
                kind: kind.to_owned(),
            })
            .inc();
    }
}

/// Why the gateway cannot start.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A route is invalid.
    #[error(transparent)]
    Route(#[from] route::RouteError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The signature components could not be built.
    #[error("signing: {0}")]
    Signing(String),
    /// A route's `privacy_pass` option is unusable.
    #[error("{0}")]
    PrivacyPass(String),
}

/// The running gateway's shared state.
#[derive(Debug)]
pub struct Gateway {
    routes: Routes,
    tls: Arc<TlsTerminator>,
    signer: Option<Arc<SigningKeyring>>,
    label: String,
    tag: String,
    base_components: Vec<ComponentId>,
    forwarded: ForwardedMode,
    client_cert_chain: bool,
    reject_client_cert_headers: bool,
    response_timeout: Duration,
    upstream: upstream::Settings,
    h2c: Client<HttpConnector, Body>,
    limits: Limits,
    metrics: GatewayMetrics,
    all_metrics: Metrics,
    privacy_pass: crate::issuer::gateway::RouteOrigins,
    flows: Option<Arc<crate::flow_events::FlowReporter>>,
    revocation: Option<Arc<revocation::RevocationChecker>>,
}

impl Gateway {
    /// Build the gateway from its configuration, certificates and signing keyring
    /// (`None` when signing is off).
    pub fn new(
        config: &GatewayConfig,
        tls: Arc<TlsTerminator>,
        signer: Option<Arc<SigningKeyring>>,
        limits: &Limits,
        metrics: &Metrics,
    ) -> Result<Self, GatewayError> {
        let routes = Routes::new(&config.routes, config.upstream_failure_backoff)?;
        let base_components = ComponentId::parse_list(r#""@method" "@authority" "@path" "@query""#)
            .map_err(|e| GatewayError::Signing(e.to_string()))?;
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(config.upstream_connect_timeout));
        connector.set_nodelay(true);
        let h2c = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(connector);
        Ok(Self {
            routes,
            tls,
            signer,
            label: config.signing.label.clone(),
            tag: config.signing.tag.clone(),
            base_components,
            forwarded: config.forwarded,
            client_cert_chain: config.client_cert_chain,
            reject_client_cert_headers: config.reject_client_cert_headers,
            response_timeout: config.upstream_response_timeout,
            upstream: upstream::Settings {
                connect_timeout: config.upstream_connect_timeout,
                ..upstream::Settings::default()
            },
            h2c,
            limits: limits.clone(),
            metrics: GatewayMetrics::register(metrics),
            all_metrics: metrics.clone(),
            privacy_pass: {
                let origins = crate::issuer::gateway::RouteOrigins::new(&config.routes)
                    .map_err(GatewayError::PrivacyPass)?;
                origins.register_metrics(metrics);
                origins
            },
            flows: None,
            revocation: None,
        })
    }

    /// Check client certificates for revocation over OCSP before using them.
    pub fn with_revocation(mut self, checker: Arc<revocation::RevocationChecker>) -> Self {
        self.revocation = Some(checker);
        self
    }

    /// Report connections to a lifecycle watcher. Only direct connections are reported:
    /// one that came through a front end (TLS-LB or PROXY) is the front end's to report.
    pub fn with_flow_events(mut self, reporter: Arc<crate::flow_events::FlowReporter>) -> Self {
        self.flows = Some(reporter);
        self
    }

    /// The Privacy Pass origins of protected routes (bind the shared store with
    /// `privacy_pass().bind_store(store)` for replicas and type 1 tokens).
    pub fn privacy_pass(&self) -> &crate::issuer::gateway::RouteOrigins {
        &self.privacy_pass
    }

    /// The TLS terminator (for hot reload).
    pub fn tls(&self) -> &Arc<TlsTerminator> {
        &self.tls
    }

    /// The HTTP application: every request goes through [`Gateway::forward`].
    pub fn router(self: &Arc<Self>) -> Router {
        let gw = self.clone();
        let app = Router::new().fallback(
            move |Extension(conn): Extension<Arc<Connection>>, req: Request| {
                let gw = gw.clone();
                async move { gw.forward(&conn, req).await }
            },
        );
        serve::with_limits(app, "gateway", &self.limits, &self.all_metrics)
    }

    /// Accept TCP connections, read what a load balancer put in front of TLS (`front_end`:
    /// a verified TLS-LB `proxy_header` or a PROXY header, whose client address then
    /// stands for the connection's), terminate TLS and serve until shutdown.
    pub async fn run(
        self: Arc<Self>,
        listener: TcpListener,
        front_end: Option<Arc<crate::lb::FrontEnd>>,
        shutdown: Shutdown,
    ) {
        let app = self.router();
        loop {
            let accepted = tokio::select! {
                () = shutdown.triggered() => break,
                a = listener.accept() => a,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let local = stream.local_addr().unwrap_or(peer);
            let gw = self.clone();
            let app = app.clone();
            let conn_shutdown = shutdown.clone();
            let front_end = front_end.clone();
            shutdown.spawn(async move {
                match front_end {
                    None => {
                        gw.serve_direct(stream, peer, local, app, conn_shutdown)
                            .await
                    }
                    Some(fe) => {
                        // Refusals are counted and logged by the front end.
                        let Ok(a) = fe.accept(stream, peer).await else {
                            return;
                        };
                        if a.via == crate::lb::Via::Direct {
                            gw.serve_direct(a.io, peer, local, app, conn_shutdown).await;
                        } else {
                            gw.serve_tls(a.io, peer, a.client, local, app, conn_shutdown)
                                .await;
                        }
                    }
                }
            });
        }
    }

    /// Serve a connection that came straight from its client, reporting it as a flow when
    /// flow events are on.
    async fn serve_direct<I>(
        &self,
        io: I,
        peer: SocketAddr,
        local: SocketAddr,
        app: Router,
        shutdown: Shutdown,
    ) where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Some(flows) = &self.flows else {
            return self.serve_tls(io, peer, peer, local, app, shutdown).await;
        };
        let report = flows.open(peer, local, None);
        let counts = Arc::new(crate::flow_events::ByteCounts::default());
        let io = crate::flow_events::Counted::new(io, counts.clone());
        self.serve_tls(io, peer, peer, local, app, shutdown).await;
        let (read, written) = counts.get();
        report.close(read, written);
    }

    /// Terminate TLS on one connection (whose real client is `client`, which a front end
    /// may have reported) and serve HTTP on it.
    pub async fn serve_tls<I>(
        &self,
        io: I,
        peer: SocketAddr,
        client: SocketAddr,
        local: SocketAddr,
        app: Router,
        shutdown: Shutdown,
    ) where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let handshake = tokio::time::timeout(self.limits.header_read_timeout, self.tls.accept(io));
        let (stream, session) = match handshake.await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                self.metrics.handshake_failures.inc();
                tracing::debug!(%client, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                self.metrics.handshake_failures.inc();
                tracing::debug!(%client, "TLS handshake timed out");
                return;
            }
        };
        let auth = match (
            session.peer_certificates.is_empty(),
            session.client_cert_valid,
        ) {
            (true, _) => "none",
            (false, true) => "valid",
            (false, false) => "invalid",
        };
        self.metrics
            .handshakes
            .get_or_create(&HandshakeLabels {
                version: session.version.to_owned(),
                client_auth: auth.to_owned(),
            })
            .inc();
        let info = Arc::new(Connection {
            peer,
            client,
            local,
            tls: Some(Arc::new(session)),
        });
        serve::serve_connection(stream, app, &self.limits, shutdown, info).await;
    }

    /// Forward one request; see the module documentation for the steps.
    pub async fn forward(&self, conn: &Connection, req: Request) -> Response {
        let started = Instant::now();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let response = self.forward_inner(conn, req).await;
        let status = response.status().as_u16();
        let subject = conn
            .tls
            .as_ref()
            .and_then(|t| t.client_subject.as_deref())
            .unwrap_or("-");
        tracing::info!(
            target: "secdispatch::access",
            service = "gateway",
            client = %conn.client,
            %method,
            path = %path,
            status,
            client_cert = subject,
            ms = started.elapsed().as_secs_f64() * 1000.0,
        );
        response
    }

    async fn forward_inner(&self, conn: &Connection, mut req: Request) -> Response {
        let Some(host) = request_host(&req) else {
            return short(StatusCode::BAD_REQUEST, "request has no host");
        };
        let host_name = host.split(':').next().unwrap_or_default().to_owned();
        let Some(route) = self.routes.find(&host_name, req.uri().path()) else {
            return short(StatusCode::NOT_FOUND, "no route for this host and path");
        };
        let tls = conn.tls.as_deref();
        let valid_cert = tls.filter(|t| t.client_cert_valid);
        if route.client_auth == ClientAuth::Required && valid_cert.is_none() {
            return short(
                StatusCode::FORBIDDEN,
                "a valid client certificate is required",
            );
        }
        if route.client_auth != ClientAuth::None
            && let (Some(t), Some(checker)) = (valid_cert, &self.revocation)
        {
            match checker.check(&t.peer_certificates).await {
                revocation::Verdict::Good => {}
                revocation::Verdict::Revoked(why) => {
                    tracing::warn!(client = %conn.client, subject = t.client_subject.as_deref().unwrap_or("-"), %why, "gateway: client certificate revoked; request refused");
                    return short(StatusCode::FORBIDDEN, "the client certificate is revoked");
                }
                revocation::Verdict::Unavailable(_)
                    if checker.policy() == revocation::FailurePolicy::FailOpen => {}
                revocation::Verdict::Unavailable(_) => {
                    return short(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "the client certificate's revocation status is unavailable",
                    );
                }
            }
        }
        if let Some(refused) = self.privacy_pass.check(&self.routes, route, &mut req).await {
            return refused;
        }

        let (mut parts, body) = req.into_parts();
        if secdispatch_clientcert::sanitize(&mut parts.headers) {
            self.metrics.forged_fields.inc();
            if self.reject_client_cert_headers {
                return short(
                    StatusCode::BAD_REQUEST,
                    "Client-Cert fields are not accepted from clients",
                );
            }
        }
        parts.headers.remove(SIGNATURE);
        parts.headers.remove(SIGNATURE_INPUT);
        let upgrade = upgrade_protocol(&parts.headers, parts.version);
        strip_hop_by_hop(&mut parts.headers);
        if let Some(proto) = &upgrade {
            parts
                .headers
                .insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
            parts.headers.insert(header::UPGRADE, proto.clone());
        }
        set_forwarded(&mut parts.headers, self.forwarded, conn.client, &host);

        let mut extra: Vec<HeaderName> = Vec::new();
        if route.client_auth != ClientAuth::None
            && let Some(t) = valid_cert
        {
            let (ee, rest) = match t.peer_certificates.split_first() {
                Some(x) => x,
                None => return short(StatusCode::INTERNAL_SERVER_ERROR, "client certificate lost"),
            };
            match secdispatch_clientcert::encode_client_cert(ee) {
                Ok(v) => {
                    parts.headers.insert(CLIENT_CERT, v);
                    extra.push(CLIENT_CERT);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot encode the client certificate");
                    return short(
                        StatusCode::BAD_GATEWAY,
                        "cannot forward the client certificate",
                    );
                }
            }
            if self.client_cert_chain
                && !rest.is_empty()
                && let Ok(v) = secdispatch_clientcert::encode_client_cert_chain(rest)
            {
                parts.headers.insert(CLIENT_CERT_CHAIN, v);
                extra.push(CLIENT_CERT_CHAIN);
            }
        }

        // The backend sees origin-form with our Host field: sign exactly that.
        let Ok(host_value) = HeaderValue::from_str(&host) else {
            return short(StatusCode::BAD_REQUEST, "invalid host");
        };
        parts.headers.insert(header::HOST, host_value);
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        parts.uri = match Uri::try_from(path_and_query.as_str()) {
            Ok(u) => u,
            Err(_) => return short(StatusCode::BAD_REQUEST, "invalid request target"),
        };

        let has_body = !body.is_end_stream();
        let body =
            if has_body && self.signer.is_some() && !parts.headers.contains_key(CONTENT_DIGEST) {
                match body.collect().await {
                    Ok(collected) => {
                        let data = collected.to_bytes();
                        parts.headers.insert(
                            CONTENT_DIGEST,
                            Digests::of(&[DigestAlgorithm::Sha256], &data).header_value(),
                        );
                        Body::from(data)
                    }
                    Err(e) => return body_error(&e),
                }
            } else {
                body
            };
        if has_body && parts.headers.contains_key(CONTENT_DIGEST) {
            extra.push(HeaderName::from_static(CONTENT_DIGEST));
        }

        if let Some(signer) = &self.signer
            && let Err(resp) = self.sign(signer, &mut parts, &extra)
        {
            return resp;
        }

        // HTTP/1.1 towards the upstream whatever the client spoke.
        parts.version = Version::HTTP_11;
        let client_upgrade = upgrade.as_ref().map(|_| ());
        self.send(route, parts, body, has_body, client_upgrade.is_some())
            .await
    }

    /// Add the gateway's signature over the request as the backend will see it.
    fn sign(
        &self,
        keyring: &SigningKeyring,
        parts: &mut http::request::Parts,
        extra: &[HeaderName],
    ) -> Result<(), Response> {
        let Some(key) = keyring.current() else {
            tracing::error!("no signing key loaded; refusing to forward unsigned");
            return Err(short(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway signing key unavailable",
            ));
        };
        let mut components = self.base_components.clone();
        for name in extra {
            match ComponentId::field(name.as_str()) {
                Ok(c) => components.push(c),
                Err(e) => {
                    tracing::error!(error = %e, "cannot name a covered field");
                    return Err(short(StatusCode::INTERNAL_SERVER_ERROR, "signing failed"));
                }
            }
        }
        let params = SignatureParams::new()
            .created(unix_seconds(SystemTime::now()))
            .and_then(|p| match key.keyid() {
                Some(k) => p.keyid(k),
                None => Ok(p),
            })
            .and_then(|p| p.tag(&self.tag));
        let signed = params.and_then(|params| {
            let input = SignatureInput::new(components, params);
            let view = MessageView::request(RequestView::of_parts(parts).scheme("https"));
            sign_input(&view, &self.label, input, &key)
        });
        let res = signed
            .and_then(|s| append_signature(&mut parts.headers, &s.label, &s.input, &s.signature));
        res.map_err(|e| {
            tracing::error!(error = %e, "signing the forwarded request failed");
            short(StatusCode::INTERNAL_SERVER_ERROR, "signing failed")
        })
    }

    /// Send the request to the next healthy upstream of the route's pool. A request without
    /// a body moves on to another upstream when one cannot be reached; one with a body
    /// cannot (it was consumed).
    async fn send(
        &self,
        route: &Route,
        mut parts: http::request::Parts,
        body: Body,
        has_body: bool,
        upgrade: bool,
    ) -> Response {
        let attempts = if has_body || upgrade {
            1
        } else {
            route.pool.len().min(3)
        };
        // A body read whole (to digest it) goes with its length rather than chunked.
        if let Some(n) = body.size_hint().exact()
            && has_body
            && !parts.headers.contains_key(header::CONTENT_LENGTH)
        {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(n));
        }
        // HTTP/1.1: the head is the same for every upstream (origin form, our Host).
        let http1 = (route.pool.protocol == UpstreamProtocol::Http1).then(|| {
            let framing = if upgrade {
                Framing::Empty
            } else {
                secdispatch_http1::request_framing(&parts.headers, !has_body)
            };
            let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            let mut head = Vec::with_capacity(1024);
            secdispatch_http1::write_request_head(
                &mut head,
                &parts.method,
                target,
                &parts.headers,
                framing,
            );
            (head, framing)
        });
        let mut client_side = if upgrade {
            parts.extensions.remove::<hyper::upgrade::OnUpgrade>()
        } else {
            None
        };
        let mut body = Some(body);
        let mut last_error = "no upstream";
        for _ in 0..attempts {
            let upstream = route.pool.pick();
            let body = body.take().unwrap_or_else(Body::empty);
            let answer = match &http1 {
                Some((head, framing)) => {
                    let exchange = upstream::exchange(
                        &upstream.connections,
                        &upstream.authority,
                        &self.upstream,
                        &parts.method,
                        head,
                        *framing,
                        body,
                    );
                    tokio::time::timeout(self.response_timeout, exchange).await
                }
                None => {
                    let exchange = self.h2c_exchange(upstream, &parts, body);
                    tokio::time::timeout(self.response_timeout, exchange).await
                }
            };
            match answer {
                Err(_) => {
                    self.metrics.upstream_error("timeout");
                    tracing::warn!(upstream = %upstream.authority, "upstream response timed out");
                    return short(StatusCode::GATEWAY_TIMEOUT, "upstream timed out");
                }
                Ok(Err(Failure::Connect(e))) => {
                    self.metrics.upstream_error("connect");
                    route.pool.mark_failed(upstream);
                    tracing::warn!(upstream = %upstream.authority, error = %e, "upstream connection failed");
                    last_error = "upstream unavailable";
                }
                Ok(Err(Failure::Body(e))) => return body_error(&e),
                Ok(Err(e)) => {
                    self.metrics.upstream_error("protocol");
                    tracing::warn!(upstream = %upstream.authority, error = %e, "upstream request failed");
                    return short(StatusCode::BAD_GATEWAY, "upstream error");
                }
                Ok(Ok(Answer::Response(resp))) => {
                    let (mut p, b) = resp.into_parts();
                    clean_response_headers(&mut p.headers, false);
                    return Response::from_parts(p, b);
                }
                Ok(Ok(Answer::Upgraded(mut p, conn))) => {
                    let Some(client_side) = client_side.take() else {
                        self.metrics.upstream_error("protocol");
                        tracing::warn!(upstream = %upstream.authority, "upstream switched protocols unasked");
                        return short(StatusCode::BAD_GATEWAY, "upstream error");
                    };
                    splice_upgrade(client_side, conn);
                    clean_response_headers(&mut p.headers, true);
                    return Response::from_parts(p, Body::empty());
                }
            }
        }
        short(StatusCode::BAD_GATEWAY, last_error)
    }

    /// One request to an upstream over HTTP/2 without TLS (h2c, through hyper's client).
    async fn h2c_exchange(
        &self,
        upstream: &route::Upstream,
        parts: &http::request::Parts,
        body: Body,
    ) -> Result<Answer, Failure> {
        let uri = Uri::builder()
            .scheme("http")
            .authority(upstream.authority.clone())
            .path_and_query(parts.uri.path_and_query().map_or("/", |p| p.as_str()))
            .build()
            .map_err(|e| Failure::Connect(std::io::Error::other(e)))?;
        let mut req = http::Request::from_parts(parts.clone(), body);
        *req.uri_mut() = uri;
        *req.version_mut() = Version::HTTP_2;
        match self.h2c.request(req).await {
            Ok(resp) => Ok(Answer::Response(resp.map(Body::new))),
            Err(e) if e.is_connect() => Err(Failure::Connect(std::io::Error::other(e))),
            Err(e) => Err(Failure::Io(std::io::Error::other(e))),
        }
    }
}

/// The request's host: `:authority` (HTTP/2, absolute-form) or the one `Host` field.
fn request_host(req: &Request) -> Option<String> {
    if let Some(a) = req.uri().authority() {
        return Some(a.as_str().to_ascii_lowercase());
    }
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let h = hosts.next()?;
    if hosts.next().is_some() {
        return None;
    }
    let h = h.to_str().ok()?.trim();
    (!h.is_empty() && h.parse::<http::uri::Authority>().is_ok()).then(|| h.to_ascii_lowercase())
}

/// The `Upgrade` value of an HTTP/1.1 upgrade request.
fn upgrade_protocol(headers: &HeaderMap, version: Version) -> Option<HeaderValue> {
    if version != Version::HTTP_11 {
        return None;
    }
    if secdispatch_http1::has_token(headers, header::CONNECTION, "upgrade") {
        headers.get(header::UPGRADE).cloned()
    } else {
        None
    }
}

/// Remove hop-by-hop fields, including those the `Connection` field names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for n in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(n);
    }
    headers.remove(header::UPGRADE);
}

/// Replace any forwarding fields with ours.
fn set_forwarded(headers: &mut HeaderMap, mode: ForwardedMode, client: SocketAddr, host: &str) {
    for n in [
        FORWARDED,
        X_FORWARDED_FOR,
        X_FORWARDED_PROTO,
        X_FORWARDED_HOST,
    ] {
        headers.remove(n);
    }
    let ip = client.ip();
    if matches!(mode, ForwardedMode::Forwarded | ForwardedMode::Both) {
        // RFC 7239 §6: IPv6 addresses are bracketed and quoted.
        let node = match ip {
            std::net::IpAddr::V4(v4) => v4.to_string(),
            std::net::IpAddr::V6(v6) => format!("\"[{v6}]\""),
        };
        let value = format!("for={node};proto=https;host=\"{host}\"");
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(FORWARDED, v);
        }
    }
    if matches!(mode, ForwardedMode::XForwarded | ForwardedMode::Both) {
        if let Ok(v) = HeaderValue::from_str(&ip.to_string()) {
            headers.insert(X_FORWARDED_FOR, v);
        }
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("https"));
        if let Ok(v) = HeaderValue::from_str(host) {
            headers.insert(X_FORWARDED_HOST, v);
        }
    }
}

/// Response fields: no hop-by-hop (except on 101), no `Client-Cert` (request-only), and a
/// `Vary` on them becomes `Vary: *`.
fn clean_response_headers(headers: &mut HeaderMap, switching: bool) {
    if !switching {
        strip_hop_by_hop(headers);
    }
    secdispatch_clientcert::sanitize(headers);
    secdispatch_clientcert::rewrite_vary(headers);
}

/// Copy bytes both ways between the client's upgraded connection and the upstream's
/// (after the bytes the upstream sent right behind its 101).
fn splice_upgrade(client: hyper::upgrade::OnUpgrade, upstream: upstream::Conn) {
    tokio::spawn(async move {
        let client = match client.await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade failed");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let upstream::Conn { mut io, buf } = upstream;
        if !buf.is_empty() && client.write_all(&buf).await.is_err() {
            return;
        }
        if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut io).await {
            tracing::debug!(error = %e, "upgraded connection ended");
        }
    });
}

/// 413 when the body was over the limit, 400 when it could not be read.
fn body_error(e: &axum::Error) -> Response {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return short(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        source = s.source();
    }
    short(StatusCode::BAD_REQUEST, "cannot read the request body")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_connection_named_fields_are_removed() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret"),
        );
        h.insert(
            HeaderName::from_static("x-secret"),
            HeaderValue::from_static("1"),
        );
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(
            HeaderName::from_static("keep-alive"),
            HeaderValue::from_static("timeout=5"),
        );
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(header::ACCEPT));
    }

    #[test]
    fn forwarded_fields_are_replaced_not_appended() {
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_FOR, HeaderValue::from_static("6.6.6.6"));
        h.insert(FORWARDED, HeaderValue::from_static("for=6.6.6.6"));
        set_forwarded(
            &mut h,
            ForwardedMode::Both,
            "192.0.2.7:5555".parse().unwrap(),
            "example.com",
        );
        assert_eq!(h[X_FORWARDED_FOR], "192.0.2.7");
        assert_eq!(
            h[FORWARDED],
            "for=192.0.2.7;proto=https;host=\"example.com\""
        );
        assert_eq!(h[X_FORWARDED_PROTO], "https");
        set_forwarded(
            &mut h,
            ForwardedMode::Forwarded,
            "[2001:db8::1]:1".parse().unwrap(),
            "h",
        );
        assert_eq!(h[FORWARDED], "for=\"[2001:db8::1]\";proto=https;host=\"h\"");
        assert!(!h.contains_key(X_FORWARDED_FOR));
        set_forwarded(
            &mut h,
            ForwardedMode::None,
            "192.0.2.7:1".parse().unwrap(),
            "h",
        );
        assert!(h.is_empty());
    }

    #[test]
    fn upgrade_needs_connection_upgrade_on_http11() {
        let mut h = HeaderMap::new();
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(upgrade_protocol(&h, Version::HTTP_11).is_none());
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        assert_eq!(upgrade_protocol(&h, Version::HTTP_11).unwrap(), "websocket");
        assert!(upgrade_protocol(&h, Version::HTTP_2).is_none());
    }

    #[test]
    fn response_client_cert_fields_are_dropped_and_vary_rewritten() {
        let mut h = HeaderMap::new();
        h.insert(CLIENT_CERT, HeaderValue::from_static(":AA==:"));
        h.insert(header::VARY, HeaderValue::from_static("client-cert"));
        clean_response_headers(&mut h, false);
        assert!(!h.contains_key(CLIENT_CERT));
        assert_eq!(h[header::VARY], "*");
    }
}
