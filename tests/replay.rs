//! Replay policy: `jti` required, one acceptance per (iss, jti) until exp + skew.

mod common;

use common::{claims, hs256, hs_header, hs_verifier, NOW};
use jwt_edge::internals::replay_key;
use jwt_edge::{check_replay, Claims, ClaimsPolicy, Error, MemoryReplayStore};
use pollster::block_on;
use serde_json::{json, Value};

fn verified(patch: Value) -> Claims {
    let mut c = claims();
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    hs_verifier(ClaimsPolicy::default())
        .verify(&hs256(&hs_header(), &c), NOW)
        .unwrap()
        .claims
}

#[test]
fn a_jti_is_accepted_once() {
    let store = MemoryReplayStore::new(100);
    let c = verified(json!({}));
    assert_eq!(block_on(check_replay(&store, &c, NOW, 60)), Ok(()));
    assert_eq!(
        block_on(check_replay(&store, &c, NOW, 60)),
        Err(Error::TokenReplayed)
    );
    assert_eq!(
        block_on(check_replay(&store, &c, NOW + 299, 60)),
        Err(Error::TokenReplayed)
    );
    // The same jti from another issuer is another token.
    let other = verified(json!({"iss": "https://other.example"}));
    assert_eq!(block_on(check_replay(&store, &other, NOW, 60)), Ok(()));
    assert_eq!(store.len(), 2);
}

#[test]
fn entries_live_until_exp_plus_skew() {
    let store = MemoryReplayStore::new(100);
    let c = verified(json!({"exp": NOW + 100}));
    block_on(check_replay(&store, &c, NOW, 60)).unwrap();
    assert_eq!(
        block_on(check_replay(&store, &c, NOW + 159, 60)),
        Err(Error::TokenReplayed)
    );
    // At exp + skew the entry has lapsed (and the claims check refuses the token anyway).
    assert_eq!(block_on(check_replay(&store, &c, NOW + 160, 60)), Ok(()));
}

#[test]
fn jti_and_exp_are_required() {
    let store = MemoryReplayStore::new(100);
    assert_eq!(
        block_on(check_replay(
            &store,
            &verified(json!({"jti": null})),
            NOW,
            60
        )),
        Err(Error::ClaimMissing("jti"))
    );
    assert_eq!(
        block_on(check_replay(&store, &verified(json!({"jti": ""})), NOW, 60)),
        Err(Error::ClaimInvalid("jti"))
    );
    assert_eq!(
        block_on(check_replay(
            &store,
            &verified(json!({"jti": "j".repeat(257)})),
            NOW,
            60
        )),
        Err(Error::ClaimInvalid("jti"))
    );
    let no_exp = ClaimsPolicy {
        require_exp: false,
        ..ClaimsPolicy::default()
    };
    let mut c = claims();
    c.as_object_mut().unwrap().remove("exp");
    let c = hs_verifier(no_exp)
        .verify(&hs256(&hs_header(), &c), NOW)
        .unwrap()
        .claims;
    assert_eq!(
        block_on(check_replay(&store, &c, NOW, 60)),
        Err(Error::ClaimMissing("exp"))
    );
    assert!(store.is_empty());
}

#[test]
fn a_full_store_fails_closed_and_reclaims_expired_entries() {
    let store = MemoryReplayStore::new(2);
    for jti in ["a", "b"] {
        block_on(check_replay(
            &store,
            &verified(json!({"jti": jti, "exp": NOW + 10})),
            NOW,
            0,
        ))
        .unwrap();
    }
    let c = verified(json!({"jti": "c", "exp": NOW + 10}));
    assert_eq!(
        block_on(check_replay(&store, &c, NOW, 0)),
        Err(Error::ReplayUnavailable)
    );
    // Once the others expire, their room is reused.
    assert_eq!(block_on(check_replay(&store, &c, NOW + 11, 0)), Ok(()));
    assert_eq!(store.len(), 1);
}

#[test]
fn storage_keys_hide_the_values_and_do_not_collide() {
    let k = replay_key(Some("https://issuer.example"), "secret-jti");
    assert_eq!(k.len(), 64);
    assert!(!k.contains("secret") && !k.contains("issuer"));
    assert_ne!(replay_key(Some("ab"), "c"), replay_key(Some("a"), "bc"));
    assert_eq!(replay_key(None, "x"), replay_key(Some(""), "x"));
}

// ------------------------------------------------------------------ memory before a store

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use jwt_edge::internals::{check_replay_entry, ReplayEntry, ReplayMemory, Reservation};
use jwt_edge::ReplayStore;

fn entry(jti: &str, expires_at: i64) -> ReplayEntry {
    ReplayEntry {
        key: replay_key(Some("https://issuer.example"), jti),
        expires_at,
    }
}

/// An authoritative store for the tests: counts its calls, fails the next `fail` ones,
/// and, while `gate` is closed, keeps callers waiting (a store call in flight).
#[derive(Default)]
struct Authority {
    entries: RefCell<BTreeMap<String, i64>>,
    calls: Cell<u32>,
    fail: Cell<u32>,
    gate_closed: Cell<bool>,
}

struct Gate<'a>(&'a Cell<bool>);

impl Future for Gate<'_> {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0.get() {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

impl ReplayStore for Authority {
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        self.calls.set(self.calls.get() + 1);
        Gate(&self.gate_closed).await;
        if self.fail.get() > 0 {
            self.fail.set(self.fail.get() - 1);
            return Err(Error::ReplayUnavailable);
        }
        let mut entries = self.entries.borrow_mut();
        if entries.get(key).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        entries.insert(key.to_owned(), expires_at);
        Ok(true)
    }
}

fn check(
    memory: &RefCell<ReplayMemory>,
    store: &Authority,
    e: &ReplayEntry,
    now: i64,
) -> Result<(), Error> {
    block_on(check_replay_entry(memory, store, e, now))
}

#[test]
fn memory_reserves_synchronously_and_remembers_only_what_the_store_answered() {
    let mut m = ReplayMemory::new(10);
    let e = entry("a", NOW + 100);
    assert_eq!(m.reserve(&e.key, NOW), Ok(Reservation::Reserved));
    // A concurrent duplicate while the first waits on the store: refused as replayed.
    assert_eq!(m.reserve(&e.key, NOW), Err(Error::TokenReplayed));
    // The store fails: nothing remembered, the reservation is gone.
    m.settle(&e.key, e.expires_at, NOW, &Err(Error::ReplayUnavailable));
    assert_eq!((m.len(), m.pending()), (0, 0));
    // The client's retry is reserved again, then the store accepts.
    assert_eq!(m.reserve(&e.key, NOW + 1), Ok(Reservation::Reserved));
    m.settle(&e.key, e.expires_at, NOW + 1, &Ok(true));
    assert_eq!((m.len(), m.pending()), (1, 0));
    assert!(m.contains(&e.key, NOW + 1));
    assert_eq!(m.reserve(&e.key, NOW + 2), Err(Error::TokenReplayed));
    // A key the store already had is remembered too.
    let b = entry("b", NOW + 100);
    assert_eq!(m.reserve(&b.key, NOW), Ok(Reservation::Reserved));
    m.settle(&b.key, b.expires_at, NOW, &Ok(false));
    assert_eq!(m.reserve(&b.key, NOW), Err(Error::TokenReplayed));
    // A released reservation is free again.
    let c = entry("c", NOW + 100);
    assert_eq!(m.reserve(&c.key, NOW), Ok(Reservation::Reserved));
    m.release(&c.key);
    assert_eq!(m.reserve(&c.key, NOW), Ok(Reservation::Reserved));
}

#[test]
fn memory_entries_leave_at_their_expiry() {
    let mut m = ReplayMemory::new(10);
    for (jti, until) in [("a", NOW + 5), ("b", NOW + 10), ("c", NOW + 10)] {
        let e = entry(jti, until);
        assert_eq!(m.reserve(&e.key, NOW), Ok(Reservation::Reserved));
        m.settle(&e.key, e.expires_at, NOW, &Ok(true));
    }
    assert_eq!(m.len(), 3);
    let probe = entry("probe", NOW + 60);
    assert_eq!(m.reserve(&probe.key, NOW + 4), Ok(Reservation::Reserved));
    m.release(&probe.key);
    assert_eq!(m.len(), 3);
    // At its end an entry leaves (on the next call that takes the clock).
    assert_eq!(
        m.reserve(&entry("a", 0).key, NOW + 5),
        Ok(Reservation::Reserved)
    );
    assert_eq!(m.len(), 2);
    assert_eq!(m.reserve(&probe.key, NOW + 10), Ok(Reservation::Reserved));
    assert_eq!(m.len(), 0);
    // An entry already over is not remembered at all.
    let late = entry("late", NOW + 10);
    m.settle(&late.key, late.expires_at, NOW + 10, &Ok(true));
    assert_eq!(m.len(), 0);
}

#[test]
fn a_full_memory_forgets_the_entry_closest_to_expiry_and_never_refuses() {
    let mut m = ReplayMemory::new(2);
    let (a, b, c) = (
        entry("a", NOW + 10),
        entry("b", NOW + 30),
        entry("c", NOW + 20),
    );
    for e in [&a, &b, &c] {
        assert_eq!(
            m.reserve(&e.key, NOW),
            Ok(Reservation::Reserved),
            "full never refuses"
        );
        m.settle(&e.key, e.expires_at, NOW, &Ok(true));
    }
    assert_eq!(m.len(), 2);
    assert!(
        !m.contains(&a.key, NOW),
        "the entry closest to its end went"
    );
    assert!(m.contains(&b.key, NOW) && m.contains(&c.key, NOW));
    // A new entry that would end first is the one not kept.
    let d = entry("d", NOW + 15);
    assert_eq!(m.reserve(&d.key, NOW), Ok(Reservation::Reserved));
    m.settle(&d.key, d.expires_at, NOW, &Ok(true));
    assert!(!m.contains(&d.key, NOW) && m.contains(&c.key, NOW));
    // Capacity 0 remembers nothing, and still reserves.
    let mut none = ReplayMemory::new(0);
    assert_eq!(none.reserve(&a.key, NOW), Ok(Reservation::Reserved));
    assert_eq!(none.reserve(&a.key, NOW), Err(Error::TokenReplayed));
    none.settle(&a.key, a.expires_at, NOW, &Ok(true));
    assert_eq!((none.len(), none.pending()), (0, 0));
}

#[test]
fn a_store_failure_leaves_the_jti_unused_for_the_retry() {
    let memory = RefCell::new(ReplayMemory::new(10));
    let store = Authority::default();
    let e = entry("retry", NOW + 300);
    store.fail.set(1);
    assert_eq!(
        check(&memory, &store, &e, NOW),
        Err(Error::ReplayUnavailable)
    );
    assert_eq!(
        check(&memory, &store, &e, NOW + 1),
        Ok(()),
        "the retry after a 503"
    );
    assert_eq!(
        check(&memory, &store, &e, NOW + 2),
        Err(Error::TokenReplayed)
    );
    // The third use was refused by memory, without asking the store.
    assert_eq!(store.calls.get(), 2);
    assert_eq!(memory.borrow().pending(), 0);
}

#[test]
fn a_full_memory_falls_through_to_the_store() {
    let memory = RefCell::new(ReplayMemory::new(3));
    let store = Authority::default();
    let tokens: Vec<ReplayEntry> = (0..10)
        .map(|i| entry(&format!("t{i}"), NOW + 100 + i))
        .collect();
    for e in &tokens {
        assert_eq!(
            check(&memory, &store, e, NOW),
            Ok(()),
            "fresh tokens pass a full memory"
        );
    }
    assert_eq!(memory.borrow().len(), 3);
    // t0 fell out of memory: the store refuses it.
    let calls = store.calls.get();
    assert_eq!(
        check(&memory, &store, &tokens[0], NOW + 1),
        Err(Error::TokenReplayed)
    );
    assert_eq!(store.calls.get(), calls + 1, "asked the store");
    // t9 (latest to expire) is still in memory: refused without asking.
    assert_eq!(
        check(&memory, &store, &tokens[9], NOW + 1),
        Err(Error::TokenReplayed)
    );
    assert_eq!(store.calls.get(), calls + 1, "answered from memory");
}

#[test]
fn a_concurrent_duplicate_is_refused_while_the_first_is_pending() {
    let memory = RefCell::new(ReplayMemory::new(10));
    let store = Authority::default();
    let e = entry("concurrent", NOW + 300);
    let mut cx = Context::from_waker(Waker::noop());

    // The first request waits on the store.
    store.gate_closed.set(true);
    let mut first = pin!(check_replay_entry(&memory, &store, &e, NOW));
    assert!(first.as_mut().poll(&mut cx).is_pending());
    assert_eq!(memory.borrow().pending(), 1);
    // The duplicate is refused at once (on its first poll: a duplicate that waited on
    // the store would hang a blocking check), without asking the store.
    assert_eq!(
        pin!(check_replay_entry(&memory, &store, &e, NOW)).poll(&mut cx),
        Poll::Ready(Err(Error::TokenReplayed))
    );
    assert_eq!(store.calls.get(), 1);
    // The first one's store call fails: the key is free again for a retry.
    store.fail.set(1);
    store.gate_closed.set(false);
    assert_eq!(
        first.as_mut().poll(&mut cx),
        Poll::Ready(Err(Error::ReplayUnavailable))
    );
    assert_eq!(check(&memory, &store, &e, NOW), Ok(()));

    // A request dropped while waiting (cancelled) leaves no reservation behind.
    let f = entry("dropped", NOW + 300);
    store.gate_closed.set(true);
    {
        let mut dropped = Box::pin(check_replay_entry(&memory, &store, &f, NOW));
        assert!(dropped.as_mut().poll(&mut cx).is_pending());
        assert_eq!(memory.borrow().pending(), 1);
    }
    assert_eq!(memory.borrow().pending(), 0);
    store.gate_closed.set(false);
    assert_eq!(check(&memory, &store, &f, NOW), Ok(()));
}

#[test]
fn memories_are_independent() {
    // The worker keeps one memory per issuer: filling one leaves the other untouched.
    let a = RefCell::new(ReplayMemory::new(2));
    let b = RefCell::new(ReplayMemory::new(2));
    let store = Authority::default();
    for i in 0..5 {
        check(&a, &store, &entry(&format!("a{i}"), NOW + 100 + i), NOW).unwrap();
    }
    let fresh = entry("b0", NOW + 100);
    assert_eq!(check(&b, &store, &fresh, NOW), Ok(()));
    assert!(b.borrow().contains(&fresh.key, NOW));
}

/// The KV entry both front ends write (worker `REPLAY`, npm `ReplayGuard`): one key
/// format and a TTL until the entry expires, never under KV's 60 s minimum.
#[test]
fn kv_entries_share_one_format() {
    use jwt_edge::internals::{replay_kv_key, replay_kv_ttl, KV_MIN_TTL};
    assert_eq!(replay_kv_key("abc"), "jti:v1:abc");
    assert_eq!(replay_kv_ttl(1_000_360, 1_000_000), 360);
    assert_eq!(replay_kv_ttl(1_000_010, 1_000_000), KV_MIN_TTL as u64);
    assert_eq!(replay_kv_ttl(999_000, 1_000_000), KV_MIN_TTL as u64);
}
