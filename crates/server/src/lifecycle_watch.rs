//! The lifecycle watcher that `secdispatch up` runs: it takes the flow events of the lb
//! and the gateway (JSON lines over TCP, the format of `secdispatch_lifecycle::event`),
//! keeps a [`LiveView`] of where each client is in the malware lifecycle, and reports
//! every state change as a log line and the hosts per state as a metric.
//!
//! The same as `secdispatch lifecycle watch --flows ADDR`, but inside a service process:
//! readers never block on the analysis. Lines go through a bounded queue to one thread
//! that owns the view and re-runs the detectors once per refresh; lines that do not fit
//! the queue are dropped and counted (`lifecycle_events_dropped`).

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use secdispatch_lifecycle::analyzer::Config as AnalyzerConfig;
use secdispatch_lifecycle::live::LiveView;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use crate::services::StartError;
use crate::{Metrics, Shutdown, serve};

/// Longest flow-event line read; a longer one ends that reporter's connection.
const MAX_LINE: u64 = 64 * 1024;
/// Lines queued for the analysis at most.
const QUEUE: usize = 65_536;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Clone)]
struct WatchMetrics {
    events: Counter,
    dropped: Counter,
    changes: Counter,
    hosts: Family<StateLabels, Gauge>,
}

impl WatchMetrics {
    fn register(metrics: &Metrics) -> Self {
        let m = Self {
            events: Counter::default(),
            dropped: Counter::default(),
            changes: Counter::default(),
            hosts: Family::default(),
        };
        metrics.register(
            "lifecycle_events",
            "Flow-event lines received by the lifecycle watcher",
            m.events.clone(),
        );
        metrics.register(
            "lifecycle_events_dropped",
            "Flow-event lines dropped because the analysis queue was full",
            m.dropped.clone(),
        );
        metrics.register(
            "lifecycle_state_changes",
            "Hosts that changed lifecycle state",
            m.changes.clone(),
        );
        metrics.register(
            "lifecycle_hosts",
            "Hosts seen, by current lifecycle state",
            m.hosts.clone(),
        );
        m
    }
}

/// Listen for flow events on `listen` and analyse them until shutdown, re-running the
/// detectors every `refresh`. Returns the bound address.
pub async fn start_lifecycle_watch(
    listen: SocketAddr,
    refresh: Duration,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> Result<SocketAddr, StartError> {
    let listener = serve::bind("lifecycle watcher", listen).await?;
    let addr = listener.local_addr()?;
    let m = WatchMetrics::register(metrics);
    let (tx, rx) = mpsc::sync_channel::<(String, String)>(QUEUE);
    let analysis_metrics = m.clone();
    let stop = shutdown.clone();
    std::thread::Builder::new()
        .name("lifecycle-watch".into())
        .spawn(move || analyse(rx, refresh, &analysis_metrics, &stop))?;
    let accept_shutdown = shutdown.clone();
    shutdown.spawn(async move {
        loop {
            let (conn, peer) = tokio::select! {
                () = accept_shutdown.triggered() => return,
                a = listener.accept() => match a {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "lifecycle watcher: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let (tx, m, stop) = (tx.clone(), m.clone(), accept_shutdown.clone());
            tokio::spawn(async move {
                tokio::select! {
                    () = stop.triggered() => {}
                    () = read_events(conn, peer, tx, m) => {}
                }
            });
        }
    });
    Ok(addr)
}

/// Queue the lines of one reporter's connection until it closes.
async fn read_events(
    conn: tokio::net::TcpStream,
    peer: SocketAddr,
    tx: mpsc::SyncSender<(String, String)>,
    m: WatchMetrics,
) {
    let source = peer.to_string();
    let mut reader = BufReader::new(conn);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match (&mut reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut buf)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(_) if buf.last() != Some(&b'\n') && buf.len() as u64 >= MAX_LINE => {
                tracing::warn!(reporter = %peer, "lifecycle watcher: flow-event line over 64 KiB; closing the connection");
                return;
            }
            Ok(_) if buf.trim_ascii().is_empty() => {}
            Ok(_) => {
                m.events.inc();
                let line = String::from_utf8_lossy(&buf).into_owned();
                match tx.try_send((source.clone(), line)) {
                    Ok(()) => {}
                    Err(mpsc::TrySendError::Full(_)) => {
                        m.dropped.inc();
                    }
                    Err(mpsc::TrySendError::Disconnected(_)) => return,
                }
            }
        }
    }
}

/// The analysis thread: owns the view, takes queued lines, refreshes on schedule.
fn analyse(
    rx: mpsc::Receiver<(String, String)>,
    refresh: Duration,
    m: &WatchMetrics,
    shutdown: &Shutdown,
) {
    let mut view = LiveView::new(AnalyzerConfig::default());
    let mut next = Instant::now() + refresh;
    loop {
        match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
            Ok((source, line)) => view.line(&source, &line),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        if Instant::now() < next {
            continue;
        }
        if shutdown.is_triggered() {
            return;
        }
        next = Instant::now() + refresh;
        for c in view.refresh() {
            m.changes.inc();
            tracing::warn!(
                host = %c.host,
                from = c.from.as_str(),
                to = c.to.as_str(),
                score = c.score,
                reason = %c.reason,
                "lifecycle: host changed state"
            );
        }
        m.hosts.clear();
        for h in &view.report().hosts {
            m.hosts
                .get_or_create(&StateLabels {
                    state: h.state.as_str().to_owned(),
                })
                .inc();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use secdispatch_lifecycle::event::FlowEvent;
    use tokio::io::AsyncWriteExt;

    /// A reporter's scan (eight refused connections to different hosts) becomes a host in
    /// DISCOVERY on /metrics; a line that is not an event is skipped, not fatal.
    #[tokio::test]
    async fn reported_scan_shows_as_discovery() {
        let (metrics, shutdown) = (Metrics::new(), Shutdown::new());
        let addr = start_lifecycle_watch(
            "127.0.0.1:0".parse().unwrap(),
            Duration::from_millis(50),
            &metrics,
            &shutdown,
        )
        .await
        .unwrap();
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let src: SocketAddr = "192.168.7.7:40000".parse().unwrap();
        let mut lines = String::from("not an event\n");
        for i in 1..=8u8 {
            let dst = format!("192.168.7.{}:445", 100 + i).parse().unwrap();
            lines.push_str(
                &FlowEvent::open(format!("c{i}"), 10.0 + f64::from(i), src, dst).to_line(),
            );
            let mut c = FlowEvent::close(format!("c{i}"), 11.0 + f64::from(i), src, dst, 0, 0);
            c.conn_state = Some("S0".into());
            lines.push_str(&c.to_line());
            lines.push('\n'); // blank lines are ignored
        }
        conn.write_all(lines.as_bytes()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = metrics.render();
            if text.contains(r#"secdispatch_lifecycle_hosts{state="discovery"} 1"#) {
                assert!(
                    text.contains("secdispatch_lifecycle_events_total 17"),
                    "{text}"
                );
                assert!(
                    text.contains("secdispatch_lifecycle_state_changes_total 1"),
                    "{text}"
                );
                break;
            }
            assert!(Instant::now() < deadline, "no discovery: {text}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        shutdown.trigger();
    }
}
