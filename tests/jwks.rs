//! JWKS import (RFC 7517 §5, RFC 7518 §6, RFC 8037 §2) and set hygiene.

mod common;

use common::{b64, jose_fixture};
use jwt_edge::{Error, JwkSet, JwksOptions, JwksProblem, KeyKind, KeyRejection};
use serde_json::{json, Value};

fn parse(doc: &Value) -> Result<JwkSet, Error> {
    JwkSet::parse(&serde_json::to_vec(doc).unwrap(), &JwksOptions::default())
}

fn fixture_key(alg: &str) -> Value {
    let f = jose_fixture();
    f["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == alg)
        .cloned()
        .unwrap()
}

fn reason_for(key: Value) -> KeyRejection {
    let set = parse(&json!({ "keys": [key] })).unwrap();
    assert!(set.keys().is_empty());
    set.skipped()[0].reason
}

#[test]
fn every_key_type_imports() {
    let f = jose_fixture();
    let set = parse(&f["jwks"]).unwrap();
    let kinds: Vec<KeyKind> = set.keys().iter().map(|k| k.kind()).collect();
    for kind in [
        KeyKind::Rsa,
        KeyKind::P256,
        KeyKind::P384,
        KeyKind::P521,
        KeyKind::Secp256k1,
        KeyKind::Ed25519,
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
    assert!(set.skipped().is_empty());
    // Debug output names the key, never its material.
    let debug = format!("{:?}", set.keys());
    let n = fixture_key("RS256")["n"].as_str().unwrap().to_owned();
    assert!(!debug.contains(&n[..20]));
}

#[test]
fn a_malformed_key_is_skipped_with_a_reason_and_the_rest_stays() {
    let good = fixture_key("ES256");
    let mut short_x = good.clone();
    short_x["x"] = json!(b64(&[1; 31]));
    let mut off_curve = good.clone();
    off_curve["x"] = json!(b64(&[1; 32]));
    off_curve["kid"] = json!("off-curve");
    let mut padded = good.clone();
    padded["x"] = json!(format!("{}=", good["x"].as_str().unwrap()));
    let mut wrong_curve = good.clone();
    wrong_curve["crv"] = json!("P-192");
    let mut dup_ops = good.clone();
    dup_ops["key_ops"] = json!(["verify", "verify"]);
    let mut kid_number = good.clone();
    kid_number["kid"] = json!(7);
    let mut long_kid = good.clone();
    long_kid["kid"] = json!("k".repeat(300));
    let set = parse(&json!({ "keys": [
        short_x, good, off_curve, padded, wrong_curve, dup_ops, kid_number, long_kid,
        "not an object", {"kty": "XYZ"}, {"n": "AQAB"},
    ]}))
    .unwrap();
    assert_eq!(set.keys().len(), 1);
    let reasons: Vec<(usize, &str)> = set
        .skipped()
        .iter()
        .map(|s| (s.index, s.reason.code()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (0, "invalid_member"),
            (2, "invalid_point"),
            (3, "invalid_member"),
            (4, "unsupported_crv"),
            (5, "duplicate_key_ops"),
            (6, "invalid_member"),
            (7, "invalid_member"),
            (8, "not_object"),
            (9, "unsupported_kty"),
            (10, "unsupported_kty"),
        ]
    );
    assert_eq!(set.skipped()[1].kid.as_deref(), Some("off-curve"));
    assert_eq!(set.skipped()[6].kid, None, "an over-long kid is not kept");
}

#[test]
fn private_members_refuse_the_whole_set() {
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth"] {
        let mut leaked = fixture_key("RS256");
        leaked[member] = json!("AQAB");
        let doc = json!({ "keys": [fixture_key("ES256"), leaked] });
        assert_eq!(
            parse(&doc).unwrap_err(),
            Error::JwksInvalid(JwksProblem::PrivateKeyMaterial),
            "{member}"
        );
    }
    let mut ec = fixture_key("ES256");
    ec["d"] = json!(b64(&[7; 32]));
    assert_eq!(
        parse(&json!({ "keys": [ec] })).unwrap_err().code(),
        "jwks_invalid"
    );
}

#[test]
fn rsa_under_2048_bits_is_refused() {
    let mut weak = fixture_key("RS256");
    // A 1024-bit modulus (odd, top bit set); size is checked before anything else.
    let mut n = vec![0xC5u8; 128];
    n[127] |= 1;
    weak["n"] = json!(b64(&n));
    assert_eq!(reason_for(weak.clone()), KeyRejection::RsaTooSmall);
    let mut n2047 = vec![0x7Fu8; 256];
    n2047[255] |= 1;
    weak["n"] = json!(b64(&n2047));
    assert_eq!(reason_for(weak.clone()), KeyRejection::RsaTooSmall);
    // A site may raise the floor.
    let strict = JwksOptions {
        min_rsa_bits: 3072,
        ..JwksOptions::default()
    };
    let set = JwkSet::parse(
        &serde_json::to_vec(&json!({"keys": [fixture_key("RS256")]})).unwrap(),
        &strict,
    )
    .unwrap();
    assert_eq!(set.skipped()[0].reason, KeyRejection::RsaTooSmall);
    // Leading zero octets are not a Base64urlUInt (RFC 7518 §6.3.1).
    let mut zero = fixture_key("RS256");
    let mut n = common::unb64(zero["n"].as_str().unwrap());
    n.insert(0, 0);
    zero["n"] = json!(b64(&n));
    assert_eq!(reason_for(zero), KeyRejection::InvalidMember("n"));
    let mut huge = fixture_key("RS256");
    huge["n"] = json!(b64(&[0xFF; 1025]));
    assert_eq!(reason_for(huge), KeyRejection::RsaUnsupported);
}

#[test]
fn weak_ed25519_points_are_refused() {
    let mut identity = [0u8; 32];
    identity[0] = 1; // y = 1: the neutral element, small order
    let key = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&identity)});
    assert_eq!(reason_for(key), KeyRejection::WeakKey);
    let key = json!({"kty": "OKP", "crv": "X25519", "x": b64(&[9; 32])});
    assert_eq!(reason_for(key), KeyRejection::UnsupportedCurve);
}

#[test]
fn oct_keys_only_when_allowed() {
    let oct = json!({"kty": "oct", "kid": "s", "k": b64(&[7; 32])});
    assert_eq!(reason_for(oct.clone()), KeyRejection::OctNotAllowed);
    let allow = JwksOptions {
        allow_oct: true,
        ..JwksOptions::default()
    };
    let doc = serde_json::to_vec(&json!({"keys": [oct]})).unwrap();
    assert_eq!(
        JwkSet::parse(&doc, &allow).unwrap().keys()[0].kind(),
        KeyKind::Oct
    );
    let short = serde_json::to_vec(&json!({"keys": [{"kty": "oct", "k": b64(&[7; 31])}]})).unwrap();
    assert_eq!(
        JwkSet::parse(&short, &allow).unwrap().skipped()[0].reason,
        KeyRejection::WeakKey
    );
}

#[test]
fn configured_secrets_must_be_long_enough() {
    use jwt_edge::{Algorithm, Jwk};
    assert_eq!(
        Jwk::hmac_secret(None, vec![1; 31], None).unwrap_err(),
        KeyRejection::WeakKey
    );
    assert!(Jwk::hmac_secret(None, vec![1; 32], Some(Algorithm::Hs256)).is_ok());
    assert_eq!(
        Jwk::hmac_secret(None, vec![1; 47], Some(Algorithm::Hs384)).unwrap_err(),
        KeyRejection::WeakKey
    );
    assert_eq!(
        Jwk::hmac_secret(None, vec![1; 63], Some(Algorithm::Hs512)).unwrap_err(),
        KeyRejection::WeakKey
    );
    assert_eq!(
        Jwk::hmac_secret(None, vec![1; 64], Some(Algorithm::Rs256)).unwrap_err(),
        KeyRejection::WeakKey
    );
    // A 32-byte secret fits HS256 but not HS512.
    let k = Jwk::hmac_secret(None, vec![1; 32], None).unwrap();
    assert!(k.fits(Algorithm::Hs256) && !k.fits(Algorithm::Hs384) && !k.fits(Algorithm::Hs512));
    assert!(!format!("{k:?}").contains("[1, 1"));
}

#[test]
fn set_level_limits() {
    for doc in [
        &b"[]"[..],
        b"{}",
        br#"{"keys":{}}"#,
        b"not json",
        br#"{"keys":[],"keys":[]}"#,
    ] {
        assert_eq!(
            JwkSet::parse(doc, &JwksOptions::default()).unwrap_err(),
            Error::JwksInvalid(JwksProblem::Malformed)
        );
    }
    let options = JwksOptions {
        max_keys: 2,
        max_bytes: 4096,
        ..JwksOptions::default()
    };
    let three = serde_json::to_vec(&json!({"keys": [{}, {}, {}]})).unwrap();
    assert_eq!(
        JwkSet::parse(&three, &options).unwrap_err(),
        Error::JwksInvalid(JwksProblem::TooManyKeys)
    );
    let big = vec![b' '; 4097];
    assert_eq!(
        JwkSet::parse(&big, &options).unwrap_err(),
        Error::JwksInvalid(JwksProblem::TooLarge)
    );
    // An empty set is valid; it simply matches nothing.
    assert!(JwkSet::parse(br#"{"keys":[]}"#, &options)
        .unwrap()
        .keys()
        .is_empty());
}

/// Issue 14 finding 8: an issuer's answer with no usable key fails hygiene, so it never
/// replaces a set that worked (every token would fail `no_matching_key`).
#[test]
fn a_fetched_set_with_no_usable_key_is_refused() {
    let fetched = |doc: &Value| {
        JwkSet::parse_fetched(&serde_json::to_vec(doc).unwrap(), &JwksOptions::default())
    };
    let mut rsa1024 = fixture_key("RS256");
    let mut n = vec![0xC5u8; 128];
    n[127] |= 1;
    rsa1024["n"] = json!(b64(&n));
    let oct = json!({"kty": "oct", "kid": "s", "k": b64(&[7; 32])});
    for (what, doc) in [
        ("empty", json!({ "keys": [] })),
        ("only RSA-1024", json!({ "keys": [rsa1024.clone()] })),
        ("only oct", json!({ "keys": [oct.clone()] })),
        (
            "only unusable",
            json!({ "keys": [rsa1024, oct, {"kty": "XYZ"}] }),
        ),
    ] {
        let err = fetched(&doc).unwrap_err();
        assert_eq!(err, Error::JwksInvalid(JwksProblem::NoUsableKeys), "{what}");
        assert_eq!(err.code(), "jwks_invalid", "{what}");
        assert_eq!(JwksProblem::NoUsableKeys.code(), "no_usable_keys");
        assert_eq!(err.to_string(), "key set refused: it has no usable key");
        // `parse` (a configured set, e.g. beside a secret) still reads it.
        assert!(parse(&doc).unwrap().keys().is_empty(), "{what}");
    }
    // One usable key among unusable ones is enough.
    let doc = json!({ "keys": [{"kty": "oct", "k": b64(&[7; 32])}, fixture_key("ES256")] });
    let set = fetched(&doc).unwrap();
    assert_eq!(set.keys().len(), 1);
    assert_eq!(set.skipped().len(), 1);
}

/// Issue 14 finding 5: a set about to be published never holds a symmetric secret.
#[test]
fn a_published_set_never_holds_a_secret() {
    let publishable = |doc: &Value| {
        JwkSet::parse_publishable(&serde_json::to_vec(doc).unwrap(), &JwksOptions::default())
    };
    let oct = json!({"kty": "oct", "kid": "hs", "k": b64(&[7; 32])});
    let doc = json!({ "keys": [fixture_key("ES256"), oct] });
    // `parse` skips it (not allowed for verification) ...
    assert_eq!(parse(&doc).unwrap().keys().len(), 1);
    // ... but publishing it would hand the secret out.
    assert_eq!(
        publishable(&doc).unwrap_err(),
        Error::JwksInvalid(JwksProblem::PrivateKeyMaterial)
    );
    // A short or malformed `k` is as private as a good one.
    let short = json!({ "keys": [{"kty": "oct", "k": "AQAB"}] });
    assert_eq!(
        publishable(&short).unwrap_err(),
        Error::JwksInvalid(JwksProblem::PrivateKeyMaterial)
    );
    let mut ec = fixture_key("ES256");
    ec["d"] = json!(b64(&[7; 32]));
    assert_eq!(
        publishable(&json!({ "keys": [ec] })).unwrap_err(),
        Error::JwksInvalid(JwksProblem::PrivateKeyMaterial)
    );
    let public = json!({ "keys": [fixture_key("ES256"), fixture_key("RS256")] });
    assert_eq!(publishable(&public).unwrap().keys().len(), 2);
}
