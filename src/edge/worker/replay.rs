//! Replay protection's I/O: KV `REPLAY` as the core's [`ReplayLog`]. Which tiers a
//! check asks, in which order, and what their answers mean is the core's decision
//! ([`ReplayTiers::check`]): the best-effort mode uses KV as its authority, the strict
//! mode uses the Durable Object shards (`super::strict`) with KV as optional pre-filter.

use std::rc::Rc;

use worker::Env;

use crate::decisions::replay::{replay_kv_key, replay_kv_ttl, Lookup, ReplayLog, ReplayTiers};
use crate::edge::config::{IssuerConfig, ReplayMode};
use crate::error::Error;
use crate::policy::claims::Claims;

use super::strict::Shards;
use super::Isolate;

/// The replay check of issuer `index` in `mode` (the route's, else the issuer's) for
/// verified `claims`.
pub async fn check(
    state: &Rc<Isolate>,
    env: &Env,
    index: usize,
    issuer: &IssuerConfig,
    mode: ReplayMode,
    claims: &Claims,
    now: i64,
) -> Result<(), Error> {
    let tiers = ReplayTiers {
        // One memory per issuer, in this isolate (same index as `config.issuers`).
        memory: state.replay.get(index).ok_or(Error::ReplayUnavailable)?,
        log: &KvLog { env },
        atomic: &Shards {
            env,
            count: issuer.replay_shards,
        },
    };
    tiers
        .check(
            mode,
            issuer.replay_kv_prefilter,
            claims,
            issuer.clock_skew,
            now,
        )
        .await
}

/// KV `REPLAY`: one entry `jti:v1:<replay key>` per accepted `jti`, expiring with it.
/// A missing binding cannot be asked (`replay_unavailable`); failed reads and writes
/// are logged and reported to the core.
pub struct KvLog<'a> {
    pub env: &'a Env,
}

impl ReplayLog for KvLog<'_> {
    async fn seen(&self, key: &str) -> Result<Lookup, Error> {
        let kv = self
            .env
            .kv("REPLAY")
            .map_err(|_| Error::ReplayUnavailable)?;
        match kv.get(&replay_kv_key(key)).text().await {
            Ok(Some(_)) => Ok(Lookup::Seen),
            Ok(None) => Ok(Lookup::Unseen),
            Err(_) => {
                worker::console_warn!("{{\"event\":\"kv_read_failed\",\"binding\":\"REPLAY\"}}");
                Ok(Lookup::Unknown)
            }
        }
    }

    /// Records `key` with `expirationTtl = max(60, expires_at − now)` (KV refuses shorter
    /// ones).
    async fn record(&self, key: &str, expires_at: i64, now: i64) -> Result<(), Error> {
        let kv = self
            .env
            .kv("REPLAY")
            .map_err(|_| Error::ReplayUnavailable)?;
        let ttl = replay_kv_ttl(expires_at, now);
        let stored = match kv.put(&replay_kv_key(key), "1") {
            Ok(put) => put.expiration_ttl(ttl).execute().await.is_ok(),
            Err(_) => false,
        };
        if stored {
            Ok(())
        } else {
            worker::console_warn!("{{\"event\":\"kv_write_failed\",\"binding\":\"REPLAY\"}}");
            Err(Error::ReplayUnavailable)
        }
    }
}
