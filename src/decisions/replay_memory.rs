//! The bounded memory of replay protection: [`ReplayMemory`], which a front end keeps in
//! front of its authoritative store (one per issuer per isolate), and which
//! [`crate::decisions::replay::MemoryReplayStore`] uses as a process's own authority. When a check
//! consults it, and what it learns, is [`crate::decisions::replay::ReplayCheck`]'s decision.

use std::collections::{BTreeMap, BTreeSet};

use sha2::{Digest, Sha256};

use crate::error::Error;

/// Most reservations one [`ReplayMemory`] holds at once, i.e. requests of one issuer
/// waiting on the store in one isolate. Past it, a request asks the store unreserved.
pub const MAX_PENDING: usize = 10_000;

/// Accepted `jti`s a memory holds by default (about 13 MB when full, about 130 B each):
/// the worker's `replay_memory` and the npm `ReplayGuard`'s `memory`.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// The largest capacity a front end may configure: about 65 MB of an isolate's 128 MB.
pub const MAX_CAPACITY: usize = 500_000;

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
    pub(crate) fn insert_bounded(
        &mut self,
        key: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, Error> {
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
