//! JWKS cache decisions at a fixed clock: freshness, max-age clamping, unknown-kid cooldown,
//! the wait after a failed fetch.

use serde_json::json;

use jwt_edge::internals::{
    max_age_from_cache_control, snapshot_key, FetchFailures, KidCooldown, UnknownKid,
    SNAPSHOT_KEY_PREFIX,
};
use jwt_edge::{CachePolicy, Freshness, JwkSet, JwksOptions, JwksSnapshot};

fn snapshot(fetched_at: i64, max_age: u64) -> JwksSnapshot {
    JwksSnapshot {
        jwks: r#"{"keys":[]}"#.into(),
        fetched_at,
        max_age,
        etag: Some("\"e\"".into()),
        last_modified: None,
        jwks_uri: None,
    }
}

#[test]
fn freshness_over_a_lifetime() {
    let p = CachePolicy::default();
    let s = snapshot(1000, 600);
    let at = |t| s.freshness(&p, t);
    assert_eq!(at(1000), Freshness::Fresh);
    assert_eq!(at(1479), Freshness::Fresh);
    assert_eq!(
        at(1480),
        Freshness::RefreshAhead,
        "last fifth of the lifetime"
    );
    assert_eq!(at(1599), Freshness::RefreshAhead);
    assert_eq!(at(1600), Freshness::Stale);
    assert_eq!(
        at(1600 + 86_399),
        Freshness::Stale,
        "last-known-good until max staleness"
    );
    assert_eq!(at(1600 + 86_400), Freshness::Expired);
    // A clock that jumps backwards does not make a set expire or look old.
    assert_eq!(at(0), Freshness::Fresh);
    let short = snapshot(0, 1);
    assert_eq!(short.freshness(&p, 0), Freshness::RefreshAhead);
    let revalidated = s.revalidated(5000, 300);
    assert_eq!(
        (
            revalidated.fetched_at,
            revalidated.max_age,
            revalidated.etag.as_deref()
        ),
        (5000, 300, Some("\"e\""))
    );
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(serde_json::from_str::<JwksSnapshot>(&json).unwrap(), s);
}

#[test]
fn cache_control_is_clamped() {
    let p = CachePolicy::default();
    for (header, expect) in [
        (None, 600),
        (Some("public, max-age=300"), 300),
        (Some("max-age=\"120\""), 120),
        (Some("MAX-AGE=900, must-revalidate"), 900),
        (Some("max-age=5"), 60),
        (Some("max-age=0"), 60),
        (Some("max-age=99999999"), 86_400),
        (Some("max-age=-1"), 600),
        (Some("max-age=abc"), 600),
        (Some("no-store"), 60),
        (Some("private, no-cache"), 60),
        (Some(""), 600),
    ] {
        assert_eq!(max_age_from_cache_control(header, &p), expect, "{header:?}");
    }
}

#[test]
fn unknown_kids_refetch_at_most_once_per_cooldown() {
    let p = CachePolicy::default();
    let mut c = KidCooldown::default();
    assert_eq!(c.on_unknown("new", &p, 100), UnknownKid::Refetch);
    c.refetched(100, None);
    // Within the cooldown, any other unknown kid is refused without a fetch.
    assert_eq!(c.on_unknown("other", &p, 101), UnknownKid::Refuse);
    assert_eq!(c.on_unknown("third", &p, 129), UnknownKid::Refuse);
    assert_eq!(c.on_unknown("fourth", &p, 130), UnknownKid::Refetch);
    c.refetched(130, Some("fourth"));
    // A kid the new set still lacks stays refused for the cooldown, even after it.
    assert_eq!(
        c.on_unknown("fourth", &p, 161),
        UnknownKid::Refetch,
        "forgotten after the cooldown"
    );
    // 10,000 random kids in one cooldown: one refetch, memory bounded.
    let mut c = KidCooldown::default();
    let mut fetches = 0;
    for i in 0..10_000 {
        if c.on_unknown(&format!("kid-{i}"), &p, 1000) == UnknownKid::Refetch {
            fetches += 1;
            c.refetched(1000, Some(&format!("kid-{i}")));
        }
    }
    assert_eq!(fetches, 1);
    assert!(c.remembered() <= jwt_edge::internals::MAX_REMEMBERED_KIDS);
}

/// A set that shares no key with the previous one replaced every key at once (the edge
/// logs `jwks_all_keys_changed`); overlapping rotation, a renamed kid, or a first set do not.
#[test]
fn a_complete_key_change_is_recognised() {
    let ed = |x: &str, kid: &str| json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid});
    let a = ed("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "a");
    let a_renamed = ed("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "renamed");
    let b = ed("3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08", "b");
    let c = ed("GmHPkxvF8s3O0nKrRJ3u0lC7Y5k2cD6vYp4b9aX1w2Q", "c");
    let set = |keys: Vec<serde_json::Value>| JwksSnapshot {
        jwks: json!({ "keys": keys }).to_string(),
        ..snapshot(0, 600)
    };
    let old = set(vec![a.clone(), b.clone()]);
    assert!(!set(vec![a.clone(), b.clone()]).replaces_every_key_of(&old));
    assert!(
        !set(vec![b.clone(), c.clone()]).replaces_every_key_of(&old),
        "overlap"
    );
    assert!(
        !set(vec![a_renamed, c.clone()]).replaces_every_key_of(&old),
        "same key, new kid"
    );
    assert!(set(vec![c.clone()]).replaces_every_key_of(&old));
    assert!(
        set(vec![]).replaces_every_key_of(&old),
        "every key withdrawn"
    );
    assert!(
        !set(vec![c.clone()]).replaces_every_key_of(&set(vec![])),
        "nothing before"
    );
    let garbage = JwksSnapshot {
        jwks: "not json".into(),
        ..snapshot(0, 600)
    };
    assert!(!set(vec![c]).replaces_every_key_of(&garbage));
}

/// After a failed fetch, a stale set serves without asking the issuer again until the
/// failure cooldown has passed; with no usable set (none, or expired) the issuer may
/// always be asked; a success, or a clock that went back, lifts the wait.
#[test]
fn after_a_failed_fetch_the_issuer_waits_out_the_cooldown() {
    let p = CachePolicy {
        failure_cooldown: 30,
        ..CachePolicy::default()
    };
    let stale = snapshot(1000, 600); // stale from 1600 until 1600 + 86 400
    let mut f = FetchFailures::default();
    assert!(f.may_fetch(Some(&stale), &p, 2000), "no failure yet");
    f.failed(2000);
    assert!(!f.may_fetch(Some(&stale), &p, 2000));
    assert!(!f.may_fetch(Some(&stale), &p, 2029), "within the cooldown");
    assert!(
        f.may_fetch(Some(&stale), &p, 2030),
        "the cooldown has passed"
    );
    assert!(
        f.may_fetch(None, &p, 2001),
        "nothing held: nothing else to serve"
    );
    let expired = snapshot(1000, 600);
    assert!(
        f.may_fetch(Some(&expired), &p, 1600 + 86_400),
        "an expired set is not usable"
    );
    assert!(
        f.may_fetch(Some(&stale), &p, 1999),
        "a clock that went back past the failure"
    );
    f.succeeded();
    assert!(
        f.may_fetch(Some(&stale), &p, 2001),
        "a success lifts the wait"
    );
    let none = CachePolicy {
        failure_cooldown: 0,
        ..CachePolicy::default()
    };
    f.failed(2000);
    assert!(
        f.may_fetch(Some(&stale), &none, 2000),
        "cooldown 0: no wait"
    );
}

const URI: &str = "https://issuer.example/jwks.json";

fn stored(fetched_at: i64, max_age: u64, uri: Option<&str>) -> String {
    serde_json::to_string(&JwksSnapshot {
        jwks_uri: uri.map(str::to_owned),
        ..snapshot(fetched_at, max_age)
    })
    .unwrap()
}

/// Issue 14 finding 7: a snapshot read back from KV is untrusted input. A planted
/// `{fetched_at: now + 10 y, max_age: 10 y}` must not make its keys trusted for years.
#[test]
fn a_stored_snapshot_is_checked_when_read() {
    let p = CachePolicy::default(); // max_age within [60, 86 400]
    let now = 1_800_000_000;
    let ten_years: u64 = 10 * 365 * 86_400;
    let read = |text: &str| JwksSnapshot::from_stored(text, URI, &p, now);

    // An honest one comes back as written.
    let honest = read(&stored(now - 100, 600, Some(URI))).unwrap();
    assert_eq!(honest.max_age, 600);
    assert_eq!(honest.fetched_at, now - 100);
    assert_eq!(honest.etag.as_deref(), Some("\"e\""));
    assert_eq!(honest.freshness(&p, now), Freshness::Fresh);
    // Written at this very second: fine.
    assert!(read(&stored(now, 600, Some(URI))).is_some());

    // From the future: refused (no allowance: refusing costs one fetch).
    assert_eq!(
        read(&stored(now + ten_years as i64, ten_years, Some(URI))),
        None
    );
    assert_eq!(read(&stored(now + 1, 600, Some(URI))), None);

    // A lifetime past the policy is clamped: stale after 24 h, expired after 48 h.
    let long = read(&stored(now - 100, ten_years, Some(URI))).unwrap();
    assert_eq!(long.max_age, 86_400);
    assert_eq!(long.freshness(&p, now + 86_400), Freshness::Stale);
    assert_eq!(long.freshness(&p, now + 2 * 86_400), Freshness::Expired);
    // And below the floor, raised to it.
    assert_eq!(read(&stored(now - 1, 0, Some(URI))).unwrap().max_age, 60);

    // Another URI's snapshot, or one that names none (v1), is not this URI's.
    assert_eq!(
        read(&stored(now, 600, Some("https://other.example/jwks.json"))),
        None
    );
    assert_eq!(read(&stored(now, 600, None)), None);

    // Not a snapshot, or too large to be one.
    assert_eq!(read("not json"), None);
    assert_eq!(read(r#"{"jwks":"{}"}"#), None);
    let huge = format!(
        r#"{{"jwks":"{}","fetched_at":{now},"max_age":600,"jwks_uri":"{URI}"}}"#,
        "x".repeat(jwt_edge::internals::MAX_STORED_SNAPSHOT_BYTES)
    );
    assert_eq!(read(&huge), None);

    // Over-long validators are dropped, not sent to the issuer.
    let mut with_long_etag = honest.clone();
    with_long_etag.etag = Some("e".repeat(1000));
    let text = serde_json::to_string(&with_long_etag).unwrap();
    assert_eq!(read(&text).unwrap().etag, None);

    // The set inside is checked on import as a fetched one is: no usable key, refused.
    let empty = read(&stored(now, 600, Some(URI))).unwrap();
    assert_eq!(
        JwkSet::parse_fetched(empty.jwks.as_bytes(), &JwksOptions::default())
            .unwrap_err()
            .code(),
        "jwks_invalid"
    );
}

/// Issue 14 finding 6: the storage key binds the issuer, the URI and the import options.
#[test]
fn snapshot_keys_bind_issuer_uri_and_options() {
    let o = JwksOptions::default();
    let key = snapshot_key("https://issuer.example", URI, &o);
    assert!(key.starts_with(SNAPSHOT_KEY_PREFIX));
    assert!(key.starts_with("jwks:v2:"));
    assert_eq!(key.len(), "jwks:v2:".len() + 64);
    assert_eq!(
        key,
        snapshot_key("https://issuer.example", URI, &o),
        "stable"
    );
    let others = [
        snapshot_key(
            "https://issuer.example",
            "https://issuer.example/new.json",
            &o,
        ),
        snapshot_key("https://other.example", URI, &o),
        snapshot_key(
            "https://issuer.example",
            URI,
            &JwksOptions {
                min_rsa_bits: 3072,
                ..JwksOptions::default()
            },
        ),
        snapshot_key(
            "https://issuer.example",
            URI,
            &JwksOptions {
                allow_oct: true,
                ..JwksOptions::default()
            },
        ),
        // Length-prefixed: moving bytes between issuer and URI changes the key.
        snapshot_key(
            "https://issuer.examplehttps:",
            "//issuer.example/jwks.json",
            &o,
        ),
    ];
    for other in &others {
        assert_ne!(&key, other);
    }
}
