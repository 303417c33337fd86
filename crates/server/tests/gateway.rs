//! End to end over loopback: a rustls client (with and without a client certificate) →
//! gateway (TLS, mTLS, RFC 9440, RFC 9421 signing) → demo backend (signature and
//! Client-Cert checks). The PKI is the composite-rooted one `secdispatch up` makes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use secdispatch_server::config::{ClientAuth, Config, RouteConfig, UpstreamProtocol};
use secdispatch_server::gateway::tls::client_config;
use secdispatch_server::localpki::LocalPki;
use secdispatch_server::{Metrics, Shutdown, services};
use secdispatch_store::{Store, StoreLocation};
use serde_json::Value;
use tokio::net::TcpStream;

struct System {
    store: Arc<Store>,
    _dir: tempfile::TempDir,
    pki: LocalPki,
    gateway: SocketAddr,
    backend: SocketAddr,
    metrics: Metrics,
    shutdown: Shutdown,
}

async fn start(extra_routes: Vec<RouteConfig>) -> System {
    start_reporting(extra_routes, None).await
}

/// [`start`], with the gateway's flow events sent to `flow_events`.
async fn start_reporting(
    extra_routes: Vec<RouteConfig>,
    flow_events: Option<SocketAddr>,
) -> System {
    start_custom(extra_routes, |c| c.gateway.flow_events = flow_events).await
}

/// [`start`] with the configuration changed by `tweak`; `gateway.ocsp.responder = "local"`
/// starts an OCSP responder on the same store and points the gateway at it.
async fn start_custom(extra_routes: Vec<RouteConfig>, tweak: impl FnOnce(&mut Config)) -> System {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(&StoreLocation::sqlite_in(dir.path()))
            .await
            .unwrap(),
    );
    let pki = LocalPki::at(dir.path());
    let ca = secdispatch_server::ca::Ca::new(store.clone());
    assert!(
        pki.ensure(&ca, &["localhost", "127.0.0.1"], None, SystemTime::now())
            .await
            .unwrap()
    );
    assert!(
        !pki.ensure(&ca, &["localhost"], None, SystemTime::now())
            .await
            .unwrap(),
        "made once"
    );
    let metrics = Metrics::new();
    let shutdown = Shutdown::new();
    let mut config = Config::default();
    tweak(&mut config);
    let any = "127.0.0.1:0".parse().unwrap();
    if config.gateway.ocsp.responder == "local" {
        let ocsp =
            secdispatch_server::ocsp::start_ocsp(&config, any, store.clone(), &metrics, &shutdown)
                .await
                .unwrap();
        config.gateway.ocsp.responder = format!("http://{ocsp}");
    }
    // The gateway makes its signing key first; the backend then loads it.
    let keyring = secdispatch_server::keyring::SigningKeyring::new(
        store.clone(),
        &config.gateway.signing.key_name,
        "ed25519",
        config.gateway.signing.key_lifetime,
    )
    .unwrap();
    keyring.refresh(SystemTime::now()).await.unwrap();
    let backend = services::start_backend_demo(&config, any, store.clone(), &metrics, &shutdown)
        .await
        .unwrap();
    config.gateway.routes = extra_routes
        .into_iter()
        .map(|mut r| {
            r.upstreams = vec![format!("http://{backend}")];
            r
        })
        .collect();
    config.gateway.routes.push(RouteConfig {
        host: None,
        path_prefix: "/".into(),
        client_auth: ClientAuth::Optional,
        upstreams: vec![format!("http://{backend}")],
        upstream_protocol: UpstreamProtocol::Http1,
        privacy_pass: None,
    });
    let gateway = services::start_gateway(
        &config,
        dir.path(),
        any,
        store.clone(),
        None,
        &metrics,
        &shutdown,
    )
    .await
    .unwrap();
    System {
        store,
        _dir: dir,
        pki,
        gateway,
        backend,
        metrics,
        shutdown,
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(sys: &System, with_cert: bool) -> Result<Sender, std::io::Error> {
    let client = with_cert.then_some((sys.pki.client_cert.as_path(), sys.pki.client_key.as_path()));
    let config = client_config(&sys.pki.root_cert, client, &[b"http/1.1"]).unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(sys.gateway).await?;
    let tls = connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await?;
    let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(conn);
    Ok(sender)
}

async fn send(sender: &mut Sender, req: Request<Full<Bytes>>) -> (StatusCode, Value) {
    // A kept-alive HTTP/1.1 connection takes the next request only once the previous
    // exchange has finished on it; without waiting, hyper may answer "connection was not
    // ready" (seen in CI on the second request of a connection).
    sender.ready().await.unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    (status, v)
}

fn get(path: &str) -> http::request::Builder {
    Request::get(path).header("host", "localhost")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_reaches_the_backend_signed() {
    let sys = start(vec![]).await;
    let mut c = connect(&sys, true).await.unwrap();
    let (status, v) = send(&mut c, get("/hello?x=1").body(Full::default()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["client_certificate"]["subject"],
        "CN=demo client,O=secdispatch"
    );
    assert_eq!(v["client_certificate"]["trusted_by"], "gateway-signature");
    let covered: Vec<&str> = v["gateway_signature"]["covered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        covered,
        [
            "\"@method\"",
            "\"@authority\"",
            "\"@path\"",
            "\"@query\"",
            "\"client-cert\""
        ]
    );
    assert_eq!(v["gateway_signature"]["keyid"], "gateway-signing-v1");
    assert_eq!(v["query"], "x=1");
    assert_eq!(v["x_forwarded_for"], "127.0.0.1");
    assert_eq!(
        v["forwarded"],
        "for=127.0.0.1;proto=https;host=\"localhost\""
    );
    sys.shutdown.drain(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_client_cert_from_the_client_never_reaches_the_backend() {
    let sys = start(vec![]).await;
    let forged = std::fs::read_to_string(&sys.pki.root_cert).unwrap();
    let forged_der = secdispatch_clientcert::certificates_from_pem(&forged).unwrap();
    let forged_value = secdispatch_clientcert::encode_client_cert(&forged_der[0]).unwrap();
    // Without a certificate of its own: the forged field is removed.
    let mut c = connect(&sys, false).await.unwrap();
    let req = get("/")
        .header("client-cert", forged_value.clone())
        .header("signature", "x=:AA==:")
        .body(Full::default())
        .unwrap();
    let (status, v) = send(&mut c, req).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert!(v["client_certificate"].is_null(), "{v}");
    // With one: the backend sees the real certificate, not the forged one.
    let mut c = connect(&sys, true).await.unwrap();
    let req = get("/")
        .header("client-cert", forged_value)
        .body(Full::default())
        .unwrap();
    let (_, v) = send(&mut c, req).await;
    assert_eq!(
        v["client_certificate"]["subject"],
        "CN=demo client,O=secdispatch"
    );
    let text = sys.metrics.render();
    assert!(
        text.contains("secdispatch_gateway_client_cert_fields_removed_total 2"),
        "{text}"
    );
    assert!(text.contains("client_auth=\"valid\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_route_refuses_clients_without_a_certificate() {
    let sys = start(vec![RouteConfig {
        host: None,
        path_prefix: "/secure".into(),
        client_auth: ClientAuth::Required,
        upstreams: vec![],
        upstream_protocol: UpstreamProtocol::Http1,
        privacy_pass: None,
    }])
    .await;
    let mut c = connect(&sys, false).await.unwrap();
    let (status, _) = send(&mut c, get("/secure/x").body(Full::default()).unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(&mut c, get("/open").body(Full::default()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let mut c = connect(&sys, true).await.unwrap();
    let (status, v) = send(&mut c, get("/secure/x").body(Full::default()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_get_a_content_digest_the_backend_checks() {
    let sys = start(vec![]).await;
    let mut c = connect(&sys, true).await.unwrap();
    let req = Request::post("/upload")
        .header("host", "localhost")
        .body(Full::new(Bytes::from_static(b"{\"hello\": \"world\"}")))
        .unwrap();
    let (status, v) = send(&mut c, req).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["body_bytes"], 18);
    assert!(
        v["content_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha-256=:"),
        "{v}"
    );
    let covered = v["gateway_signature"]["covered"].to_string();
    assert!(covered.contains("content-digest"), "{covered}");
}

/// A plain HTTP/1.1 request straight to the backend, bypassing the gateway.
async fn direct(addr: SocketAddr, headers: &[(&str, String)]) -> (StatusCode, String) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut req = Request::get("/").header("host", "localhost");
    for (k, v) in headers {
        req = req.header(*k, v.as_str());
    }
    let resp = sender
        .send_request(req.body(Full::<Bytes>::default()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_refuses_requests_that_did_not_come_through_the_gateway() {
    let sys = start(vec![]).await;
    let pem = std::fs::read_to_string(&sys.pki.client_cert).unwrap();
    let der = secdispatch_clientcert::certificates_from_pem(&pem).unwrap();
    let forged = secdispatch_clientcert::encode_client_cert(&der[0])
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    // Unsigned, with a forged Client-Cert.
    let (status, body) = direct(sys.backend, &[("client-cert", forged.clone())]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // A made-up signature.
    let (status, body) = direct(
        sys.backend,
        &[
            ("client-cert", forged),
            ("signature-input", "gateway=(\"@method\" \"@authority\" \"@path\" \"@query\" \"client-cert\");created=1700000000;keyid=\"gateway-signing-v1\";tag=\"secdispatch-gateway\"".into()),
            ("signature", "gateway=:AAAA:".into()),
        ],
    )
    .await;
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST,
        "{status} {body}"
    );
}

/// An external program for interop tests, or `None` (with a printed reason) when absent.
/// With `SECDISPATCH_REQUIRE_SERVICES=1` a missing program fails the test instead.
fn external(program: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("SECDISPATCH_REQUIRE_SERVICES=1 but {program} is not installed");
        }
        println!("skipped: {program} is not installed");
    }
    found
}

/// OpenSSL 3.0 refuses to load a client certificate whose issuer signs with an algorithm
/// it does not know (composite ML-DSA) unless its security level is 0.
fn seclevel0_conf(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("openssl.cnf");
    std::fs::write(
        &p,
        "openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n[ssl_sect]\n\
         system_default = system_default_sect\n[system_default_sect]\nCipherString = DEFAULT@SECLEVEL=0\n",
    )
    .unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_with_a_client_certificate_over_tls13_and_tls12() {
    let Some(curl) = external("curl") else { return };
    let sys = start(vec![]).await;
    let conf = seclevel0_conf(sys._dir.path());
    for (version, http) in [("--tlsv1.3", "--http2"), ("--tls-max", "--http1.1")] {
        let mut cmd = tokio::process::Command::new(&curl);
        cmd.env("OPENSSL_CONF", &conf)
            .args(["-sk", "--cert"])
            .arg(&sys.pki.client_cert)
            .arg("--key")
            .arg(&sys.pki.client_key)
            .args(["-H", "client-cert: :AAAA:"]);
        if version == "--tls-max" {
            cmd.args(["--tls-max", "1.2"]);
        } else {
            cmd.arg(version);
        }
        cmd.arg(http)
            .arg(format!("https://localhost:{}/via-curl", sys.gateway.port()));
        let out = cmd.output().await.unwrap();
        assert!(
            out.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            v["client_certificate"]["subject"], "CN=demo client,O=secdispatch",
            "{version}: {v}"
        );
        assert_eq!(v["path"], "/via-curl");
    }
    let text = sys.metrics.render();
    assert!(
        text.contains("version=\"TLSv1.3\",client_auth=\"valid\""),
        "{text}"
    );
    assert!(
        text.contains("version=\"TLSv1.2\",client_auth=\"valid\""),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_without_a_certificate_gets_no_client_cert_forwarded() {
    let Some(openssl) = external("openssl") else {
        return;
    };
    let sys = start(vec![]).await;
    let mut child = tokio::process::Command::new(openssl)
        .args([
            "s_client",
            "-quiet",
            "-connect",
            &sys.gateway.to_string(),
            "-servername",
            "localhost",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(b"GET /s-client HTTP/1.1\r\nHost: localhost\r\nClient-Cert: :AAAA:\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    drop(stdin);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("\"client_certificate\":null"), "{text}");
}

/// A direct client connection is reported to the lifecycle watcher: `open` with the
/// client's address, then `close` with the TLS bytes each way (what the socket carried).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_connections_are_reported_as_flow_events() {
    use secdispatch_lifecycle::event::{EventKind, FlowEvent};
    use tokio::io::AsyncBufReadExt;
    let watcher = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sys = start_reporting(Vec::new(), Some(watcher.local_addr().unwrap())).await;
    let mut sender = connect(&sys, true).await.unwrap();
    let (status, _) = send(&mut sender, get("/hello").body(Full::default()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    drop(sender);
    let (conn, _) = tokio::time::timeout(Duration::from_secs(5), watcher.accept())
        .await
        .unwrap()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(conn).lines();
    let mut next = async || {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        serde_json::from_str::<FlowEvent>(&line).unwrap()
    };
    let open = next().await;
    assert_eq!(open.event, EventKind::Open);
    assert_eq!(open.dst, sys.gateway);
    assert!(open.src.ip().is_loopback());
    assert_eq!(open.reporter.as_deref(), Some("gateway"));
    let close = next().await;
    assert_eq!(close.event, EventKind::Close);
    assert_eq!(close.id, open.id);
    // A TLS 1.3 handshake with a client certificate is well over a kilobyte each way.
    assert!(close.orig_bytes.unwrap() > 1000, "{close:?}");
    assert!(close.resp_bytes.unwrap() > 1000, "{close:?}");
    sys.shutdown.drain(Duration::from_secs(5)).await;
}

/// With OCSP checking on, a good client certificate passes; once the CA revokes it, the
/// gateway refuses it (403) within its cache window, while clients without a certificate
/// are unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_client_certificate_is_refused_via_ocsp() {
    let sys = start_custom(vec![], |c| {
        c.gateway.ocsp.enabled = true;
        c.gateway.ocsp.responder = "local".into();
        c.gateway.ocsp.cache_max_age = Duration::from_secs(1);
    })
    .await;
    let mut c = connect(&sys, true).await.unwrap();
    let (status, v) = send(&mut c, get("/hello").body(Full::default()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["client_certificate"]["subject"],
        "CN=demo client,O=secdispatch"
    );

    let pem = std::fs::read_to_string(&sys.pki.client_cert).unwrap();
    let leaf = secdispatch_pqpki::cert::chain_from_pem(&pem)
        .unwrap()
        .remove(0);
    let serial = secdispatch_store::serial_hex(leaf.tbs_certificate().serial_number().as_bytes());
    let ca = secdispatch_server::ca::Ca::new(sys.store.clone());
    ca.revoke(
        Some(secdispatch_server::localpki::ISSUING),
        &serial,
        Some("keyCompromise"),
        SystemTime::now(),
    )
    .await
    .unwrap();
    let revoked_at = std::time::Instant::now();
    loop {
        let mut c = connect(&sys, true).await.unwrap();
        let (status, v) = send(&mut c, get("/hello").body(Full::default()).unwrap()).await;
        if status == StatusCode::FORBIDDEN {
            assert_eq!(v, "the client certificate is revoked\n");
            break;
        }
        assert_eq!(status, StatusCode::OK, "{v}");
        assert!(
            revoked_at.elapsed() < Duration::from_secs(4),
            "revocation not noticed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Responder poll (200 ms) + gateway cache (1 s), with slack for a loaded machine.
    assert!(revoked_at.elapsed() < Duration::from_secs(3));
    let mut anonymous = connect(&sys, false).await.unwrap();
    let (status, _) = send(&mut anonymous, get("/hello").body(Full::default()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let metrics = sys.metrics.render();
    assert!(
        metrics.contains(r#"secdispatch_gateway_ocsp_checks_total{result="revoked"} 1"#),
        "{metrics}"
    );
    sys.shutdown.drain(Duration::from_secs(5)).await;
}

/// A responder that cannot be reached: fail-closed answers 503, fail-open forwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_responder_fails_closed_or_open_as_configured() {
    use secdispatch_server::gateway::revocation::FailurePolicy;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    for (policy, expect) in [
        (FailurePolicy::FailClosed, StatusCode::SERVICE_UNAVAILABLE),
        (FailurePolicy::FailOpen, StatusCode::OK),
    ] {
        let sys = start_custom(vec![], |c| {
            c.gateway.ocsp.enabled = true;
            c.gateway.ocsp.responder = format!("http://{dead}");
            c.gateway.ocsp.policy = policy;
        })
        .await;
        let mut c = connect(&sys, true).await.unwrap();
        let (status, v) = send(&mut c, get("/hello").body(Full::default()).unwrap()).await;
        assert_eq!(status, expect, "{policy:?}: {v}");
        if policy == FailurePolicy::FailOpen {
            assert_eq!(
                v["client_certificate"]["subject"],
                "CN=demo client,O=secdispatch"
            );
        }
        sys.shutdown.drain(Duration::from_secs(5)).await;
    }
}
