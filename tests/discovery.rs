//! OIDC discovery / RFC 8414 at a fixed clock: the well-known URLs of real issuer
//! spellings, the document checks (OIDC Discovery §4.3 exact issuer, `https` jwks_uri),
//! and the state machine the worker drives (memory → KV → issuer, last-known-good,
//! failure cooldown, a moved `jwks_uri`), plus the key source following a moved URI.

mod common;

use serde_json::json;

use jwt_edge::internals::discovery::{
    discovery_key, read_document, well_known, Discovery, DiscoveryEvent, DiscoveryLookup,
    DiscoveryProblem, DiscoveryStep, DocumentFetch,
};
use jwt_edge::internals::keysource::{Answer, KeySource, Lookup, Step, Tier};
use jwt_edge::internals::SNAPSHOT_KEY_PREFIX;
use jwt_edge::{CachePolicy, Error, JwkSet, JwksOptions};

const ISS: &str = "https://tenant.example.com/";
const T0: i64 = 1_800_000_000;

fn doc(issuer: &str, jwks_uri: &str) -> Vec<u8> {
    json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "authorization_endpoint": format!("{issuer}authorize"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
    .to_string()
    .into_bytes()
}

fn ok<'a>(body: &'a [u8], cache_control: Option<&'a str>) -> Answer<'a> {
    Answer::Response {
        status: 200,
        body,
        cache_control,
        etag: Some("\"d1\""),
        last_modified: None,
    }
}

fn status(status: u16) -> Answer<'static> {
    Answer::Response {
        status,
        body: &[],
        cache_control: None,
        etag: None,
        last_modified: None,
    }
}

fn fetch_url(step: DiscoveryStep) -> DocumentFetch {
    match step {
        DiscoveryStep::Fetch(fetch) => fetch,
        other => panic!("expected a fetch, got {other:?}"),
    }
}

fn used(step: DiscoveryStep) -> (String, Tier, Option<DocumentFetch>) {
    match step {
        DiscoveryStep::Use {
            jwks_uri,
            tier,
            refresh,
        } => (jwks_uri, tier, refresh),
        other => panic!("expected keys, got {other:?}"),
    }
}

fn new(issuer: &str) -> Discovery {
    Discovery::new(issuer, CachePolicy::default(), false, true).unwrap()
}

/// Warms `d` at `now` with a document naming `jwks_uri` (max-age 600).
fn warm(d: &mut Discovery, now: i64, jwks_uri: &str) {
    let mut lookup = DiscoveryLookup::new(now);
    assert_eq!(d.step(&mut lookup), DiscoveryStep::ReadStored);
    assert!(d.stored(&mut lookup, None).is_empty());
    let f = fetch_url(d.step(&mut lookup));
    let body = doc(ISS, jwks_uri);
    d.fetched(&mut lookup, ok(&body, Some("max-age=600")));
    assert_eq!(used(d.step(&mut lookup)).1, Tier::Issuer);
    assert!(f.url.ends_with("/.well-known/openid-configuration"));
}

#[test]
fn well_known_urls_of_real_issuer_spellings() {
    for (issuer, openid, oauth) in [
        (
            "https://tenant.us.auth0.com/",
            "https://tenant.us.auth0.com/.well-known/openid-configuration",
            "https://tenant.us.auth0.com/.well-known/oauth-authorization-server",
        ),
        (
            "https://example.okta.com/oauth2/default",
            "https://example.okta.com/oauth2/default/.well-known/openid-configuration",
            "https://example.okta.com/.well-known/oauth-authorization-server/oauth2/default",
        ),
        (
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0/.well-known/openid-configuration",
            "https://login.microsoftonline.com/.well-known/oauth-authorization-server/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        ),
        (
            "https://accounts.google.com",
            "https://accounts.google.com/.well-known/openid-configuration",
            "https://accounts.google.com/.well-known/oauth-authorization-server",
        ),
        (
            "https://sso.example.com:8443/realms/acme",
            "https://sso.example.com:8443/realms/acme/.well-known/openid-configuration",
            "https://sso.example.com:8443/.well-known/oauth-authorization-server/realms/acme",
        ),
    ] {
        let urls = well_known(issuer, false).unwrap();
        assert_eq!((urls.openid.as_str(), urls.oauth.as_str()), (openid, oauth));
    }
    for refused in [
        "accounts.google.com",
        "http://issuer.example",
        "https://issuer.example?x=1",
        "https://user@issuer.example",
        "https://issuer.example#f",
        "",
    ] {
        assert!(well_known(refused, true).is_none(), "{refused}");
    }
    assert!(well_known("http://127.0.0.1:8080/realms/a", false).is_none());
    assert!(well_known("http://127.0.0.1:8080/realms/a", true).is_some());
}

#[test]
fn a_document_is_used_only_for_its_exact_issuer_and_a_fetchable_jwks_uri() {
    let jwks = "https://tenant.example.com/.well-known/jwks.json";
    assert_eq!(read_document(&doc(ISS, jwks), ISS, false).unwrap(), jwks);
    let refused = [
        // OIDC Discovery §4.3: exactly equal; Auth0's trailing slash matters.
        (
            doc("https://tenant.example.com", jwks),
            DiscoveryProblem::IssuerMismatch,
        ),
        (
            doc("https://TENANT.example.com/", jwks),
            DiscoveryProblem::IssuerMismatch,
        ),
        (
            doc(ISS, "http://tenant.example.com/jwks"),
            DiscoveryProblem::JwksUriRefused,
        ),
        (
            doc(ISS, "https://u:p@tenant.example.com/jwks"),
            DiscoveryProblem::JwksUriRefused,
        ),
        (
            doc(ISS, "http://127.0.0.1/jwks"),
            DiscoveryProblem::JwksUriRefused,
        ),
        (
            json!({"issuer": ISS}).to_string().into_bytes(),
            DiscoveryProblem::NoJwksUri,
        ),
        (
            json!({"issuer": ISS, "jwks_uri": 5})
                .to_string()
                .into_bytes(),
            DiscoveryProblem::NoJwksUri,
        ),
        (b"[1]".to_vec(), DiscoveryProblem::Malformed),
        (b"<html>".to_vec(), DiscoveryProblem::Malformed),
        // Duplicate members: parsers disagree on which wins.
        (
            format!(
                r#"{{"issuer":"{ISS}","jwks_uri":"{jwks}","jwks_uri":"https://evil.example/k"}}"#
            )
            .into_bytes(),
            DiscoveryProblem::Malformed,
        ),
        (
            json!({"issuer": ISS, "jwks_uri": jwks, "pad": "x".repeat(70_000)})
                .to_string()
                .into_bytes(),
            DiscoveryProblem::TooLarge,
        ),
    ];
    for (body, problem) in refused {
        assert_eq!(read_document(&body, ISS, false), Err(problem));
    }
    assert!(read_document(&doc(ISS, "http://127.0.0.1:9/jwks"), ISS, true).is_ok());
}

#[test]
fn falls_back_to_rfc_8414_within_one_fetch() {
    let issuer = "https://example.okta.com/oauth2/default";
    let mut d = Discovery::new(issuer, CachePolicy::default(), false, false).unwrap();
    let mut lookup = DiscoveryLookup::new(T0);
    let first = fetch_url(d.step(&mut lookup));
    assert_eq!(first.url, d.urls().openid);
    assert!(d.fetched(&mut lookup, status(404)).events.is_empty());
    let second = fetch_url(d.step(&mut lookup));
    assert_eq!(second.url, d.urls().oauth);
    let body = doc(issuer, "https://example.okta.com/oauth2/default/v1/keys");
    let report = d.fetched(&mut lookup, ok(&body, None));
    assert_eq!(report.store.as_ref().unwrap().document_uri, d.urls().oauth);
    assert_eq!(
        used(d.step(&mut lookup)),
        (
            "https://example.okta.com/oauth2/default/v1/keys".into(),
            Tier::Issuer,
            None
        )
    );
    // Both missing: refused, and the next token (after the failure) fetches again.
    let mut d = Discovery::new(issuer, CachePolicy::default(), false, false).unwrap();
    let mut lookup = DiscoveryLookup::new(T0);
    fetch_url(d.step(&mut lookup));
    d.fetched(&mut lookup, status(404));
    fetch_url(d.step(&mut lookup));
    let report = d.fetched(&mut lookup, status(404));
    assert_eq!(
        report.events,
        [DiscoveryEvent::FetchFailed {
            code: "jwks_unavailable",
            problem: Some("not_found"),
            action: "no keys cached"
        }]
    );
    assert_eq!(
        d.step(&mut lookup),
        DiscoveryStep::Refuse(Error::JwksUnavailable)
    );
}

#[test]
fn an_issuer_that_goes_down_keeps_its_last_good_document() {
    let jwks = "https://tenant.example.com/keys";
    let mut d = new(ISS);
    warm(&mut d, T0, jwks);
    // Fresh: memory, no fetch.
    let mut lookup = DiscoveryLookup::new(T0 + 10);
    assert_eq!(used(d.step(&mut lookup)), (jwks.into(), Tier::Memory, None));
    // Last fifth of its life: served, with a background refresh (once).
    let mut lookup = DiscoveryLookup::new(T0 + 500);
    let (_, _, refresh) = used(d.step(&mut lookup));
    let refresh = refresh.expect("a refresh ahead");
    assert_eq!(refresh.conditional.if_none_match.as_deref(), Some("\"d1\""));
    assert_eq!(used(d.step(&mut DiscoveryLookup::new(T0 + 501))).2, None);
    let report = d.refreshed(T0 + 500, &refresh, status(503));
    assert_eq!(report.events.len(), 1);
    // Stale: the token fetches; the issuer is down; the last good document serves.
    let mut lookup = DiscoveryLookup::new(T0 + 700);
    fetch_url(d.step(&mut lookup));
    let report = d.fetched(&mut lookup, Answer::Failed(Error::JwksUnavailable));
    assert_eq!(
        report.events,
        [DiscoveryEvent::FetchFailed {
            code: "jwks_unavailable",
            problem: None,
            action: "serving last-known-good"
        }]
    );
    assert_eq!(used(d.step(&mut lookup)), (jwks.into(), Tier::Stale, None));
    // Within the failure cooldown, the next token does not wait for the issuer.
    let mut lookup = DiscoveryLookup::new(T0 + 710);
    assert_eq!(used(d.step(&mut lookup)).1, Tier::Stale);
    // After it, the issuer is asked again.
    let mut lookup = DiscoveryLookup::new(T0 + 731);
    fetch_url(d.step(&mut lookup));
    d.fetched(&mut lookup, status(500));
    assert_eq!(used(d.step(&mut lookup)).1, Tier::Stale);
    // Past max_age + max_staleness nothing is served.
    let mut lookup = DiscoveryLookup::new(T0 + 600 + 86_400);
    fetch_url(d.step(&mut lookup));
    d.fetched(&mut lookup, status(503));
    assert_eq!(
        d.step(&mut lookup),
        DiscoveryStep::Refuse(Error::JwksUnavailable)
    );
}

#[test]
fn a_moved_jwks_uri_is_followed_and_a_refused_document_changes_nothing() {
    let mut d = new(ISS);
    warm(&mut d, T0, "https://tenant.example.com/keys-1");
    let mut lookup = DiscoveryLookup::new(T0 + 601);
    let f = fetch_url(d.step(&mut lookup));
    assert_eq!(f.conditional.if_none_match.as_deref(), Some("\"d1\""));
    let body = doc(ISS, "https://keys.tenant.example.com/keys-2");
    let report = d.fetched(&mut lookup, ok(&body, None));
    assert_eq!(
        report.events,
        [DiscoveryEvent::JwksUriChanged {
            from: "https://tenant.example.com/keys-1".into(),
            to: "https://keys.tenant.example.com/keys-2".into(),
        }]
    );
    assert_eq!(
        used(d.step(&mut lookup)).0,
        "https://keys.tenant.example.com/keys-2"
    );
    // A later document for another issuer, or with an http jwks_uri, is refused: the
    // held one stays.
    for (body, at) in [
        (
            doc("https://evil.example/", "https://evil.example/keys"),
            T0 + 1300,
        ),
        (doc(ISS, "http://tenant.example.com/keys"), T0 + 1340),
    ] {
        let mut lookup = DiscoveryLookup::new(at);
        fetch_url(d.step(&mut lookup));
        let report = d.fetched(&mut lookup, ok(&body, None));
        assert!(matches!(
            report.events[..],
            [DiscoveryEvent::FetchFailed {
                problem: Some(_),
                ..
            }]
        ));
        assert!(report.store.is_none());
        assert_eq!(
            used(d.step(&mut lookup)),
            (
                "https://keys.tenant.example.com/keys-2".into(),
                Tier::Stale,
                None
            )
        );
    }
    // A 304 keeps the document and renews it; a redirect is refused, never followed.
    let mut d = new(ISS);
    warm(&mut d, T0, "https://tenant.example.com/keys");
    let mut lookup = DiscoveryLookup::new(T0 + 601);
    fetch_url(d.step(&mut lookup));
    assert!(d.fetched(&mut lookup, status(304)).store.is_some());
    assert_eq!(
        used(d.step(&mut DiscoveryLookup::new(T0 + 602))).1,
        Tier::Memory
    );
    let mut lookup = DiscoveryLookup::new(T0 + 1300);
    fetch_url(d.step(&mut lookup));
    let report = d.fetched(&mut lookup, status(302));
    assert_eq!(
        report.events[0],
        DiscoveryEvent::RedirectRefused { status: 302 }
    );
    assert_eq!(used(d.step(&mut lookup)).1, Tier::Stale);
}

#[test]
fn one_fetch_at_a_time_and_stored_snapshots_are_hostile_input() {
    let mut d = new(ISS);
    let mut first = DiscoveryLookup::new(T0);
    let mut second = DiscoveryLookup::new(T0);
    assert_eq!(d.step(&mut first), DiscoveryStep::ReadStored);
    d.stored(&mut first, None);
    assert_eq!(d.step(&mut second), DiscoveryStep::ReadStored);
    d.stored(&mut second, None);
    fetch_url(d.step(&mut first));
    assert_eq!(d.step(&mut second), DiscoveryStep::Wait);
    let generation = d.generation();
    let body = doc(ISS, "https://tenant.example.com/keys");
    let report = d.fetched(&mut first, ok(&body, Some("max-age=120")));
    assert_ne!(d.generation(), generation);
    second.waited();
    assert_eq!(used(d.step(&mut second)).1, Tier::Memory);

    // What this issuer stored reads back (from another isolate).
    let stored = serde_json::to_string(report.store.as_ref().unwrap()).unwrap();
    let mut other = new(ISS);
    let mut lookup = DiscoveryLookup::new(T0 + 5);
    assert_eq!(other.step(&mut lookup), DiscoveryStep::ReadStored);
    assert!(other.stored(&mut lookup, Some(&stored)).is_empty());
    assert_eq!(
        used(other.step(&mut lookup)),
        ("https://tenant.example.com/keys".into(), Tier::Kv, None)
    );
    assert!(other.store_key().starts_with(SNAPSHOT_KEY_PREFIX));
    assert_ne!(
        discovery_key(ISS),
        discovery_key("https://tenant.example.com")
    );

    let snapshot: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let planted = |change: serde_json::Value| {
        let mut s = snapshot.clone();
        for (k, v) in change.as_object().unwrap() {
            s[k] = v.clone();
        }
        s.to_string()
    };
    for hostile in [
        planted(json!({"issuer": "https://evil.example/"})),
        planted(json!({"jwks_uri": "http://evil.example/keys"})),
        planted(json!({"jwks_uri": "https://a@evil.example/keys"})),
        planted(json!({"document_uri": "https://evil.example/.well-known/openid-configuration"})),
        planted(json!({"fetched_at": T0 + 100})),
        planted(json!({"extra": 1})),
        "{".to_owned(),
        "x".repeat(20_000),
    ] {
        let mut d = new(ISS);
        let mut lookup = DiscoveryLookup::new(T0 + 5);
        d.step(&mut lookup);
        assert_eq!(
            d.stored(&mut lookup, Some(&hostile)),
            [DiscoveryEvent::StoredRefused],
            "{hostile:.80}"
        );
        fetch_url(d.step(&mut lookup));
    }
    // A planted lifetime is clamped to the policy's ceiling.
    let mut d = new(ISS);
    let mut lookup = DiscoveryLookup::new(T0 + 5);
    d.step(&mut lookup);
    d.stored(&mut lookup, Some(&planted(json!({"max_age": u64::MAX}))));
    used(d.step(&mut lookup));
    let mut late = DiscoveryLookup::new(T0 + 86_400 + 1);
    assert!(matches!(d.step(&mut late), DiscoveryStep::Fetch(_)));
}

#[test]
fn the_key_source_follows_a_moved_jwks_uri() {
    let fixture = common::jose_fixture();
    let set = json!({"keys": fixture["jwks"]["keys"]})
        .to_string()
        .into_bytes();
    let build = |set: JwkSet| -> Result<usize, Error> { Ok(set.keys().len()) };
    let mut source: KeySource<usize> = KeySource::new(
        "https://tenant.example.com/keys-1",
        CachePolicy::default(),
        JwksOptions::default(),
        false,
    );
    let mut lookup = Lookup::new(None, None, T0);
    assert!(matches!(source.step(&mut lookup), Step::Fetch(_)));
    source.fetched(&mut lookup, ok(&set, None), build);
    // Retargeted while the set is fresh: fetched anew from the new URI at once, with no
    // validators from the old one; if the new URI fails the old keys serve as stale.
    source.retarget("https://keys.tenant.example.com/keys-2");
    let mut lookup = Lookup::new(None, None, T0 + 1);
    match source.step(&mut lookup) {
        Step::Fetch(conditional) => assert_eq!(conditional.if_none_match, None),
        other => panic!("{other:?}"),
    }
    source.fetched(&mut lookup, Answer::Failed(Error::JwksUnavailable), build);
    assert!(matches!(
        source.step(&mut lookup),
        Step::Serve {
            tier: Tier::Stale,
            ..
        }
    ));
    // A fetch that started before a retarget is recorded under the URI it went to.
    let mut lookup = Lookup::new(None, None, T0 + 40);
    assert!(matches!(source.step(&mut lookup), Step::Fetch(_)));
    source.retarget("https://keys.tenant.example.com/keys-3");
    source.fetched(&mut lookup, ok(&set, None), build);
    assert_eq!(
        source.held().unwrap().0.jwks_uri.as_deref(),
        Some("https://keys.tenant.example.com/keys-2")
    );
    let mut lookup = Lookup::new(None, None, T0 + 41);
    assert!(matches!(source.step(&mut lookup), Step::Fetch(_)));
    source.fetched(&mut lookup, ok(&set, None), build);
    let mut lookup = Lookup::new(None, None, T0 + 42);
    assert!(matches!(
        source.step(&mut lookup),
        Step::Serve {
            tier: Tier::Memory,
            ..
        }
    ));
}
