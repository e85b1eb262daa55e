//! The key-source state machine at a fixed clock: every transition the worker and the
//! npm `RemoteJwks` rely on, driven as they drive it (step → I/O → outcome → step).

mod common;

use serde_json::{json, Value};

use jwt_edge::internals::keysource::{
    storage_ttl, Answer, Conditional, Event, KeySource, Lookup, Step, Tier,
};
use jwt_edge::{Algorithm, CachePolicy, Error, JwkSet, JwksOptions, JwksSnapshot};

const URI: &str = "https://issuer.example/jwks.json";
const T0: i64 = 1_800_000_000;
const ES256: Option<Algorithm> = Some(Algorithm::Es256);

/// The kids of the keys built, and which build made them (to see that a 304 or a stale
/// answer never re-imports a set).
type Keys = (Vec<String>, u32);

fn fixture_key(kid: &str) -> Value {
    let fixture = common::jose_fixture();
    let key = fixture["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
        .clone();
    key
}

fn key_a() -> Value {
    fixture_key("mdsBTx5acSQKdBL09g-ZcQOy_gb-G2IhMZ1mPhfbzOs")
}

fn key_b() -> Value {
    fixture_key("Bj2TLlCtAU1xvpAiDWWDRiPiX67tVws9XZIzb4qJIVo")
}

const KID_A: &str = "mdsBTx5acSQKdBL09g-ZcQOy_gb-G2IhMZ1mPhfbzOs";
const KID_B: &str = "Bj2TLlCtAU1xvpAiDWWDRiPiX67tVws9XZIzb4qJIVo";

fn body(keys: &[Value]) -> Vec<u8> {
    json!({ "keys": keys }).to_string().into_bytes()
}

/// A source with a counter of builds.
struct Rig {
    source: KeySource<Keys>,
    builds: u32,
}

impl Rig {
    fn new(shared_store: bool) -> Self {
        Self::with(CachePolicy::default(), shared_store)
    }

    fn with(policy: CachePolicy, shared_store: bool) -> Self {
        Self {
            source: KeySource::new(URI, policy, JwksOptions::default(), shared_store),
            builds: 0,
        }
    }

    fn step(&mut self, lookup: &mut Lookup) -> Step<Keys> {
        self.source.step(lookup)
    }

    fn build(builds: &mut u32) -> impl FnMut(JwkSet) -> Result<Keys, Error> + '_ {
        move |set| {
            *builds += 1;
            let kids = set.keys().iter().filter_map(|k| k.kid.clone()).collect();
            Ok((kids, *builds))
        }
    }

    fn answer(&mut self, lookup: &mut Lookup, answer: Answer<'_>) -> Vec<Event> {
        let Rig { source, builds } = self;
        source.fetched(lookup, answer, Self::build(builds)).events
    }

    fn ok(&mut self, lookup: &mut Lookup, keys: &[Value], headers: Headers) -> Vec<Event> {
        let document = body(keys);
        self.answer(lookup, headers.response(200, &document))
    }

    fn stored(&mut self, lookup: &mut Lookup, text: Option<&str>) -> Vec<Event> {
        let Rig { source, builds } = self;
        source.stored(lookup, text, Self::build(builds))
    }

    /// A first fetch of `keys` at `now` (no store), served from the issuer.
    fn primed(keys: &[Value], headers: Headers, now: i64) -> Self {
        let mut rig = Rig::new(false);
        let mut lookup = Lookup::new(None, ES256, now);
        assert_eq!(rig.step(&mut lookup), Step::Fetch(Conditional::default()));
        assert!(rig.ok(&mut lookup, keys, headers).is_empty());
        assert!(matches!(
            rig.step(&mut lookup),
            Step::Serve {
                tier: Tier::Issuer,
                refresh: None,
                ..
            }
        ));
        rig
    }
}

#[derive(Clone, Copy, Default)]
struct Headers {
    cache_control: Option<&'static str>,
    etag: Option<&'static str>,
    last_modified: Option<&'static str>,
}

const VALIDATORS: Headers = Headers {
    cache_control: Some("max-age=600"),
    etag: Some("\"v1\""),
    last_modified: Some("Tue, 01 Dec 2026 00:00:00 GMT"),
};

impl Headers {
    fn response<'a>(&'a self, status: u16, body: &'a [u8]) -> Answer<'a> {
        Answer::Response {
            status,
            body,
            cache_control: self.cache_control,
            etag: self.etag,
            last_modified: self.last_modified,
        }
    }
}

fn validators() -> Conditional {
    Conditional {
        if_none_match: Some("\"v1\"".into()),
        if_modified_since: Some("Tue, 01 Dec 2026 00:00:00 GMT".into()),
    }
}

fn served(step: Step<Keys>) -> (Keys, Tier, Option<Conditional>) {
    match step {
        Step::Serve {
            keys,
            tier,
            refresh,
        } => (keys, tier, refresh),
        other => panic!("expected Serve, got {other:?}"),
    }
}

fn failed(action: &'static str, code: &'static str, problem: Option<&'static str>) -> Event {
    Event::FetchFailed {
        code,
        problem,
        action,
    }
}

#[test]
fn cold_fetch_then_memory() {
    let mut rig = Rig::new(false);
    let mut first = Lookup::new(Some(KID_A), ES256, T0);
    assert_eq!(rig.step(&mut first), Step::Fetch(Conditional::default()));
    // While it is in flight, another token waits instead of fetching too.
    let mut second = Lookup::new(Some(KID_A), ES256, T0);
    assert_eq!(rig.step(&mut second), Step::Wait);
    let generation = rig.source.generation();
    let document = body(&[key_a()]);
    let report = rig.source.fetched(
        &mut first,
        VALIDATORS.response(200, &document),
        Rig::build(&mut rig.builds),
    );
    assert!(report.events.is_empty());
    let stored = report.store.expect("a 200 is stored");
    assert_eq!(
        (
            stored.fetched_at,
            stored.max_age,
            stored.jwks_uri.as_deref()
        ),
        (T0, 600, Some(URI))
    );
    assert_eq!(storage_ttl(&stored, &CachePolicy::default()), 600 + 86_400);
    assert_ne!(rig.source.generation(), generation);
    let (keys, tier, refresh) = served(rig.step(&mut first));
    assert_eq!(
        (keys, tier, refresh),
        ((vec![KID_A.to_owned()], 1), Tier::Issuer, None)
    );
    second.waited();
    assert_eq!(served(rig.step(&mut second)).1, Tier::Memory);
    // Later tokens: memory, no build.
    let mut later = Lookup::new(Some(KID_A), ES256, T0 + 100);
    assert_eq!(
        served(rig.step(&mut later)),
        ((vec![KID_A.to_owned()], 1), Tier::Memory, None)
    );
}

#[test]
fn cold_fetch_failure_refuses_and_the_next_token_may_ask_again() {
    let mut rig = Rig::new(false);
    let mut lookup = Lookup::new(None, ES256, T0);
    assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)));
    let events = rig.answer(&mut lookup, Answer::Failed(Error::JwksUnavailable));
    assert_eq!(events, [failed("no keys cached", "jwks_unavailable", None)]);
    assert_eq!(rig.step(&mut lookup), Step::Refuse(Error::JwksUnavailable));
    // Nothing to serve: the failure cooldown does not apply.
    let mut next = Lookup::new(None, ES256, T0 + 1);
    assert!(matches!(rig.step(&mut next), Step::Fetch(_)));
    // A waiter on a failed fetch is refused, without a second fetch.
    let mut waiter = Lookup::new(None, ES256, T0 + 1);
    assert_eq!(rig.step(&mut waiter), Step::Wait);
    let document = b"not json".to_vec();
    let events = rig.answer(&mut next, VALIDATORS.response(200, &document));
    assert_eq!(
        events,
        [failed("no keys cached", "jwks_invalid", Some("malformed"))]
    );
    waiter.waited();
    assert_eq!(rig.step(&mut waiter), Step::Refuse(Error::JwksUnavailable));
    // Other statuses, and a 304 with nothing held, are failures; a redirect is logged.
    for (status, extra) in [
        (500, None),
        (404, None),
        (304, None),
        (302, Some(Event::RedirectRefused { status: 302 })),
    ] {
        let mut lookup = Lookup::new(None, ES256, T0 + 2);
        assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)), "{status}");
        let events = rig.answer(&mut lookup, VALIDATORS.response(status, b""));
        let mut expected: Vec<Event> = extra.into_iter().collect();
        expected.push(failed("no keys cached", "jwks_unavailable", None));
        assert_eq!(events, expected, "{status}");
    }
}

#[test]
fn fresh_refresh_ahead_and_304() {
    let mut rig = Rig::primed(&[key_a()], VALIDATORS, T0);
    // Fresh below four fifths of 600 s.
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0 + 479);
    assert_eq!(served(rig.step(&mut lookup)).2, None);
    // Last fifth: served from memory, and a background refresh with both validators.
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0 + 480);
    let (_, tier, refresh) = served(rig.step(&mut lookup));
    assert_eq!((tier, refresh), (Tier::Memory, Some(validators())));
    // Only one refresh in flight.
    let mut other = Lookup::new(Some(KID_A), ES256, T0 + 481);
    assert_eq!(served(rig.step(&mut other)).2, None);
    // A 304 revalidates from then on, with the answer's max-age; nothing re-imported.
    let report = rig.source.refreshed(
        T0 + 480,
        Headers {
            cache_control: Some("max-age=300"),
            ..VALIDATORS
        }
        .response(304, b""),
        Rig::build(&mut rig.builds),
    );
    assert!(report.events.is_empty());
    let stored = report.store.expect("a 304 renews the stored snapshot");
    assert_eq!((stored.fetched_at, stored.max_age), (T0 + 480, 300));
    assert_eq!(stored.etag.as_deref(), Some("\"v1\""));
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0 + 480 + 239);
    assert_eq!(
        served(rig.step(&mut lookup)),
        ((vec![KID_A.to_owned()], 1), Tier::Memory, None)
    );
    assert_eq!(rig.builds, 1);
    // A failed refresh changes nothing but is reported (it used not to be logged).
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0 + 480 + 240);
    assert!(served(rig.step(&mut lookup)).2.is_some());
    let report = rig.source.refreshed(
        T0 + 480 + 240,
        Answer::Failed(Error::JwksUnavailable),
        Rig::build(&mut rig.builds),
    );
    assert_eq!(
        report.events,
        [failed("refresh-ahead failed", "jwks_unavailable", None)]
    );
    assert_eq!(report.store, None);
    // …and a failed refresh starts the failure cooldown: no new refresh for 30 s.
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0 + 480 + 250);
    assert_eq!(served(rig.step(&mut lookup)).2, None);
}

#[test]
fn stale_within_and_after_the_failure_cooldown_then_expired() {
    let mut rig = Rig::primed(&[key_a()], VALIDATORS, T0);
    let stale = T0 + 600;
    let mut lookup = Lookup::new(Some(KID_A), ES256, stale);
    assert_eq!(rig.step(&mut lookup), Step::Fetch(validators()));
    let events = rig.answer(&mut lookup, Answer::Failed(Error::JwksUnavailable));
    assert_eq!(
        events,
        [failed("serving last-known-good", "jwks_unavailable", None)]
    );
    assert_eq!(
        served(rig.step(&mut lookup)),
        ((vec![KID_A.to_owned()], 1), Tier::Stale, None)
    );
    // Within the failure cooldown (30 s): the stale set answers at once.
    for t in [stale + 1, stale + 29] {
        let mut lookup = Lookup::new(Some(KID_A), ES256, t);
        assert_eq!(served(rig.step(&mut lookup)).1, Tier::Stale, "{t}");
    }
    // After it, the issuer is asked again; a success serves from the issuer.
    let mut lookup = Lookup::new(Some(KID_A), ES256, stale + 30);
    assert_eq!(rig.step(&mut lookup), Step::Fetch(validators()));
    rig.answer(&mut lookup, VALIDATORS.response(304, b""));
    assert_eq!(served(rig.step(&mut lookup)).1, Tier::Issuer);
    assert_eq!(rig.builds, 1, "a 304 keeps the keys built");

    // Past max_age + max_staleness the held set is not served when the issuer fails.
    let expired = stale + 30 + 600 + 86_400;
    let mut lookup = Lookup::new(Some(KID_A), ES256, expired);
    assert_eq!(rig.step(&mut lookup), Step::Fetch(validators()));
    let events = rig.answer(&mut lookup, Answer::Failed(Error::JwksUnavailable));
    assert_eq!(
        events,
        [failed("last-known-good too old", "jwks_unavailable", None)]
    );
    assert_eq!(rig.step(&mut lookup), Step::Refuse(Error::JwksUnavailable));
    // …and the issuer may be asked at once by the next token (nothing usable).
    let mut lookup = Lookup::new(Some(KID_A), ES256, expired + 1);
    assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)));
}

#[test]
fn the_failure_cooldown_is_not_the_kid_cooldown() {
    let policy = CachePolicy {
        unknown_kid_cooldown: 5,
        ..CachePolicy::default()
    };
    let mut rig = Rig::with(policy, false);
    let mut lookup = Lookup::new(None, ES256, T0);
    rig.step(&mut lookup);
    rig.ok(&mut lookup, &[key_a()], VALIDATORS);
    let stale = T0 + 600;
    let mut lookup = Lookup::new(None, ES256, stale);
    rig.step(&mut lookup);
    rig.answer(&mut lookup, Answer::Failed(Error::JwksUnavailable));
    let mut lookup = Lookup::new(None, ES256, stale + 10);
    assert_eq!(served(rig.step(&mut lookup)).1, Tier::Stale, "30 s, not 5");
    let mut lookup = Lookup::new(None, ES256, stale + 30);
    assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)));
}

#[test]
fn a_set_with_no_usable_key_never_replaces_the_held_one() {
    let rsa1024 = json!({"kty": "RSA", "kid": "small", "e": "AQAB",
        "n": common::b64(&[0xc5; 128])});
    let oct = json!({"kty": "oct", "kid": KID_A, "k": common::b64(&[9; 32])});
    let mut private = key_a();
    private["d"] = json!("AAAA");
    for (what, keys, problem) in [
        ("empty", vec![], "no_usable_keys"),
        ("rsa-1024", vec![rsa1024], "no_usable_keys"),
        ("oct", vec![oct], "no_usable_keys"),
        ("private", vec![private], "private_key_material"),
    ] {
        let mut rig = Rig::primed(&[key_a()], VALIDATORS, T0);
        let mut lookup = Lookup::new(Some(KID_A), ES256, T0 + 600);
        assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)), "{what}");
        let events = rig.ok(&mut lookup, &keys, VALIDATORS);
        assert_eq!(
            events.last(),
            Some(&failed(
                "serving last-known-good",
                "jwks_invalid",
                Some(problem)
            )),
            "{what}"
        );
        assert_eq!(
            served(rig.step(&mut lookup)),
            ((vec![KID_A.to_owned()], 1), Tier::Stale, None),
            "{what}: the good set kept"
        );
    }
}

#[test]
fn a_new_set_reports_skipped_keys_and_a_complete_key_change() {
    let mut rig = Rig::primed(&[key_a()], VALIDATORS, T0);
    let oct = json!({"kty": "oct", "kid": "hs", "k": common::b64(&[9; 32])});
    let mut lookup = Lookup::new(Some(KID_B), ES256, T0 + 1);
    assert_eq!(rig.step(&mut lookup), Step::Fetch(validators()));
    let events = rig.ok(&mut lookup, &[oct, key_b()], Headers::default());
    assert_eq!(
        events,
        [
            Event::KeySkipped {
                index: 0,
                reason: "oct_not_allowed"
            },
            Event::AllKeysChanged
        ]
    );
    assert_eq!(
        served(rig.step(&mut lookup)),
        ((vec![KID_B.to_owned()], 2), Tier::Issuer, None)
    );
    // The events serialise as the worker logs them.
    assert_eq!(
        serde_json::to_value(&events).unwrap(),
        json!([
            {"event": "jwks_key_skipped", "index": 0, "reason": "oct_not_allowed"},
            {"event": "jwks_all_keys_changed"}
        ])
    );
    assert_eq!(
        serde_json::to_value(failed("no keys cached", "jwks_unavailable", None)).unwrap(),
        json!({"event": "jwks_fetch_failed", "code": "jwks_unavailable", "action": "no keys cached"})
    );
    // An overlapping rotation is not a complete change.
    let mut lookup = Lookup::new(Some("new"), ES256, T0 + 100);
    assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)));
    assert!(rig
        .ok(&mut lookup, &[key_b(), key_a()], Headers::default())
        .is_empty());
}

#[test]
fn an_unknown_kid_refetches_at_most_once_per_cooldown() {
    let mut rig = Rig::primed(&[key_a()], VALIDATORS, T0);
    // Rotation: the new kid is fetched, with the validators.
    let mut lookup = Lookup::new(Some(KID_B), ES256, T0 + 1);
    assert_eq!(rig.step(&mut lookup), Step::Fetch(validators()));
    rig.ok(&mut lookup, &[key_a(), key_b()], VALIDATORS);
    assert_eq!(
        served(rig.step(&mut lookup)),
        (
            (vec![KID_A.to_owned(), KID_B.to_owned()], 2),
            Tier::Issuer,
            None
        )
    );
    // Within the cooldown (30 s) any unknown kid is served the held set (the verifier
    // answers no_matching_key) without a fetch.
    for (kid, t) in [("x", T0 + 2), ("y", T0 + 30)] {
        let mut lookup = Lookup::new(Some(kid), ES256, t);
        assert_eq!(served(rig.step(&mut lookup)).1, Tier::Memory, "{kid}");
    }
    // After it, one more refetch; the kid still missing is then remembered.
    let mut lookup = Lookup::new(Some("x"), ES256, T0 + 31);
    assert_eq!(
        served(rig.step(&mut lookup)).1,
        Tier::Memory,
        "a kid found missing stays refused for the cooldown"
    );
    let mut lookup = Lookup::new(Some("w"), ES256, T0 + 31);
    assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)));
    rig.ok(&mut lookup, &[key_a(), key_b()], VALIDATORS);
    assert_eq!(served(rig.step(&mut lookup)).1, Tier::Issuer);
    let mut lookup = Lookup::new(Some("w"), ES256, T0 + 60);
    assert_eq!(
        served(rig.step(&mut lookup)).1,
        Tier::Memory,
        "still missing"
    );
    let mut lookup = Lookup::new(Some("w"), ES256, T0 + 62);
    assert!(
        matches!(rig.step(&mut lookup), Step::Fetch(_)),
        "forgotten after the cooldown"
    );
    // A failed kid refetch serves the held set with its tier, and reports it.
    let events = rig.answer(&mut lookup, Answer::Failed(Error::JwksUnavailable));
    assert_eq!(
        events,
        [failed("unknown kid refused", "jwks_unavailable", None)]
    );
    assert_eq!(served(rig.step(&mut lookup)).1, Tier::Memory);
    // A token that fetched for freshness does not fetch again for its kid.
    let mut lookup = Lookup::new(Some("z"), ES256, T0 + 62 + 600);
    assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)));
    rig.answer(&mut lookup, VALIDATORS.response(304, b""));
    assert_eq!(served(rig.step(&mut lookup)).1, Tier::Issuer);
}

#[test]
fn an_hmac_token_or_an_unknown_algorithm_never_fetches_for_its_kid() {
    let mut rig = Rig::primed(&[key_a()], VALIDATORS, T0);
    for algorithm in [Some(Algorithm::Hs256), Some(Algorithm::Hs512), None] {
        let mut lookup = Lookup::new(Some("hs256"), algorithm, T0 + 100);
        assert_eq!(
            served(rig.step(&mut lookup)).1,
            Tier::Memory,
            "{algorithm:?}"
        );
    }
    // No kid at all: nothing to look for either.
    let mut lookup = Lookup::new(None, ES256, T0 + 100);
    assert_eq!(served(rig.step(&mut lookup)).1, Tier::Memory);
    // The asymmetric token still may (the cooldown was not spent by the above).
    let mut lookup = Lookup::new(Some("es"), ES256, T0 + 100);
    assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)));
}

#[test]
fn the_shared_snapshot_is_read_first_and_checked() {
    let snapshot = |fetched_at: i64, uri: &str| {
        serde_json::to_string(&JwksSnapshot {
            jwks: json!({ "keys": [key_a()] }).to_string(),
            fetched_at,
            max_age: 600,
            etag: Some("\"kv\"".into()),
            last_modified: Some("Mon, 30 Nov 2026 00:00:00 GMT".into()),
            jwks_uri: Some(uri.into()),
        })
        .unwrap()
    };
    let kv_validators = Conditional {
        if_none_match: Some("\"kv\"".into()),
        if_modified_since: Some("Mon, 30 Nov 2026 00:00:00 GMT".into()),
    };

    // A good one serves as `kv`, then from memory; its validators go to its own URI.
    let mut rig = Rig::new(true);
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0);
    assert_eq!(rig.step(&mut lookup), Step::ReadStored);
    assert!(rig
        .stored(&mut lookup, Some(&snapshot(T0 - 10, URI)))
        .is_empty());
    assert_eq!(
        served(rig.step(&mut lookup)),
        ((vec![KID_A.to_owned()], 1), Tier::Kv, None)
    );
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0 + 600);
    assert_eq!(rig.step(&mut lookup), Step::Fetch(kv_validators));

    // Nothing stored: fetch without validators.
    let mut rig = Rig::new(true);
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0);
    assert_eq!(rig.step(&mut lookup), Step::ReadStored);
    assert!(rig.stored(&mut lookup, None).is_empty());
    assert_eq!(rig.step(&mut lookup), Step::Fetch(Conditional::default()));

    // Another URI's snapshot, one from the future, or one whose set is unusable: refused
    // (reported), and its validators never sent.
    let empty = serde_json::to_string(&JwksSnapshot {
        jwks: r#"{"keys":[]}"#.into(),
        ..serde_json::from_str(&snapshot(T0, URI)).unwrap()
    })
    .unwrap();
    for (what, text) in [
        ("other uri", snapshot(T0, "https://other.example/jwks.json")),
        ("future", snapshot(T0 + 1, URI)),
        ("no usable key", empty),
        ("garbage", "not json".to_owned()),
    ] {
        let mut rig = Rig::new(true);
        let mut lookup = Lookup::new(Some(KID_A), ES256, T0);
        assert_eq!(rig.step(&mut lookup), Step::ReadStored, "{what}");
        assert_eq!(
            rig.stored(&mut lookup, Some(&text)),
            [Event::StoredRefused],
            "{what}"
        );
        assert_eq!(
            rig.step(&mut lookup),
            Step::Fetch(Conditional::default()),
            "{what}"
        );
    }
    assert_eq!(
        serde_json::to_value(Event::StoredRefused).unwrap(),
        json!({"event": "kv_snapshot_refused"})
    );

    // An expired one is ignored quietly, and fetched over.
    let mut rig = Rig::new(true);
    let mut lookup = Lookup::new(Some(KID_A), ES256, T0 + 600 + 86_400);
    rig.step(&mut lookup);
    assert!(rig.stored(&mut lookup, Some(&snapshot(T0, URI))).is_empty());
    assert_eq!(rig.step(&mut lookup), Step::Fetch(Conditional::default()));
    assert_eq!(rig.builds, 0);

    // Read once per token: after a failed fetch, the token is refused.
    rig.answer(&mut lookup, Answer::Failed(Error::JwksUnavailable));
    assert_eq!(rig.step(&mut lookup), Step::Refuse(Error::JwksUnavailable));
}

#[test]
fn validators_come_only_from_the_answer_that_gave_them() {
    // An answer without validators: the next fetch sends none.
    let mut rig = Rig::primed(&[key_a()], Headers::default(), T0);
    let mut lookup = Lookup::new(None, ES256, T0 + 600);
    assert_eq!(rig.step(&mut lookup), Step::Fetch(Conditional::default()));
    // Only an ETag: only If-None-Match.
    rig.ok(
        &mut lookup,
        &[key_a()],
        Headers {
            etag: Some("\"e\""),
            ..Headers::default()
        },
    );
    let mut lookup = Lookup::new(None, ES256, T0 + 1200);
    assert_eq!(
        rig.step(&mut lookup),
        Step::Fetch(Conditional {
            if_none_match: Some("\"e\"".into()),
            if_modified_since: None,
        })
    );
}

#[test]
fn max_age_bounds_and_an_abandoned_fetch() {
    // The issuer's max-age is floored at 60 s and capped at a day.
    for (header, max_age) in [
        ("max-age=5", 60),
        ("no-store", 60),
        ("max-age=999999", 86_400),
    ] {
        let rig = Rig::primed(
            &[key_a()],
            Headers {
                cache_control: Some(header),
                ..Headers::default()
            },
            T0,
        );
        let (snapshot, _) = rig.source.held().unwrap();
        assert_eq!(snapshot.max_age, max_age, "{header}");
    }
    // A fetch dropped before its answer: the next token may fetch.
    let mut rig = Rig::new(false);
    let mut lookup = Lookup::new(None, ES256, T0);
    assert!(matches!(rig.step(&mut lookup), Step::Fetch(_)));
    assert!(rig.source.in_flight());
    let generation = rig.source.generation();
    rig.source.abandoned();
    assert!(!rig.source.in_flight());
    assert_ne!(rig.source.generation(), generation);
    let mut next = Lookup::new(None, ES256, T0);
    assert!(matches!(rig.step(&mut next), Step::Fetch(_)));
}

#[test]
fn rebuild_imports_the_held_set_again() {
    let mut rig = Rig::primed(&[key_a()], VALIDATORS, T0);
    let Rig { source, builds } = &mut rig;
    source.rebuild(Rig::build(builds)).unwrap();
    assert_eq!(source.held().unwrap().1, &(vec![KID_A.to_owned()], 2));
    let mut empty: KeySource<Keys> =
        KeySource::new(URI, CachePolicy::default(), JwksOptions::default(), false);
    assert_eq!(
        empty.rebuild(|_| Ok((vec![], 0))),
        Err(Error::JwksUnavailable)
    );
}
