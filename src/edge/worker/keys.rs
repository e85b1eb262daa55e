//! An issuer's keys in three tiers: parsed keys in isolate memory → a KV snapshot
//! shared across isolates → the issuer itself. What to do at each point is decided by
//! the core's key source (`crate::decisions::keysource`); this file only performs the I/O it asks
//! for (KV reads and writes, fetches, the background refresh) and logs its events.

use std::cell::RefCell;
use std::rc::Rc;

use crate::algorithms::alg::Algorithm;
use crate::decisions::cache::snapshot_key;
use crate::decisions::keysource::{
    storage_ttl, Conditional, Event, KeySource, Lookup, Report, Step,
};
use crate::error::{Error, KeyRejection};
use crate::keys::jwk::Jwk;
use crate::keys::jwks::JwkSet;
use crate::keys::secret::parse_secret_text;
use crate::verify::Verifier;
use worker::{Context, Env};

use super::fetching::{fetch_document, read_kv, wait_for_change, write_kv, Fetched};
use super::Isolate;

pub use crate::decisions::keysource::Tier;

/// Largest JWKS response read, in bytes.
const MAX_JWKS_BYTES: usize = 256 * 1024;

type Source = KeySource<Rc<Verifier>>;

/// Per-issuer state in isolate memory.
#[derive(Default)]
pub struct IssuerKeys {
    /// The core's key source, made on first use. One fetch per issuer at a time: it
    /// tells a request to wait while another's fetch is in flight. (workerd forbids
    /// awaiting another request's I/O, so waiting requests poll its generation on their
    /// own timers.)
    source: RefCell<Option<Source>>,
    /// The verifier of an HMAC-only issuer, built once.
    secret_only: RefCell<Option<Rc<Verifier>>>,
}

impl IssuerKeys {
    fn with<R>(&self, isolate: &Isolate, uri: &str, f: impl FnOnce(&mut Source) -> R) -> R {
        let mut slot = self.source.borrow_mut();
        let source = slot.get_or_insert_with(|| {
            KeySource::new(
                uri,
                isolate.config.cache.clone(),
                isolate.config.jwks_options(),
                true,
            )
        });
        f(source)
    }
}

/// Tells the key source when a fetch it asked for is dropped (the request cancelled).
struct FetchGuard<'a> {
    keys: &'a IssuerKeys,
    armed: bool,
}

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            if let Some(source) = self.keys.source.borrow_mut().as_mut() {
                source.abandoned();
            }
        }
    }
}

/// The KV key of an issuer's snapshot: bound to the issuer, its `jwks_uri` and the
/// import options, so a changed URI never reads the old URI's snapshot.
fn kv_key(isolate: &Isolate, issuer: &str, uri: &str) -> String {
    snapshot_key(issuer, uri, &isolate.config.jwks_options())
}

/// The configured HMAC secrets of an issuer, from Worker secrets (never from config):
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

/// The bytes of the secret in binding `name` (read once per isolate, from a secret or
/// a Secrets Store binding), parsed by the core; on failure, the reason's code.
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
    Error::config_invalid(field)
}

/// Builds the verifier for a set the key source accepted: the JWKS (never `oct` keys)
/// plus the configured HMAC secrets. Done once per set, never per request.
fn build(isolate: &Isolate, index: usize, mut keys: JwkSet) -> Result<Rc<Verifier>, Error> {
    let (issuer, _) = isolate.issuer(index)?;
    for secret in hmac_keys(isolate, index)? {
        keys.push(secret);
    }
    Ok(Rc::new(Verifier::new(
        keys,
        isolate.config.verify_options(issuer)?,
    )?))
}

/// What verifies a token: the verifier, the tier its keys came from, and, for an issuer
/// whose keys are discovered, the tier its discovery document came from.
pub struct Keys {
    pub verifier: Rc<Verifier>,
    pub tier: Tier,
    pub discovery: Option<Tier>,
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
) -> Result<Keys, Error> {
    let (issuer, state) = isolate.issuer(index)?;
    let mut discovered = None;
    let configured = match (&issuer.jwks_uri, issuer.discovers) {
        (Some(uri), _) => Some(uri.clone()),
        (None, true) => {
            let (uri, tier) = super::discovery::jwks_uri_for(isolate, env, ctx, index, now).await?;
            discovered = Some(tier);
            // The key source follows the document's `jwks_uri` (its held set serves as
            // last-known-good until the new URI answers).
            state.with(isolate, &uri, |s| s.retarget(&uri));
            Some(uri)
        }
        (None, false) => None,
    };
    let Some(uri) = configured else {
        // HMAC-only issuer.
        if let Some(v) = state.secret_only.borrow().as_ref() {
            return Ok(Keys {
                verifier: Rc::clone(v),
                tier: Tier::Secret,
                discovery: None,
            });
        }
        let mut keys = JwkSet::new();
        for secret in hmac_keys(isolate, index)? {
            keys.push(secret);
        }
        let verifier = Rc::new(Verifier::new(keys, isolate.config.verify_options(issuer)?)?);
        *state.secret_only.borrow_mut() = Some(Rc::clone(&verifier));
        return Ok(Keys {
            verifier,
            tier: Tier::Secret,
            discovery: None,
        });
    };
    let mut lookup = Lookup::new(kid, Some(algorithm), now);
    loop {
        match state.with(isolate, &uri, |s| s.step(&mut lookup)) {
            Step::ReadStored => {
                let target = state.with(isolate, &uri, |s| s.uri().to_owned());
                let text = read_kv(env, &kv_key(isolate, &issuer.issuer, &target)).await;
                let events = state.with(isolate, &uri, |s| {
                    s.stored(&mut lookup, text.as_deref(), |set| {
                        build(isolate, index, set)
                    })
                });
                log_events(&issuer.issuer, &events);
            }
            Step::Fetch(conditional) => {
                let mut guard = FetchGuard {
                    keys: state,
                    armed: true,
                };
                // The URI the source decided on (it may have been retargeted since this
                // token's discovery step).
                let target = state.with(isolate, &uri, |s| s.uri().to_owned());
                let fetched = fetch(isolate, &target, &conditional).await;
                let report = state.with(isolate, &uri, |s| {
                    s.fetched(&mut lookup, fetched.answer(), |set| {
                        build(isolate, index, set)
                    })
                });
                guard.armed = false;
                drop(guard);
                finish(isolate, env, index, report).await;
            }
            Step::Wait => {
                let generation = || state.with(isolate, &uri, |s| s.generation());
                if !wait_for_change(isolate, generation).await {
                    return Err(Error::JwksUnavailable);
                }
                lookup.waited();
            }
            Step::Serve {
                keys,
                tier,
                refresh,
            } => {
                if let Some(conditional) = refresh {
                    let target = state.with(isolate, &uri, |s| s.uri().to_owned());
                    let (isolate, env) = (Rc::clone(isolate), env.clone());
                    ctx.wait_until(async move {
                        refresh_ahead(&isolate, &env, index, &target, &conditional, now).await;
                    });
                }
                return Ok(Keys {
                    verifier: keys,
                    tier,
                    discovery: discovered,
                });
            }
            Step::Refuse(err) => return Err(err),
        }
    }
}

/// A background refresh the key source asked for, run by `waitUntil`.
async fn refresh_ahead(
    isolate: &Rc<Isolate>,
    env: &Env,
    index: usize,
    uri: &str,
    conditional: &Conditional,
    now: i64,
) {
    let Ok((_, state)) = isolate.issuer(index) else {
        return;
    };
    let mut guard = FetchGuard {
        keys: state,
        armed: true,
    };
    let fetched = fetch(isolate, uri, conditional).await;
    let report = state.with(isolate, uri, |s| {
        s.refreshed(now, fetched.answer(), |set| build(isolate, index, set))
    });
    guard.armed = false;
    drop(guard);
    finish(isolate, env, index, report).await;
}

/// Logs a finished fetch's events and stores the snapshot it gave in KV (under the URI
/// it was fetched from).
async fn finish(isolate: &Isolate, env: &Env, index: usize, report: Report) {
    let Ok((issuer, _)) = isolate.issuer(index) else {
        return;
    };
    log_events(&issuer.issuer, &report.events);
    let Some(snapshot) = report.store else {
        return;
    };
    let (Ok(text), Some(uri)) = (
        serde_json::to_string(&snapshot),
        snapshot.jwks_uri.as_deref(),
    ) else {
        return;
    };
    // Keep the snapshot in KV for as long as it may serve as last-known-good.
    let ttl = storage_ttl(&snapshot, &isolate.config.cache);
    write_kv(env, &kv_key(isolate, &issuer.issuer, uri), text, ttl).await;
}

/// The key source's events as JSON log lines, with the issuer.
fn log_events(issuer: &str, events: &[Event]) {
    for event in events {
        let Ok(serde_json::Value::Object(mut line)) = serde_json::to_value(event) else {
            continue;
        };
        line.insert("iss".into(), serde_json::Value::String(issuer.to_owned()));
        if matches!(event, Event::StoredRefused) {
            line.insert("binding".into(), "JWKS_CACHE".into());
        }
        worker::console_warn!("{}", serde_json::Value::Object(line));
    }
}

/// Fetches the set with the conditional headers the key source gave, within the
/// timeout, reading at most `MAX_JWKS_BYTES` of a 200's body.
async fn fetch(isolate: &Isolate, uri: &str, conditional: &Conditional) -> Fetched {
    let accept = "application/json, application/jwk-set+json";
    fetch_document(isolate, uri, conditional, accept, MAX_JWKS_BYTES).await
}
