//! Replay protection: a token's `jti` (RFC 7519 §4.1.7) may be accepted once until
//! it expires. Storage is a trait so each front end brings its own (KV, Durable
//! Objects); this module holds the policy and an in-memory store.

use core::cell::RefCell;
use std::collections::BTreeMap;

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

/// An in-memory store for one isolate or process, bounded in size.
///
/// The check and the insert happen in one synchronous step with no await between
/// them, so concurrent requests in one isolate cannot both pass.
#[derive(Debug)]
pub struct MemoryReplayStore {
    entries: RefCell<BTreeMap<String, i64>>,
    capacity: usize,
}

impl MemoryReplayStore {
    /// A store holding at most `capacity` live entries. When it is full of unexpired
    /// entries it fails closed ([`Error::ReplayUnavailable`]) rather than forget one.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: RefCell::new(BTreeMap::new()),
            capacity,
        }
    }

    /// Live entries currently held.
    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    /// Whether no entries are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records `key` until `expires_at` if absent; synchronous, see the type docs.
    pub fn insert_now(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        let mut entries = self
            .entries
            .try_borrow_mut()
            .map_err(|_| Error::ReplayUnavailable)?;
        if let Some(&until) = entries.get(key) {
            if until > now {
                return Ok(false);
            }
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, until| *until > now);
        }
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            return Err(Error::ReplayUnavailable);
        }
        entries.insert(key.to_owned(), expires_at);
        Ok(true)
    }
}

impl ReplayStore for MemoryReplayStore {
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        self.insert_now(key, expires_at, now)
    }
}
