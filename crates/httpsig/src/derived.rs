//! Derived component values (RFC 9421 §2.2).

use http::{HeaderMap, Method};

use crate::component::{ComponentId, Derived};
use crate::error::{Error, Result};
use crate::message::{RequestView, ResponseView};
use crate::query::query_param_value;

/// Append the normalized authority: lowercase host, userinfo dropped, default port removed
/// (§2.2.3). Taken from the URI (HTTP/2 `:authority`, absolute-form) or else from the one
/// `Host` field line.
pub(crate) fn authority(req: &RequestView<'_>, scheme: &str, out: &mut String) -> Result<()> {
    let parsed;
    let auth = match req.uri.authority() {
        Some(a) => a,
        None => {
            parsed = host_field(req.headers)?;
            &parsed
        }
    };
    let host = auth.host();
    if !host.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(Error::InvalidHost);
    }
    out.extend(host.chars().map(|c| c.to_ascii_lowercase()));
    if let Some(port) = auth.port_u16() {
        let default = match scheme {
            "https" | "wss" => Some(443),
            "http" | "ws" => Some(80),
            _ => None,
        };
        if default != Some(port) {
            out.push(':');
            out.push_str(&port.to_string());
        }
    }
    Ok(())
}

fn host_field(headers: &HeaderMap) -> Result<http::uri::Authority> {
    let mut values = headers.get_all(http::header::HOST).iter();
    let first = values.next().ok_or(Error::MissingAuthority)?;
    if values.next().is_some() {
        return Err(Error::InvalidHost);
    }
    let text = std::str::from_utf8(crate::field::trim_ows(first.as_bytes()))
        .map_err(|_| Error::InvalidHost)?;
    if text.is_empty() || text.contains('@') {
        return Err(Error::InvalidHost);
    }
    text.parse::<http::uri::Authority>()
        .map_err(|_| Error::InvalidHost)
}

fn lower_scheme<'a>(req: &RequestView<'a>) -> std::borrow::Cow<'a, str> {
    let s = req.effective_scheme();
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

fn push_path(req: &RequestView<'_>, out: &mut String) {
    let p = req.uri.path();
    if p.is_empty() {
        out.push('/');
    } else {
        out.push_str(p);
    }
}

/// Append the value of a request-derived component.
pub(crate) fn request_value(
    id: &ComponentId,
    d: Derived,
    req: &RequestView<'_>,
    out: &mut String,
) -> Result<()> {
    match d {
        Derived::Method => out.push_str(req.method.as_str()),
        Derived::Scheme => out.push_str(&lower_scheme(req)),
        Derived::Authority => authority(req, &lower_scheme(req), out)?,
        Derived::TargetUri => {
            let scheme = lower_scheme(req);
            out.push_str(&scheme);
            out.push_str("://");
            authority(req, &scheme, out)?;
            push_path(req, out);
            if let Some(q) = req.uri.query() {
                out.push('?');
                out.push_str(q);
            }
        }
        Derived::RequestTarget => {
            if req.method == Method::CONNECT {
                match req.uri.authority() {
                    Some(a) => out.push_str(a.as_str()),
                    None => return Err(Error::MissingAuthority),
                }
            } else if req.uri.scheme().is_some() {
                out.push_str(&req.uri.to_string());
            } else {
                match req.uri.path_and_query() {
                    Some(pq) if !pq.as_str().is_empty() => out.push_str(pq.as_str()),
                    _ => out.push('/'),
                }
            }
        }
        Derived::Path => push_path(req, out),
        Derived::Query => {
            out.push('?');
            if let Some(q) = req.uri.query() {
                out.push_str(q);
            }
        }
        Derived::QueryParam => {
            let name = id.name_param().ok_or(Error::MissingQueryParamName)?;
            query_param_value(req.uri.query(), name, out)?;
        }
        Derived::Status => {
            return Err(Error::DerivedNotApplicable {
                component: id.to_string(),
                message: "request",
            });
        }
    }
    Ok(())
}

/// Append the value of a response-derived component (only `@status` exists).
pub(crate) fn response_value(
    id: &ComponentId,
    d: Derived,
    res: &ResponseView<'_>,
    out: &mut String,
) -> Result<()> {
    match d {
        Derived::Status => {
            out.push_str(res.status.as_str());
            Ok(())
        }
        _ => Err(Error::DerivedNotApplicable {
            component: id.to_string(),
            message: "response",
        }),
    }
}
