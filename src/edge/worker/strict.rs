//! Strict replay protection: a `jti` is accepted once, ever, until it expires. Each
//! (iss, jti) hash belongs to one of N Durable Objects; the object's insert-if-absent
//! is atomic because storage operations hold its input gate, so no other request is
//! delivered between the read and the write. Expired entries are removed by alarms.
//! [`Shards`] is the objects as the core's [`ReplayStore`]; when they are asked, and
//! what their answer means, is the core's decision (`crate::decisions::replay::ReplayTiers`).

use serde::{Deserialize, Serialize};
use worker::{
    durable_object, DurableObject, Env, ListOptions, Method, Request, RequestInit, Response, State,
};

use crate::decisions::replay::{replay_shard, ReplayStore};
use crate::error::Error;

/// Binding name of the Durable Object namespace.
pub const BINDING: &str = "REPLAY_GUARD";
/// Entries removed per alarm run; the alarm comes back for the rest.
const SWEEP_BATCH: u32 = 1000;

#[derive(Serialize, Deserialize)]
struct Claim {
    key: String,
    expires_at: i64,
    now: i64,
}

/// An absolute alarm time (workers-rs reads a bare integer as an offset from now).
fn at_unix_ms(ms: i64) -> worker::durable::ScheduledTime {
    worker::durable::ScheduledTime::new(worker::js_sys::Date::new(
        &worker::wasm_bindgen::JsValue::from_f64(ms as f64),
    ))
}

/// One shard of the strict replay store.
#[durable_object]
pub struct ReplayGuard {
    state: State,
}

impl DurableObject for ReplayGuard {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let storage = self.state.storage();
        if req.method() == Method::Get {
            // Live entry count, for tests and operators.
            let entries = storage
                .list_with_options(ListOptions::new().prefix("e:"))
                .await?;
            return Response::ok(entries.size().to_string());
        }
        let claim: Claim = req.json().await?;
        let key = format!("e:{}", claim.key);
        let seen: Option<i64> = storage.get(&key).await?;
        if seen.is_some_and(|until| until > claim.now) {
            return Response::error("replayed", 409);
        }
        storage.put(&key, claim.expires_at).await?;
        let due = claim.expires_at.saturating_add(1).saturating_mul(1000);
        let alarm = storage.get_alarm().await?;
        if alarm.is_none_or(|at| at > due) {
            storage.set_alarm(at_unix_ms(due)).await?;
        }
        Response::ok("recorded")
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let storage = self.state.storage();
        let now = i64::try_from(worker::Date::now().as_millis() / 1000).unwrap_or(i64::MAX);
        let entries = storage
            .list_with_options(ListOptions::new().prefix("e:").limit(SWEEP_BATCH as usize))
            .await?;
        let mut expired = Vec::new();
        let mut next: Option<i64> = None;
        for entry in entries.entries() {
            let Ok(pair) = entry else { continue };
            let pair: worker::js_sys::Array = pair.into();
            let (Some(key), Some(until)) = (pair.get(0).as_string(), pair.get(1).as_f64()) else {
                continue;
            };
            let until = until as i64;
            if until <= now {
                expired.push(key);
            } else {
                next = Some(next.map_or(until, |n| n.min(until)));
            }
        }
        let full_batch =
            expired.len().saturating_add(usize::from(next.is_some())) >= SWEEP_BATCH as usize;
        if !expired.is_empty() {
            storage.delete_multiple(expired).await?;
        }
        if full_batch {
            storage
                .set_alarm(now.saturating_add(1).saturating_mul(1000))
                .await?;
        } else if let Some(next) = next {
            storage
                .set_alarm(next.saturating_add(1).saturating_mul(1000))
                .await?;
        }
        Response::ok("swept")
    }
}

/// The sharded Durable Objects as the strict mode's authority. Any failure to reach
/// the key's object is [`Error::ReplayUnavailable`] (logged).
pub struct Shards<'a> {
    pub env: &'a Env,
    /// How many objects the keys are spread over (`replay_shards`).
    pub count: u32,
}

impl ReplayStore for Shards<'_> {
    /// Asks the key's shard to record it: `Ok(true)` recorded, `Ok(false)` already there.
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        let shard = replay_shard(key, self.count);
        let unavailable = |what: &str| {
            worker::console_error!(
                "{{\"event\":\"replay_guard_unavailable\",\"shard\":{shard},\"what\":\"{what}\"}}"
            );
            Error::ReplayUnavailable
        };
        let namespace = self
            .env
            .durable_object(BINDING)
            .map_err(|_| unavailable("binding"))?;
        let stub = namespace
            .id_from_name(&format!("replay-shard-{shard}"))
            .and_then(|id| id.get_stub())
            .map_err(|_| unavailable("stub"))?;
        let body = serde_json::to_string(&Claim {
            key: key.to_owned(),
            expires_at,
            now,
        })
        .map_err(|_| unavailable("encode"))?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post).with_body(Some(body.into()));
        let request = Request::new_with_init("https://replay-guard/claim", &init)
            .map_err(|_| unavailable("request"))?;
        let response = stub
            .fetch_with_request(request)
            .await
            .map_err(|_| unavailable("fetch"))?;
        match response.status_code() {
            200 => Ok(true),
            409 => Ok(false),
            _ => Err(unavailable("status")),
        }
    }
}
