//! wasm-bindgen front end: translates JavaScript calls to the core and back. Results
//! cross the boundary as JSON text, verdicts as the core's [`Verdict`]; the package's
//! JavaScript layer (npm/) turns them into objects and `JwtEdgeError`s. It decides
//! nothing: verification, JWKS checks and cache timing are the core's.

mod discovery;
mod replay;

use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use std::rc::Rc;

use crate::algorithms::alg::Algorithm;
use crate::decisions::cache::{snapshot_key, CachePolicy};
use crate::decisions::keysource::{
    storage_ttl, Answer, Conditional, Event, KeySource, Lookup, Report, Step, Tier,
};
use crate::encoding::{parse_object, MAX_JSON_DEPTH};
use crate::error::Challenge;
use crate::error::Error;
use crate::keys::jwks::{JwkSet, JwksOptions};
use crate::policy::config::VerifyConfig;
use crate::routes::Requirements;
use crate::token::extract::{extract_token_from, TokenSource};
use crate::token::{UntrustedToken, DEFAULT_MAX_TOKEN_BYTES};
use crate::verdict::{KeySource as VerdictSource, Refusal, RefusalContext, Verdict, DEFAULT_REALM};
use crate::verify::Verifier;

fn js_now() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// The refused [`Verdict`] of `err`, as JSON text.
pub(crate) fn failure(err: &Error) -> String {
    Verdict::refused(err).to_string()
}

/// Verifies `token` with the options given as JSON text (see `VerifyConfig`), at
/// `options.now` or else the JavaScript clock, with the keys of the options
/// ([`VerdictSource::Local`]). Returns the core's [`Verdict`] as JSON text. It never throws
/// for a bad token.
#[wasm_bindgen(js_name = verifyJson)]
pub fn verify_json(token: &str, options_json: &str) -> String {
    let run = || -> Result<String, Error> {
        let config = VerifyConfig::from_json(options_json)?;
        let verifier = config.build()?;
        let verified = verifier.verify(token, config.now.unwrap_or_else(js_now))?;
        config.requirements.check(&verified.claims)?;
        Ok(Verdict::accepted(&verified, VerdictSource::Local).to_string())
    };
    run().unwrap_or_else(|err| failure(&err))
}

/// A verifier built once from options (keys imported, policy fixed) and used for many
/// tokens: what `verify` does, without importing the keys again on every call.
#[wasm_bindgen(js_name = CompiledVerifier)]
pub struct CompiledVerifier {
    verifier: Verifier,
    now: Option<i64>,
    requirements: Requirements,
}

#[wasm_bindgen(js_class = CompiledVerifier)]
impl CompiledVerifier {
    /// Builds the verifier from options as JSON text (see `VerifyConfig`). Throws the
    /// refused verdict's JSON text for bad options.
    #[wasm_bindgen(constructor)]
    pub fn new(options_json: &str) -> Result<CompiledVerifier, JsValue> {
        let build = || -> Result<CompiledVerifier, Error> {
            let config = VerifyConfig::from_json(options_json)?;
            Ok(CompiledVerifier {
                verifier: config.build()?,
                now: config.now,
                requirements: config.requirements,
            })
        };
        build().map_err(|err| JsValue::from_str(&failure(&err)))
    }

    /// Verifies `token` at `now` (Unix seconds; NaN: the options' `now`, else the
    /// JavaScript clock). `key_source` names where the caller got the keys (a
    /// [`VerdictSource`] name; absent: `"local"`). Returns the core's [`Verdict`] as JSON
    /// text, like `verifyJson`.
    pub fn verify(&self, token: &str, now: f64, key_source: Option<String>) -> String {
        let now = if now.is_finite() {
            now.floor() as i64
        } else {
            self.now.unwrap_or_else(js_now)
        };
        let source = match key_source.as_deref().map(str::parse) {
            None => VerdictSource::Local,
            Some(Ok(source)) => source,
            Some(Err(err)) => return failure(&err),
        };
        let checked = self.verifier.verify(token, now).and_then(|verified| {
            self.requirements.check(&verified.claims)?;
            Ok(verified)
        });
        match checked {
            Ok(verified) => Verdict::accepted(&verified, source).to_string(),
            Err(err) => failure(&err),
        }
    }

    /// The verified-token cache's counters: `{"hits":…,"misses":…,"entries":…}`.
    #[wasm_bindgen(js_name = cacheStatsJson)]
    pub fn cache_stats_json(&self) -> String {
        let stats = self.verifier.cache_stats();
        json!({ "hits": stats.hits, "misses": stats.misses, "entries": stats.entries }).to_string()
    }
}

/// Decodes a token WITHOUT verifying it, for inspectors: `{"header":…,"payload":…}`
/// (payload `null` when it is not a JSON object; no verdict, nothing was verified) or a
/// refused verdict for a token that cannot be decoded.
#[wasm_bindgen(js_name = decodeUnverifiedJson)]
pub fn decode_unverified_json(token: &str) -> String {
    let run = || -> Result<Value, Error> {
        let untrusted = UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_BYTES)?;
        let payload = parse_object(untrusted.dangerous_payload(), MAX_JSON_DEPTH).ok();
        Ok(json!({ "header": untrusted.header().raw, "payload": payload }))
    };
    run().map_or_else(|err| failure(&err), |value| value.to_string())
}

/// The HTTP answer to a refusal the package reported as `code` and `message` (a
/// `JwtEdgeError`): the core's [`Refusal`], exactly what the worker answers. Returns
/// `{"status":…,"wwwAuthenticate":…|null,"body":"…"}`, or the `config_invalid` failure
/// for a code no error has.
#[wasm_bindgen(js_name = refusalJson)]
pub fn refusal_json(
    code: &str,
    message: &str,
    realm: Option<String>,
    scope: Option<String>,
    resource_metadata: Option<String>,
    route: Option<String>,
) -> String {
    let Some(kind) = Error::of_code(code) else {
        return failure(&Error::config_invalid("code"));
    };
    let refusal = Refusal::described(
        kind,
        message,
        &RefusalContext {
            realm: realm.as_deref().unwrap_or(DEFAULT_REALM),
            challenge: Challenge {
                scope: scope.as_deref(),
                resource_metadata: resource_metadata.as_deref(),
            },
            route: route.as_deref(),
        },
    );
    json!({
        "status": refusal.status,
        "wwwAuthenticate": refusal.www_authenticate,
        "body": refusal.body,
    })
    .to_string()
}

/// The token of a request, read by the core's rules from the `sources` (JSON, the
/// worker's `sources` format; absent: `Authorization: Bearer`, the worker's default),
/// asking `headers(name)` (lower case) for each header a source reads, and reading
/// `query` (the URL's query without `?`) for a `query` source. Returns `{"token":"…"}` or the
/// refused verdict (`token_missing`, `request_malformed`, `token_too_large`).
#[wasm_bindgen(js_name = extractTokenJson)]
pub fn extract_token_json(
    sources_json: Option<String>,
    headers: &js_sys::Function,
    max_bytes: Option<u32>,
    query: Option<String>,
) -> String {
    let run = || -> Result<String, Error> {
        let sources: Vec<TokenSource> = match sources_json {
            None => vec![TokenSource::default()],
            Some(text) => {
                serde_json::from_str(&text).map_err(|_| Error::config_invalid("sources"))?
            }
        };
        if sources.is_empty() {
            return Err(Error::config_invalid("sources"));
        }
        let limit = max_bytes.map_or(DEFAULT_MAX_TOKEN_BYTES, |b| b as usize);
        let header = |name: &str| {
            headers
                // Header names are case-insensitive: asked for in lower case.
                .call1(
                    &JsValue::NULL,
                    &JsValue::from_str(&name.to_ascii_lowercase()),
                )
                .ok()
                .and_then(|value| value.as_string())
        };
        let token = extract_token_from(&sources, limit, header, query.as_deref())?;
        Ok(json!({ "token": token }).to_string())
    };
    run().unwrap_or_else(|err| failure(&err))
}

/// Whether `uri` may be fetched for a key set: the core's rule (`https://`, or
/// `http://` to exactly 127.0.0.1, [::1] or localhost when `allow_http_loopback`;
/// never userinfo).
#[wasm_bindgen(js_name = jwksUriAllowed)]
pub fn jwks_uri_allowed(uri: &str, allow_http_loopback: bool) -> bool {
    crate::keys::uri::jwks_uri_allowed(uri, allow_http_loopback)
}

/// The key source of a `RemoteJwks`: the core's state machine (`crate::decisions::keysource`)
/// with the parsed keys held here, in wasm. JavaScript only performs the fetches it
/// asks for and hands each answer over once (status, headers, body bytes); tokens are
/// verified against the keys held, and the set never goes back to JavaScript.
#[wasm_bindgen(js_name = RemoteKeys)]
pub struct RemoteKeys {
    source: KeySource<Rc<Verifier>>,
    /// The snapshot the last finished fetch asks to store in the shared store (`kv`):
    /// its key, text and TTL, until `takeStore`.
    to_store: Option<(String, String, u64)>,
    /// The options text the held verifier was built with.
    built_with: Option<String>,
    /// The options text last found valid, with the route requirements it gives.
    checked: Option<(String, Requirements)>,
}

/// One token's way through a `RemoteKeys`: made by `RemoteKeys.lookup`, stepped with
/// `RemoteKeys.step`, then `RemoteKeys.verify`.
#[wasm_bindgen(js_name = KeyLookup)]
pub struct KeyLookup {
    lookup: Lookup,
    options: String,
    requirements: Requirements,
    conditional: Conditional,
    served: Option<(Rc<Verifier>, Tier)>,
    refused: Option<Error>,
}

#[wasm_bindgen(js_class = KeyLookup)]
impl KeyLookup {
    /// `If-None-Match` for the fetch the last step asked for.
    #[wasm_bindgen(getter, js_name = ifNoneMatch)]
    pub fn if_none_match(&self) -> Option<String> {
        self.conditional.if_none_match.clone()
    }

    /// `If-Modified-Since` for the fetch the last step asked for.
    #[wasm_bindgen(getter, js_name = ifModifiedSince)]
    pub fn if_modified_since(&self) -> Option<String> {
        self.conditional.if_modified_since.clone()
    }

    /// Where the keys came from (`memory`, `issuer`, `stale`), once served.
    #[wasm_bindgen(getter)]
    pub fn source(&self) -> Option<String> {
        self.served.as_ref().map(|(_, tier)| tier.name().to_owned())
    }

    /// The fetch this lookup waited for has ended.
    pub fn waited(&mut self) {
        self.lookup.waited();
    }
}

/// The verifier for a fetched set with the options as JSON text (`oct` keys skipped).
fn build_remote(options_json: &str, keys: JwkSet) -> Result<Rc<Verifier>, Error> {
    VerifyConfig::from_json(options_json)?
        .build_with_remote_keys(keys)
        .map(Rc::new)
}

fn events_json(events: &[Event]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn seconds(now: f64) -> i64 {
    if now.is_finite() {
        now.floor() as i64
    } else {
        js_now()
    }
}

#[wasm_bindgen(js_class = RemoteKeys)]
impl RemoteKeys {
    /// The key source for the set at `url`, with the core's cache defaults except:
    /// `max_age` is the freshness when the answer has no `Cache-Control: max-age` and
    /// its ceiling; `kid_cooldown` bounds refetches for unknown `kid`s.
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: &str,
        max_age: Option<u32>,
        kid_cooldown: Option<u32>,
        shared_store: Option<bool>,
    ) -> RemoteKeys {
        // Absent options keep the core's defaults (the worker's).
        let defaults = CachePolicy::default();
        let max_age = max_age.map_or(defaults.default_max_age, u64::from);
        let policy = CachePolicy {
            default_max_age: max_age,
            max_max_age: max_age,
            unknown_kid_cooldown: kid_cooldown.map_or(defaults.unknown_kid_cooldown, u64::from),
            ..defaults
        };
        RemoteKeys {
            to_store: None,
            source: KeySource::new(
                url,
                policy,
                JwksOptions::default(),
                shared_store.unwrap_or(false),
            ),
            built_with: None,
            checked: None,
        }
    }

    /// A lookup for `token`, to be verified with the options as JSON text (without
    /// `jwks`) at `now` (NaN: the JavaScript clock). Throws the JSON failure text for
    /// bad options, before anything is fetched.
    pub fn lookup(
        &mut self,
        token: &str,
        options_json: &str,
        now: f64,
    ) -> Result<KeyLookup, JsValue> {
        // Options are parsed and checked when they change, not on every token.
        let requirements = match &self.checked {
            Some((text, requirements)) if text == options_json => requirements.clone(),
            _ => {
                let config = VerifyConfig::from_json(options_json)
                    .map_err(|err| JsValue::from_str(&failure(&err)))?;
                config
                    .build_with_remote_keys(JwkSet::new())
                    .map_err(|err| JsValue::from_str(&failure(&err)))?;
                self.checked = Some((options_json.to_owned(), config.requirements.clone()));
                config.requirements
            }
        };
        // The `kid` and `alg` decide whether an unknown `kid` may refetch; a token that
        // does not parse never does (verification refuses it).
        let (kid, algorithm) = match UntrustedToken::parse(token, DEFAULT_MAX_TOKEN_BYTES) {
            Ok(untrusted) => (
                untrusted.header().key_id.clone(),
                untrusted.header().algorithm.parse::<Algorithm>().ok(),
            ),
            Err(_) => (None, None),
        };
        Ok(KeyLookup {
            lookup: Lookup::new(kid.as_deref(), algorithm, seconds(now)),
            options: options_json.to_owned(),
            requirements,
            conditional: Conditional::default(),
            served: None,
            refused: None,
        })
    }

    /// The next step for `lookup`: `"fetch"` (with the lookup's conditional headers,
    /// then `fetched` or `fetchFailed`), `"wait"` (for the fetch in flight, then
    /// `lookup.waited()` and step again), `"serve"`, `"refresh"` (serve, and fetch in the
    /// background, then `refreshed` or `refreshFailed`), or `"refuse"`.
    pub fn step(&mut self, lookup: &mut KeyLookup) -> String {
        match self.source.step(&mut lookup.lookup) {
            Step::Fetch(conditional) => {
                lookup.conditional = conditional;
                "fetch"
            }
            Step::Wait => "wait",
            Step::Serve {
                keys,
                tier,
                refresh,
            } => {
                lookup.served = Some((keys, tier));
                match refresh {
                    Some(conditional) => {
                        lookup.conditional = conditional;
                        "refresh"
                    }
                    None => "serve",
                }
            }
            Step::Refuse(err) => {
                lookup.refused = Some(err);
                "refuse"
            }
            Step::ReadStored => "readStored",
        }
        .to_owned()
    }

    /// The answer to the fetch `lookup` was told to make (`body`: the bytes of a 200).
    /// Returns the key source's events as a JSON array.
    #[allow(clippy::too_many_arguments)]
    pub fn fetched(
        &mut self,
        lookup: &mut KeyLookup,
        status: u16,
        body: &[u8],
        cache_control: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> String {
        let answer = response(status, body, &cache_control, &etag, &last_modified);
        let options = lookup.options.clone();
        let mut built = false;
        let report = self.source.fetched(&mut lookup.lookup, answer, |set| {
            let verifier = build_remote(&options, set)?;
            built = true;
            Ok(verifier)
        });
        if built {
            self.built_with = Some(options);
        }
        self.keep(report)
    }

    /// The shared snapshot's text read for `lookup` (`undefined`: nothing stored, or the
    /// read failed). The core checks it as untrusted input. Returns the events.
    pub fn stored(&mut self, lookup: &mut KeyLookup, text: Option<String>) -> String {
        let options = lookup.options.clone();
        let mut built = false;
        let events = self
            .source
            .stored(&mut lookup.lookup, text.as_deref(), |set| {
                let verifier = build_remote(&options, set)?;
                built = true;
                Ok(verifier)
            });
        if built {
            self.built_with = Some(options);
        }
        events_json(&events)
    }

    /// The key of the shared snapshot in the `kv` namespace (`jwks:v2:…`) for the URL
    /// the set is fetched from now.
    #[wasm_bindgen(getter, js_name = storeKey)]
    pub fn store_key(&self) -> String {
        snapshot_key("", self.source.uri(), &JwksOptions::default())
    }

    /// The URL the set is fetched from (it changes when an issuer's discovery document
    /// names another `jwks_uri`).
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.source.uri().to_owned()
    }

    /// Fetch the set from `url` from now on (`RemoteJwks.fromIssuer`: the discovery
    /// document named it); the held set serves as last-known-good until it answers.
    pub fn retarget(&mut self, url: &str) {
        self.source.retarget(url);
    }

    /// The snapshot the last finished fetch asks to store
    /// (`{"key":"…","value":"…","ttl":s}`), once; `undefined` when there is none.
    #[wasm_bindgen(js_name = takeStore)]
    pub fn take_store(&mut self) -> Option<String> {
        self.to_store
            .take()
            .map(|(key, value, ttl)| json!({ "key": key, "value": value, "ttl": ttl }).to_string())
    }

    /// The fetch `lookup` was told to make failed: no answer, a timeout, or a body over
    /// the size limit (`too_large`). Returns the events as a JSON array.
    #[wasm_bindgen(js_name = fetchFailed)]
    pub fn fetch_failed(&mut self, lookup: &mut KeyLookup, too_large: bool) -> String {
        let report = self.source.fetched(
            &mut lookup.lookup,
            Answer::Failed(transport_error(too_large)),
            |_| Err(Error::JwksUnavailable),
        );
        self.keep(report)
    }

    /// The answer to a background refresh started at `now` by a lookup with these
    /// options. Returns the events as a JSON array.
    #[allow(clippy::too_many_arguments)]
    pub fn refreshed(
        &mut self,
        now: f64,
        options_json: &str,
        status: u16,
        body: &[u8],
        cache_control: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> String {
        let answer = response(status, body, &cache_control, &etag, &last_modified);
        let mut built = false;
        let report = self.source.refreshed(seconds(now), answer, |set| {
            let verifier = build_remote(options_json, set)?;
            built = true;
            Ok(verifier)
        });
        if built {
            self.built_with = Some(options_json.to_owned());
        }
        self.keep(report)
    }

    /// A background refresh started at `now` failed (see `fetchFailed`).
    #[wasm_bindgen(js_name = refreshFailed)]
    pub fn refresh_failed(&mut self, now: f64, too_large: bool) -> String {
        let report = self.source.refreshed(
            seconds(now),
            Answer::Failed(transport_error(too_large)),
            |_| Err(Error::JwksUnavailable),
        );
        self.keep(report)
    }

    /// Verifies `token` with the keys the lookup's last step served (or returns its
    /// refusal), at the lookup's `now`. Returns the same JSON verdict as `verifyJson`.
    pub fn verify(&mut self, lookup: &KeyLookup, token: &str) -> String {
        let mut run = || -> Result<String, Error> {
            if let Some(err) = &lookup.refused {
                return Err(err.clone());
            }
            let (served, _) = lookup.served.as_ref().ok_or(Error::JwksUnavailable)?;
            let verifier = if self.built_with.as_deref() == Some(lookup.options.as_str()) {
                Rc::clone(served)
            } else {
                // Built with other options: import the held set again for these.
                self.source
                    .rebuild(|set| build_remote(&lookup.options, set))?;
                self.built_with = Some(lookup.options.clone());
                let (_, keys) = self.source.held().ok_or(Error::JwksUnavailable)?;
                Rc::clone(keys)
            };
            let (_, tier) = lookup.served.as_ref().ok_or(Error::JwksUnavailable)?;
            let verified = verifier.verify(token, lookup.lookup.now())?;
            lookup.requirements.check(&verified.claims)?;
            Ok(Verdict::accepted(&verified, VerdictSource::from(*tier)).to_string())
        };
        run().unwrap_or_else(|err| failure(&err))
    }
}

impl RemoteKeys {
    /// Keeps the report's snapshot for `takeStore`; returns its events as JSON.
    fn keep(&mut self, report: Report) -> String {
        if let Some(snapshot) = report.store {
            if let Ok(text) = serde_json::to_string(&snapshot) {
                let ttl = storage_ttl(&snapshot, self.source.policy());
                let uri = snapshot.jwks_uri.as_deref().unwrap_or(self.source.uri());
                let key = snapshot_key("", uri, &JwksOptions::default());
                self.to_store = Some((key, text, ttl));
            }
        }
        events_json(&report.events)
    }
}

/// An HTTP answer handed over from JavaScript, as the core's key source and discovery
/// take it.
pub(crate) fn response<'a>(
    status: u16,
    body: &'a [u8],
    cache_control: &'a Option<String>,
    etag: &'a Option<String>,
    last_modified: &'a Option<String>,
) -> Answer<'a> {
    Answer::Response {
        status,
        body,
        cache_control: cache_control.as_deref(),
        etag: etag.as_deref(),
        last_modified: last_modified.as_deref(),
    }
}

pub(crate) fn transport_error(too_large: bool) -> Error {
    if too_large {
        Error::JwksInvalid(crate::error::JwksProblem::TooLarge)
    } else {
        Error::JwksUnavailable
    }
}
