//! `secdispatch lb` and the backend front end over loopback: the client's address and
//! port reach the backend through a verified TLS-LB header; tampered, spliced, replayed
//! and missing headers are refused; a backend answering `rejected` makes the load
//! balancer retry the same ClientHello elsewhere; PROXY v2 works both ways.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secdispatch_server::lb::{
    Balancer, FrontEnd, FrontEndConfig, FrontEndError, FrontEndMode, FrontEndProtocol, KeyFile,
    LbConfig, LbHeader, PoolConfig,
};
use secdispatch_server::{Metrics, Shutdown};
use secdispatch_tlslb::encrypted::Cipher;
use secdispatch_tlslb::proxy_data::{
    Direction, OverloadState, OverloadValue, ProxyData, RatchetValue,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A real ClientHello (rustls, TLS 1.3 and 1.2, SNI `name`) as TLS records.
fn client_hello(name: &str) -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name.to_owned().try_into().unwrap())
            .unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

fn key_file(dir: &std::path::Path) -> Arc<KeyFile> {
    let path = dir.join("tlslb.keys");
    secdispatch_server::lb::keygen(&path, Cipher::Aes128Gcm, Some("test-key")).unwrap();
    Arc::new(KeyFile::load(&path).unwrap())
}

fn front_end(keys: &Arc<KeyFile>, mode: FrontEndMode, protocol: FrontEndProtocol) -> FrontEnd {
    let config = FrontEndConfig {
        protocol,
        mode,
        header_timeout: Duration::from_secs(5),
        ..FrontEndConfig::default()
    };
    FrontEnd::new(&config, Some(keys.clone()), &Metrics::new()).unwrap()
}

/// A backend that answers each accepted connection with `name client=<addr> via=<via>`
/// after reading the ClientHello the front end replayed; refusals are sent on `refused`.
async fn backend(
    name: &'static str,
    fe: Arc<FrontEnd>,
) -> (SocketAddr, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, peer) = listener.accept().await.unwrap();
            let fe = fe.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                match fe.accept(stream, peer).await {
                    Ok(mut a) => {
                        // The TLS stack would read the ClientHello now: it is replayed.
                        let mut first = [0u8; 5];
                        a.io.read_exact(&mut first).await.unwrap();
                        assert_eq!(first[0], 22, "the ClientHello follows the header");
                        let line = format!("{name} client={} via={:?}\n", a.client, a.via);
                        a.io.write_all(line.as_bytes()).await.unwrap();
                        a.io.shutdown().await.ok();
                    }
                    Err(e) => {
                        let _ = tx.send(format!("{e:?}"));
                    }
                }
            });
        }
    });
    (addr, rx)
}

async fn start_lb(keys: &Arc<KeyFile>, header: LbHeader, backends: Vec<SocketAddr>) -> SocketAddr {
    start_lb_reporting(keys, header, backends, None).await
}

async fn start_lb_reporting(
    keys: &Arc<KeyFile>,
    header: LbHeader,
    backends: Vec<SocketAddr>,
    flow_events: Option<SocketAddr>,
) -> SocketAddr {
    let config = LbConfig {
        flow_events,
        header,
        pools: vec![PoolConfig {
            server_names: vec![],
            backends,
        }],
        answer_timeout: Duration::from_secs(2),
        ..LbConfig::default()
    };
    start_lb_with(keys, config).await
}

async fn start_lb_with(keys: &Arc<KeyFile>, config: LbConfig) -> SocketAddr {
    let (metrics, shutdown) = (Metrics::new(), Shutdown::new());
    let mut lb = Balancer::new(&config, Some(keys.clone()), &metrics).unwrap();
    if let Some(to) = config.flow_events {
        lb = lb.with_flow_events(secdispatch_server::flow_events::FlowReporter::start(
            "lb", to, &metrics, &shutdown,
        ));
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(Arc::new(lb).run(listener, shutdown));
    addr
}

/// Connect through `lb`, send a ClientHello, return what the backend said and the
/// client socket's own address.
async fn through(lb: SocketAddr) -> (String, SocketAddr) {
    let (out, me) = through_bytes(lb).await;
    (String::from_utf8(out).unwrap(), me)
}

/// [`through`], for answers that need not be text.
async fn through_bytes(lb: SocketAddr) -> (Vec<u8>, SocketAddr) {
    let mut c = TcpStream::connect(lb).await.unwrap();
    let me = c.local_addr().unwrap();
    c.write_all(&client_hello("backend.test")).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    (out, me)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_address_reaches_the_backend_through_tls_lb() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_file(dir.path());
    // Each backend has its own ratchet state (per backend and psk_identity).
    let fe = || {
        Arc::new(front_end(
            &keys,
            FrontEndMode::Require,
            FrontEndProtocol::TlsLb,
        ))
    };
    let (a, _) = backend("a", fe()).await;
    let (b, _) = backend("b", fe()).await;
    let lb = start_lb(&keys, LbHeader::TlsLb, vec![a, b]).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..4 {
        let (out, me) = through(lb).await;
        assert!(out.ends_with(&format!("client={me} via=TlsLb\n")), "{out}");
        seen.insert(out[..1].to_owned());
    }
    assert_eq!(seen.len(), 2, "round robin over both backends: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_spliced_replayed_and_missing_headers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_file(dir.path());
    let fe = Arc::new(front_end(
        &keys,
        FrontEndMode::Require,
        FrontEndProtocol::TlsLb,
    ));
    let (addr, mut refused) = backend("a", fe).await;
    let hello = client_hello("backend.test");
    let message = secdispatch_tlslb::client_hello::parse(&hello)
        .unwrap()
        .unwrap()
        .message;
    let ring = keys.keys();
    let header = |index: u64, floor: u64| {
        let data = ProxyData::new(Direction::Upstream)
            .client_address("192.0.2.7".parse().unwrap())
            .ratchet(RatchetValue { index, floor })
            .pad_to(64);
        secdispatch_tlslb::seal_upstream(&ring, &data, &message, [index as u8; 12], 0)
            .unwrap()
            .0
    };
    async fn send(addr: SocketAddr, bytes: &[u8]) -> String {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(bytes).await.unwrap();
        c.shutdown().await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), c.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }
    let good = [header(100, 100), hello.clone()].concat();
    let answer = send(addr, &good).await;
    assert!(answer.contains("client=192.0.2.7:"), "{answer:?}");

    // The same bytes again: the ratchet's window drops the replay.
    send(addr, &good).await;
    assert!(refused.recv().await.unwrap().contains("Replay"));

    // Below the floor the first header set.
    send(addr, &[header(99, 99), hello.clone()].concat()).await;
    assert!(refused.recv().await.unwrap().contains("Replay"));

    // A bit flip anywhere in the sealed part.
    let h = header(101, 100);
    for at in [10, h.len() / 2, h.len() - 1] {
        let mut bad = [h.clone(), hello.clone()].concat();
        bad[at] ^= 0x01;
        send(addr, &bad).await;
        let e = refused.recv().await.unwrap();
        assert!(e.contains("Authentication") || e.contains("Invalid"), "{e}");
    }

    // The header spliced onto another ClientHello.
    send(
        addr,
        &[header(102, 100), client_hello("other.test")].concat(),
    )
    .await;
    assert!(refused.recv().await.unwrap().contains("Authentication"));

    // Downstream data presented as upstream.
    let wrong = ProxyData::new(Direction::Downstream).pad_to(64);
    let key = ring.current();
    let epd = key
        .seal(&wrong, &message, [9; 12])
        .unwrap()
        .encode()
        .unwrap();
    let rec = secdispatch_tlslb::encrypted::record(0, &epd).unwrap();
    send(addr, &[rec, hello.clone()].concat()).await;
    assert!(refused.recv().await.unwrap().contains("Direction"));

    // Truncated: the connection ends inside the ClientHello.
    send(
        addr,
        &[header(103, 100), hello[..hello.len() / 2].to_vec()].concat(),
    )
    .await;
    assert!(refused.recv().await.unwrap().contains("Io"));

    // Direct TLS on a `require` listener.
    send(addr, &hello).await;
    assert!(refused.recv().await.unwrap().contains("Required"));

    // The next fresh index still works: refusals touched only their own connections.
    let answer = send(addr, &[header(104, 100), hello].concat()).await;
    assert!(answer.contains("client=192.0.2.7:"), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_connections_are_retried_on_another_backend() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_file(dir.path());
    let busy = Arc::new(front_end(
        &keys,
        FrontEndMode::Require,
        FrontEndProtocol::TlsLb,
    ));
    busy.set_overload(Some(OverloadValue {
        state: OverloadState::Rejected,
        load: 65535,
        ttl: 60,
    }));
    let fine = Arc::new(front_end(
        &keys,
        FrontEndMode::Require,
        FrontEndProtocol::TlsLb,
    ));
    let (a, mut a_refused) = backend("a", busy).await;
    let (b, _) = backend("b", fine).await;
    let lb = start_lb(&keys, LbHeader::TlsLb, vec![a, b]).await;
    for _ in 0..4 {
        let (out, me) = through(lb).await;
        assert_eq!(out, format!("b client={me} via=TlsLb\n"));
    }
    // `a` was tried once; its rejection holds for its TTL, so it is not tried again.
    assert!(a_refused.recv().await.unwrap().contains("Rejected"));
    assert!(a_refused.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_v2_from_the_lb_and_allow_mode_for_direct_clients() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_file(dir.path());
    let fe = Arc::new(front_end(
        &keys,
        FrontEndMode::Allow,
        FrontEndProtocol::Proxy,
    ));
    let (addr, _) = backend("p", fe).await;
    let lb = start_lb(&keys, LbHeader::ProxyV2, vec![addr]).await;
    let (out, me) = through(lb).await;
    assert_eq!(out, format!("p client={me} via=Proxy\n"));
    // Directly: allowed, the socket's peer is the client.
    let mut c = TcpStream::connect(addr).await.unwrap();
    let me = c.local_addr().unwrap();
    c.write_all(&client_hello("backend.test")).await.unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).await.unwrap();
    assert_eq!(out, format!("p client={me} via=Direct\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_header_from_an_untrusted_peer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_file(dir.path());
    let config = FrontEndConfig {
        protocol: FrontEndProtocol::Proxy,
        trusted_peers: vec!["192.0.2.1".parse().unwrap()],
        ..FrontEndConfig::default()
    };
    let fe = FrontEnd::new(&config, Some(keys), &Metrics::new()).unwrap();
    let (mut c, s) = tokio::io::duplex(4096);
    let header = secdispatch_tlslb::proxy_protocol::encode_v2(
        "203.0.113.9:1234".parse().unwrap(),
        "127.0.0.1:443".parse().unwrap(),
        &[],
        true,
    )
    .unwrap();
    c.write_all(&[header, client_hello("x.test")].concat())
        .await
        .unwrap();
    let r = fe.accept(s, "127.0.0.1:5555".parse().unwrap()).await;
    assert!(matches!(r, Err(FrontEndError::Untrusted(_))), "{r:?}");
}

fn external(program: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "SECDISPATCH_REQUIRE_SERVICES=1 but {program} is not installed"
        );
        println!("skipped: {program} is not installed");
    }
    found
}

/// PROXY v2 interop with HAProxy both ways, in one chain: our lb (`header = "proxy-v2"`,
/// CRC32C) → haproxy `accept-proxy` → haproxy `send-proxy-v2` with `crc32c` → our front
/// end. The backend sees the original client only if haproxy parsed our header and ours
/// parsed haproxy's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_v2_interop_with_haproxy_both_ways() {
    let Some(haproxy) = external("haproxy") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys = key_file(dir.path());
    let config = FrontEndConfig {
        protocol: FrontEndProtocol::Proxy,
        mode: FrontEndMode::Require,
        trusted_peers: vec!["127.0.0.1".parse().unwrap()],
        ..FrontEndConfig::default()
    };
    let fe = Arc::new(FrontEnd::new(&config, None, &Metrics::new()).unwrap());
    let (backend_addr, mut refused) = backend("h", fe).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = format!(
        "global\n  log stderr local0 warning\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 10s\n  timeout server 10s\n\
         frontend lb_in\n  bind 127.0.0.1:{port} accept-proxy\n  default_backend ours\n\
         backend ours\n  server ours {backend_addr} send-proxy-v2 proxy-v2-options crc32c\n"
    );
    std::fs::write(dir.path().join("haproxy.cfg"), cfg).unwrap();
    let mut hap = tokio::process::Command::new(haproxy)
        .args(["-db", "-f"])
        .arg(dir.path().join("haproxy.cfg"))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lb = start_lb(
        &keys,
        LbHeader::ProxyV2,
        vec![SocketAddr::from(([127, 0, 0, 1], port))],
    )
    .await;
    let (out, me) = through(lb).await;
    assert_eq!(out, format!("h client={me} via=Proxy\n"));
    // haproxy's own readiness probes came without a header or were refused; none of
    // them may have been taken as a client.
    while let Ok(e) = refused.try_recv() {
        assert!(e.contains("Required") || e.contains("Io"), "{e}");
    }
    hap.kill().await.unwrap();
}

/// The lb reports each connection to a lifecycle watcher in the flow-event format the
/// lifecycle crate reads: `open`, then `close` with the bytes each way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_events_reach_a_lifecycle_watcher() {
    use secdispatch_lifecycle::event::{EventKind, FlowEvent};
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let keys = key_file(dir.path());
    let fe = Arc::new(front_end(
        &keys,
        FrontEndMode::Require,
        FrontEndProtocol::TlsLb,
    ));
    let (backend_addr, _) = backend("a", fe).await;
    let watcher = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lb = start_lb_reporting(
        &keys,
        LbHeader::TlsLb,
        vec![backend_addr],
        Some(watcher.local_addr().unwrap()),
    )
    .await;
    let (out, me) = through(lb).await;
    let (conn, _) = watcher.accept().await.unwrap();
    let mut lines = tokio::io::BufReader::new(conn).lines();
    async fn next(lines: &mut tokio::io::Lines<tokio::io::BufReader<TcpStream>>) -> FlowEvent {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str::<FlowEvent>(&line).unwrap()
    }
    let open = next(&mut lines).await;
    assert_eq!(open.event, EventKind::Open);
    assert_eq!(open.src, me);
    assert_eq!(open.dst, lb);
    assert_eq!(open.sni.as_deref(), Some("backend.test"));
    assert_eq!(open.reporter.as_deref(), Some("lb"));
    let close = next(&mut lines).await;
    assert_eq!(close.event, EventKind::Close);
    assert_eq!(close.id, open.id);
    assert_eq!(close.resp_bytes, Some(out.len() as u64));
    assert_eq!(
        close.orig_bytes,
        Some(client_hello("backend.test").len() as u64)
    );
}

/// A backend that sends nothing after the ClientHello is given up after `answer_timeout`
/// (its late answer must never reach the client) and the next one serves the client; a
/// backend that does not speak TLS-LB and goes straight to its ServerHello is proxied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_backends_are_skipped_and_unanswering_ones_proxied() {
    let dir = tempfile::tempdir().unwrap();
    let keys = key_file(dir.path());
    // Holds every connection open without a byte.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            let (s, _) = silent.accept().await.unwrap();
            held.push(s);
        }
    });
    // Answers every connection with a (fake) ServerHello record and closes.
    let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    const SERVER_HELLO: &[u8] = &[22, 3, 3, 0, 2, 0xab, 0xcd];
    tokio::spawn(async move {
        loop {
            let (mut s, _) = plain.accept().await.unwrap();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                s.write_all(SERVER_HELLO).await.unwrap();
                s.shutdown().await.ok();
            });
        }
    });
    let config = LbConfig {
        header: LbHeader::TlsLb,
        pools: vec![PoolConfig {
            server_names: vec![],
            backends: vec![silent_addr, plain_addr],
        }],
        answer_timeout: Duration::from_millis(300),
        ..LbConfig::default()
    };
    let lb = start_lb_with(&keys, config).await;
    for _ in 0..2 {
        let (got, _) = through_bytes(lb).await;
        assert_eq!(got, SERVER_HELLO);
    }
}
