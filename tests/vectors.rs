//! Published vectors, named after their RFC section (tests/vectors/README.md says
//! where each was transcribed from and how check-vectors.py proves it independently).

mod common;

use common::{b64, code, read_json, unb64};
use jwt_edge::{Algorithm, ClaimsPolicy, Jwk, JwkSet, JwksOptions, Verifier, VerifyOptions};
use serde_json::{json, Value};

fn vector(name: &str) -> Value {
    let all = read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/rfc.json"
    ));
    all["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name}"))
}

fn verifier_for(v: &Value, policy: ClaimsPolicy) -> Verifier {
    let jwk = &v["jwk"];
    let alg: Algorithm = v["alg"].as_str().unwrap().parse().unwrap();
    let keys = if jwk["kty"] == "oct" {
        let mut keys = JwkSet::new();
        keys.push(Jwk::hmac_secret(None, common::unb64(jwk["k"].as_str().unwrap()), None).unwrap());
        keys
    } else {
        let doc = serde_json::to_vec(&json!({ "keys": [jwk] })).unwrap();
        let keys = JwkSet::parse(&doc, &JwksOptions::default()).unwrap();
        assert_eq!(keys.keys().len(), 1, "{:?}", keys.skipped());
        keys
    };
    Verifier::new(
        keys,
        VerifyOptions {
            algorithms: vec![alg],
            claims: policy,
            ..Default::default()
        },
    )
    .unwrap()
}

/// The JWT vectors of RFC 7515 A.1–A.3 carry exp = 1300819380 (2011-03-22T18:43:00Z).
const BEFORE_EXP: i64 = 1_300_819_000;

fn jwt_vector(name: &str) {
    let v = vector(name);
    let verifier = verifier_for(
        &v,
        ClaimsPolicy {
            issuers: vec!["joe".into()],
            ..Default::default()
        },
    );
    let jws = v["jws"].as_str().unwrap();
    let token = verifier.verify(jws, BEFORE_EXP).unwrap();
    assert_eq!(token.claims.issuer.as_deref(), Some("joe"));
    assert_eq!(token.claims.expires_at, Some(1_300_819_380));
    assert_eq!(token.claims.all["http://example.com/is_root"], true);
    // Default skew 60 s: still accepted 59 s after exp, expired at exp + 60.
    assert_eq!(code(verifier.verify(jws, 1_300_819_380 + 59)), "ok");
    assert_eq!(
        code(verifier.verify(jws, 1_300_819_380 + 60)),
        "token_expired"
    );
    // One changed claim (iss "joe" → "jof", re-encoded) breaks the signature.
    let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
    let payload = String::from_utf8(unb64(&parts[1])).unwrap();
    let forged = payload.replacen("\"joe\"", "\"jof\"", 1);
    assert_ne!(forged, payload, "the payload names iss joe");
    parts[1] = b64(forged.as_bytes());
    assert_eq!(
        code(verifier.verify(&parts.join("."), BEFORE_EXP)),
        "signature_invalid"
    );
}

#[test]
fn rfc7515_appendix_a1_hs256() {
    jwt_vector("rfc7515-a1-hs256");
}

#[test]
fn rfc7515_appendix_a2_rs256() {
    jwt_vector("rfc7515-a2-rs256");
}

#[test]
fn rfc7515_appendix_a3_es256() {
    jwt_vector("rfc7515-a3-es256");
}

fn jws_vector(name: &str) {
    let v = vector(name);
    let verifier = verifier_for(&v, ClaimsPolicy::default());
    let jws = v["jws"].as_str().unwrap();
    let signed = verifier.verify_signature(jws).unwrap();
    assert_eq!(
        signed.payload,
        v["payload_text"].as_str().unwrap().as_bytes()
    );
    // Not JSON, so not a JWT: the full verification refuses it after the signature held.
    assert_eq!(code(verifier.verify(jws, 0)), "token_malformed");
    let mut sig = common::unb64(jws.rsplit('.').next().unwrap());
    sig[0] ^= 1;
    let forged = format!("{}.{}", jws.rsplit_once('.').unwrap().0, common::b64(&sig));
    assert_eq!(
        code(verifier.verify_signature(&forged)),
        "signature_invalid"
    );
}

#[test]
fn rfc7515_appendix_a4_es512() {
    jws_vector("rfc7515-a4-es512");
}

#[test]
fn rfc8037_appendix_a4_ed25519() {
    jws_vector("rfc8037-a4-ed25519");
}

/// RFC 7638 §3.1 (RSA) and RFC 8037 Appendix A.3 (Ed25519) thumbprints.
#[test]
fn rfc7638_and_rfc8037_thumbprints() {
    let all = read_json(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/vectors/rfc.json"
    ));
    let list = all["thumbprints"].as_array().unwrap();
    assert!(list.len() >= 2);
    for v in list {
        let jwk = v["jwk"].as_object().unwrap();
        assert_eq!(
            jwt_edge::thumbprint(jwk).unwrap(),
            v["thumbprint"].as_str().unwrap(),
            "{}",
            v["name"]
        );
    }
}
