//! Tokens that verified, remembered until they expire (Envoy's `jwt_cache_config`),
//! so a client that sends the same token again costs a hash and the time checks, not a
//! signature verification.
//!
//! Each [`crate::Verifier`] owns one cache, so an entry can only be found through the
//! key set and options that verified it: a new key set is a new verifier with an empty
//! cache. An entry is found by SHA-256 of the token's exact text, so a token that
//! differs in any byte (a forged signature, an altered claim) never finds another's
//! entry. Only tokens that passed every check are remembered; on a hit the caller reads
//! the header and claims again from the token's text and checks the claims policy at its
//! clock: only the signature check is skipped. Neither the token nor its claims are kept.

use std::collections::{BTreeMap, VecDeque};

use sha2::{Digest, Sha256};

use crate::algorithms::alg::Algorithm;

/// Entries a cache holds by default (the worker's `token_cache_entries`, the npm
/// `tokenCacheEntries`). An entry holds a digest, the algorithm and the `kid`, never the
/// claims (measured in wasm memory per entry: `tests/npm/token-cache.test.mjs`).
pub const DEFAULT_TOKEN_CACHE_ENTRIES: usize = 1_000;

/// The largest capacity a front end may configure (the policy checks it).
pub const MAX_TOKEN_CACHE_ENTRIES: usize = 100_000;

/// SHA-256 of a token's exact text: how the cache knows it.
pub(crate) type TokenDigest = [u8; 32];

pub(crate) fn token_digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// What a verification found that the token's text does not say: the algorithm and key
/// that verified it. The header and claims are read again from the text on a hit, so an
/// entry holds no claim and no copy of the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedBy {
    pub(crate) algorithm: Algorithm,
    pub(crate) key_id: Option<String>,
}

#[derive(Debug)]
struct Entry {
    by: VerifiedBy,
    /// Unix seconds from which the entry is useless: `exp` plus the clock skew, when
    /// the time checks would refuse the token whatever else holds.
    until: i64,
    /// Which insertion this is, so that a stale line of `order` is recognised.
    serial: u64,
}

/// What the cache did for one verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCacheUse {
    /// The verifier has no cache (`token_cache_entries` 0).
    Off,
    /// The token was found: its signature was not verified again.
    Hit,
    /// The token was not found: it was verified in full.
    Miss,
}

impl TokenCacheUse {
    /// The name logs give it: `off`, `hit`, `miss`.
    pub fn name(self) -> &'static str {
        match self {
            TokenCacheUse::Off => "off",
            TokenCacheUse::Hit => "hit",
            TokenCacheUse::Miss => "miss",
        }
    }
}

/// Hits and misses since the cache was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCacheStats {
    /// Lookups that found an entry.
    pub hits: u64,
    /// Lookups that found none (or an expired one).
    pub misses: u64,
    /// Entries held now.
    pub entries: usize,
}

/// A bounded map from token digest to verified token. Full, it first drops what has
/// expired, then the oldest insertions.
#[derive(Debug)]
pub struct TokenCache {
    capacity: usize,
    entries: BTreeMap<TokenDigest, Entry>,
    /// Insertion order, oldest first; lines whose serial no longer matches are stale.
    order: VecDeque<(TokenDigest, u64)>,
    serial: u64,
    /// When expired entries were last dropped: within the same second nothing more can
    /// have expired, so a full cache under a stream of new tokens sweeps at most once a
    /// second instead of at every insertion (measured: 118 µs per request in workerd with
    /// 1 000 entries, `bench/worker-profile.mjs`, before this).
    swept_at: Option<i64>,
    hits: u64,
    misses: u64,
}

impl TokenCache {
    /// A cache of at most `capacity` entries; `0` remembers nothing.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: BTreeMap::new(),
            order: VecDeque::new(),
            serial: 0,
            swept_at: None,
            hits: 0,
            misses: 0,
        }
    }

    /// What verified the token remembered under `digest`, unless it expired by `now`
    /// (then it is forgotten).
    pub(crate) fn get(&mut self, digest: &TokenDigest, now: i64) -> Option<VerifiedBy> {
        let found = match self.entries.get(digest) {
            Some(entry) if now < entry.until => Some(entry.by.clone()),
            Some(_) => {
                self.entries.remove(digest);
                None
            }
            None => None,
        };
        match found {
            Some(_) => self.hits = self.hits.saturating_add(1),
            None => self.misses = self.misses.saturating_add(1),
        }
        found
    }

    /// Forgets `digest` (a hit the time checks refused).
    pub(crate) fn remove(&mut self, digest: &TokenDigest) {
        self.entries.remove(digest);
    }

    /// Remembers `by` under `digest` until `until` (exclusive). Nothing is kept
    /// when the cache is off or the entry would already be useless at `now`.
    pub(crate) fn insert(&mut self, digest: TokenDigest, by: VerifiedBy, until: i64, now: i64) {
        if self.capacity == 0 || until <= now {
            return;
        }
        if !self.entries.contains_key(&digest) && self.entries.len() >= self.capacity {
            if self.swept_at != Some(now) {
                self.entries.retain(|_, entry| now < entry.until);
                self.swept_at = Some(now);
            }
            while self.entries.len() >= self.capacity {
                let Some((oldest, serial)) = self.order.pop_front() else {
                    break;
                };
                if self
                    .entries
                    .get(&oldest)
                    .is_some_and(|e| e.serial == serial)
                {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.serial = self.serial.wrapping_add(1);
        let serial = self.serial;
        self.entries.insert(digest, Entry { by, until, serial });
        self.order.push_back((digest, serial));
        // Lines of forgotten or re-inserted entries: keep `order` within twice the capacity.
        if self.order.len() > self.capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order
                .retain(|(d, s)| entries.get(d).is_some_and(|e| e.serial == *s));
        }
    }

    /// Hits, misses and entries.
    pub fn stats(&self) -> TokenCacheStats {
        TokenCacheStats {
            hits: self.hits,
            misses: self.misses,
            entries: self.entries.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(n: u32) -> VerifiedBy {
        VerifiedBy {
            algorithm: Algorithm::Es256,
            key_id: Some(format!("k{n}")),
        }
    }

    fn digest(n: u32) -> TokenDigest {
        token_digest(&n.to_string())
    }

    #[test]
    fn a_hit_until_the_end_then_forgotten() {
        let mut cache = TokenCache::new(4);
        cache.insert(digest(1), token(1), 100, 0);
        assert_eq!(cache.get(&digest(1), 99), Some(token(1)));
        assert_eq!(cache.get(&digest(2), 99), None);
        assert_eq!(cache.get(&digest(1), 100), None);
        assert_eq!(
            cache.stats(),
            TokenCacheStats {
                hits: 1,
                misses: 2,
                entries: 0
            }
        );
    }

    #[test]
    fn full_drops_expired_first_then_oldest() {
        let mut cache = TokenCache::new(3);
        cache.insert(digest(1), token(1), 1_000, 0);
        cache.insert(digest(2), token(2), 10, 0);
        cache.insert(digest(3), token(3), 1_000, 0);
        cache.insert(digest(4), token(4), 1_000, 20);
        assert!(
            cache.get(&digest(1), 20).is_some(),
            "the expired one went, not the oldest"
        );
        assert!(cache.get(&digest(2), 5).is_none());
        cache.insert(digest(5), token(5), 1_000, 20);
        assert!(cache.get(&digest(1), 20).is_none(), "then the oldest");
        for n in [3, 4, 5] {
            assert!(cache.get(&digest(n), 20).is_some(), "{n}");
        }
        assert_eq!(cache.stats().entries, 3);
    }

    #[test]
    fn a_full_cache_sweeps_expired_entries_when_the_second_changes() {
        let mut cache = TokenCache::new(3);
        for n in 1..=3 {
            cache.insert(digest(n), token(n), 1_000, 0);
        }
        // Same second, nothing expired: each new token pushes out the oldest.
        cache.insert(digest(4), token(4), 1_000, 20);
        cache.insert(digest(5), token(5), 25, 20);
        assert!(cache.get(&digest(1), 20).is_none() && cache.get(&digest(2), 20).is_none());
        // Later, the entry that expired goes before the oldest one.
        cache.insert(digest(6), token(6), 1_000, 30);
        for n in [3, 4, 6] {
            assert!(cache.get(&digest(n), 30).is_some(), "{n}");
        }
        assert!(
            cache.get(&digest(5), 24).is_none(),
            "5 expired at 25 and was dropped"
        );
        assert_eq!(cache.stats().entries, 3);
    }

    #[test]
    fn bounded_however_many_insertions() {
        let mut cache = TokenCache::new(8);
        for n in 0..10_000 {
            cache.insert(digest(n % 13), token(n), 1_000, 0);
            assert!(cache.entries.len() <= 8);
            assert!(cache.order.len() <= 16 + 1);
        }
    }

    #[test]
    fn off_or_useless_keeps_nothing() {
        let mut off = TokenCache::new(0);
        off.insert(digest(1), token(1), 100, 0);
        assert_eq!(off.stats().entries, 0);
        let mut on = TokenCache::new(2);
        on.insert(digest(1), token(1), 50, 50);
        assert_eq!(on.stats().entries, 0);
    }
}
