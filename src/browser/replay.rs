//! `ReplayGuard`: the worker's best-effort replay protection for JavaScript runtimes —
//! this isolate's memory in front of a KV namespace passed in (Workers KV, or anything
//! with the same `get`/`put`). The order of the tiers and what their answers mean are
//! the core's ([`ReplayCheck`] over [`BestEffort`]); this file only calls `get` and `put`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::decisions::replay::{
    replay_entry, replay_kv_key, replay_kv_ttl, BestEffort, Lookup, ReplayCheck, ReplayLog,
};
use crate::decisions::replay_memory::{ReplayMemory, DEFAULT_CAPACITY, MAX_CAPACITY};
use crate::error::Error;
use crate::policy::claims::{Claims, ClaimsPolicy};

use super::failure;

/// A KV namespace as the core's [`ReplayLog`]: `get(key)` → text or `null`,
/// `put(key, "1", { expirationTtl })`. A failed read is [`Lookup::Unknown`], a failed
/// write an error (best effort accepts both); a namespace without those methods cannot
/// be asked (`replay_unavailable`).
struct KvLog {
    kv: JsValue,
}

impl KvLog {
    fn method(&self, name: &str) -> Result<Function, Error> {
        Reflect::get(&self.kv, &JsValue::from_str(name))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or(Error::ReplayUnavailable)
    }
}

async fn settle(promise: Result<JsValue, JsValue>) -> Result<JsValue, JsValue> {
    let value = promise?;
    match value.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(plain) => Ok(plain),
    }
}

impl ReplayLog for KvLog {
    async fn seen(&self, key: &str) -> Result<Lookup, Error> {
        let get = self.method("get")?;
        let answer = settle(get.call1(&self.kv, &JsValue::from_str(&replay_kv_key(key)))).await;
        Ok(match answer {
            Ok(value) if value.is_null() || value.is_undefined() => Lookup::Unseen,
            Ok(_) => Lookup::Seen,
            Err(_) => Lookup::Unknown,
        })
    }

    async fn record(&self, key: &str, expires_at: i64, now: i64) -> Result<(), Error> {
        let put = self.method("put")?;
        let options = Object::new();
        let ttl = replay_kv_ttl(expires_at, now) as f64;
        Reflect::set(&options, &"expirationTtl".into(), &ttl.into())
            .map_err(|_| Error::ReplayUnavailable)?;
        let answer = settle(put.call3(
            &self.kv,
            &JsValue::from_str(&replay_kv_key(key)),
            &JsValue::from_str("1"),
            &options,
        ))
        .await;
        answer.map(drop).map_err(|_| Error::ReplayUnavailable)
    }
}

/// Best-effort one-time tokens for one issuer's tokens in this isolate.
#[wasm_bindgen(js_name = ReplayGuard)]
pub struct ReplayGuard {
    memory: Rc<RefCell<ReplayMemory>>,
}

#[wasm_bindgen(js_class = ReplayGuard)]
impl ReplayGuard {
    /// A guard remembering at most `memory` accepted `jti`s (default 100 000, at most
    /// 500 000, as the worker's `replay_memory`). Throws the failure JSON otherwise.
    #[wasm_bindgen(constructor)]
    pub fn new(memory: Option<u32>) -> Result<ReplayGuard, JsValue> {
        let capacity = memory.map_or(DEFAULT_CAPACITY, |m| m as usize);
        if capacity > MAX_CAPACITY {
            return Err(JsValue::from_str(&failure(&Error::config_invalid(
                "memory",
            ))));
        }
        Ok(ReplayGuard {
            memory: Rc::new(RefCell::new(ReplayMemory::new(capacity))),
        })
    }

    /// Checks the verified claims (JSON text of an accepted verdict's `claims`) at
    /// `now` with `clock_skew` seconds, against this memory and `kv`. The promise
    /// resolves to `undefined` when the token is used for the first time, and rejects
    /// with the refused verdict's JSON text (`token_replayed`, `claim_missing`,
    /// `replay_unavailable`).
    pub fn check(
        &self,
        claims_json: &str,
        kv: JsValue,
        clock_skew: Option<u32>,
        now: f64,
    ) -> Promise {
        // Absent: the core's default skew, as for verification.
        let clock_skew = clock_skew.map_or(ClaimsPolicy::default().clock_skew, u64::from);
        let memory = Rc::clone(&self.memory);
        let claims = serde_json::from_str::<Value>(claims_json)
            .ok()
            .and_then(|v| v.as_object().cloned())
            .ok_or(Error::ClaimInvalid("claims"))
            .and_then(|map| Claims::from_map(map, ClaimsPolicy::default().max_audiences));
        let now = now.floor() as i64;
        future_to_promise(async move {
            let run = async {
                let entry = replay_entry(&claims?, clock_skew)?;
                let log = KvLog { kv };
                ReplayCheck::new(&memory, &BestEffort(&log))
                    .run(&entry, now)
                    .await
            };
            match run.await {
                Ok(()) => Ok(JsValue::UNDEFINED),
                Err(err) => Err(JsValue::from_str(&failure(&err))),
            }
        })
    }
}
