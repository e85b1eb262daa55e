//! wasm-bindgen front end: translates JavaScript calls to the core and back.
//! It decides nothing; the full typed JavaScript API is built on this.

use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

use crate::config::VerifyConfig;
use crate::error::Error;

/// Verifies `token` with the options given as JSON text (see `VerifyConfig`), at
/// `options.now` or else the JavaScript clock. Returns a JSON verdict:
/// `{"ok":true,"header":…,"claims":…,"keyId":…,"algorithm":…}` or
/// `{"ok":false,"code":…,"message":…}`. It never throws for a bad token.
#[wasm_bindgen(js_name = verifyJson)]
pub fn verify_json(token: &str, options_json: &str) -> String {
    let verdict = match run(token, options_json) {
        Ok(value) => value,
        Err(err) => json!({ "ok": false, "code": err.code(), "message": err.to_string() }),
    };
    verdict.to_string()
}

fn run(token: &str, options_json: &str) -> Result<Value, Error> {
    let config = VerifyConfig::from_json(options_json)?;
    let verifier = config.build()?;
    let now = config
        .now
        .unwrap_or_else(|| (js_sys::Date::now() / 1000.0).floor() as i64);
    let verified = verifier.verify(token, now)?;
    Ok(json!({
        "ok": true,
        "header": verified.header.raw,
        "claims": verified.claims.all,
        "keyId": verified.key_id,
        "algorithm": verified.algorithm.name(),
    }))
}
