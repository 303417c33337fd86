//! A direct parser for the `Signature-Input` field: `sfv`'s visitor API feeds the labels,
//! component identifiers and parameters straight into this crate's types, borrowing from
//! the field text, instead of building an intermediate `sfv::Dictionary`. This is on the
//! hot path of every verification. Semantics are those of RFC 8941 in RFC 8941 mode, except
//! that a repeated label is an error (RFC 9421 §4); a repeated parameter key keeps its
//! first position and takes the last value, as RFC 8941 §4.2.3.2 specifies.

use std::collections::HashSet;
use std::convert::Infallible;

use sfv::visitor::{
    DictionaryVisitor, EntryVisitor, Ignored, InnerListVisitor, ItemVisitor, ParameterVisitor,
};
use sfv::{BareItemFromInput, KeyRef, Parser, RefBareItem, Version};

use crate::component::ComponentId;
use crate::error::{Error, Result};
use crate::params::{MAX_COMPONENTS, SignatureInput, SignatureParams};

type Params<'de> = Vec<(&'de str, BareItemFromInput<'de>)>;

struct RawItem<'de> {
    bare: Option<BareItemFromInput<'de>>,
    params: Params<'de>,
}

struct RawEntry<'de> {
    label: &'de str,
    /// `None` when the member is an item rather than an inner list.
    list: Option<(Vec<RawItem<'de>>, Params<'de>)>,
}

#[derive(Debug)]
struct Repeated;

impl std::fmt::Display for Repeated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("repeated label")
    }
}

impl std::error::Error for Repeated {}

struct Dict<'de, 'r> {
    entries: Vec<RawEntry<'de>>,
    seen: HashSet<&'de str>,
    repeated: &'r mut Option<String>,
}

struct Entry<'a, 'de> {
    entries: &'a mut Vec<RawEntry<'de>>,
    label: &'de str,
}

struct Inner<'a, 'de> {
    entries: &'a mut Vec<RawEntry<'de>>,
    label: &'de str,
    items: Vec<RawItem<'de>>,
}

/// The parameters of an inner list; the entry is recorded when they end.
struct ListParams<'a, 'de> {
    entries: &'a mut Vec<RawEntry<'de>>,
    label: &'de str,
    items: Vec<RawItem<'de>>,
    params: Params<'de>,
}

struct ItemV<'a, 'de> {
    item: &'a mut RawItem<'de>,
}

struct ParamsV<'a, 'de> {
    params: &'a mut Params<'de>,
}

impl<'de> DictionaryVisitor<'de> for Dict<'de, '_> {
    type Out = Vec<RawEntry<'de>>;
    type Error = Repeated;

    fn entry(&mut self, key: &'de KeyRef) -> Result<impl EntryVisitor<'de>, Repeated> {
        if !self.seen.insert(key.as_str()) {
            *self.repeated = Some(key.as_str().to_owned());
            return Err(Repeated);
        }
        Ok(Entry {
            entries: &mut self.entries,
            label: key.as_str(),
        })
    }

    fn finish(self) -> Result<Self::Out, Repeated> {
        Ok(self.entries)
    }
}

impl<'de> EntryVisitor<'de> for Entry<'_, 'de> {
    type Error = Infallible;

    fn item(self) -> Result<impl ItemVisitor<'de>, Infallible> {
        self.entries.push(RawEntry {
            label: self.label,
            list: None,
        });
        Ok(Ignored)
    }

    fn inner_list(self) -> Result<impl InnerListVisitor<'de>, Infallible> {
        Ok(Inner {
            entries: self.entries,
            label: self.label,
            items: Vec::new(),
        })
    }
}

impl<'de> InnerListVisitor<'de> for Inner<'_, 'de> {
    type Error = Infallible;

    fn item(&mut self) -> Result<impl ItemVisitor<'de>, Infallible> {
        self.items.push(RawItem {
            bare: None,
            params: Vec::new(),
        });
        let len = self.items.len();
        Ok(ItemV {
            item: &mut self.items[len - 1],
        })
    }

    fn finish(self) -> Result<impl ParameterVisitor<'de>, Infallible> {
        Ok(ListParams {
            entries: self.entries,
            label: self.label,
            items: self.items,
            params: Vec::new(),
        })
    }
}

impl<'de> ItemVisitor<'de> for ItemV<'_, 'de> {
    type Out = ();
    type Error = Infallible;

    fn bare_item(
        self,
        bare: BareItemFromInput<'de>,
    ) -> Result<impl ParameterVisitor<'de, Out = ()>, Infallible> {
        self.item.bare = Some(bare);
        Ok(ParamsV {
            params: &mut self.item.params,
        })
    }
}

/// Record a parameter: a repeated key keeps its place and takes the new value.
fn set_param<'de>(params: &mut Params<'de>, key: &'de KeyRef, value: BareItemFromInput<'de>) {
    let key = key.as_str();
    match params.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => params.push((key, value)),
    }
}

impl<'de> ParameterVisitor<'de> for ListParams<'_, 'de> {
    type Out = ();
    type Error = Infallible;

    fn parameter(
        &mut self,
        key: &'de KeyRef,
        value: BareItemFromInput<'de>,
    ) -> Result<(), Infallible> {
        set_param(&mut self.params, key, value);
        Ok(())
    }

    fn finish(self) -> Result<(), Infallible> {
        self.entries.push(RawEntry {
            label: self.label,
            list: Some((self.items, self.params)),
        });
        Ok(())
    }
}

impl<'de> ParameterVisitor<'de> for ParamsV<'_, 'de> {
    type Out = ();
    type Error = Infallible;

    fn parameter(
        &mut self,
        key: &'de KeyRef,
        value: BareItemFromInput<'de>,
    ) -> Result<(), Infallible> {
        set_param(self.params, key, value);
        Ok(())
    }

    fn finish(self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Parse a `Signature-Input` value into `(label, input)` pairs, in field order.
pub(crate) fn parse(value: &str) -> Result<Vec<(String, SignatureInput)>> {
    let mut repeated = None;
    let visitor = Dict {
        entries: Vec::new(),
        seen: HashSet::new(),
        repeated: &mut repeated,
    };
    let entries = Parser::new(value)
        .with_version(Version::Rfc8941)
        .parse_dictionary_with_visitor(visitor)
        .map_err(|e| match repeated.take() {
            Some(key) => Error::DuplicateLabel {
                field: "Signature-Input",
                key,
            },
            None => Error::MalformedField {
                field: "Signature-Input",
                reason: e.to_string(),
            },
        })?;
    entries.into_iter().map(convert).collect()
}

fn convert(entry: RawEntry<'_>) -> Result<(String, SignatureInput)> {
    let Some((items, params)) = entry.list else {
        return Err(Error::SignatureInputNotInnerList(entry.label.to_owned()));
    };
    if items.len() > MAX_COMPONENTS {
        return Err(Error::TooManyComponents {
            count: items.len(),
            limit: MAX_COMPONENTS,
        });
    }
    let components = items
        .iter()
        .map(|item| {
            let bare = item.bare.as_ref().ok_or_else(|| Error::MalformedField {
                field: "Signature-Input",
                reason: "inner-list item without a value".into(),
            })?;
            ComponentId::from_parts(
                RefBareItem::from(bare),
                item.params.iter().map(|(k, v)| (*k, RefBareItem::from(v))),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let params =
        SignatureParams::from_pairs(params.iter().map(|(k, v)| (*k, RefBareItem::from(v))))?;
    Ok((
        entry.label.to_owned(),
        SignatureInput::new(components, params),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sfv::ListEntry;

    /// The straightforward path: a strict `sfv::Dictionary`, then conversion.
    fn via_dictionary(value: &str) -> Result<Vec<(String, SignatureInput)>> {
        let dict = crate::structured::parse_dictionary("Signature-Input", value)?;
        dict.iter()
            .map(|(label, entry)| match entry {
                ListEntry::InnerList(il) => Ok((
                    label.as_str().to_owned(),
                    SignatureInput::from_inner_list(il)?,
                )),
                ListEntry::Item(_) => {
                    Err(Error::SignatureInputNotInnerList(label.as_str().to_owned()))
                }
            })
            .collect()
    }

    #[test]
    fn examples_agree() {
        for v in [
            r#"sig1=("@method" "@authority");created=1;keyid="k""#,
            r#"a=("x";req;req "y";key="a";key="b");created=1;created=2"#,
            r#"a=(), b=("@path");tag="t", a=()"#,
            r#"a="x""#,
            r#"a=(1 2)"#,
            r#"a=("x";foo)"#,
            r#"a=();created="x""#,
            r#"a=();created=-5"#,
            r#"a=("@bogus")"#,
            r#"a=(;"#,
            "",
        ] {
            assert_eq!(parse(v), via_dictionary(v), "{v}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_dictionary_path(
            v in r#"([a-c]=(("(@method|@path|x|@query-param)"(;(req|sf|bs|tr|key="[a-c]"|name="[a-z%]{0,3}"|zz|req=\?0))*| ?[0-9]| ?tok)){0,4}\)(;(created|expires|keyid|nonce|tag|alg|ext)(=([0-9-]{1,4}|"[ -~]{0,4}"|\?[01]|:AA==:))?)*(, )?){0,3}"#
        ) {
            prop_assert_eq!(parse(&v), via_dictionary(&v));
        }
    }
}
