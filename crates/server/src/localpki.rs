//! The self-made PKI of `secdispatch up`, issued by the store-backed [`Ca`] once and reused
//! after, with the files clients and the gateway need in `<data dir>/pki/`:
//!
//! ```text
//! root.crt                   the trust anchor: composite root (id-MLDSA65-ECDSA-P256-SHA512)
//! gateway.crt / gateway.key  TLS server certificate (chain: leaf, issuing CA), ECDSA P-256 key
//! client.crt / client.key    demo client certificate (chain: leaf, issuing CA), ECDSA P-256 key
//! ```
//!
//! Authorities `local-root` and `local-issuing` (composite, the issuing CA with sequential
//! serials) live in the certificate database, so `secdispatch ca revoke` and the OCSP
//! responder see the certificates `up` made. End-entity keys are classical because TLS 1.3
//! in rustls has no composite signature schemes; everything above them is composite, so
//! the chains survive a break of either ECDSA or ML-DSA. Private keys are written 0600.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use secdispatch_pqpki::cert::Profile;
use secdispatch_pqpki::{Algorithm, SigningKey};
use x509_cert::Certificate;

use crate::ca::{Ca, CaError, IssueSpec};

/// Root authority name.
pub const ROOT: &str = "local-root";
/// Issuing authority name.
pub const ISSUING: &str = "local-issuing";

/// Files of the local PKI.
#[derive(Debug, Clone)]
pub struct LocalPki {
    /// The folder.
    pub dir: PathBuf,
    /// Root certificate (the trust anchor clients need).
    pub root_cert: PathBuf,
    /// Gateway chain.
    pub gateway_cert: PathBuf,
    /// Gateway key.
    pub gateway_key: PathBuf,
    /// Demo client chain.
    pub client_cert: PathBuf,
    /// Demo client key.
    pub client_key: PathBuf,
}

/// Why the PKI could not be made.
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
    /// Certificate, key or store trouble.
    #[error("local PKI: {0}")]
    Ca(#[from] CaError),
    /// Key encoding trouble.
    #[error("local PKI: {0}")]
    Pki(#[from] secdispatch_pqpki::Error),
}

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

    /// Make what is missing: the authorities (once), then the files (issuing new
    /// end-entity certificates when they are gone). `hosts` go into the gateway
    /// certificate's SAN; `ocsp_url`, when given, into every issued certificate's AIA.
    /// Returns whether anything was made.
    pub async fn ensure(
        &self,
        ca: &Ca,
        hosts: &[&str],
        ocsp_url: Option<&str>,
        now: SystemTime,
    ) -> Result<bool, PkiError> {
        let mut made = false;
        let start = now - Duration::from_secs(3600); // tolerate clocks a little behind
        if ca.load(ROOT).await.is_err() {
            ca.init_root(
                ROOT,
                Algorithm::DEFAULT,
                "CN=secdispatch local root,O=secdispatch",
                3650,
                false,
                start,
            )
            .await?;
            made = true;
        }
        if ca.load(ISSUING).await.is_err() {
            ca.create_intermediate(
                ROOT,
                ISSUING,
                Algorithm::DEFAULT,
                "CN=secdispatch local issuing CA,O=secdispatch",
                1825,
                Some(0),
                true,
                start,
            )
            .await?;
            made = true;
        }
        if self.exists() && !made {
            return Ok(false);
        }
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |cause| PkiError::Io { path: p, cause }
        };
        create_private_dir(&self.dir).map_err(io(&self.dir))?;
        let chain = ca.chain(ISSUING).await?;
        let issuing = chain.first().cloned();
        let root = chain.last().cloned();
        let classical = Algorithm::from_name("ecdsa-p256-sha256")?;
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
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
        let spec = |subject: &str, sans: Vec<String>, profile| IssueSpec {
            subject: Some(subject.to_owned()),
            sans,
            profile,
            days: 365,
            ocsp_url: ocsp_url.map(str::to_owned),
        };

        let gw_key = SigningKey::generate(classical, &mut rng)?;
        let gw = ca
            .issue(
                ISSUING,
                gw_key.public_key(),
                &spec(
                    "CN=secdispatch gateway,O=secdispatch",
                    sans,
                    Profile::Server,
                ),
                start,
            )
            .await?;
        let client_key = SigningKey::generate(classical, &mut rng)?;
        let client = ca
            .issue(
                ISSUING,
                client_key.public_key(),
                &spec("CN=demo client,O=secdispatch", vec![], Profile::Client),
                start,
            )
            .await?;

        let pem = |certs: &[&Certificate]| -> Result<String, secdispatch_pqpki::Error> {
            certs
                .iter()
                .map(|c| secdispatch_pqpki::cert::to_pem(c))
                .collect()
        };
        let issuing = issuing.ok_or_else(|| CaError::Invalid("issuing CA missing".into()))?;
        let root = root.ok_or_else(|| CaError::Invalid("root CA missing".into()))?;
        write(&self.root_cert, &pem(&[&root])?, false)?;
        write(&self.gateway_cert, &pem(&[&gw, &issuing])?, false)?;
        write(&self.gateway_key, &gw_key.to_pkcs8_pem()?, true)?;
        write(&self.client_cert, &pem(&[&client, &issuing])?, false)?;
        write(&self.client_key, &client_key.to_pkcs8_pem()?, true)?;
        Ok(true)
    }
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
