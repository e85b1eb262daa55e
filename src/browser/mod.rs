//! wasm-bindgen front end: translates JavaScript calls to the core and back. Results
//! cross the boundary as JSON text, verdicts as the core's [`Verdict`]; the package's
//! JavaScript layer (npm/) turns them into objects and `JwtEdgeError`s. It decides
//! nothing: verification, JWKS checks and cache timing are the core's.

use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use crate::cache::{
    max_age_from_cache_control, CachePolicy, FetchFailures, Freshness, JwksSnapshot, KidCooldown,
    UnknownKid,
};
use crate::config::VerifyConfig;
use crate::encoding::{parse_object, MAX_JSON_DEPTH};
use crate::error::Error;
use crate::jwks::{JwkSet, JwksOptions};
use crate::token::{UntrustedToken, DEFAULT_MAX_TOKEN_BYTES};
use crate::verdict::{KeySource, Verdict};
use crate::verify::Verifier;

fn js_now() -> i64 {
    (js_sys::Date::now() / 1000.0).floor() as i64
}

/// The refused [`Verdict`] of `err`, as JSON text.
fn failure(err: &Error) -> String {
    Verdict::refused(err).to_string()
}

/// Verifies `token` with the options given as JSON text (see `VerifyConfig`), at
/// `options.now` or else the JavaScript clock, with the keys of the options
/// ([`KeySource::Local`]). Returns the core's [`Verdict`] as JSON text. It never throws
/// for a bad token.
#[wasm_bindgen(js_name = verifyJson)]
pub fn verify_json(token: &str, options_json: &str) -> String {
    let run = || -> Result<String, Error> {
        let config = VerifyConfig::from_json(options_json)?;
        let verifier = config.build()?;
        let verified = verifier.verify(token, config.now.unwrap_or_else(js_now))?;
        Ok(Verdict::accepted(&verified, KeySource::Local).to_string())
    };
    run().unwrap_or_else(|err| failure(&err))
}

/// A verifier built once from options (keys imported, policy fixed) and used for many
/// tokens: what `verify` does, without importing the keys again on every call.
#[wasm_bindgen(js_name = CompiledVerifier)]
pub struct CompiledVerifier {
    verifier: Verifier,
    now: Option<i64>,
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
            })
        };
        build().map_err(|err| JsValue::from_str(&failure(&err)))
    }

    /// Builds the verifier of a `RemoteJwks`: options as JSON text (without `jwks`) and
    /// the set fetched from the issuer, whose `oct` keys are skipped
    /// (`VerifyConfig::build_with_remote_jwks`). Throws like the constructor.
    #[wasm_bindgen(js_name = withRemoteJwks)]
    pub fn with_remote_jwks(options_json: &str, jwks: &str) -> Result<CompiledVerifier, JsValue> {
        let build = || -> Result<CompiledVerifier, Error> {
            let config = VerifyConfig::from_json(options_json)?;
            Ok(CompiledVerifier {
                verifier: config.build_with_remote_jwks(jwks.as_bytes())?,
                now: config.now,
            })
        };
        build().map_err(|err| JsValue::from_str(&failure(&err)))
    }

    /// Verifies `token` at `now` (Unix seconds; NaN: the options' `now`, else the
    /// JavaScript clock). `key_source` names where the caller got the keys (a
    /// [`KeySource`] name; absent: `"local"`). Returns the core's [`Verdict`] as JSON
    /// text, like `verifyJson`.
    pub fn verify(&self, token: &str, now: f64, key_source: Option<String>) -> String {
        let now = if now.is_finite() {
            now.floor() as i64
        } else {
            self.now.unwrap_or_else(js_now)
        };
        let source = match key_source.as_deref().map(str::parse) {
            None => KeySource::Local,
            Some(Ok(source)) => source,
            Some(Err(err)) => return failure(&err),
        };
        match self.verifier.verify(token, now) {
            Ok(verified) => Verdict::accepted(&verified, source).to_string(),
            Err(err) => failure(&err),
        }
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

/// Whether `uri` may be fetched for a key set: the core's rule (`https://`, or
/// `http://` to exactly 127.0.0.1, [::1] or localhost when `allow_http_loopback`;
/// never userinfo).
#[wasm_bindgen(js_name = jwksUriAllowed)]
pub fn jwks_uri_allowed(uri: &str, allow_http_loopback: bool) -> bool {
    crate::uri::jwks_uri_allowed(uri, allow_http_loopback)
}

/// The JWKS cache of a `RemoteJwks`: the core's snapshot and cooldown decisions, with
/// the fetching left to JavaScript.
#[wasm_bindgen]
pub struct JwksCache {
    policy: CachePolicy,
    snapshot: Option<JwksSnapshot>,
    cooldown: KidCooldown,
    failures: FetchFailures,
}

#[wasm_bindgen]
impl JwksCache {
    /// `max_age` is used when the response has no `Cache-Control: max-age` (and as its
    /// ceiling); `cooldown` bounds refetches for unknown `kid`s.
    #[wasm_bindgen(constructor)]
    pub fn new(max_age: u32, cooldown: u32) -> JwksCache {
        let max_age = u64::from(max_age.max(1));
        JwksCache {
            policy: CachePolicy {
                default_max_age: max_age,
                min_max_age: 1,
                max_max_age: max_age,
                unknown_kid_cooldown: u64::from(cooldown),
                failure_cooldown: u64::from(cooldown.max(1)),
                ..CachePolicy::default()
            },
            snapshot: None,
            cooldown: KidCooldown::default(),
            failures: FetchFailures::default(),
        }
    }

    /// Whether a fetch may start now: always without a usable set; with one (stale),
    /// not within a cooldown of the last failed fetch, so an issuer that is down is not
    /// asked again on every verification.
    #[wasm_bindgen(js_name = fetchAllowed)]
    pub fn fetch_allowed(&self, now: f64) -> bool {
        self.failures
            .may_fetch(self.snapshot.as_ref(), &self.policy, now as i64)
    }

    /// Records a failed fetch at `now`.
    pub fn failed(&mut self, now: f64) {
        self.failures.failed(now as i64);
    }

    /// `"empty"`, `"fresh"`, `"refresh_ahead"`, `"stale"` or `"expired"` at `now`.
    pub fn state(&self, now: f64) -> String {
        match &self.snapshot {
            None => "empty",
            Some(s) => match s.freshness(&self.policy, now as i64) {
                Freshness::Fresh => "fresh",
                Freshness::RefreshAhead => "refresh_ahead",
                Freshness::Stale => "stale",
                Freshness::Expired => "expired",
            },
        }
        .to_owned()
    }

    /// Stores a fetched JWKS after the core's checks. Returns `""` on success or the
    /// stable error code when the set is refused (the previous set is kept).
    pub fn store(
        &mut self,
        jwks: String,
        now: f64,
        cache_control: Option<String>,
        etag: Option<String>,
    ) -> String {
        // An answer with no usable key never replaces the set held.
        if let Err(err) = JwkSet::parse_fetched(jwks.as_bytes(), &JwksOptions::default()) {
            return err.code().to_owned();
        }
        self.failures.succeeded();
        self.snapshot = Some(JwksSnapshot {
            jwks,
            fetched_at: now as i64,
            max_age: max_age_from_cache_control(cache_control.as_deref(), &self.policy),
            etag,
            last_modified: None,
            jwks_uri: None,
        });
        String::new()
    }

    /// A `304 Not Modified` answer: the stored set is fresh again.
    pub fn revalidated(&mut self, now: f64, cache_control: Option<String>) {
        self.failures.succeeded();
        let max_age = max_age_from_cache_control(cache_control.as_deref(), &self.policy);
        if let Some(s) = &self.snapshot {
            self.snapshot = Some(s.revalidated(now as i64, max_age));
        }
    }

    /// The stored JWKS text, unless it is too old to trust (past `max_staleness`).
    pub fn jwks(&self, now: f64) -> Option<String> {
        self.snapshot
            .as_ref()
            .filter(|s| s.freshness(&self.policy, now as i64) != Freshness::Expired)
            .map(|s| s.jwks.clone())
    }

    /// The stored ETag, for `If-None-Match`.
    pub fn etag(&self) -> Option<String> {
        self.snapshot.as_ref().and_then(|s| s.etag.clone())
    }

    /// Whether an unknown `kid` may trigger a refetch now (at most one per cooldown).
    #[wasm_bindgen(js_name = mayRefetchFor)]
    pub fn may_refetch_for(&mut self, kid: &str, now: f64) -> bool {
        self.cooldown.on_unknown(kid, &self.policy, now as i64) == UnknownKid::Refetch
    }

    /// Records a refetch; `still_unknown` is the `kid` when the new set lacks it too.
    pub fn refetched(&mut self, now: f64, still_unknown: Option<String>) {
        self.cooldown
            .refetched(now as i64, still_unknown.as_deref());
    }
}
