//! Token parsing: RFC 7515 §7.1 compact serialization, strict base64url, size cap,
//! strict JSON header and payload, and the header parameters that are refused.

mod common;

use common::{b64, claims, code, hs256, hs256_raw, hs_header, hs_verifier, NOW};
use jwt_edge::{ClaimsPolicy, Error, Malformed, UntrustedToken, DEFAULT_MAX_TOKEN_BYTES};
use serde_json::json;

fn malformed(why: Malformed) -> Error {
    Error::TokenMalformed(why)
}

#[test]
fn a_crafted_token_verifies() {
    let v = hs_verifier(ClaimsPolicy::default());
    let t = v.verify(&hs256(&hs_header(), &claims()), NOW).unwrap();
    assert_eq!(t.header.key_id.as_deref(), Some("hs"));
    assert_eq!(t.key_id.as_deref(), Some("hs"));
}

#[test]
fn exactly_three_segments() {
    let v = hs_verifier(ClaimsPolicy::default());
    let good = hs256(&hs_header(), &claims());
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    for bad in [
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}."),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}{p}{s}"),
        String::new(),
        "..".into(),
    ] {
        let err = v.verify(&bad, NOW).unwrap_err();
        assert!(matches!(err, Error::TokenMalformed(_)), "{bad}: {err:?}");
    }
    assert_eq!(
        v.verify(&format!("{h}.{p}"), NOW).unwrap_err(),
        malformed(Malformed::SegmentCount)
    );
}

#[test]
fn base64url_must_be_strict_in_every_segment() {
    let v = hs_verifier(ClaimsPolicy::default());
    let good = hs256(&hs_header(), &claims());
    let parts: Vec<&str> = good.split('.').collect();
    for i in 0..3 {
        for mutate in [
            |s: &str| format!("{s}="),                             // padding
            |s: &str| s.replace('-', "+").replace('_', "/") + "+", // standard alphabet
            |s: &str| format!(" {s}"),                             // whitespace
            |s: &str| format!("{s}A"), // impossible length (4n+1) or extra byte
        ] {
            let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
            p[i] = mutate(&p[i]);
            let r = v.verify(&p.join("."), NOW);
            assert!(
                matches!(
                    r,
                    Err(Error::TokenMalformed(_)) | Err(Error::SignatureInvalid)
                ),
                "segment {i}: {r:?}"
            );
        }
    }
    // Non-canonical trailing bits: a final character carrying non-zero unused bits
    // decodes to the same bytes in a lax decoder; here it is refused.
    let header = br#"{"alg":"HS256"}"#; // 15 bytes → 20 chars, last char carries 2 unused bits
    let canonical = b64(header);
    assert_eq!(canonical.len() % 4, 0);
    let h2 = b64(br#"{"alg":"HS256","kid":"hs"}"#); // 26 bytes → 35 chars: 2 unused bits
    let last = h2.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap();
    assert_eq!(idx & 0b11, 0, "canonical last char has zero unused bits");
    let non_canonical = format!("{}{}", &h2[..h2.len() - 1], &alphabet[idx + 1..idx + 2]);
    let token = format!("{non_canonical}.{}", good.split_once('.').unwrap().1);
    assert_eq!(
        v.verify(&token, NOW).unwrap_err(),
        malformed(Malformed::Base64)
    );
}

#[test]
fn size_cap_is_checked_before_decoding() {
    let v = hs_verifier(ClaimsPolicy::default());
    let big = "a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
    assert_eq!(
        v.verify(&big, NOW).unwrap_err(),
        Error::TokenTooLarge {
            limit: DEFAULT_MAX_TOKEN_BYTES
        }
    );
    // A well-formed token just over the cap is refused too; at the cap it passes.
    let mut c = claims();
    c["pad"] = json!("x".repeat(100));
    let t = hs256(&hs_header(), &c);
    assert_eq!(code(UntrustedToken::parse(&t, t.len())), "ok");
    assert_eq!(
        code(UntrustedToken::parse(&t, t.len() - 1)),
        "token_too_large"
    );
}

#[test]
fn header_and_payload_are_strict_json_objects() {
    let v = hs_verifier(ClaimsPolicy {
        require_exp: false,
        ..Default::default()
    });
    let p = claims().to_string();
    for (header, why) in [
        (
            r#"{"alg":"HS256","alg":"none"}"#,
            Malformed::DuplicateMember,
        ),
        (
            r#"{"alg":"HS256","kid":"hs","kid":"other"}"#,
            Malformed::DuplicateMember,
        ),
        (r#"["HS256"]"#, Malformed::NotObject),
        (r#""HS256""#, Malformed::NotObject),
        (r#"{"alg":"HS256""#, Malformed::Json),
        (r#"{"alg":"HS256"} x"#, Malformed::Json),
        ("", Malformed::Json),
    ] {
        let t = hs256_raw(header.as_bytes(), p.as_bytes());
        assert_eq!(v.verify(&t, NOW).unwrap_err(), malformed(why), "{header}");
    }
    // Payloads are checked after the signature, with the same strictness.
    for (payload, why) in [
        (r#"{"sub":"a","sub":"admin"}"#, Malformed::DuplicateMember),
        (r#"{"x":{"y":1,"y":2}}"#, Malformed::DuplicateMember),
        ("[]", Malformed::NotObject),
        (r#""sub""#, Malformed::NotObject),
        ("123", Malformed::NotObject),
        ("null", Malformed::NotObject),
        ("true", Malformed::NotObject),
        ("", Malformed::Json),
        ("not json", Malformed::Json),
    ] {
        let t = hs256_raw(hs_header().to_string().as_bytes(), payload.as_bytes());
        assert_eq!(v.verify(&t, NOW).unwrap_err(), malformed(why), "{payload}");
    }
    let deep = format!(r#"{{"a":{}1{}}}"#, "[".repeat(40), "]".repeat(40));
    let t = hs256_raw(hs_header().to_string().as_bytes(), deep.as_bytes());
    assert_eq!(
        v.verify(&t, NOW).unwrap_err(),
        malformed(Malformed::TooDeep)
    );
}

#[test]
fn header_parameters_have_their_types() {
    let v = hs_verifier(ClaimsPolicy::default());
    for (header, name) in [
        (json!({"kid": "hs"}), "alg"),
        (json!({"alg": 256, "kid": "hs"}), "alg"),
        (json!({"alg": null}), "alg"),
        (json!({"alg": "HS256", "kid": 1}), "kid"),
        (json!({"alg": "HS256", "kid": "k".repeat(257)}), "kid"),
        (json!({"alg": "HS256", "typ": ["JWT"]}), "typ"),
        (json!({"alg": "HS256", "cty": 1}), "cty"),
        (json!({"alg": "HS256", "b64": "false"}), "b64"),
        (json!({"alg": "HS256", "crit": []}), "crit"),
        (json!({"alg": "HS256", "crit": "exp"}), "crit"),
        (json!({"alg": "HS256", "crit": [1]}), "crit"),
        (json!({"alg": "HS256", "crit": ["kid"]}), "crit"),
    ] {
        let t = hs256(&header, &claims());
        assert_eq!(
            v.verify(&t, NOW).unwrap_err(),
            malformed(Malformed::HeaderParameter(name)),
            "{header}"
        );
    }
}

#[test]
fn unknown_crit_and_unencoded_payloads_are_refused() {
    let v = hs_verifier(ClaimsPolicy::default());
    let crit = json!({"alg": "HS256", "kid": "hs", "crit": ["exp"], "exp": NOW + 300});
    assert_eq!(
        v.verify(&hs256(&crit, &claims()), NOW).unwrap_err(),
        Error::CritUnsupported
    );
    let crit = json!({"alg": "HS256", "kid": "hs", "crit": ["http://example.com/ext"]});
    assert_eq!(
        v.verify(&hs256(&crit, &claims()), NOW).unwrap_err(),
        Error::CritUnsupported
    );
    let b64 = json!({"alg": "HS256", "kid": "hs", "b64": false, "crit": ["b64"]});
    assert_eq!(
        v.verify(&hs256(&b64, &claims()), NOW).unwrap_err(),
        Error::B64Unsupported
    );
    let b64 = json!({"alg": "HS256", "kid": "hs", "b64": false});
    assert_eq!(
        v.verify(&hs256(&b64, &claims()), NOW).unwrap_err(),
        Error::B64Unsupported
    );
    // `b64: true` is the default encoding and harmless.
    let b64 = json!({"alg": "HS256", "kid": "hs", "b64": true});
    assert_eq!(code(v.verify(&hs256(&b64, &claims()), NOW)), "ok");
}

#[test]
fn the_signing_input_is_the_received_text() {
    // The header JSON has unusual spacing and a member order of its own; the
    // signature covers those exact bytes, not a re-serialisation.
    let v = hs_verifier(ClaimsPolicy::default());
    let header = "{ \"kid\" : \"hs\",\r\n \"alg\":\"HS256\" }";
    let t = hs256_raw(header.as_bytes(), claims().to_string().as_bytes());
    assert_eq!(code(v.verify(&t, NOW)), "ok");
}
