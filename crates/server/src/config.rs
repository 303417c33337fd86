//! The configuration file: one TOML document for every service.
//!
//! Every option has a default, so no file is needed (`secdispatch up` runs without one).
//! Unknown keys are errors, and every error names the file, line, column and key:
//!
//! ```text
//! secdispatch.toml:7:19: limits.max_body_bytes: invalid type: string "big", expected u64
//! ```
//!
//! [`DEFAULT_TOML`] is the commented file that `secdispatch config init` writes; a test
//! keeps it equal to [`Config::default`].

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where keys, certificates and the embedded database live. The `--data-dir` flag
    /// overrides it; the default is `./secdispatch-data`.
    pub data_dir: Option<PathBuf>,
    /// Logging.
    pub log: LogConfig,
    /// Persistence.
    pub store: StoreConfig,
    /// The admin listener (`/healthz`, `/metrics`).
    pub admin: AdminConfig,
    /// Size limits and timeouts shared by every HTTP service.
    pub limits: Limits,
    /// The TLS-terminating gateway.
    pub gateway: GatewayConfig,
    /// The demonstration backend behind the gateway.
    pub backend_demo: BackendDemoConfig,
    /// The Privacy Pass issuer (RFC 9578).
    pub issuer: crate::issuer::IssuerConfig,
    /// The TLS-LB load balancer (draft-schwartz-tls-lb-02).
    pub lb: crate::lb::LbConfig,
    /// The OCSP responder (RFC 6960 / 9919 / 9654, experimental OCSPv2).
    pub ocsp: crate::ocsp::OcspConfig,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`; `--log-format` overrides.
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `secdispatch=debug,sqlx=warn`; `-v`/`-q` and
    /// `RUST_LOG` override.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// `[store]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite:PATH` or `postgres://USER:PASS@HOST/DB`. Empty: `DATABASE_URL` if set,
    /// else `secdispatch.db` in the data directory.
    pub url: String,
    /// Largest number of pooled database connections.
    pub max_connections: u32,
    /// How long to wait for the database to answer.
    #[serde(with = "duration")]
    pub connect_timeout: Duration,
    /// Where nonces and spent Privacy Pass tokens live: `redis://HOST:PORT/DB` (or
    /// `rediss://`) for replicas that share a Redis; empty: the database above.
    pub replay: String,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 8,
            connect_timeout: Duration::from_secs(5),
            replay: String::new(),
        }
    }
}

/// `[admin]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin listener; `--admin` overrides.
    pub listen: SocketAddr,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        }
    }
}

/// `[limits]`: what every HTTP listener enforces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request head (request line and headers), in bytes; larger gets 431.
    pub max_header_bytes: usize,
    /// Most header fields in one request; more gets 431.
    pub max_headers: usize,
    /// Largest request body, in bytes; larger gets 413.
    pub max_body_bytes: u64,
    /// Time allowed to receive a request head once a connection is idle or new (slowloris).
    #[serde(with = "duration")]
    pub header_read_timeout: Duration,
    /// Time allowed for a whole request, response included; longer gets 504 or a close.
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// How long a keep-alive connection may sit idle before it is closed.
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
    /// On SIGINT/SIGTERM, how long in-flight requests may finish before being cut.
    #[serde(with = "duration")]
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            max_body_bytes: 1024 * 1024,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// `[gateway]`: the TLS-terminating reverse proxy (RFC 9440 Client-Cert, RFC 9421 signing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Address of the TLS listener; `--listen` overrides.
    pub listen: SocketAddr,
    /// Server certificates, chosen by SNI. Empty: `pki/gateway.crt` and `pki/gateway.key`
    /// in the data directory (made by `secdispatch up`).
    pub certificates: Vec<CertificateConfig>,
    /// PEM file of the trust anchors client certificates must chain to. Empty:
    /// `pki/root.crt` in the data directory.
    pub client_ca: Option<PathBuf>,
    /// How often certificate files are checked for changes (hot reload).
    #[serde(with = "duration")]
    pub reload_interval: Duration,
    /// Also forward `Client-Cert-Chain` (the intermediates the client sent).
    pub client_cert_chain: bool,
    /// Answer 400 to requests that carry their own `Client-Cert`/`Client-Cert-Chain`
    /// (default: remove them silently, as RFC 9440 §2.4 allows either).
    pub reject_client_cert_headers: bool,
    /// `forwarded` (RFC 7239), `x-forwarded`, `both` or `none`.
    pub forwarded: ForwardedMode,
    /// Sign every forwarded request with RFC 9421.
    pub signing: GatewaySigning,
    /// Time allowed to connect to an upstream before answering 502.
    #[serde(with = "duration")]
    pub upstream_connect_timeout: Duration,
    /// Time allowed for an upstream's response head before answering 504.
    #[serde(with = "duration")]
    pub upstream_response_timeout: Duration,
    /// After a connection failure, how long an upstream is skipped (passive health).
    #[serde(with = "duration")]
    pub upstream_failure_backoff: Duration,
    /// Where requests go, first match wins (longest path prefix within a host).
    pub routes: Vec<RouteConfig>,
    /// What a load balancer may put in front of TLS on the listener.
    pub front_end: crate::lb::FrontEndConfig,
    /// Where to report connections for `secdispatch lifecycle watch --flows` (off: `None`).
    pub flow_events: Option<SocketAddr>,
    /// Revocation checking of client certificates over OCSP.
    pub ocsp: crate::gateway::revocation::OcspCheckConfig,
    /// Event loops for the gateway's connections. `0`: the process's shared runtime
    /// (`TOKIO_WORKER_THREADS` threads, work-stealing). `N`: N threads of their own, each
    /// a single-threaded loop accepting from the listener and keeping its connections,
    /// as nginx's `worker_processes`.
    pub workers: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            certificates: Vec::new(),
            client_ca: None,
            reload_interval: Duration::from_secs(10),
            client_cert_chain: false,
            reject_client_cert_headers: false,
            forwarded: ForwardedMode::Both,
            signing: GatewaySigning::default(),
            upstream_connect_timeout: Duration::from_secs(5),
            upstream_response_timeout: Duration::from_secs(30),
            upstream_failure_backoff: Duration::from_secs(10),
            routes: Vec::new(),
            front_end: crate::lb::FrontEndConfig::default(),
            flow_events: None,
            ocsp: crate::gateway::revocation::OcspCheckConfig::default(),
            workers: 0,
        }
    }
}

/// One server certificate of the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateConfig {
    /// Host names (SNI) this certificate answers; empty: the default certificate.
    #[serde(default)]
    pub server_names: Vec<String>,
    /// PEM chain, end entity first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Which forwarding headers the gateway adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForwardedMode {
    /// `Forwarded: for=...;proto=https;host=...` (RFC 7239).
    Forwarded,
    /// `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host`.
    XForwarded,
    /// Both forms.
    Both,
    /// Neither.
    None,
}

/// `[gateway.signing]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySigning {
    /// Sign forwarded requests.
    pub enabled: bool,
    /// Name of the key in the key store; made on first start when absent.
    pub key_name: String,
    /// Algorithm of keys the gateway makes: `ed25519`, `ecdsa-p256-sha256` or
    /// `ecdsa-p384-sha384`.
    pub algorithm: String,
    /// Lifetime of a signing key; a new one is made before the current one ends, and the
    /// old one stays listed for verifiers until it expires.
    #[serde(with = "duration")]
    pub key_lifetime: Duration,
    /// Signature label.
    pub label: String,
    /// The `tag` parameter.
    pub tag: String,
}

impl Default for GatewaySigning {
    fn default() -> Self {
        Self {
            enabled: true,
            key_name: "gateway-signing".to_owned(),
            algorithm: "ed25519".to_owned(),
            key_lifetime: Duration::from_secs(30 * 86_400),
            label: "gateway".to_owned(),
            tag: "secdispatch-gateway".to_owned(),
        }
    }
}

/// Client certificate handling of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// No certificate asked for; none forwarded.
    #[default]
    None,
    /// A valid certificate is forwarded; without one the request still passes.
    Optional,
    /// A valid certificate is required (TLS alert when every route of the host requires
    /// one, 403 otherwise).
    Required,
}

/// Upstream protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamProtocol {
    /// HTTP/1.1 with keep-alive.
    #[default]
    Http1,
    /// HTTP/2 over cleartext with prior knowledge.
    H2c,
}

/// `[[gateway.routes]]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Host the route applies to (exact, case-insensitive); absent: every host.
    #[serde(default)]
    pub host: Option<String>,
    /// Path prefix, matched on segment boundaries (`/api` matches `/api/x`, not `/apix`).
    #[serde(default = "root_path")]
    pub path_prefix: String,
    /// Client certificate handling.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// `http://host:port` base URLs, used round-robin.
    pub upstreams: Vec<String>,
    /// Protocol spoken to the upstreams.
    #[serde(default)]
    pub upstream_protocol: UpstreamProtocol,
    /// Ask for a Privacy Pass token (RFC 9577) before forwarding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_pass: Option<crate::issuer::PrivacyPassRouteConfig>,
}

fn root_path() -> String {
    "/".to_owned()
}

/// `[backend_demo]`: the demonstration app behind the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackendDemoConfig {
    /// Address to listen on (plain HTTP, behind the gateway); `--listen` overrides.
    pub listen: SocketAddr,
    /// Accept `Client-Cert` without a gateway signature from these peer addresses
    /// (for proxies that cannot sign, such as haproxy or nginx).
    pub trusted_peers: Vec<std::net::IpAddr>,
}

impl Default for BackendDemoConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            trusted_peers: Vec::new(),
        }
    }
}

/// The file `secdispatch config init` writes: every option, its default, what it does.
pub const DEFAULT_TOML: &str = r#"# secdispatch configuration. Every key is optional: an absent key takes the default
# shown here. `secdispatch config check FILE` validates a file; unknown keys are errors.

# Where keys, certificates and the embedded database live (--data-dir overrides).
# data_dir = "./secdispatch-data"

[log]
# "text" or "json" (--log-format overrides).
format = "text"
# A tracing filter, e.g. "info" or "secdispatch=debug,sqlx=warn" (-v/-q and RUST_LOG override).
level = "info"

[store]
# "sqlite:PATH" or "postgres://USER:PASSWORD@HOST:5432/DB". Empty: DATABASE_URL when set,
# otherwise secdispatch.db in the data directory.
url = ""
# Largest number of pooled database connections.
max_connections = 8
# How long to wait for the database to answer before giving up.
connect_timeout = "5s"
# Nonces and spent Privacy Pass tokens: "redis://HOST:6379/0" to share them between
# replicas through Redis; empty: in the database above.
replay = ""

[admin]
# /healthz and Prometheus /metrics (--admin overrides).
listen = "127.0.0.1:9090"

[limits]
# Largest request head in bytes; larger requests get 431.
max_header_bytes = 16384
# Most header fields in a request; more get 431.
max_headers = 100
# Largest request body in bytes; larger bodies get 413.
max_body_bytes = 1048576
# Time to receive a request head (cuts off slow clients).
header_read_timeout = "10s"
# Time for a whole request and its response.
request_timeout = "30s"
# Idle keep-alive connections are closed after this long.
idle_timeout = "60s"
# On SIGINT/SIGTERM, in-flight requests get this long to finish.
shutdown_timeout = "10s"

[gateway]
# The TLS listener (--listen overrides).
listen = "127.0.0.1:8443"
# Trust anchors (PEM) for client certificates; unset: pki/root.crt in the data directory.
# client_ca = "/etc/secdispatch/client-roots.pem"
# Certificate files are checked for changes this often and reloaded without dropping
# connections.
reload_interval = "10s"
# Also forward Client-Cert-Chain (RFC 9440 §2.3).
client_cert_chain = false
# Requests that bring their own Client-Cert/Client-Cert-Chain: false removes the fields,
# true answers 400.
reject_client_cert_headers = false
# "forwarded" (RFC 7239), "x-forwarded", "both" or "none".
forwarded = "both"
upstream_connect_timeout = "5s"
upstream_response_timeout = "30s"
# After a connection failure an upstream is skipped for this long.
upstream_failure_backoff = "10s"
# Event loops for connections: 0 = the process's shared (work-stealing) runtime; N = N
# threads of their own, each accepting and keeping its connections (as nginx workers).
workers = 0
# Report connections to `secdispatch lifecycle watch --flows ADDR` (JSON lines over TCP).
# Connections that arrive through a front end (TLS-LB or PROXY header) are left to the
# front end to report (`[lb] flow_events`), so that the watcher counts each client once.
# flow_events = "127.0.0.1:4740"

# Server certificates by SNI; none listed: pki/gateway.crt and pki/gateway.key in the data
# directory (made by `secdispatch up`).
# [[gateway.certificates]]
# server_names = ["www.example.com"]   # empty: the default certificate
# cert = "/etc/secdispatch/www.crt"     # PEM chain, end entity first
# key = "/etc/secdispatch/www.key"

# Every forwarded request carries an RFC 9421 signature of the gateway covering
# @method @authority @path @query, client-cert when present and content-digest when
# there is a body.
[gateway.signing]
enabled = true
# Key store name of the signing key; made on first start.
key_name = "gateway-signing"
# "ed25519", "ecdsa-p256-sha256" or "ecdsa-p384-sha384".
algorithm = "ed25519"
# A new key is made before the current one ends.
key_lifetime = "30days"
label = "gateway"
tag = "secdispatch-gateway"

# Client certificates are checked for revocation with an OCSP responder (RFC 6960) before
# a route that looks at them (optional or required) uses them: a revoked one gets 403.
[gateway.ocsp]
enabled = false
# Responder URL; empty: the certificate's authorityInfoAccess OCSP URL (http:// only).
responder = ""
# When the status cannot be learned (responder down, bad answer, "unknown"):
# "fail-closed" answers 503, "fail-open" forwards the request (counted, logged).
policy = "fail-closed"
# An answer is reused until its nextUpdate but at most this long: the longest time a
# revocation can go unnoticed.
cache_max_age = "60s"
# A failure is remembered this long before the responder is asked again.
failure_cache = "5s"
timeout = "2s"

# What may precede TLS on the gateway's listener: "none"; "tls-lb" (an encrypted
# proxy_header of draft-schwartz-tls-lb-02 from `secdispatch lb`, bound to the
# ClientHello); "proxy" (PROXY protocol v1/v2 from haproxy or nginx, trusted_peers only).
# The client address it carries goes to the access log, Forwarded and X-Forwarded-For.
[gateway.front_end]
protocol = "none"
# "allow": direct TLS clients are served too; "require": every connection needs a header.
mode = "allow"
# TLS-LB key file; unset: tlslb.keys in the data directory (`secdispatch lb keygen`).
# key_file = "/etc/secdispatch/tlslb.keys"
# Record content type of proxy_header records (same as [lb] content_type).
content_type = 0
# Recent ratchet indices remembered to drop exact replays (0: the floor only).
ratchet_window = 1024
# PROXY protocol: peers whose header is believed (empty: any peer).
trusted_peers = []
header_timeout = "10s"

# Routes: first the longest matching path prefix of the request's host, then of any host.
# No route: `secdispatch up` sends everything to the demo backend.
# [[gateway.routes]]
# host = "www.example.com"        # absent: every host
# path_prefix = "/"
# client_auth = "optional"        # "none", "optional" or "required"
# upstreams = ["http://10.0.0.5:8080", "http://10.0.0.6:8080"]
# upstream_protocol = "http1"     # or "h2c"
# Privacy Pass (RFC 9577): 401 with a PrivateToken challenge until a token is redeemed.
# privacy_pass = { issuer_name = "127.0.0.1:8444", token_types = [2], redemption_context = "empty", origin_info = ["www.example.com"], max_age = "60s" }
#   directory_url: where type 2 keys are read (default http://<issuer_name>/.well-known/private-token-issuer-directory)
#   redemption_context: "empty" (tokens fetched ahead) or "per-request"; key_refresh = "60s"
#   shared_store = true: the issuer uses this store; keys are read from it (needed for type 1)

[backend_demo]
listen = "127.0.0.1:8080"
# Peers allowed to send Client-Cert without a gateway signature (haproxy, nginx).
trusted_peers = []

[issuer]
# Privacy Pass issuer (RFC 9578): directory at /.well-known/private-token-issuer-directory,
# issuance at request_path (--listen overrides listen).
listen = "127.0.0.1:8444"
request_path = "/token-request"
# 2 = blind RSA (publicly verifiable), 1 = VOPRF P-384 (verifiable with the issuer's key only).
token_types = [2, 1]
# Keys live in the store; a successor is made when a quarter of key_lifetime is left and
# listed (not-before) publish_ahead before it issues. Old keys stay valid until they end.
key_lifetime = "30days"
publish_ahead = "1h"
key_check_interval = "1m"
# Cache-Control max-age of the directory (minus up to 10% jitter).
directory_max_age = "1h"
# Most token requests in one batch (draft-ietf-privacypass-batched-tokens).
max_batch = 100
# "aws-lc" (raw RSA in aws-lc, fast) or "pure-rust".
rsa_backend = "aws-lc"
# Attester allowlist: SHA-256 (hex) of bearer secrets allowed to request tokens
# (Authorization: Bearer <secret>). Empty: open; then keep the issuer on localhost or put
# a gateway route with client_auth = "required" (mTLS) in front of it.
attester_bearer_sha256 = []

[lb]
# L4 load balancer (draft-schwartz-tls-lb-02): reads the ClientHello without terminating
# TLS, picks a pool by server name, sends the backend a header and the client's bytes.
listen = "127.0.0.1:8442"
# "tls-lb" (encrypted, bound to the ClientHello, answered by the backend), "proxy-v2"
# (with CRC32C), "proxy-v1" or "none".
header = "tls-lb"
# key_file = "/etc/secdispatch/tlslb.keys"   # unset: tlslb.keys in the data directory
content_type = 0
# ProxyData is padded to a multiple of this many bytes.
pad_to = 64
client_hello_timeout = "10s"
connect_timeout = "3s"
# Wait this long for the backend's first bytes (its answer, or its ServerHello when it
# does not answer); a backend silent this long is given up and the next one tried.
answer_timeout = "2s"
# Backends tried per connection (connection failures, overload "rejected").
max_attempts = 3
# "auto": a direction that fills a 64 KiB read moves on to splice(2), socket to socket in
# the kernel (Linux); "off": always copy.
splice = "auto"
# Start client and backend sockets in delayed-ACK mode so that ACKs ride on data (Linux;
# haproxy's tcp-smart-accept and tcp-smart-connect): 4 packets fewer per connection.
delayed_acks = true
# Report connections to `secdispatch lifecycle watch --flows ADDR` (JSON lines over TCP).
# flow_events = "127.0.0.1:4740"
# [[lb.pools]]
# server_names = ["www.example.com", "*.example.net"]   # empty: the default pool
# backends = ["10.0.0.5:8443", "10.0.0.6:8443"]

[ocsp]
# OCSP responder (RFC 6960, RFC 9919, RFC 9654) over the CA database of `secdispatch ca`:
# GET /<any prefix>/<base64 request> and POST (--listen overrides listen).
listen = "127.0.0.1:8445"
# Authorities answered for; empty: every authority in the CA database.
issuers = []
# Authorities signing through a delegated responder certificate (id-kp-OCSPSigning,
# ocsp-nocheck; made from the CA key, kept in the store) instead of the CA key; "*": all.
delegated = []
# More signer variants per authority (delegated responders of these algorithms, see
# `secdispatch pki algs`), chosen by the client's PreferredSignatureAlgorithms.
# signer_algorithms = ["id-ML-DSA-65"]
signer_algorithms = []
# nextUpdate - thisUpdate of per-serial responses, and of OCSPv2 range responses.
validity = "24h"
range_validity = "4h"
# Responses are re-signed in the background once this fraction of their validity passed.
refresh_fraction = 0.5
# EXPERIMENTAL OCSPv2 range responses for authorities with sequential serials, to clients
# that opt in (request extension 1.3.6.1.4.1.18227.3.2024.1).
ranges = true
# Serials never issued: "unauthorized", "unknown" or "revoked-extended" (RFC 6960 §2.2).
unknown_serial = "unauthorized"
# Requests with a nonce: "sign" (fresh, echoed), "ignore" (pre-signed) or "unauthorized".
nonce = "sign"
# Largest request in bytes and most CertIDs in one request.
max_request_bytes = 16384
max_requests = 16
# The CA database is polled this often (revocations are answered within it).
poll_interval = "200ms"
# Lifetime of delegated responder certificates the responder makes.
responder_cert_lifetime = "30days"
# Most responses kept pre-signed in memory.
max_cached = 1000000
# Pre-sign every issued serial and range at start (else on first request).
presign = true
"#;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {cause}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's reason.
        cause: std::io::Error,
    },
    /// The file is not valid TOML or does not fit the schema.
    #[error("{0}")]
    Invalid(Box<Invalid>),
}

/// Where and why a configuration is invalid.
#[derive(Debug)]
pub struct Invalid {
    /// The file (or other origin) of the text.
    pub origin: String,
    /// 1-based line and column, when the parser knows them.
    pub position: Option<(usize, usize)>,
    /// The dotted key path, when the error is about a value (`limits.max_body_bytes`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "{key}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl Config {
    /// Parse configuration text; `origin` names it in errors (usually the file path).
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let invalid = |e: toml::de::Error, key: Option<String>| {
            ConfigError::Invalid(Box::new(Invalid {
                origin: origin.to_owned(),
                position: e.span().map(|s| line_column(text, s.start)),
                key,
                // toml's message is one line; its Display adds a multi-line excerpt.
                message: e.message().trim().to_owned(),
            }))
        };
        let de = toml::de::Deserializer::parse(text).map_err(|e| invalid(e, None))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let key = (path != ".").then_some(path);
            invalid(e.into_inner(), key)
        })
    }

    /// Read and parse a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.display().to_string(),
            cause,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The configuration as TOML (every value, defaults included).
    pub fn to_toml(&self) -> String {
        // Serializing plain structs of strings, numbers and tables cannot fail.
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Durations as humantime strings: `"10s"`, `"1m 30s"`, `"250ms"`.
pub mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    /// Write a duration as a humantime string.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    /// Read a humantime string such as `"10s"`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| {
            serde::de::Error::custom(format!("invalid duration {s:?} ({e}); use e.g. \"10s\""))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_file_is_the_default_config() {
        let parsed = Config::parse(DEFAULT_TOML, "default").unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn empty_file_is_the_default_config() {
        assert_eq!(Config::parse("", "empty").unwrap(), Config::default());
    }

    #[test]
    fn rendered_config_parses_back() {
        let mut c = Config::default();
        c.limits.max_body_bytes = 7;
        c.store.url = "postgres://u@h/d".into();
        assert_eq!(Config::parse(&c.to_toml(), "rendered").unwrap(), c);
    }

    #[test]
    fn values_are_read() {
        let c = Config::parse(
            "data_dir = \"/var/lib/sd\"\n[limits]\nmax_body_bytes = 10\nidle_timeout = \"2m\"\n\
             [log]\nformat = \"json\"\n",
            "t",
        )
        .unwrap();
        assert_eq!(c.data_dir.as_deref(), Some(Path::new("/var/lib/sd")));
        assert_eq!(c.limits.max_body_bytes, 10);
        assert_eq!(c.limits.idle_timeout, Duration::from_secs(120));
        assert_eq!(c.log.format, LogFormat::Json);
    }

    fn error(text: &str) -> String {
        Config::parse(text, "sd.toml").unwrap_err().to_string()
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let e = error("[limits]\nmax_body_bytes = 1\nmax_bodyy = 2\n");
        assert!(e.starts_with("sd.toml:3:"), "{e}");
        assert!(e.contains("max_bodyy"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }

    #[test]
    fn unknown_section_is_refused() {
        let e = error("[limitz]\n");
        assert!(e.starts_with("sd.toml:1:"), "{e}");
        assert!(e.contains("limitz"), "{e}");
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let e = error("\n[limits]\nmax_body_bytes = \"big\"\n");
        assert!(e.starts_with("sd.toml:3:"), "{e}");
        assert!(e.contains("limits.max_body_bytes"), "{e}");
        assert!(e.contains("invalid type"), "{e}");
    }

    #[test]
    fn bad_duration_and_address_are_explained() {
        let e = error("[limits]\nidle_timeout = \"soon\"\n");
        assert!(
            e.contains("limits.idle_timeout") && e.contains("invalid duration"),
            "{e}"
        );
        let e = error("[admin]\nlisten = \"localhost\"\n");
        assert!(e.contains("admin.listen"), "{e}");
        let e = error("[log]\nformat = \"xml\"\n");
        assert!(e.contains("log.format") && e.contains("xml"), "{e}");
    }

    #[test]
    fn syntax_error_has_position() {
        let e = error("[limits\n");
        assert!(e.starts_with("sd.toml:1:"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn missing_file_is_a_read_error() {
        let e = Config::load(Path::new("/nonexistent/sd.toml")).unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }));
        assert!(e.to_string().contains("/nonexistent/sd.toml"));
    }

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("ab", 99), (1, 3));
    }
}
