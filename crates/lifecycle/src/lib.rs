//! # secdispatch-lifecycle — malware lifecycle from the network's side
//!
//! Implements the state model of **draft-fabini-smart-malware-lifecycle-00** (J. Fabini,
//! IETF 106 SecDispatch, November 2019): malware must communicate to discover victims,
//! propagate, be controlled and attack, so its life shows up in traffic as transitions
//! between the draft's states — ACCESS, INFECTION, DISCOVERY, PROPAGATION, CONTROL,
//! TRIGGER, ATTACK, CLEANUP. This crate reconstructs, per host, where each one is in that
//! lifecycle, with the evidence, the infection chain between hosts, what to contain, and the
//! draft's requested metric of how much hidden communication each observed protocol allows.
//!
//! * Ingest into one [`Flow`] model: [`pcap`] (pcap and pcapng; Ethernet, VLAN, Linux SLL
//!   v1/v2, raw IP, loopback; IPv4/IPv6, TCP with Zeek's `conn_state` and history, UDP,
//!   ICMP, ARP) through the [`tracker`] with [`dns`], [`tls`] (SNI, ALPN, JA3) and [`http`]
//!   (Host, CONNECT, SSH banners) payload inspection; [`zeek`] logs (conn, dns, ssl, http;
//!   TSV and JSON lines; gzip through [`input`]); live [`event`]s from this project's
//!   gateway and load balancer. Memory is bounded by active flows and distinct pairs.
//! * [`Analyzer`]: streaming per-pair aggregates; the detectors (one module per
//!   transition); the RITA-compatible [`beacon`] score; the per-host state machine
//!   ([`model`]) with time windows and decay; the covert-channel estimate ([`covert`]).
//! * [`Report`]: JSON, text, nftables, DOT; [`html`] renders a self-contained report;
//!   [`live`] keeps a running view for `secdispatch lifecycle watch`.
//!
//! Sans-I/O: no function opens a file or socket or reads a clock. Readers are parameters,
//! and the analysis time is the data's own (its latest timestamp).
//!
//! ## Example: a horizontal scan in a Zeek log
//!
//! ```
//! use secdispatch_lifecycle::{Config, Session, State};
//!
//! let mut log = String::from("#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n");
//! for i in 1..=6 {
//!     log.push_str(&format!("{}.0\tC{i}\t10.0.2.112\t{}\t10.0.9.{i}\t80\ttcp\tS0\n", 100 + i, 40000 + i));
//! }
//! let mut session = Session::new(Config::default());
//! session.read_zeek_log(log.as_bytes(), "conn.log")?;
//! let report = session.finish();
//! let host = report.host("10.0.2.112").expect("the scanner");
//! assert_eq!(host.state, State::Discovery);
//! assert_eq!(host.evidence[0].kind, "horizontal_scan");
//! # Ok::<(), secdispatch_lifecycle::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod analyzer;
pub mod beacon;
pub mod covert;
mod detect;
pub mod dns;
mod error;
pub mod event;
pub mod flow;
pub mod hash;
pub mod html;
pub mod http;
pub mod input;
pub mod live;
pub mod model;
pub mod net;
pub mod pcap;
pub mod report;
pub mod session;
pub mod skip;
pub mod tls;
pub mod tracker;
pub mod zeek;

pub use analyzer::{Analyzer, Config};
pub use error::Error;
pub use event::{FlowAssembler, FlowEvent};
pub use flow::{ConnState, DnsTxn, Flow, Proto};
pub use model::{Evidence, State};
pub use net::LocalNets;
pub use report::Report;
pub use session::Session;
pub use skip::Skipped;
