//! The worker's replay checks, natively: the same core driver the worker runs
//! ([`ReplayTiers::check`]), with fakes of its I/O in place of KV `REPLAY` (a
//! [`ReplayLog`]) and the Durable Object shards (a [`ReplayStore`]). Each fake writes
//! what it was asked to one event list, so the tests see the order of the steps:
//! memory → pre-filter → authority → memory learns → pre-filter learns.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use common::{claims, hs256, hs_header, hs_verifier, NOW};
use jwt_edge::internals::{
    replay_entry, replay_key, replay_shard, Lookup, ReplayLog, ReplayMemory, ReplayMode,
    ReplayTiers,
};
use jwt_edge::{Claims, ClaimsPolicy, Error, ReplayStore};
use pollster::block_on;
use serde_json::{json, Value};

const SKEW: u64 = 60;
type Events = Rc<RefCell<Vec<&'static str>>>;

/// Keeps its caller waiting while the gate is closed (a store call in flight).
struct Gate<'a>(&'a Cell<bool>);

impl Future for Gate<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if self.0.get() {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// KV `REPLAY` as the worker sees it: unbound, failing reads or failing writes on demand.
#[derive(Default)]
struct FakeKv {
    events: Events,
    entries: RefCell<BTreeMap<String, i64>>,
    unbound: Cell<bool>,
    fail_reads: Cell<bool>,
    fail_writes: Cell<bool>,
    gate_closed: Cell<bool>,
}

impl ReplayLog for FakeKv {
    async fn seen(&self, key: &str) -> Result<Lookup, Error> {
        self.events.borrow_mut().push("kv.seen");
        Gate(&self.gate_closed).await;
        if self.unbound.get() {
            return Err(Error::ReplayUnavailable);
        }
        if self.fail_reads.get() {
            return Ok(Lookup::Unknown);
        }
        Ok(if self.entries.borrow().contains_key(key) {
            Lookup::Seen
        } else {
            Lookup::Unseen
        })
    }

    async fn record(&self, key: &str, expires_at: i64, _now: i64) -> Result<(), Error> {
        self.events.borrow_mut().push("kv.record");
        if self.unbound.get() || self.fail_writes.get() {
            return Err(Error::ReplayUnavailable);
        }
        self.entries.borrow_mut().insert(key.to_owned(), expires_at);
        Ok(())
    }
}

/// The Durable Object shards: atomic insert-if-absent; fails the next `fail` calls;
/// slow while `gate_closed`.
#[derive(Default)]
struct FakeShards {
    events: Events,
    entries: RefCell<BTreeMap<String, i64>>,
    fail: Cell<u32>,
    gate_closed: Cell<bool>,
}

impl ReplayStore for FakeShards {
    async fn insert_if_absent(&self, key: &str, expires_at: i64, now: i64) -> Result<bool, Error> {
        self.events.borrow_mut().push("do.claim");
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

/// One worker: the isolate memory of an issuer, over KV and the objects shared by all.
struct Isolate<'a> {
    memory: RefCell<ReplayMemory>,
    kv: &'a FakeKv,
    shards: &'a FakeShards,
}

impl<'a> Isolate<'a> {
    fn new(capacity: usize, kv: &'a FakeKv, shards: &'a FakeShards) -> Self {
        Self {
            memory: RefCell::new(ReplayMemory::new(capacity)),
            kv,
            shards,
        }
    }

    fn tiers(&self) -> ReplayTiers<'_, FakeKv, FakeShards> {
        ReplayTiers {
            memory: &self.memory,
            log: self.kv,
            atomic: self.shards,
        }
    }

    fn check(&self, mode: ReplayMode, prefilter: bool, c: &Claims, now: i64) -> Result<(), Error> {
        block_on(self.tiers().check(mode, prefilter, c, SKEW, now))
    }
}

/// Shared KV and objects with one event list.
fn backends() -> (Events, FakeKv, FakeShards) {
    let events = Events::default();
    let kv = FakeKv {
        events: Rc::clone(&events),
        ..FakeKv::default()
    };
    let shards = FakeShards {
        events: Rc::clone(&events),
        ..FakeShards::default()
    };
    (events, kv, shards)
}

fn take(events: &Events) -> Vec<&'static str> {
    std::mem::take(&mut *events.borrow_mut())
}

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

fn token(jti: &str) -> Claims {
    verified(json!({ "jti": jti }))
}

const BEST: ReplayMode = ReplayMode::BestEffort;
const STRICT: ReplayMode = ReplayMode::Strict;

#[test]
fn off_asks_nothing_and_needs_no_jti() {
    let (events, kv, shards) = backends();
    let w = Isolate::new(10, &kv, &shards);
    let c = verified(json!({ "jti": null }));
    for _ in 0..2 {
        assert_eq!(w.check(ReplayMode::Off, true, &c, NOW), Ok(()));
    }
    assert!(take(&events).is_empty());
    assert_eq!(w.memory.borrow().len(), 0);
}

#[test]
fn every_mode_on_requires_a_jti_before_asking_a_store() {
    let (events, kv, shards) = backends();
    let w = Isolate::new(10, &kv, &shards);
    for mode in [BEST, STRICT] {
        assert_eq!(
            w.check(mode, true, &verified(json!({ "jti": null })), NOW),
            Err(Error::ClaimMissing("jti"))
        );
        assert_eq!(
            w.check(mode, true, &token(&"j".repeat(257)), NOW),
            Err(Error::ClaimInvalid("jti"))
        );
    }
    assert!(take(&events).is_empty());
}

// ------------------------------------------------------------------ best effort (KV)

#[test]
fn best_effort_reads_kv_then_records_then_answers_from_memory() {
    let (events, kv, shards) = backends();
    let a = Isolate::new(10, &kv, &shards);
    let c = token("be-1");
    assert_eq!(a.check(BEST, false, &c, NOW), Ok(()));
    assert_eq!(take(&events), ["kv.seen", "kv.record"]);
    let entry = replay_entry(&c, SKEW).unwrap();
    assert_eq!(kv.entries.borrow().get(&entry.key), Some(&(NOW + 300 + 60)));
    // The isolate remembers it: refused without a KV read.
    assert_eq!(a.check(BEST, false, &c, NOW + 1), Err(Error::TokenReplayed));
    assert!(take(&events).is_empty());
    // Another isolate on the same KV: KV refuses it, and it remembers KV's answer.
    let b = Isolate::new(10, &kv, &shards);
    assert_eq!(b.check(BEST, false, &c, NOW + 1), Err(Error::TokenReplayed));
    assert_eq!(take(&events), ["kv.seen"]);
    assert_eq!(b.check(BEST, false, &c, NOW + 2), Err(Error::TokenReplayed));
    assert!(take(&events).is_empty());
    // The objects are never asked in this mode, pre-filter flag or not.
    assert_eq!(b.check(BEST, true, &token("be-2"), NOW), Ok(()));
    assert_eq!(take(&events), ["kv.seen", "kv.record"]);
    assert!(shards.entries.borrow().is_empty());
}

#[test]
fn best_effort_accepts_when_kv_reads_or_writes_fail_and_the_isolate_still_refuses_replays() {
    for (reads, writes) in [(true, false), (false, true), (true, true)] {
        let (events, kv, shards) = backends();
        kv.fail_reads.set(reads);
        kv.fail_writes.set(writes);
        let w = Isolate::new(10, &kv, &shards);
        for i in 0..3 {
            let c = token(&format!("fault-{i}"));
            assert_eq!(
                w.check(BEST, false, &c, NOW),
                Ok(()),
                "fresh jti, KV failing"
            );
            assert_eq!(take(&events), ["kv.seen", "kv.record"]);
            assert_eq!(w.check(BEST, false, &c, NOW), Err(Error::TokenReplayed));
            assert!(take(&events).is_empty(), "refused by the isolate's memory");
        }
        assert_eq!(kv.entries.borrow().len(), if writes { 0 } else { 3 });
    }
}

#[test]
fn best_effort_with_kv_unbound_is_a_503_that_leaves_the_jti_unused() {
    let (events, kv, shards) = backends();
    let w = Isolate::new(10, &kv, &shards);
    let c = token("unbound");
    kv.unbound.set(true);
    assert_eq!(w.check(BEST, false, &c, NOW), Err(Error::ReplayUnavailable));
    assert_eq!(take(&events), ["kv.seen"]);
    assert_eq!(
        (w.memory.borrow().len(), w.memory.borrow().pending()),
        (0, 0)
    );
    kv.unbound.set(false);
    assert_eq!(w.check(BEST, false, &c, NOW + 1), Ok(()), "the retry");
    assert_eq!(w.check(BEST, false, &c, NOW + 2), Err(Error::TokenReplayed));
}

// ------------------------------------------------------------------ strict (Durable Objects)

#[test]
fn strict_asks_the_object_and_commits_to_memory_only_after_it_accepted() {
    let (events, kv, shards) = backends();
    let w = Isolate::new(10, &kv, &shards);
    let c = token("strict-1");
    let key = replay_entry(&c, SKEW).unwrap().key;
    let mut cx = Context::from_waker(Waker::noop());

    shards.gate_closed.set(true);
    let tiers = w.tiers();
    let mut first = pin!(tiers.check(STRICT, false, &c, SKEW, NOW));
    assert!(first.as_mut().poll(&mut cx).is_pending());
    // In flight: reserved, not remembered.
    assert_eq!(
        (w.memory.borrow().len(), w.memory.borrow().pending()),
        (0, 1)
    );
    assert!(!w.memory.borrow().contains(&key, NOW));
    shards.gate_closed.set(false);
    assert_eq!(first.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(
        (w.memory.borrow().len(), w.memory.borrow().pending()),
        (1, 0)
    );
    assert_eq!(take(&events), ["do.claim"], "no KV without the pre-filter");
    assert!(kv.entries.borrow().is_empty());
    // A fresh isolate: the object alone refuses it.
    let b = Isolate::new(10, &kv, &shards);
    assert_eq!(
        b.check(STRICT, false, &c, NOW + 1),
        Err(Error::TokenReplayed)
    );
    assert_eq!(take(&events), ["do.claim"]);
}

#[test]
fn strict_object_failing_once_is_a_503_then_the_retry_200_then_401() {
    for prefilter in [false, true] {
        let (events, kv, shards) = backends();
        let w = Isolate::new(10, &kv, &shards);
        let c = token("strict-retry");
        shards.fail.set(1);
        assert_eq!(
            w.check(STRICT, prefilter, &c, NOW),
            Err(Error::ReplayUnavailable)
        );
        let asked: &[&str] = if prefilter {
            &["kv.seen", "do.claim"]
        } else {
            &["do.claim"]
        };
        assert_eq!(take(&events), asked);
        assert!(kv.entries.borrow().is_empty(), "nothing recorded for a 503");
        assert_eq!(
            (w.memory.borrow().len(), w.memory.borrow().pending()),
            (0, 0)
        );
        assert_eq!(w.check(STRICT, prefilter, &c, NOW + 1), Ok(()), "the retry");
        let asked: &[&str] = if prefilter {
            &["kv.seen", "do.claim", "kv.record"]
        } else {
            &["do.claim"]
        };
        assert_eq!(take(&events), asked);
        assert_eq!(
            w.check(STRICT, prefilter, &c, NOW + 2),
            Err(Error::TokenReplayed)
        );
        // Remembered by the isolate: refused without the object, even while it fails.
        shards.fail.set(1);
        assert_eq!(
            w.check(STRICT, prefilter, &c, NOW + 3),
            Err(Error::TokenReplayed)
        );
        assert!(take(&events).is_empty());
        assert_eq!(
            kv.entries.borrow().len(),
            usize::from(prefilter),
            "KV holds only the accepted use"
        );
    }
}

#[test]
fn strict_prefilter_refuses_what_kv_has_without_asking_the_object() {
    let (events, kv, shards) = backends();
    let a = Isolate::new(10, &kv, &shards);
    let c = token("pre-1");
    assert_eq!(a.check(STRICT, true, &c, NOW), Ok(()));
    assert_eq!(take(&events), ["kv.seen", "do.claim", "kv.record"]);
    let b = Isolate::new(10, &kv, &shards);
    assert_eq!(
        b.check(STRICT, true, &c, NOW + 1),
        Err(Error::TokenReplayed)
    );
    assert_eq!(take(&events), ["kv.seen"], "the object was not asked");
    assert_eq!(shards.entries.borrow().len(), 1);
}

#[test]
fn strict_prefilter_failures_never_accept_twice_and_never_use_up_a_jti() {
    // A failed KV read asks the object, which decides.
    let (events, kv, shards) = backends();
    let w = Isolate::new(0, &kv, &shards);
    kv.fail_reads.set(true);
    let c = token("pre-read");
    assert_eq!(w.check(STRICT, true, &c, NOW), Ok(()));
    assert_eq!(w.check(STRICT, true, &c, NOW), Err(Error::TokenReplayed));
    assert_eq!(
        take(&events),
        ["kv.seen", "do.claim", "kv.record", "kv.seen", "do.claim"]
    );

    // A failed KV write after the object accepted: accepted all the same (the object
    // has it; a 503 now would refuse the retry).
    let (_, kv, shards) = backends();
    let w = Isolate::new(0, &kv, &shards);
    kv.fail_writes.set(true);
    assert_eq!(w.check(STRICT, true, &c, NOW), Ok(()));
    assert_eq!(w.check(STRICT, true, &c, NOW), Err(Error::TokenReplayed));
    assert!(kv.entries.borrow().is_empty());

    // KV unbound with the pre-filter on: fail closed before the object, jti unused.
    let (events, kv, shards) = backends();
    let w = Isolate::new(10, &kv, &shards);
    kv.unbound.set(true);
    assert_eq!(
        w.check(STRICT, true, &c, NOW),
        Err(Error::ReplayUnavailable)
    );
    assert_eq!(take(&events), ["kv.seen"]);
    kv.unbound.set(false);
    assert_eq!(w.check(STRICT, true, &c, NOW + 1), Ok(()));
}

#[test]
fn a_concurrent_duplicate_is_refused_while_a_slow_authority_answers_the_first() {
    for mode in [BEST, STRICT] {
        let (events, kv, shards) = backends();
        let w = Isolate::new(10, &kv, &shards);
        // The authority of the mode is slow, then fails once.
        let (gate, asked) = if mode == STRICT {
            (&shards.gate_closed, "do.claim")
        } else {
            (&kv.gate_closed, "kv.seen")
        };
        let fail = |on: bool| {
            if mode == STRICT {
                shards.fail.set(u32::from(on));
            } else {
                kv.unbound.set(on);
            }
        };
        let c = token("slow");
        let mut cx = Context::from_waker(Waker::noop());
        gate.set(true);
        let tiers = w.tiers();
        let mut first = pin!(tiers.check(mode, false, &c, SKEW, NOW));
        assert!(first.as_mut().poll(&mut cx).is_pending());
        // Refused on its first poll (a duplicate that waited on the authority would hang
        // a blocking check).
        assert_eq!(
            pin!(tiers.check(mode, false, &c, SKEW, NOW)).poll(&mut cx),
            Poll::Ready(Err(Error::TokenReplayed))
        );
        assert_eq!(take(&events), [asked], "the duplicate asked nothing");
        fail(true);
        gate.set(false);
        assert_eq!(
            first.as_mut().poll(&mut cx),
            Poll::Ready(Err(Error::ReplayUnavailable))
        );
        fail(false);
        assert_eq!(
            w.check(mode, false, &c, NOW),
            Ok(()),
            "free again after the failure"
        );
        // A request cancelled while the authority is slow leaves no reservation.
        let d = token("dropped");
        gate.set(true);
        {
            let mut dropped = Box::pin(tiers.check(mode, false, &d, SKEW, NOW));
            assert!(dropped.as_mut().poll(&mut cx).is_pending());
            assert_eq!(w.memory.borrow().pending(), 1);
        }
        assert_eq!(w.memory.borrow().pending(), 0);
        gate.set(false);
        assert_eq!(w.check(mode, false, &d, NOW), Ok(()));
    }
}

#[test]
fn a_full_memory_falls_through_to_the_authority_in_both_modes() {
    for mode in [BEST, STRICT] {
        let (events, kv, shards) = backends();
        let w = Isolate::new(3, &kv, &shards);
        let tokens: Vec<Claims> = (0..8)
            .map(|i| verified(json!({ "jti": format!("full-{i}"), "exp": NOW + 100 + i })))
            .collect();
        for c in &tokens {
            assert_eq!(
                w.check(mode, false, c, NOW),
                Ok(()),
                "fresh tokens pass a full memory"
            );
        }
        assert_eq!(w.memory.borrow().len(), 3);
        take(&events);
        // The first fell out of memory (closest to its expiry): the authority refuses it.
        assert_eq!(
            w.check(mode, false, &tokens[0], NOW + 1),
            Err(Error::TokenReplayed)
        );
        assert_eq!(
            take(&events),
            if mode == STRICT {
                vec!["do.claim"]
            } else {
                vec!["kv.seen"]
            }
        );
        // The last is still remembered: refused without asking.
        assert_eq!(
            w.check(mode, false, &tokens[7], NOW + 1),
            Err(Error::TokenReplayed)
        );
        assert!(take(&events).is_empty());
    }
}

#[test]
fn entries_live_until_exp_plus_skew_in_the_objects() {
    let (_, kv, shards) = backends();
    let c = verified(json!({ "jti": "ttl", "exp": NOW + 100 }));
    assert_eq!(
        Isolate::new(0, &kv, &shards).check(STRICT, false, &c, NOW),
        Ok(())
    );
    let e = replay_entry(&c, SKEW).unwrap();
    assert_eq!(shards.entries.borrow().get(&e.key), Some(&(NOW + 160)));
    let later = Isolate::new(0, &kv, &shards);
    assert_eq!(
        later.check(STRICT, false, &c, NOW + 159),
        Err(Error::TokenReplayed)
    );
    assert_eq!(later.check(STRICT, false, &c, NOW + 160), Ok(()));
}

#[test]
fn shards_are_the_first_32_bits_of_the_key_modulo_the_count() {
    let key = replay_key(Some("https://issuer.example"), "id-1");
    let top = u32::from_str_radix(&key[..8], 16).unwrap();
    for n in [1, 2, 7, 16, 1024] {
        assert_eq!(replay_shard(&key, n), top % n);
    }
    assert_eq!(replay_shard(&key, 0), 0);
    assert_eq!(replay_shard("not hex", 7), 0);
    // Spread: 4 shards, 400 keys, each shard gets a fair share.
    let mut counts = [0u32; 4];
    for i in 0..400 {
        let k = replay_key(Some("https://issuer.example"), &format!("s{i}"));
        counts[replay_shard(&k, 4) as usize] += 1;
    }
    assert!(counts.iter().all(|c| (60..=140).contains(c)), "{counts:?}");
}
