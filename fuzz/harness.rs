//! The fuzz harness: one function per target, each taking the raw input. Shared by the
//! libFuzzer targets (`fuzz/fuzz_targets/*.rs`, run by `scripts/fuzz.sh`) and by
//! `tests/fuzz_regressions.rs`, which replays every saved input on every test run.
//!
//! A panic anywhere is a finding. So is an accepted token that the fixtures did not
//! sign: the verify target checks that nothing but a genuine jose token is accepted.

// Each fuzz target uses one function of this file.
#![allow(dead_code)]

use std::sync::OnceLock;

use base64ct::{Base64UrlUnpadded, Encoding};

use jwt_edge::internals::discovery::{read_document, Discovery, DiscoveryLookup, DiscoveryStep};
use jwt_edge::internals::routes::{normalise_path, PathPattern};
use jwt_edge::internals::{
    claim_header, jwks_uri_allowed, max_age_from_cache_control, ClaimHeader, EdgeConfig,
    MAX_CLAIM_HEADER_BYTES,
};
use jwt_edge::{
    extract_token, extract_token_from, parse_private_jwk, strip_query_parameter, Algorithm,
    AssertionConfig, AssertionPolicy, AssertionSigner, AssertionVerifier, CachePolicy,
    ClaimsPolicy, Jwk, JwkSet, JwksOptions, RequestBinding, TokenSource, UntrustedToken,
    VerifiedToken, Verifier, VerifyConfig, VerifyOptions,
};
use serde_json::{json, Map, Value};

/// Tokens, keys and policy minted by jose (tests/fixtures/jose/tokens.json).
const FIXTURE: &str = include_str!("../tests/fixtures/jose/tokens.json");

/// The names of the targets, as `scripts/fuzz.sh` and the regression test know them.
pub const TARGETS: [&str; 6] = ["token", "jwks", "verify", "config", "extract", "assertion"];

/// Runs one target's harness on one input.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "token" => token(data),
        "jwks" => jwks(data),
        "verify" => verify(data),
        "config" => config(data),
        "extract" => extract(data),
        "assertion" => assertion(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// Token parsing: the compact form, base64url, the header JSON and its members.
pub fn token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = UntrustedToken::parse(text, 16 * 1024) {
        let _ = token.header();
        let _ = token.routing_issuer();
        let _ = token.dangerous_payload();
        assert!(token.len() <= 16 * 1024);
    }
}

/// JWKS parsing and key import (RSA, EC on four curves, Ed25519, oct), with and
/// without `oct` keys allowed; every imported key is then used once to verify.
pub fn jwks(data: &[u8]) {
    discovery_document(data);
    for allow_oct in [false, true] {
        let options = JwksOptions {
            allow_oct,
            ..JwksOptions::default()
        };
        let Ok(set) = JwkSet::parse(data, &options) else {
            continue;
        };
        assert!(set.keys().len() <= options.max_keys);
        let Ok(verifier) = Verifier::new(
            set,
            VerifyOptions {
                algorithms: Algorithm::ALL.to_vec(),
                max_candidates: 100,
                ..VerifyOptions::default()
            },
        ) else {
            continue;
        };
        for case in fixture_tokens() {
            // Keys from fuzzed bytes may verify nothing the fixtures signed with other keys.
            let _ = verifier.verify_signature(&case.token);
        }
    }
}

/// The input as an issuer's discovery document, as a stored discovery snapshot, and as
/// claims for the origin's headers. Oracles: an accepted document names a `jwks_uri`
/// that may be fetched; a stored snapshot is used only for its issuer and a fetchable
/// URI; a claim header is printable ASCII within its size limit.
fn discovery_document(data: &[u8]) {
    const ISS: &str = "https://issuer.example/";
    for allow in [false, true] {
        if let Ok(uri) = read_document(data, ISS, allow) {
            assert!(jwks_uri_allowed(&uri, allow));
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut discovery =
        Discovery::new(ISS, CachePolicy::default(), false, true).expect("a discoverable issuer");
    let now = 1_800_000_000;
    let mut lookup = DiscoveryLookup::new(now);
    assert_eq!(discovery.step(&mut lookup), DiscoveryStep::ReadStored);
    let _ = discovery.stored(&mut lookup, Some(text));
    if let DiscoveryStep::Use { jwks_uri, .. } = discovery.step(&mut lookup) {
        assert!(jwks_uri_allowed(&jwks_uri, false));
        assert_eq!(discovery.held().map(|h| h.issuer.as_str()), Some(ISS));
    }
    if let Ok(Value::Object(claims)) = serde_json::from_str::<Value>(text) {
        for path in claims.keys().take(16) {
            if let ClaimHeader::Send(value) = claim_header(&claims, path) {
                assert!(value.len() <= MAX_CLAIM_HEADER_BYTES);
                assert!(
                    value.bytes().all(|b| (0x20..=0x7e).contains(&b)),
                    "{value:?}"
                );
            }
        }
    }
}

/// Full verification with the fixtures' keys and policy at the fixtures' `now`.
/// Oracle: only a token jose signed and the fixture marks valid may pass.
pub fn verify(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (verifier, now) = fixture_verifier();
    if let Ok(verified) = verifier.verify(text, *now) {
        assert!(
            fixture_tokens().iter().any(|c| c.valid && c.token == text),
            "accepted a token the fixtures did not sign as valid: {text:?} -> {verified:?}"
        );
    }
}

/// Configuration parsing: the verifier options (npm/CLI) and the worker's configuration,
/// then everything derived from a configuration that parsed.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = VerifyConfig::from_json(text) {
        let _ = config.build();
    }
    if let Ok(config) = EdgeConfig::from_json(text) {
        let _ = config.jwks_options();
        for issuer in &config.issuers {
            let _ = config.verify_options(issuer);
            let _ = config.route(Some(&issuer.issuer));
        }
        let _ = config.route(None);
        let _ = config.route(Some("https://elsewhere.example"));
        // The route table, asked about a few requests and about the input's own lines.
        for path in ["/", "/admin", "/admin/", "/api/items/1", "/docs/a/b"]
            .into_iter()
            .chain(text.lines())
        {
            if let Ok(normal) = normalise_path(path) {
                for method in ["GET", "HEAD", "post", "PATCH"] {
                    let route = config
                        .routes
                        .select(method, Some("api.example.com"), &normal);
                    let _ = route.scope_challenge();
                }
            }
        }
        if let Some(metadata) = &config.resource_metadata {
            assert!(metadata.url().starts_with("https://"));
            let _ = metadata.document();
        }
    }
    route_paths(text);
}

/// The input as a request path and as a route pattern. A normal form is a fixed point
/// (normalising it again changes nothing), starts with `/`, and holds none of the
/// spellings hygiene refuses; a pattern that parses matches what it should not only
/// through the documented trailing-slash rule.
fn route_paths(text: &str) {
    for line in text.lines().chain(std::iter::once(text)) {
        if let Ok(normal) = normalise_path(line) {
            assert_eq!(
                normalise_path(&normal).as_deref(),
                Ok(normal.as_str()),
                "fixed point"
            );
            assert!(normal.starts_with('/'));
            let upper = normal.to_ascii_uppercase();
            for refused in ["//", "%2F", "%5C", "\\", ";", "/./", "/../", "%2E"] {
                assert!(!upper.contains(refused), "{refused} in a normal form");
            }
            if let Ok(pattern) = PathPattern::parse(line) {
                // A pattern without wildcards matches its own text.
                if !line.contains('*') {
                    assert!(pattern.matches(&normal), "a literal pattern matches itself");
                }
            }
        }
    }
}

/// Token extraction from the `Authorization` header (two schemes), a cookie and a
/// named header. The input is split at NUL bytes into those three header values. The
/// whole input is also an issuer's `Cache-Control` header, whose max-age must land
/// inside the policy's bounds.
pub fn extract(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = CachePolicy::default();
    let max_age = max_age_from_cache_control(Some(text), &policy);
    assert!((policy.min_max_age..=policy.max_max_age).contains(&max_age));
    let mut parts = text.splitn(3, '\0');
    let authorization = parts.next().map(str::to_owned);
    let cookie = parts.next().map(str::to_owned);
    let custom = parts.next().map(str::to_owned);
    let sources = [
        TokenSource::Authorization {
            schemes: vec!["Bearer".into(), "Custom-Jwt".into()],
        },
        TokenSource::Cookie {
            name: "session".into(),
        },
        TokenSource::Header {
            name: "x-jwt".into(),
            prefix: None,
        },
    ];
    let lookup = |name: &str| match name.to_ascii_lowercase().as_str() {
        "authorization" => authorization.clone(),
        "cookie" => cookie.clone(),
        "x-jwt" => custom.clone(),
        _ => None,
    };
    for limit in [16 * 1024, 64] {
        if let Ok(token) = extract_token(&sources, limit, lookup) {
            assert!(!token.is_empty() && token.len() <= limit);
            assert!(text.contains(&token));
            token_from_extracted(&token);
        }
    }
    // The input as a query string. Oracles: a token read from it is bounded and holds
    // JWT characters only; once the parameter is stripped (what the origin receives),
    // no token is left in it, and the other pairs are kept byte for byte.
    let query = [TokenSource::Query {
        name: "access_token".into(),
    }];
    if let Ok(token) = extract_token_from(&query, 16 * 1024, |_| None, Some(text)) {
        assert!(!token.is_empty() && token.len() <= 16 * 1024);
        token_from_extracted(&token);
    }
    let stripped = strip_query_parameter(text, "access_token");
    if let Some(rest) = &stripped {
        assert!(rest.len() <= text.len());
        for pair in rest.split('&') {
            assert!(
                text.split('&').any(|p| p == pair),
                "a pair the input did not have"
            );
        }
    }
    assert_eq!(
        extract_token_from(&query, 16 * 1024, |_| None, stripped.as_deref()),
        Err(jwt_edge::Error::TokenMissing)
    );
}

/// The origin's side of signed assertions (issue 6): the input as an assertion, checked
/// against the worker's key and the request; and the input as the private JWK a Worker
/// secret holds. Oracles: only the harness's own assertion is accepted, and a key the
/// signer takes signs assertions that the verifier built from the same JWK accepts.
pub fn assertion(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let fixture = assertion_fixture();
    if let Ok(verified) = fixture
        .verifier
        .verify(text, ASSERTION_REQUEST, fixture.now)
    {
        assert!(
            text == fixture.assertion,
            "accepted an assertion the harness did not sign: {text:?} -> {verified:?}"
        );
    }
    if let Ok(jwk) = parse_private_jwk(text) {
        let verifier = AssertionVerifier::from_jwk(&jwk, assertion_policy());
        if let Ok(signer) = AssertionSigner::new(&jwk, assertion_config()) {
            let signed = signer
                .sign(
                    &fixture.token,
                    ASSERTION_REQUEST,
                    fixture.now,
                    &ASSERTION_ID,
                )
                .expect("a key the signer takes signs");
            let verifier = verifier.expect("the signer's key builds a verifier");
            verifier
                .verify(&signed, ASSERTION_REQUEST, fixture.now)
                .expect("the verifier accepts the signer's assertion");
        }
    }
}

/// The request an assertion is bound to, and its `jti`.
const ASSERTION_REQUEST: RequestBinding<'static> = RequestBinding {
    method: "POST",
    path: "/api/items?x=1",
};
const ASSERTION_ID: [u8; 16] = *b"fuzz-assertion-1";

fn assertion_config() -> AssertionConfig {
    serde_json::from_value(json!({ "key_secret": "ASSERTION_KEY", "audience": "origin" }))
        .expect("assertion config")
}

fn assertion_policy() -> AssertionPolicy {
    AssertionPolicy {
        audience: Some("origin".into()),
        ..AssertionPolicy::default()
    }
}

/// The worker's assertion key (fixed Ed25519 seed 0x2a…) as its Worker secret holds it.
pub fn assertion_key() -> Map<String, Value> {
    let d = Base64UrlUnpadded::encode_string(&[0x2a; 32]);
    parse_private_jwk(&json!({ "kty": "OKP", "crv": "Ed25519", "d": d }).to_string())
        .expect("assertion key")
}

/// The assertion fixture: a token verified by the jose fixture, the one assertion the
/// harness signs for it, and the origin's verifier.
pub struct AssertionFixture {
    pub token: VerifiedToken,
    pub assertion: String,
    pub verifier: AssertionVerifier,
    pub now: i64,
}

pub fn assertion_fixture() -> &'static AssertionFixture {
    static FIXTURE: OnceLock<AssertionFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (verifier, now) = fixture_verifier();
        let case = fixture_tokens()
            .iter()
            .find(|c| c.valid)
            .expect("a valid case");
        let token = verifier
            .verify(&case.token, *now)
            .expect("the valid case verifies");
        let key = assertion_key();
        let signer = AssertionSigner::new(&key, assertion_config()).expect("signer");
        let assertion = signer
            .sign(&token, ASSERTION_REQUEST, *now, &ASSERTION_ID)
            .expect("assertion");
        let verifier = AssertionVerifier::from_jwk(&key, assertion_policy()).expect("verifier");
        AssertionFixture {
            token,
            assertion,
            verifier,
            now: *now,
        }
    })
}

fn token_from_extracted(token: &str) {
    let _ = UntrustedToken::parse(token, 16 * 1024);
}

/// One fixture case.
pub struct Case {
    /// The compact token.
    pub token: String,
    /// Whether the fixture expects it to verify.
    pub valid: bool,
}

fn fixture() -> &'static Value {
    static FIXTURE_JSON: OnceLock<Value> = OnceLock::new();
    FIXTURE_JSON.get_or_init(|| serde_json::from_str(FIXTURE).expect("fixture JSON"))
}

/// Every token of the fixture, with its expectation.
pub fn fixture_tokens() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        fixture()["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| Case {
                token: c["token"].as_str().expect("token").to_owned(),
                valid: c["expect"] == "ok",
            })
            .collect()
    })
}

/// The fixture's public keys and HMAC secrets under its policy, with its `now`.
pub fn fixture_verifier() -> &'static (Verifier, i64) {
    static VERIFIER: OnceLock<(Verifier, i64)> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let f = fixture();
        let jwks = serde_json::to_vec(&f["jwks"]).expect("jwks");
        let mut keys = JwkSet::parse(&jwks, &JwksOptions::default()).expect("fixture jwks");
        for s in f["secrets"].as_array().expect("secrets") {
            let alg: Algorithm = s["alg"].as_str().expect("alg").parse().expect("alg");
            let secret = Base64UrlUnpadded::decode_vec(s["k"].as_str().expect("k")).expect("k");
            keys.push(
                Jwk::hmac_secret(
                    Some(s["kid"].as_str().expect("kid").into()),
                    secret,
                    Some(alg),
                )
                .expect("secret"),
            );
        }
        let policy = &f["policy"];
        let options = VerifyOptions {
            algorithms: Algorithm::ALL.to_vec(),
            claims: ClaimsPolicy {
                issuers: vec![policy["issuer"].as_str().expect("iss").into()],
                audiences: vec![policy["audience"].as_str().expect("aud").into()],
                clock_skew: policy["clock_skew"].as_u64().expect("skew"),
                ..ClaimsPolicy::default()
            },
            ..VerifyOptions::default()
        };
        let now = f["now"].as_i64().expect("now");
        (Verifier::new(keys, options).expect("verifier"), now)
    })
}
