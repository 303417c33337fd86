//! `secdispatch ca` and `secdispatch pki` as an operator uses them, with OpenSSL as an
//! independent parser of what the CA makes (skipped when openssl is absent unless
//! SECDISPATCH_REQUIRE_SERVICES=1).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

fn sd(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_secdispatch"))
        .args(["-q"])
        .args(args)
        .current_dir(dir)
        .env_remove("SECDISPATCH_CONFIG")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn openssl() -> Option<&'static str> {
    if Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some("openssl");
    }
    assert!(
        std::env::var("SECDISPATCH_REQUIRE_SERVICES").as_deref() != Ok("1"),
        "SECDISPATCH_REQUIRE_SERVICES=1 but openssl is not installed"
    );
    println!("skipped: openssl is not installed");
    None
}

#[test]
fn algs_lists_every_algorithm_with_its_oid() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(&sd(dir.path(), &["pki", "algs"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 31, "{out}");
    assert!(
        lines.contains(&"id-MLDSA65-ECDSA-P256-SHA512 1.3.6.1.5.5.7.6.45"),
        "{out}"
    );
    assert!(
        lines.contains(&"id-ML-DSA-65 2.16.840.1.101.3.4.3.18"),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("ecdsa-p256-sha256 ")),
        "{out}"
    );
}

#[test]
fn composite_ca_issues_revokes_and_chains_validate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&sd(
        d,
        &[
            "ca",
            "init",
            "--subject",
            "CN=Test Root,O=T",
            "-o",
            "root.pem",
        ],
    ));
    ok(&sd(
        d,
        &[
            "ca",
            "intermediate",
            "--name",
            "issuing",
            "--subject",
            "CN=Issuing,O=T",
            "--sequential-serials",
            "-o",
            "int.pem",
        ],
    ));
    ok(&sd(
        d,
        &[
            "ca",
            "issue",
            "--ca",
            "issuing",
            "--subject",
            "CN=www",
            "--san",
            "DNS:www.test",
            "--key-out",
            "www.key",
            "-o",
            "www.pem",
        ],
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(d.join("www.key"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    // An ML-DSA client through a CSR.
    ok(&sd(
        d,
        &["pki", "keygen", "--alg", "id-ML-DSA-44", "-o", "ml.key"],
    ));
    ok(&sd(
        d,
        &[
            "pki",
            "csr",
            "--key",
            "ml.key",
            "--subject",
            "CN=ml client",
            "-o",
            "ml.csr",
        ],
    ));
    ok(&sd(
        d,
        &[
            "ca",
            "issue",
            "--ca",
            "issuing",
            "--csr",
            "ml.csr",
            "--profile",
            "client",
            "-o",
            "ml.pem",
        ],
    ));

    let v = ok(&sd(
        d,
        &[
            "pki",
            "verify-chain",
            "--roots",
            "root.pem",
            "www.pem",
            "int.pem",
            "--host",
            "www.test",
        ],
    ));
    assert!(v.starts_with("OK: 3 certificate(s)"), "{v}");
    let wrong_host = sd(
        d,
        &[
            "pki",
            "verify-chain",
            "--roots",
            "root.pem",
            "www.pem",
            "int.pem",
            "--host",
            "evil.test",
        ],
    );
    assert_eq!(wrong_host.status.code(), Some(1));
    let too_late = sd(
        d,
        &[
            "pki",
            "verify-chain",
            "--roots",
            "root.pem",
            "www.pem",
            "int.pem",
            "--at",
            "4102444800",
        ],
    );
    assert!(
        String::from_utf8_lossy(&too_late.stderr).contains("expired"),
        "{}",
        String::from_utf8_lossy(&too_late.stderr)
    );
    // Experimental policy: a composite chain satisfies classical AND PQ.
    ok(&sd(
        d,
        &[
            "pki",
            "verify-chain",
            "--roots",
            "root.pem",
            "www.pem",
            "int.pem",
            "--policy",
            "and",
        ],
    ));

    let list = ok(&sd(d, &["ca", "list", "--ca", "issuing"]));
    assert!(
        list.contains("01 ") && list.contains("02 "),
        "sequential serials: {list}"
    );
    assert!(
        ok(&sd(d, &["ca", "revoke", "02", "--reason", "keyCompromise"]))
            .starts_with("revoked 02 of issuing")
    );
    assert!(ok(&sd(d, &["ca", "revoke", "02"])).contains("already revoked"));
    let bad_reason = sd(d, &["ca", "revoke", "01", "--reason", "bored"]);
    assert_eq!(bad_reason.status.code(), Some(1));
    ok(&sd(d, &["ca", "crl", "--ca", "issuing", "-o", "crl.pem"]));
    let revoked = sd(
        d,
        &[
            "pki",
            "verify-chain",
            "--roots",
            "root.pem",
            "ml.pem",
            "int.pem",
            "--crl",
            "crl.pem",
        ],
    );
    assert_eq!(revoked.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&revoked.stderr).contains("revoked"));
    let inspect = ok(&sd(d, &["pki", "inspect", "crl.pem"]));
    assert!(inspect.contains("revoked 02"), "{inspect}");
    let inspect = ok(&sd(d, &["pki", "inspect", "root.pem"]));
    assert!(
        inspect.contains("id-MLDSA65-ECDSA-P256-SHA512"),
        "{inspect}"
    );

    if let Some(openssl) = openssl() {
        for f in ["root.pem", "int.pem", "www.pem", "ml.pem"] {
            let o = Command::new(openssl)
                .args(["x509", "-noout", "-text", "-in"])
                .arg(d.join(f))
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "openssl cannot parse {f}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

#[test]
fn classical_ca_output_verifies_with_openssl() {
    let Some(openssl) = openssl() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(&sd(
        d,
        &[
            "ca",
            "init",
            "--alg",
            "ecdsa-p384-sha384",
            "--subject",
            "CN=Classic Root",
            "-o",
            "root.pem",
        ],
    ));
    ok(&sd(
        d,
        &[
            "ca",
            "issue",
            "--subject",
            "CN=svc",
            "--san",
            "DNS:svc.test",
            "--key-out",
            "svc.key",
            "-o",
            "svc.pem",
        ],
    ));
    let o = Command::new(openssl)
        .args(["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile"])
        .arg(d.join("root.pem"))
        .arg(d.join("svc.pem"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // Random serials: revoke by the serial the listing shows.
    let list = ok(&sd(d, &["ca", "list", "--ca", "root"]));
    let serial = list
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!((20..=32).contains(&serial.len()), "16 random bytes: {list}");
    ok(&sd(d, &["ca", "revoke", &serial, "--reason", "superseded"]));
    assert!(
        ok(&sd(d, &["ca", "list", "--ca", "root", "--revoked"])).contains("revoked (superseded)")
    );
}
