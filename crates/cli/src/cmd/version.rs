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
