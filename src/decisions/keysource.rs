//! One issuer's key source as a pure state machine: the set held (with its keys parsed
//! and built once), failed fetches and the unknown-`kid` cooldown. Asked about one
//! token at a given `now`, it answers what to do next — read the shared snapshot, fetch
//! now (with which conditional headers), wait for the fetch in flight, serve these keys
//! (and perhaps refresh them in the background), or refuse — and it takes the outcome
//! of each piece of I/O back. The front ends (the worker's `edge/keys.rs`, the npm
//! `RemoteJwks`) only perform the I/O it asks for; every timing decision is
//! [`crate::decisions::cache`]'s, every check on a set is [`JwkSet::parse_fetched`]'s.
//!
//! A front end drives one [`Lookup`] per token:
//!
//! ```text
//! loop match source.step(&mut lookup) {
//!     ReadStored        => source.stored(&mut lookup, text_from_kv, build)
//!     Fetch(headers)    => source.fetched(&mut lookup, answer, build)
//!     Wait              => wait for the fetch in flight; lookup.waited()
//!     Serve { .. }      => verify with the keys (and, with `refresh`, fetch in the
//!                          background, then source.refreshed(now, answer, build))
//!     Refuse(error)     => answer with the error
//! }
//! ```
//!
//! What happened that an operator should know (a failed fetch, a refused set, a skipped
//! key, every key replaced) comes back as [`Event`]s for the front end to log.
//!
//! Why one file of more than 500 lines: every transition of the machine reads the same
//! state (held set, failures, cooldown, fetch in flight); split by transition, the
//! invariants between them (one fetch per token, a bad set never replaces a good one)
//! would be spread over files. The events and their JSON are the last ~100 lines.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::algorithms::alg::Algorithm;
use crate::decisions::cache::{
    max_age_from_cache_control, storage_lifetime, CachePolicy, FetchFailures, Freshness,
    JwksSnapshot, KidCooldown, UnknownKid,
};
use crate::error::{Error, JwksProblem};
use crate::keys::jwks::{JwkSet, JwksOptions};

/// Where the keys that served a token came from (logged, and shown in verdicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Parsed keys already held (isolate memory, or the `RemoteJwks` object).
    Memory,
    /// A snapshot read back from shared storage (the worker's KV).
    Kv,
    /// Fetched from the issuer for this token.
    Issuer,
    /// Last-known-good: past its freshness while the issuer fails.
    Stale,
    /// Configured HMAC secrets only; no key set.
    Secret,
}

impl Tier {
    /// The stable name (`memory`, `kv`, `issuer`, `stale`, `secret`).
    pub fn name(self) -> &'static str {
        match self {
            Tier::Memory => "memory",
            Tier::Kv => "kv",
            Tier::Issuer => "issuer",
            Tier::Stale => "stale",
            Tier::Secret => "secret",
        }
    }
}

/// The validators to send with a fetch (RFC 9110 §13.1.2, §13.1.3): those of the set
/// held, and only when it came from the URI being fetched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditional {
    /// `If-None-Match`: the held set's `ETag`.
    pub if_none_match: Option<String>,
    /// `If-Modified-Since`: the held set's `Last-Modified`.
    pub if_modified_since: Option<String>,
}

/// What the front end does next for a token.
#[derive(Debug, Clone, PartialEq)]
pub enum Step<K> {
    /// Read the shared snapshot (KV) and hand it to [`KeySource::stored`].
    ReadStored,
    /// Fetch the set now with these headers and hand the answer to
    /// [`KeySource::fetched`] (or call [`KeySource::abandoned`] if the fetch is dropped).
    Fetch(Conditional),
    /// Another token's fetch is in flight: wait for it to end (the
    /// [`KeySource::generation`] changes), call [`Lookup::waited`], and step again.
    Wait,
    /// Verify with these keys. With `refresh`, also fetch in the background with those
    /// headers and hand the answer to [`KeySource::refreshed`].
    Serve {
        /// The keys.
        keys: K,
        /// Where they came from.
        tier: Tier,
        /// A background refresh to start (the set is in the last fifth of its life).
        refresh: Option<Conditional>,
    },
    /// Refuse the token with this error (no usable set and the issuer failed).
    Refuse(Error),
}

/// Why a fetch was asked for; names the action in a `jwks_fetch_failed` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchReason {
    /// Nothing held: on failure the token is refused.
    NoKeys,
    /// The held set is stale: on failure it keeps serving (last-known-good).
    Stale,
    /// The held set is past `max_staleness`: on failure the token is refused.
    Expired,
    /// The token's `kid` is not in the held set: on failure the held set answers.
    UnknownKid,
    /// A background refresh ahead of expiry: on failure nothing changes yet.
    RefreshAhead,
}

impl FetchReason {
    /// What was done about a failure, as logged (`action`).
    pub fn action(self) -> &'static str {
        match self {
            FetchReason::NoKeys => "no keys cached",
            FetchReason::Stale => "serving last-known-good",
            FetchReason::Expired => "last-known-good too old",
            FetchReason::UnknownKid => "unknown kid refused",
            FetchReason::RefreshAhead => "refresh-ahead failed",
        }
    }
}

/// Something an operator should know, returned for the front end to log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A fetch failed or its set was refused (`problem` names why, for a refused set).
    #[serde(rename = "jwks_fetch_failed")]
    FetchFailed {
        /// The error code (`jwks_unavailable`, `jwks_invalid`, …).
        code: &'static str,
        /// The refused set's problem (`no_usable_keys`, `private_key_material`, …).
        #[serde(skip_serializing_if = "Option::is_none")]
        problem: Option<&'static str>,
        /// What was done about it ([`FetchReason::action`]).
        action: &'static str,
    },
    /// The issuer answered with a redirect, which is never followed.
    #[serde(rename = "jwks_redirect_refused")]
    RedirectRefused {
        /// The 3xx status.
        status: u16,
    },
    /// A key of an accepted set was skipped.
    #[serde(rename = "jwks_key_skipped")]
    KeySkipped {
        /// Its position in `keys`.
        index: usize,
        /// Why ([`crate::KeyRejection::code`]).
        reason: &'static str,
    },
    /// The new set shares no key with the one it replaced
    /// ([`JwksSnapshot::replaces_every_key_of`]).
    #[serde(rename = "jwks_all_keys_changed")]
    AllKeysChanged,
    /// A stored snapshot was refused (not this URI's, from the future, malformed, or
    /// its set has no usable key).
    #[serde(rename = "kv_snapshot_refused")]
    StoredRefused,
}

/// One answer from the issuer, as the front end received it. Transport failures (no
/// answer, timeout, a body over the size limit or not UTF-8, a redirect that a
/// platform followed anyway) are [`Answer::Failed`].
#[derive(Debug, Clone)]
pub enum Answer<'a> {
    /// An HTTP answer. `body` is read only for a 200.
    Response {
        /// The status code.
        status: u16,
        /// The body (empty unless 200).
        body: &'a [u8],
        /// `Cache-Control`.
        cache_control: Option<&'a str>,
        /// `ETag`.
        etag: Option<&'a str>,
        /// `Last-Modified`.
        last_modified: Option<&'a str>,
    },
    /// No usable answer; the error to record.
    Failed(Error),
}

/// What a finished fetch changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// For the front end to log.
    pub events: Vec<Event>,
    /// The snapshot to write to shared storage (after a 200 or a 304), if any.
    pub store: Option<JwksSnapshot>,
}

/// One token's way through the key source. Not shared between tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    now: i64,
    kid: Option<String>,
    /// Whether an unknown `kid` may cause a fetch: only for an asymmetric algorithm (a
    /// fetched set never holds HMAC keys).
    may_refetch_for_kid: bool,
    read_stored: bool,
    /// Set once this token fetched (or waited for another's fetch): at most one fetch
    /// per token.
    fetched: bool,
    pending: Option<FetchReason>,
    tier: Tier,
}

impl Lookup {
    /// A lookup at `now` for a token with this `kid` and (admitted) algorithm; `None`
    /// when the algorithm is unknown, which never causes a `kid` refetch.
    pub fn new(kid: Option<&str>, algorithm: Option<Algorithm>, now: i64) -> Self {
        Self {
            now,
            kid: kid.map(str::to_owned),
            may_refetch_for_kid: algorithm.is_some_and(|a| !a.is_symmetric()),
            read_stored: false,
            fetched: false,
            pending: None,
            tier: Tier::Memory,
        }
    }

    /// The fetch this lookup waited for has ended: its outcome is this token's too.
    pub fn waited(&mut self) {
        self.fetched = true;
    }

    /// The time the lookup was made at.
    pub fn now(&self) -> i64 {
        self.now
    }
}

#[derive(Debug, Clone)]
struct Held<K> {
    snapshot: JwksSnapshot,
    kids: BTreeSet<String>,
    keys: K,
}

/// One issuer's key source: the set held with its built keys `K` (a `Verifier`, shared
/// by reference counting), and what the cache decisions need to remember.
#[derive(Debug, Clone)]
pub struct KeySource<K> {
    uri: String,
    policy: CachePolicy,
    jwks: JwksOptions,
    shared_store: bool,
    held: Option<Held<K>>,
    failures: FetchFailures,
    cooldown: KidCooldown,
    in_flight: bool,
    /// The URI the fetch in flight was sent to (the source may be retargeted meanwhile).
    fetching: Option<String>,
    generation: u64,
}

impl<K: Clone> KeySource<K> {
    /// A source with nothing held for the set at `uri`, imported with `jwks`. With
    /// `shared_store`, a lookup that finds nothing held reads the stored snapshot first.
    pub fn new(uri: &str, policy: CachePolicy, jwks: JwksOptions, shared_store: bool) -> Self {
        Self {
            uri: uri.to_owned(),
            policy,
            jwks,
            shared_store,
            held: None,
            failures: FetchFailures::default(),
            cooldown: KidCooldown::default(),
            in_flight: false,
            fetching: None,
            generation: 0,
        }
    }

    /// The URI the set is fetched from.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Fetches the set from `uri` from now on (an issuer's discovery document named a
    /// new `jwks_uri`). The set held stays as last-known-good until the new URI answers;
    /// the failure and unknown-`kid` cooldowns start over for the new URI.
    pub fn retarget(&mut self, uri: &str) {
        if self.uri != uri {
            self.uri = uri.to_owned();
            self.failures = FetchFailures::default();
            self.cooldown = KidCooldown::default();
        }
    }

    /// The cache policy.
    pub fn policy(&self) -> &CachePolicy {
        &self.policy
    }

    /// The snapshot and keys held, if any (whatever their freshness).
    pub fn held(&self) -> Option<(&JwksSnapshot, &K)> {
        self.held.as_ref().map(|h| (&h.snapshot, &h.keys))
    }

    /// Whether a fetch is in flight.
    pub fn in_flight(&self) -> bool {
        self.in_flight
    }

    /// Bumped whenever a fetch ends (or is abandoned): what a waiting token watches.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What to do next for `lookup`.
    pub fn step(&mut self, lookup: &mut Lookup) -> Step<K> {
        let now = lookup.now;
        if self.held.is_none() && self.shared_store && !lookup.read_stored && !lookup.fetched {
            lookup.read_stored = true;
            return Step::ReadStored;
        }
        // A set held from another URI than the one now configured (the issuer's
        // discovery document moved its `jwks_uri`) is fetched anew at once; until the
        // new URI answers it serves as last-known-good.
        let freshness = self
            .held
            .as_ref()
            .map(|h| match h.snapshot.freshness(&self.policy, now) {
                Freshness::Fresh | Freshness::RefreshAhead
                    if h.snapshot.jwks_uri.as_deref() != Some(self.uri.as_str()) =>
                {
                    Freshness::Stale
                }
                other => other,
            });
        let may_fetch =
            self.failures
                .may_fetch(self.held.as_ref().map(|h| &h.snapshot), &self.policy, now);
        match freshness {
            None | Some(Freshness::Expired) if lookup.fetched => {
                Step::Refuse(Error::JwksUnavailable)
            }
            None => self.fetch(lookup, FetchReason::NoKeys),
            Some(Freshness::Expired) => self.fetch(lookup, FetchReason::Expired),
            // After this token's fetch failed, or within the failure cooldown, the stale
            // set answers at once instead of every token waiting for a failing issuer.
            Some(Freshness::Stale) if lookup.fetched || !may_fetch => {
                lookup.tier = Tier::Stale;
                self.serve(lookup, false)
            }
            Some(Freshness::Stale) => self.fetch(lookup, FetchReason::Stale),
            Some(Freshness::RefreshAhead) => self.serve(lookup, may_fetch),
            Some(Freshness::Fresh) => self.serve(lookup, false),
        }
    }

    fn fetch(&mut self, lookup: &mut Lookup, reason: FetchReason) -> Step<K> {
        if self.in_flight {
            return Step::Wait;
        }
        self.in_flight = true;
        self.fetching = Some(self.uri.clone());
        lookup.pending = Some(reason);
        Step::Fetch(self.conditional())
    }

    /// Serves the held set, unless the token's `kid` is unknown and may cause a refetch.
    fn serve(&mut self, lookup: &mut Lookup, refresh_ahead: bool) -> Step<K> {
        let Some(held) = &self.held else {
            return Step::Refuse(Error::JwksUnavailable);
        };
        let unknown_kid = lookup
            .kid
            .as_deref()
            .filter(|kid| !held.kids.contains(*kid));
        if let Some(kid) = unknown_kid {
            // An issuer that rotated publishes the new key before signing with it, so
            // an unknown kid may mean a newer set: refetch, at most once per cooldown.
            if lookup.may_refetch_for_kid
                && !lookup.fetched
                && self.cooldown.on_unknown(kid, &self.policy, lookup.now) == UnknownKid::Refetch
            {
                return self.fetch(lookup, FetchReason::UnknownKid);
            }
        }
        let keys = held.keys.clone();
        let refresh = if refresh_ahead && !self.in_flight && !lookup.fetched {
            self.in_flight = true;
            self.fetching = Some(self.uri.clone());
            Some(self.conditional())
        } else {
            None
        };
        Step::Serve {
            keys,
            tier: lookup.tier,
            refresh,
        }
    }

    /// Validators go back only to the URI that gave them.
    fn conditional(&self) -> Conditional {
        match &self.held {
            Some(h) if h.snapshot.jwks_uri.as_deref() == Some(self.uri.as_str()) => Conditional {
                if_none_match: h.snapshot.etag.clone(),
                if_modified_since: h.snapshot.last_modified.clone(),
            },
            _ => Conditional::default(),
        }
    }

    /// The stored snapshot read for `lookup` (`None`: nothing stored, or unreadable). It
    /// is checked as untrusted input ([`JwksSnapshot::from_stored`]) and its set as a
    /// fetched one; an expired one is ignored.
    pub fn stored(
        &mut self,
        lookup: &mut Lookup,
        text: Option<&str>,
        build: impl FnOnce(JwkSet) -> Result<K, Error>,
    ) -> Vec<Event> {
        let mut events = Vec::new();
        let Some(text) = text else {
            return events;
        };
        if self.held.is_some() {
            return events; // another token's fetch landed meanwhile
        }
        let Some(snapshot) = JwksSnapshot::from_stored(text, &self.uri, &self.policy, lookup.now)
        else {
            events.push(Event::StoredRefused);
            return events;
        };
        if snapshot.freshness(&self.policy, lookup.now) == Freshness::Expired {
            return events;
        }
        match self.accept(snapshot, build, &mut events) {
            Ok(held) => {
                self.held = Some(held);
                lookup.tier = Tier::Kv;
            }
            Err(_) => events.push(Event::StoredRefused),
        }
        events
    }

    /// The answer to the fetch `lookup` was told to make.
    pub fn fetched(
        &mut self,
        lookup: &mut Lookup,
        answer: Answer<'_>,
        build: impl FnOnce(JwkSet) -> Result<K, Error>,
    ) -> Report {
        let reason = lookup.pending.take().unwrap_or(FetchReason::NoKeys);
        lookup.fetched = true;
        let (ok, report) = self.finish(reason, lookup.now, answer, build);
        if ok {
            lookup.tier = Tier::Issuer;
        }
        if reason == FetchReason::UnknownKid {
            let still_unknown = !ok
                || lookup
                    .kid
                    .as_deref()
                    .is_some_and(|kid| self.held.as_ref().is_none_or(|h| !h.kids.contains(kid)));
            let kid = lookup.kid.as_deref().filter(|_| still_unknown);
            self.cooldown.refetched(lookup.now, kid);
        }
        report
    }

    /// The answer to a background refresh started at `now`.
    pub fn refreshed(
        &mut self,
        now: i64,
        answer: Answer<'_>,
        build: impl FnOnce(JwkSet) -> Result<K, Error>,
    ) -> Report {
        self.finish(FetchReason::RefreshAhead, now, answer, build).1
    }

    /// The fetch asked for was dropped before it ended (its request was cancelled):
    /// another token may fetch, and those waiting stop waiting.
    pub fn abandoned(&mut self) {
        if self.in_flight {
            self.in_flight = false;
            self.fetching = None;
            self.generation = self.generation.wrapping_add(1);
        }
    }

    /// Builds the held set's keys again from its document (for new verification options
    /// in a front end whose keys depend on them).
    pub fn rebuild(&mut self, build: impl FnOnce(JwkSet) -> Result<K, Error>) -> Result<(), Error> {
        let Some(held) = &mut self.held else {
            return Err(Error::JwksUnavailable);
        };
        let set = JwkSet::parse_fetched(held.snapshot.jwks.as_bytes(), &self.jwks)?;
        held.keys = build(set)?;
        Ok(())
    }

    fn finish(
        &mut self,
        reason: FetchReason,
        now: i64,
        answer: Answer<'_>,
        build: impl FnOnce(JwkSet) -> Result<K, Error>,
    ) -> (bool, Report) {
        self.in_flight = false;
        self.generation = self.generation.wrapping_add(1);
        let uri = self.fetching.take().unwrap_or_else(|| self.uri.clone());
        let mut report = Report::default();
        match self.apply(&uri, now, answer, build, &mut report.events) {
            Ok(held) => {
                self.failures.succeeded();
                report.store = Some(held.snapshot.clone());
                self.held = Some(held);
                (true, report)
            }
            Err(err) => {
                self.failures.failed(now);
                let problem = match &err {
                    Error::JwksInvalid(problem) => Some(problem.code()),
                    _ => None,
                };
                report.events.push(Event::FetchFailed {
                    code: err.code(),
                    problem,
                    action: reason.action(),
                });
                (false, report)
            }
        }
    }

    /// The set an answer gives, after the checks: a refused one never replaces the held.
    fn apply(
        &self,
        uri: &str,
        now: i64,
        answer: Answer<'_>,
        build: impl FnOnce(JwkSet) -> Result<K, Error>,
        events: &mut Vec<Event>,
    ) -> Result<Held<K>, Error> {
        let (status, body, cache_control, etag, last_modified) = match answer {
            Answer::Response {
                status,
                body,
                cache_control,
                etag,
                last_modified,
            } => (status, body, cache_control, etag, last_modified),
            Answer::Failed(err) => return Err(err),
        };
        let max_age = max_age_from_cache_control(cache_control, &self.policy);
        let previous = self
            .held
            .as_ref()
            .filter(|h| h.snapshot.jwks_uri.as_deref() == Some(uri));
        match (status, previous) {
            (304, Some(previous)) => Ok(Held {
                snapshot: previous.snapshot.revalidated(now, max_age),
                ..previous.clone()
            }),
            // Not modified, but nothing held to revalidate.
            (304, None) => Err(Error::JwksUnavailable),
            // Redirects are not followed: a key set comes from the configured URI only.
            (300..=399, _) => {
                events.push(Event::RedirectRefused { status });
                Err(Error::JwksUnavailable)
            }
            (200, _) => {
                let text = std::str::from_utf8(body)
                    .map_err(|_| Error::JwksInvalid(JwksProblem::Malformed))?;
                let snapshot = JwksSnapshot {
                    jwks: text.to_owned(),
                    fetched_at: now,
                    max_age,
                    etag: etag.map(str::to_owned),
                    last_modified: last_modified.map(str::to_owned),
                    jwks_uri: Some(uri.to_owned()),
                };
                let held = self.accept(snapshot, build, events)?;
                if previous.is_some_and(|p| held.snapshot.replaces_every_key_of(&p.snapshot)) {
                    events.push(Event::AllKeysChanged);
                }
                Ok(held)
            }
            _ => Err(Error::JwksUnavailable),
        }
    }

    /// Parses a set once, with the hygiene of a fetched set, and builds its keys.
    fn accept(
        &self,
        snapshot: JwksSnapshot,
        build: impl FnOnce(JwkSet) -> Result<K, Error>,
        events: &mut Vec<Event>,
    ) -> Result<Held<K>, Error> {
        let set = JwkSet::parse_fetched(snapshot.jwks.as_bytes(), &self.jwks)?;
        events.extend(set.skipped().iter().map(|s| Event::KeySkipped {
            index: s.index,
            reason: s.reason.code(),
        }));
        let kids = set.keys().iter().filter_map(|k| k.kid.clone()).collect();
        Ok(Held {
            snapshot,
            kids,
            keys: build(set)?,
        })
    }
}

/// How long shared storage keeps a snapshot: as long as it may serve as last-known-good
/// (at least a minute, the shortest TTL KV accepts).
pub fn storage_ttl(snapshot: &JwksSnapshot, policy: &CachePolicy) -> u64 {
    storage_lifetime(snapshot.max_age, policy)
}
