//! Best-effort replay protection: the isolate's memory (checked and filled before any
//! await, so two requests in one isolate cannot both pass), then KV, which has no
//! insert-if-absent and is eventually consistent across locations.

use std::rc::Rc;

use worker::Env;

use crate::claims::Claims;
use crate::error::Error;
use crate::replay::{replay_key, MAX_JTI_BYTES};

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
    let jwt_id = claims.jwt_id.as_deref().ok_or(Error::ClaimMissing("jti"))?;
    if jwt_id.is_empty() || jwt_id.len() > MAX_JTI_BYTES {
        return Err(Error::ClaimInvalid("jti"));
    }
    let exp = claims.expires_at.ok_or(Error::ClaimMissing("exp"))?;
    let skew = i64::try_from(clock_skew).unwrap_or(i64::MAX);
    let key = replay_key(claims.issuer.as_deref(), jwt_id);
    // Synchronous: no await between the check and the insert.
    if !state
        .replay
        .insert_now(&key, exp.saturating_add(skew), now)?
    {
        return Err(Error::TokenReplayed);
    }
    let kv = env.kv("REPLAY").map_err(|_| Error::ReplayUnavailable)?;
    let kv_key = format!("jti:v1:{key}");
    match kv.get(&kv_key).text().await {
        Ok(Some(_)) => return Err(Error::TokenReplayed),
        Ok(None) => {}
        Err(_) => worker::console_warn!("{{\"event\":\"kv_read_failed\",\"binding\":\"REPLAY\"}}"),
    }
    let ttl = exp.saturating_sub(now).saturating_add(skew).max(KV_MIN_TTL);
    let ttl = u64::try_from(ttl).unwrap_or(KV_MIN_TTL as u64);
    let stored = match kv.put(&kv_key, "1") {
        Ok(put) => put.expiration_ttl(ttl).execute().await.is_ok(),
        Err(_) => false,
    };
    if !stored {
        worker::console_warn!("{{\"event\":\"kv_write_failed\",\"binding\":\"REPLAY\"}}");
    }
    Ok(())
}
