//! TLS termination: certificates by SNI with hot reload, and client certificates checked
//! against the configured trust anchors with `secdispatch-pqpki`, so classical, ML-DSA
//! and composite chains all validate.
//!
//! The ClientHello is read first (rustls `Acceptor`), then the server configuration is
//! chosen by SNI: which certificate to present and whether to ask for a client
//! certificate. A host whose every route requires one gets `client_auth_mandatory` (a
//! missing or invalid certificate ends the handshake with an alert); a host with optional
//! routes asks for one but lets the handshake finish when it does not validate, and the
//! gateway then simply does not forward it.
//!
//! The end entity's TLS signature (CertificateVerify) is checked by rustls with the
//! classical schemes it supports; the chain above it may use any algorithm pqpki knows.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{Acceptor, ServerConfig};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use secdispatch_pqpki::validate::{Options, validate_chain};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use x509_cert::Certificate;

use crate::config::ClientAuth;
use crate::serve::TlsSession;

/// id-kp-clientAuth (RFC 5280 §4.2.1.12).
const CLIENT_AUTH_EKU: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

/// Why TLS could not be set up; names the file or name at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read.
    #[error("cannot read {path}: {cause}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's reason.
        cause: std::io::Error,
    },
    /// A file does not hold what it should.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Two certificates claim the same server name, or none is usable.
    #[error("gateway certificates: {0}")]
    Config(String),
}

/// One certificate and its key, as configured.
#[derive(Debug, Clone)]
pub struct CertSource {
    /// SNI names it answers; empty for the default.
    pub server_names: Vec<String>,
    /// PEM chain file.
    pub cert: PathBuf,
    /// PEM key file.
    pub key: PathBuf,
}

/// Client-auth behaviour of one host, derived from its routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostAuth {
    /// No certificate requested.
    None,
    /// Requested; the handshake succeeds without a valid one.
    Offer,
    /// Required; the handshake fails without a valid one.
    Mandatory,
}

impl HostAuth {
    /// The mode for a host from the client-auth settings of the routes that can serve it.
    pub fn of_routes(modes: impl IntoIterator<Item = ClientAuth>) -> HostAuth {
        let (mut any, mut all_required, mut n) = (false, true, 0);
        for m in modes {
            n += 1;
            any |= m != ClientAuth::None;
            all_required &= m == ClientAuth::Required;
        }
        match (n, any, all_required) {
            (0, _, _) | (_, false, _) => HostAuth::None,
            (_, true, true) => HostAuth::Mandatory,
            _ => HostAuth::Offer,
        }
    }
}

/// Validates client chains with pqpki and remembers recent results, so the handshake
/// verifier and the post-handshake lookup do the work once.
#[derive(Debug)]
pub struct ClientValidator {
    anchors: Vec<Certificate>,
    hints: Vec<DistinguishedName>,
    cache: Mutex<HashMap<[u8; 32], CachedValidation>>,
}

/// When a chain was validated, and the subject or the reason it failed.
type CachedValidation = (Instant, Result<String, String>);

/// Bound on remembered validation results (cleared when full).
const VALIDATION_CACHE: usize = 4096;
/// How long a validation result is reused: short, so that expiry is noticed promptly.
const VALIDATION_TTL: Duration = Duration::from_secs(60);

impl ClientValidator {
    /// Trust the certificates of a PEM file.
    pub fn from_pem_file(path: &Path) -> Result<Self, TlsError> {
        let pem = read(path)?;
        let text = String::from_utf8_lossy(&pem);
        let anchors =
            secdispatch_pqpki::cert::chain_from_pem(&text).map_err(|e| TlsError::Invalid {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Self::new(anchors).map_err(|reason| TlsError::Invalid {
            path: path.display().to_string(),
            reason,
        })
    }

    /// Trust `anchors`.
    pub fn new(anchors: Vec<Certificate>) -> Result<Self, String> {
        if anchors.is_empty() {
            return Err("no trust anchor".into());
        }
        let hints = anchors
            .iter()
            .map(|a| {
                der::Encode::to_der(a.tbs_certificate().subject())
                    .map(DistinguishedName::from)
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            anchors,
            hints,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Validate a presented chain (end entity first) at `now`: `Ok(subject)` or the reason.
    pub fn validate(&self, chain: &[Vec<u8>], now: SystemTime) -> Result<String, String> {
        let key = chain_digest(chain);
        if let Some((at, r)) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            && at.elapsed() < VALIDATION_TTL
        {
            return r.clone();
        }
        let result = self.validate_uncached(chain, now);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= VALIDATION_CACHE {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), result.clone()));
        result
    }

    fn validate_uncached(&self, chain: &[Vec<u8>], now: SystemTime) -> Result<String, String> {
        let (ee, rest) = chain.split_first().ok_or("empty certificate chain")?;
        let ee = secdispatch_pqpki::cert::from_der(ee).map_err(|e| e.to_string())?;
        let intermediates = rest
            .iter()
            .map(|d| secdispatch_pqpki::cert::from_der(d))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let mut opts = Options::at(now);
        opts.eku = Some(CLIENT_AUTH_EKU);
        validate_chain(&ee, &intermediates, &self.anchors, &opts).map_err(|e| e.to_string())?;
        Ok(ee.tbs_certificate().subject().to_string())
    }

    /// The trust anchors.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// Forget remembered results (after the trust anchors or revocation data change).
    pub fn clear(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// SHA-256 over the length-prefixed certificates: the cache key of a chain.
fn chain_digest(chain: &[Vec<u8>]) -> [u8; 32] {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for c in chain {
        ctx.update(&(c.len() as u64).to_be_bytes());
        ctx.update(c);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The rustls side of client authentication.
#[derive(Debug)]
struct PkiClientVerifier {
    validator: Arc<ClientValidator>,
    mandatory: bool,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PkiClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.validator.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let chain: Vec<Vec<u8>> = std::iter::once(end_entity.as_ref().to_vec())
            .chain(intermediates.iter().map(|c| c.as_ref().to_vec()))
            .collect();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs());
        match self.validator.validate(&chain, at) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            Err(reason) if self.mandatory => {
                tracing::info!(%reason, "client certificate refused");
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::Other(rustls::OtherError(Arc::new(ChainRejected(
                        reason,
                    )))),
                ))
            }
            // Optional: finish the handshake; the certificate is simply not forwarded.
            Err(_) => Ok(ClientCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[derive(Debug)]
struct ChainRejected(String);

impl std::fmt::Display for ChainRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "client certificate chain rejected: {}", self.0)
    }
}

impl std::error::Error for ChainRejected {}

/// Loaded certificates and the server configurations built from them.
#[derive(Debug)]
struct Loaded {
    /// Lower-case SNI name → index into `certs`.
    by_name: HashMap<String, usize>,
    default: Option<usize>,
    /// Per certificate: one configuration per client-auth mode.
    configs: Vec<HashMap<HostAuth, Arc<ServerConfig>>>,
    /// Modification times of every file, to notice changes.
    stamps: Vec<(PathBuf, Option<SystemTime>)>,
}

/// Certificates by SNI, reloadable while connections continue on the old configuration.
#[derive(Debug)]
pub struct TlsTerminator {
    sources: Vec<CertSource>,
    validator: Option<Arc<ClientValidator>>,
    host_auth: HashMap<String, HostAuth>,
    any_host_auth: HostAuth,
    no_sni_auth: HostAuth,
    provider: Arc<CryptoProvider>,
    loaded: RwLock<Arc<Loaded>>,
}

impl TlsTerminator {
    /// Load every certificate. `host_auth` gives the mode of named hosts, `any_host_auth`
    /// that of other names, `no_sni_auth` that of connections without SNI.
    pub fn new(
        sources: Vec<CertSource>,
        validator: Option<Arc<ClientValidator>>,
        host_auth: HashMap<String, HostAuth>,
        any_host_auth: HostAuth,
        no_sni_auth: HostAuth,
    ) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let needs_validator = host_auth
            .values()
            .chain([&any_host_auth, &no_sni_auth])
            .any(|m| *m != HostAuth::None);
        if needs_validator && validator.is_none() {
            return Err(TlsError::Config(
                "routes ask for client certificates but no client trust anchors are configured"
                    .into(),
            ));
        }
        let host_auth = host_auth
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let mut t = Self {
            sources,
            validator,
            host_auth,
            any_host_auth,
            no_sni_auth,
            provider,
            loaded: RwLock::new(Arc::new(Loaded {
                by_name: HashMap::new(),
                default: None,
                configs: Vec::new(),
                stamps: Vec::new(),
            })),
        };
        let loaded = t.load()?;
        t.loaded = RwLock::new(Arc::new(loaded));
        Ok(t)
    }

    fn load(&self) -> Result<Loaded, TlsError> {
        if self.sources.is_empty() {
            return Err(TlsError::Config("no certificate configured".into()));
        }
        let mut by_name = HashMap::new();
        let mut default = None;
        let mut configs = Vec::new();
        let mut stamps = Vec::new();
        for (i, src) in self.sources.iter().enumerate() {
            stamps.push((src.cert.clone(), mtime(&src.cert)));
            stamps.push((src.key.clone(), mtime(&src.key)));
            let (chain, key) = load_pair(&src.cert, &src.key)?;
            let signing_key = self
                .provider
                .key_provider
                .load_private_key(key)
                .map_err(|e| TlsError::Invalid {
                    path: src.key.display().to_string(),
                    reason: e.to_string(),
                })?;
            let certified = Arc::new(rustls::sign::CertifiedKey::new(chain, signing_key));
            certified.keys_match().map_err(|e| TlsError::Invalid {
                path: src.cert.display().to_string(),
                reason: format!("certificate does not match {}: {e}", src.key.display()),
            })?;
            let mut per_mode = HashMap::new();
            for mode in [HostAuth::None, HostAuth::Offer, HostAuth::Mandatory] {
                per_mode.insert(mode, Arc::new(self.server_config(certified.clone(), mode)?));
            }
            configs.push(per_mode);
            if src.server_names.is_empty() && default.replace(i).is_some() {
                return Err(TlsError::Config(
                    "two default certificates (no server_names)".into(),
                ));
            }
            for name in &src.server_names {
                if by_name.insert(name.to_ascii_lowercase(), i).is_some() {
                    return Err(TlsError::Config(format!("two certificates for {name}")));
                }
            }
        }
        if default.is_none() && self.sources.len() == 1 {
            default = Some(0);
        }
        Ok(Loaded {
            by_name,
            default,
            configs,
            stamps,
        })
    }

    fn server_config(
        &self,
        certified: Arc<rustls::sign::CertifiedKey>,
        mode: HostAuth,
    ) -> Result<ServerConfig, TlsError> {
        let builder = ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::Config(e.to_string()))?;
        let builder = match (mode, &self.validator) {
            (HostAuth::None, _) | (_, None) => builder.with_no_client_auth(),
            (m, Some(v)) => builder.with_client_cert_verifier(Arc::new(PkiClientVerifier {
                validator: v.clone(),
                mandatory: m == HostAuth::Mandatory,
                provider: self.provider.clone(),
            })),
        };
        let mut config = builder.with_cert_resolver(Arc::new(Fixed(certified)));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    /// Reload when any file changed; keeps the current certificates when the new ones do
    /// not load. Returns whether a new set took effect.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let current = self.current();
        if current.stamps.iter().all(|(p, t)| mtime(p) == *t) {
            return Ok(false);
        }
        let fresh = self.load()?;
        *self.loaded.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        Ok(true)
    }

    fn current(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The configuration for a ClientHello's server name, or `None` when no certificate
    /// serves it.
    fn config_for(&self, sni: Option<&str>) -> Option<Arc<ServerConfig>> {
        let loaded = self.current();
        let (idx, mode) = match sni {
            Some(name) => {
                let name = name.to_ascii_lowercase();
                let idx = loaded.by_name.get(&name).copied().or(loaded.default)?;
                (
                    idx,
                    self.host_auth
                        .get(&name)
                        .copied()
                        .unwrap_or(self.any_host_auth),
                )
            }
            None => (loaded.default?, self.no_sni_auth),
        };
        loaded.configs.get(idx)?.get(&mode).cloned()
    }

    /// Run the TLS handshake on `io` (whose first bytes may already have been read by a
    /// front-end acceptor, see `prefix`), and describe the session.
    pub async fn accept<I>(&self, io: I) -> Result<(TlsStream<I>, TlsSession), std::io::Error>
    where
        I: AsyncRead + AsyncWrite + Unpin,
    {
        let start = tokio_rustls::LazyConfigAcceptor::new(Acceptor::default(), io).await?;
        let sni = start.client_hello().server_name().map(str::to_owned);
        let Some(config) = self.config_for(sni.as_deref()) else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("no certificate for server name {sni:?}"),
            ));
        };
        let stream = start.into_stream(config).await?;
        let session = self.describe(&stream, sni);
        Ok((stream, session))
    }

    fn describe<I>(&self, stream: &TlsStream<I>, sni: Option<String>) -> TlsSession {
        let (_, conn) = stream.get_ref();
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "unknown",
        };
        let alpn = conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let peer_certificates: Vec<Vec<u8>> = conn
            .peer_certificates()
            .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
            .unwrap_or_default();
        let mut session = TlsSession {
            version,
            alpn,
            sni,
            ..TlsSession::default()
        };
        if !peer_certificates.is_empty() {
            match self
                .validator
                .as_ref()
                .map(|v| v.validate(&peer_certificates, SystemTime::now()))
            {
                Some(Ok(subject)) => {
                    session.client_cert_valid = true;
                    session.client_subject = Some(subject);
                }
                Some(Err(reason)) => session.client_cert_error = Some(reason),
                None => session.client_cert_error = Some("no client trust anchors".into()),
            }
        }
        session.peer_certificates = peer_certificates;
        session
    }
}

/// A resolver that always answers with the one certificate chosen by SNI beforehand.
#[derive(Debug)]
struct Fixed(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(
        &self,
        _: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|cause| TlsError::Read {
        path: path.display().to_string(),
        cause,
    })
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// A PEM certificate chain and its PEM private key.
pub fn load_pair(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let invalid = |p: &Path, reason: String| TlsError::Invalid {
        path: p.display().to_string(),
        reason,
    };
    let chain = CertificateDer::pem_slice_iter(&read(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(invalid(cert, "no CERTIFICATE block".into()));
    }
    let key_der =
        PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|e| invalid(key, e.to_string()))?;
    Ok((chain, key_der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_auth_from_routes() {
        use ClientAuth::*;
        assert_eq!(HostAuth::of_routes([]), HostAuth::None);
        assert_eq!(HostAuth::of_routes([None, None]), HostAuth::None);
        assert_eq!(HostAuth::of_routes([None, Optional]), HostAuth::Offer);
        assert_eq!(HostAuth::of_routes([Required, None]), HostAuth::Offer);
        assert_eq!(
            HostAuth::of_routes([Required, Required]),
            HostAuth::Mandatory
        );
    }

    #[test]
    fn chain_digest_separates_certificates() {
        assert_ne!(
            chain_digest(&[vec![1, 2], vec![3]]),
            chain_digest(&[vec![1], vec![2, 3]])
        );
    }
}

/// Client side: checks a server's chain with pqpki (so composite-rooted servers verify)
/// and its name against the SAN; the TLS signature with rustls' classical schemes.
#[derive(Debug)]
pub struct PkiServerVerifier {
    anchors: Vec<Certificate>,
    provider: Arc<CryptoProvider>,
}

impl PkiServerVerifier {
    /// Trust `anchors`.
    pub fn new(anchors: Vec<Certificate>) -> Self {
        Self {
            anchors,
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        }
    }
}

/// id-kp-serverAuth.
const SERVER_AUTH_EKU: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");

impl rustls::client::danger::ServerCertVerifier for PkiServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let bad = |reason: String| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
                Arc::new(ChainRejected(reason)),
            )))
        };
        let ee = secdispatch_pqpki::cert::from_der(end_entity).map_err(|e| bad(e.to_string()))?;
        let rest = intermediates
            .iter()
            .map(|c| secdispatch_pqpki::cert::from_der(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        let host = match server_name {
            rustls::pki_types::ServerName::DnsName(d) => d.as_ref().to_owned(),
            rustls::pki_types::ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
            _ => return Err(bad("unsupported server name".into())),
        };
        let mut opts = Options::at(SystemTime::UNIX_EPOCH + Duration::from_secs(now.as_secs()));
        opts.host = Some(&host);
        opts.eku = Some(SERVER_AUTH_EKU);
        validate_chain(&ee, &rest, &self.anchors, &opts).map_err(|e| bad(e.to_string()))?;
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client configuration trusting the PEM `roots` (checked with pqpki), with an
/// optional client certificate (PEM chain and key files).
pub fn client_config(
    roots: &Path,
    client: Option<(&Path, &Path)>,
    alpn: &[&[u8]],
) -> Result<rustls::ClientConfig, TlsError> {
    let pem = read(roots)?;
    let anchors =
        secdispatch_pqpki::cert::chain_from_pem(&String::from_utf8_lossy(&pem)).map_err(|e| {
            TlsError::Invalid {
                path: roots.display().to_string(),
                reason: e.to_string(),
            }
        })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PkiServerVerifier::new(anchors)));
    let mut config = match client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let (chain, key_der) = load_pair(cert, key)?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| TlsError::Invalid {
                    path: key.display().to_string(),
                    reason: e.to_string(),
                })?
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}
