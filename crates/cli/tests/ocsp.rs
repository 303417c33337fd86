//! `secdispatch ocsp serve | query | import-index` as users run them: the responder from a
//! data directory, our client's output and exit codes (0 good, 1 revoked, 3 no valid
//! answer), and an OpenSSL CA's index.txt answered after import.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_secdispatch"));
    c.env_remove("SECDISPATCH_CONFIG")
        .env_remove("SECDISPATCH_DATA_DIR")
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    bin().args(args).current_dir(dir).output().unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Start `ocsp serve` on free ports; returns the child and the responder URL.
fn serve(dir: &Path) -> (Child, String) {
    let mut child = bin()
        .args([
            "-q",
            "ocsp",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--admin",
            "127.0.0.1:0",
        ])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches(',')
        .to_owned();
    (child, url)
}

fn stop(mut child: Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn serve_and_query_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&run(
        d,
        &[
            "ca",
            "init",
            "--alg",
            "ecdsa-p256-sha256",
            "--subject",
            "CN=CLI OCSP Root",
            "--sequential-serials",
            "--out",
            "root.pem",
        ],
    ));
    for name in ["a", "b"] {
        ok(&run(
            d,
            &[
                "ca",
                "issue",
                "--ca",
                "root",
                "--profile",
                "client",
                "--subject",
                &format!("CN={name}"),
                "--key-out",
                &format!("{name}.key"),
                "--out",
                &format!("{name}.pem"),
            ],
        ));
    }
    ok(&run(
        d,
        &["ca", "revoke", "02", "--reason", "keyCompromise"],
    ));
    let (child, url) = serve(d);
    let query = |extra: &[&str]| {
        let mut args = vec!["ocsp", "query", "--issuer", "root.pem", "--url", &url];
        args.extend(extra);
        run(d, &args)
    };
    let good = query(&["--cert", "a.pem", "--nonce"]);
    let text = ok(&good);
    assert!(
        text.contains("Response verify OK") && text.contains("a.pem: good"),
        "{text}"
    );
    let revoked = query(&["--cert", "b.pem", "--get", "--sha1"]);
    assert_eq!(revoked.status.code(), Some(1));
    let text = String::from_utf8_lossy(&revoked.stdout);
    assert!(
        text.contains("b.pem: revoked") && text.contains("Reason: keyCompromise"),
        "{text}"
    );
    let ranged = query(&["--cert", "a.pem", "--range", "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&ranged.stdout).unwrap();
    assert_eq!(doc["verified"], true);
    assert_eq!(doc["responses"][0]["status"], "good");
    assert_eq!(doc["responses"][0]["range"]["start"], 1);
    // A responder that is not ours for this issuer: no valid answer, exit 3.
    let wrong = run(
        d,
        &[
            "ocsp", "query", "--issuer", "a.pem", "--cert", "b.pem", "--url", &url,
        ],
    );
    assert_eq!(wrong.status.code(), Some(3), "{wrong:?}");
    stop(child);
}

#[test]
fn openssl_index_txt_is_imported_and_answered() {
    let has_openssl = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_openssl {
        if std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("openssl is required (SECDISPATCH_REQUIRE_SERVICES=1)");
        }
        println!("skipping: openssl not on PATH (needed to make the CA)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=Old CA",
            "-days",
            "30",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(o.status.success());
    std::fs::write(
        d.join("index.txt"),
        "V\t301231000000Z\t\t1001\tunknown\t/CN=x\n\
         R\t301231000000Z\t241201000000Z,keyCompromise\t1002\tunknown\t/CN=y\n",
    )
    .unwrap();
    let text = ok(&run(
        d,
        &[
            "ocsp",
            "import-index",
            "--authority",
            "old",
            "--ca-cert",
            "ca.pem",
            "--ca-key",
            "ca.key",
            "index.txt",
        ],
    ));
    assert!(text.contains("2 certificates added"), "{text}");
    let (child, url) = serve(d);
    let ask = |serial: &str| {
        let o = Command::new("openssl")
            .args([
                "ocsp", "-issuer", "ca.pem", "-serial", serial, "-url", &url, "-CAfile", "ca.pem",
            ])
            .current_dir(d)
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    let out = ask("0x1001");
    assert!(
        out.contains("Response verify OK") && out.contains("0x1001: good"),
        "{out}"
    );
    let out = ask("0x1002");
    assert!(
        out.contains("0x1002: revoked") && out.contains("keyCompromise"),
        "{out}"
    );
    let out = ask("0x1003");
    assert!(out.contains("unauthorized (6)"), "{out}");
    stop(child);
}
