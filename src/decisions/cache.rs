//! JWKS caching as pure decisions over a serialisable snapshot. A front end loads
//! and stores snapshots (isolate memory, KV) and fetches from the issuer; this module
//! tells it, at a given `now`, whether a snapshot is fresh, due for a background
//! refresh, stale but still usable as last-known-good, or too old to trust, whether
//! an unknown `kid` may trigger a refetch, and whether the issuer may be asked again
//! after a failed fetch.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use sha2::{Digest, Sha256};

use crate::encoding::{parse_object, MAX_JSON_DEPTH};
use crate::keys::jwks::JwksOptions;
use crate::keys::thumbprint::thumbprint;

/// Cache timing. Defaults written once, in `Default`; all values in seconds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CachePolicy {
    /// Freshness when the issuer sends no `Cache-Control: max-age`. Default 600.
    pub default_max_age: u64,
    /// Floor for the issuer's `max-age`. Default 60.
    pub min_max_age: u64,
    /// Ceiling for the issuer's `max-age`. Default 86 400.
    pub max_max_age: u64,
    /// At most one refetch per this many seconds for unknown `kid`s. Default 30.
    pub unknown_kid_cooldown: u64,
    /// After a failed fetch, while a last-known-good set serves, the issuer is asked
    /// again at most once per this many seconds. Default 30.
    pub failure_cooldown: u64,
    /// How long past its freshness a last-known-good set keeps serving while the
    /// issuer fails. Default 86 400.
    pub max_staleness: u64,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            default_max_age: 600,
            min_max_age: 60,
            max_max_age: 86_400,
            unknown_kid_cooldown: 30,
            failure_cooldown: 30,
            max_staleness: 86_400,
        }
    }
}

/// What was fetched, when, and how to revalidate it. Stored as JSON in KV.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct JwksSnapshot {
    /// The JWKS document as received.
    pub jwks: String,
    /// When it was fetched or last revalidated (Unix seconds).
    pub fetched_at: i64,
    /// Freshness lifetime in seconds, already clamped by the policy.
    pub max_age: u64,
    /// `ETag` of the response, for `If-None-Match`.
    #[serde(default)]
    pub etag: Option<String>,
    /// `Last-Modified` of the response, for `If-Modified-Since`.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// The URI the set was fetched from. A stored snapshot is only read back for the
    /// same URI ([`JwksSnapshot::from_stored`]): a changed `jwks_uri` fetches afresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
}

/// Every KV key that holds a snapshot starts with this; nothing else may use it (the
/// worker refuses a `publish_jwks.kv_key` that does).
pub const SNAPSHOT_KEY_PREFIX: &str = "jwks:";

/// Largest stored snapshot read back, in bytes: the JWKS cap (256 KiB) with room for
/// JSON string escaping and the other fields.
pub const MAX_STORED_SNAPSHOT_BYTES: usize = 1024 * 1024;

/// Longest validator (`ETag`, `Last-Modified`) kept from a stored snapshot, in bytes.
const MAX_VALIDATOR_BYTES: usize = 256;

/// The storage key of the snapshot of `issuer`'s set at `jwks_uri`, imported with
/// `options`: `jwks:v2:` and a SHA-256 over all three, so a changed URI or changed
/// import options never read another set's snapshot (or send its `ETag`).
pub fn snapshot_key(issuer: &str, jwks_uri: &str, options: &JwksOptions) -> String {
    let mut hash = Sha256::new();
    // Length-prefixed, so no two different inputs concatenate to the same bytes.
    for part in [issuer.as_bytes(), jwks_uri.as_bytes()] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    for number in [options.max_bytes, options.max_keys, options.min_rsa_bits] {
        hash.update((number as u64).to_be_bytes());
    }
    hash.update([u8::from(options.allow_oct)]);
    let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("{SNAPSHOT_KEY_PREFIX}v2:{hex}")
}

/// The state of a snapshot at some `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Use it; nothing to do.
    Fresh,
    /// Use it, and refresh in the background (`waitUntil`) before it goes stale.
    RefreshAhead,
    /// Past `max_age`: refetch now; if the issuer fails, keep using it
    /// (last-known-good) until `max_staleness` has passed.
    Stale,
    /// Past `max_age + max_staleness`: do not use it (fail closed if the issuer fails).
    Expired,
}

/// How long shared storage keeps a document fresh for `max_age` seconds: as long as it
/// may serve as last-known-good (at least a minute, the shortest TTL KV accepts).
pub fn storage_lifetime(max_age: u64, policy: &CachePolicy) -> u64 {
    max_age.saturating_add(policy.max_staleness).max(60)
}

/// The state at `now` of a document fetched at `fetched_at` and fresh for `max_age`
/// seconds (a key set, or an issuer's discovery document). A document from the future
/// (clock jump back) is treated as just fetched.
pub fn freshness(fetched_at: i64, max_age: u64, policy: &CachePolicy, now: i64) -> Freshness {
    let age = u64::try_from(now.saturating_sub(fetched_at)).unwrap_or(0);
    // Refresh during the last fifth of the lifetime (at least the last second).
    let ahead = (max_age / 5).max(1);
    if age < max_age.saturating_sub(ahead) {
        Freshness::Fresh
    } else if age < max_age {
        Freshness::RefreshAhead
    } else if age < max_age.saturating_add(policy.max_staleness) {
        Freshness::Stale
    } else {
        Freshness::Expired
    }
}

impl JwksSnapshot {
    /// A snapshot read back from shared storage (KV), checked as untrusted input: it is
    /// refused unless it parses, is at most [`MAX_STORED_SNAPSHOT_BYTES`], was fetched
    /// from `jwks_uri`, and its `fetched_at` is not after `now`; its `max_age` is clamped
    /// to the policy's bounds, and over-long validators are dropped. A planted snapshot
    /// therefore serves at most `max_max_age` fresh (and `max_staleness` more while the
    /// issuer fails). No allowance for a writer's clock running ahead: refusing such a
    /// snapshot costs one fetch, accepting it would extend its life.
    ///
    /// The set itself is checked when it is imported
    /// ([`crate::JwkSet::parse_fetched`]), as a freshly fetched one is.
    pub fn from_stored(text: &str, jwks_uri: &str, policy: &CachePolicy, now: i64) -> Option<Self> {
        if text.len() > MAX_STORED_SNAPSHOT_BYTES {
            return None;
        }
        let mut snapshot: JwksSnapshot = serde_json::from_str(text).ok()?;
        if snapshot.jwks_uri.as_deref() != Some(jwks_uri) || snapshot.fetched_at > now {
            return None;
        }
        snapshot.max_age = snapshot.max_age.clamp(
            policy.min_max_age,
            policy.max_max_age.max(policy.min_max_age),
        );
        let bounded = |v: &String| v.len() <= MAX_VALIDATOR_BYTES;
        snapshot.etag = snapshot.etag.filter(bounded);
        snapshot.last_modified = snapshot.last_modified.filter(bounded);
        Some(snapshot)
    }

    /// The snapshot's state at `now`. A snapshot from the future (clock jump back) is
    /// treated as just fetched.
    pub fn freshness(&self, policy: &CachePolicy, now: i64) -> Freshness {
        freshness(self.fetched_at, self.max_age, policy, now)
    }

    /// Whether this set shares no key with `previous`, which had keys: every key was
    /// replaced at once. Normal rotation overlaps (the new key is published before it
    /// signs, the old one kept until its tokens expire), so a complete change is worth
    /// a warning: an issuer compromise, a misrouted `jwks_uri`, or a poisoned answer.
    /// Keys compare by their RFC 7638 thumbprint, so a renamed `kid` is the same key.
    pub fn replaces_every_key_of(&self, previous: &JwksSnapshot) -> bool {
        let before = key_thumbprints(&previous.jwks);
        !before.is_empty() && key_thumbprints(&self.jwks).is_disjoint(&before)
    }

    /// The same set, revalidated at `now` (a `304 Not Modified` answer).
    pub fn revalidated(&self, now: i64, max_age: u64) -> Self {
        Self {
            fetched_at: now,
            max_age,
            ..self.clone()
        }
    }
}

/// The thumbprints of a JWKS document's keys (those that have one).
fn key_thumbprints(jwks: &str) -> BTreeSet<String> {
    let Ok(root) = parse_object(jwks.as_bytes(), MAX_JSON_DEPTH) else {
        return BTreeSet::new();
    };
    match root.get("keys") {
        Some(Value::Array(keys)) => keys
            .iter()
            .filter_map(Value::as_object)
            .filter_map(|key| thumbprint(key).ok())
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// The freshness lifetime from a `Cache-Control` header (RFC 9111 §5.2.2), clamped to
/// the policy. `no-store`/`no-cache` give the floor: an issuer cannot make every
/// request refetch. Absent or unparsable: the policy's default.
pub fn max_age_from_cache_control(header: Option<&str>, policy: &CachePolicy) -> u64 {
    let mut max_age = None;
    for directive in header.unwrap_or("").split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" || directive == "no-cache" {
            return policy.min_max_age;
        }
        if let Some(value) = directive.strip_prefix("max-age=") {
            max_age = value.trim_matches('"').parse::<u64>().ok();
        }
    }
    max_age.unwrap_or(policy.default_max_age).clamp(
        policy.min_max_age,
        policy.max_max_age.max(policy.min_max_age),
    )
}

/// Failed fetches of one issuer's set. After a failure, while a usable (stale) set
/// serves, the issuer is asked again at most once per `failure_cooldown`: an issuer
/// that is down or slow is not asked on every request, and requests do not each wait
/// for its timeout. With no usable set there is nothing else to serve, so a fetch may
/// always start (front ends share one fetch among concurrent requests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchFailures {
    last_failure: Option<i64>,
}

impl FetchFailures {
    /// Records a failed fetch (unreachable, timed out, refused, or an unusable set).
    pub fn failed(&mut self, now: i64) {
        self.last_failure = Some(now);
    }

    /// Records a fetch that gave a usable set (or a `304 Not Modified`).
    pub fn succeeded(&mut self) {
        self.last_failure = None;
    }

    /// Whether the issuer may be asked at `now`, given the set held (if any). A clock
    /// that went back past the failure counts as the cooldown having passed.
    pub fn may_fetch(&self, held: Option<&JwksSnapshot>, policy: &CachePolicy, now: i64) -> bool {
        let usable = held.is_some_and(|s| s.freshness(policy, now) != Freshness::Expired);
        self.may_fetch_when(usable, policy, now)
    }

    /// [`Self::may_fetch`] for any document: `usable` says whether one is held that may
    /// still serve (not [`Freshness::Expired`]).
    pub fn may_fetch_when(&self, usable: bool, policy: &CachePolicy, now: i64) -> bool {
        let cooldown = i64::try_from(policy.failure_cooldown).unwrap_or(i64::MAX);
        !usable
            || self
                .last_failure
                .is_none_or(|at| at > now || now.saturating_sub(at) >= cooldown)
    }
}

/// Most unknown `kid`s remembered; beyond it the oldest are forgotten first.
pub const MAX_REMEMBERED_KIDS: usize = 256;

/// Per-issuer memory of refetches caused by unknown `kid`s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KidCooldown {
    last_refetch: Option<i64>,
    unknown: BTreeMap<String, i64>,
}

/// What to do about a `kid` not in the current set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownKid {
    /// Refetch the set now (and call [`KidCooldown::refetched`]).
    Refetch,
    /// Refuse without fetching: a refetch happened within the cooldown, or this `kid`
    /// was already looked for and not found.
    Refuse,
}

impl KidCooldown {
    /// Decides whether `kid` may trigger a refetch at `now`: at most one refetch per
    /// cooldown per issuer, and a `kid` already found missing stays refused for the
    /// cooldown.
    pub fn on_unknown(&mut self, kid: &str, policy: &CachePolicy, now: i64) -> UnknownKid {
        let cooldown = i64::try_from(policy.unknown_kid_cooldown).unwrap_or(i64::MAX);
        self.unknown
            .retain(|_, seen| now.saturating_sub(*seen) < cooldown && *seen <= now);
        if self.unknown.contains_key(kid) {
            return UnknownKid::Refuse;
        }
        if self
            .last_refetch
            .is_some_and(|at| now.saturating_sub(at) < cooldown && at <= now)
        {
            self.remember(kid, now);
            return UnknownKid::Refuse;
        }
        UnknownKid::Refetch
    }

    /// Records a refetch at `now`; `still_unknown` is the `kid` if the new set lacks it too.
    pub fn refetched(&mut self, now: i64, still_unknown: Option<&str>) {
        self.last_refetch = Some(now);
        if let Some(kid) = still_unknown {
            self.remember(kid, now);
        }
    }

    /// Unknown `kid`s currently remembered.
    pub fn remembered(&self) -> usize {
        self.unknown.len()
    }

    fn remember(&mut self, kid: &str, now: i64) {
        if self.unknown.len() >= MAX_REMEMBERED_KIDS {
            let oldest = self
                .unknown
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.unknown.remove(&oldest);
            }
        }
        // Bounded: a kid is at most MAX_KID_BYTES, checked when the token was parsed.
        self.unknown.insert(kid.to_owned(), now);
    }
}
