//! The claims policy (RFC 7519 §4.1, RFC 8725 §3.11), table-driven at a fixed clock.

mod common;

use common::{claims, code, hs256, hs_header, hs_verifier, NOW};
use jwt_edge::ClaimsPolicy;
use serde_json::{json, Value};

fn policy() -> ClaimsPolicy {
    ClaimsPolicy {
        issuers: vec![
            "https://issuer.example".into(),
            "https://other.example".into(),
        ],
        audiences: vec!["api://jwt-edge".into()],
        ..ClaimsPolicy::default()
    }
}

/// Each row: a change to the valid claims, and the expected verdict.
fn run(policy: ClaimsPolicy, header: Value, rows: &[(&str, Value, &str)]) {
    let v = hs_verifier(policy);
    let mut failures = Vec::new();
    for (name, patch, expect) in rows {
        let mut c = claims();
        for (k, val) in patch.as_object().unwrap() {
            if val == "__remove__" {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = val.clone();
            }
        }
        let got = code(v.verify(&hs256(&header, &c), NOW));
        if got != *expect {
            failures.push(format!("{name}: expected {expect}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn time_claims() {
    run(
        policy(),
        hs_header(),
        &[
            ("valid", json!({}), "ok"),
            ("exp missing", json!({"exp": "__remove__"}), "claim_missing"),
            (
                "exp in the past beyond skew",
                json!({"exp": NOW - 61}),
                "token_expired",
            ),
            (
                "exp at now minus skew",
                json!({"exp": NOW - 60}),
                "token_expired",
            ),
            ("exp inside skew", json!({"exp": NOW - 59}), "ok"),
            (
                "exp fractional rounds down",
                json!({"exp": (NOW - 60) as f64 + 0.9}),
                "token_expired",
            ),
            (
                "exp as string",
                json!({"exp": (NOW + 300).to_string()}),
                "claim_invalid",
            ),
            ("exp as bool", json!({"exp": true}), "claim_invalid"),
            ("exp as null", json!({"exp": null}), "claim_invalid"),
            ("exp as array", json!({"exp": [NOW + 300]}), "claim_invalid"),
            ("exp negative", json!({"exp": -1}), "claim_invalid"),
            (
                "exp absurd (year > 9999)",
                json!({"exp": 253_402_300_800i64}),
                "claim_invalid",
            ),
            ("exp u64 max", json!({"exp": u64::MAX}), "claim_invalid"),
            ("exp 1e300", json!({"exp": 1e300}), "claim_invalid"),
            (
                "nbf in the future beyond skew",
                json!({"nbf": NOW + 61}),
                "token_not_yet_valid",
            ),
            ("nbf inside skew", json!({"nbf": NOW + 60}), "ok"),
            (
                "nbf fractional rounds up",
                json!({"nbf": (NOW + 60) as f64 + 0.1}),
                "token_not_yet_valid",
            ),
            ("nbf as string", json!({"nbf": "0"}), "claim_invalid"),
            (
                "iat in the future beyond skew",
                json!({"iat": NOW + 61, "nbf": "__remove__"}),
                "iat_in_future",
            ),
            (
                "iat inside skew",
                json!({"iat": NOW + 60, "nbf": "__remove__"}),
                "ok",
            ),
            ("iat as string", json!({"iat": "now"}), "claim_invalid"),
        ],
    );
}

#[test]
fn exp_equal_to_now_is_expired_without_skew() {
    let p = ClaimsPolicy {
        clock_skew: 0,
        ..policy()
    };
    run(
        p.clone(),
        hs_header(),
        &[
            ("exp == now", json!({"exp": NOW}), "token_expired"),
            ("exp == now + 1", json!({"exp": NOW + 1}), "ok"),
            (
                "nbf == now + 1",
                json!({"nbf": NOW + 1}),
                "token_not_yet_valid",
            ),
            ("nbf == now", json!({"nbf": NOW}), "ok"),
        ],
    );
    run(
        ClaimsPolicy {
            require_exp: false,
            ..p
        },
        hs_header(),
        &[("exp optional", json!({"exp": "__remove__"}), "ok")],
    );
}

#[test]
fn maximum_lifetime() {
    let p = ClaimsPolicy {
        max_lifetime: Some(300),
        ..policy()
    };
    run(
        p.clone(),
        hs_header(),
        &[
            (
                "exp - iat == max",
                json!({"iat": NOW - 10, "exp": NOW + 290}),
                "ok",
            ),
            (
                "exp - iat > max",
                json!({"iat": NOW - 10, "exp": NOW + 291}),
                "lifetime_too_long",
            ),
            (
                "no iat, exp - now == max + skew",
                json!({"iat": "__remove__", "exp": NOW + 360}),
                "ok",
            ),
            (
                "no iat, exp - now > max + skew",
                json!({"iat": "__remove__", "exp": NOW + 361}),
                "lifetime_too_long",
            ),
            (
                "backdated iat cannot hide a far exp",
                json!({"iat": NOW + 100_000, "exp": NOW + 100_200}),
                "iat_in_future",
            ),
            (
                "year-long token",
                json!({"exp": NOW + 31_536_000}),
                "lifetime_too_long",
            ),
        ],
    );
    run(
        ClaimsPolicy {
            require_exp: false,
            ..p
        },
        hs_header(),
        &[(
            "no exp with a max lifetime",
            json!({"exp": "__remove__"}),
            "claim_missing",
        )],
    );
}

#[test]
fn issuer_audience_subject() {
    run(
        policy(),
        hs_header(),
        &[
            (
                "second allowed issuer",
                json!({"iss": "https://other.example"}),
                "ok",
            ),
            (
                "issuer mismatch",
                json!({"iss": "https://evil.example"}),
                "issuer_mismatch",
            ),
            (
                "issuer prefix is not a match",
                json!({"iss": "https://issuer.example/"}),
                "issuer_mismatch",
            ),
            (
                "issuer missing",
                json!({"iss": "__remove__"}),
                "claim_missing",
            ),
            (
                "issuer as array",
                json!({"iss": ["https://issuer.example"]}),
                "claim_invalid",
            ),
            (
                "aud array with a match",
                json!({"aud": ["x", "api://jwt-edge"]}),
                "ok",
            ),
            (
                "aud array without a match",
                json!({"aud": ["x", "y"]}),
                "audience_mismatch",
            ),
            (
                "aud string mismatch",
                json!({"aud": "api://other"}),
                "audience_mismatch",
            ),
            ("aud missing", json!({"aud": "__remove__"}), "claim_missing"),
            ("aud empty array", json!({"aud": []}), "claim_missing"),
            (
                "aud array with a number",
                json!({"aud": ["api://jwt-edge", 1]}),
                "claim_invalid",
            ),
            (
                "aud as object",
                json!({"aud": {"api://jwt-edge": true}}),
                "claim_invalid",
            ),
            (
                "aud with 65 entries",
                json!({"aud": vec!["api://jwt-edge"; 65]}),
                "claim_invalid",
            ),
            ("sub as number", json!({"sub": 1}), "claim_invalid"),
            ("jti as number", json!({"jti": 1}), "claim_invalid"),
        ],
    );
    let p = ClaimsPolicy {
        subject: Some("user-1".into()),
        ..policy()
    };
    run(
        p,
        hs_header(),
        &[
            ("subject match", json!({}), "ok"),
            (
                "subject mismatch",
                json!({"sub": "admin"}),
                "subject_mismatch",
            ),
            (
                "subject missing",
                json!({"sub": "__remove__"}),
                "claim_missing",
            ),
        ],
    );
    // Without configured issuers or audiences, those claims are optional.
    run(
        ClaimsPolicy::default(),
        hs_header(),
        &[(
            "no iss, no aud",
            json!({"iss": "__remove__", "aud": "__remove__"}),
            "ok",
        )],
    );
}

#[test]
fn typ_is_compared_as_a_media_type() {
    let p = ClaimsPolicy {
        typ: Some("at+jwt".into()),
        ..policy()
    };
    let with_typ = |typ: Value| json!({"alg": "HS256", "kid": "hs", "typ": typ});
    for (typ, expect) in [
        (json!("at+jwt"), "ok"),
        (json!("AT+JWT"), "ok"),
        (json!("application/at+jwt"), "ok"),
        (json!("Application/At+Jwt"), "ok"),
        (json!("JWT"), "typ_mismatch"),
        (json!("application/jwt"), "typ_mismatch"),
        (json!("text/at+jwt"), "typ_mismatch"),
    ] {
        run(
            p.clone(),
            with_typ(typ.clone()),
            &[(typ.as_str().unwrap(), json!({}), expect)],
        );
    }
    run(
        p,
        json!({"alg": "HS256", "kid": "hs"}),
        &[("typ missing", json!({}), "typ_mismatch")],
    );
}

#[test]
fn required_claims() {
    let p = ClaimsPolicy {
        required_claims: vec!["scope".into(), "jti".into()],
        ..policy()
    };
    run(
        p,
        hs_header(),
        &[
            ("present", json!({"scope": "read"}), "ok"),
            ("absent", json!({}), "claim_missing"),
            (
                "null counts as absent",
                json!({"scope": null}),
                "claim_missing",
            ),
            (
                "jti absent",
                json!({"scope": "read", "jti": "__remove__"}),
                "claim_missing",
            ),
        ],
    );
}
