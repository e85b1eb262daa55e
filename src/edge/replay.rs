//! Best-effort replay protection: the issuer's memory in this isolate (reserved before
//! any await, so two requests in one isolate cannot both pass), then KV `REPLAY`, the
//! authority, which has no insert-if-absent and is eventually consistent across
//! locations. The decisions are the core's (`crate::replay::check_replay_entry`); this
//! module does the KV I/O.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::claims::Claims;
use crate::error::Error;
use crate::replay::{check_replay_entry, replay_entry, ReplayMemory, ReplayStore};

use super::Isolate;

/// KV refuses expiration TTLs under 60 s.
const KV_MIN_TTL: i64 = 60;

pub async fn check(
    state: &Rc<Isolate>,
    env: &Env,
    claims: &Claims,
    now: i64,
    clock_skew: u64,
) -> Result<(), Error> {
    let entry = replay_entry(claims, clock_skew)?;
    check_replay_entry(memory_of(state, claims)?, &KvReplay { env }, &entry, now).await
}

/// The replay memory of the token's issuer, found by its verified `iss` (the claims
/// policy requires it to equal the configured issuer exactly).
pub fn memory_of<'a>(
    state: &'a Isolate,
    claims: &Claims,
) -> Result<&'a RefCell<ReplayMemory>, Error> {
    let iss = claims.issuer.as_deref();
    state
        .config
        .issuers
        .iter()
        .position(|issuer| Some(issuer.issuer.as_str()) == iss)
        .and_then(|index| state.replay.get(index))
        .ok_or(Error::ReplayUnavailable)
}

/// KV `REPLAY` as a replay store: refuses a `jti` KV already has, records it
/// otherwise. Best effort: a failed read or write is logged and the `jti` accepted; only
/// a missing binding is a failure (503 `replay_unavailable`).
pub struct KvReplay<'a> {
    pub env: &'a Env,
}

impl KvReplay<'_> {
    fn kv_key(key: &str) -> String {
        format!("jti:v1:{key}")
    }

    /// Whether KV has `key`; `Ok(false)` (logged) when it cannot say.
    pub async fn seen(&self, key: &str) -> Result<bool, Error> {
        let kv = self
            .env
            .kv("REPLAY")
            .map_err(|_| Error::ReplayUnavailable)?;
        match kv.get(&Self::kv_key(key)).text().await {
            Ok(found) => Ok(found.is_some()),
            Err(_) => {
                worker::console_warn!("{{\"event\":\"kv_read_failed\",\"binding\":\"REPLAY\"}}");
                Ok(false)
            }
        }
    }

    /// Records `key` with `expirationTtl = max(60, expires_at − now)` (KV refuses shorter
    /// ones); a failed write is logged.
    pub async fn record(&self, key: &str, expires_at: i64, now: i64) -> Result<(), Error> {
        let kv = self
            .env
            .kv("REPLAY")
            .map_err(|_| Error::ReplayUnavailable)?;
        let ttl = u64::try_from(expires_at.saturating_sub(now).max(KV_MIN_TTL)).unwrap_or(60);
        let stored = match kv.put(&Self::kv_key(key), "1") {
            Ok(put) => put.expiration_ttl(ttl).execute().await.is_ok(),
            Err(_) => false,
        };
        if !stored {
            worker::console_warn!("{{\"event\":\"kv_write_failed\",\"binding\":\"REPLAY\"}}");
        }
        Ok(())
    }
}

impl ReplayStore for KvReplay<'_> {
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        if self.seen(key).await? {
            return Ok(false);
        }
        self.record(key, expires_at, now).await?;
        Ok(true)
    }
}
