//! The `PrivateToken` HTTP authentication scheme (RFC 9577 §2.1.2 and §2.2.1) over a
//! lenient RFC 9110 §11 parser.
//!
//! ```text
//! WWW-Authenticate: PrivateToken challenge="<b64url TokenChallenge>", token-key="<b64url>",
//!                   max-age="10"
//! Authorization:    PrivateToken token="<b64url Token>"
//! ```
//!
//! What the parser accepts, because deployed origins and clients send it:
//!
//! * several challenges in one field value, other schemes mixed in (`Basic realm=...`),
//!   token68 credentials of other schemes, commas with or without following spaces;
//! * parameter values as quoted-strings (with `\` escapes) or bare, including bare values
//!   that contain `=` (base64 padding) which RFC 9110 `token` does not allow;
//! * base64url with or without padding;
//! * unknown parameters (ignored, RFC 9577 §2.1.2), parameter and scheme names in any case;
//! * challenges of token types this crate does not support, greased ones included: they
//!   are kept as [`ChallengeBody::Unsupported`] with only their type read, and a client
//!   skips them.
//!
//! The emitter quotes every value (as the RFC examples do); [`Quoting::Bare`] leaves them
//! unquoted for peers that mishandle quoted-strings.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE};

use crate::error::{Error, Result};
use crate::wire::challenge::{TokenChallenge, TokenType};
use crate::wire::token::Token;

/// The scheme name.
pub const SCHEME: &str = "PrivateToken";

const B64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(false),
);

/// base64url with padding, as RFC 9577 sends it.
pub fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE.encode(bytes)
}

/// base64url, padding optional.
pub fn b64_decode(what: &'static str, s: &str) -> Result<Vec<u8>> {
    B64_LENIENT
        .decode(s.trim())
        .map_err(|_| Error::Base64 { what })
}

/// One RFC 9110 challenge or credentials: a scheme with a token68 and/or parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthItem {
    /// The scheme as written.
    pub scheme: String,
    /// A token68 value (other schemes' credentials such as `Basic dXNlcg==`).
    pub token68: Option<String>,
    /// Parameters, names lower-cased, in order; duplicates kept (first one wins on lookup).
    pub params: Vec<(String, String)>,
}

impl AuthItem {
    /// The first value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

fn is_token68_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-._~+/".contains(&c)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn skip_ws(&mut self) -> bool {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
        self.i > start
    }
    fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> String {
        let start = self.i;
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }
    /// Skip to the next top-level comma (after a syntax error), honouring quotes.
    fn recover(&mut self) {
        let mut quoted = false;
        while let Some(c) = self.peek() {
            match c {
                b'"' => quoted = !quoted,
                b'\\' if quoted => self.i += 1,
                b',' if !quoted => return,
                _ => {}
            }
            self.i += 1;
        }
    }
    /// A quoted-string (cursor on the opening quote) or a bare value.
    fn value(&mut self) -> Result<String> {
        if self.peek() == Some(b'"') {
            self.i += 1;
            let mut out = Vec::new();
            loop {
                match self.peek() {
                    None => return Err(Error::AuthSyntax("unterminated quoted-string")),
                    Some(b'"') => {
                        self.i += 1;
                        return Ok(String::from_utf8_lossy(&out).into_owned());
                    }
                    Some(b'\\') => {
                        self.i += 1;
                        let c = self
                            .peek()
                            .ok_or(Error::AuthSyntax("unterminated quoted-string"))?;
                        out.push(c);
                        self.i += 1;
                    }
                    Some(c) => {
                        out.push(c);
                        self.i += 1;
                    }
                }
            }
        }
        // Bare: RFC 9110 `token`, leniently anything up to a comma or whitespace.
        let v = self.take_while(|c| !matches!(c, b',' | b' ' | b'\t' | b'"'));
        if v.is_empty() {
            return Err(Error::AuthSyntax("empty parameter value"));
        }
        Ok(v)
    }
}

/// Parse one `WWW-Authenticate` or `Authorization` field value into its challenges or
/// credentials. Malformed items are skipped (up to the next comma), never fatal: the
/// field may carry challenges of other schemes that are not ours to judge.
pub fn parse_auth_items(value: &str) -> Vec<AuthItem> {
    let mut c = Cursor {
        s: value.as_bytes(),
        i: 0,
    };
    let mut items: Vec<AuthItem> = Vec::new();
    loop {
        c.skip_ws_and_commas();
        if c.peek().is_none() {
            break;
        }
        let name = c.take_while(is_tchar);
        if name.is_empty() {
            c.i += 1;
            c.recover();
            continue;
        }
        let spaced = c.skip_ws();
        if c.peek() == Some(b'=') {
            // `name = value`: a parameter of the current item.
            c.i += 1;
            c.skip_ws();
            let Some(current) = items.last_mut() else {
                c.recover();
                continue;
            };
            match c.value() {
                Ok(v) => current.params.push((name.to_ascii_lowercase(), v)),
                Err(_) => c.recover(),
            }
            continue;
        }
        // A new scheme.
        let mut item = AuthItem {
            scheme: name,
            token68: None,
            params: Vec::new(),
        };
        if spaced && !matches!(c.peek(), None | Some(b',')) {
            // token68 or the first auth-param.
            let start = c.i;
            let first = c.take_while(is_token68_char);
            c.skip_ws();
            if c.peek() == Some(b'=') {
                // Count '=' then see what follows: end or comma means token68 padding.
                let mut j = c.i;
                while c.s.get(j) == Some(&b'=') {
                    j += 1;
                }
                let mut k = j;
                while matches!(c.s.get(k), Some(b' ' | b'\t')) {
                    k += 1;
                }
                let ends = matches!(c.s.get(k), None | Some(b','));
                let is_param_name = !first.is_empty() && first.bytes().all(is_tchar);
                if ends {
                    // `scheme abc==` (or `abc=`): '=' only as token68 padding.
                    item.token68 = Some(String::from_utf8_lossy(&c.s[start..j]).into_owned());
                    c.i = k;
                } else if is_param_name {
                    c.i += 1;
                    c.skip_ws();
                    match c.value() {
                        Ok(v) => item.params.push((first.to_ascii_lowercase(), v)),
                        Err(_) => c.recover(),
                    }
                } else {
                    c.recover();
                }
            } else if !first.is_empty() && matches!(c.peek(), None | Some(b',')) {
                item.token68 = Some(first);
            } else {
                c.recover();
            }
        }
        items.push(item);
    }
    items
}

/// What a `PrivateToken` challenge carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeBody {
    /// A challenge this crate can answer.
    Supported(TokenChallenge),
    /// A challenge of another token type (greased ones included): only the type was read.
    Unsupported(TokenType),
}

/// One `PrivateToken` challenge of a `WWW-Authenticate` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateTokenChallenge {
    /// The decoded `challenge` parameter.
    pub body: ChallengeBody,
    /// The `challenge` bytes as received (what `challenge_digest` is computed over).
    pub raw: Vec<u8>,
    /// The `token-key` parameter, decoded, when present.
    pub token_key: Option<Vec<u8>>,
    /// The `max-age` parameter, when present and a number.
    pub max_age: Option<u64>,
}

impl PrivateTokenChallenge {
    /// The token type (readable for unsupported types too).
    pub fn token_type(&self) -> TokenType {
        match &self.body {
            ChallengeBody::Supported(c) => c.token_type(),
            ChallengeBody::Unsupported(t) => *t,
        }
    }

    /// The supported challenge, if this is one.
    pub fn challenge(&self) -> Option<&TokenChallenge> {
        match &self.body {
            ChallengeBody::Supported(c) => Some(c),
            ChallengeBody::Unsupported(_) => None,
        }
    }
}

/// Every `PrivateToken` challenge in the `WWW-Authenticate` field values, in order (the
/// origin's preference). Challenges without a decodable `challenge` parameter, or whose
/// supported-type body is malformed, are dropped (RFC 9577 §2.1.1: ignore them).
pub fn parse_www_authenticate<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Vec<PrivateTokenChallenge> {
    let mut out = Vec::new();
    for value in values {
        for item in parse_auth_items(value) {
            if !item.scheme.eq_ignore_ascii_case(SCHEME) {
                continue;
            }
            let Some(raw) = item
                .param("challenge")
                .and_then(|c| b64_decode("challenge", c).ok())
            else {
                continue;
            };
            let Some(type_bytes) = raw.get(..2) else {
                continue;
            };
            let token_type = TokenType(u16::from_be_bytes([type_bytes[0], type_bytes[1]]));
            let body = if token_type.is_supported() {
                match TokenChallenge::decode(&raw) {
                    Ok(c) => ChallengeBody::Supported(c),
                    Err(_) => continue,
                }
            } else {
                ChallengeBody::Unsupported(token_type)
            };
            let token_key = item
                .param("token-key")
                .and_then(|k| b64_decode("token-key", k).ok());
            let max_age = item.param("max-age").and_then(|m| m.trim().parse().ok());
            out.push(PrivateTokenChallenge {
                body,
                raw,
                token_key,
                max_age,
            });
        }
    }
    out
}

/// How [`build_www_authenticate`] and [`build_authorization`] write values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quoting {
    /// `challenge="..."` (RFC 9577 examples).
    #[default]
    Quoted,
    /// `challenge=...` for peers that reject quoted-strings.
    Bare,
}

fn put_param(out: &mut String, name: &str, value: &str, quoting: Quoting) {
    out.push_str(name);
    out.push('=');
    match quoting {
        Quoting::Quoted => {
            out.push('"');
            out.push_str(value);
            out.push('"');
        }
        Quoting::Bare => out.push_str(value),
    }
}

/// One `PrivateToken` challenge for `WWW-Authenticate`.
pub fn build_www_authenticate(
    challenge: &TokenChallenge,
    token_key: Option<&[u8]>,
    max_age: Option<u64>,
    quoting: Quoting,
) -> String {
    let mut out = String::from(SCHEME);
    out.push(' ');
    put_param(
        &mut out,
        "challenge",
        &b64_encode(&challenge.encode()),
        quoting,
    );
    if let Some(k) = token_key {
        out.push_str(", ");
        put_param(&mut out, "token-key", &b64_encode(k), quoting);
    }
    if let Some(m) = max_age {
        out.push_str(", ");
        put_param(&mut out, "max-age", &m.to_string(), quoting);
    }
    out
}

/// `PrivateToken token="..."` for `Authorization`.
pub fn build_authorization(token: &Token, quoting: Quoting) -> String {
    let mut out = String::from(SCHEME);
    out.push(' ');
    put_param(&mut out, "token", &b64_encode(&token.encode()), quoting);
    out
}

/// The token bytes of the first `PrivateToken` credentials in an `Authorization` field
/// value (other schemes are skipped).
pub fn parse_authorization(value: &str) -> Result<Vec<u8>> {
    if let Some(token) = simple_authorization(value) {
        return b64_decode("token", token);
    }
    let mut saw_scheme = false;
    for item in parse_auth_items(value) {
        if !item.scheme.eq_ignore_ascii_case(SCHEME) {
            continue;
        }
        saw_scheme = true;
        if let Some(t) = item.param("token") {
            return b64_decode("token", t);
        }
    }
    if saw_scheme {
        Err(Error::MissingParameter("token"))
    } else {
        Err(Error::NoCredentials)
    }
}

/// Fast path for the shape clients send: exactly `PrivateToken token=<v>` or
/// `PrivateToken token="<v>"` (scheme and parameter name case-insensitive, optional
/// whitespace around `=`), one parameter, `<v>` made of base64url characters and padding
/// only. For such a value the general parser finds the same single token, so the result
/// is identical; anything else (several parameters or schemes, commas, escapes, other
/// characters) returns `None` and goes through the general parser.
fn simple_authorization(value: &str) -> Option<&str> {
    const WS: [char; 2] = [' ', '\t'];
    let v = value.trim_matches(WS);
    let (scheme, rest) = v.split_at_checked(SCHEME.len())?;
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let rest = rest.strip_prefix(WS)?.trim_start_matches(WS);
    let (name, rest) = rest.split_at_checked("token".len())?;
    if !name.eq_ignore_ascii_case("token") {
        return None;
    }
    let rest = rest.trim_start_matches(WS).strip_prefix('=')?;
    let rest = rest.trim_start_matches(WS);
    let token = match rest.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"')?,
        None => rest,
    };
    let b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=');
    (!token.is_empty() && !token.starts_with('=') && token.bytes().all(b64)).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_fast_path_agrees_with_the_general_parser() {
        let general = |value: &str| -> Result<Vec<u8>> {
            let item = parse_auth_items(value)
                .into_iter()
                .find(|i| i.scheme.eq_ignore_ascii_case(SCHEME))
                .ok_or(Error::NoCredentials)?;
            b64_decode(
                "token",
                item.param("token")
                    .ok_or(Error::MissingParameter("token"))?,
            )
        };
        for value in [
            "PrivateToken token=AAECAw==",
            "PrivateToken token=\"AAECAw==\"",
            "privatetoken TOKEN=AAECAw",
            "  PrivateToken   token = \"AAECAw==\"  ",
            "PrivateToken token=AAEC_w8=",
            "PrivateToken\ttoken=AAECAw==",
        ] {
            assert!(simple_authorization(value).is_some(), "{value}");
            let fast = parse_authorization(value);
            assert!(fast.is_ok(), "{value}");
            assert_eq!(fast, general(value), "{value}");
        }
        for value in [
            "PrivateToken token=AAECAw==, extensions=AAA",
            "PrivateToken token=\"AA\\ECAw==\"",
            "PrivateToken token=",
            "PrivateToken token==AA",
            "PrivateToken token=AA+/",
            "PrivateTokentoken=AA",
            "Basic token=AA",
            "PrivateToken realm=x",
            "PrivateToken token=\"AA",
        ] {
            assert!(simple_authorization(value).is_none(), "{value}");
        }
    }

    #[test]
    fn mixed_schemes_token68_and_params() {
        let items = parse_auth_items(
            r#"Basic dXNlcjpwYXNz==, Bearer realm="x", error=invalid_token,PrivateToken challenge=AAE=, token-key="a\"b""#,
        );
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items[0].scheme, "Basic");
        assert_eq!(items[0].token68.as_deref(), Some("dXNlcjpwYXNz=="));
        assert_eq!(items[1].param("REALM"), Some("x"));
        assert_eq!(items[1].param("error"), Some("invalid_token"));
        assert_eq!(items[2].param("challenge"), Some("AAE="));
        assert_eq!(items[2].param("token-key"), Some("a\"b"));
    }

    #[test]
    fn token68_without_padding_and_bare_scheme() {
        let items = parse_auth_items("Negotiate, Basic abc, Digest");
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].token68.as_deref(), Some("abc"));
        assert!(items[0].token68.is_none() && items[2].params.is_empty());
    }

    #[test]
    fn garbage_never_panics_and_is_skipped() {
        for s in [
            "",
            ",,,",
            "=",
            "\"",
            "a=\"unterminated",
            "PrivateToken ==, x",
            "\u{e9}\u{e9}",
        ] {
            let _ = parse_auth_items(s);
            let _ = parse_www_authenticate([s]);
            let _ = parse_authorization(s);
        }
    }

    #[test]
    fn authorization_takes_the_private_token_credentials() {
        assert_eq!(
            parse_authorization("Basic abc, PrivateToken token=AAEC").unwrap(),
            vec![0, 1, 2]
        );
        assert_eq!(
            parse_authorization("PrivateToken token=\"AAECAw==\"").unwrap(),
            vec![0, 1, 2, 3]
        );
        assert_eq!(parse_authorization("Basic abc"), Err(Error::NoCredentials));
        assert_eq!(
            parse_authorization("PrivateToken other=1"),
            Err(Error::MissingParameter("token"))
        );
        assert!(matches!(
            parse_authorization("PrivateToken token=\"!!\""),
            Err(Error::Base64 { .. })
        ));
    }
}
