//! `secdispatch version`

use std::process::ExitCode;

/// The specifications this build implements, one line each, added as each lands.
pub(crate) const SPECIFICATIONS: &[(&str, &str)] = &[
    (
        "RFC 9421",
        "HTTP Message Signatures (sig, gateway signing, backend verification)",
    ),
    (
        "RFC 9530",
        "Digest Fields: Content-Digest, Repr-Digest, Want-*",
    ),
    (
        "RFC 9576/9577/9578",
        "Privacy Pass: PrivateToken auth, types 1 (VOPRF P-384) and 2 (blind RSA), issuer, origin, token",
    ),
    (
        "draft-ietf-privacypass-batched-tokens-07",
        "amortized (type 1) and generic batched issuance",
    ),
    (
        "draft-schwartz-tls-lb-02",
        "TLS metadata for load balancers: lb and the gateway's front end; PROXY v1/v2",
    ),
    (
        "draft-fabini-smart-malware-lifecycle-00",
        "malware lifecycle states from captures and Zeek logs (lifecycle analyze|watch)",
    ),
];

#[allow(clippy::print_stdout)]
pub(crate) fn run() -> anyhow::Result<ExitCode> {
    println!("secdispatch {}", env!("CARGO_PKG_VERSION"));
    if SPECIFICATIONS.is_empty() {
        println!("specifications: none yet (this build has the foundation only)");
    } else {
        println!("specifications:");
        let width = SPECIFICATIONS
            .iter()
            .map(|(s, _)| s.len())
            .max()
            .unwrap_or(0);
        for (spec, what) in SPECIFICATIONS {
            println!("  {spec:width$}  {what}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
