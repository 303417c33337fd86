//! Flow events: how the gateway and the load balancer of this project report connections
//! to `secdispatch lifecycle watch` — JSON lines over TCP, one object per line, UTF-8.
//!
//! ## Format, version 1
//!
//! ```text
//! {"v":1,"event":"open","id":"gw-17","ts":1732760000.125,"src":"203.0.113.5:51234","dst":"10.0.0.2:443","proto":"tcp","reporter":"gateway","service":"ssl","sni":"app.example"}
//! {"v":1,"event":"close","id":"gw-17","ts":1732760002.5,"src":"203.0.113.5:51234","dst":"10.0.0.2:443","proto":"tcp","reporter":"gateway","service":"ssl","orig_bytes":517,"resp_bytes":4120,"orig_pkts":6,"resp_pkts":5,"conn_state":"SF"}
//! ```
//!
//! | field | required | meaning |
//! |---|---|---|
//! | `v` | yes | format version, `1` |
//! | `event` | yes | `open` (connection accepted / first packet) or `close` (connection ended) |
//! | `id` | yes | connection id, unique per reporter; pairs `open` with `close` |
//! | `ts` | yes | Unix time of the event, seconds (fractions allowed) |
//! | `src`, `dst` | yes | originator and responder `address:port` (IPv6 as `[addr]:port`) |
//! | `proto` | no | `tcp` (default), `udp`, `icmp` |
//! | `reporter` | no | the component that saw it: `gateway`, `lb`, ... |
//! | `service` | no | application protocol, Zeek's names: `ssl`, `http`, `ssh`, `dns` |
//! | `sni` | no | TLS server name the client asked for |
//! | `http_host` | no | HTTP Host (or CONNECT target) |
//! | `orig_bytes`, `resp_bytes` | close | payload bytes from originator / responder |
//! | `orig_pkts`, `resp_pkts` | no | packets each way (if the reporter counts them) |
//! | `conn_state` | no | Zeek `conn_state` (`SF`, `S0`, `REJ`, `RSTO`, ...); derived from the bytes when absent |
//!
//! Unknown fields are ignored (forward compatibility); a `close` without an `open` stands
//! alone (its `ts` is then taken as the end and the start is unknown: duration 0). The
//! analysis needs `orig_ip_bytes`: it is estimated as payload + 40 bytes of headers per
//! packet (per connection when packets are not counted).

use std::collections::VecDeque;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::flow::{ConnState, Flow, HttpInfo, Proto, TlsInfo};
use crate::hash::FxHashMap;

/// `open` or `close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The connection was accepted / first seen.
    Open,
    /// The connection ended.
    Close,
}

fn is_default_proto(p: &Proto) -> bool {
    *p == Proto::Tcp
}

fn tcp() -> Proto {
    Proto::Tcp
}

/// One flow event (format version 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowEvent {
    /// Format version: 1.
    pub v: u8,
    /// What happened.
    pub event: EventKind,
    /// Connection id, unique per reporter.
    pub id: String,
    /// Unix time, seconds.
    pub ts: f64,
    /// Originator.
    pub src: SocketAddr,
    /// Responder.
    pub dst: SocketAddr,
    /// Transport.
    #[serde(default = "tcp", skip_serializing_if = "is_default_proto")]
    pub proto: Proto,
    /// Reporting component.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<String>,
    /// Application protocol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// TLS server name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// HTTP Host or CONNECT target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_host: Option<String>,
    /// Payload bytes from the originator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_bytes: Option<u64>,
    /// Payload bytes from the responder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_bytes: Option<u64>,
    /// Packets from the originator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_pkts: Option<u64>,
    /// Packets from the responder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_pkts: Option<u64>,
    /// Zeek conn_state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn_state: Option<String>,
}

/// Current format version.
pub const VERSION: u8 = 1;

impl FlowEvent {
    /// An `open` event.
    pub fn open(id: impl Into<String>, ts: f64, src: SocketAddr, dst: SocketAddr) -> FlowEvent {
        FlowEvent {
            v: VERSION,
            event: EventKind::Open,
            id: id.into(),
            ts,
            src,
            dst,
            proto: Proto::Tcp,
            reporter: None,
            service: None,
            sni: None,
            http_host: None,
            orig_bytes: None,
            resp_bytes: None,
            orig_pkts: None,
            resp_pkts: None,
            conn_state: None,
        }
    }

    /// A `close` event with byte counts.
    pub fn close(
        id: impl Into<String>,
        ts: f64,
        src: SocketAddr,
        dst: SocketAddr,
        orig_bytes: u64,
        resp_bytes: u64,
    ) -> FlowEvent {
        FlowEvent {
            event: EventKind::Close,
            orig_bytes: Some(orig_bytes),
            resp_bytes: Some(resp_bytes),
            ..FlowEvent::open(id, ts, src, dst)
        }
    }

    /// The event as one line of JSON, with the trailing newline.
    pub fn to_line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Parse one line.
    pub fn parse_line(line: &str) -> Result<FlowEvent, Error> {
        let e: FlowEvent = serde_json::from_str(line.trim())
            .map_err(|e| Error::InvalidFlowEvent(e.to_string()))?;
        if e.v != VERSION {
            return Err(Error::InvalidFlowEvent(format!(
                "unsupported version {}",
                e.v
            )));
        }
        if !e.ts.is_finite() {
            return Err(Error::InvalidFlowEvent("ts is not a finite number".into()));
        }
        Ok(e)
    }
}

/// Pairs `open` and `close` events into [`Flow`]s. Holds at most `max_open` open
/// connections; beyond that the oldest are dropped (and counted).
#[derive(Debug)]
pub struct FlowAssembler {
    open: FxHashMap<(Option<String>, String), FlowEvent>,
    order: VecDeque<(Option<String>, String)>,
    max_open: usize,
    dropped: u64,
}

impl Default for FlowAssembler {
    fn default() -> Self {
        FlowAssembler::new(100_000)
    }
}

impl FlowAssembler {
    /// An assembler holding at most `max_open` open connections.
    pub fn new(max_open: usize) -> FlowAssembler {
        FlowAssembler {
            open: FxHashMap::default(),
            order: VecDeque::new(),
            max_open: max_open.max(1),
            dropped: 0,
        }
    }

    /// Open connections right now.
    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Open events dropped because too many connections were open.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Take one event; a `close` yields the finished flow.
    pub fn push(&mut self, e: FlowEvent) -> Option<Flow> {
        let key = (e.reporter.clone(), e.id.clone());
        match e.event {
            EventKind::Open => {
                while self.open.len() >= self.max_open {
                    let Some(k) = self.order.pop_front() else {
                        break;
                    };
                    if self.open.remove(&k).is_some() {
                        self.dropped += 1;
                    }
                }
                if self.open.insert(key.clone(), e).is_none() {
                    self.order.push_back(key);
                }
                None
            }
            EventKind::Close => {
                let opened = self.open.remove(&key);
                Some(to_flow(opened.as_ref(), &e))
            }
        }
    }
}

fn to_flow(open: Option<&FlowEvent>, close: &FlowEvent) -> Flow {
    let start = open.map_or(close.ts, |o| o.ts.min(close.ts));
    let pick = |f: fn(&FlowEvent) -> Option<String>| f(close).or_else(|| open.and_then(f));
    let uid = match &close.reporter {
        Some(r) => format!("{r}-{}", close.id),
        None => close.id.clone(),
    };
    let mut f = Flow::new(
        uid,
        start,
        close.proto,
        (close.src.ip(), close.src.port()),
        (close.dst.ip(), close.dst.port()),
    );
    f.duration = close.ts - start;
    f.orig_bytes = close.orig_bytes.unwrap_or(0);
    f.resp_bytes = close.resp_bytes.unwrap_or(0);
    f.orig_pkts = close.orig_pkts.unwrap_or(0);
    f.resp_pkts = close.resp_pkts.unwrap_or(0);
    f.orig_ip_bytes = f.orig_bytes + 40 * f.orig_pkts.max(1);
    f.resp_ip_bytes = f.resp_bytes + 40 * f.resp_pkts.max(u64::from(f.resp_bytes > 0));
    f.service = pick(|e| e.service.clone());
    f.conn_state = close
        .conn_state
        .as_deref()
        .and_then(ConnState::parse)
        .or(Some(if f.resp_bytes > 0 || f.resp_pkts > 0 {
            ConnState::SF
        } else if f.orig_bytes > 0 {
            ConnState::S1
        } else {
            ConnState::S0
        }));
    f.history = match f.conn_state {
        Some(ConnState::S0) => "S".into(),
        Some(ConnState::REJ) => "Sr".into(),
        _ if f.orig_bytes > 0 || f.resp_bytes > 0 => "ShADadFf".into(),
        _ => "ShAF".into(),
    };
    if let Some(sni) = pick(|e| e.sni.clone()) {
        f.tls = Some(TlsInfo {
            sni: Some(sni.to_ascii_lowercase()),
            ..TlsInfo::default()
        });
    }
    if let Some(host) = pick(|e| e.http_host.clone()) {
        f.http = Some(HttpInfo {
            method: String::new(),
            host: Some(crate::http::strip_port(&host)),
            uri: String::new(),
            user_agent: None,
        });
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_assembly() {
        let src: SocketAddr = "203.0.113.5:51234".parse().unwrap();
        let dst: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        let mut o = FlowEvent::open("gw-1", 100.0, src, dst);
        o.reporter = Some("gateway".into());
        o.sni = Some("App.Example".into());
        let line = o.to_line();
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        assert_eq!(FlowEvent::parse_line(&line).unwrap(), o);
        let mut c = FlowEvent::close("gw-1", 102.5, src, dst, 517, 4120);
        c.reporter = Some("gateway".into());
        let mut a = FlowAssembler::default();
        assert!(a.push(o).is_none());
        let f = a
            .push(FlowEvent::parse_line(&c.to_line()).unwrap())
            .unwrap();
        assert_eq!(
            (f.ts, f.duration, f.orig_bytes, f.resp_bytes),
            (100.0, 2.5, 517, 4120)
        );
        assert_eq!(f.fqdn(), Some("app.example"));
        assert_eq!(f.conn_state, Some(ConnState::SF));
        assert_eq!(f.uid, "gateway-gw-1");
        assert_eq!(a.open_count(), 0);
    }

    #[test]
    fn rejects_bad_lines() {
        assert!(FlowEvent::parse_line("{").is_err());
        assert!(
            FlowEvent::parse_line(
                r#"{"v":2,"event":"open","id":"x","ts":1,"src":"1.2.3.4:1","dst":"1.2.3.4:2"}"#
            )
            .is_err()
        );
        assert!(
            FlowEvent::parse_line(
                r#"{"v":1,"event":"opened","id":"x","ts":1,"src":"1.2.3.4:1","dst":"1.2.3.4:2"}"#
            )
            .is_err()
        );
        assert!(
            FlowEvent::parse_line(
                r#"{"v":1,"event":"open","id":"x","ts":1,"src":"1.2.3.4","dst":"1.2.3.4:2"}"#
            )
            .is_err()
        );
        let ok = FlowEvent::parse_line(r#"{"v":1,"event":"close","id":"x","ts":1,"src":"1.2.3.4:1","dst":"1.2.3.4:2","future":true}"#).unwrap();
        assert_eq!(ok.proto, Proto::Tcp);
    }

    #[test]
    fn open_table_is_bounded() {
        let s: SocketAddr = "10.0.0.1:1".parse().unwrap();
        let mut a = FlowAssembler::new(10);
        for i in 0..100 {
            a.push(FlowEvent::open(i.to_string(), 1.0, s, s));
        }
        assert_eq!(a.open_count(), 10);
        assert_eq!(a.dropped(), 90);
    }
}
