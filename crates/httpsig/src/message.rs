//! A read-only view of the HTTP message a signature covers, over `http` 1.x types.
//!
//! The view gives the signature base what RFC 9421 §2 needs and nothing else: method, URI,
//! status, ordered field lines, trailers, and for responses the related request (§2.4,
//! the `req` parameter). It does not own or depend on a body type, so the same code serves
//! `http::Request<B>`, `http::request::Parts`, hyper, axum and raw message files.
//!
//! Two facts are not in an `http::Request` and come from the context: the scheme of a
//! server-side HTTP/1.1 request (TLS or not; default `https`, see [`RequestView::scheme`]),
//! and which fields are structured and of which type (needed by the `sf` parameter, see
//! [`StructuredTypes`]).

use http::{HeaderMap, HeaderName, Method, StatusCode, Uri};

/// The default scheme for requests whose URI has none (origin-form HTTP/1.1).
pub const DEFAULT_SCHEME: &str = "https";

/// The top-level type of a structured field (RFC 8941 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SfType {
    /// An Item.
    Item,
    /// A List.
    List,
    /// A Dictionary.
    Dictionary,
}

/// Structured fields known by default: the RFC 9421/9530/9440 fields and the fields that
/// RFC 8941-era specifications define as structured.
const KNOWN_STRUCTURED: &[(&str, SfType)] = &[
    ("accept-signature", SfType::Dictionary),
    ("cache-status", SfType::List),
    ("cdn-cache-control", SfType::Dictionary),
    ("client-cert", SfType::Item),
    ("client-cert-chain", SfType::List),
    ("content-digest", SfType::Dictionary),
    ("cross-origin-embedder-policy", SfType::Item),
    ("cross-origin-opener-policy", SfType::Item),
    ("origin-agent-cluster", SfType::Item),
    ("priority", SfType::Dictionary),
    ("proxy-status", SfType::List),
    ("repr-digest", SfType::Dictionary),
    ("signature", SfType::Dictionary),
    ("signature-input", SfType::Dictionary),
    ("want-content-digest", SfType::Dictionary),
    ("want-repr-digest", SfType::Dictionary),
];

/// Which fields are structured, and their type, for the `sf` component parameter
/// (RFC 9421 §2.1.1: the application must know the type; an unknown field is an error).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StructuredTypes {
    extra: Vec<(HeaderName, SfType)>,
}

impl StructuredTypes {
    /// The built-in list only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add (or override) a field's type.
    pub fn with(mut self, name: HeaderName, ty: SfType) -> Self {
        self.extra.retain(|(n, _)| n != name);
        self.extra.push((name, ty));
        self
    }

    /// The type of `name`, if known.
    pub fn get(&self, name: &HeaderName) -> Option<SfType> {
        self.extra
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| *t)
            .or_else(|| {
                KNOWN_STRUCTURED
                    .iter()
                    .find(|(n, _)| *n == name.as_str())
                    .map(|(_, t)| *t)
            })
    }
}

static BUILTIN_TYPES: StructuredTypes = StructuredTypes { extra: Vec::new() };

/// The parts of a request a signature can cover.
#[derive(Debug, Clone, Copy)]
pub struct RequestView<'a> {
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) trailers: Option<&'a HeaderMap>,
    pub(crate) scheme: &'a str,
}

impl<'a> RequestView<'a> {
    /// A view over method, URI and header fields.
    pub fn new(method: &'a Method, uri: &'a Uri, headers: &'a HeaderMap) -> Self {
        RequestView {
            method,
            uri,
            headers,
            trailers: None,
            scheme: DEFAULT_SCHEME,
        }
    }

    /// A view over an `http::Request` (the body is not looked at).
    pub fn of<B>(req: &'a http::Request<B>) -> Self {
        Self::new(req.method(), req.uri(), req.headers())
    }

    /// A view over `http::request::Parts`.
    pub fn of_parts(parts: &'a http::request::Parts) -> Self {
        Self::new(&parts.method, &parts.uri, &parts.headers)
    }

    /// The scheme to use when the URI has none (origin-form HTTP/1.1 requests): `https`
    /// unless set here, e.g. `http` for a plaintext listener.
    pub fn scheme(mut self, scheme: &'a str) -> Self {
        self.scheme = scheme;
        self
    }

    /// The request's trailer fields, for components with the `tr` parameter.
    pub fn trailers(mut self, trailers: &'a HeaderMap) -> Self {
        self.trailers = Some(trailers);
        self
    }

    /// The effective scheme, lowercased by the caller of this accessor.
    pub(crate) fn effective_scheme(&self) -> &'a str {
        match self.uri.scheme_str() {
            Some(s) => s,
            None => self.scheme,
        }
    }
}

/// The parts of a response a signature can cover.
#[derive(Debug, Clone, Copy)]
pub struct ResponseView<'a> {
    pub(crate) status: StatusCode,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) trailers: Option<&'a HeaderMap>,
}

impl<'a> ResponseView<'a> {
    /// A view over status and header fields.
    pub fn new(status: StatusCode, headers: &'a HeaderMap) -> Self {
        ResponseView {
            status,
            headers,
            trailers: None,
        }
    }

    /// A view over an `http::Response` (the body is not looked at).
    pub fn of<B>(res: &'a http::Response<B>) -> Self {
        Self::new(res.status(), res.headers())
    }

    /// The response's trailer fields, for components with the `tr` parameter.
    pub fn trailers(mut self, trailers: &'a HeaderMap) -> Self {
        self.trailers = Some(trailers);
        self
    }
}

/// A request or a response.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind<'a> {
    Request(RequestView<'a>),
    Response(ResponseView<'a>),
}

/// The message being signed or verified, with its context.
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    pub(crate) kind: Kind<'a>,
    pub(crate) related: Option<RequestView<'a>>,
    pub(crate) structured: &'a StructuredTypes,
    pub(crate) has_content: bool,
}

impl<'a> MessageView<'a> {
    /// A request message.
    pub fn request(view: RequestView<'a>) -> Self {
        MessageView {
            kind: Kind::Request(view),
            related: None,
            structured: &BUILTIN_TYPES,
            has_content: false,
        }
    }

    /// A response message; add the request it answers with [`MessageView::related_request`].
    pub fn response(view: ResponseView<'a>) -> Self {
        MessageView {
            kind: Kind::Response(view),
            related: None,
            structured: &BUILTIN_TYPES,
            has_content: false,
        }
    }

    /// The request that triggered this response, for components with `req` (§2.4).
    pub fn related_request(mut self, req: RequestView<'a>) -> Self {
        self.related = Some(req);
        self
    }

    /// Structured field types for `sf`, beyond the built-in list.
    pub fn structured_types(mut self, types: &'a StructuredTypes) -> Self {
        self.structured = types;
        self
    }

    /// Declare that the message has content (a non-empty body). The verification policy
    /// then requires `content-digest` to be covered (RFC 9421 §7.2.8).
    pub fn has_content(mut self, yes: bool) -> Self {
        self.has_content = yes;
        self
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.kind, Kind::Request(_))
    }

    /// The message's header fields.
    pub fn headers(&self) -> &'a HeaderMap {
        match self.kind {
            Kind::Request(r) => r.headers,
            Kind::Response(r) => r.headers,
        }
    }

    pub(crate) fn trailers(&self) -> Option<&'a HeaderMap> {
        match self.kind {
            Kind::Request(r) => r.trailers,
            Kind::Response(r) => r.trailers,
        }
    }
}
