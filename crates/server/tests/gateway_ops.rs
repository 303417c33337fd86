//! Gateway operations: certificate hot reload without dropping connections, WebSocket-style
//! upgrade pass-through, TLS session resumption keeping the client certificate.
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
