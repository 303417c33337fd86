//! The self-made PKI of `secdispatch up`: made once in `<data dir>/pki/`, reused after.
//!
//! ```text
//! root.crt / root.key                 composite root (id-MLDSA65-ECDSA-P256-SHA512)
//! intermediate.crt / intermediate.key composite issuing CA, pathLen 0
//! gateway.crt / gateway.key           TLS server certificate (chain: leaf, intermediate),
//!                                     ECDSA P-256 key so every TLS 1.3 client can talk to it
//! client.crt / client.key             demo client certificate (chain: leaf, intermediate)
//! ```
//!
//! The end-entity keys are classical because TLS 1.3 has no composite signature schemes
//! in rustls; everything above them is composite, so the chains survive a break of either
//! ECDSA or ML-DSA. Private keys are written mode 0600.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use secdispatch_pqpki::ca::{self, CertificateAuthority, IssueRequest};
use secdispatch_pqpki::cert::{Profile, SubjectAltNames};
use secdispatch_pqpki::{Algorithm, SigningKey};
use x509_cert::Certificate;
use x509_cert::name::Name;

/// Files of the local PKI.
#[derive(Debug, Clone)]
pub struct LocalPki {
    /// The folder.
    pub dir: PathBuf,
    /// Root certificate (the trust anchor clients need).
    pub root_cert: PathBuf,
    /// Gateway chain and key.
    pub gateway_cert: PathBuf,
    /// Gateway key.
    pub gateway_key: PathBuf,
    /// Demo client chain.
    pub client_cert: PathBuf,
    /// Demo client key.
    pub client_key: PathBuf,
}

/// Why the PKI could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// File system trouble.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// The reason.
        cause: std::io::Error,
    },
    /// Certificate or key trouble.
    #[error("local PKI: {0}")]
    Pki(#[from] secdispatch_pqpki::Error),
}

const DAY: Duration = Duration::from_secs(86_400);

impl LocalPki {
    /// The file layout under `data_dir/pki`.
    pub fn at(data_dir: &Path) -> Self {
        let dir = data_dir.join("pki");
        Self {
            root_cert: dir.join("root.crt"),
            gateway_cert: dir.join("gateway.crt"),
            gateway_key: dir.join("gateway.key"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
            dir,
        }
    }

    /// Whether every file exists.
    pub fn exists(&self) -> bool {
        [
            &self.root_cert,
            &self.gateway_cert,
            &self.gateway_key,
            &self.client_cert,
            &self.client_key,
        ]
        .iter()
        .all(|p| p.exists())
    }

    /// Make the PKI unless it exists; `hosts` go into the gateway certificate's SAN.
    /// Returns whether it was made now.
    pub fn ensure(&self, hosts: &[&str], now: SystemTime) -> Result<bool, PkiError> {
        if self.exists() {
            return Ok(false);
        }
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |cause| PkiError::Io { path: p, cause }
        };
        create_private_dir(&self.dir).map_err(io(&self.dir))?;
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let start = now - DAY; // tolerate clocks a little behind
        let composite = Algorithm::DEFAULT;
        let classical = Algorithm::from_name("ecdsa-p256-sha256")?;

        let root_key = SigningKey::generate(composite, &mut rng)?;
        let root = ca::self_signed_root(
            &root_key,
            name("CN=secdispatch local root,O=secdispatch")?,
            start,
            now + 3650 * DAY,
            Some(1),
            None,
            &mut rng,
        )?;
        let inter_key = SigningKey::generate(composite, &mut rng)?;
        let inter = CertificateAuthority::new(root.clone(), &root_key)?.issue(
            &IssueRequest::new(
                name("CN=secdispatch local issuing CA,O=secdispatch")?,
                inter_key.public_key(),
                Profile::Intermediate { path_len: Some(0) },
                start,
                now + 1825 * DAY,
            )?,
            &mut rng,
        )?;
        let issuer = CertificateAuthority::new(inter.clone(), &inter_key)?;

        let gw_key = SigningKey::generate(classical, &mut rng)?;
        let mut req = IssueRequest::new(
            name("CN=secdispatch gateway,O=secdispatch")?,
            gw_key.public_key(),
            Profile::Server,
            start,
            now + 365 * DAY,
        )?;
        let sans: Vec<String> = hosts
            .iter()
            .map(|h| {
                if h.parse::<std::net::IpAddr>().is_ok() {
                    format!("IP:{h}")
                } else {
                    format!("DNS:{h}")
                }
            })
            .collect();
        req.sans = SubjectAltNames::parse(sans.iter().map(String::as_str))?;
        let gw = issuer.issue(&req, &mut rng)?;

        let client_key = SigningKey::generate(classical, &mut rng)?;
        let client = issuer.issue(
            &IssueRequest::new(
                name("CN=demo client,O=secdispatch")?,
                client_key.public_key(),
                Profile::Client,
                start,
                now + 365 * DAY,
            )?,
            &mut rng,
        )?;

        write(&self.root_cert, &pem_chain(&[&root])?, false)?;
        write(&self.dir.join("root.key"), &root_key.to_pkcs8_pem()?, true)?;
        write(
            &self.dir.join("intermediate.crt"),
            &pem_chain(&[&inter])?,
            false,
        )?;
        write(
            &self.dir.join("intermediate.key"),
            &inter_key.to_pkcs8_pem()?,
            true,
        )?;
        write(&self.gateway_cert, &pem_chain(&[&gw, &inter])?, false)?;
        write(&self.gateway_key, &gw_key.to_pkcs8_pem()?, true)?;
        write(&self.client_cert, &pem_chain(&[&client, &inter])?, false)?;
        write(&self.client_key, &client_key.to_pkcs8_pem()?, true)?;
        Ok(true)
    }
}

fn name(s: &str) -> Result<Name, secdispatch_pqpki::Error> {
    Name::from_str(s).map_err(secdispatch_pqpki::Error::from)
}

fn pem_chain(certs: &[&Certificate]) -> Result<String, secdispatch_pqpki::Error> {
    certs
        .iter()
        .map(|c| secdispatch_pqpki::cert::to_pem(c))
        .collect()
}

fn write(path: &Path, text: &str, secret: bool) -> Result<(), PkiError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if secret { 0o600 } else { 0o644 });
    }
    let fail = |cause| PkiError::Io {
        path: path.display().to_string(),
        cause,
    };
    let mut f = opts.open(path).map_err(fail)?;
    f.write_all(text.as_bytes()).map_err(fail)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        if dir.is_dir() {
            return Ok(());
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}
