//! Interop with a proxy that is not ours: HAProxy (Debian's 2.6) terminates mTLS and sends
//! RFC 9440 `Client-Cert` (it cannot sign) to our backend layer in allowlist mode.
//! Skips with a printed reason without haproxy and curl, unless
//! SECDISPATCH_REQUIRE_SERVICES=1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secdispatch_pqpki::ca::{self, CertificateAuthority, IssueRequest};
use secdispatch_pqpki::cert::{Profile, SubjectAltNames};
use secdispatch_pqpki::{Algorithm, SigningKey};
use secdispatch_server::config::Config;
use secdispatch_server::{Metrics, Shutdown, services};
use secdispatch_store::{Store, StoreLocation};
use serde_json::Value;
use x509_cert::name::Name;

fn external(program: &str) -> Option<PathBuf> {
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

/// A classical PKI HAProxy's OpenSSL can verify: root, server and client (ECDSA P-256).
fn classical_pki(dir: &Path) {
    let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
    let alg = Algorithm::from_name("ecdsa-p256-sha256").unwrap();
    let now = SystemTime::now() - Duration::from_secs(60);
    let day = Duration::from_secs(86_400);
    let root_key = SigningKey::generate(alg, &mut rng).unwrap();
    let root = ca::self_signed_root(
        &root_key,
        Name::from_str("CN=interop root").unwrap(),
        now,
        now + day * 2,
        None,
        None,
        &mut rng,
    )
    .unwrap();
    let ca = CertificateAuthority::new(root.clone(), &root_key).unwrap();
    let issue = |cn: &str, profile, san: Option<&str>| {
        let key = SigningKey::generate(alg, &mut rand_core::UnwrapErr(getrandom::SysRng)).unwrap();
        let mut req = IssueRequest::new(
            Name::from_str(cn).unwrap(),
            key.public_key(),
            profile,
            now,
            now + day,
        )
        .unwrap();
        if let Some(s) = san {
            req.sans = SubjectAltNames::parse([s]).unwrap();
        }
        (
            ca.issue(&req, &mut rand_core::UnwrapErr(getrandom::SysRng))
                .unwrap(),
            key,
        )
    };
    let (server, server_key) = issue("CN=haproxy", Profile::Server, Some("DNS:localhost"));
    let (client, client_key) = issue("CN=haproxy client,O=interop", Profile::Client, None);
    let pem = |c| secdispatch_pqpki::cert::to_pem(c).unwrap();
    std::fs::write(dir.join("root.pem"), pem(&root)).unwrap();
    std::fs::write(
        dir.join("server.pem"),
        format!(
            "{}{}",
            pem(&server),
            server_key.to_pkcs8_pem().unwrap().as_str()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("client.pem"), pem(&client)).unwrap();
    std::fs::write(
        dir.join("client.key"),
        client_key.to_pkcs8_pem().unwrap().as_str(),
    )
    .unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn haproxy_client_cert_reaches_backend_in_allowlist_mode() {
    let (Some(haproxy), Some(curl)) = (external("haproxy"), external("curl")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    classical_pki(d);

    let store = Arc::new(Store::open(&StoreLocation::sqlite_in(d)).await.unwrap());
    let mut config = Config::default();
    config.backend_demo.trusted_peers = vec!["127.0.0.1".parse().unwrap()];
    let (metrics, shutdown) = (Metrics::new(), Shutdown::new());
    let backend = services::start_backend_demo(
        &config,
        "127.0.0.1:0".parse().unwrap(),
        store,
        &metrics,
        &shutdown,
    )
    .await
    .unwrap();

    // The configuration of notes/clientcert.md §5, as an operator would write it.
    let port = free_port();
    let cfg = format!(
        "global\n  log stderr local0 warning\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 10s\n  timeout server 10s\n\
         frontend tls\n  bind 127.0.0.1:{port} ssl crt {dir}/server.pem ca-file {dir}/root.pem verify optional\n\
         \x20 http-request del-header Client-Cert\n  http-request del-header Client-Cert-Chain\n\
         \x20 http-request set-header Client-Cert :%[ssl_c_der,base64]: if {{ ssl_c_used }} {{ ssl_c_verify 0 }}\n\
         \x20 default_backend app\nbackend app\n  server app {backend}\n",
        dir = d.display()
    );
    std::fs::write(d.join("haproxy.cfg"), cfg).unwrap();
    let mut hap = tokio::process::Command::new(haproxy)
        .args(["-db", "-f"])
        .arg(d.join("haproxy.cfg"))
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let get = |with_cert: bool| {
        let mut c = tokio::process::Command::new(&curl);
        c.args(["-s", "--cacert"]).arg(d.join("root.pem"));
        if with_cert {
            c.arg("--cert")
                .arg(d.join("client.pem"))
                .arg("--key")
                .arg(d.join("client.key"));
        }
        // A forged field: haproxy must remove it.
        c.args([
            "-H",
            "client-cert: :AAAA:",
            &format!("https://localhost:{port}/from-haproxy"),
        ]);
        c
    };
    let out = get(true).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(
        v["client_certificate"]["subject"], "CN=haproxy client,O=interop",
        "{v}"
    );
    assert_eq!(v["client_certificate"]["trusted_by"], "trusted-peer", "{v}");
    assert_eq!(
        v["client_certificate"]["chain_length"], 1,
        "haproxy sends no chain: {v}"
    );

    let out = get(false).output().await.unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["client_certificate"].is_null(),
        "forged field must not pass: {v}"
    );

    hap.kill().await.unwrap();
    shutdown.drain(Duration::from_secs(5)).await;
}
