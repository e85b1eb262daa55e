//! Error codes are stable and unique, map to HTTP per RFC 6750 §3, and never echo
//! a token or key.

mod common;

use common::{jose_fixture, jose_verifier};
use jwt_edge::{Error, JwksProblem, Malformed};

fn every_variant() -> Vec<Error> {
    vec![
        Error::TokenMissing,
        Error::RequestMalformed("two tokens"),
        Error::TokenTooLarge { limit: 16384 },
        Error::TokenMalformed(Malformed::Base64),
        Error::CritUnsupported,
        Error::B64Unsupported,
        Error::AlgorithmNotAllowed,
        Error::NoMatchingKey,
        Error::KeyMismatch,
        Error::SignatureInvalid,
        Error::TokenExpired,
        Error::TokenNotYetValid,
        Error::IssuedInFuture,
        Error::LifetimeTooLong,
        Error::ClaimMissing("exp"),
        Error::ClaimInvalid("aud"),
        Error::IssuerMismatch,
        Error::AudienceMismatch,
        Error::SubjectMismatch,
        Error::TypeMismatch,
        Error::AssertionMismatch("path"),
        Error::TokenReplayed,
        Error::ReplayUnavailable,
        Error::JwksUnavailable,
        Error::JwksInvalid(JwksProblem::PrivateKeyMaterial),
        Error::config_invalid("algorithms"),
        Error::ResponseFailed,
        Error::RandomnessUnavailable,
    ]
}

#[test]
fn codes_are_unique_snake_case_and_stable() {
    let codes: Vec<&str> = every_variant().iter().map(Error::code).collect();
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), codes.len());
    assert!(codes.iter().all(|c| c
        .chars()
        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')));
    // Front ends and users match on these strings: changing one is a breaking change.
    assert_eq!(codes.join(","), "token_missing,request_malformed,token_too_large,token_malformed,crit_unsupported,b64_unsupported,alg_not_allowed,no_matching_key,key_mismatch,signature_invalid,token_expired,token_not_yet_valid,iat_in_future,lifetime_too_long,claim_missing,claim_invalid,issuer_mismatch,audience_mismatch,subject_mismatch,typ_mismatch,assertion_mismatch,token_replayed,replay_unavailable,jwks_unavailable,jwks_invalid,config_invalid,response_failed,randomness_unavailable");
}

#[test]
fn http_mapping_follows_rfc6750() {
    for err in every_variant() {
        let http = err.http();
        let expected = match err {
            Error::TokenMissing => (401, None),
            Error::RequestMalformed(_) => (400, Some("invalid_request")),
            Error::AudienceMismatch => (403, Some("insufficient_scope")),
            Error::ReplayUnavailable | Error::JwksInvalid(_) | Error::JwksUnavailable => {
                (503, None)
            }
            Error::ConfigInvalid(_) | Error::ResponseFailed | Error::RandomnessUnavailable => {
                (500, None)
            }
            _ => (401, Some("invalid_token")),
        };
        assert_eq!((http.status, http.error), expected, "{err:?}");
        let header = http.www_authenticate("api", &err);
        assert_eq!(
            header.is_some(),
            matches!(http.status, 400 | 401 | 403),
            "{err:?}"
        );
    }
    let missing = Error::TokenMissing;
    assert_eq!(
        missing.http().www_authenticate("api", &missing).unwrap(),
        r#"Bearer realm="api""#
    );
    let expired = Error::TokenExpired;
    assert_eq!(
        expired.http().www_authenticate("api", &expired).unwrap(),
        r#"Bearer realm="api", error="invalid_token", error_description="token has expired""#
    );
    // A realm from configuration cannot break out of its quotes.
    let v = expired
        .http()
        .www_authenticate("a\"b\\c\r\nd", &expired)
        .unwrap();
    assert!(v.starts_with(r#"Bearer realm="a\"b\\cd""#), "{v}");
}

#[test]
fn no_error_text_echoes_the_token_or_a_key() {
    let f = jose_fixture();
    let v = jose_verifier(&f);
    let now = f["now"].as_i64().unwrap();
    let kids: Vec<String> = f["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    let mut checked = 0;
    for case in f["cases"].as_array().unwrap() {
        let token = case["token"].as_str().unwrap();
        let Err(err) = v.verify(token, now) else {
            continue;
        };
        let text = format!("{err} {err:?}");
        for part in token.split('.').filter(|p| p.len() >= 8) {
            assert!(!text.contains(part), "{}: {text}", case["name"]);
        }
        for kid in &kids {
            assert!(!text.contains(kid.as_str()), "{}: {text}", case["name"]);
        }
        assert_eq!(
            err.to_string().to_lowercase(),
            err.to_string(),
            "messages are lowercase"
        );
        checked += 1;
    }
    assert!(checked >= 20);
}

/// Every key-set problem has a unique snake_case code, and the
/// README's error-code section lists it (the worker logs it with `jwks_fetch_failed`).
#[test]
fn jwks_problem_codes_are_unique_and_documented() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let all = [
        JwksProblem::TooLarge,
        JwksProblem::Malformed,
        JwksProblem::TooManyKeys,
        JwksProblem::PrivateKeyMaterial,
        JwksProblem::NoUsableKeys,
    ];
    let mut seen = std::collections::BTreeSet::new();
    for problem in all {
        let code = problem.code();
        assert!(seen.insert(code), "duplicate {code}");
        assert!(
            code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{code}"
        );
        assert!(
            readme.contains(&format!("`{code}`")),
            "README lists `{code}`"
        );
        assert_eq!(Error::JwksInvalid(problem).code(), "jwks_invalid");
    }
}
