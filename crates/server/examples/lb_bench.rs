//! Load generator and backend for `bench/lb.sh`: `secdispatch lb` against haproxy.
//!
//! ```text
//! lb_bench backend --keys FILE --tlslb ADDR --proxy ADDR --plain ADDR
//! lb_bench connect --target ADDR [--connections N] [--concurrency C]
//! lb_bench bulk    --target ADDR [--megabytes M]
//! ```
//!
//! The backend runs the gateway's front end (TLS-LB on one listener, PROXY on another,
//! nothing on the third), answers the ClientHello with a server flight of
//! [`SERVER_FLIGHT`] bytes, then reads the client's bytes to the end and answers with their
//! count (8 bytes, big-endian); it does no TLS, so what is measured is the load balancer,
//! not handshakes. A client connection has the shape of a TLS one: it sends a real
//! ClientHello (rustls), waits for the server's flight (as a TLS client waits for the
//! ServerHello before its next flight), sends optionally `M` MiB more, half-closes, and
//! waits for the count: `connect` reports connections per second and the latency
//! percentiles of whole connections, `bulk` MiB/s.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use secdispatch_server::Metrics;
use secdispatch_server::lb::{FrontEnd, FrontEndConfig, FrontEndMode, FrontEndProtocol, KeyFile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The allocator of the `secdispatch` binary, whose gateway this backend stands for.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Size of the backend's answer to the ClientHello (about a ServerHello).
const SERVER_FLIGHT: usize = 128;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn client_hello() -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), "backend.test".try_into().unwrap())
            .unwrap();
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

async fn serve(listener: TcpListener, fe: Arc<FrontEnd>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let fe = fe.clone();
        tokio::spawn(async move {
            let Ok(mut a) = fe.accept(stream, peer).await else {
                return;
            };
            if a.io.write_all(&[0x16; SERVER_FLIGHT]).await.is_err() {
                return;
            }
            // Read into spare capacity: a server does not zero 64 KiB per connection, and
            // that memset was a twentieth of this process's CPU, which it shares with the
            // load generator (only the load balancer should be the variable).
            let mut buf = Vec::with_capacity(64 * 1024);
            let mut total: u64 = 0;
            loop {
                buf.clear();
                match a.io.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n as u64,
                }
            }
            let _ = a.io.write_all(&total.to_be_bytes()).await;
            let _ = a.io.shutdown().await;
        });
    }
}

async fn backend(args: &[String]) {
    let keys = Arc::new(KeyFile::load(&PathBuf::from(arg(args, "--keys").unwrap())).unwrap());
    let metrics = Metrics::new();
    for (flag, protocol) in [
        ("--tlslb", FrontEndProtocol::TlsLb),
        ("--proxy", FrontEndProtocol::Proxy),
        ("--plain", FrontEndProtocol::None),
    ] {
        let addr: SocketAddr = arg(args, flag).unwrap().parse().unwrap();
        let config = FrontEndConfig {
            protocol,
            mode: FrontEndMode::Require,
            // Every connection of a run is fresh; the window only costs memory here.
            ratchet_window: 0,
            ..FrontEndConfig::default()
        };
        let fe = Arc::new(FrontEnd::new(&config, Some(keys.clone()), &metrics).unwrap());
        let listener = TcpListener::bind(addr).await.unwrap();
        tokio::spawn(serve(listener, fe));
    }
    println!("backend ready");
    std::future::pending::<()>().await;
}

/// One client connection: ClientHello, the server's flight, `extra` bytes, half-close,
/// read the count.
async fn one(target: SocketAddr, hello: &[u8], extra: usize) -> Option<u64> {
    let mut s = TcpStream::connect(target).await.ok()?;
    let _ = s.set_nodelay(true);
    s.write_all(hello).await.ok()?;
    let mut flight = [0u8; SERVER_FLIGHT];
    s.read_exact(&mut flight).await.ok()?;
    if extra > 0 {
        let chunk = vec![0x17u8; 256 * 1024];
        let mut left = extra;
        while left > 0 {
            let n = left.min(chunk.len());
            s.write_all(&chunk[..n]).await.ok()?;
            left -= n;
        }
    }
    s.shutdown().await.ok()?;
    let mut count = [0u8; 8];
    s.read_exact(&mut count).await.ok()?;
    Some(u64::from_be_bytes(count))
}

async fn connect(args: &[String]) {
    let target: SocketAddr = arg(args, "--target").unwrap().parse().unwrap();
    let n: usize = arg(args, "--connections").map_or(20_000, |v| v.parse().unwrap());
    let c: usize = arg(args, "--concurrency").map_or(32, |v| v.parse().unwrap());
    let hello = Arc::new(client_hello());
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..c {
        let (hello, next) = (hello.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0usize;
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                let t = Instant::now();
                match one(target, &hello, 0).await {
                    Some(k) if k == hello.len() as u64 => lat.push(t.elapsed()),
                    _ => failed += 1,
                }
            }
            (lat, failed)
        }));
    }
    let mut lat: Vec<Duration> = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (l, f) = t.await.unwrap();
        lat.extend(l);
        failed += f;
    }
    let secs = started.elapsed().as_secs_f64();
    if lat.is_empty() {
        eprintln!("every one of {failed} connections to {target} failed");
        std::process::exit(1);
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "connections={} failed={failed} conn_per_s={:.0} p50_us={} p99_us={}",
        lat.len(),
        lat.len() as f64 / secs,
        pct(0.50).as_micros(),
        pct(0.99).as_micros()
    );
}

async fn bulk(args: &[String]) {
    let target: SocketAddr = arg(args, "--target").unwrap().parse().unwrap();
    let mb: usize = arg(args, "--megabytes").map_or(2048, |v| v.parse().unwrap());
    let hello = client_hello();
    let started = Instant::now();
    let got = one(target, &hello, mb << 20).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(got, (hello.len() + (mb << 20)) as u64, "bytes lost");
    println!("megabytes={mb} mib_per_s={:.0}", mb as f64 / secs);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("backend") => backend(&args).await,
        Some("connect") => connect(&args).await,
        Some("bulk") => bulk(&args).await,
        _ => {
            eprintln!("usage: lb_bench backend|connect|bulk ... (see the source)");
            std::process::exit(2);
        }
    }
}
