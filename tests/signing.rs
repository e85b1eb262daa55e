//! The issuer's side of the core: key generation (seeded, so deterministic), private
//! JWK round trips, RFC 7638 kids, and signing for every algorithm. Independent
//! checks of the signatures (jose, openssl) live in tests/node/cli.test.mjs.

use jwt_edge::{thumbprint, Algorithm, JwkSet, JwksOptions, SigningKey, Verifier, VerifyOptions};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Map, Value};

fn claims(now: i64) -> Map<String, Value> {
    json!({"sub": "svc", "iat": now, "exp": now + 60})
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn every_algorithm_signs_and_verifies() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for alg in Algorithm::ALL {
        let key = SigningKey::generate(alg, 2048, None, &mut rng).unwrap();
        let token = key.sign(None, &Map::new(), &claims(1_700_000_000)).unwrap();
        let mut keys = JwkSet::new();
        if alg.is_symmetric() {
            let k = key.private_jwk()["k"].as_str().unwrap().to_owned();
            let secret =
                <base64ct::Base64UrlUnpadded as base64ct::Encoding>::decode_vec(&k).unwrap();
            keys.push(jwt_edge::Jwk::hmac_secret(key.kid.clone(), secret, Some(alg)).unwrap());
            assert!(key.public_jwk().is_err(), "a secret has no public part");
        } else {
            let public = key.public_jwk().unwrap();
            for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
                assert!(!public.contains_key(private), "{alg}: {private}");
            }
            assert_eq!(
                key.kid.as_deref(),
                Some(thumbprint(&public).unwrap().as_str())
            );
            let doc = serde_json::to_vec(&json!({ "keys": [public] })).unwrap();
            keys = JwkSet::parse(&doc, &JwksOptions::default()).unwrap();
        }
        let verifier = Verifier::new(
            keys,
            VerifyOptions {
                algorithms: vec![alg],
                ..Default::default()
            },
        )
        .unwrap();
        let verified = verifier
            .verify(&token, 1_700_000_000)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(verified.algorithm, alg);
        assert_eq!(verified.header.typ.as_deref(), Some("JWT"));
        // Round trip through the private JWK gives the same key.
        let again = SigningKey::from_jwk(&key.private_jwk()).unwrap();
        assert_eq!(again.private_jwk(), key.private_jwk(), "{alg}");
    }
}

#[test]
fn the_key_decides_the_algorithm() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let es = SigningKey::generate(Algorithm::Es256, 2048, Some("k1".into()), &mut rng).unwrap();
    assert_eq!(es.kid.as_deref(), Some("k1"));
    assert_eq!(
        es.sign(Some(Algorithm::Rs256), &Map::new(), &claims(0))
            .unwrap_err()
            .code(),
        "key_mismatch"
    );
    assert_eq!(
        es.sign(Some(Algorithm::Es384), &Map::new(), &claims(0))
            .unwrap_err()
            .code(),
        "key_mismatch"
    );
    let hs = SigningKey::generate(Algorithm::Hs256, 0, None, &mut rng).unwrap();
    let mut jwk = hs.private_jwk();
    jwk.remove("alg");
    let hs = SigningKey::from_jwk(&jwk).unwrap();
    assert_eq!(
        hs.sign(Some(Algorithm::Hs512), &Map::new(), &claims(0))
            .unwrap_err()
            .code(),
        "key_mismatch"
    );
    assert_eq!(
        SigningKey::generate(Algorithm::Rs256, 1024, None, &mut rng)
            .unwrap_err()
            .code(),
        "config_invalid"
    );
}

#[test]
fn private_jwks_are_checked() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let key = SigningKey::generate(Algorithm::Es256, 2048, None, &mut rng).unwrap();
    let mut jwk = key.private_jwk();
    // A public part that does not belong to the private key.
    let other = SigningKey::generate(Algorithm::Es256, 2048, None, &mut rng).unwrap();
    jwk.insert("x".into(), other.public_jwk().unwrap()["x"].clone());
    assert!(SigningKey::from_jwk(&jwk).is_err());
    let mut jwk = key.private_jwk();
    jwk.insert("d".into(), json!("AA"));
    assert!(SigningKey::from_jwk(&jwk).is_err());
    assert!(
        SigningKey::from_jwk(json!({"kty": "oct", "k": "c2hvcnQ"}).as_object().unwrap()).is_err()
    );
    assert!(!format!("{key:?}").contains(key.private_jwk()["d"].as_str().unwrap()));
}
