//! The one verdict shape (`src/verdict.rs`), held to golden JSON text in
//! `tests/fixtures/verdict.json`. The same file is read by the CLI's test
//! (`tests/cli.rs`: `verify` prints exactly these lines) and the npm package's
//! (`tests/npm/verdict.test.mjs`: `verify` returns these objects, `JwtEdgeError.verdict`
//! carries the refusal); the worker's verdict mode is checked member by member in
//! `tests/edge/verify.test.mjs`.
//!
//! `JWT_EDGE_BLESS=1 cargo test --test verdict` rewrites the fixture instead of checking
//! it (after a deliberate change, to be reviewed in the diff).

mod common;

use std::path::PathBuf;

use common::{b64, hs256, hs_verifier, NOW, SECRET};
use jwt_edge::{ClaimsPolicy, Error, KeySource, Verdict};
use serde_json::{json, Value};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verdict.json")
}

/// One token, HS256 over [`SECRET`] named `hs`: deterministic, so every front end can
/// verify the same text.
fn golden_token() -> String {
    hs256(
        &json!({"alg": "HS256", "kid": "hs", "typ": "JWT"}),
        &json!({"iss": "https://issuer.example", "sub": "user-1", "iat": NOW - 10,
                "exp": NOW + 300, "jti": "id-1", "scope": ["read", "write"]}),
    )
}

/// When the golden token is refused as expired.
const LATER: i64 = NOW + 1000;

#[test]
fn verdicts_match_the_golden_json() {
    let token = golden_token();
    let verifier = hs_verifier(ClaimsPolicy::default());
    let accepted = verifier.verify(&token, NOW);
    let refused = verifier.verify(&token, LATER);
    assert_eq!(refused.as_ref().err(), Some(&Error::TokenExpired));
    let accepted_text = Verdict::of(&accepted, KeySource::Local).to_string();
    let refused_text = Verdict::of(&refused, KeySource::Local).to_string();
    let fixture = json!({
        "about": "The one verdict shape (src/verdict.rs) for one token, as every front end answers it. Written by `JWT_EDGE_BLESS=1 cargo test --test verdict`.",
        "secret": b64(SECRET),
        "kid": "hs",
        "now": NOW,
        "token": token,
        "accepted": accepted_text,
        "later": LATER,
        "refused": refused_text,
    });
    let path = fixture_path();
    if std::env::var_os("JWT_EDGE_BLESS").is_some() {
        let mut text = serde_json::to_string_pretty(&fixture).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        return;
    }
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        stored, fixture,
        "tests/fixtures/verdict.json (JWT_EDGE_BLESS=1 to rewrite)"
    );
}

#[test]
fn an_accepted_verdict_has_exactly_the_documented_members_in_order() {
    let token = golden_token();
    let verified = hs_verifier(ClaimsPolicy::default())
        .verify(&token, NOW)
        .unwrap();
    let text = Verdict::accepted(&verified, KeySource::Issuer).to_string();
    assert!(
        text.starts_with(
            r#"{"valid":true,"alg":"HS256","kid":"hs","key_source":"issuer","header":{"#
        ),
        "{text}"
    );
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        value["header"],
        json!({"alg": "HS256", "kid": "hs", "typ": "JWT"})
    );
    assert_eq!(value["claims"]["scope"], json!(["read", "write"]));
    assert_eq!(
        Value::Object(Verdict::accepted(&verified, KeySource::Issuer).to_map()),
        value
    );
    // A key without a kid: `kid` is null, never absent.
    let mut no_kid = verified.clone();
    no_kid.key_id = None;
    let value: Value =
        serde_json::from_str(&Verdict::accepted(&no_kid, KeySource::Local).to_string()).unwrap();
    assert_eq!(value["kid"], Value::Null);
    assert_eq!(
        value.as_object().unwrap().keys().count(),
        6,
        "valid, alg, kid, key_source, header, claims"
    );
}

#[test]
fn a_refused_verdict_is_code_family_and_display() {
    for (err, code, family) in [
        (Error::TokenExpired, "token_expired", "claims"),
        (Error::SignatureInvalid, "signature_invalid", "signature"),
        (Error::TokenReplayed, "token_replayed", "replay"),
        (Error::ReplayUnavailable, "replay_unavailable", "replay"),
        (
            Error::config_invalid("algorithms"),
            "config_invalid",
            "config",
        ),
    ] {
        let text = Verdict::refused(&err).to_string();
        let expected =
            json!({"valid": false, "code": code, "family": family, "message": err.to_string()});
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
        assert!(text.starts_with(&format!(
            r#"{{"valid":false,"code":"{code}","family":"{family}","message":"#
        )));
        assert!(!Verdict::refused(&err).is_valid());
    }
}

#[test]
fn key_sources_have_stable_names_that_parse_back() {
    let names: Vec<&str> = KeySource::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(
        names,
        ["memory", "kv", "issuer", "stale", "secret", "local"]
    );
    for source in KeySource::ALL {
        assert_eq!(source.name().parse::<KeySource>(), Ok(source));
        assert_eq!(source.to_string(), source.name());
    }
    assert_eq!(
        "jwks".parse::<KeySource>(),
        Err(Error::config_invalid("key_source"))
    );
}

/// The refusal a front end answers: the same from the error and from its code and
/// message (what the npm package keeps), for every kind; exact for one with a route.
#[test]
fn refusals_from_the_error_or_its_code_and_message_agree() {
    use jwt_edge::{Challenge, Refusal, RefusalContext};
    let context = RefusalContext {
        realm: "api",
        challenge: Challenge {
            scope: Some("items:write"),
            resource_metadata: Some("https://api.example.com/.well-known/oauth-protected-resource"),
        },
        route: Some("write"),
    };
    for err in Error::ALL_KINDS {
        let kind = Error::of_code(err.code()).expect("every code has a kind");
        assert_eq!(
            Refusal::described(kind, &err.to_string(), &context),
            Refusal::new(err, &context),
            "{err:?}"
        );
    }
    assert_eq!(Error::of_code("no_such_code"), None);
    let refusal = Refusal::new(&Error::InsufficientScope, &context);
    assert_eq!(refusal.status, 403);
    assert_eq!(
        refusal.www_authenticate.as_deref(),
        Some("Bearer realm=\"api\", error=\"insufficient_scope\", error_description=\"token lacks a scope this resource requires\", scope=\"items:write\", resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource\"")
    );
    let body: serde_json::Value = serde_json::from_str(&refusal.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "type": "https://jwt-edge.dev/errors/insufficient_scope",
            "title": "token lacks a scope this resource requires",
            "status": 403,
            "detail": "token lacks a scope this resource requires",
            "valid": false,
            "code": "insufficient_scope",
            "family": "claims",
            "message": "token lacks a scope this resource requires",
            "route": "write"
        })
    );
    // 503s carry no challenge.
    assert_eq!(
        Refusal::new(&Error::JwksUnavailable, &context).www_authenticate,
        None
    );
}
