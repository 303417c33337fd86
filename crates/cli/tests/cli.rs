//! The `secdispatch` binary as users run it: exit codes, one-line errors, files written,
//! and `up` starting, answering and stopping cleanly on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_secdispatch"));
    c.env_remove("SECDISPATCH_CONFIG")
        .env_remove("SECDISPATCH_DATA_DIR")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    c
}

fn run(args: &[&str], dir: &Path) -> Output {
    bin().args(args).current_dir(dir).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn version_prints_the_crate_version() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["version"], dir.path());
    assert!(o.status.success());
    assert!(stdout(&o).starts_with(&format!("secdispatch {}\n", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn help_exists_on_every_level() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["config", "--help"],
        &["config", "init", "--help"],
        &["up", "--help"],
        &["demo", "--help"],
    ] {
        let o = run(args, dir.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).contains("Usage: secdispatch"), "{args:?}");
    }
}

#[test]
fn config_init_writes_a_file_that_checks() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["config", "init", "--out", "sd.toml"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["config", "check", "sd.toml"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "sd.toml: ok\n");
    // Without --force an existing file is kept.
    let o = run(&["config", "init", "--out", "sd.toml"], dir.path());
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("exists; pass --force"),
        "{}",
        stderr(&o)
    );
    assert!(
        run(
            &["config", "init", "--out", "sd.toml", "--force"],
            dir.path()
        )
        .status
        .success()
    );
    // To stdout by default.
    let o = run(&["config", "init"], dir.path());
    assert!(stdout(&o).contains("[limits]"));
}

#[test]
fn bad_config_is_one_line_naming_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[store]\nurl = \"\"\nmax_conections = 3\n",
    )
    .unwrap();
    for args in [
        &["config", "check", "bad.toml"][..],
        &["--config", "bad.toml", "up"],
    ] {
        let o = run(args, dir.path());
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "one line: {e}");
        assert!(
            e.starts_with("error: bad.toml:3:1: store.max_conections: unknown field"),
            "{e}"
        );
    }
    std::fs::write(
        dir.path().join("type.toml"),
        "[limits]\nmax_body_bytes = -1\n",
    )
    .unwrap();
    let e = stderr(&run(&["config", "check", "type.toml"], dir.path()));
    assert!(
        e.contains("type.toml:2:") && e.contains("limits.max_body_bytes"),
        "{e}"
    );
}

#[test]
fn missing_config_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["--config", "nope.toml", "config", "show"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: cannot read config nope.toml: No such file or directory (os error 2)\n"
    );
}

#[test]
fn config_show_applies_flags_over_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("c.toml"),
        "data_dir = \"/from/file\"\n[log]\nformat = \"text\"\n",
    )
    .unwrap();
    let o = run(
        &[
            "--config",
            "c.toml",
            "--data-dir",
            "/from/flag",
            "--log-format",
            "json",
            "config",
            "show",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("data_dir = \"/from/flag\""), "{out}");
    assert!(out.contains("format = \"json\""), "{out}");
}

#[test]
fn unusable_data_dir_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "x").unwrap();
    let o = run(&["--data-dir", "file/sub", "up"], dir.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("error: cannot create data directory file/sub"),
        "{e}"
    );
}

#[test]
fn unreachable_postgres_is_a_one_line_error_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["-q", "up", "--admin", "127.0.0.1:0"])
        .env("DATABASE_URL", "postgres://sd:hunter2@127.0.0.1:1/sd")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.starts_with("error: cannot open store postgres://sd:***@127.0.0.1:1/sd"),
        "{e}"
    );
    assert!(!e.contains("hunter2"));
}

#[test]
fn unreachable_redis_replay_store_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sd.toml"),
        "[store]\nreplay = \"redis://:hunter2@127.0.0.1:1/0\"\nconnect_timeout = \"1s\"\n",
    )
    .unwrap();
    let o = bin()
        .args(["-q", "--config", "sd.toml", "up", "--admin", "127.0.0.1:0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("127.0.0.1:1"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");
}

#[test]
fn unknown_command_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["frobnicate"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}

fn wait_for(path: &Path, within: Duration) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && text.ends_with('\n')
        {
            return text;
        }
        assert!(
            start.elapsed() < within,
            "{} did not appear",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A minimal HTTP/1.1 GET over a raw socket.
fn http_get(url: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.strip_prefix("http://").unwrap();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn up_runs_writes_endpoints_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let child = bin()
        .args([
            "up",
            "--admin",
            "127.0.0.1:0",
            "--gateway",
            "127.0.0.1:0",
            "--backend-demo",
            "127.0.0.1:0",
            "--issuer",
            "127.0.0.1:0",
            "--lb",
            "127.0.0.1:0",
            "--watch",
            "127.0.0.1:0",
            "--ocsp",
            "127.0.0.1:0",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let endpoints = dir.path().join("secdispatch-data").join("endpoints.json");
    let doc: serde_json::Value =
        serde_json::from_str(&wait_for(&endpoints, Duration::from_secs(20))).unwrap();
    let admin = doc["services"]["admin"]["url"].as_str().unwrap().to_owned();
    assert_eq!(doc["pid"].as_u64(), Some(u64::from(child.id())));

    let health = http_get(&admin, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#""store":{"detail":"sqlite:"#), "{health}");
    for service in ["backend", "issuer", "ocsp", "lifecycle"] {
        assert!(
            health.contains(&format!(r#""{service}":{{"detail":"listening on "#)),
            "{service}: {health}"
        );
    }
    let metrics = http_get(&admin, "/metrics");
    assert!(metrics.contains("secdispatch_build_info"), "{metrics}");

    // Privacy Pass through the gateway: /private/ answers 401 with a PrivateToken
    // challenge; `token fetch` gets a token from the issuer and the backend answers.
    let gateway = doc["services"]["gateway"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let issuer = doc["services"]["issuer"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let directory = http_get(&issuer, "/.well-known/private-token-issuer-directory");
    assert!(directory.starts_with("HTTP/1.1 200"), "{directory}");
    let fetched = run(
        &["token", "fetch", &format!("{gateway}/private/hello")],
        dir.path(),
    );
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&fetched)).unwrap();
    assert_eq!(answer["path"], "/private/hello");
    assert!(answer["gateway_signature"]["keyid"].is_string(), "{answer}");
    // Through the TLS-LB load balancer: the gateway's front end verifies its header.
    let lb = doc["services"]["lb"]["url"].as_str().unwrap().to_owned();
    let via_lb = run(&["token", "fetch", &format!("{lb}/hello")], dir.path());
    assert!(via_lb.status.success(), "{}", stderr(&via_lb));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&via_lb)).unwrap();
    assert_eq!(answer["path"], "/hello");
    let metrics = http_get(&admin, "/metrics");
    assert!(
        metrics.contains(r#"secdispatch_front_end_accepted_total{via="tls-lb"} 1"#),
        "{metrics}"
    );
    // The lb's connections and the gateway's direct ones reach the lifecycle watcher as
    // flow events (open and close each).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = http_get(&admin, "/metrics");
        let events = m
            .lines()
            .find_map(|l| l.strip_prefix("secdispatch_lifecycle_events_total "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if events >= 4.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "flow events did not reach the watcher: {m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let curl = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-D", "-"])
        .arg(format!("{gateway}/private/hello"))
        .output();
    match curl {
        Ok(out) if out.status.success() => {
            let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
            assert!(
                head.starts_with("http/1.1 401") || head.starts_with("http/2 401"),
                "{head}"
            );
            assert!(
                head.contains("www-authenticate: privatetoken challenge="),
                "{head}"
            );
        }
        _ => println!("skipped the tokenless 401 check: curl is not available"),
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        stderr(&out)
    );
    let text = stdout(&out);
    assert!(text.contains("admin") && text.contains(&admin), "{text}");
    assert!(
        text.contains("gateway") && text.contains("backend") && text.contains("issuer"),
        "{text}"
    );
    for f in ["ca_certificate", "client_certificate", "client_key"] {
        assert!(
            std::path::Path::new(doc["files"][f].as_str().unwrap()).exists(),
            "{f}"
        );
    }
    assert!(text.ends_with("secdispatch up: stopped\n"), "{text}");
    assert!(
        !endpoints.exists(),
        "endpoints.json is removed on a clean stop"
    );
    // A second start reuses the data directory (the database is already migrated).
    let mut again = bin()
        .args([
            "-q",
            "up",
            "--admin",
            "127.0.0.1:0",
            "--gateway",
            "127.0.0.1:0",
            "--backend-demo",
            "127.0.0.1:0",
            "--issuer",
            "127.0.0.1:0",
            "--lb",
            "127.0.0.1:0",
            "--watch",
            "127.0.0.1:0",
            "--ocsp",
            "127.0.0.1:0",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&endpoints, Duration::from_secs(20));
    Command::new("kill")
        .args(["-INT", &again.id().to_string()])
        .status()
        .unwrap();
    let status = again.wait().unwrap();
    assert!(status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let db = dir.path().join("secdispatch-data").join("secdispatch.db");
        assert_eq!(
            std::fs::metadata(db).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

/// `demo` with no running `up` starts its own and passes every step: Privacy Pass, a
/// fresh client certificate (OCSP good), mTLS through the TLS-LB lb with the client
/// address delivered, revocation refused via OCSP, token replay refused.
#[test]
fn demo_passes_every_step_against_its_own_up() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(&["demo", "--json"], dir.path());
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["ok"], true);
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 5, "{doc}");
    assert!(steps.iter().all(|s| s["ok"] == true), "{doc}");
    let lb = &steps[2]["detail"]["backend"];
    assert!(
        lb["forwarded"]
            .as_str()
            .unwrap()
            .starts_with("for=127.0.0.2;"),
        "{lb}"
    );
    assert_eq!(steps[3]["detail"]["status"], 403);
    assert_eq!(steps[4]["detail"]["status"], 401);
    assert!(
        !dir.path().join("secdispatch-data").exists(),
        "the demo's own up used a temporary directory"
    );
}

/// With `TOKIO_WORKER_THREADS=1` every service runs on tokio's single-threaded scheduler
/// (what `bench/lb.sh` uses, as haproxy runs with `nbthread 1`): the whole demo still
/// passes, so nothing in the system waits on a second worker.
#[test]
fn demo_passes_on_the_single_threaded_scheduler() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["demo", "--json"])
        .env("TOKIO_WORKER_THREADS", "1")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["ok"], true, "{doc}");
}
