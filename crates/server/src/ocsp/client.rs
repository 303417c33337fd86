//! The HTTP side of an OCSP client (RFC 9919 transport): send the DER of an OCSPRequest by
//! GET (`{url}/{url-encoded base64}`) or POST (`application/ocsp-request`) and return the
//! DER of the OCSPResponse. Used by `secdispatch ocsp query`; reusable by the gateway.
//! Building the request and verifying the answer are `secdispatch-ocsp`'s
//! (`RequestBuilder`, `verify_response`, `verify_bundle`).

use std::time::Duration;

use http::{Method, StatusCode};

use crate::issuer::http::{Client, FetchError, Fetched};

/// Largest GET URL RFC 9919 lets a client use; longer requests should be POSTed.
pub const MAX_GET_URL: usize = 255;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// Connecting or speaking HTTP failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The responder answered with an HTTP status other than 200.
    #[error("responder answered HTTP {status}")]
    Status {
        /// The status.
        status: StatusCode,
        /// The body (often a 5-byte unsuccessful OCSPResponse).
        body: Vec<u8>,
    },
}

/// The GET URL for `request_der` under responder URL `url`.
pub fn get_url(url: &str, request_der: &[u8]) -> String {
    format!(
        "{}/{}",
        url.trim_end_matches('/'),
        secdispatch_ocsp::encode_get_path(request_der)
    )
}

/// Send `request_der` to the responder at `url` with `client` (GET when `get`, else POST);
/// the whole HTTP answer.
pub async fn send(
    client: &Client,
    url: &str,
    request_der: &[u8],
    get: bool,
) -> Result<Fetched, FetchError> {
    if get {
        client
            .send(Method::GET, &get_url(url, request_der), &[], Vec::new())
            .await
    } else {
        client
            .send(
                Method::POST,
                url,
                &[("content-type", super::REQUEST_MEDIA_TYPE)],
                request_der.to_vec(),
            )
            .await
    }
}

/// Send `request_der` to `url` (plain `http://`, 10 s timeout) and return the OCSPResponse
/// DER of a 200 answer. Unsuccessful OCSP statuses come back as DER too (HTTP 200); check
/// them with `secdispatch_ocsp::verify_response`.
pub async fn query(url: &str, request_der: &[u8], get: bool) -> Result<Vec<u8>, QueryError> {
    let client = Client::plain().timeout(Duration::from_secs(10));
    query_with(&client, url, request_der, get).await
}

/// [`query`] with a given client (e.g. `Client::with_roots` for `https://`).
pub async fn query_with(
    client: &Client,
    url: &str,
    request_der: &[u8],
    get: bool,
) -> Result<Vec<u8>, QueryError> {
    let r = send(client, url, request_der, get).await?;
    if r.status != StatusCode::OK {
        return Err(QueryError::Status {
            status: r.status,
            body: r.body.to_vec(),
        });
    }
    Ok(r.body.to_vec())
}
