//! An issuer's keys in three tiers: parsed keys in isolate memory → a KV snapshot
//! shared across isolates → the issuer itself. What to do at each point is decided by
//! the core's cache module; this file only loads, stores and fetches.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::alg::Algorithm;
use crate::cache::{
    max_age_from_cache_control, snapshot_key, FetchFailures, Freshness, JwksSnapshot, KidCooldown,
    UnknownKid,
};
use crate::error::Error;
use crate::error::KeyRejection;
use crate::jwk::Jwk;
use crate::jwks::JwkSet;
use crate::secret::parse_secret_text;
use crate::verify::Verifier;
use worker::{
    AbortController, Context, Delay, Env, Fetch, Headers, Method, Request, RequestInit,
    RequestRedirect,
};

use super::Isolate;

/// Largest JWKS response read, in bytes.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Where the keys of a decision came from (logged, and shown in verdicts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Memory,
    Kv,
    Issuer,
    /// Last-known-good while the issuer fails.
    Stale,
    /// Configured HMAC secret only; no JWKS.
    Secret,
}

impl Tier {
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

/// A parsed key set with the snapshot it came from.
pub struct CachedKeys {
    pub snapshot: JwksSnapshot,
    pub verifier: Rc<Verifier>,
}

type FetchResult = Result<Rc<CachedKeys>, Error>;

/// How often a request waiting for another request's JWKS fetch looks again.
const WAIT_STEP: Duration = Duration::from_millis(5);

/// Per-issuer state in isolate memory.
#[derive(Default)]
pub struct IssuerKeys {
    cached: RefCell<Option<Rc<CachedKeys>>>,
    cooldown: RefCell<KidCooldown>,
    /// When the last fetch failed: a stale set serves without asking again for a while.
    failures: std::cell::Cell<FetchFailures>,
    /// Whether a fetch is in flight. Concurrent requests wait for it instead of
    /// fetching too. (workerd forbids awaiting another request's I/O, so they cannot
    /// share its promise: they poll this flag on their own timers.)
    fetching: std::cell::Cell<bool>,
    /// Bumped when a fetch ends, with its outcome, for the requests that waited.
    finished: RefCell<(u64, Option<FetchResult>)>,
    /// The verifier of an HMAC-only issuer, built once.
    secret_only: RefCell<Option<Rc<Verifier>>>,
}

/// Clears the in-flight flag even when the fetching request is cancelled.
struct FetchGuard<'a>(&'a IssuerKeys);

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        self.0.fetching.set(false);
    }
}

/// The KV key of an issuer's snapshot: bound to the issuer, its `jwks_uri` and the
/// import options, so a changed URI never reads the old URI's snapshot.
fn kv_key(isolate: &Isolate, issuer: &str, uri: &str) -> String {
    snapshot_key(issuer, uri, &isolate.config.jwks_options())
}

/// The configured HMAC secrets of an issuer, from Worker secrets or Secrets Store
/// bindings read once per isolate (`super::secrets`), never from the configuration:
/// `hmac_secret` unnamed (any `kid`), each of `hmac_secrets` named by its `kid`. A
/// binding that is missing, not base64url, a placeholder, or too short is
/// `config_invalid` naming the field (and logged with the reason, never the value).
fn hmac_keys(isolate: &Isolate, index: usize) -> Result<Vec<Jwk>, Error> {
    let (issuer, _) = isolate.issuer(index)?;
    let mut keys = Vec::new();
    if let Some(name) = &issuer.hmac_secret {
        let key = secret_bytes(isolate, name)
            .and_then(|bytes| Jwk::unnamed_hmac_secret(bytes).map_err(KeyRejection::code))
            .map_err(|why| refused_secret("issuers.hmac_secret", name, why))?;
        keys.push(key);
    }
    for (kid, name) in &issuer.hmac_secrets {
        let key = secret_bytes(isolate, name)
            .and_then(|bytes| {
                Jwk::named_hmac_secret(kid.clone(), bytes).map_err(KeyRejection::code)
            })
            .map_err(|why| refused_secret("issuers.hmac_secrets", name, why))?;
        keys.push(key);
    }
    Ok(keys)
}

/// The bytes of the secret in binding `name`, parsed by the core; on failure,
/// the reason's code.
fn secret_bytes(isolate: &Isolate, name: &str) -> Result<Vec<u8>, &'static str> {
    parse_secret_text(isolate.secrets.text(name)?).map_err(KeyRejection::code)
}

fn refused_secret(field: &'static str, binding: &str, why: &'static str) -> Error {
    // The binding name is configuration (validated: [A-Za-z0-9_]{1,64}), not the secret.
    worker::console_error!(
        "{{\"event\":\"hmac_secret_refused\",\"field\":\"{field}\",\"binding\":{},\"reason\":\"{}\"}}",
        serde_json::Value::String(binding.to_owned()),
        why
    );
    Error::ConfigInvalid(field)
}

/// Builds the verifier for a snapshot: the JWKS (never `oct` keys) plus the configured
/// HMAC secrets. Done once per snapshot, never per request. The set's hygiene runs here
/// for a snapshot read from KV as for a fetched one, and a set with no usable key of
/// its own is refused (a configured secret does not make it usable).
fn build(isolate: &Isolate, index: usize, snapshot: JwksSnapshot) -> FetchResult {
    let (issuer, _) = isolate.issuer(index)?;
    let mut keys = JwkSet::parse_fetched(snapshot.jwks.as_bytes(), &isolate.config.jwks_options())?;
    for skipped in keys.skipped() {
        worker::console_warn!(
            "{{\"event\":\"jwks_key_skipped\",\"iss\":{},\"index\":{},\"reason\":\"{}\"}}",
            serde_json::Value::String(issuer.issuer.clone()),
            skipped.index,
            skipped.reason.code()
        );
    }
    for secret in hmac_keys(isolate, index)? {
        keys.push(secret);
    }
    let verifier = Verifier::new(keys, isolate.config.verify_options(issuer)?)?;
    Ok(Rc::new(CachedKeys {
        snapshot,
        verifier: Rc::new(verifier),
    }))
}

/// The verifier for issuer `index` at `now`, and the tier it came from. `kid` and
/// `algorithm` are the token's (already admitted), to decide on a refetch when the
/// `kid` is unknown.
pub async fn verifier_for(
    isolate: &Rc<Isolate>,
    env: &Env,
    ctx: &Context,
    index: usize,
    kid: Option<&str>,
    algorithm: Algorithm,
    now: i64,
) -> Result<(Rc<Verifier>, Tier), Error> {
    let (issuer, state) = isolate.issuer(index)?;
    let Some(uri) = issuer.jwks_uri.clone() else {
        // HMAC-only issuer.
        if let Some(v) = state.secret_only.borrow().as_ref() {
            return Ok((Rc::clone(v), Tier::Secret));
        }
        let mut keys = JwkSet::new();
        for secret in hmac_keys(isolate, index)? {
            keys.push(secret);
        }
        let verifier = Rc::new(Verifier::new(keys, isolate.config.verify_options(issuer)?)?);
        *state.secret_only.borrow_mut() = Some(Rc::clone(&verifier));
        return Ok((verifier, Tier::Secret));
    };
    let policy = &isolate.config.cache;

    // Tier 1: isolate memory. Tier 2: KV, when memory has nothing.
    let mut tier = Tier::Memory;
    let mut current = state.cached.borrow().clone();
    if current.is_none() {
        let key = kv_key(isolate, &issuer.issuer, &uri);
        if let Some(snapshot) = read_kv(env, &key, &uri, policy, now).await {
            if snapshot.freshness(policy, now) != Freshness::Expired {
                if let Ok(keys) = build(isolate, index, snapshot) {
                    *state.cached.borrow_mut() = Some(Rc::clone(&keys));
                    current = Some(keys);
                    tier = Tier::Kv;
                }
            }
        }
    }

    let (keys, tier) = match current {
        Some(keys) => match keys.snapshot.freshness(policy, now) {
            Freshness::Fresh => (keys, tier),
            Freshness::RefreshAhead => {
                let may_fetch = state
                    .failures
                    .get()
                    .may_fetch(Some(&keys.snapshot), policy, now);
                if !state.fetching.get() && may_fetch {
                    let (isolate, env, uri) = (Rc::clone(isolate), env.clone(), uri.clone());
                    ctx.wait_until(async move {
                        let _ = fetch_once(&isolate, &env, index, &uri, now).await;
                    });
                }
                (keys, tier)
            }
            // Within the failure cooldown the issuer is not asked again: the stale set
            // answers at once instead of every request waiting for a failing issuer.
            Freshness::Stale
                if !state
                    .failures
                    .get()
                    .may_fetch(Some(&keys.snapshot), policy, now) =>
            {
                (keys, Tier::Stale)
            }
            Freshness::Stale => match fetch_once(isolate, env, index, &uri, now).await {
                Ok(fresh) => (fresh, Tier::Issuer),
                Err(err) => {
                    log_fetch_failure(&issuer.issuer, &err, "serving last-known-good");
                    (keys, Tier::Stale)
                }
            },
            Freshness::Expired => match fetch_once(isolate, env, index, &uri, now).await {
                Ok(fresh) => (fresh, Tier::Issuer),
                Err(err) => {
                    log_fetch_failure(&issuer.issuer, &err, "last-known-good too old");
                    return Err(Error::JwksUnavailable);
                }
            },
        },
        None => match fetch_once(isolate, env, index, &uri, now).await {
            Ok(fresh) => (fresh, Tier::Issuer),
            Err(err) => {
                log_fetch_failure(&issuer.issuer, &err, "no keys cached");
                return Err(Error::JwksUnavailable);
            }
        },
    };

    // An unknown kid may mean the issuer rotated: refetch, at most once per cooldown.
    if let Some(kid) = kid {
        let known = keys
            .verifier
            .keys()
            .keys()
            .iter()
            .any(|k| k.kid.as_deref() == Some(kid));
        // A fetched set never carries HMAC keys, so an HS* token's unknown `kid` (an
        // issuer's label such as "hs256", for a configured secret) is no reason to ask.
        if !known && tier != Tier::Issuer && !algorithm.is_symmetric() {
            let decision = state.cooldown.borrow_mut().on_unknown(kid, policy, now);
            if decision == UnknownKid::Refetch {
                let result = fetch_once(isolate, env, index, &uri, now).await;
                if let Err(err) = &result {
                    log_fetch_failure(&issuer.issuer, err, "unknown kid refused");
                }
                let refreshed = result.as_ref().ok().cloned();
                let still_unknown = refreshed.as_ref().is_none_or(|k| {
                    !k.verifier
                        .keys()
                        .keys()
                        .iter()
                        .any(|key| key.kid.as_deref() == Some(kid))
                });
                state
                    .cooldown
                    .borrow_mut()
                    .refetched(now, still_unknown.then_some(kid));
                if let Some(fresh) = refreshed {
                    return Ok((Rc::clone(&fresh.verifier), Tier::Issuer));
                }
            }
        }
    }
    Ok((Rc::clone(&keys.verifier), tier))
}

fn log_fetch_failure(issuer: &str, err: &Error, action: &str) {
    // A refused set also names the problem (`no_usable_keys`, `private_key_material`, …).
    let problem = match err {
        Error::JwksInvalid(problem) => format!(",\"problem\":\"{}\"", problem.code()),
        _ => String::new(),
    };
    worker::console_warn!(
        "{{\"event\":\"jwks_fetch_failed\",\"iss\":{},\"code\":\"{}\"{problem},\"action\":\"{action}\"}}",
        serde_json::Value::String(issuer.to_owned()),
        err.code()
    );
}

/// The stored snapshot for `uri`, checked as untrusted input by the core (its URI,
/// a `fetched_at` not in the future, `max_age` clamped to the policy).
async fn read_kv(
    env: &Env,
    key: &str,
    uri: &str,
    policy: &crate::cache::CachePolicy,
    now: i64,
) -> Option<JwksSnapshot> {
    let kv = env.kv("JWKS_CACHE").ok()?;
    match kv.get(key).text().await {
        Ok(Some(text)) => {
            let snapshot = JwksSnapshot::from_stored(&text, uri, policy, now);
            if snapshot.is_none() {
                worker::console_warn!(
                    "{{\"event\":\"kv_snapshot_refused\",\"binding\":\"JWKS_CACHE\"}}"
                );
            }
            snapshot
        }
        Ok(None) => None,
        Err(_) => {
            worker::console_warn!("{{\"event\":\"kv_read_failed\",\"binding\":\"JWKS_CACHE\"}}");
            None
        }
    }
}

/// One fetch per issuer at a time: a request that finds a fetch in flight waits for
/// its outcome (bounded by the fetch timeout) instead of fetching again.
async fn fetch_once(
    isolate: &Rc<Isolate>,
    env: &Env,
    index: usize,
    uri: &str,
    now: i64,
) -> FetchResult {
    let (_, state) = isolate.issuer(index)?;
    if state.fetching.get() {
        let generation = state.finished.borrow().0;
        let limit = isolate
            .config
            .fetch_timeout_ms
            .checked_div(WAIT_STEP.as_millis() as u64)
            .unwrap_or(0)
            .saturating_add(2);
        for _ in 0..limit {
            Delay::from(WAIT_STEP).await;
            let finished = state.finished.borrow();
            if finished.0 != generation {
                return finished.1.clone().unwrap_or(Err(Error::JwksUnavailable));
            }
        }
        return Err(Error::JwksUnavailable);
    }
    state.fetching.set(true);
    let guard = FetchGuard(state);
    let result = fetch_and_store(isolate, env, index, uri, now).await;
    let mut failures = state.failures.get();
    match &result {
        Ok(keys) => {
            *state.cached.borrow_mut() = Some(Rc::clone(keys));
            failures.succeeded();
        }
        Err(_) => failures.failed(now),
    }
    state.failures.set(failures);
    {
        let mut finished = state.finished.borrow_mut();
        finished.0 = finished.0.wrapping_add(1);
        finished.1 = Some(result.clone());
    }
    drop(guard);
    result
}

async fn fetch_and_store(
    isolate: &Rc<Isolate>,
    env: &Env,
    index: usize,
    uri: &str,
    now: i64,
) -> FetchResult {
    let (issuer, state) = isolate.issuer(index)?;
    // Validators only ever go back to the URI that gave them.
    let previous = state
        .cached
        .borrow()
        .as_ref()
        .map(|k| k.snapshot.clone())
        .filter(|p| p.jwks_uri.as_deref() == Some(uri));
    let headers = Headers::new();
    let _ = headers.set("accept", "application/json, application/jwk-set+json");
    if let Some(etag) = previous.as_ref().and_then(|p| p.etag.as_deref()) {
        let _ = headers.set("if-none-match", etag);
    }
    if let Some(modified) = previous.as_ref().and_then(|p| p.last_modified.as_deref()) {
        let _ = headers.set("if-modified-since", modified);
    }
    let mut init = RequestInit::new();
    // Redirects are not followed: a key set comes from the configured URI only, never
    // from wherever an answer points (another host, or `http://`). A 3xx is a failure.
    init.with_method(Method::Get)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    let request = Request::new_with_init(uri, &init).map_err(|_| Error::JwksUnavailable)?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let send = fetch.send_with_signal(&signal);
    let timeout = Delay::from(Duration::from_millis(isolate.config.fetch_timeout_ms));
    futures_util::pin_mut!(send);
    futures_util::pin_mut!(timeout);
    let mut response = match futures_util::future::select(send, timeout).await {
        futures_util::future::Either::Left((Ok(response), _)) => response,
        futures_util::future::Either::Left((Err(_), _)) => return Err(Error::JwksUnavailable),
        futures_util::future::Either::Right(_) => {
            controller.abort();
            return Err(Error::JwksUnavailable);
        }
    };
    let max_age = max_age_from_cache_control(
        response
            .headers()
            .get("cache-control")
            .ok()
            .flatten()
            .as_deref(),
        &isolate.config.cache,
    );
    let snapshot = match (response.status_code(), &previous) {
        (304, Some(previous)) => previous.revalidated(now, max_age),
        (status @ 300..=399, _) => {
            worker::console_warn!(
                "{{\"event\":\"jwks_redirect_refused\",\"iss\":{},\"status\":{status}}}",
                serde_json::Value::String(issuer.issuer.clone())
            );
            return Err(Error::JwksUnavailable);
        }
        (200, _) => {
            let declared = response
                .headers()
                .get("content-length")
                .ok()
                .flatten()
                .and_then(|v| v.parse::<usize>().ok());
            if declared.is_some_and(|n| n > MAX_JWKS_BYTES) {
                return Err(Error::JwksInvalid(crate::error::JwksProblem::TooLarge));
            }
            // Read at most MAX_JWKS_BYTES, whatever the length header said (or did not).
            let mut body = Vec::new();
            let mut stream = response.stream().map_err(|_| Error::JwksUnavailable)?;
            while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
                let chunk = chunk.map_err(|_| Error::JwksUnavailable)?;
                if body.len().saturating_add(chunk.len()) > MAX_JWKS_BYTES {
                    return Err(Error::JwksInvalid(crate::error::JwksProblem::TooLarge));
                }
                body.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(body)
                .map_err(|_| Error::JwksInvalid(crate::error::JwksProblem::Malformed))?;
            JwksSnapshot {
                jwks: text,
                fetched_at: now,
                max_age,
                etag: response.headers().get("etag").ok().flatten(),
                last_modified: response.headers().get("last-modified").ok().flatten(),
                jwks_uri: Some(uri.to_owned()),
            }
        }
        _ => return Err(Error::JwksUnavailable),
    };
    // Hygiene before anything is stored: a set that fails it never replaces a good one.
    let keys = build(isolate, index, snapshot)?;
    if previous
        .as_ref()
        .is_some_and(|p| keys.snapshot.replaces_every_key_of(p))
    {
        worker::console_warn!(
            "{{\"event\":\"jwks_all_keys_changed\",\"iss\":{}}}",
            serde_json::Value::String(issuer.issuer.clone())
        );
    }
    if let Ok(kv) = env.kv("JWKS_CACHE") {
        if let Ok(text) = serde_json::to_string(&keys.snapshot) {
            // Keep the snapshot in KV for as long as it may serve as last-known-good.
            let ttl = keys
                .snapshot
                .max_age
                .saturating_add(isolate.config.cache.max_staleness)
                .max(60);
            let stored = match kv.put(&kv_key(isolate, &issuer.issuer, uri), text) {
                Ok(put) => put.expiration_ttl(ttl).execute().await.is_ok(),
                Err(_) => false,
            };
            if !stored {
                worker::console_warn!(
                    "{{\"event\":\"kv_write_failed\",\"binding\":\"JWKS_CACHE\"}}"
                );
            }
        }
    }
    Ok(keys)
}
