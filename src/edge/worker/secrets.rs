//! Key material named by the configuration (`hmac_secret`, `hmac_secrets`,
//! `assertion.key_secret`), read once per isolate.
//!
//! A name is read from a Worker secret (`wrangler secret put`, locally `.dev.vars`) or
//! from a Cloudflare Secrets Store binding (`[[secrets_store_secrets]]`, whose `get()`
//! answers the value). At run time a secret and a `[vars]` entry are the same string
//! binding: that keys never sit in `[vars]` is checked before deploy
//! (`jwt-edge check-config`, run by scripts/build-worker.sh), not here.

use std::collections::BTreeMap;

use worker::js_sys::{Array, Function, Promise, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::Env;
use zeroize::Zeroizing;

use crate::edge::config::EdgeConfig;

/// Why a named key could not be read (logged, never the value).
pub const MISSING_BINDING: &str = "missing_binding";

/// Each configured binding name's text, or why it could not be read.
#[derive(Default)]
pub struct Secrets(BTreeMap<String, Result<Zeroizing<String>, &'static str>>);

impl Secrets {
    /// The text of binding `name`, or the reason it is unavailable.
    pub fn text(&self, name: &str) -> Result<&str, &'static str> {
        match self.0.get(name) {
            Some(Ok(text)) => Ok(text.as_str()),
            Some(Err(why)) => Err(why),
            None => Err(MISSING_BINDING),
        }
    }
}

/// Reads every binding the configuration names as a key source.
pub async fn load(env: &Env, config: &EdgeConfig) -> Secrets {
    let names = config
        .issuers
        .iter()
        .flat_map(|issuer| {
            issuer
                .hmac_secret
                .iter()
                .chain(issuer.hmac_secrets.values())
        })
        .chain(config.assertion.iter().map(|a| &a.key_secret));
    let mut secrets = Secrets::default();
    for name in names {
        if !secrets.0.contains_key(name) {
            let text = read(env, name).await;
            secrets.0.insert(name.clone(), text);
        }
    }
    secrets
}

/// A string binding's value, or a Secrets Store binding's `get()`.
async fn read(env: &Env, name: &str) -> Result<Zeroizing<String>, &'static str> {
    let binding = Reflect::get(env, &JsValue::from_str(name)).map_err(|_| MISSING_BINDING)?;
    if let Some(text) = binding.as_string() {
        return Ok(Zeroizing::new(text));
    }
    if !binding.is_object() {
        return Err(MISSING_BINDING);
    }
    // The binding is an RPC stub (constructor `Fetcher`): its `get` is callable but no
    // `Function` instance, and answers a thenable, not a `Promise`.
    let get = Reflect::get(&binding, &JsValue::from_str("get")).map_err(|_| MISSING_BINDING)?;
    if !get.is_function() {
        return Err(MISSING_BINDING);
    }
    // `Reflect.apply`, not `get.call(…)`: on a stub, `.call` would be one more remote
    // method name.
    let answer = Reflect::apply(&get.unchecked_into::<Function>(), &binding, &Array::new())
        .map_err(|_| "secrets_store_unavailable")?;
    let promise = Promise::resolve(&answer);
    let value = JsFuture::from(promise)
        .await
        .map_err(|_| "secrets_store_unavailable")?;
    value.as_string().map(Zeroizing::new).ok_or(MISSING_BINDING)
}
