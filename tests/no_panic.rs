//! No input may panic (a panic in wasm kills the request) and none may be accepted by
//! accident: arbitrary bytes, arbitrary JSON, and mutations of valid tokens go through
//! parse and verify. Deterministic: proptest's seed is fixed by the config below.
//!
//! Every result has an oracle: a refusal carries a code of the stage that could refuse
//! it (a forged signature never reaches the claims), an acceptance only what the input
//! allows.

mod common;

use common::{hs256_raw, jose_fixture, jose_verifier};
use jwt_edge::{Error, ErrorFamily, JwkSet, JwksOptions, JwksProblem, UntrustedToken};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// What parsing alone refuses with.
const PARSE_CODES: [&str; 4] = [
    "token_too_large",
    "token_malformed",
    "crit_unsupported",
    "b64_unsupported",
];

/// What a token without a genuine signature is refused with: parsing, the allow-list,
/// key selection or the signature, never a claim.
const UNSIGNED_CODES: [&str; 8] = [
    "token_too_large",
    "token_malformed",
    "crit_unsupported",
    "b64_unsupported",
    "alg_not_allowed",
    "no_matching_key",
    "key_mismatch",
    "signature_invalid",
];

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]))
}

#[test]
fn arbitrary_strings_never_panic_or_verify() {
    let f = jose_fixture();
    let v = jose_verifier(&f);
    let now = f["now"].as_i64().unwrap();
    let strategy = prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_=+/.-]{0,300}",
        "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,120}",
    ];
    runner(3000)
        .run(&strategy, |s| {
            let verified = v.verify(&s, now);
            prop_assert!(verified.is_err(), "accepted an arbitrary string");
            let code = verified.err().map(|e| e.code()).unwrap_or("ok");
            prop_assert!(UNSIGNED_CODES.contains(&code), "verify: {code}");
            match UntrustedToken::parse(&s, 16384) {
                // The verifier refuses what parsing refuses, for the same reason.
                Err(e) => {
                    prop_assert!(PARSE_CODES.contains(&e.code()), "parse: {}", e.code());
                    prop_assert_eq!(code, e.code());
                }
                Ok(_) => prop_assert_eq!(s.split('.').count(), 3),
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_valid_tokens_never_panic_and_never_verify() {
    let f = jose_fixture();
    let v = jose_verifier(&f);
    let now = f["now"].as_i64().unwrap();
    let valid: Vec<String> = f["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["expect"] == "ok")
        .map(|c| c["token"].as_str().unwrap().to_owned())
        .collect();
    let strategy = (0..valid.len(), any::<usize>(), any::<u8>(), 0..4u8);
    runner(4000)
        .run(&strategy, |(which, pos, byte, op)| {
            let original = valid[which].as_bytes();
            let pos = pos % original.len();
            let mut t = original.to_vec();
            match op {
                0 => t[pos] = byte,
                1 => t.insert(pos, byte),
                2 => {
                    t.remove(pos);
                }
                _ => t.truncate(pos),
            }
            let Ok(text) = String::from_utf8(t) else {
                return Ok(());
            };
            let r = v.verify(&text, now);
            if text.as_bytes() == original {
                // Only a mutation that leaves the token byte-identical verifies.
                prop_assert!(r.is_ok(), "refused the unchanged token: {:?}", r.err());
            } else {
                let code = r.err().map(|e| e.code()).unwrap_or("ok");
                prop_assert!(UNSIGNED_CODES.contains(&code), "mutated token: {code}");
            }
            Ok(())
        })
        .unwrap();
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-z]{0,6}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("exp".to_owned()),
                    Just("nbf".to_owned()),
                    Just("iat".to_owned()),
                    Just("aud".to_owned()),
                    Just("iss".to_owned()),
                    Just("jti".to_owned()),
                    "[a-z]{1,3}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

#[test]
fn validly_signed_arbitrary_claims_never_panic() {
    // A genuine HS256 signature over arbitrary JSON drives the claims code with
    // hostile types and values.
    let v = common::hs_verifier(jwt_edge::ClaimsPolicy {
        issuers: vec!["a".into()],
        audiences: vec!["b".into()],
        max_lifetime: Some(60),
        ..Default::default()
    });
    runner(2000)
        .run(&(json_value(), json_value()), |(header, payload)| {
            // An arbitrary header never names HS256 (its strings are lowercase): refused
            // by parsing or the allow-list.
            let r = v.verify(
                &hs256_raw(
                    header.to_string().as_bytes(),
                    payload.to_string().as_bytes(),
                ),
                common::NOW,
            );
            let code = r.err().map(|e| e.code()).unwrap_or("ok");
            prop_assert!(
                PARSE_CODES.contains(&code) || code == "alg_not_allowed",
                "arbitrary header: {code}"
            );
            let mut h = serde_json::json!({"alg": "HS256", "kid": "hs"});
            if let serde_json::Value::Object(extra) = &header {
                for (k, val) in extra {
                    if k != "alg" && k != "kid" {
                        h[k] = val.clone();
                    }
                }
            }
            // A genuine signature: refused by the header or the claims only, and
            // accepted only with the policy's issuer and audience.
            match v.verify(
                &hs256_raw(h.to_string().as_bytes(), payload.to_string().as_bytes()),
                common::NOW,
            ) {
                Ok(token) => {
                    prop_assert_eq!(payload.get("iss"), Some(&serde_json::json!("a")));
                    let aud = payload.get("aud");
                    prop_assert!(
                        aud == Some(&serde_json::json!("b"))
                            || aud
                                .and_then(|a| a.as_array())
                                .is_some_and(|a| a.contains(&serde_json::json!("b"))),
                        "accepted audience {:?}",
                        aud
                    );
                    prop_assert_eq!(
                        &serde_json::Value::Object(token.claims.all.clone()),
                        &payload
                    );
                }
                Err(e) => {
                    prop_assert!(
                        matches!(e.family(), ErrorFamily::Token | ErrorFamily::Claims),
                        "genuine signature refused with {}",
                        e.code()
                    );
                    if !payload.is_object() {
                        prop_assert_eq!(e.code(), "token_malformed");
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_key_sets_never_panic() {
    let f = jose_fixture();
    let real: Vec<serde_json::Value> = f["jwks"]["keys"].as_array().unwrap().clone();
    let strategy = (json_value(), 0..real.len(), 0..10usize, json_value());
    runner(2000)
        .run(&strategy, |(doc, which, member, value)| {
            let parsed = JwkSet::parse(
                doc.to_string().as_bytes(),
                &JwksOptions {
                    allow_oct: true,
                    ..Default::default()
                },
            );
            match (doc.get("keys").and_then(|k| k.as_array()), parsed) {
                // Each entry is imported or skipped with a reason, none lost.
                (Some(entries), Ok(set)) => {
                    prop_assert_eq!(set.keys().len() + set.skipped().len(), entries.len())
                }
                // Refused as a whole only for private members (random names include
                // `d`, `p`, `q`, `dp`, …).
                (Some(_), Err(e)) => {
                    prop_assert_eq!(e, Error::JwksInvalid(JwksProblem::PrivateKeyMaterial))
                }
                (None, r) => {
                    prop_assert_eq!(r.err(), Some(Error::JwksInvalid(JwksProblem::Malformed)))
                }
            }
            // A real key with one member replaced by arbitrary JSON.
            let mut key = real[which].clone();
            let name = [
                "kty", "crv", "x", "y", "n", "e", "kid", "alg", "use", "key_ops",
            ][member];
            key[name] = value;
            let unchanged = key == real[which];
            let doc = serde_json::json!({ "keys": [key] });
            // No private member is replaced: the set parses, the key imported or skipped.
            let set = JwkSet::parse(doc.to_string().as_bytes(), &JwksOptions::default());
            prop_assert!(set.is_ok(), "{:?}", set.as_ref().err());
            if let Ok(set) = set {
                prop_assert_eq!(set.keys().len() + set.skipped().len(), 1);
                if unchanged {
                    prop_assert_eq!(set.keys().len(), 1);
                }
            }
            Ok(())
        })
        .unwrap();
}
