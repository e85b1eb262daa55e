//! Every bound on what an attacker controls, tested on both sides of the limit: the
//! token's size, JSON nesting in the header and the payload, `kid` and `jti` lengths,
//! the number of audiences, and the size and key count of a JWKS. (The edge's own
//! bounds — JWKS response bytes, remembered unknown kids — are in tests/edge/faults.test.mjs
//! and tests/cache.rs.) SECURITY.md points here.

mod common;

use common::{claims, code, hs256, hs256_raw, hs_header, hs_verifier, NOW};
use jwt_edge::internals::replay_entry;
use jwt_edge::{
    ClaimsPolicy, JwkSet, JwksOptions, UntrustedToken, DEFAULT_MAX_TOKEN_BYTES, MAX_JTI_BYTES,
    MAX_KID_BYTES,
};
use serde_json::{json, Value};

fn nested(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!([v]);
    }
    v
}

#[test]
fn token_size_is_capped_before_any_decoding() {
    let v = hs_verifier(ClaimsPolicy::default());
    // Grow a claim until the token passes the limit: the last one under it verifies
    // (within 2 bytes of the limit), the first one over is refused by size.
    let mut c = claims();
    let base = hs256(&hs_header(), &c).len();
    let mut pad = (DEFAULT_MAX_TOKEN_BYTES - base) / 4 * 3 - 16;
    let token_with = |c: &mut Value, pad: usize| {
        c["pad"] = json!("x".repeat(pad));
        hs256(&hs_header(), c)
    };
    let mut under = token_with(&mut c, pad);
    let mut over = under.clone();
    while over.len() <= DEFAULT_MAX_TOKEN_BYTES {
        under = over;
        pad += 1;
        over = token_with(&mut c, pad);
    }
    assert!(under.len() + 2 >= DEFAULT_MAX_TOKEN_BYTES);
    assert_eq!(code(v.verify(&under, NOW)), "ok");
    assert_eq!(code(v.verify(&over, NOW)), "token_too_large");
    let over = "a".repeat(DEFAULT_MAX_TOKEN_BYTES + 1);
    assert_eq!(code(v.verify(&over, NOW)), "token_too_large");
    assert_eq!(
        code(UntrustedToken::parse(&over, DEFAULT_MAX_TOKEN_BYTES)),
        "token_too_large"
    );
}

#[test]
fn json_nesting_is_capped_in_header_and_payload() {
    let v = hs_verifier(ClaimsPolicy::default());
    let mut shallow = claims();
    shallow["deep"] = nested(30);
    assert_eq!(code(v.verify(&hs256(&hs_header(), &shallow), NOW)), "ok");
    let mut deep = claims();
    deep["deep"] = nested(40);
    assert_eq!(
        code(v.verify(&hs256(&hs_header(), &deep), NOW)),
        "token_malformed"
    );
    // 5,000 levels (as deep as fits in the size limit): refused without recursion trouble.
    let very_deep = format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000));
    let raw = format!("{{\"x\":{very_deep}}}");
    assert_eq!(
        code(v.verify(&hs256_raw(raw.as_bytes(), b"{}"), NOW)),
        "token_malformed"
    );
    let mut header = hs_header();
    header["x"] = nested(40);
    assert_eq!(
        code(v.verify(&hs256(&header, &claims()), NOW)),
        "token_malformed"
    );
}

#[test]
fn kid_length_is_capped_in_tokens_and_key_sets() {
    let v = hs_verifier(ClaimsPolicy::default());
    let mut header = hs_header();
    header["kid"] = json!("k".repeat(MAX_KID_BYTES + 1));
    assert_eq!(
        code(v.verify(&hs256(&header, &claims()), NOW)),
        "token_malformed"
    );
    header["kid"] = json!("k".repeat(MAX_KID_BYTES));
    // At the limit the kid is well-formed; it names no key.
    assert_eq!(
        code(v.verify(&hs256(&header, &claims()), NOW)),
        "no_matching_key"
    );

    let key = |kid: String| {
        json!({"kty": "OKP", "crv": "Ed25519", "kid": kid,
               "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    };
    let set = |kid: String| {
        JwkSet::parse(
            json!({"keys": [key(kid)]}).to_string().as_bytes(),
            &JwksOptions::default(),
        )
        .unwrap()
    };
    assert_eq!(set("k".repeat(MAX_KID_BYTES)).keys().len(), 1);
    let long = set("k".repeat(MAX_KID_BYTES + 1));
    assert!(
        long.keys().is_empty(),
        "a key with an over-long kid is left out"
    );
    assert_eq!(long.skipped().len(), 1);
}

#[test]
fn audiences_are_capped() {
    let policy = ClaimsPolicy {
        audiences: vec!["api".into()],
        ..ClaimsPolicy::default()
    };
    let max = policy.max_audiences;
    let v = hs_verifier(policy);
    let list = |n: usize| {
        (0..n)
            .map(|i| {
                if i == n - 1 {
                    "api".to_owned()
                } else {
                    format!("other-{i}")
                }
            })
            .collect::<Vec<_>>()
    };
    let mut c = claims();
    c["aud"] = json!(list(max));
    assert_eq!(code(v.verify(&hs256(&hs_header(), &c), NOW)), "ok");
    c["aud"] = json!(list(max + 1));
    assert_eq!(
        code(v.verify(&hs256(&hs_header(), &c), NOW)),
        "claim_invalid"
    );
}

#[test]
fn jti_length_is_capped_for_replay() {
    let v = hs_verifier(ClaimsPolicy::default());
    let mut c = claims();
    c["jti"] = json!("j".repeat(MAX_JTI_BYTES));
    let ok = v.verify(&hs256(&hs_header(), &c), NOW).unwrap();
    assert!(replay_entry(&ok.claims, 60).is_ok());
    c["jti"] = json!("j".repeat(MAX_JTI_BYTES + 1));
    let long = v.verify(&hs256(&hs_header(), &c), NOW).unwrap();
    assert_eq!(code(replay_entry(&long.claims, 60)), "claim_invalid");
}

#[test]
fn key_sets_are_capped_in_bytes_and_keys() {
    let key = json!({"kty": "OKP", "crv": "Ed25519",
                     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"});
    let options = JwksOptions::default();
    let doc = |n: usize| json!({"keys": vec![key.clone(); n]}).to_string();
    assert_eq!(
        JwkSet::parse(doc(options.max_keys).as_bytes(), &options)
            .unwrap()
            .keys()
            .len(),
        options.max_keys
    );
    assert_eq!(
        code(JwkSet::parse(
            doc(options.max_keys + 1).as_bytes(),
            &options
        )),
        "jwks_invalid"
    );
    let padded = format!(
        "{{\"keys\":[],\"pad\":\"{}\"}}",
        "x".repeat(options.max_bytes)
    );
    assert_eq!(
        code(JwkSet::parse(padded.as_bytes(), &options)),
        "jwks_invalid"
    );
}
