//! Replay protection: a token's `jti` (RFC 7519 §4.1.7) may be accepted once until
//! it expires. Storage is a trait so each front end brings its own authority (KV,
//! Durable Objects); this module holds the policy, the bounded [`ReplayMemory`] a front
//! end keeps in front of its authority, and an in-memory authoritative store.

use core::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::claims::Claims;
use crate::error::Error;

/// Longest `jti` accepted when replay protection is on, in bytes.
pub const MAX_JTI_BYTES: usize = 256;

/// A store that remembers `jti`s until they expire.
///
/// Not `Send`: Workers types are not, and a store is used from one isolate.
#[allow(async_fn_in_trait)]
pub trait ReplayStore {
    /// Records `key` until `expires_at` (Unix seconds) if it is not already recorded.
    /// Returns `Ok(true)` when it was new, `Ok(false)` when it was already there, and
    /// an error when the store cannot answer (the caller then fails closed).
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error>;
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

/// What a replay store records for a token: its storage key and when the entry may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayEntry {
    /// [`replay_key`] of the token's `iss` and `jti`.
    pub key: String,
    /// `exp` plus the clock skew, in Unix seconds: after that the token is refused as
    /// expired anyway.
    pub expires_at: i64,
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

/// Refuses a token whose `jti` was already seen; records it otherwise.
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

/// Most reservations one [`ReplayMemory`] holds at once, i.e. requests of one issuer
/// waiting on the store in one isolate. Past it, a request asks the store unreserved.
pub const MAX_PENDING: usize = 10_000;

/// How a memory holds a key: SHA-256 of the storage key, 32 bytes without a heap
/// allocation, whatever the key's form.
type Slot = [u8; 32];

fn slot(key: &str) -> Slot {
    Sha256::digest(key.as_bytes()).into()
}

/// What [`ReplayMemory::reserve`] decided for a key it did not refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Reservation {
    /// Reserved as pending: ask the store, then [`ReplayMemory::settle`] (or
    /// [`ReplayMemory::release`]).
    Reserved,
    /// [`MAX_PENDING`] reservations are in flight: ask the store without one. The
    /// store alone then stands between two concurrent requests with this key.
    Unreserved,
}

/// A bounded memory of `jti`s the authoritative store has answered for, kept by a front
/// end (one per issuer per isolate) in front of that store. It is a fast path and the
/// guard between concurrent requests in one isolate, never the authority:
///
/// - [`reserve`](Self::reserve) is synchronous: a key is checked and reserved as
///   pending with no await between, so two requests in one isolate cannot both pass.
///   A key that is remembered or pending is refused as replayed.
/// - Only what the store answered is remembered ([`settle`](Self::settle)); a store
///   failure releases the reservation, so the client's retry is asked of the store
///   again instead of being refused as replayed.
/// - Entries leave at their expiry, found through an index by expiry (O(log n) each),
///   and when the memory is full the entry closest to its expiry is forgotten: the
///   store still holds it and still refuses it. Full never means refusing.
#[derive(Debug, Default)]
pub struct ReplayMemory {
    capacity: usize,
    /// Remembered keys → the end of their entry (Unix seconds).
    until: BTreeMap<Slot, i64>,
    /// The same entries ordered by their end, for eviction.
    by_expiry: BTreeSet<(i64, Slot)>,
    /// Keys whose store call is in flight.
    pending: BTreeSet<Slot>,
}

impl ReplayMemory {
    /// A memory of at most `capacity` entries (0: remember nothing, every request asks
    /// the store; reservations still guard concurrent requests).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ..Self::default()
        }
    }

    /// The most entries it remembers.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Entries remembered (some may have expired since the last call that took `now`).
    pub fn len(&self) -> usize {
        self.until.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.until.is_empty()
    }

    /// Reservations in flight.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Whether `key` is remembered and its entry has not ended at `now`.
    pub fn contains(&self, key: &str, now: i64) -> bool {
        self.until.get(&slot(key)).is_some_and(|until| *until > now)
    }

    /// The synchronous first step: [`Error::TokenReplayed`] when `key` is remembered
    /// or pending, otherwise a [`Reservation`]. A concurrent duplicate is refused while
    /// the first request waits on the store: at most one of them may be accepted, and
    /// the first may be; if the first fails, the key is free again for a retry.
    pub fn reserve(&mut self, key: &str, now: i64) -> Result<Reservation, Error> {
        self.expire(now);
        let slot = slot(key);
        if self.until.contains_key(&slot) || self.pending.contains(&slot) {
            return Err(Error::TokenReplayed);
        }
        if self.pending.len() >= MAX_PENDING {
            return Ok(Reservation::Unreserved);
        }
        self.pending.insert(slot);
        Ok(Reservation::Reserved)
    }

    /// The store's answer for `key`: accepted (`Ok(true)`) or already there
    /// (`Ok(false)`) is remembered until `expires_at`; a failure (`Err`) is not, and
    /// only releases the reservation.
    pub fn settle(&mut self, key: &str, expires_at: i64, now: i64, answer: &Result<bool, Error>) {
        let slot = slot(key);
        self.pending.remove(&slot);
        if answer.is_ok() {
            self.remember(slot, expires_at, now);
        }
    }

    /// Drops the reservation of `key` without remembering it.
    pub fn release(&mut self, key: &str) {
        self.pending.remove(&slot(key));
    }

    /// Forgets entries whose end has come.
    fn expire(&mut self, now: i64) {
        while let Some(&(until, slot)) = self.by_expiry.first() {
            if until > now {
                break;
            }
            self.by_expiry.pop_first();
            self.until.remove(&slot);
        }
    }

    fn remember(&mut self, slot: Slot, expires_at: i64, now: i64) {
        self.expire(now);
        if expires_at <= now || self.capacity == 0 {
            return;
        }
        if let Some(&until) = self.until.get(&slot) {
            if until >= expires_at {
                return;
            }
            self.by_expiry.remove(&(until, slot));
        } else if self.until.len() >= self.capacity {
            // Full: the entry closest to its end goes (the store still holds it), unless
            // the new one would be that entry.
            match self.by_expiry.first() {
                Some(&(soonest, _)) if soonest < expires_at => {
                    if let Some((_, gone)) = self.by_expiry.pop_first() {
                        self.until.remove(&gone);
                    }
                }
                _ => return,
            }
        }
        self.until.insert(slot, expires_at);
        self.by_expiry.insert((expires_at, slot));
    }

    /// As an authority: records `key` if absent and there is room, refuses when full.
    fn insert_bounded(&mut self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        self.expire(now);
        let slot = slot(key);
        if self.until.contains_key(&slot) {
            return Ok(false);
        }
        if self.until.len() >= self.capacity {
            return Err(Error::ReplayUnavailable);
        }
        self.until.insert(slot, expires_at);
        self.by_expiry.insert((expires_at, slot));
        Ok(true)
    }
}

/// A reservation held across the store's await; released if dropped unsettled (an
/// error path, a cancelled request), so a key is never left pending.
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

/// One replay check in two tiers: `memory` (synchronous, see [`ReplayMemory`]), then
/// `store`, the authority. `Ok` only when the store accepted the entry; the store's
/// failure is returned as is (the caller fails closed) and leaves nothing behind.
pub async fn check_replay_entry<S: ReplayStore>(
    memory: &RefCell<ReplayMemory>,
    store: &S,
    entry: &ReplayEntry,
    now: i64,
) -> Result<(), Error> {
    let reservation = memory
        .try_borrow_mut()
        .map_err(|_| Error::ReplayUnavailable)?
        .reserve(&entry.key, now)?;
    let pending = Pending {
        memory,
        key: &entry.key,
        reserved: reservation == Reservation::Reserved,
    };
    let answer = store
        .insert_if_absent(&entry.key, entry.expires_at, now)
        .await;
    pending.settle(entry.expires_at, now, &answer);
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::TokenReplayed),
        Err(err) => Err(err),
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
