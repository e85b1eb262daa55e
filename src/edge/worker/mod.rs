//! Cloudflare Worker front end (workers-rs). It translates requests to the core and
//! back: configuration once per isolate, the token from the request, the issuer's keys
//! from memory/KV/the issuer, replay through KV, then forward or answer.

mod keys;
mod replay;
mod respond;
mod secrets;
mod strict;

use std::cell::RefCell;
use std::rc::Rc;

use worker::{event, Context, Env, Request, Response, Result};

use crate::assertion::{parse_private_jwk, AssertionSigner};
use crate::decisions::replay_memory::ReplayMemory;
use crate::edge::config::{EdgeConfig, Mode};
use crate::edge::forward::log_safe;
use crate::error::Error;
use crate::token::extract::extract_token;
use crate::token::UntrustedToken;

use keys::{IssuerKeys, Tier};

/// Longest untrusted `kid` and `alg` written to a decision log line, in characters.
const LOG_KID_CHARS: usize = 128;
const LOG_ALG_CHARS: usize = 16;

/// Everything an isolate keeps between requests.
pub(crate) struct Isolate {
    pub config: EdgeConfig,
    pub keys: Vec<IssuerKeys>,
    /// Per issuer (same index as `config.issuers`), the `jti`s this isolate remembers in
    /// front of the replay store, bounded by the issuer's `replay_memory`.
    pub replay: Vec<RefCell<ReplayMemory>>,
    /// The signer of origin assertions, when configured.
    pub assertion: Option<AssertionSigner>,
    /// The key material the configuration names, read once.
    pub secrets: secrets::Secrets,
}

thread_local! {
    /// The isolate's state, or the configuration error every request answers with.
    static ISOLATE: RefCell<Option<std::result::Result<Rc<Isolate>, Error>>> = const { RefCell::new(None) };
}

impl Isolate {
    /// Issuer `index`'s configuration and key state.
    pub fn issuer(
        &self,
        index: usize,
    ) -> Result<(&crate::edge::config::IssuerConfig, &IssuerKeys), Error> {
        match (self.config.issuers.get(index), self.keys.get(index)) {
            (Some(config), Some(keys)) => Ok((config, keys)),
            _ => Err(Error::ConfigInvalid("issuers")),
        }
    }
}

/// Validates the configuration and reads its key bindings once per isolate. Two first
/// requests may both load it; the first to finish is kept.
async fn isolate(env: &Env) -> std::result::Result<Rc<Isolate>, Error> {
    if let Some(state) = ISOLATE.with(|cell| cell.borrow().clone()) {
        return state;
    }
    let config = env
        .var("JWT_EDGE_CONFIG")
        .map_err(|_| Error::ConfigInvalid("JWT_EDGE_CONFIG"))
        .and_then(|v| EdgeConfig::from_json(&v.to_string()));
    let loaded = match config {
        Ok(config) => {
            let secrets = secrets::load(env, &config).await;
            assertion_signer(&secrets, &config).map(|assertion| {
                Rc::new(Isolate {
                    keys: config
                        .issuers
                        .iter()
                        .map(|_| IssuerKeys::default())
                        .collect(),
                    replay: config
                        .issuers
                        .iter()
                        .map(|issuer| RefCell::new(ReplayMemory::new(issuer.replay_memory)))
                        .collect(),
                    config,
                    assertion,
                    secrets,
                })
            })
        }
        Err(err) => Err(err),
    };
    ISOLATE.with(|cell| {
        if let Some(state) = cell.borrow().as_ref() {
            return state.clone();
        }
        if let Err(err) = &loaded {
            worker::console_error!("{{\"event\":\"config_invalid\",\"detail\":\"{err}\"}}");
        }
        *cell.borrow_mut() = Some(loaded.clone());
        loaded
    })
}

/// The assertion signer, its key read from a Worker secret or a Secrets Store binding
/// once per isolate. A missing or unusable key fails every request closed rather than
/// forwarding unsigned.
fn assertion_signer(
    secrets: &secrets::Secrets,
    config: &EdgeConfig,
) -> Result<Option<AssertionSigner>, Error> {
    let Some(settings) = &config.assertion else {
        return Ok(None);
    };
    let text = secrets
        .text(&settings.key_secret)
        .map_err(|_| Error::ConfigInvalid("assertion.key_secret"))?;
    let jwk = parse_private_jwk(text)?;
    AssertionSigner::new(&jwk, settings.clone()).map(Some)
}

fn unix_now() -> i64 {
    i64::try_from(worker::Date::now().as_millis() / 1000).unwrap_or(i64::MAX)
}

/// What a decision logs: never the token.
#[derive(Default)]
struct Decision {
    iss: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    tier: Option<Tier>,
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let started = worker::Date::now().as_millis();
    let state = match isolate(&env).await {
        Ok(state) => state,
        Err(err) => return respond::refusal(&err, "jwt-edge"),
    };
    let mut decision = Decision::default();
    let outcome = handle(&state, req, &env, &ctx, &mut decision).await;
    let elapsed_us = worker::Date::now()
        .as_millis()
        .saturating_sub(started)
        .saturating_mul(1000);
    let (outcome_name, code) = match &outcome {
        Ok(_) => ("accept", "ok"),
        Err(err) => ("refuse", err.code()),
    };
    let line = serde_json::json!({
        "event": "decision",
        "outcome": outcome_name,
        "code": code,
        "iss": decision.iss,
        "kid": decision.kid,
        "alg": decision.alg,
        "jwks": decision.tier.map(Tier::name),
        "duration_us": elapsed_us,
    });
    worker::console_log!("{line}");
    match outcome {
        Ok(response) => Ok(response),
        Err(err) => respond::refusal(&err, &state.config.realm),
    }
}

async fn handle(
    state: &Rc<Isolate>,
    req: Request,
    env: &Env,
    ctx: &Context,
    decision: &mut Decision,
) -> std::result::Result<Response, Error> {
    let config = &state.config;
    if let Some(publish) = &config.publish_jwks {
        let method = respond::method_of(&req);
        let is_read = method == "GET" || method == "HEAD";
        if is_read && req.path() == "/.well-known/jwks.json" {
            return respond::published_jwks(&req, env, publish).await;
        }
    }
    if config.cors_preflight_passthrough && respond::is_preflight(&req) {
        return respond::passthrough(req, config).await;
    }
    let token = extract_token(&config.sources, config.max_token_bytes, |name| {
        req.headers().get(name).ok().flatten()
    })?;
    let untrusted = UntrustedToken::parse(&token, config.max_token_bytes)?;
    let routing_iss = untrusted.routing_issuer();
    let index = config
        .route(routing_iss.as_deref())
        .ok_or(Error::IssuerMismatch)?;
    let issuer = config.issuers.get(index).ok_or(Error::IssuerMismatch)?;
    decision.iss = Some(issuer.issuer.clone());
    // Untrusted values go into the log bounded and printable.
    decision.kid = untrusted
        .header()
        .key_id
        .as_deref()
        .map(|kid| log_safe(kid, LOG_KID_CHARS));
    decision.alg = Some(log_safe(&untrusted.header().algorithm, LOG_ALG_CHARS));
    // What can be refused without keys is refused before any key is fetched: a junk
    // token never costs a JWKS fetch. (The verifier runs the same checks again.)
    let algorithm = config.verify_options(issuer)?.admit(&untrusted)?;
    let now = unix_now();
    let kid = untrusted.header().key_id.clone();
    let (verifier, tier) =
        keys::verifier_for(state, env, ctx, index, kid.as_deref(), algorithm, now).await?;
    decision.tier = Some(tier);
    let verified = verifier.verify_parsed(untrusted, now)?;
    replay::check(state, env, index, issuer, &verified.claims, now).await?;
    match config.mode {
        Mode::Verdict => respond::verdict(&verified, tier),
        Mode::Proxy => {
            let assertion = state.assertion.as_ref().map(|signer| (signer, now));
            respond::forward(req, config, &verified, assertion).await
        }
    }
}
