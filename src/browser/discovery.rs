//! The discovery side of `RemoteJwks.fromIssuer`: the core's [`Discovery`] state
//! machine held in wasm. JavaScript performs the fetches and storage reads it asks for
//! and hands each answer over once; which URL, whether a document may be used, and
//! when to refetch are the core's.

use serde_json::json;
use wasm_bindgen::prelude::*;

use crate::decisions::cache::{storage_lifetime, CachePolicy};
use crate::decisions::discovery::{
    discovered_issuers, Discovery, DiscoveryEvent, DiscoveryLookup, DiscoveryReport, DiscoveryStep,
    DocumentFetch, MAX_DISCOVERY_BYTES,
};
use crate::decisions::keysource::Answer;
use crate::error::Error;

use super::{failure, response, seconds, transport_error};

/// One issuer's discovery state for a `RemoteJwks`.
#[wasm_bindgen(js_name = RemoteDiscovery)]
pub struct RemoteDiscovery {
    discovery: Discovery,
    issuer: String,
    policy: CachePolicy,
    to_store: Option<(String, u64)>,
}

/// One verification's way through discovery.
#[wasm_bindgen(js_name = DiscoveryLookup)]
pub struct RemoteDiscoveryLookup {
    lookup: DiscoveryLookup,
}

#[wasm_bindgen(js_class = DiscoveryLookup)]
impl RemoteDiscoveryLookup {
    /// The fetch for another verification in flight has ended.
    pub fn waited(&mut self) {
        self.lookup.waited();
    }
}

fn events_json(events: &[DiscoveryEvent]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".to_owned())
}

#[wasm_bindgen(js_class = RemoteDiscovery)]
impl RemoteDiscovery {
    /// Discovery for `issuer` (an `https://` URL, or loopback `http://` with
    /// `allow_http_loopback`), with the cache policy of the `RemoteJwks` (`max_age`: the
    /// freshness without `Cache-Control` and its ceiling). Throws the JSON failure text
    /// (`config_invalid`, field `issuer`) for an issuer that cannot be discovered.
    #[wasm_bindgen(constructor)]
    pub fn new(
        issuer: &str,
        allow_http_loopback: bool,
        max_age: Option<u32>,
        shared_store: Option<bool>,
    ) -> Result<RemoteDiscovery, JsValue> {
        let defaults = CachePolicy::default();
        let max_age = max_age.map_or(defaults.default_max_age, u64::from);
        let policy = CachePolicy {
            default_max_age: max_age,
            max_max_age: max_age,
            ..defaults
        };
        let discovery = Discovery::new(
            issuer,
            policy.clone(),
            allow_http_loopback,
            shared_store.unwrap_or(false),
        )
        .ok_or_else(|| JsValue::from_str(&failure(&Error::config_invalid("issuer"))))?;
        Ok(RemoteDiscovery {
            discovery,
            issuer: issuer.to_owned(),
            policy,
            to_store: None,
        })
    }

    /// The `issuer` option a verification with this key set runs with, from the one given
    /// (JSON: a string, a list, or absent): the discovered issuer, which any given one
    /// must equal (the core's rule). Throws the `config_invalid` failure otherwise.
    #[wasm_bindgen(js_name = issuerOption)]
    pub fn issuer_option(&self, given_json: Option<String>) -> Result<String, JsValue> {
        let bad = || JsValue::from_str(&failure(&Error::config_invalid("issuer")));
        let given: Vec<String> = match given_json.as_deref() {
            None => Vec::new(),
            Some(text) => {
                match serde_json::from_str::<serde_json::Value>(text).map_err(|_| bad())? {
                    serde_json::Value::String(one) => vec![one],
                    other => serde_json::from_value(other).map_err(|_| bad())?,
                }
            }
        };
        let issuers = discovered_issuers(&self.issuer, &given).ok_or_else(bad)?;
        issuers.into_iter().next().ok_or_else(bad)
    }

    /// Largest discovery document read, in bytes (the core's limit).
    #[wasm_bindgen(getter, js_name = maxDocumentBytes)]
    pub fn max_document_bytes(&self) -> u32 {
        MAX_DISCOVERY_BYTES as u32
    }

    /// A lookup at `now` (NaN: the JavaScript clock).
    pub fn lookup(&self, now: f64) -> RemoteDiscoveryLookup {
        RemoteDiscoveryLookup {
            lookup: DiscoveryLookup::new(seconds(now)),
        }
    }

    /// The next step as JSON: `{"step":"readStored"}`, `{"step":"fetch","url",
    /// "ifNoneMatch","ifModifiedSince"}`, `{"step":"wait"}`, `{"step":"use","jwksUri",
    /// "tier"}` (with `"refresh":{…}` like a fetch: also fetch in the background), or
    /// `{"step":"refuse","failure":{…}}`.
    pub fn step(&mut self, lookup: &mut RemoteDiscoveryLookup) -> String {
        let fetch_json = |step: &str, f: &DocumentFetch| {
            json!({
                "step": step,
                "url": f.url,
                "ifNoneMatch": f.conditional.if_none_match,
                "ifModifiedSince": f.conditional.if_modified_since,
            })
        };
        match self.discovery.step(&mut lookup.lookup) {
            DiscoveryStep::ReadStored => json!({ "step": "readStored" }),
            DiscoveryStep::Fetch(fetch) => fetch_json("fetch", &fetch),
            DiscoveryStep::Wait => json!({ "step": "wait" }),
            DiscoveryStep::Use {
                jwks_uri,
                tier,
                refresh,
            } => {
                let refresh_json = refresh.as_ref().map(|f| fetch_json("refresh", f));
                json!({ "step": "use", "jwksUri": jwks_uri, "tier": tier.name(), "refresh": refresh_json })
            }
            // The failure verdict's text as the core wrote it (its member order kept).
            DiscoveryStep::Refuse(err) => {
                return format!(r#"{{"step":"refuse","failure":{}}}"#, failure(&err));
            }
        }
        .to_string()
    }

    /// The stored snapshot read for `lookup` (`undefined`: none, or the read failed);
    /// checked by the core as untrusted input. Returns the events as JSON.
    pub fn stored(&mut self, lookup: &mut RemoteDiscoveryLookup, text: Option<String>) -> String {
        events_json(&self.discovery.stored(&mut lookup.lookup, text.as_deref()))
    }

    /// The answer to the fetch the lookup's last step asked for (`body`: the bytes of a
    /// 200). Returns the events as JSON.
    #[allow(clippy::too_many_arguments)]
    pub fn fetched(
        &mut self,
        lookup: &mut RemoteDiscoveryLookup,
        status: u16,
        body: &[u8],
        cache_control: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> String {
        let answer = response(status, body, &cache_control, &etag, &last_modified);
        let report = self.discovery.fetched(&mut lookup.lookup, answer);
        self.keep(report)
    }

    /// The fetch the lookup was told to make failed (no answer, a timeout, too large).
    #[wasm_bindgen(js_name = fetchFailed)]
    pub fn fetch_failed(&mut self, lookup: &mut RemoteDiscoveryLookup, too_large: bool) -> String {
        let answer = Answer::Failed(transport_error(too_large));
        let report = self.discovery.fetched(&mut lookup.lookup, answer);
        self.keep(report)
    }

    /// The answer to the background refresh of the document at `url` a step asked
    /// for, started at `now`; `status` 0: it failed. Returns the events as JSON.
    #[allow(clippy::too_many_arguments)]
    pub fn refreshed(
        &mut self,
        url: &str,
        now: f64,
        status: u16,
        body: &[u8],
        cache_control: Option<String>,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> String {
        let answer = if status == 0 {
            Answer::Failed(Error::JwksUnavailable)
        } else {
            response(status, body, &cache_control, &etag, &last_modified)
        };
        let fetch = DocumentFetch {
            url: url.to_owned(),
            conditional: Default::default(),
        };
        let report = self.discovery.refreshed(seconds(now), &fetch, answer);
        self.keep(report)
    }

    /// A fetch asked for was dropped: others may fetch, and those waiting stop waiting.
    pub fn abandoned(&mut self) {
        self.discovery.abandoned();
    }

    /// The key of the stored snapshot in the `kv` namespace.
    #[wasm_bindgen(getter, js_name = storeKey)]
    pub fn store_key(&self) -> String {
        self.discovery.store_key()
    }

    /// The snapshot the last finished fetch asks to store (`{"key","value","ttl"}`),
    /// once; `undefined` when there is none.
    #[wasm_bindgen(js_name = takeStore)]
    pub fn take_store(&mut self) -> Option<String> {
        let key = self.discovery.store_key();
        self.to_store
            .take()
            .map(|(value, ttl)| json!({ "key": key, "value": value, "ttl": ttl }).to_string())
    }
}

impl RemoteDiscovery {
    fn keep(&mut self, report: DiscoveryReport) -> String {
        if let Some(snapshot) = &report.store {
            if let Ok(text) = serde_json::to_string(snapshot) {
                self.to_store = Some((text, storage_lifetime(snapshot.max_age, &self.policy)));
            }
        }
        events_json(&report.events)
    }
}
