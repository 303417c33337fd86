//! Component identifiers (RFC 9421 §2): what a signature covers.
//!
//! An identifier is a component name (a lowercase HTTP field name, or a derived component
//! starting with `@`) plus an ordered set of parameters from the HTTP Signature Component
//! Parameters registry (§6.5): `sf`, `key`, `bs`, `req`, `tr`, and `name` for
//! `@query-param`. Parameter order is kept for serialization but ignored for equality, so
//! `"a";bs;req` and `"a";req;bs` are the same identifier (and covering both is an error).
//! Every identifier is validated when it is created: unknown or inapplicable parameters,
//! `bs` with `sf`/`key`, values of the wrong type and unknown `@` names are refused here.

use std::fmt;

use http::HeaderName;
use sfv::{Item, ListEntry, Parser, RefBareItem, Version};

use crate::error::{Error, Result};
use crate::structured::{is_sf_string, push_sf_string};

/// A derived component (RFC 9421 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Derived {
    /// `@method`: the request method, case-sensitive.
    Method,
    /// `@target-uri`: the absolute target URI.
    TargetUri,
    /// `@authority`: host and non-default port, lowercased.
    Authority,
    /// `@scheme`: the URI scheme, lowercased.
    Scheme,
    /// `@request-target`: the HTTP/1.1 request-target as sent.
    RequestTarget,
    /// `@path`: the absolute path, `/` when empty.
    Path,
    /// `@query`: the query with its leading `?`, `?` when absent.
    Query,
    /// `@query-param;name="..."`: one query parameter's value.
    QueryParam,
    /// `@status`: the response status code.
    Status,
}

impl Derived {
    /// Every derived component, in RFC order.
    pub const ALL: [Derived; 9] = [
        Derived::Method,
        Derived::TargetUri,
        Derived::Authority,
        Derived::Scheme,
        Derived::RequestTarget,
        Derived::Path,
        Derived::Query,
        Derived::QueryParam,
        Derived::Status,
    ];

    /// The component name, with its `@`.
    pub fn name(self) -> &'static str {
        match self {
            Derived::Method => "@method",
            Derived::TargetUri => "@target-uri",
            Derived::Authority => "@authority",
            Derived::Scheme => "@scheme",
            Derived::RequestTarget => "@request-target",
            Derived::Path => "@path",
            Derived::Query => "@query",
            Derived::QueryParam => "@query-param",
            Derived::Status => "@status",
        }
    }

    fn from_name(name: &str) -> Result<Derived> {
        Derived::ALL
            .into_iter()
            .find(|d| d.name() == name)
            .ok_or_else(|| {
                if name == "@signature-params" {
                    Error::SignatureParamsCovered
                } else {
                    Error::UnknownDerivedComponent(name.to_owned())
                }
            })
    }
}

/// The name part of a component identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ComponentName {
    /// An HTTP field, by its lowercase name (§2.1).
    Field(HeaderName),
    /// A derived component (§2.2).
    Derived(Derived),
}

impl ComponentName {
    /// The name as it appears inside the quotes.
    pub fn as_str(&self) -> &str {
        match self {
            ComponentName::Field(h) => h.as_str(),
            ComponentName::Derived(d) => d.name(),
        }
    }
}

/// One component parameter (RFC 9421 §6.5 registry).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ComponentParam {
    /// `sf`: strict structured-field serialization (§2.1.1).
    Sf,
    /// `key="k"`: one dictionary member (§2.1.2).
    Key(String),
    /// `bs`: each field line wrapped as a byte sequence (§2.1.3).
    Bs,
    /// `req`: take the value from the related request (§2.4).
    Req,
    /// `tr`: take the value from the trailers (§2.1.4).
    Tr,
    /// `name="n"`: the query parameter of `@query-param` (§2.2.8).
    Name(String),
}

impl ComponentParam {
    fn key(&self) -> &'static str {
        match self {
            ComponentParam::Sf => "sf",
            ComponentParam::Key(_) => "key",
            ComponentParam::Bs => "bs",
            ComponentParam::Req => "req",
            ComponentParam::Tr => "tr",
            ComponentParam::Name(_) => "name",
        }
    }
}

/// A component identifier: name plus parameters, validated, with its serialization cached
/// (the signature base and `Signature-Input` reuse it without re-serializing).
#[derive(Debug, Clone)]
pub struct ComponentId {
    name: ComponentName,
    params: Vec<ComponentParam>,
    serialized: String,
}

impl PartialEq for ComponentId {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.params.len() == other.params.len()
            && self.params.iter().all(|p| other.params.contains(p))
    }
}

impl Eq for ComponentId {}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialized)
    }
}

impl ComponentId {
    /// Build an identifier from a name (`"content-type"`, `"@method"`) and parameters,
    /// validating both.
    pub fn new(name: &str, params: Vec<ComponentParam>) -> Result<Self> {
        let name = if name.starts_with('@') {
            ComponentName::Derived(Derived::from_name(name)?)
        } else {
            if name.is_empty() || name.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(Error::InvalidComponentName(name.to_owned()));
            }
            ComponentName::Field(
                HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| Error::InvalidComponentName(name.to_owned()))?,
            )
        };
        let mut id = ComponentId {
            name,
            params,
            serialized: String::new(),
        };
        id.serialized = id.serialize();
        id.validate()?;
        Ok(id)
    }

    /// An HTTP field with no parameters.
    pub fn field(name: &str) -> Result<Self> {
        Self::new(name, Vec::new())
    }

    /// A derived component with no parameters (`@query-param` needs [`ComponentId::query_param`]).
    pub fn derived(d: Derived) -> Result<Self> {
        Self::new(d.name(), Vec::new())
    }

    /// `"@query-param";name="<name>"`; `name` is the already percent-encoded name.
    pub fn query_param(name: &str) -> Result<Self> {
        Self::new("@query-param", vec![ComponentParam::Name(name.to_owned())])
    }

    /// The same identifier with one more parameter.
    pub fn with_param(self, p: ComponentParam) -> Result<Self> {
        let mut params = self.params;
        params.push(p);
        Self::new(self.name.as_str(), params)
    }

    /// Parse one serialized identifier, e.g. `"@query-param";name="Pet"`.
    pub fn parse(s: &str) -> Result<Self> {
        let item: Item = Parser::new(s)
            .with_version(Version::Rfc8941)
            .parse_item()
            .map_err(|e| Error::MalformedField {
                field: "component identifier",
                reason: e.to_string(),
            })?;
        Self::from_item(&item)
    }

    /// Parse a whitespace-separated list of identifiers, e.g. `"@method" "@path" "date"`
    /// (the inside of a `Signature-Input` inner list; surrounding parentheses optional).
    pub fn parse_list(s: &str) -> Result<Vec<Self>> {
        let trimmed = s.trim();
        let wrapped;
        let inner = if trimmed.starts_with('(') {
            trimmed
        } else {
            wrapped = format!("({trimmed})");
            &wrapped
        };
        let list: sfv::List = Parser::new(inner)
            .with_version(Version::Rfc8941)
            .parse_list()
            .map_err(|e| Error::MalformedField {
                field: "component list",
                reason: e.to_string(),
            })?;
        match list.as_slice() {
            [ListEntry::InnerList(il)] if il.params.is_empty() => {
                il.items.iter().map(Self::from_item).collect()
            }
            _ => Err(Error::MalformedField {
                field: "component list",
                reason: "expected one parenthesized list of strings".into(),
            }),
        }
    }

    /// Build from a parsed sf-item (a member of a `Signature-Input` inner list).
    pub fn from_item(item: &Item) -> Result<Self> {
        Self::from_parts(
            RefBareItem::from(&item.bare_item),
            item.params
                .iter()
                .map(|(k, v)| (k.as_str(), RefBareItem::from(v))),
        )
    }

    /// Build from a bare item and its parameters as borrowed from the parser.
    pub(crate) fn from_parts<'a>(
        bare: RefBareItem<'_>,
        params: impl ExactSizeIterator<Item = (&'a str, RefBareItem<'a>)>,
    ) -> Result<Self> {
        let RefBareItem::String(name) = bare else {
            return Err(Error::ComponentNotString(
                sfv::ItemSerializer::new().bare_item(bare).finish(),
            ));
        };
        let name = name.as_str();
        let mut out = Vec::with_capacity(params.len());
        for (k, v) in params {
            let bad_value = || Error::InvalidComponentParameterValue {
                component: format!("\"{name}\""),
                parameter: k.to_owned(),
            };
            let p = match (k, v) {
                ("sf", RefBareItem::Boolean(true)) => ComponentParam::Sf,
                ("bs", RefBareItem::Boolean(true)) => ComponentParam::Bs,
                ("req", RefBareItem::Boolean(true)) => ComponentParam::Req,
                ("tr", RefBareItem::Boolean(true)) => ComponentParam::Tr,
                ("key", RefBareItem::String(s)) => ComponentParam::Key(s.as_str().to_owned()),
                ("name", RefBareItem::String(s)) => ComponentParam::Name(s.as_str().to_owned()),
                ("sf" | "bs" | "req" | "tr" | "key" | "name", _) => return Err(bad_value()),
                (other, _) => {
                    return Err(Error::UnknownComponentParameter {
                        component: format!("\"{name}\""),
                        parameter: other.to_owned(),
                    });
                }
            };
            out.push(p);
        }
        Self::new(name, out)
    }

    /// The component name.
    pub fn name(&self) -> &ComponentName {
        &self.name
    }

    /// The parameters, in their original order.
    pub fn params(&self) -> &[ComponentParam] {
        &self.params
    }

    /// The serialized identifier as it appears in the base and in `Signature-Input`.
    pub fn as_str(&self) -> &str {
        &self.serialized
    }

    /// Whether the `req` parameter is present.
    pub fn is_req(&self) -> bool {
        self.params.contains(&ComponentParam::Req)
    }

    pub(crate) fn has(&self, p: &ComponentParam) -> bool {
        self.params.contains(p)
    }

    pub(crate) fn key_param(&self) -> Option<&str> {
        self.params.iter().find_map(|p| match p {
            ComponentParam::Key(k) => Some(k.as_str()),
            _ => None,
        })
    }

    pub(crate) fn name_param(&self) -> Option<&str> {
        self.params.iter().find_map(|p| match p {
            ComponentParam::Name(k) => Some(k.as_str()),
            _ => None,
        })
    }

    fn serialize(&self) -> String {
        let mut s = String::with_capacity(self.name.as_str().len() + 8);
        push_sf_string(&mut s, self.name.as_str());
        for p in &self.params {
            s.push(';');
            s.push_str(p.key());
            match p {
                ComponentParam::Key(v) | ComponentParam::Name(v) => {
                    s.push('=');
                    push_sf_string(&mut s, v);
                }
                _ => {}
            }
        }
        s
    }

    fn validate(&self) -> Result<()> {
        let comp = || self.serialized.clone();
        // Each parameter at most once (the SFV parser already merges repeats; builders may not).
        for (i, p) in self.params.iter().enumerate() {
            if self.params[..i].iter().any(|q| q.key() == p.key()) {
                return Err(Error::UnknownComponentParameter {
                    component: comp(),
                    parameter: format!("{} (repeated)", p.key()),
                });
            }
            if let ComponentParam::Key(v) | ComponentParam::Name(v) = p
                && !is_sf_string(v)
            {
                return Err(Error::InvalidComponentParameterValue {
                    component: comp(),
                    parameter: p.key().to_owned(),
                });
            }
        }
        match &self.name {
            ComponentName::Field(_) => {
                if let Some(p) = self
                    .params
                    .iter()
                    .find(|p| matches!(p, ComponentParam::Name(_)))
                {
                    return Err(Error::UnknownComponentParameter {
                        component: comp(),
                        parameter: p.key().to_owned(),
                    });
                }
                let bs = self.has(&ComponentParam::Bs);
                if bs && self.has(&ComponentParam::Sf) {
                    return Err(Error::IncompatibleComponentParameters {
                        component: comp(),
                        first: "bs",
                        second: "sf",
                    });
                }
                if bs && self.key_param().is_some() {
                    return Err(Error::IncompatibleComponentParameters {
                        component: comp(),
                        first: "bs",
                        second: "key",
                    });
                }
                if let Some(k) = self.key_param()
                    && !crate::structured::is_sf_key(k)
                {
                    return Err(Error::InvalidComponentParameterValue {
                        component: comp(),
                        parameter: "key".into(),
                    });
                }
            }
            ComponentName::Derived(d) => {
                for p in &self.params {
                    let ok = match p {
                        ComponentParam::Req => true,
                        ComponentParam::Name(_) => *d == Derived::QueryParam,
                        _ => false,
                    };
                    if !ok {
                        return Err(Error::UnknownComponentParameter {
                            component: comp(),
                            parameter: p.key().to_owned(),
                        });
                    }
                }
                if *d == Derived::QueryParam && self.name_param().is_none() {
                    return Err(Error::MissingQueryParamName);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_serialize() {
        let c = ComponentId::parse(r#""@query-param";name="Pet""#).unwrap();
        assert_eq!(c.as_str(), r#""@query-param";name="Pet""#);
        let c = ComponentId::parse(r#""example-dict";key="a""#).unwrap();
        assert_eq!(c.key_param(), Some("a"));
        let c = ComponentId::parse(r#""content-digest";req"#).unwrap();
        assert!(c.is_req());
    }

    #[test]
    fn equality_ignores_parameter_order() {
        let a = ComponentId::parse(r#""x";req;tr"#).unwrap();
        let b = ComponentId::parse(r#""x";tr;req"#).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, ComponentId::parse(r#""x";tr"#).unwrap());
    }

    #[test]
    fn rejects_bad_identifiers() {
        assert_eq!(
            ComponentId::parse(r#""@nope""#).unwrap_err(),
            Error::UnknownDerivedComponent("@nope".into())
        );
        assert_eq!(
            ComponentId::parse(r#""@signature-params""#).unwrap_err(),
            Error::SignatureParamsCovered
        );
        assert!(matches!(
            ComponentId::parse(r#""x";foo"#),
            Err(Error::UnknownComponentParameter { .. })
        ));
        assert!(matches!(
            ComponentId::parse(r#""x";bs;sf"#),
            Err(Error::IncompatibleComponentParameters { .. })
        ));
        assert!(matches!(
            ComponentId::parse(r#""x";bs;key="a""#),
            Err(Error::IncompatibleComponentParameters { .. })
        ));
        assert!(matches!(
            ComponentId::parse(r#""x";key=1"#),
            Err(Error::InvalidComponentParameterValue { .. })
        ));
        assert!(matches!(
            ComponentId::parse(r#""x";sf=?0"#),
            Err(Error::InvalidComponentParameterValue { .. })
        ));
        assert!(matches!(
            ComponentId::parse(r#""@method";sf"#),
            Err(Error::UnknownComponentParameter { .. })
        ));
        assert!(matches!(
            ComponentId::parse(r#""@path";name="a""#),
            Err(Error::UnknownComponentParameter { .. })
        ));
        assert!(matches!(
            ComponentId::parse(r#""x";name="a""#),
            Err(Error::UnknownComponentParameter { .. })
        ));
        assert_eq!(
            ComponentId::parse(r#""@query-param""#).unwrap_err(),
            Error::MissingQueryParamName
        );
        assert!(matches!(
            ComponentId::parse(r#""Content-Type""#),
            Err(Error::InvalidComponentName(_))
        ));
        assert!(matches!(
            ComponentId::parse("content-type"),
            Err(Error::ComponentNotString(_))
        ));
        assert!(matches!(
            ComponentId::parse(r#""bad header""#),
            Err(Error::InvalidComponentName(_))
        ));
    }

    #[test]
    fn parse_list_accepts_bare_and_parenthesized() {
        let a = ComponentId::parse_list(r#""@method" "@path" "date""#).unwrap();
        let b = ComponentId::parse_list(r#"("@method" "@path" "date")"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 3);
        assert!(ComponentId::parse_list(r#"("@method");x=1"#).is_err());
    }
}
