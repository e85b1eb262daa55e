//! Tokens minted by an independent implementation (`jose` from npm, and node:crypto
//! for ES256K, which jose 6 lacks), with the verdict each must get. See
//! tests/fixtures/README.md for how they were made. Set `JWT_EDGE_FIXTURES` to run
//! the same cases over a freshly minted file.

mod common;

use common::{code, jose_fixture, jose_verifier};

#[test]
fn every_jose_case_gets_its_expected_verdict() {
    let fixture = jose_fixture();
    let verifier = jose_verifier(&fixture);
    let now = fixture["now"].as_i64().unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 38, "fixture has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let got = code(verifier.verify(case["token"].as_str().unwrap(), now));
        if got != case["expect"].as_str().unwrap() {
            failures.push(format!("{name}: expected {}, got {got}", case["expect"]));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_algorithm_has_a_valid_jose_token() {
    let fixture = jose_fixture();
    let verifier = jose_verifier(&fixture);
    let now = fixture["now"].as_i64().unwrap();
    for alg in [
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
        "ES384", "ES512", "ES256K", "EdDSA",
    ] {
        let case = fixture["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == format!("valid_{alg}"))
            .unwrap_or_else(|| panic!("no valid_{alg}"));
        let token = verifier
            .verify(case["token"].as_str().unwrap(), now)
            .unwrap();
        assert_eq!(token.algorithm.name(), alg);
        assert_eq!(token.claims.subject.as_deref(), Some("user-123"));
        assert_eq!(token.claims.all["scope"], "read");
        // The same token an hour later is expired: the clock is an input.
        assert_eq!(
            code(verifier.verify(case["token"].as_str().unwrap(), now + 3600)),
            "token_expired"
        );
    }
}
