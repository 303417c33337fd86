//! A small HTTP(S) client for the Privacy Pass roles that talk to an issuer: the gateway
//! fetching the directory, and the `token` commands. `http://` plainly, `https://` with
//! rustls against given trust anchors (pqpki-checked, as the gateway's own client).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Largest response body read.
const MAX_BODY: usize = 1 << 20;

/// A fetched response.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Status.
    pub status: StatusCode,
    /// Header fields.
    pub headers: HeaderMap,
    /// Body (at most 1 MiB).
    pub body: Bytes,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an `http://` or `https://` URL with a host.
    #[error("URL {0:?}: {1}")]
    Url(String, &'static str),
    /// Connecting, TLS or HTTP failed.
    #[error("{url}: {reason}")]
    Io {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
}

/// An HTTP(S) client; `https` needs trust anchors.
#[derive(Clone, Default)]
pub struct Client {
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Option<Duration>,
    source: Option<std::net::IpAddr>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("https", &self.tls.is_some())
            .finish()
    }
}

impl Client {
    /// A client for `http://` only.
    pub fn plain() -> Self {
        Self::default()
    }

    /// A client that also speaks `https://`, trusting the PEM roots in `ca_file`.
    pub fn with_roots(ca_file: &Path) -> Result<Self, FetchError> {
        let config =
            crate::gateway::tls::client_config(ca_file, None, &[b"http/1.1"]).map_err(|e| {
                FetchError::Io {
                    url: ca_file.display().to_string(),
                    reason: e.to_string(),
                }
            })?;
        Ok(Self {
            tls: Some(Arc::new(config)),
            timeout: None,
            source: None,
        })
    }

    /// [`Client::with_roots`], presenting the client certificate chain `cert` (PEM, end
    /// entity first) with its private key `key` (PKCS#8 PEM) when a server asks.
    pub fn with_identity(ca_file: &Path, cert: &Path, key: &Path) -> Result<Self, FetchError> {
        let config = crate::gateway::tls::client_config(ca_file, Some((cert, key)), &[b"http/1.1"])
            .map_err(|e| FetchError::Io {
                url: cert.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            tls: Some(Arc::new(config)),
            timeout: None,
            source: None,
        })
    }

    /// Connect from this local address (port chosen by the system).
    pub fn source(mut self, ip: std::net::IpAddr) -> Self {
        self.source = Some(ip);
        self
    }

    /// Give up on a request after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Send one request (HTTP/1.1, a fresh connection).
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Fetched, FetchError> {
        let fut = self.send_inner(method, url, headers, body);
        match self.timeout {
            Some(t) => tokio::time::timeout(t, fut)
                .await
                .map_err(|_| FetchError::Io {
                    url: url.to_owned(),
                    reason: format!("no answer within {t:?}"),
                })?,
            None => fut.await,
        }
    }

    async fn send_inner(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Fetched, FetchError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| FetchError::Url(url.to_owned(), "not a URL"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => {
                return Err(FetchError::Url(
                    url.to_owned(),
                    "scheme must be http or https",
                ));
            }
        };
        let host = uri
            .host()
            .ok_or(FetchError::Url(url.to_owned(), "no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let io_err = |reason: String| FetchError::Io {
            url: url.to_owned(),
            reason,
        };
        let tcp = match self.source {
            None => TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| io_err(format!("connect: {e}")))?,
            Some(ip) => {
                let to = tokio::net::lookup_host((host.as_str(), port))
                    .await
                    .map_err(|e| io_err(format!("resolve: {e}")))?
                    .find(|a| a.is_ipv4() == ip.is_ipv4())
                    .ok_or_else(|| io_err(format!("{host} has no address of {ip}'s family")))?;
                let socket = if ip.is_ipv4() {
                    tokio::net::TcpSocket::new_v4()
                } else {
                    tokio::net::TcpSocket::new_v6()
                }
                .map_err(|e| io_err(format!("socket: {e}")))?;
                socket
                    .bind(std::net::SocketAddr::new(ip, 0))
                    .map_err(|e| io_err(format!("bind {ip}: {e}")))?;
                socket
                    .connect(to)
                    .await
                    .map_err(|e| io_err(format!("connect: {e}")))?
            }
        };
        let _ = tcp.set_nodelay(true);
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let mut builder = Request::builder()
            .method(method)
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(http::header::HOST, authority);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let req = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| io_err(e.to_string()))?;
        let resp = if https {
            let config = self
                .tls
                .clone()
                .ok_or_else(|| io_err("https needs trust anchors (--ca-file)".into()))?;
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|_| io_err("invalid server name".into()))?;
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| io_err(format!("TLS: {e}")))?;
            exchange(TokioIo::new(tls), req).await
        } else {
            exchange(TokioIo::new(tcp), req).await
        };
        resp.map_err(io_err)
    }
}

async fn exchange<I>(io: I, req: Request<Full<Bytes>>) -> Result<Fetched, String>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let (parts, body) = resp.into_parts();
    let body = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes();
    Ok(Fetched {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}
