//! Signed request assertions (issue 6): the worker signs the verified claims with the
//! request's method and path; the origin's check fails when the path, the method, a
//! claim or the timestamp changed. Keys are generated from a fixed seed and the clock
//! is fixed. The same assertions are checked by jose in tests/edge/assertion.test.mjs.

mod common;

use common::{b64, code, unb64, NOW};
use jwt_edge::{
    Algorithm, AssertionConfig, AssertionPolicy, AssertionSigner, AssertionVerifier, Error, JwkSet,
    JwksOptions, RequestBinding, SigningKey, VerifiedToken, Verifier, VerifyOptions, ASSERTION_TYP,
};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Map, Value};

const ID: [u8; 16] = *b"0123456789abcdef";
const GET_ITEMS: RequestBinding<'static> = RequestBinding {
    method: "GET",
    path: "/api/items?x=1&y=two",
};

fn object(v: Value) -> Map<String, Value> {
    v.as_object().expect("object").clone()
}

fn config(extra: Value) -> AssertionConfig {
    let mut base = object(json!({"key_secret": "ASSERTION_KEY"}));
    base.extend(object(extra));
    serde_json::from_value(Value::Object(base)).expect("assertion config")
}

/// A token verified by the core, as the worker holds it after verification.
fn verified_token(rng: &mut ChaCha20Rng) -> VerifiedToken {
    let issuer = SigningKey::generate(Algorithm::Es256, 2048, None, rng).unwrap();
    let claims = object(json!({
        "iss": "https://issuer.example", "sub": "user-42", "aud": "api",
        "iat": NOW - 5, "exp": NOW + 300, "jti": "t-1",
        "tenant": "acme", "roles": ["reader", "writer"],
    }));
    let token = issuer.sign(None, &Map::new(), &claims).unwrap();
    let jwks = json!({"keys": [Value::Object(issuer.public_jwk().unwrap())]}).to_string();
    let keys = JwkSet::parse(jwks.as_bytes(), &JwksOptions::default()).unwrap();
    Verifier::new(keys, VerifyOptions::default())
        .unwrap()
        .verify(&token, NOW)
        .unwrap()
}

struct Fixture {
    token: VerifiedToken,
    key: SigningKey,
    signer: AssertionSigner,
}

fn fixture(alg: Algorithm, extra: Value) -> Fixture {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let token = verified_token(&mut rng);
    let key = SigningKey::generate(alg, 2048, None, &mut rng).unwrap();
    let signer = AssertionSigner::new(&key.private_jwk(), config(extra)).unwrap();
    Fixture { token, key, signer }
}

/// The origin's verifier: the public JWK for Ed25519, the shared JWK for HMAC.
fn origin(key: &SigningKey, policy: AssertionPolicy) -> AssertionVerifier {
    let jwk = key.public_jwk().unwrap_or_else(|_| key.private_jwk());
    AssertionVerifier::from_jwk(&jwk, policy).unwrap()
}

fn parts(assertion: &str) -> (Value, Map<String, Value>, String) {
    let mut it = assertion.split('.');
    let header = serde_json::from_slice(&unb64(it.next().unwrap())).unwrap();
    let payload = serde_json::from_slice(&unb64(it.next().unwrap())).unwrap();
    (header, payload, it.next().unwrap().to_owned())
}

/// The assertion with its payload changed and its signature kept.
fn tampered(assertion: &str, change: impl FnOnce(&mut Map<String, Value>)) -> String {
    let (header, mut payload, signature) = parts(assertion);
    change(&mut payload);
    format!(
        "{}.{}.{signature}",
        b64(header.to_string().as_bytes()),
        b64(Value::Object(payload).to_string().as_bytes())
    )
}

#[test]
fn an_ed25519_assertion_carries_the_request_and_verifies_for_it() {
    let f = fixture(Algorithm::EdDsa, json!({"audience": "origin.example"}));
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    let (header, payload, _) = parts(&assertion);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], ASSERTION_TYP);
    assert_eq!(header["kid"].as_str(), f.key.kid.as_deref());
    assert_eq!(payload["iss"], "jwt-edge");
    assert_eq!(payload["aud"], "origin.example");
    assert_eq!(payload["iat"], NOW);
    assert_eq!(payload["exp"], NOW + 60);
    assert_eq!(payload["jti"], b64(&ID));
    assert_eq!(payload["method"], "GET");
    assert_eq!(payload["path"], "/api/items?x=1&y=two");
    assert_eq!(payload["claims"], Value::Object(f.token.claims.all.clone()));

    let policy = AssertionPolicy {
        audience: Some("origin.example".into()),
        ..AssertionPolicy::default()
    };
    let verified = origin(&f.key, policy.clone())
        .verify(&assertion, GET_ITEMS, NOW + 3)
        .unwrap();
    assert_eq!(verified.claims, f.token.claims.all);
    assert_eq!(
        (verified.method.as_str(), verified.path.as_str()),
        ("GET", "/api/items?x=1&y=two")
    );
    assert_eq!(verified.issued_at, NOW);
    assert_eq!(verified.id, b64(&ID));

    // A private JWK given to the origin is reduced to its public part.
    let from_private = AssertionVerifier::from_jwk(&f.key.private_jwk(), policy).unwrap();
    assert_eq!(code(from_private.verify(&assertion, GET_ITEMS, NOW)), "ok");
}

#[test]
fn another_path_query_or_method_is_refused() {
    let f = fixture(Algorithm::EdDsa, json!({}));
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    let check = origin(&f.key, AssertionPolicy::default());
    for (method, path, field) in [
        ("GET", "/api/items?x=1&y=tw0", "path"),
        ("GET", "/api/items?x=1", "path"),
        ("GET", "/api/items", "path"),
        ("GET", "/api/admin?x=1&y=two", "path"),
        ("GET", "/API/items?x=1&y=two", "path"),
        ("GET", "/api/items?x=1&y=two#", "path"),
        ("POST", "/api/items?x=1&y=two", "method"),
        ("get", "/api/items?x=1&y=two", "method"),
    ] {
        let err = check
            .verify(&assertion, RequestBinding { method, path }, NOW)
            .unwrap_err();
        assert_eq!(err, Error::AssertionMismatch(field), "{method} {path}");
        assert_eq!(err.code(), "assertion_mismatch");
    }
}

type Change = (&'static str, fn(&mut Map<String, Value>));

#[test]
fn a_changed_claim_path_or_timestamp_breaks_the_signature() {
    let f = fixture(Algorithm::EdDsa, json!({}));
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    let check = origin(&f.key, AssertionPolicy::default());
    let changes: [Change; 6] = [
        ("claims.sub", |p| p["claims"]["sub"] = json!("admin")),
        ("claims.roles", |p| p["claims"]["roles"] = json!(["admin"])),
        ("path", |p| p["path"] = json!("/api/admin")),
        ("method", |p| p["method"] = json!("DELETE")),
        ("iat", |p| p["iat"] = json!(NOW + 120)),
        ("exp", |p| p["exp"] = json!(NOW + 3600)),
    ];
    for (what, change) in changes {
        let forged = tampered(&assertion, change);
        let (_, payload, _) = parts(&forged);
        let request = RequestBinding {
            method: payload["method"].as_str().unwrap(),
            path: payload["path"].as_str().unwrap(),
        };
        assert_eq!(
            code(check.verify(&forged, request, NOW)),
            "signature_invalid",
            "{what}"
        );
    }
}

#[test]
fn the_timestamp_bounds_the_assertion() {
    let f = fixture(Algorithm::EdDsa, json!({"lifetime": 30}));
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    let check = origin(&f.key, AssertionPolicy::default());
    // Skew 5 s: valid until exp + 5 (exclusive), not before iat − 5.
    for (now, expected) in [
        (NOW, "ok"),
        (NOW + 34, "ok"),
        (NOW + 35, "token_expired"),
        (NOW + 3600, "token_expired"),
        (NOW - 5, "ok"),
        (NOW - 6, "iat_in_future"),
    ] {
        assert_eq!(
            code(check.verify(&assertion, GET_ITEMS, now)),
            expected,
            "at NOW{:+}",
            now - NOW
        );
    }
    // An origin that accepts less than the worker's lifetime refuses it outright.
    let strict = origin(
        &f.key,
        AssertionPolicy {
            max_age: 10,
            ..AssertionPolicy::default()
        },
    );
    assert_eq!(
        code(strict.verify(&assertion, GET_ITEMS, NOW)),
        "lifetime_too_long"
    );
}

#[test]
fn issuer_audience_and_typ_are_checked() {
    let f = fixture(
        Algorithm::EdDsa,
        json!({"issuer": "edge-eu", "audience": "orders"}),
    );
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    let with = |issuer: &str, audience: Option<&str>| {
        origin(
            &f.key,
            AssertionPolicy {
                issuer: issuer.into(),
                audience: audience.map(Into::into),
                ..AssertionPolicy::default()
            },
        )
        .verify(&assertion, GET_ITEMS, NOW)
    };
    assert_eq!(code(with("edge-eu", Some("orders"))), "ok");
    assert_eq!(code(with("edge-eu", None)), "ok");
    assert_eq!(code(with("jwt-edge", Some("orders"))), "issuer_mismatch");
    assert_eq!(code(with("edge-eu", Some("billing"))), "audience_mismatch");

    // An ordinary JWT from the same key, with the same members, is not an assertion.
    let (_, payload, _) = parts(&assertion);
    let plain = f.key.sign(None, &Map::new(), &payload).unwrap();
    let check = origin(
        &f.key,
        AssertionPolicy {
            issuer: "edge-eu".into(),
            ..AssertionPolicy::default()
        },
    );
    assert_eq!(code(check.verify(&plain, GET_ITEMS, NOW)), "typ_mismatch");
}

#[test]
fn the_key_decides_the_algorithm() {
    let f = fixture(Algorithm::EdDsa, json!({}));
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    let check = origin(&f.key, AssertionPolicy::default());
    // HS256 over the Ed25519 public key bytes, the classic confusion: refused by alg.
    let (_, payload, _) = parts(&assertion);
    let x = unb64(f.key.public_jwk().unwrap()["x"].as_str().unwrap());
    let header = json!({"alg": "HS256", "typ": ASSERTION_TYP, "kid": f.key.kid});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(Value::Object(payload.clone()).to_string().as_bytes())
    );
    use jwt_compact::{alg::Hs256, alg::Hs256Key, Algorithm as _, AlgorithmSignature as _};
    let mac = Hs256.sign(&Hs256Key::new(&x), input.as_bytes());
    let forged = format!("{input}.{}", b64(&mac.as_bytes()));
    assert_eq!(
        code(check.verify(&forged, GET_ITEMS, NOW)),
        "alg_not_allowed"
    );
    // `none` never.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"jwt-edge-assertion+jwt"}"#),
        b64(Value::Object(payload).to_string().as_bytes())
    );
    assert_eq!(code(check.verify(&none, GET_ITEMS, NOW)), "alg_not_allowed");
    // Another Ed25519 key: the signature does not verify.
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    let other = SigningKey::generate(Algorithm::EdDsa, 2048, f.key.kid.clone(), &mut rng).unwrap();
    let stranger = AssertionSigner::new(&other.private_jwk(), config(json!({}))).unwrap();
    let foreign = stranger.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    assert_eq!(
        code(check.verify(&foreign, GET_ITEMS, NOW)),
        "signature_invalid"
    );
}

#[test]
fn an_hmac_assertion_verifies_with_the_shared_secret_only() {
    let f = fixture(Algorithm::Hs256, json!({}));
    assert_eq!(f.signer.algorithm(), Algorithm::Hs256);
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    assert_eq!(parts(&assertion).0["alg"], "HS256");
    let check = origin(&f.key, AssertionPolicy::default());
    assert_eq!(code(check.verify(&assertion, GET_ITEMS, NOW)), "ok");
    let mut other = f.key.private_jwk();
    other.insert("k".into(), json!(b64(&[7u8; 32])));
    let wrong = AssertionVerifier::from_jwk(&other, AssertionPolicy::default()).unwrap();
    assert_eq!(
        code(wrong.verify(&assertion, GET_ITEMS, NOW)),
        "signature_invalid"
    );
    // HS512 when the secret says so.
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let hs512 = SigningKey::generate(Algorithm::Hs512, 2048, None, &mut rng).unwrap();
    let signer = AssertionSigner::new(&hs512.private_jwk(), config(json!({}))).unwrap();
    assert_eq!(signer.algorithm(), Algorithm::Hs512);
    let a = signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    assert_eq!(
        code(origin(&hs512, AssertionPolicy::default()).verify(&a, GET_ITEMS, NOW)),
        "ok"
    );
}

#[test]
fn a_claim_subset_passes_only_those_claims() {
    let f = fixture(
        Algorithm::EdDsa,
        json!({"claims": ["sub", "roles", "absent"]}),
    );
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    let verified = origin(&f.key, AssertionPolicy::default())
        .verify(&assertion, GET_ITEMS, NOW)
        .unwrap();
    assert_eq!(
        Value::Object(verified.claims),
        json!({"sub": "user-42", "roles": ["reader", "writer"]})
    );
}

#[test]
fn only_ed25519_and_hmac_keys_of_full_strength_sign() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    for alg in [Algorithm::Es256, Algorithm::Rs256] {
        let key = SigningKey::generate(alg, 2048, None, &mut rng).unwrap();
        assert_eq!(
            AssertionSigner::new(&key.private_jwk(), config(json!({}))).unwrap_err(),
            Error::config_invalid("assertion.key_secret"),
            "{alg:?}"
        );
    }
    let short = json!({"kty": "oct", "k": b64(&[1u8; 16])});
    assert_eq!(
        code(AssertionSigner::new(&object(short), config(json!({})))),
        "config_invalid"
    );
    // A public key cannot sign; an Ed25519 key pinned to another alg is refused.
    let ed = SigningKey::generate(Algorithm::EdDsa, 2048, None, &mut rng).unwrap();
    assert_eq!(
        code(AssertionSigner::new(
            &ed.public_jwk().unwrap(),
            config(json!({}))
        )),
        "config_invalid"
    );
    let mut pinned = ed.private_jwk();
    pinned.insert("alg".into(), json!("ES256"));
    assert_eq!(
        code(AssertionSigner::new(&pinned, config(json!({})))),
        "config_invalid"
    );
    for bad in [
        json!({"lifetime": 0}),
        json!({"lifetime": 301}),
        json!({"issuer": ""}),
    ] {
        assert_eq!(
            code(AssertionSigner::new(&ed.private_jwk(), config(bad.clone()))),
            "config_invalid",
            "{bad}"
        );
    }
    // The origin side refuses keys that cannot verify assertions.
    let ec = SigningKey::generate(Algorithm::Es256, 2048, None, &mut rng).unwrap();
    assert_eq!(
        code(AssertionVerifier::from_jwk(
            &ec.public_jwk().unwrap(),
            AssertionPolicy::default()
        )),
        "config_invalid"
    );
    assert_eq!(
        code(AssertionVerifier::from_jwk(
            &object(json!({"kty": "oct", "k": "!!"})),
            AssertionPolicy::default()
        )),
        "config_invalid"
    );
}

#[test]
fn errors_never_echo_the_assertion_or_the_key() {
    let f = fixture(Algorithm::EdDsa, json!({}));
    let assertion = f.signer.sign(&f.token, GET_ITEMS, NOW, &ID).unwrap();
    let check = origin(&f.key, AssertionPolicy::default());
    let secret = f.key.private_jwk()["d"].as_str().unwrap().to_owned();
    for (a, request) in [
        (
            assertion.as_str(),
            RequestBinding {
                method: "PUT",
                path: "/x",
            },
        ),
        (&assertion[..assertion.len() - 4], GET_ITEMS),
        ("garbage", GET_ITEMS),
    ] {
        let message = check.verify(a, request, NOW).unwrap_err().to_string();
        for part in assertion.split('.') {
            assert!(!message.contains(part), "{message}");
        }
        assert!(
            !message.contains("user-42") && !message.contains(&secret),
            "{message}"
        );
        assert!(!message.contains("/x"), "{message}");
    }
    assert!(!format!("{:?}", f.signer).contains(&secret));
}
