//! RFC 9421 §2 component values (the RFC's own examples), the B.4 transformation cases, and
//! one negative test for every §2.5 failure.
#![allow(
    clippy::field_reassign_with_default,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

mod common;

use bytes::Bytes;
use common::*;
use http::{HeaderMap, HeaderName, HeaderValue};
use secdispatch_httpsig::Error;
use secdispatch_httpsig::base::signature_base;
use secdispatch_httpsig::component::ComponentId;
use secdispatch_httpsig::fields::{SIGNATURE, SIGNATURE_INPUT};
use secdispatch_httpsig::http1::RawMessage;
use secdispatch_httpsig::message::{
    MessageView, RequestView, ResponseView, SfType, StructuredTypes,
};
use secdispatch_httpsig::params::{SignatureInput, SignatureParams};
use secdispatch_httpsig::resolver::StaticResolver;
use secdispatch_httpsig::verify::{Verifier, VerifyPolicy};

fn req(text: &str) -> http::Request<Bytes> {
    RawMessage::parse(text.as_bytes())
        .unwrap()
        .to_request()
        .unwrap()
}

fn input(components: &str) -> SignatureInput {
    SignatureInput::new(
        ComponentId::parse_list(components).unwrap(),
        SignatureParams::new(),
    )
}

/// The base lines (without the @signature-params line).
fn lines_of(view: &MessageView<'_>, components: &str) -> Result<Vec<String>, Error> {
    let base = signature_base(view, &input(components))?;
    let mut lines: Vec<String> = base.as_str().split('\n').map(str::to_owned).collect();
    lines.pop();
    Ok(lines)
}

fn req_lines(r: &http::Request<Bytes>, components: &str) -> Result<Vec<String>, Error> {
    lines_of(&MessageView::request(RequestView::of(r)), components)
}

fn one(r: &http::Request<Bytes>, component: &str) -> Result<String, Error> {
    Ok(req_lines(r, component)?.remove(0))
}

/// Expected lines from component_examples.txt by section marker.
fn examples(section: &str) -> Vec<String> {
    let text = read("component_examples.txt");
    let mut out = Vec::new();
    let mut on = false;
    for l in text.lines() {
        if l.starts_with('#') {
            on = l.contains(section);
            continue;
        }
        if on && !l.is_empty() {
            out.push(l.replace("(SP)", " "));
        }
    }
    out
}

const FIELDS_REQUEST: &str = "GET /foo HTTP/1.1\nHost: www.example.com\nDate: Tue, 20 Apr 2021 02:07:56 GMT\nX-OWS-Header:   Leading and trailing whitespace.   \nX-Obs-Fold-Header: Obsolete\n    line folding.\nCache-Control: max-age=60\nCache-Control:    must-revalidate\nExample-Dict:  a=1,    b=2;x=1;y=2,   c=(a   b   c)\nX-Empty-Header: \n\n";

#[test]
fn http_fields_section_2_1() {
    let r = req(FIELDS_REQUEST);
    let got = req_lines(
        &r,
        r#""host" "date" "x-ows-header" "x-obs-fold-header" "cache-control" "example-dict""#,
    )
    .unwrap();
    assert_eq!(got, examples("md line 329"));
    // An empty field gives an empty value (with the separating space).
    assert_eq!(
        one(&r, r#""x-empty-header""#).unwrap(),
        "\"x-empty-header\": "
    );
}

#[test]
fn strict_serialization_sf() {
    let r = req(FIELDS_REQUEST);
    let types =
        StructuredTypes::new().with(HeaderName::from_static("example-dict"), SfType::Dictionary);
    let view = MessageView::request(RequestView::of(&r)).structured_types(&types);
    assert_eq!(
        lines_of(&view, r#""example-dict";sf"#).unwrap(),
        examples("md line 398")
    );
    // Without knowing the type, `sf` is an error.
    assert_eq!(
        req_lines(&r, r#""example-dict";sf"#).unwrap_err(),
        Error::UnknownStructuredType(r#""example-dict";sf"#.into())
    );
}

#[test]
fn dictionary_members_key() {
    let r = req("GET / HTTP/1.1\nHost: a\nExample-Dict:  a=1, b=2;x=1;y=2, c=(a   b    c), d\n\n");
    let got = req_lines(
        &r,
        r#""example-dict";key="a" "example-dict";key="d" "example-dict";key="b" "example-dict";key="c""#,
    )
    .unwrap();
    assert_eq!(got, examples("md line 424"));
    assert_eq!(
        one(&r, r#""example-dict";key="zz""#).unwrap_err(),
        Error::MissingDictionaryKey {
            component: r#""example-dict";key="zz""#.into(),
            key: "zz".into()
        }
    );
}

#[test]
fn binary_wrapped_bs() {
    let two = req(
        "GET / HTTP/1.1\nHost: a\nExample-Header: value, with, lots\nExample-Header: of, commas\n\n",
    );
    assert_eq!(
        req_lines(&two, r#""example-header";bs"#).unwrap(),
        examples("md line 470")
    );
    let merged = req("GET / HTTP/1.1\nHost: a\nExample-Header: value, with, lots, of, commas\n\n");
    assert_eq!(
        req_lines(&merged, r#""example-header";bs"#).unwrap(),
        examples("md line 476")
    );
}

#[test]
fn trailer_fields_tr() {
    let m = RawMessage::parse(
        b"HTTP/1.1 200 OK\nContent-Type: text/plain\nTransfer-Encoding: chunked\nTrailer: Expires\n\n4\nWiki\n0\nExpires: Wed, 9 Nov 2022 07:28:00 GMT\n\n",
    )
    .unwrap();
    let res = m.to_response().unwrap();
    let trailers = m.trailer_map().unwrap();
    let view = MessageView::response(ResponseView::of(&res).trailers(&trailers));
    assert_eq!(
        lines_of(&view, r#""@status" "trailer" "expires";tr"#).unwrap(),
        examples("md line 506")
    );
    // Header and trailer values are never combined: no Expires header here.
    assert_eq!(
        lines_of(&view, r#""expires""#).unwrap_err(),
        Error::MissingField("\"expires\"".into())
    );
    // Without trailers at all, `tr` is an error.
    let view = MessageView::response(ResponseView::of(&res));
    assert_eq!(
        lines_of(&view, r#""expires";tr"#).unwrap_err(),
        Error::MissingTrailer("\"expires\";tr".into())
    );
}

#[test]
fn query_parameters() {
    let r =
        req("GET /path?param=value&foo=bar&baz=batman&qux= HTTP/1.1\nHost: www.example.com\n\n");
    assert_eq!(
        req_lines(
            &r,
            r#""@query-param";name="baz" "@query-param";name="qux" "@query-param";name="param""#
        )
        .unwrap(),
        examples("md line 862")
    );
    let r = req(
        "GET /parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something HTTP/1.1\nHost: www.example.com\n\n",
    );
    assert_eq!(
        req_lines(
            &r,
            r#""@query-param";name="var" "@query-param";name="bar" "@query-param";name="fa%C3%A7ade%22%3A%20""#
        )
        .unwrap(),
        examples("md line 884")
    );
}

#[test]
fn derived_components_section_2_2() {
    let r = req("POST /path?param=value HTTP/1.1\nHost: www.example.com\n\n");
    let got = req_lines(
        &r,
        r#""@method" "@target-uri" "@authority" "@scheme" "@request-target" "@path" "@query""#,
    )
    .unwrap();
    assert_eq!(
        got,
        [
            "\"@method\": POST",
            "\"@target-uri\": https://www.example.com/path?param=value",
            "\"@authority\": www.example.com",
            "\"@scheme\": https",
            "\"@request-target\": /path?param=value",
            "\"@path\": /path",
            "\"@query\": ?param=value",
        ]
    );
    // Plain HTTP, scheme supplied by the context.
    let view = MessageView::request(RequestView::of(&r).scheme("http"));
    assert_eq!(
        lines_of(&view, r#""@scheme" "@target-uri""#).unwrap(),
        [
            "\"@scheme\": http",
            "\"@target-uri\": http://www.example.com/path?param=value"
        ]
    );
    // No query → "?"; query string without '=' kept verbatim.
    let r2 = req("GET /path HTTP/1.1\nHost: www.example.com\n\n");
    assert_eq!(one(&r2, r#""@query""#).unwrap(), "\"@query\": ?");
    let r3 = req("GET /path?queryString HTTP/1.1\nHost: www.example.com\n\n");
    assert_eq!(one(&r3, r#""@query""#).unwrap(), "\"@query\": ?queryString");
    // Authority: lowercase host, default port dropped, other ports kept.
    let r4 = req("GET / HTTP/1.1\nHost: WWW.Example.COM:443\n\n");
    assert_eq!(
        one(&r4, r#""@authority""#).unwrap(),
        "\"@authority\": www.example.com"
    );
    let r5 = req("GET / HTTP/1.1\nHost: www.example.com:8443\n\n");
    assert_eq!(
        one(&r5, r#""@authority""#).unwrap(),
        "\"@authority\": www.example.com:8443"
    );
    // Absolute-form, authority-form, asterisk-form request targets.
    let r6 =
        req("GET https://www.example.com/path?param=value HTTP/1.1\nHost: www.example.com\n\n");
    assert_eq!(
        one(&r6, r#""@request-target""#).unwrap(),
        "\"@request-target\": https://www.example.com/path?param=value"
    );
    let r7 = req("CONNECT www.example.com:80 HTTP/1.1\nHost: www.example.com:80\n\n");
    assert_eq!(
        one(&r7, r#""@request-target""#).unwrap(),
        "\"@request-target\": www.example.com:80"
    );
    let r8 = req("OPTIONS * HTTP/1.1\nHost: www.example.com\n\n");
    assert_eq!(
        one(&r8, r#""@request-target""#).unwrap(),
        "\"@request-target\": *"
    );
    // Status.
    let res = http::Response::builder().status(200).body(()).unwrap();
    let view = MessageView::response(ResponseView::of(&res));
    assert_eq!(
        lines_of(&view, r#""@status""#).unwrap(),
        ["\"@status\": 200"]
    );
}

#[test]
fn signature_params_example() {
    let p = SignatureParams::new()
        .keyid("test-key-rsa-pss")
        .unwrap()
        .alg("rsa-pss-sha512")
        .unwrap()
        .created(1618884475)
        .unwrap()
        .expires(1618884775)
        .unwrap();
    let i = SignatureInput::new(
        ComponentId::parse_list(r#""@target-uri" "@authority" "date" "cache-control""#).unwrap(),
        p,
    );
    assert_eq!(i.serialize(), examples("md line 959")[0]);
}

#[test]
fn req_binds_response_to_request() {
    // §2.4: a response component taken from the request.
    let request = test_request();
    let res = busy_response();
    let view =
        MessageView::response(ResponseView::of(&res)).related_request(RequestView::of(&request));
    let lines = lines_of(
        &view,
        r#""@status" "@method";req "@query-param";name="Pet";req "content-type";req"#,
    )
    .unwrap();
    assert_eq!(
        lines,
        [
            "\"@status\": 503",
            "\"@method\";req: POST",
            "\"@query-param\";name=\"Pet\";req: dog",
            "\"content-type\";req: application/json",
        ]
    );
}

// ---- B.4 transformations -------------------------------------------------------------

fn verify_b4(text: &str) -> Result<(), Error> {
    let mut r = req(text);
    r.headers_mut().insert(
        SIGNATURE_INPUT,
        header_value("b4_transform.signature-input.txt")
            .parse()
            .unwrap(),
    );
    r.headers_mut().insert(
        SIGNATURE,
        header_value("b4_transform.signature.txt").parse().unwrap(),
    );
    let resolver =
        StaticResolver::new().with("test-key-ed25519", verifying_key("test-key-ed25519"));
    Verifier::new(resolver, VerifyPolicy::permissive())
        .verify(&MessageView::request(RequestView::of(&r)), at(1618884473))
        .map(|_| ())
}

#[test]
fn b4_transformations_that_still_verify() {
    verify_b4(B4_REQUEST).unwrap();
    verify_b4("GET /demo?name1=Value1&Name2=value2&param=added HTTP/1.1\nHost: example.org\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nX-Forwarded-For: 192.0.2.123\nAccept: application/json\nAccept: */*\nContent-Length: 0\n\n").unwrap();
    verify_b4("GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.org\nAccept: application/json, */*\n\n").unwrap();
    verify_b4("GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nAccept: application/json\nAccept: */*\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nHost: example.org\n\n").unwrap();
}

#[test]
fn b4_transformations_that_fail() {
    for bad in [
        "POST /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.org\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nAccept: application/json\nAccept: */*\n\n",
        "GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.com\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nAccept: application/json\nAccept: */*\n\n",
        "GET /demo?name1=Value1&Name2=value2 HTTP/1.1\nHost: example.org\nDate: Fri, 15 Jul 2022 14:24:55 GMT\nAccept: */*\nAccept: application/json\n\n",
    ] {
        assert_eq!(
            verify_b4(bad).unwrap_err(),
            Error::BadSignature("transform".into()),
            "{bad}"
        );
    }
}

// ---- §2.5: one failure per case ---------------------------------------------------------

#[test]
fn base_errors_section_2_5() {
    let r = req(
        "GET /p?a=1&a=2&b=3 HTTP/1.1\nHost: example.com\nX-Bin: caf\u{e9}\nExample-Dict: a=1\nBad-Dict: a=(\n\n",
    );
    let cases: &[(&str, Error)] = &[
        (
            r#""host" "host""#,
            Error::DuplicateComponent("\"host\"".into()),
        ),
        (
            r#""x";req;bs "x";bs;req"#,
            Error::ReqInRequest("\"x\";req;bs".into()),
        ),
        (r#""host";req"#, Error::ReqInRequest("\"host\";req".into())),
        (
            r#""@method";req"#,
            Error::ReqInRequest("\"@method\";req".into()),
        ),
        (r#""missing""#, Error::MissingField("\"missing\"".into())),
        (
            r#""example-dict";key="b""#,
            Error::MissingDictionaryKey {
                component: "\"example-dict\";key=\"b\"".into(),
                key: "b".into(),
            },
        ),
        (
            r#""@query-param";name="c""#,
            Error::MissingQueryParam("c".into()),
        ),
        (
            r#""@query-param";name="a""#,
            Error::RepeatedQueryParam("a".into()),
        ),
        (
            r#""example-dict";sf"#,
            Error::UnknownStructuredType("\"example-dict\";sf".into()),
        ),
        (r#""x-bin""#, Error::NonAsciiValue("\"x-bin\"".into())),
        (
            r#""@status""#,
            Error::DerivedNotApplicable {
                component: "\"@status\"".into(),
                message: "request",
            },
        ),
        (r#""host";tr"#, Error::MissingTrailer("\"host\";tr".into())),
    ];
    for (components, expected) in cases {
        let got = signature_base(
            &MessageView::request(RequestView::of(&r)),
            &input(components),
        );
        assert_eq!(got.unwrap_err(), *expected, "{components}");
    }
    // A malformed structured value under `key`.
    assert!(matches!(
        signature_base(
            &MessageView::request(RequestView::of(&r)),
            &input(r#""bad-dict";key="a""#)
        ),
        Err(Error::StructuredFieldParse { .. })
    ));
    // Identifier-level failures are found when the identifier is parsed.
    assert_eq!(
        ComponentId::parse(r#""@bogus""#).unwrap_err(),
        Error::UnknownDerivedComponent("@bogus".into())
    );
    assert_eq!(
        ComponentId::parse(r#""@signature-params""#).unwrap_err(),
        Error::SignatureParamsCovered
    );
    assert!(matches!(
        ComponentId::parse(r#""x";zz"#),
        Err(Error::UnknownComponentParameter { .. })
    ));
    assert!(matches!(
        ComponentId::parse(r#""x";bs;sf"#),
        Err(Error::IncompatibleComponentParameters { .. })
    ));
    // Response-only and request-only components.
    let res = busy_response();
    let view = MessageView::response(ResponseView::of(&res));
    assert_eq!(
        signature_base(&view, &input(r#""@method""#)).unwrap_err(),
        Error::DerivedNotApplicable {
            component: "\"@method\"".into(),
            message: "response"
        }
    );
    assert_eq!(
        signature_base(&view, &input(r#""@method";req"#)).unwrap_err(),
        Error::MissingRelatedRequest("\"@method\";req".into())
    );
    // Authority missing or ambiguous.
    let mut h = HeaderMap::new();
    let uri: http::Uri = "/x".parse().unwrap();
    let m = http::Method::GET;
    assert_eq!(
        signature_base(
            &MessageView::request(RequestView::new(&m, &uri, &h)),
            &input(r#""@authority""#)
        )
        .unwrap_err(),
        Error::MissingAuthority
    );
    h.append("host", HeaderValue::from_static("a.example"));
    h.append("host", HeaderValue::from_static("b.example"));
    assert_eq!(
        signature_base(
            &MessageView::request(RequestView::new(&m, &uri, &h)),
            &input(r#""@authority""#)
        )
        .unwrap_err(),
        Error::InvalidHost
    );
}
