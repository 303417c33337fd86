//! Zeek logs — conn, dns, ssl, http (and x509, parsed and counted) — in Zeek's TSV format
//! (header lines `#separator`, `#set_separator`, `#empty_field`, `#unset_field`, `#path`,
//! `#fields`, `#types`, optional `#close`) and as JSON lines, into the flow model.
//!
//! Field order always comes from `#fields`; `-` is unset and `(empty)` an empty set;
//! timestamps may be relative and rows unsorted; JSON rows may omit unset fields and carry
//! extra ones, and `ts` may be a number or an ISO 8601 string. A log *set* (the files of
//! one Zeek run) is joined on `uid`: read the ssl and http logs first
//! ([`LogKind::read_order`]), then stream conn.log — each connection comes out with its TLS
//! server name and HTTP request (CONNECT = proxied). DNS rows become [`DnsTxn`]s of their
//! own, since dns.log need not come from the same capture.
//!
//! Lines that cannot be used (wrong column count, bad address or time, invalid JSON) are
//! skipped and counted; reading goes on.

use std::borrow::Cow;
use std::io::BufRead;
use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::flow::{ConnState, DnsTxn, Flow, HttpInfo, Proto, TlsInfo};
use crate::hash::FxHashMap;
use crate::http::strip_port;
use crate::net::parse_rfc3339;
use crate::skip::Skipped;

/// Which log a file is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LogKind {
    /// conn.log: the connections.
    Conn,
    /// dns.log.
    Dns,
    /// ssl.log: TLS server names.
    Ssl,
    /// http.log: methods, hosts, CONNECT.
    Http,
    /// x509.log: parsed and counted only.
    X509,
    /// Any other log: parsed and counted only.
    Other(String),
}

impl LogKind {
    /// From a `#path` value or a file name's stem (`conn`, `conn.00:00:00-01:00:00`, ...).
    pub fn from_name(name: &str) -> LogKind {
        let base = name.rsplit('/').next().unwrap_or(name);
        let stem = base.split('.').next().unwrap_or(base);
        match stem {
            "conn" => LogKind::Conn,
            "dns" => LogKind::Dns,
            "ssl" => LogKind::Ssl,
            "http" => LogKind::Http,
            "x509" => LogKind::X509,
            other => LogKind::Other(other.to_owned()),
        }
    }

    /// Read order within a set: logs joined onto conn.log come before it.
    pub fn read_order(&self) -> u8 {
        match self {
            LogKind::Ssl | LogKind::Http => 0,
            LogKind::Dns | LogKind::X509 | LogKind::Other(_) => 1,
            LogKind::Conn => 2,
        }
    }

    fn from_json_keys(m: &Map<String, Value>) -> LogKind {
        if m.contains_key("conn_state") || m.contains_key("orig_ip_bytes") {
            LogKind::Conn
        } else if m.contains_key("qtype") || m.contains_key("query") {
            LogKind::Dns
        } else if m.contains_key("server_name") || m.contains_key("cipher") {
            LogKind::Ssl
        } else if m.contains_key("method") || m.contains_key("status_code") {
            LogKind::Http
        } else if m.contains_key("certificate.subject") {
            LogKind::X509
        } else {
            LogKind::Other("unknown".into())
        }
    }
}

/// What a log produced.
#[derive(Debug, Clone)]
pub enum Record {
    /// A conn.log row, joined with its ssl/http rows.
    Flow(Box<Flow>),
    /// A dns.log row.
    Dns(DnsTxn),
}

/// Counters for one log file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogStats {
    /// The kind read.
    pub kind: Option<String>,
    /// Data rows read successfully.
    pub rows: u64,
}

/// The ssl and http rows of a set, waiting for their connections.
#[derive(Debug, Default)]
pub struct ZeekSet {
    ssl: FxHashMap<String, TlsInfo>,
    http: FxHashMap<String, HttpInfo>,
}

#[derive(Debug)]
struct Tsv {
    sep: String,
    set_sep: String,
    empty: String,
    unset: String,
    fields: FxHashMap<String, usize>,
    nfields: usize,
}

impl Default for Tsv {
    fn default() -> Self {
        Tsv {
            sep: "\t".into(),
            set_sep: ",".into(),
            empty: "(empty)".into(),
            unset: "-".into(),
            fields: FxHashMap::default(),
            nfields: 0,
        }
    }
}

/// One row, TSV or JSON, with typed accessors.
enum Row<'a> {
    Tsv(&'a Tsv, Vec<&'a str>),
    Json(Map<String, Value>),
}

impl Row<'_> {
    fn str(&self, k: &str) -> Option<Cow<'_, str>> {
        match self {
            Row::Tsv(t, cols) => {
                let v = *cols.get(*t.fields.get(k)?)?;
                if v == t.unset {
                    None
                } else if v == t.empty {
                    Some(Cow::Borrowed(""))
                } else {
                    Some(Cow::Borrowed(v))
                }
            }
            Row::Json(m) => match m.get(k)? {
                Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                Value::Number(n) => Some(Cow::Owned(n.to_string())),
                Value::Bool(b) => Some(Cow::Borrowed(if *b { "T" } else { "F" })),
                Value::Array(a) => Some(Cow::Owned(
                    a.iter()
                        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                        .collect::<Vec<_>>()
                        .join(","),
                )),
                _ => None,
            },
        }
    }

    fn list(&self, k: &str) -> Vec<String> {
        let sep = match self {
            Row::Tsv(t, _) => t.set_sep.as_str(),
            Row::Json(_) => ",",
        };
        match self.str(k) {
            Some(s) if !s.is_empty() => s.split(sep).map(str::to_owned).collect(),
            _ => Vec::new(),
        }
    }

    fn u64(&self, k: &str) -> Result<u64, String> {
        match self.str(k) {
            None => Ok(0),
            Some(s) => s.parse::<u64>().map_err(|_| format!("bad field: {k}={s}")),
        }
    }

    fn f64(&self, k: &str) -> Result<Option<f64>, String> {
        match self.str(k) {
            None => Ok(None),
            Some(s) => s
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .or_else(|| parse_rfc3339(&s))
                .map(Some)
                .ok_or_else(|| format!("bad field: {k}={s}")),
        }
    }

    fn ts(&self) -> Result<f64, String> {
        self.f64("ts")?
            .ok_or_else(|| "missing field: ts".to_owned())
    }

    fn addr(&self, k: &str) -> Result<IpAddr, String> {
        let s = self.str(k).ok_or_else(|| format!("missing field: {k}"))?;
        s.parse().map_err(|_| format!("bad field: {k}={s}"))
    }

    fn port(&self, k: &str) -> Result<u16, String> {
        match self.str(k) {
            None => Ok(0),
            Some(s) => s.parse().map_err(|_| format!("bad field: {k}={s}")),
        }
    }
}

/// `TLSv13` → 0x0304, `TLSv12` → 0x0303, ...
fn tls_version(s: &str) -> u16 {
    match s {
        "TLSv13" => 0x0304,
        "TLSv12" => 0x0303,
        "TLSv11" => 0x0302,
        "TLSv10" => 0x0301,
        "SSLv3" => 0x0300,
        _ => 0,
    }
}

impl ZeekSet {
    /// An empty set.
    pub fn new() -> ZeekSet {
        ZeekSet::default()
    }

    /// Read one log. `hint` is the kind told by the file name (JSON logs have no `#path`);
    /// `emit` receives conn and dns records. Errors only on read failures of the source.
    pub fn read_log<R: BufRead>(
        &mut self,
        mut reader: R,
        source: &str,
        hint: Option<LogKind>,
        skipped: &mut Skipped,
        emit: &mut dyn FnMut(Record),
    ) -> Result<LogStats, Error> {
        let mut tsv = Tsv::default();
        let mut kind = hint.filter(|k| !matches!(k, LogKind::Other(_)));
        let mut stats = LogStats::default();
        let mut buf = Vec::new();
        let mut lineno = 0u64;
        let mut last_ts = f64::NEG_INFINITY;
        loop {
            buf.clear();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                break;
            }
            lineno += 1;
            let Ok(line) = std::str::from_utf8(&buf) else {
                skipped.skip(source, || format!("line {lineno}"), "invalid UTF-8");
                continue;
            };
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                continue;
            }
            if let Some(h) = line.strip_prefix('#') {
                header(&mut tsv, &mut kind, h);
                continue;
            }
            let row = if line.starts_with('{') {
                match serde_json::from_str::<Map<String, Value>>(line) {
                    Ok(m) => {
                        if kind.is_none() {
                            kind = Some(LogKind::from_json_keys(&m));
                        }
                        Row::Json(m)
                    }
                    Err(e) => {
                        skipped.skip(
                            source,
                            || format!("line {lineno}"),
                            &format!("invalid JSON: {e}"),
                        );
                        continue;
                    }
                }
            } else {
                if tsv.nfields == 0 {
                    skipped.skip(
                        source,
                        || format!("line {lineno}"),
                        "TSV row before a #fields header",
                    );
                    continue;
                }
                let cols: Vec<&str> = line.split(tsv.sep.as_str()).collect();
                if cols.len() != tsv.nfields {
                    let n = cols.len();
                    let want = tsv.nfields;
                    skipped.skip(
                        source,
                        || format!("line {lineno}"),
                        &format!("wrong column count: {n}, #fields has {want}"),
                    );
                    continue;
                }
                Row::Tsv(&tsv, cols)
            };
            let k = kind.clone().unwrap_or(LogKind::Other("unknown".into()));
            let res = match &k {
                LogKind::Conn => conn_row(&row, self).map(|f| {
                    if f.ts < last_ts {
                        skipped.out_of_order += 1;
                    }
                    last_ts = last_ts.max(f.ts);
                    emit(Record::Flow(Box::new(f)));
                }),
                LogKind::Dns => dns_row(&row).map(|d| emit(Record::Dns(d))),
                LogKind::Ssl => ssl_row(&row).map(|(uid, t)| {
                    self.ssl.entry(uid).or_insert(t);
                }),
                LogKind::Http => http_row(&row).map(|(uid, h)| {
                    self.http.entry(uid).or_insert(h);
                }),
                LogKind::X509 | LogKind::Other(_) => row.ts().map(|_| ()),
            };
            match res {
                Ok(()) => stats.rows += 1,
                Err(reason) => skipped.skip(source, || format!("line {lineno}"), &reason),
            }
        }
        stats.kind = kind.map(|k| match k {
            LogKind::Conn => "conn".to_owned(),
            LogKind::Dns => "dns".to_owned(),
            LogKind::Ssl => "ssl".to_owned(),
            LogKind::Http => "http".to_owned(),
            LogKind::X509 => "x509".to_owned(),
            LogKind::Other(o) => o,
        });
        Ok(stats)
    }
}

fn unescape(s: &str) -> String {
    // `\x09` style escapes in #separator.
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\\x") {
        out.push_str(&rest[..i]);
        let hex = rest
            .get(i + 2..i + 4)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                out.push(char::from(b));
                rest = &rest[i + 4..];
            }
            None => {
                out.push_str("\\x");
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn header(tsv: &mut Tsv, kind: &mut Option<LogKind>, h: &str) {
    if let Some(v) = h.strip_prefix("separator ") {
        let sep = unescape(v.trim());
        if !sep.is_empty() {
            tsv.sep = sep;
        }
        return;
    }
    let Some((key, val)) = h.split_once(tsv.sep.as_str()) else {
        return;
    };
    match key {
        "set_separator" => tsv.set_sep = val.to_owned(),
        "empty_field" => tsv.empty = val.to_owned(),
        "unset_field" => tsv.unset = val.to_owned(),
        "path" => *kind = Some(LogKind::from_name(val)),
        "fields" => {
            tsv.fields = val
                .split(tsv.sep.as_str())
                .enumerate()
                .map(|(i, f)| (f.to_owned(), i))
                .collect();
            tsv.nfields = tsv.fields.len();
        }
        _ => {}
    }
}

fn conn_row(r: &Row<'_>, set: &mut ZeekSet) -> Result<Flow, String> {
    let ts = r.ts()?;
    let uid = r
        .str("uid")
        .map(|s| s.into_owned())
        .unwrap_or_else(|| format!("Z{}", ts));
    let proto = Proto::parse(&r.str("proto").unwrap_or_default());
    let mut f = Flow::new(
        uid,
        ts,
        proto,
        (r.addr("id.orig_h")?, r.port("id.orig_p")?),
        (r.addr("id.resp_h")?, r.port("id.resp_p")?),
    );
    f.duration = r.f64("duration")?.unwrap_or(0.0).max(0.0);
    f.service = r
        .str("service")
        .filter(|s| !s.is_empty())
        .map(|s| s.into_owned());
    f.orig_bytes = r.u64("orig_bytes")?;
    f.resp_bytes = r.u64("resp_bytes")?;
    f.orig_pkts = r.u64("orig_pkts")?;
    f.resp_pkts = r.u64("resp_pkts")?;
    f.orig_ip_bytes = r.u64("orig_ip_bytes")?;
    f.resp_ip_bytes = r.u64("resp_ip_bytes")?;
    f.conn_state = r.str("conn_state").and_then(|s| ConnState::parse(&s));
    f.history = r.str("history").map(|s| s.into_owned()).unwrap_or_default();
    if let Some(t) = set.ssl.remove(&f.uid) {
        f.tls = Some(t);
    }
    if let Some(h) = set.http.remove(&f.uid) {
        f.proxied = h.method == "CONNECT";
        f.http = Some(h);
    }
    Ok(f)
}

fn dns_row(r: &Row<'_>) -> Result<DnsTxn, String> {
    Ok(DnsTxn {
        ts: r.ts()?,
        client: r.addr("id.orig_h")?,
        server: r.addr("id.resp_h")?,
        query: r
            .str("query")
            .map(|s| s.trim_end_matches('.').to_ascii_lowercase())
            .unwrap_or_default(),
        qtype: r.str("qtype").and_then(|s| s.parse().ok()).unwrap_or(0),
        rcode: r.str("rcode").and_then(|s| s.parse().ok()),
        answers: r
            .list("answers")
            .iter()
            .filter_map(|a| a.parse().ok())
            .collect(),
    })
}

fn ssl_row(r: &Row<'_>) -> Result<(String, TlsInfo), String> {
    r.ts()?;
    let uid = r.str("uid").ok_or("missing field: uid")?.into_owned();
    Ok((
        uid,
        TlsInfo {
            sni: r
                .str("server_name")
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_end_matches('.').to_ascii_lowercase()),
            version: tls_version(&r.str("version").unwrap_or_default()),
            ja3: r.str("ja3").map(|s| s.into_owned()).unwrap_or_default(),
            ..TlsInfo::default()
        },
    ))
}

fn http_row(r: &Row<'_>) -> Result<(String, HttpInfo), String> {
    r.ts()?;
    let uid = r.str("uid").ok_or("missing field: uid")?.into_owned();
    let method = r.str("method").map(|s| s.into_owned()).unwrap_or_default();
    let uri = r.str("uri").map(|s| s.into_owned()).unwrap_or_default();
    let host = r
        .str("host")
        .filter(|s| !s.is_empty())
        .map(|s| strip_port(&s))
        .or_else(|| (method == "CONNECT" && !uri.is_empty()).then(|| strip_port(&uri)));
    Ok((
        uid,
        HttpInfo {
            method,
            host,
            uri,
            user_agent: r.str("user_agent").map(|s| s.into_owned()),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN_TSV: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tstring\tcount\tcount\tcount\tcount\tset[string]\n\
929.267228\tCW9\t10.0.2.112\t49171\t151.97.100.116\t6898\ttcp\t-\t-\t-\t-\tS0\tS\t1\t52\t0\t0\t(empty)\n\
928.9\tCa\t10.0.2.112\t49168\t195.113.214.219\t80\ttcp\thttp\t0.05\t261\t1077\tSF\tShADadfF\t5\t473\t5\t1281\t(empty)\n\
bad\tline\n\
x\tCb\t10.0.2.112\t1\t1.2.3.4\t80\ttcp\t-\t-\t-\t-\tS0\tS\t1\t52\t0\t0\t(empty)\n";

    fn read(
        set: &mut ZeekSet,
        text: &str,
        hint: Option<LogKind>,
    ) -> (Vec<Record>, Skipped, LogStats) {
        let mut out = Vec::new();
        let mut s = Skipped::default();
        let st = set
            .read_log(text.as_bytes(), "t.log", hint, &mut s, &mut |r| out.push(r))
            .unwrap();
        (out, s, st)
    }

    #[test]
    fn tsv_conn_with_bad_lines() {
        let (recs, s, st) = read(&mut ZeekSet::new(), CONN_TSV, None);
        assert_eq!(st.rows, 2);
        assert_eq!(st.kind.as_deref(), Some("conn"));
        assert_eq!(s.count, 2, "{s:?}");
        assert_eq!(s.out_of_order, 1);
        let Record::Flow(f) = &recs[0] else { panic!() };
        assert_eq!(f.conn_state, Some(ConnState::S0));
        assert!(f.failed_attempt());
        assert_eq!(f.orig_ip_bytes, 52);
        let Record::Flow(g) = &recs[1] else { panic!() };
        assert_eq!(g.service.as_deref(), Some("http"));
        assert_eq!(g.history, "ShADadfF");
    }

    #[test]
    fn json_lines_join_ssl_and_http() {
        let mut set = ZeekSet::new();
        let http = r#"{"ts":1672843056.9,"uid":"C1","id.orig_h":"10.136.0.18","id.orig_p":5,"id.resp_h":"10.136.0.16","id.resp_p":3128,"method":"CONNECT","host":"www.google.com","uri":"www.google.com:443"}"#;
        let ssl = r#"{"ts":"2023-01-04T14:37:36.94Z","uid":"C1","server_name":"www.google.com","version":"TLSv13"}"#;
        let conn = r#"{"ts":1672843056.9,"uid":"C1","id.orig_h":"10.136.0.18","id.orig_p":5,"id.resp_h":"10.136.0.16","id.resp_p":3128,"proto":"tcp","conn_state":"SF","orig_ip_bytes":2012,"extra":[1,2]}
{"ts":1672843056.9,"uid":"C2","id.orig_h":"not-an-ip","id.resp_h":"10.136.0.16","conn_state":"SF"}
{"ts":1672843056.9,"#;
        read(&mut set, http, Some(LogKind::from_name("http.log")));
        read(&mut set, ssl, None);
        let (recs, s, st) = read(&mut set, conn, None);
        assert_eq!(st.rows, 1);
        assert_eq!(s.count, 2);
        let Record::Flow(f) = &recs[0] else { panic!() };
        assert!(f.proxied);
        assert_eq!(f.fqdn(), Some("www.google.com"));
        assert_eq!(f.tls.as_ref().map(|t| t.version), Some(0x0304));
        assert_eq!(f.orig_ip_bytes, 2012);
    }

    #[test]
    fn dns_rows_and_kinds() {
        let dns = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tqtype\trcode\tanswers\n\
1.0\tC\t192.168.1.2\t5\t8.8.8.8\t53\tWPAD.home\t1\t3\t-\n\
2.0\tD\t192.168.1.2\t5\t8.8.8.8\t53\texample.com\t1\t0\t93.184.216.34,example.net\n";
        let (recs, s, _) = read(&mut ZeekSet::new(), dns, None);
        assert!(!s.any());
        let Record::Dns(d) = &recs[0] else { panic!() };
        assert_eq!((d.query.as_str(), d.rcode), ("wpad.home", Some(3)));
        let Record::Dns(e) = &recs[1] else { panic!() };
        assert_eq!(e.answers.len(), 1);
        assert_eq!(
            LogKind::from_name("/x/conn.00:00:00-01:00:00.log.gz"),
            LogKind::Conn
        );
        assert!(LogKind::Ssl.read_order() < LogKind::Conn.read_order());
    }
}
