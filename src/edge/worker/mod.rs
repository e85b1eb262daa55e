//! Cloudflare Worker front end (workers-rs). It translates requests to the core and
//! back: configuration once per isolate, the token from the request, the issuer's keys
//! from memory/KV/the issuer, replay through KV, then forward or answer.

mod discovery;
mod fetching;
mod incoming;
mod keys;
mod replay;
mod respond;
mod secrets;
mod strict;

use std::cell::RefCell;
use std::rc::Rc;

use worker::{event, web_sys, Context, Env, Response, Result};

use crate::assertion::{parse_private_jwk, AssertionSigner};
use crate::decisions::replay_memory::ReplayMemory;
use crate::decisions::token_cache::TokenCacheUse;
use crate::edge::config::{EdgeConfig, Mode};
use crate::edge::forward::log_safe;
use crate::edge::metrics::{DecisionMetrics, METRICS_BINDING};
use crate::error::Error;
use crate::routes::{normalise_path, Outcome, Route};
use crate::token::extract::extract_token_from;
use crate::token::UntrustedToken;
use crate::verify::VerifiedToken;

use discovery::IssuerDiscovery;
use incoming::Incoming;
use keys::{IssuerKeys, Tier};

/// Longest untrusted `kid` and `alg` written to a decision log line, in characters.
const LOG_KID_CHARS: usize = 128;
const LOG_ALG_CHARS: usize = 16;

/// Everything an isolate keeps between requests.
pub(crate) struct Isolate {
    pub config: EdgeConfig,
    pub keys: Vec<IssuerKeys>,
    /// Per issuer (same index), its discovery state (used when its keys are discovered).
    pub discovery: Vec<IssuerDiscovery>,
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
    /// Issuer `index`'s configuration and discovery state.
    pub fn discovery_of(
        &self,
        index: usize,
    ) -> Result<(&crate::edge::config::IssuerConfig, &IssuerDiscovery), Error> {
        match (self.config.issuers.get(index), self.discovery.get(index)) {
            (Some(config), Some(discovery)) => Ok((config, discovery)),
            _ => Err(Error::config_invalid("issuers")),
        }
    }

    /// Issuer `index`'s configuration and key state.
    pub fn issuer(
        &self,
        index: usize,
    ) -> Result<(&crate::edge::config::IssuerConfig, &IssuerKeys), Error> {
        match (self.config.issuers.get(index), self.keys.get(index)) {
            (Some(config), Some(keys)) => Ok((config, keys)),
            _ => Err(Error::config_invalid("issuers")),
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
        .map_err(|_| Error::config_invalid("JWT_EDGE_CONFIG"))
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
                    discovery: config
                        .issuers
                        .iter()
                        .map(|_| IssuerDiscovery::default())
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
        match &loaded {
            Err(err) => {
                worker::console_error!("{{\"event\":\"config_invalid\",\"detail\":\"{err}\"}}")
            }
            Ok(state) => log_presets(&state.config),
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
        .map_err(|_| Error::config_invalid("assertion.key_secret"))?;
    let jwk = parse_private_jwk(text)?;
    AssertionSigner::new(&jwk, settings.clone()).map(Some)
}

/// One line per issuer preset: what it expanded to, with the token sources in effect.
fn log_presets(config: &EdgeConfig) {
    for expansion in &config.presets {
        if let Ok(serde_json::Value::Object(mut line)) = serde_json::to_value(expansion) {
            line.insert("event".into(), "preset_expanded".into());
            line.insert(
                "sources".into(),
                serde_json::to_value(&config.sources).unwrap_or_default(),
            );
            worker::console_log!("{}", serde_json::Value::Object(line));
        }
    }
}

/// One Analytics Engine data point for the decision, when the dataset is bound. A
/// failed write is logged, never fails the request.
fn write_metrics(env: &Env, metrics: &DecisionMetrics<'_>) {
    let Ok(dataset) = env.analytics_engine(METRICS_BINDING) else {
        return;
    };
    let point = metrics.data_point();
    let written = worker::AnalyticsEngineDataPointBuilder::new()
        .indexes([point.index.as_str()])
        .doubles(point.doubles)
        .blobs(point.blobs)
        .write_to(&dataset);
    if written.is_err() {
        worker::console_warn!(
            "{{\"event\":\"metrics_write_failed\",\"binding\":\"{METRICS_BINDING}\"}}"
        );
    }
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
    /// Where the issuer's discovery document came from, when its keys are discovered.
    discovery: Option<Tier>,
    /// Whether the issuer's verifier found the token in its cache (on acceptance).
    token_cache: Option<TokenCacheUse>,
    /// The route's name and enforcement, when routes are configured.
    route: Option<(String, bool)>,
    /// The scopes the route requires (the `scope` of an `insufficient_scope` challenge).
    scope: Option<String>,
    /// The core's [`Outcome::name`] for the request's route.
    outcome: Option<&'static str>,
    /// The code a shadowed (not enforced) check would have answered with.
    shadowed: Option<&'static str>,
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<Response> {
    let req = Incoming(req);
    let started = worker::Date::now().as_millis();
    let state = match isolate(&env).await {
        Ok(state) => state,
        Err(err) => return respond::refusal(&err, &respond::RefusalContext::bare("jwt-edge")),
    };
    let mut decision = Decision::default();
    let outcome = handle(&state, req, &env, &ctx, &mut decision).await;
    let elapsed_us = worker::Date::now()
        .as_millis()
        .saturating_sub(started)
        .saturating_mul(1000);
    let (outcome_name, code) = match (&outcome, decision.shadowed) {
        (Ok(_), Some(would_be)) => ("refuse", Some(would_be)),
        (Ok(_), None) => match decision.outcome {
            Some("accept") | None => ("accept", Some("ok")),
            Some(other) => (other, None),
        },
        (Err(err), _) => ("refuse", Some(err.code())),
    };
    let mut line = serde_json::json!({
        "event": "decision",
        "outcome": outcome_name,
        "code": code,
        "iss": decision.iss,
        "kid": decision.kid,
        "alg": decision.alg,
        "jwks": decision.tier.map(Tier::name),
        "discovery": decision.discovery.map(Tier::name),
        "token_cache": decision.token_cache.map(TokenCacheUse::name),
        "duration_us": elapsed_us,
    });
    if let (Some((route, enforced)), Some(object)) = (&decision.route, line.as_object_mut()) {
        object.insert("route".into(), route.clone().into());
        object.insert("enforced".into(), (*enforced).into());
    }
    worker::console_log!("{line}");
    let metrics = DecisionMetrics {
        outcome: outcome_name,
        code,
        issuer: decision.iss.as_deref(),
        route: decision.route.as_ref().map(|(name, _)| name.as_str()),
        enforced: decision
            .route
            .as_ref()
            .is_none_or(|(_, enforced)| *enforced),
        jwks_tier: decision.tier.map(Tier::name),
        kid: decision.kid.as_deref(),
        discovery_tier: decision.discovery.map(Tier::name),
        duration_ms: elapsed_us as f64 / 1000.0,
    };
    write_metrics(&env, &metrics);
    match outcome {
        Ok(response) => Ok(response),
        Err(err) => {
            let context = respond::RefusalContext {
                realm: &state.config.realm,
                scope: decision.scope.as_deref(),
                resource_metadata: state.config.resource_metadata.as_ref().map(|m| m.url()),
                route: decision.route.as_ref().map(|(name, _)| name.as_str()),
            };
            respond::refusal(&err, &context)
        }
    }
}

async fn handle(
    state: &Rc<Isolate>,
    req: Incoming,
    env: &Env,
    ctx: &Context,
    decision: &mut Decision,
) -> std::result::Result<Response, Error> {
    let config = &state.config;
    let method = req.method();
    let is_read = method == "GET" || method == "HEAD";
    let url = req
        .url()
        .map_err(|_| Error::RequestMalformed("request url"))?;
    if let Some(publish) = &config.publish_jwks {
        if is_read && url.path() == "/.well-known/jwks.json" {
            return respond::published_jwks(&req, env, publish).await;
        }
    }
    if let Some(metadata) = &config.resource_metadata {
        if is_read && url.path() == metadata.path() {
            return respond::resource_metadata(&method, metadata);
        }
    }
    // Route rules: one reading of the path (refused when it could be read two ways),
    // then the first rule that matches. The origin receives the path that was matched.
    let routed_path = if config.routes.has_rules() {
        Some(normalise_path(url.path())?)
    } else {
        None
    };
    let route = config.routes.select(
        &method,
        url.host_str(),
        routed_path.as_deref().unwrap_or(url.path()),
    );
    if config.routes.has_rules() || !route.enforce {
        decision.route = Some((route.name.clone(), route.enforce));
    }
    decision.scope = route.scope_challenge();
    let target = respond::Target {
        path: routed_path.as_deref(),
    };
    if config.cors_preflight_passthrough && respond::is_preflight(&req) {
        return respond::passthrough(req, config, target).await;
    }
    let checked = if route.checks_tokens() {
        authenticate(state, &req, env, ctx, route, decision).await
    } else {
        Err(Error::TokenMissing)
    };
    let (checked, verified) = match checked {
        Ok((verified, tier, now)) => (Ok(()), Some((verified, tier, now))),
        Err(err) => (Err(err), None),
    };
    let outcome = route.outcome(checked);
    decision.outcome = Some(outcome.name());
    match (outcome, verified) {
        (Outcome::Accept, Some((verified, tier, now))) => match config.mode {
            Mode::Verdict => {
                respond::verdict(&verified, tier, decision.route.is_some().then_some(route))
            }
            Mode::Proxy => {
                let assertion = state.assertion.as_ref().map(|signer| (signer, now));
                respond::forward(req, config, Some(&verified), assertion, target).await
            }
        },
        (Outcome::Refuse(err), _) => Err(err),
        (Outcome::Shadowed(code), _) => {
            decision.shadowed = Some(code);
            respond::anonymous(req, config, route, Some(code), target).await
        }
        // Public, anonymous: forwarded with nothing a client could pass off as verified.
        (_, _) => respond::anonymous(req, config, route, None, target).await,
    }
}

/// The token of the request, verified for `route`: its issuer among the route's, the
/// issuer's policy, the route's audiences, scopes and claims, then replay (the route's
/// mode, else the issuer's), so a token refused for a scope never uses up its `jti`.
async fn authenticate(
    state: &Rc<Isolate>,
    req: &Incoming,
    env: &Env,
    ctx: &Context,
    route: &Route,
    decision: &mut Decision,
) -> std::result::Result<(VerifiedToken, Tier, i64), Error> {
    let config = &state.config;
    let url = req
        .url()
        .map_err(|_| Error::RequestMalformed("request url"))?;
    let token = extract_token_from(
        &config.sources,
        config.max_token_bytes,
        |name| req.headers().get(name).ok().flatten(),
        url.query(),
    )?;
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
    if !route.accepts_issuer(index) {
        return Err(Error::IssuerMismatch);
    }
    // What can be refused without keys is refused before any key is fetched: a junk
    // token never costs a JWKS fetch. (The verifier runs the same checks again.)
    let algorithm = config.verify_options(issuer)?.admit(&untrusted)?;
    let now = unix_now();
    let kid = untrusted.header().key_id.clone();
    let keys::Keys {
        verifier,
        tier,
        discovery,
    } = keys::verifier_for(state, env, ctx, index, kid.as_deref(), algorithm, now).await?;
    decision.discovery = discovery;
    decision.tier = Some(tier);
    let (verified, cache_use) = verifier.verify_parsed_traced(untrusted, now)?;
    decision.token_cache = Some(cache_use);
    route.requirements.check(&verified.claims)?;
    let replay_mode = route.replay.unwrap_or(issuer.replay);
    replay::check(
        state,
        env,
        index,
        issuer,
        replay_mode,
        &verified.claims,
        now,
    )
    .await?;
    Ok((verified, tier, now))
}
