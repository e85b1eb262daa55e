//! Key selection: `kid` exact with no fallback, `alg` fits `kty`/`crv`/`alg`/`use`/`key_ops`.

mod common;

use common::{b64, claims, code, NOW};
use jwt_edge::{Algorithm, JwkSet, JwksOptions, Verifier, VerifyOptions};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde_json::{json, Value};

/// A deterministic P-256 test key (scalar 0x07…07) and its public JWK.
fn p256_key(seed: u8) -> (SigningKey, Value) {
    let sk = SigningKey::from_slice(&[seed; 32]).unwrap();
    let point = sk.verifying_key().to_encoded_point(false);
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
    (sk, jwk)
}

fn es256(sk: &SigningKey, header: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims().to_string().as_bytes())
    );
    let sig: Signature = sk.sign(input.as_bytes());
    format!("{input}.{}", b64(&sig.to_bytes()))
}

fn verifier(keys: Vec<Value>) -> Verifier {
    let doc = serde_json::to_vec(&json!({ "keys": keys })).unwrap();
    let set = JwkSet::parse(&doc, &JwksOptions::default()).unwrap();
    assert!(set.skipped().is_empty(), "{:?}", set.skipped());
    Verifier::new(set, VerifyOptions::default()).unwrap()
}

fn with(mut jwk: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        jwk[k] = v.clone();
    }
    jwk
}

#[test]
fn kid_selects_exactly_with_no_fallback() {
    let (a, ja) = p256_key(7);
    let (b, jb) = p256_key(9);
    let v = verifier(vec![
        with(ja.clone(), json!({"kid": "a"})),
        with(jb.clone(), json!({"kid": "b"})),
    ]);
    assert_eq!(
        v.verify(&es256(&a, &json!({"alg": "ES256", "kid": "a"})), NOW)
            .unwrap()
            .key_id
            .as_deref(),
        Some("a")
    );
    assert_eq!(
        code(v.verify(&es256(&b, &json!({"alg": "ES256", "kid": "b"})), NOW)),
        "ok"
    );
    // Signed by b but naming a: a is tried, and only a.
    assert_eq!(
        code(v.verify(&es256(&b, &json!({"alg": "ES256", "kid": "a"})), NOW)),
        "signature_invalid"
    );
    // Unknown kid, and near-misses of a known one: no fallback to other keys.
    for kid in ["c", "A", "a ", " a", ""] {
        assert_eq!(
            code(v.verify(&es256(&a, &json!({"alg": "ES256", "kid": kid})), NOW)),
            "no_matching_key",
            "{kid:?}"
        );
    }
    // Without kid, every compatible key is a candidate.
    assert_eq!(
        code(v.verify(&es256(&b, &json!({"alg": "ES256"})), NOW)),
        "ok"
    );
    // A kid in the token never matches a key without one.
    let v = verifier(vec![ja]);
    assert_eq!(
        code(v.verify(&es256(&a, &json!({"alg": "ES256", "kid": "a"})), NOW)),
        "no_matching_key"
    );
    assert_eq!(
        code(v.verify(&es256(&a, &json!({"alg": "ES256"})), NOW)),
        "ok"
    );
}

#[test]
fn the_key_must_fit_the_algorithm() {
    let (a, ja) = p256_key(7);
    let rows = [
        (json!({"use": "enc"}), "key_mismatch"),
        (json!({"use": "sig"}), "ok"),
        (json!({"key_ops": ["encrypt"]}), "key_mismatch"),
        (json!({"key_ops": ["sign", "verify"]}), "ok"),
        (json!({"alg": "ES384"}), "key_mismatch"),
        (json!({"alg": "RS256"}), "key_mismatch"),
        (json!({"alg": "ES256"}), "ok"),
    ];
    for (extra, expect) in rows {
        let v = verifier(vec![with(
            ja.clone(),
            with(extra.clone(), json!({"kid": "a"})),
        )]);
        assert_eq!(
            code(v.verify(&es256(&a, &json!({"alg": "ES256", "kid": "a"})), NOW)),
            expect,
            "{extra}"
        );
        // Without a kid, an unfit key is simply not a candidate.
        let v = verifier(vec![with(ja.clone(), extra.clone())]);
        let no_kid = if expect == "ok" {
            "ok"
        } else {
            "no_matching_key"
        };
        assert_eq!(
            code(v.verify(&es256(&a, &json!({"alg": "ES256"})), NOW)),
            no_kid,
            "{extra}"
        );
    }
}

#[test]
fn a_kid_naming_a_key_of_another_type_is_refused() {
    let f = common::jose_fixture();
    let rsa = f["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "RS256")
        .unwrap()
        .clone();
    let (a, _) = p256_key(7);
    let kid = rsa["kid"].as_str().unwrap().to_owned();
    let v = verifier(vec![rsa]);
    // ES256 header naming the RSA key: refused before any signature check.
    assert_eq!(
        code(v.verify(&es256(&a, &json!({"alg": "ES256", "kid": kid})), NOW)),
        "key_mismatch"
    );
    // ES384 header naming a P-256 key: wrong curve.
    let (_, ja) = p256_key(7);
    let v = verifier(vec![with(ja, json!({"kid": "p256"}))]);
    // (With a signature of ES384's length: a shorter one is refused before any key.)
    let token = es256(&a, &json!({"alg": "ES384", "kid": "p256"}));
    let (input, _) = token.rsplit_once('.').unwrap();
    let es384_shaped = format!("{input}.{}", "A".repeat(128));
    assert_eq!(code(v.verify(&es384_shaped, NOW)), "key_mismatch");
    assert_eq!(code(v.verify(&token, NOW)), "signature_invalid");
}

#[test]
fn the_allow_list_decides() {
    let (a, ja) = p256_key(7);
    let doc = serde_json::to_vec(&json!({ "keys": [ja] })).unwrap();
    let only_rs = VerifyOptions {
        algorithms: vec![Algorithm::Rs256],
        ..VerifyOptions::default()
    };
    let v = Verifier::new(
        JwkSet::parse(&doc, &JwksOptions::default()).unwrap(),
        only_rs,
    )
    .unwrap();
    assert_eq!(
        code(v.verify(&es256(&a, &json!({"alg": "ES256"})), NOW)),
        "alg_not_allowed"
    );
    let empty = VerifyOptions {
        algorithms: vec![],
        ..VerifyOptions::default()
    };
    assert_eq!(
        Verifier::new(JwkSet::new(), empty).unwrap_err().code(),
        "config_invalid"
    );
}

#[test]
fn too_many_candidates_without_kid_are_refused() {
    let keys: Vec<Value> = (1..=5).map(|i| p256_key(i).1).collect();
    let (last, _) = p256_key(5);
    let v = verifier(keys.clone());
    assert_eq!(
        code(v.verify(&es256(&last, &json!({"alg": "ES256"})), NOW)),
        "no_matching_key"
    );
    let v = verifier(keys[1..].to_vec());
    assert_eq!(
        code(v.verify(&es256(&last, &json!({"alg": "ES256"})), NOW)),
        "ok"
    );
}
