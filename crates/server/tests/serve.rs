//! The shared listener behaviour, driven over real loopback sockets: size limits, slow
//! clients, idle connections, graceful drain, and the admin endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use secdispatch_server::config::Limits;
use secdispatch_server::{Health, Metrics, Shutdown, admin, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn limits() -> Limits {
    Limits {
        max_header_bytes: 8192,
        max_headers: 20,
        max_body_bytes: 1000,
        header_read_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(500),
        idle_timeout: Duration::from_millis(400),
        shutdown_timeout: Duration::from_secs(5),
    }
}

fn app() -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/echo", post(|body: Bytes| async move { body }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                "done"
            }),
        )
        .route(
            "/stuck",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "never"
            }),
        )
}

struct Running {
    addr: SocketAddr,
    shutdown: Shutdown,
    metrics: Metrics,
}

async fn start(limits: Limits) -> Running {
    let metrics = Metrics::new();
    let shutdown = Shutdown::new();
    let listener = serve::bind("test", "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = serve::with_limits(app(), "test", &limits, &metrics);
    shutdown.spawn(serve::serve(listener, app, limits, shutdown.clone()));
    Running {
        addr,
        shutdown,
        metrics,
    }
}

/// Send raw bytes, read until the server closes or `wait` passes; returns what came back.
async fn exchange(addr: SocketAddr, request: &[u8], wait: Duration) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn serves_a_request() {
    let r = start(limits()).await;
    let resp = exchange(
        r.addr,
        b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.ends_with("hello"), "{resp}");
}

#[tokio::test]
async fn oversized_head_gets_431() {
    let r = start(limits()).await;
    let big = "a".repeat(20_000);
    let req = format!("GET / HTTP/1.1\r\nhost: x\r\nx-big: {big}\r\n\r\n");
    let resp = exchange(r.addr, req.as_bytes(), Duration::from_secs(2)).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
}

#[tokio::test]
async fn too_many_headers_get_431() {
    let r = start(limits()).await;
    let mut req = String::from("GET / HTTP/1.1\r\nhost: x\r\n");
    for i in 0..40 {
        req.push_str(&format!("x-h{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let resp = exchange(r.addr, req.as_bytes(), Duration::from_secs(2)).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
}

#[tokio::test]
async fn declared_oversized_body_gets_413_without_reading_it() {
    let r = start(limits()).await;
    let resp = exchange(
        r.addr,
        b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
}

#[tokio::test]
async fn chunked_oversized_body_gets_413() {
    let r = start(limits()).await;
    let chunk = "x".repeat(600);
    let req = format!(
        "POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n\
         258\r\n{chunk}\r\n258\r\n{chunk}\r\n0\r\n\r\n"
    );
    let resp = exchange(r.addr, req.as_bytes(), Duration::from_secs(2)).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    // Within the limit it goes through.
    let req = "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc";
    let resp = exchange(r.addr, req.as_bytes(), Duration::from_secs(2)).await;
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.ends_with("abc"),
        "{resp}"
    );
}

#[tokio::test]
async fn slowloris_is_cut_off_without_affecting_others() {
    let r = start(limits()).await;
    let mut slow = TcpStream::connect(r.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // Meanwhile a normal client is served.
    let resp = exchange(
        r.addr,
        b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // The slow one never finished its head: closed after header_read_timeout.
    let started = Instant::now();
    let mut buf = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(3), slow.read_to_end(&mut buf)).await;
    assert!(
        n.is_ok(),
        "the slow connection must be closed by the server"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn idle_keep_alive_connection_is_closed() {
    let r = start(limits()).await;
    let mut s = TcpStream::connect(r.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Keep-alive: the connection stays open, then closes after idle_timeout (400 ms).
    let started = Instant::now();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250),
        "closed too early: {waited:?}"
    );
}

#[tokio::test]
async fn slow_handler_gets_503_after_request_timeout() {
    let r = start(limits()).await;
    let resp = exchange(
        r.addr,
        b"GET /stuck HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        Duration::from_secs(3),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    assert!(resp.contains("request timed out"), "{resp}");
}

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish_and_stops_accepting() {
    let r = start(limits()).await;
    let addr = r.addr;
    let in_flight = tokio::spawn(async move {
        exchange(
            addr,
            b"GET /slow HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
            Duration::from_secs(3),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        r.shutdown.drain(Duration::from_secs(3)).await,
        "drain must finish in time"
    );
    let resp = in_flight.await.unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 200") && resp.ends_with("done"),
        "{resp}"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener must be closed"
    );
}

#[tokio::test]
async fn requests_are_counted() {
    let r = start(limits()).await;
    exchange(
        r.addr,
        b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        Duration::from_secs(2),
    )
    .await;
    let text = r.metrics.render();
    assert!(
        text.contains(
            "secdispatch_http_requests_total{service=\"test\",method=\"GET\",status=\"2xx\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn admin_healthz_and_metrics() {
    let metrics = Metrics::new();
    let health = Health::new();
    health.register(
        "always",
        std::sync::Arc::new(|| Box::pin(async { Ok("fine".to_owned()) })),
    );
    let shutdown = Shutdown::new();
    let listener = serve::bind("admin", "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = serve::with_limits(
        admin::router(metrics.clone(), health.clone()),
        "admin",
        &limits(),
        &metrics,
    );
    shutdown.spawn(serve::serve(listener, app, limits(), shutdown.clone()));

    let get = |path: &str| format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    let resp = exchange(addr, get("/healthz").as_bytes(), Duration::from_secs(2)).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(
        resp.contains(r#""status":"ok""#) && resp.contains("fine"),
        "{resp}"
    );

    health.register(
        "db",
        std::sync::Arc::new(|| Box::pin(async { Err("connection refused".to_owned()) })),
    );
    let resp = exchange(addr, get("/healthz").as_bytes(), Duration::from_secs(2)).await;
    assert!(resp.starts_with("HTTP/1.1 503"), "{resp}");
    assert!(resp.contains("connection refused"), "{resp}");

    let resp = exchange(addr, get("/metrics").as_bytes(), Duration::from_secs(2)).await;
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("application/openmetrics-text"), "{resp}");
    assert!(
        resp.contains(
            "secdispatch_http_requests_total{service=\"admin\",method=\"GET\",status=\"5xx\"} 1"
        ),
        "{resp}"
    );
    assert!(shutdown.drain(Duration::from_secs(2)).await);
}
