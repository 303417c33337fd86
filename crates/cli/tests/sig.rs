//! `secdispatch sig` against the RFC 9421 vectors of crates/httpsig.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../httpsig/tests/vectors")
}

fn v(name: &str) -> String {
    vectors().join(name).display().to_string()
}

fn sd(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_secdispatch"));
    c.args(args)
        .env_remove("SECDISPATCH_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(input).unwrap();
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().unwrap()
}

const B26: &str = r#""date" "@method" "@path" "@authority" "content-type" "content-length""#;

fn sign_b26() -> Vec<u8> {
    let o = sd(
        &[
            "sig",
            "sign",
            "--key",
            &v("test-key-ed25519.key.pem"),
            "--keyid",
            "test-key-ed25519",
            "--label",
            "sig-b26",
            "--created",
            "1618884473",
            "--components",
            B26,
            &v("test-request.http"),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

#[test]
fn sign_reproduces_b26_byte_for_byte() {
    let signed = String::from_utf8(sign_b26()).unwrap();
    let expected = std::fs::read_to_string(vectors().join("b26.signature.txt")).unwrap();
    assert!(signed.contains(expected.trim_end()), "{signed}");
    let input = std::fs::read_to_string(vectors().join("b26.signature-input.txt")).unwrap();
    assert!(signed.contains(input.trim_end()), "{signed}");
}

#[test]
fn base_is_exact_and_verify_reports_what_was_covered() {
    let signed = sign_b26();
    let o = sd(&["sig", "base", "--label", "sig-b26", "-"], Some(&signed));
    assert!(o.status.success());
    assert_eq!(
        o.stdout,
        std::fs::read(vectors().join("b26.base.txt")).unwrap()
    );

    let o = sd(
        &[
            "sig",
            "verify",
            "--key",
            &v("test-key-ed25519.pub.pem"),
            "-",
        ],
        Some(&signed),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.starts_with("signature \"sig-b26\" verified: alg ed25519"),
        "{out}"
    );
}

#[test]
fn verify_fails_with_exit_1_and_a_reason() {
    let signed = sign_b26();
    // Too old for --max-age.
    let o = sd(
        &[
            "sig",
            "verify",
            "--key",
            &v("test-key-ed25519.pub.pem"),
            "--max-age",
            "60",
            "-",
        ],
        Some(&signed),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("older than 60 s"));
    // As of its own time it verifies.
    let o = sd(
        &[
            "sig",
            "verify",
            "--key",
            &v("test-key-ed25519.pub.pem"),
            "--max-age",
            "60",
            "--now",
            "1618884480",
            "-",
        ],
        Some(&signed),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A tampered message does not.
    let tampered = String::from_utf8(signed)
        .unwrap()
        .replace("POST /foo", "POST /bar");
    let o = sd(
        &[
            "sig",
            "verify",
            "--key",
            &v("test-key-ed25519.pub.pem"),
            "-",
        ],
        Some(tampered.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(1));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.starts_with("error: verification failed"), "{e}");
    // A required component the signature lacks.
    let o = sd(
        &[
            "sig",
            "verify",
            "--key",
            &v("test-key-ed25519.pub.pem"),
            "--require",
            r#""@query""#,
            "-",
        ],
        Some(&sign_b26()),
    );
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn the_rfc_examples_verify_as_of_their_time() {
    // B.2.5 (HMAC, key file holds the base64 secret).
    let req = std::fs::read_to_string(vectors().join("test-request.http")).unwrap();
    let si = std::fs::read_to_string(vectors().join("b25.signature-input.txt")).unwrap();
    let sig = std::fs::read_to_string(vectors().join("b25.signature.txt")).unwrap();
    let (head, body) = req
        .split_once("\r\n\r\n")
        .or_else(|| req.split_once("\n\n"))
        .unwrap();
    let nl = if req.contains("\r\n") { "\r\n" } else { "\n" };
    let msg = format!(
        "{head}{nl}{}{nl}{}{nl}{nl}{body}",
        si.trim_end(),
        sig.trim_end()
    );
    let o = sd(
        &[
            "sig",
            "verify",
            "--key",
            &v("test-shared-secret.b64"),
            "--now",
            "1618884500",
            "-",
        ],
        Some(msg.as_bytes()),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn digest_adds_then_checks() {
    let raw = b"POST /x HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\n{}";
    let o = sd(&["sig", "digest", "-"], Some(raw));
    assert!(o.status.success());
    let with = String::from_utf8(o.stdout).unwrap();
    assert!(
        with.contains("Content-Digest: sha-256=:RBNvo1WzZ4oRRq0W9+hknpT7T8If536DEMBg9hyq/4o=:"),
        "{with}"
    );
    let o = sd(&["sig", "digest", "-"], Some(with.as_bytes()));
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("Content-Digest sha-256 matches"));
    let bad = with.replace("{}", "[]");
    let o = sd(&["sig", "digest", "-"], Some(bad.as_bytes()));
    assert_eq!(o.status.code(), Some(1));
}
