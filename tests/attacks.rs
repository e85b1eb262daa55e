//! Known attacks on JWT verifiers, each refused with its code.

mod common;

use common::{b64, claims, code, hs256_raw, jose_fixture, jose_verifier, unb64};
use jwt_compact::alg::{Hs256, Hs256Key};
use jwt_compact::{Algorithm as _, AlgorithmSignature as _};
use jwt_edge::{Algorithm, JwkSet, JwksOptions, Verifier, VerifyOptions};
use serde_json::{json, Value};

fn case(f: &Value, name: &str) -> String {
    f["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn with_signature(token: &str, sig: &[u8]) -> String {
    format!("{}.{}", token.rsplit_once('.').unwrap().0, b64(sig))
}

fn with_header(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", b64(header.to_string().as_bytes()))
}

#[test]
fn alg_none_in_every_spelling() {
    let f = jose_fixture();
    let v = jose_verifier(&f);
    let now = f["now"].as_i64().unwrap();
    let payload = b64(claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE", "nOnE", "none ", " none", "", "null"] {
        let header = b64(json!({ "alg": alg }).to_string().as_bytes());
        for sig in ["", "AAAA"] {
            assert_eq!(
                code(v.verify(&format!("{header}.{payload}.{sig}"), now)),
                "alg_not_allowed",
                "{alg:?}"
            );
        }
    }
    let header = b64(br#"{"alg":null}"#);
    assert_eq!(
        code(v.verify(&format!("{header}.{payload}."), now)),
        "token_malformed"
    );
}

/// RS256 → HS256: an attacker signs with HMAC using the public key as the secret.
#[test]
fn rsa_public_key_as_hmac_secret() {
    let f = jose_fixture();
    let now = f["now"].as_i64().unwrap();
    let rsa = f["jwks"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "RS256")
        .unwrap()
        .clone();
    let jwks = serde_json::to_vec(&json!({ "keys": [rsa.clone()] })).unwrap();
    let all_algs = || VerifyOptions {
        algorithms: Algorithm::ALL.to_vec(),
        ..VerifyOptions::default()
    };
    let v = Verifier::new(
        JwkSet::parse(&jwks, &JwksOptions::default()).unwrap(),
        all_algs(),
    )
    .unwrap();
    // jose-made tokens, secret = SPKI PEM and secret = JWK JSON, kid = the RSA key's.
    for name in [
        "alg_confusion_HS256_spki_pem",
        "alg_confusion_HS256_jwk_json",
    ] {
        assert_eq!(
            code(v.verify(&case(&f, name), now)),
            "key_mismatch",
            "{name}"
        );
        // Without a kid there is no HMAC key to try at all.
        let t = with_header(&case(&f, name), &json!({"alg": "HS256"}));
        assert_eq!(code(v.verify(&t, now)), "no_matching_key", "{name}");
    }
    // With the default allow-list, HMAC is not even considered.
    let v = Verifier::new(
        JwkSet::parse(&jwks, &JwksOptions::default()).unwrap(),
        VerifyOptions::default(),
    )
    .unwrap();
    assert_eq!(
        code(v.verify(&case(&f, "alg_confusion_HS256_jwk_json"), now)),
        "alg_not_allowed"
    );
    // The n bytes themselves as the secret, signed here with jwt-compact.
    let n = unb64(rsa["n"].as_str().unwrap());
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "kid": rsa["kid"]})
            .to_string()
            .as_bytes()),
        b64(claims().to_string().as_bytes())
    );
    let sig = Hs256.sign(&Hs256Key::new(&n), input.as_bytes());
    let v = Verifier::new(
        JwkSet::parse(&jwks, &JwksOptions::default()).unwrap(),
        all_algs(),
    )
    .unwrap();
    assert_eq!(
        code(v.verify(&format!("{input}.{}", b64(&sig.as_bytes())), now)),
        "key_mismatch"
    );
}

#[test]
fn keys_named_by_the_token_are_never_used() {
    let f = jose_fixture();
    let v = jose_verifier(&f);
    let now = f["now"].as_i64().unwrap();
    assert_eq!(
        code(v.verify(&case(&f, "embedded_jwk_header"), now)),
        "signature_invalid"
    );
    assert_eq!(
        code(v.verify(&case(&f, "jku_header"), now)),
        "no_matching_key"
    );
    // x5u / x5c / jku on an attacker-signed token: the configured ES256 key is tried and fails.
    let forged = case(&f, "ES256_foreign_key_real_kid");
    let real_header: Value =
        serde_json::from_slice(&unb64(forged.split('.').next().unwrap())).unwrap();
    for extra in [
        json!({"x5u": "https://evil.example/cert.pem"}),
        json!({"x5c": ["MIIB"]}),
        json!({"jku": "https://evil.example/jwks.json"}),
        json!({"jwk": {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}),
    ] {
        let mut h = real_header.clone();
        for (k, val) in extra.as_object().unwrap() {
            h[k] = val.clone();
        }
        assert_eq!(
            code(v.verify(&with_header(&forged, &h), now)),
            "signature_invalid",
            "{extra}"
        );
    }
}

/// DER encoding of an ECDSA (r, s) pair, as OpenSSL and WebCrypto-unaware code produce.
fn der(raw: &[u8]) -> Vec<u8> {
    fn int(bytes: &[u8]) -> Vec<u8> {
        let mut b: Vec<u8> = bytes.iter().copied().skip_while(|x| *x == 0).collect();
        if b.first().is_none_or(|x| x & 0x80 != 0) {
            b.insert(0, 0);
        }
        let mut out = vec![0x02, b.len() as u8];
        out.extend(b);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 128 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    out
}

#[test]
fn ecdsa_signatures_are_raw_fixed_length_and_in_range() {
    let f = jose_fixture();
    let v = jose_verifier(&f);
    let now = f["now"].as_i64().unwrap();
    let orders: [(&str, &str); 4] = [
        ("ES256", "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
        ("ES384", "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973"),
        ("ES512", "01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409"),
        ("ES256K", "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"),
    ];
    for (alg, order) in orders {
        let token = case(&f, &format!("valid_{alg}"));
        assert_eq!(code(v.verify(&token, now)), "ok");
        let sig = unb64(token.rsplit('.').next().unwrap());
        let half = sig.len() / 2;
        let n: Vec<u8> = (0..order.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&order[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(n.len(), half, "{alg}");
        let (r, s) = sig.split_at(half);
        let mut bad: Vec<(&str, Vec<u8>)> = vec![
            ("r = s = 0 (CVE-2022-21449)", vec![0; sig.len()]),
            ("r = 0", [vec![0; half], s.to_vec()].concat()),
            ("s = 0", [r.to_vec(), vec![0; half]].concat()),
            ("r = n", [n.clone(), s.to_vec()].concat()),
            ("s = n", [r.to_vec(), n.clone()].concat()),
            ("DER", der(&sig)),
            ("one byte short", sig[..sig.len() - 1].to_vec()),
            ("one byte long", [sig.clone(), vec![0]].concat()),
            ("empty", vec![]),
        ];
        // s + n has the same value mod n but does not fit the length: refused too.
        bad.push(("r||s twice", [sig.clone(), sig.clone()].concat()));
        for (what, sig) in bad {
            assert_eq!(
                code(v.verify(&with_signature(&token, &sig), now)),
                "signature_invalid",
                "{alg} {what}"
            );
        }
    }
}

#[test]
fn wrong_length_signatures_for_every_family() {
    let f = jose_fixture();
    let v = jose_verifier(&f);
    let now = f["now"].as_i64().unwrap();
    for alg in ["HS256", "HS512", "RS256", "PS384", "EdDSA"] {
        let token = case(&f, &format!("valid_{alg}"));
        let sig = unb64(token.rsplit('.').next().unwrap());
        for bad in [
            sig[..sig.len() - 1].to_vec(),
            [sig.clone(), vec![0]].concat(),
            [vec![0], sig.clone()].concat(),
            vec![],
        ] {
            assert_eq!(
                code(v.verify(&with_signature(&token, &bad), now)),
                "signature_invalid",
                "{alg}"
            );
        }
    }
}

#[test]
fn duplicate_members_cannot_smuggle_claims() {
    let v = common::hs_verifier(Default::default());
    let header = br#"{"alg":"HS256","kid":"hs"}"#;
    let payload = format!(
        r#"{{"sub":"user","exp":{},"sub":"admin"}}"#,
        common::NOW + 60
    );
    assert_eq!(
        code(v.verify(&hs256_raw(header, payload.as_bytes()), common::NOW)),
        "token_malformed"
    );
    let header = br#"{"alg":"HS256","kid":"hs","alg":"none"}"#;
    assert_eq!(
        code(v.verify(
            &hs256_raw(header, claims().to_string().as_bytes()),
            common::NOW
        )),
        "token_malformed"
    );
}
