//! Verifying signatures (RFC 9421 §3.2) under an application policy (§3.2.1, §7).
//!
//! Steps, for each selected signature:
//! 1. parse `Signature-Input` / `Signature` (malformed → 400-class errors);
//! 2. select by label and/or required `tag` (labels are not signed, tags are);
//! 3. check the signature parameters against the policy: `created` required, not in the
//!    future beyond the clock skew, not older than the maximum age; `expires` not passed;
//!    `nonce`/`keyid`/`alg` required when configured; unknown parameters refused when
//!    configured;
//! 4. check the covered components: every required component, plus `content-digest` when
//!    the message has content (a signature over a body it does not bind is worthless);
//! 5. resolve the key by `keyid`; the algorithm comes from the key. An `alg` parameter, when
//!    present, must name the same algorithm, and the algorithm must be in the allowlist;
//! 6. rebuild the signature base from the received message (never from header text);
//! 7. nonce: reserve it in the [`NonceStore`] (scope `httpsig:<keyid>`), verify, then commit
//!    on success or release on failure, so a forged message cannot burn a real nonce;
//! 8. verify the signature bytes.
//!
//! With [`Selection::Any`] the first selected signature that passes is returned; with
//! [`Selection::All`] every selected signature must pass.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secdispatch_replay::{NonceStore, ReplayError};

use crate::alg::Algorithm;
use crate::base::{SignatureBase, signature_base};
use crate::component::{ComponentId, Derived};
use crate::error::{Error, Result};
use crate::fields::{SignatureEntry, SignatureRequest, signatures};
use crate::key::VerifyingKey;
use crate::message::MessageView;
use crate::params::SignatureInput;
use crate::resolver::KeyResolver;
use crate::sign::unix_seconds;

/// Which of the selected signatures must verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    /// At least one (the first that passes is reported).
    #[default]
    Any,
    /// Every selected signature.
    All,
}

/// What a verifier accepts.
#[derive(Debug, Clone)]
pub struct VerifyPolicy {
    /// Only consider the signature with this label.
    pub label: Option<String>,
    /// Only consider signatures whose signed `tag` equals this (and require one).
    pub tag: Option<String>,
    /// Components every accepted signature must cover.
    pub required_components: Vec<ComponentId>,
    /// Require `content-digest` to be covered when the message has content.
    pub require_content_digest: bool,
    /// Require `created`.
    pub require_created: bool,
    /// Require `expires`.
    pub require_expires: bool,
    /// Require `nonce`.
    pub require_nonce: bool,
    /// Require `keyid`.
    pub require_keyid: bool,
    /// Require `alg`.
    pub require_alg: bool,
    /// Refuse signatures older than this (measured from `created`).
    pub max_age: Option<Duration>,
    /// Tolerance for clocks that disagree, applied to every time check.
    pub clock_skew: Duration,
    /// Algorithms accepted at all.
    pub allowed_algorithms: Vec<Algorithm>,
    /// Refuse signature parameters outside the RFC 9421 registry.
    pub reject_unknown_parameters: bool,
    /// Most signatures examined in one message.
    pub max_signatures: usize,
    /// Any or all selected signatures.
    pub selection: Selection,
}

impl Default for VerifyPolicy {
    /// The request policy: `@method @authority @path` covered, `content-digest` covered when
    /// there is content, `created` required, at most 300 s old with 5 s skew, all six
    /// algorithms, at most 8 signatures.
    fn default() -> Self {
        let required = [Derived::Method, Derived::Authority, Derived::Path]
            .into_iter()
            .filter_map(|d| ComponentId::derived(d).ok())
            .collect();
        VerifyPolicy {
            label: None,
            tag: None,
            required_components: required,
            require_content_digest: true,
            require_created: true,
            require_expires: false,
            require_nonce: false,
            require_keyid: false,
            require_alg: false,
            max_age: Some(Duration::from_secs(300)),
            clock_skew: Duration::from_secs(5),
            allowed_algorithms: Algorithm::ALL.to_vec(),
            reject_unknown_parameters: false,
            max_signatures: 8,
            selection: Selection::Any,
        }
    }
}

impl VerifyPolicy {
    /// The default request policy (see [`Default`]).
    pub fn requests() -> Self {
        Self::default()
    }

    /// A response policy: `@status` covered, otherwise as for requests.
    pub fn responses() -> Self {
        VerifyPolicy {
            required_components: ComponentId::derived(Derived::Status).into_iter().collect(),
            ..Self::default()
        }
    }

    /// A policy with no requirements beyond a valid signature: nothing required, no age
    /// limit. For tools and tests, not for servers.
    pub fn permissive() -> Self {
        VerifyPolicy {
            required_components: Vec::new(),
            require_content_digest: false,
            require_created: false,
            max_age: None,
            ..Self::default()
        }
    }

    /// An `Accept-Signature` request describing what this policy wants, for a 401 challenge
    /// (RFC 9421 §5.1). `nonce` is included when given (a fresh one per challenge).
    pub fn challenge(&self, label: &str, nonce: Option<&str>) -> SignatureRequest {
        SignatureRequest {
            label: self.label.clone().unwrap_or_else(|| label.to_owned()),
            components: self.required_components.clone(),
            created: self.require_created || self.max_age.is_some(),
            expires: self.require_expires,
            nonce: nonce.map(str::to_owned),
            alg: None,
            keyid: None,
            tag: self.tag.clone(),
        }
    }

    fn describe_selection(&self) -> String {
        match (&self.label, &self.tag) {
            (None, None) => "any label".into(),
            (Some(l), None) => format!("label {l:?}"),
            (None, Some(t)) => format!("tag {t:?}"),
            (Some(l), Some(t)) => format!("label {l:?}, tag {t:?}"),
        }
    }
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The label it was found under.
    pub label: String,
    /// The `keyid` parameter, if any.
    pub keyid: Option<String>,
    /// The key's algorithm.
    pub algorithm: Algorithm,
    /// Covered components and parameters.
    pub input: SignatureInput,
    /// The base that verified.
    pub base: SignatureBase,
}

impl Verified {
    /// Covered components, in signed order.
    pub fn components(&self) -> &[ComponentId] {
        &self.input.components
    }

    /// The signed `tag`, if any.
    pub fn tag(&self) -> Option<&str> {
        self.input.params.get_tag()
    }

    /// Whether `id` is covered.
    pub fn covers(&self, id: &ComponentId) -> bool {
        self.input.components.contains(id)
    }
}

/// A signature that passed every check except the cryptographic one.
struct Prepared {
    entry: SignatureEntry,
    keys: Vec<Arc<VerifyingKey>>,
    base: SignatureBase,
    algorithm: Algorithm,
    /// Nonce reservation window end, when the signature has a nonce.
    nonce_until: Option<SystemTime>,
}

impl Prepared {
    fn verify_crypto(&self) -> Result<()> {
        if self
            .keys
            .iter()
            .any(|k| k.verify(self.base.as_bytes(), &self.entry.signature))
        {
            Ok(())
        } else {
            Err(Error::BadSignature(self.entry.label.clone()))
        }
    }

    fn into_verified(self) -> Verified {
        Verified {
            keyid: self.entry.input.params.get_keyid().map(str::to_owned),
            label: self.entry.label,
            algorithm: self.algorithm,
            input: self.entry.input,
            base: self.base,
        }
    }
}

/// Verifies signatures with a key resolver, a policy and an optional nonce store.
pub struct Verifier<R> {
    resolver: R,
    policy: VerifyPolicy,
    nonces: Option<Arc<dyn NonceStore>>,
}

impl<R: fmt::Debug> fmt::Debug for Verifier<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("resolver", &self.resolver)
            .field("policy", &self.policy)
            .field("nonces", &self.nonces.is_some())
            .finish()
    }
}

impl<R: KeyResolver> Verifier<R> {
    /// A verifier with `resolver` and `policy`, without replay protection.
    pub fn new(resolver: R, policy: VerifyPolicy) -> Self {
        Verifier {
            resolver,
            policy,
            nonces: None,
        }
    }

    /// Reject replayed nonces through `store` (use [`Verifier::verify_async`]).
    pub fn with_nonce_store(mut self, store: Arc<dyn NonceStore>) -> Self {
        self.nonces = Some(store);
        self
    }

    /// The policy.
    pub fn policy(&self) -> &VerifyPolicy {
        &self.policy
    }

    /// Verify without a nonce store. Fails with [`Error::ReplayCheckNeedsAsync`] when one is
    /// configured, since replay checks need the asynchronous store.
    pub fn verify(&self, msg: &MessageView<'_>, now: SystemTime) -> Result<Vec<Verified>> {
        if self.nonces.is_some() {
            return Err(Error::ReplayCheckNeedsAsync);
        }
        let prepared = self.prepare(msg, now)?;
        self.finish(prepared, |p| p.verify_crypto())
    }

    /// Verify, checking nonces against the store when one is configured.
    pub async fn verify_async(
        &self,
        msg: &MessageView<'_>,
        now: SystemTime,
    ) -> Result<Vec<Verified>> {
        let prepared = self.prepare(msg, now)?;
        let Some(store) = &self.nonces else {
            return self.finish(prepared, |p| p.verify_crypto());
        };
        let mut results = Vec::with_capacity(prepared.len());
        for p in prepared {
            let r = match (p.entry.input.params.get_nonce(), p.nonce_until) {
                (Some(nonce), Some(until)) => {
                    let scope =
                        format!("httpsig:{}", p.entry.input.params.get_keyid().unwrap_or(""));
                    match store.reserve(&scope, nonce.as_bytes(), now, until).await {
                        Err(e) => Err(replay_error(e)),
                        Ok(reservation) => match p.verify_crypto() {
                            Ok(()) => store.commit(&reservation).await.map_err(replay_error),
                            Err(e) => {
                                // Give the nonce back; a failed release only keeps it blocked.
                                let _ = store.release(&reservation).await;
                                Err(e)
                            }
                        },
                    }
                }
                _ => p.verify_crypto(),
            };
            let stop = r.is_ok() && self.policy.selection == Selection::Any;
            results.push((p, r));
            if stop {
                // Later signatures are not examined, so their nonces are not spent.
                break;
            }
        }
        self.collect(results)
    }

    fn finish(
        &self,
        prepared: Vec<Prepared>,
        check: impl Fn(&Prepared) -> Result<()>,
    ) -> Result<Vec<Verified>> {
        let mut results = Vec::with_capacity(prepared.len());
        for p in prepared {
            let r = check(&p);
            let stop = r.is_ok() && self.policy.selection == Selection::Any;
            results.push((p, r));
            if stop {
                break;
            }
        }
        self.collect(results)
    }

    fn collect(&self, results: Vec<(Prepared, Result<()>)>) -> Result<Vec<Verified>> {
        let mut ok = Vec::new();
        let mut first_err = None;
        for (p, r) in results {
            match r {
                Ok(()) => ok.push(p.into_verified()),
                Err(e) => {
                    if self.policy.selection == Selection::All {
                        return Err(e);
                    }
                    first_err.get_or_insert(e);
                }
            }
        }
        if self.policy.selection == Selection::Any {
            ok.truncate(1);
        }
        match (ok.is_empty(), first_err) {
            (false, _) => Ok(ok),
            (true, Some(e)) => Err(e),
            (true, None) => Err(Error::NoMatchingSignature(self.policy.describe_selection())),
        }
    }

    /// Steps 1–6 for every selected signature. In `Any` mode a signature that fails a
    /// policy check is skipped (its error is kept in case none passes).
    fn prepare(&self, msg: &MessageView<'_>, now: SystemTime) -> Result<Vec<Prepared>> {
        let entries = signatures(msg.headers())?;
        if entries.len() > self.policy.max_signatures {
            return Err(Error::TooManySignatures {
                count: entries.len(),
                limit: self.policy.max_signatures,
            });
        }
        let selected: Vec<SignatureEntry> = entries
            .into_iter()
            .filter(|e| self.policy.label.as_ref().is_none_or(|l| *l == e.label))
            .filter(|e| {
                self.policy
                    .tag
                    .as_ref()
                    .is_none_or(|t| e.input.params.get_tag() == Some(t.as_str()))
            })
            .collect();
        if selected.is_empty() {
            return Err(Error::NoMatchingSignature(self.policy.describe_selection()));
        }
        let mut prepared = Vec::with_capacity(selected.len());
        let mut first_err = None;
        for entry in selected {
            match self.prepare_one(msg, entry, now) {
                Ok(p) => prepared.push(p),
                Err(e) => {
                    if self.policy.selection == Selection::All {
                        return Err(e);
                    }
                    first_err.get_or_insert(e);
                }
            }
        }
        match (prepared.is_empty(), first_err) {
            (true, Some(e)) => Err(e),
            _ => Ok(prepared),
        }
    }

    fn prepare_one(
        &self,
        msg: &MessageView<'_>,
        entry: SignatureEntry,
        now: SystemTime,
    ) -> Result<Prepared> {
        let policy = &self.policy;
        let params = &entry.input.params;
        let label = &entry.label;
        let now_s = unix_seconds(now);
        let skew = policy.clock_skew.as_secs();

        // Parameters.
        if policy.reject_unknown_parameters
            && let Some(p) = params.unknown_names().next()
        {
            return Err(Error::UnexpectedParameter(p.to_owned()));
        }
        let created = params.get_created();
        let expires = params.get_expires();
        match created {
            None if policy.require_created || policy.max_age.is_some() => {
                return Err(Error::MissingCreated(label.clone()));
            }
            None => {}
            Some(c) => {
                if c > now_s.saturating_add(skew) {
                    return Err(Error::CreatedInFuture {
                        created: c,
                        now: now_s,
                    });
                }
                if let Some(max) = policy.max_age
                    && now_s.saturating_sub(c) > max.as_secs().saturating_add(skew)
                {
                    return Err(Error::TooOld {
                        created: c,
                        now: now_s,
                        max_age_secs: max.as_secs(),
                    });
                }
            }
        }
        match expires {
            None if policy.require_expires => return Err(Error::MissingExpires(label.clone())),
            None => {}
            Some(e) => {
                if let Some(c) = created
                    && e <= c
                {
                    return Err(Error::ExpiresBeforeCreated {
                        created: c,
                        expires: e,
                    });
                }
                if now_s > e.saturating_add(skew) {
                    return Err(Error::Expired {
                        expires: e,
                        now: now_s,
                    });
                }
            }
        }
        if policy.require_nonce && params.get_nonce().is_none() {
            return Err(Error::MissingNonce(label.clone()));
        }
        if policy.require_keyid && params.get_keyid().is_none() {
            return Err(Error::MissingKeyId(label.clone()));
        }
        if policy.require_alg && params.get_alg().is_none() {
            return Err(Error::MissingAlg(label.clone()));
        }
        if let Some(t) = &policy.tag
            && params.get_tag() != Some(t.as_str())
        {
            return Err(Error::NoMatchingSignature(policy.describe_selection()));
        }

        // Covered components.
        let covered = &entry.input.components;
        for req in &policy.required_components {
            if !covered.contains(req) {
                return Err(Error::MissingRequiredComponent {
                    label: label.clone(),
                    component: req.to_string(),
                });
            }
        }
        if policy.require_content_digest && msg.has_content {
            let cd = ComponentId::field("content-digest")?;
            if !covered.iter().any(|c| c.name() == cd.name() && !c.is_req()) {
                return Err(Error::MissingRequiredComponent {
                    label: label.clone(),
                    component: cd.to_string(),
                });
            }
        }

        // Key and algorithm: the key decides.
        let keys = self.resolver.resolve(params.get_keyid(), now)?;
        let algorithm = keys
            .first()
            .map(|k| k.algorithm())
            .ok_or_else(|| Error::UnknownKey(params.get_keyid().unwrap_or("").to_owned()))?;
        let mut keys = keys;
        keys.retain(|k| k.algorithm() == algorithm);
        if let Some(a) = params.get_alg() {
            let requested: Algorithm = a.parse()?;
            if requested != algorithm {
                return Err(Error::AlgorithmMismatch {
                    key: algorithm,
                    requested: a.to_owned(),
                });
            }
        }
        if !policy.allowed_algorithms.contains(&algorithm) {
            return Err(Error::AlgorithmNotAllowed(algorithm));
        }

        let base = signature_base(msg, &entry.input)?;

        // How long a nonce must stay spent: as long as the signature could be accepted.
        let nonce_until = params
            .get_nonce()
            .map(|_| nonce_window_end(policy, created, expires, now));

        Ok(Prepared {
            entry,
            keys,
            base,
            algorithm,
            nonce_until,
        })
    }
}

/// Until when a nonce must stay spent: as long as the signature could still be accepted
/// (`created + max_age`, or `expires` if sooner, plus the skew). Saturates instead of
/// overflowing whatever the policy or the signature say.
fn nonce_window_end(
    policy: &VerifyPolicy,
    created: Option<u64>,
    expires: Option<u64>,
    now: SystemTime,
) -> SystemTime {
    let far = now
        .checked_add(Duration::from_secs(10 * 365 * 24 * 3600))
        .unwrap_or(now);
    let add = |t: SystemTime, d: Duration| t.checked_add(d).unwrap_or(far);
    let at = |secs: u64| add(SystemTime::UNIX_EPOCH, Duration::from_secs(secs));
    let mut end = match (created, policy.max_age) {
        (Some(c), Some(max)) => add(at(c), max),
        (None, Some(max)) => add(now, max),
        (_, None) => add(now, Duration::from_secs(300)),
    };
    if let Some(e) = expires {
        let e = at(e);
        if e < end || policy.max_age.is_none() {
            end = e;
        }
    }
    let end = add(end, policy.clock_skew).min(far);
    if end <= now {
        add(now, Duration::from_secs(1))
    } else {
        end
    }
}

fn replay_error(e: ReplayError) -> Error {
    match e {
        ReplayError::Replayed => Error::Replayed,
        ReplayError::BadValue(n) => Error::InvalidSignatureParameter {
            name: "nonce".into(),
            expected: if n == 0 {
                "a non-empty string"
            } else {
                "a string of at most 512 bytes"
            },
        },
        ReplayError::BadScope(_) => Error::InvalidSignatureParameter {
            name: "keyid".into(),
            expected: "at most 246 bytes when a nonce is used",
        },
        other => Error::NonceStore(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn nonce_window() {
        let p = VerifyPolicy::default();
        // created + max_age + skew.
        assert_eq!(nonce_window_end(&p, Some(1000), None, at(1010)), at(1305));
        // expires sooner.
        assert_eq!(
            nonce_window_end(&p, Some(1000), Some(1100), at(1010)),
            at(1105)
        );
        // No max age: expires, or 300 s.
        let open = VerifyPolicy::permissive();
        assert_eq!(
            nonce_window_end(&open, None, Some(5000), at(1000)),
            at(5005)
        );
        assert_eq!(nonce_window_end(&open, None, None, at(1000)), at(1305));
        // Always in the future.
        assert_eq!(nonce_window_end(&p, Some(1), None, at(1000)), at(1001));
    }

    #[test]
    fn nonce_window_never_overflows() {
        let p = VerifyPolicy {
            max_age: Some(Duration::MAX),
            clock_skew: Duration::MAX,
            ..VerifyPolicy::default()
        };
        let end = nonce_window_end(
            &p,
            Some(999_999_999_999_999),
            Some(999_999_999_999_999),
            at(1),
        );
        assert!(end > at(1));
    }
}
