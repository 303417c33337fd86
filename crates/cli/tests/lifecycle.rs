//! `secdispatch lifecycle analyze | watch` as users run them: exit codes, the JSON shape,
//! the HTML report, containment, bad input, and live flow events over TCP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_secdispatch"));
    c.env_remove("SECDISPATCH_CONFIG")
        .env_remove("SECDISPATCH_DATA_DIR")
        .env_remove("RUST_LOG");
    c
}

fn run(args: &[&str], dir: &Path) -> Output {
    bin().args(args).current_dir(dir).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const HEADER: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n";

/// A conn.log: 10.0.0.66 scans port 445 on 12 hosts; 10.0.0.5 beacons to 93.184.216.34
/// every 60 s for two hours.
fn synthetic_log(dir: &Path, extra: &str) -> PathBuf {
    let mut log = String::from(HEADER);
    for i in 1..=12 {
        log.push_str(&format!(
            "{}.5\tS{i}\t10.0.0.66\t{}\t10.0.1.{i}\t445\ttcp\t-\t-\t-\t-\tS0\tS\t1\t60\t0\t0\n",
            1_700_000_000 + i,
            40_000 + i
        ));
    }
    for i in 0..120 {
        log.push_str(&format!("{}.1\tB{i}\t10.0.0.5\t{}\t93.184.216.34\t443\ttcp\tssl\t0.3\t517\t4120\tSF\tShADadFf\t6\t837\t5\t4320\n", 1_700_000_000 + i * 60, 50_000 + i));
    }
    log.push_str(extra);
    let p = dir.join("conn.log");
    std::fs::write(&p, log).unwrap();
    p
}

#[test]
fn json_has_the_issue_shape() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_log(dir.path(), "");
    let o = run(
        &["lifecycle", "analyze", "conn.log", "--format", "json"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let hosts = v["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    // Most severe first: the beaconing host.
    assert_eq!(hosts[0]["host"], "10.0.0.5");
    assert_eq!(hosts[0]["state"], "control");
    assert_eq!(hosts[0]["path"], serde_json::json!(["control"]));
    let score = hosts[0]["score"].as_f64().unwrap();
    assert!((0.9..=1.0).contains(&score), "{score}");
    let ev = &hosts[0]["evidence"][0];
    assert_eq!(ev["kind"], "beacon");
    assert_eq!(ev["host"], "10.0.0.5");
    assert_eq!(ev["state"], "control");
    assert!(ev["window"]["start"].as_f64().unwrap() < ev["window"]["end"].as_f64().unwrap());
    assert_eq!(ev["flows"].as_array().unwrap().len(), 20);
    assert_eq!(ev["flow_count"], 120);
    assert_eq!(hosts[1]["host"], "10.0.0.66");
    assert_eq!(hosts[1]["state"], "discovery");
    assert_eq!(hosts[1]["evidence"][0]["kind"], "horizontal_scan");
    assert_eq!(v["skipped"]["count"], 0);
}

#[test]
fn text_is_the_default_and_skips_set_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_log(
        dir.path(),
        "not\ta\trow\n1700000001.0\tX\tnot-an-ip\t1\t10.0.0.1\t80\ttcp\t-\t-\t-\t-\tS0\tS\t1\t60\t0\t0\n",
    );
    let o = run(&["lifecycle", "analyze", "conn.log"], dir.path());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(t.contains("10.0.0.5  CONTROL"), "{t}");
    assert!(t.contains("10.0.0.66  DISCOVERY"), "{t}");
    assert!(t.contains("skipped 2 records"), "{t}");
    assert!(t.contains("wrong column count"), "{t}");
    assert!(t.contains("bad field"), "{t}");
}

#[test]
fn html_is_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_log(dir.path(), "");
    let o = run(
        &[
            "lifecycle",
            "analyze",
            ".",
            "--format",
            "html",
            "--out",
            "r.html",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let h = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(h.starts_with("<!DOCTYPE html>"));
    assert!(
        h.contains("<svg")
            && h.contains("aria-label=\"timeline\"")
            && h.contains("aria-label=\"histogram\"")
    );
    assert!(
        !h.contains("<script")
            && !h.contains("src=\"http")
            && !h.contains("href=\"http")
            && !h.contains("<link")
    );
    // --out does not replace without --force.
    let o = run(
        &[
            "lifecycle",
            "analyze",
            ".",
            "--format",
            "html",
            "--out",
            "r.html",
        ],
        dir.path(),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("exists; pass --force"));
}

#[test]
fn containment_and_nftables() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_log(dir.path(), "");
    let o = run(
        &["lifecycle", "analyze", "conn.log", "--containment"],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(
        t.contains("host 10.0.0.5 (control)") && t.contains("peer 93.184.216.34"),
        "{t}"
    );
    assert!(
        !t.contains("10.0.0.66"),
        "discovery alone is watched, not isolated: {t}"
    );
    let o = run(
        &[
            "lifecycle",
            "analyze",
            "conn.log",
            "--containment",
            "--nftables",
        ],
        dir.path(),
    );
    let t = stdout(&o);
    assert!(
        t.contains("table inet secdispatch_lifecycle")
            && t.contains("elements = { 10.0.0.5 }")
            && t.contains("elements = { 93.184.216.34 }"),
        "{t}"
    );
    let o = run(
        &["lifecycle", "analyze", "conn.log", "--nftables"],
        dir.path(),
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "--nftables requires --containment"
    );
}

#[test]
fn time_bounds_and_local_nets() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_log(dir.path(), "");
    let o = run(
        &[
            "lifecycle",
            "analyze",
            "conn.log",
            "--format",
            "json",
            "--since",
            "2023-11-14T22:14:00Z",
        ],
        dir.path(),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        v["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["host"] != "10.0.0.66"),
        "the scan is before --since"
    );
    // With 93.184.0.0/16 declared local too, the beacon is internal: not analysed.
    let o = run(
        &[
            "lifecycle",
            "analyze",
            "conn.log",
            "--format",
            "json",
            "--local-nets",
            "10.0.0.0/8,93.184.0.0/16",
        ],
        dir.path(),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        v["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["state"] != "control")
    );
    let o = run(
        &[
            "lifecycle",
            "analyze",
            "conn.log",
            "--local-nets",
            "10.0.0.0/40",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("invalid network"), "{}", stderr(&o));
    let o = run(
        &["lifecycle", "analyze", "conn.log", "--since", "tomorrow"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let o = run(&["lifecycle", "analyze", "missing.pcap"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: cannot read missing.pcap"),
        "{}",
        stderr(&o)
    );
}

/// A legacy pcap of Ethernet/IPv4/TCP SYNs from 192.168.5.5 to port 22 on 8 hosts, the last
/// record cut short.
fn scan_pcap() -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    f.extend_from_slice(&[
        2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ]);
    for i in 1..=8u8 {
        let mut fr = vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00];
        fr.extend_from_slice(&[
            0x45,
            0,
            0,
            40,
            0,
            1,
            0x40,
            0,
            64,
            6,
            0,
            0,
            192,
            168,
            5,
            5,
            192,
            168,
            5,
            100 + i,
        ]);
        fr.extend_from_slice(&[
            0x9c,
            0x40 + i,
            0,
            22,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            0,
            0x50,
            0x02,
            0xff,
            0xff,
            0,
            0,
            0,
            0,
        ]);
        f.extend_from_slice(&(1_700_000_000u32 + u32::from(i)).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(&(fr.len() as u32).to_le_bytes());
        f.extend_from_slice(&fr);
    }
    f.truncate(f.len() - 7);
    f
}

#[test]
fn truncated_pcap_is_analysed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("scan.pcap"), scan_pcap()).unwrap();
    let o = run(
        &["lifecycle", "analyze", "scan.pcap", "--format", "json"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["hosts"][0]["host"], "192.168.5.5");
    assert_eq!(v["hosts"][0]["state"], "discovery");
    assert_eq!(
        v["hosts"][0]["evidence"][0]["details"]["unanswered_targets"],
        7
    );
    assert_eq!(v["skipped"]["count"], 1);
    assert_eq!(v["skipped"]["examples"][0]["source"], "scan.pcap");
    // Garbage is a Zeek log with no header: every line skipped, never a crash.
    std::fs::write(
        dir.path().join("junk.bin"),
        [0u8, 159, 146, 150, 10, 255, 10, 1, 2],
    )
    .unwrap();
    let o = run(&["lifecycle", "analyze", "junk.bin"], dir.path());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
}

fn shared() -> Option<PathBuf> {
    let dir = match std::env::var_os("SECDISPATCH_SHARED_DATA") {
        Some(d) => PathBuf::from(d).join("lifecycle"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/lifecycle"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: shared data not found at {} (set SECDISPATCH_SHARED_DATA)",
            dir.display()
        );
        None
    }
}

#[test]
fn shared_captures_and_log_set() {
    let Some(data) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        &[
            "lifecycle",
            "analyze",
            data.join("beacon-tls-2s.pcap").to_str().unwrap(),
            "--local-nets",
            "147.32.0.0/16",
            "--format",
            "json",
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["hosts"][0]["host"], "147.32.80.37");
    assert_eq!(v["hosts"][0]["state"], "control");
    assert!(v["hosts"][0]["score"].as_f64().unwrap() >= 0.9);
    // The proxy log set, given as a directory.
    let o = run(
        &[
            "lifecycle",
            "analyze",
            data.join("zeek-proxy").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(t.contains("10.136.0.18  CONTROL"), "{t}");
    assert!(
        t.contains("www.honestimnotevil.com through proxy 10.136.0.16:3128"),
        "{t}"
    );
    assert!(
        t.contains("10.136.0.18 → www.google.com  score 0.586"),
        "{t}"
    );
}

#[test]
fn watch_shows_states_from_flow_events() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args([
            "lifecycle",
            "watch",
            "--flows",
            "127.0.0.1:0",
            "--refresh-ms",
            "100",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    let addr = first.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(
        first.starts_with("listening for flow events on 127.0.0.1:"),
        "{first}"
    );
    let mut s = TcpStream::connect(&addr).unwrap();
    for i in 1..=8 {
        let open = format!(
            r#"{{"v":1,"event":"open","id":"lb-{i}","ts":{}.0,"src":"192.168.9.9:{}","dst":"192.168.9.{}:3389","reporter":"lb"}}"#,
            1_700_000_000 + i,
            40_000 + i,
            100 + i
        );
        let close = format!(
            r#"{{"v":1,"event":"close","id":"lb-{i}","ts":{}.5,"src":"192.168.9.9:{}","dst":"192.168.9.{}:3389","reporter":"lb","orig_bytes":0,"resp_bytes":0,"conn_state":"S0"}}"#,
            1_700_000_000 + i,
            40_000 + i,
            100 + i
        );
        writeln!(s, "{open}\n{close}").unwrap();
    }
    writeln!(s, "this is not an event").unwrap();
    s.flush().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut line = String::new();
    let mut found = false;
    while Instant::now() < deadline {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.starts_with("192.168.9.9 unknown → discovery") {
            found = true;
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(found, "last line: {line}");
    assert!(
        line.contains("Horizontal port scan to port 3389/TCP"),
        "{line}"
    );
}
