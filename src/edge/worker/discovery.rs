//! An issuer's discovery document in three tiers, as its keys are: isolate memory → a
//! KV snapshot → the issuer's well-known URLs. What to do at each point is decided by
//! the core's [`Discovery`]; this file performs the I/O it asks for and logs its events.

use std::cell::RefCell;
use std::rc::Rc;

use worker::{Context, Env};

use crate::decisions::cache::storage_lifetime;
use crate::decisions::discovery::{
    Discovery, DiscoveryEvent, DiscoveryLookup, DiscoveryReport, DiscoveryStep, DocumentFetch,
    DISCOVERY_ACCEPT, MAX_DISCOVERY_BYTES,
};
use crate::decisions::keysource::Tier;
use crate::error::Error;

use super::fetching::{fetch_document, read_kv, wait_for_change, write_kv, Fetched};
use super::Isolate;

/// One issuer's discovery state in isolate memory (same index as `config.issuers`),
/// made on first use.
#[derive(Default)]
pub struct IssuerDiscovery {
    discovery: RefCell<Option<Discovery>>,
}

impl IssuerDiscovery {
    fn with_discovery<R>(
        &self,
        isolate: &Isolate,
        issuer: &str,
        f: impl FnOnce(&mut Discovery) -> R,
    ) -> Result<R, Error> {
        let mut slot = self.discovery.borrow_mut();
        if slot.is_none() {
            *slot = Discovery::new(
                issuer,
                isolate.config.cache.clone(),
                isolate.config.dev_allow_http_loopback,
                true,
            );
        }
        // Validated with the configuration: an issuer that discovers has well-known URLs.
        slot.as_mut()
            .map(f)
            .ok_or(Error::config_invalid("issuers.discovery"))
    }
}

/// Tells discovery when a fetch it asked for is dropped (the request cancelled).
struct Guard<'a> {
    keys: &'a IssuerDiscovery,
    armed: bool,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if self.armed {
            if let Some(discovery) = self.keys.discovery.borrow_mut().as_mut() {
                discovery.abandoned();
            }
        }
    }
}

/// The `jwks_uri` of issuer `index` at `now`, from its discovery document, and the tier
/// the document came from.
pub async fn jwks_uri_for(
    isolate: &Rc<Isolate>,
    env: &Env,
    ctx: &Context,
    index: usize,
    now: i64,
) -> Result<(String, Tier), Error> {
    let (issuer, state) = isolate.discovery_of(index)?;
    let name = issuer.issuer.as_str();
    let mut lookup = DiscoveryLookup::new(now);
    loop {
        match state.with_discovery(isolate, name, |d| d.step(&mut lookup))? {
            DiscoveryStep::ReadStored => {
                let key = state.with_discovery(isolate, name, |d| d.store_key())?;
                let text = read_kv(env, &key).await;
                let events = state
                    .with_discovery(isolate, name, |d| d.stored(&mut lookup, text.as_deref()))?;
                log_events(name, &events);
            }
            DiscoveryStep::Fetch(fetch) => {
                let mut guard = Guard {
                    keys: state,
                    armed: true,
                };
                let fetched = get(isolate, &fetch).await;
                let report = state
                    .with_discovery(isolate, name, |d| d.fetched(&mut lookup, fetched.answer()))?;
                guard.armed = false;
                drop(guard);
                finish(isolate, env, index, report).await;
            }
            DiscoveryStep::Wait => {
                let generation = || {
                    state
                        .with_discovery(isolate, name, |d| d.generation())
                        .unwrap_or(0)
                };
                if !wait_for_change(isolate, generation).await {
                    return Err(Error::JwksUnavailable);
                }
                lookup.waited();
            }
            DiscoveryStep::Use {
                jwks_uri,
                tier,
                refresh,
            } => {
                if let Some(fetch) = refresh {
                    let (isolate, env) = (Rc::clone(isolate), env.clone());
                    ctx.wait_until(async move {
                        refresh_ahead(&isolate, &env, index, &fetch, now).await;
                    });
                }
                return Ok((jwks_uri, tier));
            }
            DiscoveryStep::Refuse(err) => return Err(err),
        }
    }
}

async fn get(isolate: &Isolate, fetch: &DocumentFetch) -> Fetched {
    fetch_document(
        isolate,
        &fetch.url,
        &fetch.conditional,
        DISCOVERY_ACCEPT,
        MAX_DISCOVERY_BYTES,
    )
    .await
}

/// A background refresh discovery asked for, run by `waitUntil`.
async fn refresh_ahead(
    isolate: &Rc<Isolate>,
    env: &Env,
    index: usize,
    fetch: &DocumentFetch,
    now: i64,
) {
    let Ok((issuer, state)) = isolate.discovery_of(index) else {
        return;
    };
    let mut guard = Guard {
        keys: state,
        armed: true,
    };
    let fetched = get(isolate, fetch).await;
    let report = state.with_discovery(isolate, &issuer.issuer, |d| {
        d.refreshed(now, fetch, fetched.answer())
    });
    guard.armed = false;
    drop(guard);
    if let Ok(report) = report {
        finish(isolate, env, index, report).await;
    }
}

/// Logs a finished fetch's events and stores the snapshot it gave in KV.
async fn finish(isolate: &Isolate, env: &Env, index: usize, report: DiscoveryReport) {
    let Ok((issuer, state)) = isolate.discovery_of(index) else {
        return;
    };
    log_events(&issuer.issuer, &report.events);
    let Some(snapshot) = report.store else {
        return;
    };
    let Ok(text) = serde_json::to_string(&snapshot) else {
        return;
    };
    let Ok(key) = state.with_discovery(isolate, &issuer.issuer, |d| d.store_key()) else {
        return;
    };
    // Kept for as long as it may serve as last-known-good.
    let ttl = storage_lifetime(snapshot.max_age, &isolate.config.cache);
    write_kv(env, &key, text, ttl).await;
}

fn log_events(issuer: &str, events: &[DiscoveryEvent]) {
    for event in events {
        let Ok(serde_json::Value::Object(mut line)) = serde_json::to_value(event) else {
            continue;
        };
        line.insert("iss".into(), serde_json::Value::String(issuer.to_owned()));
        worker::console_warn!("{}", serde_json::Value::Object(line));
    }
}
