//! Gateway operations: certificate hot reload without dropping connections, WebSocket-style
//! upgrade pass-through, TLS session resumption keeping the client certificate, and the
//! HTTP/1.1 exchange with upstreams (kept connections, response and request framing,
//! upstream failures).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use secdispatch_pqpki::SigningKey;
use secdispatch_pqpki::cert::Profile;
use secdispatch_server::ca::{Ca, IssueSpec};
use secdispatch_server::config::{
    CertificateConfig, ClientAuth, Config, RouteConfig, UpstreamProtocol,
};
use secdispatch_server::gateway::tls::client_config;
use secdispatch_server::localpki::{ISSUING, LocalPki};
use secdispatch_server::{Metrics, Shutdown, services};
use secdispatch_store::{Store, StoreLocation};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Env {
    dir: tempfile::TempDir,
    pki: LocalPki,
    ca: Ca,
    store: Arc<Store>,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(&StoreLocation::sqlite_in(dir.path()))
            .await
            .unwrap(),
    );
    let pki = LocalPki::at(dir.path());
    let ca = Ca::new(store.clone());
    pki.ensure(&ca, &["localhost"], None, SystemTime::now())
        .await
        .unwrap();
    Env {
        dir,
        pki,
        ca,
        store,
    }
}

async fn start_gateway(
    env: &Env,
    mut config: Config,
    upstream: SocketAddr,
) -> (SocketAddr, Shutdown) {
    config.gateway.routes.push(RouteConfig {
        host: None,
        path_prefix: "/".into(),
        client_auth: ClientAuth::Optional,
        upstreams: vec![format!("http://{upstream}")],
        upstream_protocol: UpstreamProtocol::Http1,
        privacy_pass: None,
    });
    let shutdown = Shutdown::new();
    let addr = services::start_gateway(
        &config,
        env.dir.path(),
        "127.0.0.1:0".parse().unwrap(),
        env.store.clone(),
        None,
        &Metrics::new(),
        &shutdown,
    )
    .await
    .unwrap();
    (addr, shutdown)
}

async fn tls(
    env: &Env,
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(config)
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap_or_else(|e| panic!("TLS to the gateway in {}: {e}", env.dir.path().display()))
}

fn peer_serial(s: &tokio_rustls::client::TlsStream<TcpStream>) -> String {
    let der = s.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    let cert = secdispatch_pqpki::cert::from_der(&der).unwrap();
    secdispatch_store::serial_hex(cert.tbs_certificate().serial_number().as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_reload_without_dropping_connections() {
    let env = env().await;
    // The gateway serves copies of the certificate files, which the test replaces.
    let cert = env.dir.path().join("live.crt");
    let key = env.dir.path().join("live.key");
    std::fs::copy(&env.pki.gateway_cert, &cert).unwrap();
    std::fs::copy(&env.pki.gateway_key, &key).unwrap();
    let mut config = Config::default();
    config.gateway.certificates = vec![CertificateConfig {
        server_names: vec![],
        cert: cert.clone(),
        key: key.clone(),
    }];
    config.gateway.reload_interval = Duration::from_millis(100);
    config.gateway.signing.enabled = false;
    let upstream = echo_upstream().await;
    let (addr, _shutdown) = start_gateway(&env, config, upstream).await;
    let client = Arc::new(client_config(&env.pki.root_cert, None, &[b"http/1.1"]).unwrap());

    let old = tls(&env, addr, client.clone()).await;
    let old_serial = peer_serial(&old);
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(old))
            .await
            .unwrap();
    tokio::spawn(conn);

    // A new certificate from the same CA, written over the files.
    let new_key = SigningKey::generate(
        secdispatch_pqpki::Algorithm::from_name("ecdsa-p256-sha256").unwrap(),
        &mut rand_core::UnwrapErr(getrandom::SysRng),
    )
    .unwrap();
    let spec = IssueSpec {
        subject: Some("CN=rotated gateway".into()),
        sans: vec!["DNS:localhost".into()],
        profile: Profile::Server,
        days: 30,
        ocsp_url: None,
    };
    let new = env
        .ca
        .issue(
            ISSUING,
            new_key.public_key(),
            &spec,
            SystemTime::now() - Duration::from_secs(60),
        )
        .await
        .unwrap();
    let chain = std::fs::read_to_string(&env.pki.gateway_cert).unwrap();
    let issuing_pem = &chain[chain.find("-----END CERTIFICATE-----").unwrap() + 26..];
    std::fs::write(&key, new_key.to_pkcs8_pem().unwrap().as_str()).unwrap();
    std::fs::write(
        &cert,
        format!(
            "{}{issuing_pem}",
            secdispatch_pqpki::cert::to_pem(&new).unwrap()
        ),
    )
    .unwrap();

    let mut new_serial = old_serial.clone();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        new_serial = peer_serial(&tls(&env, addr, client.clone()).await);
        if new_serial != old_serial {
            break;
        }
    }
    assert_ne!(
        new_serial, old_serial,
        "new connections must get the new certificate"
    );
    // The old connection still works.
    sender.ready().await.unwrap();
    let resp = sender
        .send_request(
            Request::get("/still-here")
                .header("host", "localhost")
                .body(Full::<Bytes>::default())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("/still-here"));
}

/// An upstream that answers plain requests with their request line and upgrade requests
/// with 101, then echoes bytes.
async fn echo_upstream() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            tokio::spawn(async move {
                loop {
                    let mut head = Vec::new();
                    let mut b = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if s.read(&mut b).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(b[0]);
                    }
                    let text = String::from_utf8_lossy(&head).to_string();
                    let line = text.lines().next().unwrap_or_default().to_owned();
                    if text.to_ascii_lowercase().contains("upgrade: echo") {
                        s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n").await.unwrap();
                        let (mut r, mut w) = s.split();
                        let _ = tokio::io::copy(&mut r, &mut w).await;
                        return;
                    }
                    let has_cert = text.to_ascii_lowercase().contains("\r\nclient-cert: :");
                    let body = format!("{line}\nclient-cert={has_cert}\n");
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if s.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_are_spliced_through() {
    let env = env().await;
    let upstream = echo_upstream().await;
    let (addr, _shutdown) = start_gateway(&env, Config::default(), upstream).await;
    let client = Arc::new(client_config(&env.pki.root_cert, None, &[b"http/1.1"]).unwrap());
    let mut s = tls(&env, addr, client).await;
    s.write_all(
        b"GET /ws HTTP/1.1\r\nhost: localhost\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s.write_all(b"ping through the gateway").await.unwrap();
    let mut got = vec![0u8; 24];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&got, b"ping through the gateway");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_sessions_still_carry_the_client_certificate() {
    let env = env().await;
    let mut config = Config::default();
    config.gateway.signing.enabled = false;
    let upstream = echo_upstream().await;
    let (addr, _shutdown) = start_gateway(&env, config, upstream).await;
    let client = Arc::new(
        client_config(
            &env.pki.root_cert,
            Some((&env.pki.client_cert, &env.pki.client_key)),
            &[b"http/1.1"],
        )
        .unwrap(),
    );
    let mut first = tls(&env, addr, client.clone()).await;
    // TLS 1.3 tickets arrive after the handshake: exchange a request so they are read.
    first
        .write_all(b"GET /1 HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let _ = first.read(&mut buf).await.unwrap();
    let second = tls(&env, addr, client).await;
    let (_, conn) = second.get_ref();
    assert_eq!(
        conn.handshake_kind(),
        Some(rustls::HandshakeKind::Resumed),
        "the session must resume"
    );
    let mut second = second;
    second
        .write_all(b"GET /2 HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    second.read_to_end(&mut out).await.ok();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "a resumed session with a certificate is served: {text}"
    );
    assert!(
        text.contains("client-cert=true"),
        "the resumed session forwards the certificate: {text}"
    );
}

/// What a scripted upstream received: the request head and the decoded body.
#[derive(Debug, Clone)]
struct Received {
    head: String,
    body: Vec<u8>,
}

impl Received {
    fn path(&self) -> &str {
        self.head.split(' ').nth(1).unwrap_or_default()
    }

    fn has_field(&self, field_line: &str) -> bool {
        self.head
            .to_ascii_lowercase()
            .contains(&format!("\r\n{field_line}\r\n"))
    }
}

/// What a scripted upstream does with a request.
enum Reply {
    /// Send these bytes and read the next request.
    Send(Vec<u8>),
    /// Send these bytes in pieces, with pauses, then close.
    Trickle(Vec<Vec<u8>>),
    /// Close without a word.
    Close,
    /// Never answer.
    Hang,
}

/// An upstream speaking HTTP/1.1 by script: `script(n, request)` for the n-th request
/// (from 0) on a connection. Returns its address and how many connections it accepted.
async fn scripted_upstream(
    script: fn(usize, &Received) -> Reply,
) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    use bytes::BytesMut;
    use secdispatch_http1::{Chunk, ChunkedDecoder};
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = BytesMut::new();
                for n in 0.. {
                    let end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        if s.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                            return;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf.split_to(end)).to_string();
                    let lower = head.to_ascii_lowercase();
                    let mut body = Vec::new();
                    if lower.contains("\r\ntransfer-encoding: chunked\r\n") {
                        let mut d = ChunkedDecoder::default();
                        loop {
                            match d.decode(&mut buf, 4096).unwrap() {
                                Chunk::Data(b) => body.extend_from_slice(&b),
                                Chunk::End(_) => break,
                                Chunk::NeedMore => {
                                    if s.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                                        return;
                                    }
                                }
                            }
                        }
                    } else if let Some(cl) = lower
                        .split("\r\n")
                        .find_map(|l| l.strip_prefix("content-length: "))
                    {
                        let cl: usize = cl.trim().parse().unwrap();
                        while buf.len() < cl {
                            if s.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                                return;
                            }
                        }
                        body = buf.split_to(cl).to_vec();
                    }
                    match script(n, &Received { head, body }) {
                        Reply::Send(bytes) => {
                            if s.write_all(&bytes).await.is_err() {
                                return;
                            }
                        }
                        Reply::Trickle(pieces) => {
                            for p in pieces {
                                if s.write_all(&p).await.is_err() {
                                    return;
                                }
                                tokio::time::sleep(Duration::from_millis(5)).await;
                            }
                            return;
                        }
                        Reply::Close => return,
                        Reply::Hang => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (addr, accepted)
}

fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

type Sender = hyper::client::conn::http1::SendRequest<TestBody>;

/// A request body of pieces whose total length is not announced (sent chunked).
struct TestBody {
    pieces: std::collections::VecDeque<Bytes>,
    sized: bool,
}

impl TestBody {
    fn empty() -> Self {
        Self {
            pieces: std::collections::VecDeque::new(),
            sized: true,
        }
    }
    fn sized(data: Vec<u8>) -> Self {
        Self {
            pieces: [Bytes::from(data)].into_iter().collect(),
            sized: true,
        }
    }
    fn streamed(pieces: Vec<Vec<u8>>) -> Self {
        Self {
            pieces: pieces.into_iter().map(Bytes::from).collect(),
            sized: false,
        }
    }
}

impl http_body::Body for TestBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(
            self.pieces
                .pop_front()
                .map(|b| Ok(http_body::Frame::data(b))),
        )
    }
    fn is_end_stream(&self) -> bool {
        self.pieces.is_empty()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        if self.sized {
            http_body::SizeHint::with_exact(self.pieces.iter().map(|b| b.len() as u64).sum())
        } else {
            http_body::SizeHint::default()
        }
    }
}

/// An HTTP/1.1 client connection to the gateway.
async fn client(env: &Env, addr: SocketAddr) -> Sender {
    let config = Arc::new(client_config(&env.pki.root_cert, None, &[b"http/1.1"]).unwrap());
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(
        tls(env, addr, config).await,
    ))
    .await
    .unwrap();
    tokio::spawn(conn);
    sender
}

/// Send a request; the status and the whole body (or the error reading it).
async fn call(
    sender: &mut Sender,
    method: &str,
    path: &str,
    body: TestBody,
) -> (http::StatusCode, Result<Bytes, String>) {
    sender.ready().await.unwrap();
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .body(body)
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await;
    (
        status,
        body.map(|b| b.to_bytes()).map_err(|e| e.to_string()),
    )
}

fn unsigned() -> Config {
    let mut config = Config::default();
    config.gateway.signing.enabled = false;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_upstream_connections_are_reused() {
    let env = env().await;
    let (upstream, accepted) =
        scripted_upstream(|n, r| Reply::Send(ok(&format!("{n} {}", r.path())))).await;
    let (addr, _shutdown) = start_gateway(&env, unsigned(), upstream).await;
    for c in 0..2 {
        let mut sender = client(&env, addr).await;
        for i in 0..5 {
            let (status, body) =
                call(&mut sender, "GET", &format!("/r{i}"), TestBody::empty()).await;
            assert_eq!(status, 200);
            // One upstream connection carries all ten requests, in order.
            assert_eq!(body.unwrap(), format!("{} /r{i}", c * 5 + i));
        }
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_close_delimited_and_large_responses_stream_through() {
    let env = env().await;
    let (upstream, accepted) = scripted_upstream(|_, r| match r.path() {
        "/chunked" => Reply::Send(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1;x=y\r\n \r\n5\r\nworld\r\n0\r\n\r\n"
                .to_vec(),
        ),
        "/close" => Reply::Trickle(vec![
            b"HTTP/1.1 200 OK\r\n\r\nuntil ".to_vec(),
            b"the upstream ".to_vec(),
            b"closes".to_vec(),
        ]),
        "/large" => {
            let mut pieces = vec![b"HTTP/1.1 200 OK\r\ncontent-length: 1048576\r\n\r\n".to_vec()];
            pieces.extend((0..16).map(|i| vec![b'a' + i as u8; 65_536]));
            Reply::Trickle(pieces)
        }
        "/empty" => Reply::Send(b"HTTP/1.1 204 No Content\r\n\r\n".to_vec()),
        _ => Reply::Send(ok("?")),
    })
    .await;
    let (addr, _shutdown) = start_gateway(&env, unsigned(), upstream).await;
    let mut sender = client(&env, addr).await;
    let (status, body) = call(&mut sender, "GET", "/chunked", TestBody::empty()).await;
    assert_eq!(
        (status, body.unwrap()),
        (http::StatusCode::OK, Bytes::from("hello world"))
    );
    let (status, body) = call(&mut sender, "GET", "/empty", TestBody::empty()).await;
    assert_eq!(
        (status, body.unwrap()),
        (http::StatusCode::NO_CONTENT, Bytes::new())
    );
    // Kept after a chunked response and a 204: still one connection.
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    let (status, body) = call(&mut sender, "GET", "/close", TestBody::empty()).await;
    assert_eq!(
        (status, body.unwrap()),
        (
            http::StatusCode::OK,
            Bytes::from("until the upstream closes")
        )
    );
    let (status, body) = call(&mut sender, "GET", "/large", TestBody::empty()).await;
    assert_eq!(status, 200);
    let body = body.unwrap();
    assert_eq!(body.len(), 1_048_576);
    assert!(
        body.chunks(65_536)
            .enumerate()
            .all(|(i, c)| c.iter().all(|&b| b == b'a' + i as u8))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_go_upstream_sized_or_chunked() {
    let env = env().await;
    let (upstream, _) = scripted_upstream(|_, r| {
        let framing = if r.has_field("transfer-encoding: chunked") {
            "chunked".to_owned()
        } else if let Some(l) = r
            .head
            .to_ascii_lowercase()
            .split("\r\n")
            .find_map(|l| l.strip_prefix("content-length: ").map(str::to_owned))
        {
            format!("length {l}")
        } else {
            "none".to_owned()
        };
        let sum: u64 = r.body.iter().map(|&b| u64::from(b)).sum();
        Reply::Send(ok(&format!("{framing} {} {sum}", r.body.len())))
    })
    .await;
    let (addr, _shutdown) = start_gateway(&env, unsigned(), upstream).await;
    let mut sender = client(&env, addr).await;
    let (_, body) = call(&mut sender, "POST", "/", TestBody::sized(b"abc".to_vec())).await;
    assert_eq!(body.unwrap(), "length 3 3 294");
    let (_, body) = call(&mut sender, "POST", "/", TestBody::empty()).await;
    assert_eq!(body.unwrap(), "length 0 0 0");
    let (_, body) = call(&mut sender, "GET", "/", TestBody::empty()).await;
    assert_eq!(body.unwrap(), "none 0 0");
    // Streamed by the client without a length (under the 1 MiB body limit): streamed on,
    // chunked, bytes intact.
    let pieces: Vec<Vec<u8>> = (0..30).map(|i| vec![i as u8; 30_000]).collect();
    let sum: u64 = pieces.iter().flatten().map(|&b| u64::from(b)).sum();
    let (_, body) = call(&mut sender, "PUT", "/", TestBody::streamed(pieces)).await;
    assert_eq!(body.unwrap(), format!("chunked 900000 {sum}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_connection_the_upstream_closed_is_replaced_for_repeatable_requests() {
    let env = env().await;
    // Each connection answers its first request and closes silently on the second, as an
    // upstream whose keep-alive timeout ends just as a request arrives.
    let (upstream, accepted) = scripted_upstream(|n, r| {
        if r.path() == "/bye" {
            Reply::Trickle(vec![ok("bye")])
        } else if n == 0 {
            Reply::Send(ok(r.path()))
        } else {
            Reply::Close
        }
    })
    .await;
    let (addr, _shutdown) = start_gateway(&env, unsigned(), upstream).await;
    let mut sender = client(&env, addr).await;
    for path in ["/one", "/two", "/three"] {
        let (status, body) = call(&mut sender, "GET", path, TestBody::empty()).await;
        assert_eq!(
            (status, body.unwrap()),
            (http::StatusCode::OK, Bytes::from(path))
        );
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 3);
    // A POST is not repeated (RFC 9110 §9.2.2): the kept connection fails it.
    let (status, _) = call(&mut sender, "POST", "/four", TestBody::sized(b"x".to_vec())).await;
    assert_eq!(status, http::StatusCode::BAD_GATEWAY);
    // A kept connection the upstream closes while it is idle is noticed when it is taken,
    // so even a POST then goes on a new connection.
    let (status, _) = call(&mut sender, "GET", "/bye", TestBody::empty()).await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = call(&mut sender, "POST", "/five", TestBody::sized(b"x".to_vec())).await;
    assert_eq!(
        (status, body.unwrap()),
        (http::StatusCode::OK, Bytes::from("/five"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_answer_502_and_504() {
    let env = env().await;
    let (upstream, _) = scripted_upstream(|_, r| match r.path() {
        "/conflicting" => Reply::Send(
            b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\nab".to_vec(),
        ),
        "/garbage" => Reply::Send(b"SMTP ready\r\n\r\n".to_vec()),
        "/silent" => Reply::Hang,
        _ => Reply::Send(ok("fine")),
    })
    .await;
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = unsigned();
    config.gateway.upstream_response_timeout = Duration::from_millis(300);
    config.gateway.routes.push(RouteConfig {
        host: None,
        path_prefix: "/down".into(),
        client_auth: ClientAuth::None,
        upstreams: vec![format!("http://{closed}")],
        upstream_protocol: UpstreamProtocol::Http1,
        privacy_pass: None,
    });
    let (addr, _shutdown) = start_gateway(&env, config, upstream).await;
    let mut sender = client(&env, addr).await;
    for (path, want) in [
        ("/conflicting", 502),
        ("/garbage", 502),
        ("/silent", 504),
        ("/down", 502),
        ("/after", 200),
    ] {
        let (status, _) = call(&mut sender, "GET", path, TestBody::empty()).await;
        assert_eq!(status, want, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_event_loops_serve_and_drain() {
    let env = env().await;
    let (upstream, _) = scripted_upstream(|_, r| Reply::Send(ok(r.path()))).await;
    let mut config = unsigned();
    config.gateway.workers = 2;
    let (addr, shutdown) = start_gateway(&env, config, upstream).await;
    let mut senders = Vec::new();
    for c in 0..6 {
        let mut sender = client(&env, addr).await;
        let (status, body) = call(&mut sender, "GET", &format!("/c{c}"), TestBody::empty()).await;
        assert_eq!(
            (status, body.unwrap()),
            (http::StatusCode::OK, Bytes::from(format!("/c{c}")))
        );
        senders.push(sender);
    }
    // The worker threads exist (a new thread carries its creator's name until it has
    // started running, hence the wait).
    #[cfg(target_os = "linux")]
    {
        let names = || -> Vec<String> {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
                .map(|n| n.trim().to_owned())
                .collect()
        };
        let both = |n: &[String]| {
            ["gateway-0", "gateway-1"]
                .iter()
                .all(|w| n.iter().any(|x| x == w))
        };
        let mut seen = names();
        for _ in 0..50 {
            if both(&seen) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            seen = names();
        }
        assert!(both(&seen), "no gateway-0/gateway-1 threads in {seen:?}");
    }
    // Open keep-alive connections are closed by the drain; the loops then stop.
    assert!(
        shutdown.drain(Duration::from_secs(10)).await,
        "workers did not drain"
    );
    // Each loop drops its copy of the listening socket as it stops accepting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}
