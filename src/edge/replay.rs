//! Best-effort replay protection: the isolate's memory (checked and filled before any
//! await, so two requests in one isolate cannot both pass), then KV, which has no
//! insert-if-absent and is eventually consistent across locations.

use std::rc::Rc;

use worker::Env;

use crate::claims::Claims;
use crate::error::Error;
use crate::replay::{replay_entry, ReplayEntry};

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
    // Synchronous: no await between the check and the insert.
    if !state.replay.insert_now(&entry.key, entry.expires_at, now)? {
        return Err(Error::TokenReplayed);
    }
    check_kv(env, &entry, now).await
}

/// The KV half: refuses a `jti` KV already has, records it otherwise (best-effort: KV
/// has no insert-if-absent and is eventually consistent).
pub async fn check_kv(env: &Env, entry: &ReplayEntry, now: i64) -> Result<(), Error> {
    let kv = env.kv("REPLAY").map_err(|_| Error::ReplayUnavailable)?;
    let kv_key = format!("jti:v1:{}", entry.key);
    match kv.get(&kv_key).text().await {
        Ok(Some(_)) => return Err(Error::TokenReplayed),
        Ok(None) => {}
        Err(_) => worker::console_warn!("{{\"event\":\"kv_read_failed\",\"binding\":\"REPLAY\"}}"),
    }
    // expirationTtl = max(60, exp − now + skew): KV refuses shorter ones.
    let ttl = u64::try_from(entry.expires_at.saturating_sub(now).max(KV_MIN_TTL)).unwrap_or(60);
    let stored = match kv.put(&kv_key, "1") {
        Ok(put) => put.expiration_ttl(ttl).execute().await.is_ok(),
        Err(_) => false,
    };
    if !stored {
        worker::console_warn!("{{\"event\":\"kv_write_failed\",\"binding\":\"REPLAY\"}}");
    }
    Ok(())
}
