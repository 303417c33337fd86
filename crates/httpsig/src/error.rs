//! The crate's one error type: every way input can be wrong, each with a precise message.

use crate::alg::Algorithm;

/// Everything that can go wrong while parsing, building a signature base, signing,
/// verifying, or checking a digest. Bad input is always one of these values, never a panic.
///
/// [`Error::status`] maps each variant to the HTTP status a server should answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- Structured fields (RFC 9421 §4, RFC 8941) -------------------------------------
    /// A field is not a valid RFC 8941 structured field of the expected type.
    #[error("{field} is not a valid structured field: {reason}")]
    MalformedField {
        /// Field name.
        field: &'static str,
        /// What the parser found.
        reason: String,
    },
    /// A dictionary key (a signature label, a digest algorithm) occurs twice in a field.
    #[error("{field}: member {key:?} occurs more than once")]
    DuplicateLabel {
        /// Field name.
        field: &'static str,
        /// The repeated key.
        key: String,
    },
    /// A `Signature-Input` member is not an inner list.
    #[error("Signature-Input member {0:?} is not an inner list of component identifiers")]
    SignatureInputNotInnerList(String),
    /// A `Signature` member is not a byte sequence.
    #[error("Signature member {0:?} is not a byte sequence")]
    SignatureNotByteSequence(String),
    /// A label appears in `Signature-Input` without a matching `Signature` member.
    #[error("signature {0:?} is declared in Signature-Input but missing from Signature")]
    MissingSignatureValue(String),
    /// A label appears in `Signature` without a matching `Signature-Input` member.
    #[error("signature {0:?} is present in Signature but not declared in Signature-Input")]
    MissingSignatureInput(String),
    /// A covered component identifier is not an sf-string.
    #[error("component identifier must be a string, found {0}")]
    ComponentNotString(String),
    /// A signature parameter has the wrong type or an out-of-range value.
    #[error("signature parameter {name:?} is invalid: expected {expected}")]
    InvalidSignatureParameter {
        /// Parameter name.
        name: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The message carries no `Signature-Input` field.
    #[error("the message has no Signature-Input field")]
    NoSignatureInput,
    /// The message carries no `Signature` field.
    #[error("the message has no Signature field")]
    NoSignature,
    /// More signatures than the policy allows to examine.
    #[error("the message carries {count} signatures, more than the limit of {limit}")]
    TooManySignatures {
        /// Signatures found.
        count: usize,
        /// Configured limit.
        limit: usize,
    },
    /// A signature covers more components than the limit (the duplicate check is quadratic).
    #[error("a signature covers {count} components, more than the limit of {limit}")]
    TooManyComponents {
        /// Components listed.
        count: usize,
        /// [`crate::params::MAX_COMPONENTS`].
        limit: usize,
    },
    /// A field value is not visible ASCII, so it cannot be a structured field.
    #[error("{0} contains bytes that are not visible ASCII")]
    FieldNotAscii(&'static str),

    // ---- Components and the signature base (RFC 9421 §2, §2.5) -------------------------
    /// The component name is not a lowercase field name or a known derived component.
    #[error("invalid component name {0:?}: field names must be lowercase tokens")]
    InvalidComponentName(String),
    /// A name starting with `@` that RFC 9421 does not define.
    #[error("unknown derived component {0:?}")]
    UnknownDerivedComponent(String),
    /// `@signature-params` listed among the covered components.
    #[error("\"@signature-params\" must not be listed among the covered components")]
    SignatureParamsCovered,
    /// A component parameter that is not registered, or not applicable to this component.
    #[error("component {component}: parameter {parameter:?} is unknown or not applicable")]
    UnknownComponentParameter {
        /// The component.
        component: String,
        /// The parameter.
        parameter: String,
    },
    /// A component parameter with a value of the wrong type.
    #[error("component {component}: parameter {parameter:?} has a value of the wrong type")]
    InvalidComponentParameterValue {
        /// The component.
        component: String,
        /// The parameter.
        parameter: String,
    },
    /// Two parameters that cannot be combined (`bs` with `sf` or `key`).
    #[error("component {component}: parameters {first:?} and {second:?} cannot be combined")]
    IncompatibleComponentParameters {
        /// The component.
        component: String,
        /// First parameter.
        first: &'static str,
        /// Second parameter.
        second: &'static str,
    },
    /// The same component identifier is covered twice.
    #[error("component {0} is covered more than once")]
    DuplicateComponent(String),
    /// `req` used in a signature over a request.
    #[error("component {0}: the \"req\" parameter is only valid in response signatures")]
    ReqInRequest(String),
    /// `req` used on a response without the related request.
    #[error("component {0} refers to the request, but no related request is available")]
    MissingRelatedRequest(String),
    /// A derived component that does not exist for this kind of message.
    #[error("component {component} cannot be used with a {message} message")]
    DerivedNotApplicable {
        /// The component.
        component: String,
        /// "request" or "response".
        message: &'static str,
    },
    /// A covered field is absent from the message.
    #[error("component {0}: the field is not present in the message")]
    MissingField(String),
    /// A covered field is absent from the trailers (`tr`).
    #[error("component {0}: the field is not present in the trailers")]
    MissingTrailer(String),
    /// The dictionary member named by `key` is absent.
    #[error("component {component}: the dictionary has no member {key:?}")]
    MissingDictionaryKey {
        /// The component.
        component: String,
        /// The key.
        key: String,
    },
    /// `sf` on a field whose structured type is not known.
    #[error("component {0}: the field's structured type is unknown, so \"sf\" cannot be applied")]
    UnknownStructuredType(String),
    /// The field does not parse as the structured type required by `sf` or `key`.
    #[error("component {component}: the field is not a valid structured field: {reason}")]
    StructuredFieldParse {
        /// The component.
        component: String,
        /// Parser message.
        reason: String,
    },
    /// `@query-param` without the `name` parameter.
    #[error("\"@query-param\" requires a \"name\" parameter")]
    MissingQueryParamName,
    /// The named query parameter is absent.
    #[error("query parameter {0:?} is not present in the request")]
    MissingQueryParam(String),
    /// The named query parameter occurs more than once (§2.2.8 forbids signing it).
    #[error("query parameter {0:?} occurs more than once and cannot be signed")]
    RepeatedQueryParam(String),
    /// A component value that would put non-ASCII or control bytes into the base.
    #[error("component {0}: the value contains non-ASCII or control characters")]
    NonAsciiValue(String),
    /// Neither the URI nor a `Host` field gives the authority.
    #[error("the request has no authority (no absolute URI and no Host field)")]
    MissingAuthority,
    /// Several `Host` field lines, or an invalid one.
    #[error("the request's Host field is invalid or repeated")]
    InvalidHost,
    /// A signature parameter value that cannot be serialized as a structured field.
    #[error("signature parameter {0:?} cannot be serialized as a structured field")]
    UnserializableParameter(String),

    // ---- Algorithms and keys (RFC 9421 §3.3, §6.2) ------------------------------------
    /// An `alg` value that is not in the HTTP Signature Algorithms registry.
    #[error("unknown signature algorithm {0:?} (JOSE names such as RS256 are not valid here)")]
    UnknownAlgorithm(String),
    /// The `alg` parameter (or a requested algorithm) disagrees with the key's algorithm.
    #[error("algorithm {requested:?} does not match the key's algorithm {key}")]
    AlgorithmMismatch {
        /// The key's algorithm.
        key: Algorithm,
        /// What the signature or caller asked for.
        requested: String,
    },
    /// The algorithm is not in the verifier's allowlist.
    #[error("algorithm {0} is not allowed by the verification policy")]
    AlgorithmNotAllowed(Algorithm),
    /// An RSA key without a configured algorithm: PSS or PKCS#1 v1.5 must be chosen.
    #[error("RSA key is not bound to an algorithm: choose rsa-pss-sha512 or rsa-v1_5-sha256")]
    RsaAlgorithmUnbound,
    /// The key material cannot be parsed.
    #[error("invalid {format} key: {reason}")]
    InvalidKey {
        /// PEM, JWK, DER, base64.
        format: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A well-formed key of a type this crate does not support.
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A public key was given where a private key is needed.
    #[error("the key is a public key and cannot sign")]
    NotAPrivateKey,
    /// An HMAC secret shorter than the minimum.
    #[error("HMAC secret of {len} bytes is shorter than the minimum of {min}")]
    HmacKeyTooShort {
        /// Length found.
        len: usize,
        /// Minimum length.
        min: usize,
    },
    /// The signature bytes do not verify with the key.
    #[error("signature {0:?} does not verify")]
    BadSignature(String),
    /// The crypto library refused to sign.
    #[error("signing failed")]
    SigningFailed,

    // ---- Verification policy (RFC 9421 §3.2, §3.2.1, §7) ------------------------------
    /// No signature matched the label/tag selection.
    #[error("no signature matches the selection ({0})")]
    NoMatchingSignature(String),
    /// A component the policy requires is not covered.
    #[error("signature {label:?} does not cover the required component {component}")]
    MissingRequiredComponent {
        /// Signature label.
        label: String,
        /// Required component.
        component: String,
    },
    /// `created` is required but absent.
    #[error("signature {0:?} has no \"created\" parameter")]
    MissingCreated(String),
    /// `expires` is required but absent.
    #[error("signature {0:?} has no \"expires\" parameter")]
    MissingExpires(String),
    /// `nonce` is required but absent.
    #[error("signature {0:?} has no \"nonce\" parameter")]
    MissingNonce(String),
    /// `keyid` is required but absent.
    #[error("signature {0:?} has no \"keyid\" parameter")]
    MissingKeyId(String),
    /// `alg` is required but absent.
    #[error("signature {0:?} has no \"alg\" parameter")]
    MissingAlg(String),
    /// `created` lies in the future beyond the allowed clock skew.
    #[error("signature created at {created} is in the future (now {now})")]
    CreatedInFuture {
        /// `created`.
        created: u64,
        /// Verification time.
        now: u64,
    },
    /// The signature is older than the maximum age.
    #[error("signature created at {created} is older than {max_age_secs} s (now {now})")]
    TooOld {
        /// `created`.
        created: u64,
        /// Verification time.
        now: u64,
        /// Maximum age.
        max_age_secs: u64,
    },
    /// The signature's `expires` has passed.
    #[error("signature expired at {expires} (now {now})")]
    Expired {
        /// `expires`.
        expires: u64,
        /// Verification time.
        now: u64,
    },
    /// `expires` is not after `created`.
    #[error("signature expires ({expires}) before it was created ({created})")]
    ExpiresBeforeCreated {
        /// `created`.
        created: u64,
        /// `expires`.
        expires: u64,
    },
    /// A signature parameter the policy does not accept.
    #[error("signature parameter {0:?} is not accepted by the verification policy")]
    UnexpectedParameter(String),
    /// The signature's nonce was seen before.
    #[error("signature nonce was already used (replay)")]
    Replayed,
    /// The nonce store failed; verification fails closed.
    #[error("nonce store: {0}")]
    NonceStore(String),
    /// A nonce store is configured but the synchronous API was used.
    #[error("a nonce store is configured: use Verifier::verify_async to check replays")]
    ReplayCheckNeedsAsync,
    /// The resolver has no key for this key id.
    #[error("no key known for keyid {0:?}")]
    UnknownKey(String),
    /// The key exists but is outside its validity (rotation) window.
    #[error("key {0:?} is not valid at this time (outside its rotation window)")]
    KeyNotValidNow(String),

    // ---- Digest fields (RFC 9530) -------------------------------------------------------
    /// A digest algorithm from the registry's deprecated list.
    #[error("digest algorithm {0:?} is deprecated and refused (RFC 9530 §5)")]
    DeprecatedDigestAlgorithm(String),
    /// No entry uses an algorithm this implementation supports.
    #[error("{0} has no sha-256 or sha-512 entry")]
    NoSupportedDigest(&'static str),
    /// A digest value does not match the content.
    #[error("{field} {algorithm} does not match the content")]
    DigestMismatch {
        /// Field name.
        field: &'static str,
        /// Digest algorithm.
        algorithm: &'static str,
    },
    /// A digest value of the wrong length or type.
    #[error("{field}: {algorithm} value is not a byte sequence of the right length")]
    InvalidDigestValue {
        /// Field name.
        field: &'static str,
        /// Algorithm.
        algorithm: String,
    },
    /// A body was present but the required digest field is not.
    #[error("the message has content but no {0} field")]
    MissingDigest(&'static str),
    /// A `Want-*-Digest` preference outside 0..=10.
    #[error("{field}: preference for {algorithm:?} must be an integer from 0 to 10")]
    InvalidDigestPreference {
        /// Field name.
        field: &'static str,
        /// Algorithm.
        algorithm: String,
    },
    /// The body exceeds the configured size cap.
    #[error("body exceeds the limit of {limit} bytes")]
    BodyTooLarge {
        /// The cap.
        limit: u64,
    },
    /// The body stream failed.
    #[error("reading the body failed: {0}")]
    BodyRead(String),

    // ---- Raw HTTP/1.1 messages ----------------------------------------------------------
    /// A raw HTTP/1.1 message that cannot be parsed.
    #[error("malformed HTTP/1.1 message at line {line}: {reason}")]
    MalformedMessage {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// An operation that needs a request was given a response, or the reverse.
    #[error("expected an HTTP {0}")]
    WrongMessageKind(&'static str),
}

impl Error {
    /// The HTTP status a server should answer with when verification fails with this error:
    /// 400 for malformed signature or digest fields and unreadable bodies, 413 for an
    /// oversize body, 500 when the nonce store is down, 401 for everything else (the
    /// signature is absent, does not verify, or does not meet the policy).
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            Self::MalformedField { .. }
            | Self::DuplicateLabel { .. }
            | Self::SignatureInputNotInnerList(_)
            | Self::SignatureNotByteSequence(_)
            | Self::MissingSignatureValue(_)
            | Self::MissingSignatureInput(_)
            | Self::ComponentNotString(_)
            | Self::InvalidSignatureParameter { .. }
            | Self::FieldNotAscii(_)
            | Self::TooManyComponents { .. }
            | Self::InvalidDigestValue { .. }
            | Self::InvalidDigestPreference { .. }
            | Self::BodyRead(_)
            | Self::MalformedMessage { .. } => StatusCode::BAD_REQUEST,
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NonceStore(_) | Self::ReplayCheckNeedsAsync => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Result alias with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
