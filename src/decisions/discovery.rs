//! An issuer's metadata (OpenID Connect Discovery 1.0 §4, RFC 8414 §3) as a pure state
//! machine, beside the key source it feeds: which well-known URL to read, whether a
//! document may be used (its `issuer` equal to the configured one, §4.3 / RFC 8414
//! §3.3; its `jwks_uri` allowed by [`jwks_uri_allowed`]), and, at a given `now`,
//! whether to use the document held, read the shared snapshot, fetch (with which
//! validators), wait for another token's fetch, or refuse. Timing is the JWKS cache's
//! ([`crate::decisions::cache`]): the document has its own freshness from its own
//! `Cache-Control`, serves as last-known-good while the issuer fails (up to
//! `max_staleness`), and a failed fetch is retried at most once per `failure_cooldown`.
//!
//! A front end drives one [`DiscoveryLookup`] per token, then asks the key source for
//! the `jwks_uri` it was given ([`crate::decisions::keysource::KeySource::retarget`]):
//!
//! ```text
//! loop match discovery.step(&mut lookup) {
//!     ReadStored   => discovery.stored(&mut lookup, text_from_kv)
//!     Fetch(f)     => discovery.fetched(&mut lookup, answer)   (GET f.url)
//!     Wait         => wait for the fetch in flight; lookup.waited()
//!     Use { .. }   => the keys are at `jwks_uri` (with `refresh`, fetch it in the
//!                     background, then discovery.refreshed(now, &f, answer))
//!     Refuse(err)  => answer with the error
//! }
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::decisions::cache::{
    freshness, max_age_from_cache_control, CachePolicy, FetchFailures, Freshness,
    SNAPSHOT_KEY_PREFIX,
};
use crate::decisions::keysource::{Answer, Conditional, FetchReason, Tier};
use crate::encoding::{parse_object, MAX_JSON_DEPTH};
use crate::error::Error;
use crate::keys::uri::{jwks_uri_allowed, MAX_JWKS_URI_BYTES};

/// Largest discovery document read, in bytes (real ones are 2–8 KiB).
pub const MAX_DISCOVERY_BYTES: usize = 64 * 1024;

/// Largest stored discovery snapshot read back, in bytes.
const MAX_STORED_DISCOVERY_BYTES: usize = 16 * 1024;

/// Longest validator (`ETag`, `Last-Modified`) kept, in bytes.
const MAX_VALIDATOR_BYTES: usize = 256;

/// The `Accept` of a discovery fetch.
pub const DISCOVERY_ACCEPT: &str = "application/json";

/// Why a discovery document was not used (logged as `problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscoveryProblem {
    /// Larger than [`MAX_DISCOVERY_BYTES`].
    TooLarge,
    /// Not a JSON object (or duplicate members, or too deep).
    Malformed,
    /// Its `issuer` is absent or not exactly the configured issuer.
    IssuerMismatch,
    /// No `jwks_uri` string.
    NoJwksUri,
    /// Its `jwks_uri` is not one that may be fetched (not `https://`, userinfo, …).
    JwksUriRefused,
    /// Neither well-known URL has a document (404 from both).
    NotFound,
}

impl DiscoveryProblem {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            DiscoveryProblem::TooLarge => "too_large",
            DiscoveryProblem::Malformed => "malformed",
            DiscoveryProblem::IssuerMismatch => "issuer_mismatch",
            DiscoveryProblem::NoJwksUri => "no_jwks_uri",
            DiscoveryProblem::JwksUriRefused => "jwks_uri_refused",
            DiscoveryProblem::NotFound => "not_found",
        }
    }
}

/// The two places an issuer's metadata may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WellKnown {
    /// OpenID Connect Discovery 1.0 §4: the issuer (without a trailing `/`) followed by
    /// `/.well-known/openid-configuration`.
    pub openid: String,
    /// RFC 8414 §3.1: `/.well-known/oauth-authorization-server` inserted between the
    /// host and the issuer's path.
    pub oauth: String,
}

/// The well-known URLs of `issuer`, or `None` when the issuer may not be fetched: it
/// must be a URL allowed as a JWKS URI is (`https://`, or loopback `http://` with
/// `allow_http_loopback`), with no query or fragment (OIDC Discovery §2, RFC 8414 §2).
pub fn well_known(issuer: &str, allow_http_loopback: bool) -> Option<WellKnown> {
    if !jwks_uri_allowed(issuer, allow_http_loopback) || issuer.contains('?') {
        return None;
    }
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    let openid = format!("{base}/.well-known/openid-configuration");
    // jwks_uri_allowed accepted "scheme://authority[/path]": the path starts at the
    // first '/' after "://".
    let after_scheme = base.find("://")?.checked_add(3)?;
    let path_at = base
        .get(after_scheme..)?
        .find('/')
        .map_or(base.len(), |i| i.saturating_add(after_scheme));
    let (origin, path) = base.split_at(path_at);
    let oauth = format!("{origin}/.well-known/oauth-authorization-server{path}");
    Some(WellKnown { openid, oauth })
}

/// The `jwks_uri` of a discovery document, after its checks: a JSON object of at most
/// [`MAX_DISCOVERY_BYTES`], whose `issuer` is exactly `issuer` and whose `jwks_uri` may be
/// fetched. Nothing else in it is read.
pub fn read_document(
    body: &[u8],
    issuer: &str,
    allow_http_loopback: bool,
) -> Result<String, DiscoveryProblem> {
    if body.len() > MAX_DISCOVERY_BYTES {
        return Err(DiscoveryProblem::TooLarge);
    }
    let object = parse_object(body, MAX_JSON_DEPTH).map_err(|_| DiscoveryProblem::Malformed)?;
    if object.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(DiscoveryProblem::IssuerMismatch);
    }
    let jwks_uri = object
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or(DiscoveryProblem::NoJwksUri)?;
    if !jwks_uri_allowed(jwks_uri, allow_http_loopback) {
        return Err(DiscoveryProblem::JwksUriRefused);
    }
    Ok(jwks_uri.to_owned())
}

/// The issuers a key set found by discovery of `issuer` verifies for: `issuer` alone.
/// Issuers given beside it (a CLI `--iss`, an npm `issuer` option) must each be
/// `issuer`: discovered keys vouch for that issuer only. `None`: one differs.
pub fn discovered_issuers(issuer: &str, given: &[String]) -> Option<Vec<String>> {
    given
        .iter()
        .all(|g| g == issuer)
        .then(|| vec![issuer.to_owned()])
}

/// What was learnt from a discovery document, when, and how to revalidate it. Stored as
/// JSON in shared storage (KV) and checked again as untrusted input when read back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySnapshot {
    /// The issuer the document named (equal to the configured one).
    pub issuer: String,
    /// The URL the document was read from (one of the issuer's [`WellKnown`]).
    pub document_uri: String,
    /// The document's `jwks_uri`.
    pub jwks_uri: String,
    /// When it was fetched or last revalidated (Unix seconds).
    pub fetched_at: i64,
    /// Freshness lifetime in seconds, already clamped by the policy.
    pub max_age: u64,
    /// `ETag` of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// `Last-Modified` of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

/// The storage key of an issuer's discovery snapshot: under the JWKS snapshots' prefix
/// (so nothing else in the namespace may use it) and a SHA-256 of the issuer.
pub fn discovery_key(issuer: &str) -> String {
    let hex: String = Sha256::digest(issuer.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{SNAPSHOT_KEY_PREFIX}discovery:v1:{hex}")
}

/// One fetch of a discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFetch {
    /// The URL to GET (redirects are never followed).
    pub url: String,
    /// Validators of the document held from that URL.
    pub conditional: Conditional,
}

/// What the front end does next for a token.
#[derive(Debug, Clone, PartialEq)]
pub enum DiscoveryStep {
    /// Read the stored snapshot and hand it to [`Discovery::stored`].
    ReadStored,
    /// Fetch this document and hand the answer to [`Discovery::fetched`] (or call
    /// [`Discovery::abandoned`] if the fetch is dropped).
    Fetch(DocumentFetch),
    /// Another token's fetch is in flight: wait until [`Discovery::generation`]
    /// changes, call [`DiscoveryLookup::waited`], and step again.
    Wait,
    /// The issuer's keys are at `jwks_uri`.
    Use {
        /// The key set's URI.
        jwks_uri: String,
        /// Where the document came from (memory, KV, the issuer, or stale).
        tier: Tier,
        /// A background refresh to start: fetch it, then [`Discovery::refreshed`].
        refresh: Option<DocumentFetch>,
    },
    /// No usable document and the issuer failed.
    Refuse(Error),
}

/// Something an operator should know about discovery, returned for the front end to log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DiscoveryEvent {
    /// A fetch failed or its document was refused.
    #[serde(rename = "discovery_fetch_failed")]
    FetchFailed {
        /// The error code (`jwks_unavailable`).
        code: &'static str,
        /// Why the document was refused ([`DiscoveryProblem::code`]), if it was.
        #[serde(skip_serializing_if = "Option::is_none")]
        problem: Option<&'static str>,
        /// What was done about it ([`FetchReason::action`]).
        action: &'static str,
    },
    /// The issuer answered with a redirect, which is never followed.
    #[serde(rename = "discovery_redirect_refused")]
    RedirectRefused {
        /// The 3xx status.
        status: u16,
    },
    /// The document names another `jwks_uri` than the one held: keys are fetched there.
    #[serde(rename = "discovery_jwks_uri_changed")]
    JwksUriChanged {
        /// The previous key set URI.
        from: String,
        /// The new one.
        to: String,
    },
    /// A stored snapshot was refused (another issuer's, from the future, malformed, or
    /// naming a URI that may not be fetched).
    #[serde(rename = "discovery_snapshot_refused")]
    StoredRefused,
}

/// What a finished fetch changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoveryReport {
    /// For the front end to log.
    pub events: Vec<DiscoveryEvent>,
    /// The snapshot to write to shared storage, if any.
    pub store: Option<DiscoverySnapshot>,
}

/// One token's way through discovery. Not shared between tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryLookup {
    now: i64,
    read_stored: bool,
    fetched: bool,
    /// The fetch this lookup was told to make: why, and which URL.
    pending: Option<(FetchReason, String)>,
    /// The OpenID document was not found: the RFC 8414 one is asked next, within the
    /// same fetch.
    fall_back: bool,
    tier: Tier,
}

impl DiscoveryLookup {
    /// A lookup at `now`.
    pub fn new(now: i64) -> Self {
        Self {
            now,
            read_stored: false,
            fetched: false,
            pending: None,
            fall_back: false,
            tier: Tier::Memory,
        }
    }

    /// The fetch this lookup waited for has ended: its outcome is this token's too.
    pub fn waited(&mut self) {
        self.fetched = true;
    }
}

/// One issuer's discovery state.
#[derive(Debug, Clone)]
pub struct Discovery {
    issuer: String,
    urls: WellKnown,
    allow_http_loopback: bool,
    policy: CachePolicy,
    shared_store: bool,
    held: Option<DiscoverySnapshot>,
    failures: FetchFailures,
    in_flight: bool,
    generation: u64,
}

impl Discovery {
    /// Discovery for `issuer` (`None` when the issuer is not a URL that may be fetched:
    /// see [`well_known`]). With `shared_store`, a lookup that finds nothing held reads
    /// the stored snapshot first.
    pub fn new(
        issuer: &str,
        policy: CachePolicy,
        allow_http_loopback: bool,
        shared_store: bool,
    ) -> Option<Self> {
        Some(Self {
            urls: well_known(issuer, allow_http_loopback)?,
            issuer: issuer.to_owned(),
            allow_http_loopback,
            policy,
            shared_store,
            held: None,
            failures: FetchFailures::default(),
            in_flight: false,
            generation: 0,
        })
    }

    /// The well-known URLs.
    pub fn urls(&self) -> &WellKnown {
        &self.urls
    }

    /// The snapshot held, whatever its freshness.
    pub fn held(&self) -> Option<&DiscoverySnapshot> {
        self.held.as_ref()
    }

    /// Bumped whenever a fetch ends (or is abandoned): what a waiting token watches.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The storage key of this issuer's snapshot.
    pub fn store_key(&self) -> String {
        discovery_key(&self.issuer)
    }

    /// What to do next for `lookup`.
    pub fn step(&mut self, lookup: &mut DiscoveryLookup) -> DiscoveryStep {
        if lookup.fall_back {
            // The same fetch goes on at the RFC 8414 location (the flight is still ours).
            lookup.fall_back = false;
            let reason = lookup.pending.take().map_or(FetchReason::NoKeys, |p| p.0);
            lookup.pending = Some((reason, self.urls.oauth.clone()));
            return DiscoveryStep::Fetch(DocumentFetch {
                url: self.urls.oauth.clone(),
                conditional: self.conditional(&self.urls.oauth),
            });
        }
        let now = lookup.now;
        if self.held.is_none() && self.shared_store && !lookup.read_stored && !lookup.fetched {
            lookup.read_stored = true;
            return DiscoveryStep::ReadStored;
        }
        let state = self
            .held
            .as_ref()
            .map(|h| freshness(h.fetched_at, h.max_age, &self.policy, now));
        let usable = state.is_some_and(|f| f != Freshness::Expired);
        let may_fetch = self.failures.may_fetch_when(usable, &self.policy, now);
        match state {
            None | Some(Freshness::Expired) if lookup.fetched => {
                DiscoveryStep::Refuse(Error::JwksUnavailable)
            }
            None => self.fetch(lookup, FetchReason::NoKeys),
            Some(Freshness::Expired) => self.fetch(lookup, FetchReason::Expired),
            Some(Freshness::Stale) if lookup.fetched || !may_fetch => {
                lookup.tier = Tier::Stale;
                self.serve(lookup, false)
            }
            Some(Freshness::Stale) => self.fetch(lookup, FetchReason::Stale),
            Some(Freshness::RefreshAhead) => self.serve(lookup, may_fetch && !lookup.fetched),
            Some(Freshness::Fresh) => self.serve(lookup, false),
        }
    }

    fn fetch(&mut self, lookup: &mut DiscoveryLookup, reason: FetchReason) -> DiscoveryStep {
        if self.in_flight {
            return DiscoveryStep::Wait;
        }
        self.in_flight = true;
        let url = self.document_uri();
        lookup.pending = Some((reason, url.clone()));
        DiscoveryStep::Fetch(DocumentFetch {
            conditional: self.conditional(&url),
            url,
        })
    }

    /// Where the document is read: where the held one came from, else the OpenID URL.
    fn document_uri(&self) -> String {
        self.held
            .as_ref()
            .map_or_else(|| self.urls.openid.clone(), |h| h.document_uri.clone())
    }

    fn serve(&mut self, lookup: &mut DiscoveryLookup, refresh_ahead: bool) -> DiscoveryStep {
        let Some(held) = &self.held else {
            return DiscoveryStep::Refuse(Error::JwksUnavailable);
        };
        let jwks_uri = held.jwks_uri.clone();
        let refresh = if refresh_ahead && !self.in_flight {
            self.in_flight = true;
            let url = self.document_uri();
            Some(DocumentFetch {
                conditional: self.conditional(&url),
                url,
            })
        } else {
            None
        };
        DiscoveryStep::Use {
            jwks_uri,
            tier: lookup.tier,
            refresh,
        }
    }

    /// Validators go back only to the URL that gave them.
    fn conditional(&self, url: &str) -> Conditional {
        match &self.held {
            Some(h) if h.document_uri == url => Conditional {
                if_none_match: h.etag.clone(),
                if_modified_since: h.last_modified.clone(),
            },
            _ => Conditional::default(),
        }
    }

    /// The stored snapshot read for `lookup` (`None`: nothing stored, or unreadable),
    /// checked as untrusted input: at most 16 KiB, this issuer's, read from one of its
    /// well-known URLs, naming a `jwks_uri` that may be fetched, not from the future;
    /// its `max_age` clamped to the policy and over-long validators dropped. An expired
    /// one is ignored.
    pub fn stored(
        &mut self,
        lookup: &mut DiscoveryLookup,
        text: Option<&str>,
    ) -> Vec<DiscoveryEvent> {
        let Some(text) = text else {
            return Vec::new();
        };
        if self.held.is_some() {
            return Vec::new(); // another token's fetch landed meanwhile
        }
        let Some(snapshot) = self.checked_stored(text, lookup.now) else {
            return vec![DiscoveryEvent::StoredRefused];
        };
        if freshness(
            snapshot.fetched_at,
            snapshot.max_age,
            &self.policy,
            lookup.now,
        ) != Freshness::Expired
        {
            self.held = Some(snapshot);
            lookup.tier = Tier::Kv;
        }
        Vec::new()
    }

    fn checked_stored(&self, text: &str, now: i64) -> Option<DiscoverySnapshot> {
        if text.len() > MAX_STORED_DISCOVERY_BYTES {
            return None;
        }
        let mut snapshot: DiscoverySnapshot = serde_json::from_str(text).ok()?;
        let from_well_known =
            snapshot.document_uri == self.urls.openid || snapshot.document_uri == self.urls.oauth;
        if snapshot.issuer != self.issuer
            || !from_well_known
            || snapshot.jwks_uri.len() > MAX_JWKS_URI_BYTES
            || !jwks_uri_allowed(&snapshot.jwks_uri, self.allow_http_loopback)
            || snapshot.fetched_at > now
        {
            return None;
        }
        snapshot.max_age = snapshot.max_age.clamp(
            self.policy.min_max_age,
            self.policy.max_max_age.max(self.policy.min_max_age),
        );
        let bounded = |v: &String| v.len() <= MAX_VALIDATOR_BYTES;
        snapshot.etag = snapshot.etag.filter(bounded);
        snapshot.last_modified = snapshot.last_modified.filter(bounded);
        Some(snapshot)
    }

    /// The answer to the fetch `lookup` was told to make. A 404 from the OpenID URL,
    /// with nothing held from it, sends the lookup on to the RFC 8414 URL (its next
    /// step) within the same fetch.
    pub fn fetched(&mut self, lookup: &mut DiscoveryLookup, answer: Answer<'_>) -> DiscoveryReport {
        let (reason, url) = lookup
            .pending
            .clone()
            .unwrap_or_else(|| (FetchReason::NoKeys, self.urls.openid.clone()));
        let not_found = matches!(answer, Answer::Response { status: 404, .. });
        if not_found && url == self.urls.openid {
            lookup.fall_back = true;
            return DiscoveryReport::default();
        }
        lookup.pending = None;
        lookup.fetched = true;
        let (ok, report) = self.finish(reason, &url, lookup.now, answer);
        if ok {
            lookup.tier = Tier::Issuer;
        }
        report
    }

    /// The answer to a background refresh started at `now`.
    pub fn refreshed(
        &mut self,
        now: i64,
        fetch: &DocumentFetch,
        answer: Answer<'_>,
    ) -> DiscoveryReport {
        self.finish(FetchReason::RefreshAhead, &fetch.url, now, answer)
            .1
    }

    /// The fetch asked for was dropped before it ended: another token may fetch.
    pub fn abandoned(&mut self) {
        if self.in_flight {
            self.in_flight = false;
            self.generation = self.generation.wrapping_add(1);
        }
    }

    fn finish(
        &mut self,
        reason: FetchReason,
        url: &str,
        now: i64,
        answer: Answer<'_>,
    ) -> (bool, DiscoveryReport) {
        self.in_flight = false;
        self.generation = self.generation.wrapping_add(1);
        let mut report = DiscoveryReport::default();
        match self.apply(url, now, answer, &mut report.events) {
            Ok(snapshot) => {
                self.failures.succeeded();
                if let Some(held) = &self.held {
                    if held.jwks_uri != snapshot.jwks_uri {
                        report.events.push(DiscoveryEvent::JwksUriChanged {
                            from: held.jwks_uri.clone(),
                            to: snapshot.jwks_uri.clone(),
                        });
                    }
                }
                report.store = Some(snapshot.clone());
                self.held = Some(snapshot);
                (true, report)
            }
            Err(problem) => {
                self.failures.failed(now);
                report.events.push(DiscoveryEvent::FetchFailed {
                    code: Error::JwksUnavailable.code(),
                    problem: problem.map(DiscoveryProblem::code),
                    action: reason.action(),
                });
                (false, report)
            }
        }
    }

    /// The snapshot an answer gives, after the checks; a refused one never replaces the
    /// held one. `Err(None)`: a transport failure or a status without a document.
    fn apply(
        &self,
        url: &str,
        now: i64,
        answer: Answer<'_>,
        events: &mut Vec<DiscoveryEvent>,
    ) -> Result<DiscoverySnapshot, Option<DiscoveryProblem>> {
        let Answer::Response {
            status,
            body,
            cache_control,
            etag,
            last_modified,
        } = answer
        else {
            return Err(None);
        };
        let max_age = max_age_from_cache_control(cache_control, &self.policy);
        let previous = self.held.as_ref().filter(|h| h.document_uri == url);
        match (status, previous) {
            (304, Some(previous)) => Ok(DiscoverySnapshot {
                fetched_at: now,
                max_age,
                ..previous.clone()
            }),
            (300..=399, _) => {
                events.push(DiscoveryEvent::RedirectRefused { status });
                Err(None)
            }
            (200, _) => {
                let jwks_uri = read_document(body, &self.issuer, self.allow_http_loopback)?;
                let bounded = |v: &&str| v.len() <= MAX_VALIDATOR_BYTES;
                Ok(DiscoverySnapshot {
                    issuer: self.issuer.clone(),
                    document_uri: url.to_owned(),
                    jwks_uri,
                    fetched_at: now,
                    max_age,
                    etag: etag.filter(bounded).map(str::to_owned),
                    last_modified: last_modified.filter(bounded).map(str::to_owned),
                })
            }
            (404, _) => Err(Some(DiscoveryProblem::NotFound)),
            _ => Err(None),
        }
    }
}
