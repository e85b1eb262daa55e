//! Replay protection: a token's `jti` (RFC 7519 §4.1.7) may be accepted once until
//! it expires. This module is the one replay decision: which tiers a check consults,
//! in which order, and what each answer means. Front ends bring only the I/O, as
//! implementations of two traits:
//!
//! - [`ReplayStore`], the authority: an atomic insert-if-absent (the worker's Durable
//!   Object shards, [`MemoryReplayStore`] for a process that is the only verifier);
//! - [`ReplayLog`], a shared log with no insert-if-absent, read then written (the
//!   worker's KV): the authority of the best-effort mode ([`BestEffort`]), or a
//!   pre-filter in front of an atomic authority.
//!
//! [`ReplayCheck`] runs one check over them, in this order: the isolate's
//! [`ReplayMemory`] (synchronous: reserved before any await) → the pre-filter → the
//! authority → the memory learns the answer → the pre-filter learns an acceptance.
//! A failure of the authority leaves nothing behind, so the client's retry after a 503
//! (`replay_unavailable`) is asked again instead of being refused as replayed.
//! [`ReplayTiers::check`] picks the tiers of a [`ReplayMode`].

use core::cell::RefCell;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::decisions::replay_memory::{ReplayMemory, Reservation};
use crate::error::Error;
use crate::policy::claims::Claims;

/// Longest `jti` accepted when replay protection is on, in bytes.
pub const MAX_JTI_BYTES: usize = 256;

/// Replay protection for one issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplayMode {
    /// No replay check (default).
    #[default]
    Off,
    /// `jti` required; refused when already in the isolate's memory or in KV. KV is
    /// eventually consistent, so this is best-effort across locations.
    BestEffort,
    /// `jti` required; accepted once, ever, through an atomic insert-if-absent in a
    /// Durable Object shard. Fails closed when the object cannot be reached.
    Strict,
}

/// The authority: a store that remembers `jti`s until they expire, with an atomic
/// insert-if-absent.
///
/// Not `Send`: Workers types are not, and a store is used from one isolate.
#[allow(async_fn_in_trait)]
pub trait ReplayStore {
    /// Records `key` until `expires_at` (Unix seconds) if it is not already recorded.
    /// Returns `Ok(true)` when it was new, `Ok(false)` when it was already there, and
    /// an error when the store cannot answer (the caller then fails closed).
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error>;
}

/// What a [`ReplayLog`] read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The key is recorded.
    Seen,
    /// The key is not recorded.
    Unseen,
    /// The read failed (the front end logs it): the log cannot say. A log is never the
    /// only guard that fails closed, so this counts as [`Lookup::Unseen`].
    Unknown,
}

/// A shared log of `jti`s without insert-if-absent (KV): a read and a write with other
/// requests possibly in between, eventually consistent across locations.
#[allow(async_fn_in_trait)]
pub trait ReplayLog {
    /// Whether `key` is recorded. `Err` only when the log cannot be asked at all (e.g.
    /// no binding): the check then fails closed. A failed read is `Ok(Lookup::Unknown)`.
    async fn seen(&self, key: &str) -> Result<Lookup, Error>;
    /// Records `key` until `expires_at`. A failure (`Err`, logged by the front end)
    /// does not change the verdict: the check had already decided.
    async fn record(&self, key: &str, expires_at: i64, now: i64) -> Result<(), Error>;
}

/// The storage key for a token: a SHA-256 over the issuer and `jti`, length-prefixed so
/// that no two (iss, jti) pairs collide, in hex. Raw values never reach storage or logs.
pub fn replay_key(issuer: Option<&str>, jwt_id: &str) -> String {
    let mut hash = Sha256::new();
    let issuer = issuer.unwrap_or("");
    hash.update((issuer.len() as u64).to_be_bytes());
    hash.update(issuer.as_bytes());
    hash.update((jwt_id.len() as u64).to_be_bytes());
    hash.update(jwt_id.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Which of `shards` authorities owns `key` (a [`replay_key`]): its first 32 bits, as
/// hex, modulo `shards`. Shard 0 for anything else, and when `shards` is 0.
pub fn replay_shard(key: &str, shards: u32) -> u32 {
    u32::from_str_radix(key.get(..8).unwrap_or("0"), 16)
        .unwrap_or(0)
        .checked_rem(shards)
        .unwrap_or(0)
}

/// What a replay store records for a token: its storage key and when the entry may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayEntry {
    /// [`replay_key`] of the token's `iss` and `jti`.
    pub key: String,
    /// `exp` plus the clock skew, in Unix seconds: after that the token is refused as
    /// expired anyway.
    pub expires_at: i64,
}

/// KV refuses expiration TTLs under 60 s.
pub const KV_MIN_TTL: i64 = 60;

/// The key of a replay entry in a shared KV log (the worker's `REPLAY`, the npm
/// `ReplayGuard`'s namespace): one name for both, so they can share a namespace.
pub fn replay_kv_key(key: &str) -> String {
    format!("jti:v1:{key}")
}

/// The `expirationTtl` of an entry recorded at `now`: until it expires, at least
/// [`KV_MIN_TTL`] (KV refuses shorter ones).
pub fn replay_kv_ttl(expires_at: i64, now: i64) -> u64 {
    u64::try_from(expires_at.saturating_sub(now).max(KV_MIN_TTL)).unwrap_or(60)
}

/// The replay entry of verified claims. Requires a `jti` (non-empty, at most
/// [`MAX_JTI_BYTES`]) and an `exp`.
pub fn replay_entry(claims: &Claims, clock_skew: u64) -> Result<ReplayEntry, Error> {
    let jwt_id = claims.jwt_id.as_deref().ok_or(Error::ClaimMissing("jti"))?;
    if jwt_id.is_empty() || jwt_id.len() > MAX_JTI_BYTES {
        return Err(Error::ClaimInvalid("jti"));
    }
    let exp = claims.expires_at.ok_or(Error::ClaimMissing("exp"))?;
    let skew = i64::try_from(clock_skew).unwrap_or(i64::MAX);
    Ok(ReplayEntry {
        key: replay_key(claims.issuer.as_deref(), jwt_id),
        expires_at: exp.saturating_add(skew),
    })
}

/// Refuses a token whose `jti` was already seen by `store`; records it otherwise. For a
/// front end with the store alone (no memory in front of it).
pub async fn check_replay<S: ReplayStore>(
    store: &S,
    claims: &Claims,
    now: i64,
    clock_skew: u64,
) -> Result<(), Error> {
    let entry = replay_entry(claims, clock_skew)?;
    if store
        .insert_if_absent(&entry.key, entry.expires_at, now)
        .await?
    {
        Ok(())
    } else {
        Err(Error::TokenReplayed)
    }
}

/// A [`ReplayLog`] as the authority of the best-effort mode: refuses what the log has,
/// records the rest. The read and the write are two steps (another location may accept
/// the same `jti` between them), and a failed read or write accepts: best effort. Only
/// a log that cannot be asked at all fails closed.
pub struct BestEffort<'a, L>(pub &'a L);

impl<L: ReplayLog> ReplayStore for BestEffort<'_, L> {
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        if self.0.seen(key).await? == Lookup::Seen {
            return Ok(false);
        }
        // Best effort: a write that failed is logged by the log and accepts all the same.
        let _ = self.0.record(key, expires_at, now).await;
        Ok(true)
    }
}

/// The pre-filter of a check without one.
pub enum NoLog {}

impl ReplayLog for NoLog {
    async fn seen(&self, _: &str) -> Result<Lookup, Error> {
        match *self {}
    }
    async fn record(&self, _: &str, _: i64, _: i64) -> Result<(), Error> {
        match *self {}
    }
}

/// One replay check over the tiers in front of an authority, run by
/// [`ReplayCheck::run`] in the order the module docs give.
pub struct ReplayCheck<'a, S, P = NoLog> {
    memory: &'a RefCell<ReplayMemory>,
    prefilter: Option<&'a P>,
    authority: &'a S,
}

impl<'a, S: ReplayStore> ReplayCheck<'a, S, NoLog> {
    /// `memory` in front of `authority`, without a pre-filter.
    pub fn new(memory: &'a RefCell<ReplayMemory>, authority: &'a S) -> Self {
        Self {
            memory,
            prefilter: None,
            authority,
        }
    }
}

impl<'a, S: ReplayStore, P: ReplayLog> ReplayCheck<'a, S, P> {
    /// The same check with `prefilter` (when `Some`) read between the memory and the
    /// authority: a key it has is refused without asking the authority.
    pub fn with_prefilter<Q: ReplayLog>(self, prefilter: Option<&'a Q>) -> ReplayCheck<'a, S, Q> {
        ReplayCheck {
            memory: self.memory,
            prefilter,
            authority: self.authority,
        }
    }

    /// `Ok` only when the authority accepted `entry` now; [`Error::TokenReplayed`] when
    /// a tier had it; the authority's (or an unreachable pre-filter's) failure as is,
    /// leaving the `jti` unused.
    pub async fn run(&self, entry: &ReplayEntry, now: i64) -> Result<(), Error> {
        // 1. The memory, with no await before the reservation: of two requests with one
        //    key in this isolate, the second is refused while the first is pending.
        let reservation = self
            .memory
            .try_borrow_mut()
            .map_err(|_| Error::ReplayUnavailable)?
            .reserve(&entry.key, now)?;
        let pending = Pending {
            memory: self.memory,
            key: &entry.key,
            reserved: reservation == Reservation::Reserved,
        };
        // 2-3. The pre-filter, then the authority.
        let answer = self.ask(entry, now).await;
        // 4. The memory remembers what was answered; a failure only releases the key.
        pending.settle(entry.expires_at, now, &answer);
        match answer {
            Ok(true) => {
                // 5. The pre-filter records only what the authority accepted: an entry
                //    for a `jti` the authority never took would refuse the retry.
                if let Some(prefilter) = self.prefilter {
                    // Already decided; a failed write is the log's to report.
                    let _ = prefilter.record(&entry.key, entry.expires_at, now).await;
                }
                Ok(())
            }
            Ok(false) => Err(Error::TokenReplayed),
            Err(err) => Err(err),
        }
    }

    async fn ask(&self, entry: &ReplayEntry, now: i64) -> Result<bool, Error> {
        if let Some(prefilter) = self.prefilter {
            if prefilter.seen(&entry.key).await? == Lookup::Seen {
                return Ok(false);
            }
        }
        self.authority
            .insert_if_absent(&entry.key, entry.expires_at, now)
            .await
    }
}

/// A reservation held across the awaits; released if dropped unsettled (an error path,
/// a cancelled request), so a key is never left pending.
struct Pending<'a> {
    memory: &'a RefCell<ReplayMemory>,
    key: &'a str,
    reserved: bool,
}

impl Pending<'_> {
    fn settle(mut self, expires_at: i64, now: i64, answer: &Result<bool, Error>) {
        self.reserved = false;
        if let Ok(mut memory) = self.memory.try_borrow_mut() {
            memory.settle(self.key, expires_at, now, answer);
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.reserved {
            if let Ok(mut memory) = self.memory.try_borrow_mut() {
                memory.release(self.key);
            }
        }
    }
}

/// [`ReplayCheck`] of `memory` in front of `store`, without a pre-filter.
pub async fn check_replay_entry<S: ReplayStore>(
    memory: &RefCell<ReplayMemory>,
    store: &S,
    entry: &ReplayEntry,
    now: i64,
) -> Result<(), Error> {
    ReplayCheck::new(memory, store).run(entry, now).await
}

/// Everything a front end with a shared log and an atomic authority holds for one
/// issuer (the worker: the issuer's memory in this isolate, KV `REPLAY`, the Durable
/// Object shards). [`ReplayTiers::check`] decides which of them a mode uses.
pub struct ReplayTiers<'a, L, S> {
    /// The issuer's memory in this isolate.
    pub memory: &'a RefCell<ReplayMemory>,
    /// The shared log: the best-effort authority, or the strict mode's pre-filter.
    pub log: &'a L,
    /// The strict mode's atomic authority.
    pub atomic: &'a S,
}

impl<L: ReplayLog, S: ReplayStore> ReplayTiers<'_, L, S> {
    /// The replay check of `mode` for verified `claims`:
    ///
    /// - [`ReplayMode::Off`]: none (no `jti` required, no store asked);
    /// - [`ReplayMode::BestEffort`]: memory → the log as [`BestEffort`] authority;
    /// - [`ReplayMode::Strict`]: memory → the log as pre-filter when `kv_prefilter` →
    ///   the atomic authority → the log records the acceptance.
    pub async fn check(
        &self,
        mode: ReplayMode,
        kv_prefilter: bool,
        claims: &Claims,
        clock_skew: u64,
        now: i64,
    ) -> Result<(), Error> {
        match mode {
            ReplayMode::Off => Ok(()),
            ReplayMode::BestEffort => {
                let entry = replay_entry(claims, clock_skew)?;
                ReplayCheck::new(self.memory, &BestEffort(self.log))
                    .run(&entry, now)
                    .await
            }
            ReplayMode::Strict => {
                let entry = replay_entry(claims, clock_skew)?;
                ReplayCheck::new(self.memory, self.atomic)
                    .with_prefilter(kv_prefilter.then_some(self.log))
                    .run(&entry, now)
                    .await
            }
        }
    }
}

/// An authoritative in-memory store for one process, bounded in size: for a server
/// that is the only verifier of its tokens. (A front end with a shared store keeps a
/// [`ReplayMemory`] in front of it instead.)
///
/// The check and the insert happen in one synchronous step with no await between
/// them, so concurrent requests cannot both pass.
#[derive(Debug)]
pub struct MemoryReplayStore {
    memory: RefCell<ReplayMemory>,
}

impl MemoryReplayStore {
    /// A store holding at most `capacity` live entries. When it is full of unexpired
    /// entries it fails closed ([`Error::ReplayUnavailable`]) rather than forget one:
    /// nothing behind it would remember. Expired entries leave first, in O(log n) each.
    pub fn new(capacity: usize) -> Self {
        Self {
            memory: RefCell::new(ReplayMemory::new(capacity)),
        }
    }

    /// Live entries currently held.
    pub fn len(&self) -> usize {
        self.memory.borrow().len()
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `key` until `expires_at` if absent; synchronous, see the type docs.
    pub fn insert_now(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        self.memory
            .try_borrow_mut()
            .map_err(|_| Error::ReplayUnavailable)?
            .insert_bounded(key, expires_at, now)
    }
}

impl ReplayStore for MemoryReplayStore {
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        self.insert_now(key, expires_at, now)
    }
}
