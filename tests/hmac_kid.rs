//! Shared secrets and the issuer's own `kid` (issue 14): an unnamed configured secret
//! verifies HS* tokens whatever their `kid` says; a named one only tokens naming it;
//! a key named by exactly the token's `kid` is the only candidate. Tokens minted by
//! jose and PyJWT (tests/fixtures/hmac-kid, see tests/fixtures/README.md).

mod common;

use common::{code, unb64};
use jwt_edge::internals::EdgeConfig;
use jwt_edge::{
    parse_secret_text, Algorithm, Error, Jwk, JwkSet, JwksOptions, KeyRejection, KidMatch,
    Verifier, VerifyConfig, VerifyOptions,
};
use serde_json::{json, Value};

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/hmac-kid/tokens.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn token(f: &Value, name: &str) -> String {
    f["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no token {name}"))["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn secret(f: &Value, name: &str) -> Vec<u8> {
    unb64(f["secrets"][name].as_str().unwrap())
}

fn hs_options() -> VerifyOptions {
    VerifyOptions {
        algorithms: Algorithm::ALL.to_vec(),
        ..VerifyOptions::default()
    }
}

/// The verdict code and, when valid, the verifying key's kid.
fn run(v: &Verifier, f: &Value, name: &str) -> (String, Option<String>) {
    let now = f["now"].as_i64().unwrap();
    match v.verify(&token(f, name), now) {
        Ok(t) => ("valid".into(), t.key_id),
        Err(e) => (e.code().into(), None),
    }
}

fn unnamed(f: &Value) -> Jwk {
    Jwk::unnamed_hmac_secret(secret(f, "unnamed")).unwrap()
}

fn named(f: &Value, kid: &str, which: &str) -> Jwk {
    Jwk::named_hmac_secret(kid.into(), secret(f, which)).unwrap()
}

fn rsa(f: &Value) -> Jwk {
    let doc = json!({ "keys": [f["rsa_jwk"]] }).to_string();
    JwkSet::parse(doc.as_bytes(), &JwksOptions::default())
        .unwrap()
        .into_keys()
        .pop()
        .unwrap()
}

fn verifier(keys: Vec<Jwk>) -> Verifier {
    let mut set = JwkSet::new();
    for k in keys {
        set.push(k);
    }
    Verifier::new(set, hs_options()).unwrap()
}

#[test]
fn an_unnamed_secret_verifies_whatever_the_kid_says() {
    let f = fixture();
    let key = unnamed(&f);
    assert_eq!(key.kid_match(), KidMatch::Any);
    let thumbprint = key.kid.clone();
    let v = verifier(vec![key]);
    for name in [
        "jose_hs256_kid_hs256",
        "jose_hs384_kid_hs384",
        "jose_hs512_kid_issuer",
        "jose_hs256_no_kid",
        "jose_hs256_unnamed_as_client7",
        "pyjwt_hs256_kid_hs256",
        "pyjwt_hs512_no_kid",
    ] {
        assert_eq!(
            run(&v, &f, name),
            ("valid".into(), thumbprint.clone()),
            "{name}"
        );
    }
    // Another secret's token is still a bad signature.
    assert_eq!(run(&v, &f, "jose_hs256_client7").0, "signature_invalid");
}

#[test]
fn a_named_secret_verifies_only_its_kid() {
    let f = fixture();
    let v = verifier(vec![
        named(&f, "client-7", "client7"),
        named(&f, "client-9", "client9"),
    ]);
    for (name, expect, kid) in [
        ("jose_hs256_client7", "valid", Some("client-7")),
        ("pyjwt_hs256_client7", "valid", Some("client-7")),
        ("jose_hs256_client9", "valid", Some("client-9")),
        // A wrong secret under the right kid: never another client's secret.
        ("jose_hs256_client7_wrong_secret", "signature_invalid", None),
        (
            "pyjwt_hs256_client7_wrong_secret",
            "signature_invalid",
            None,
        ),
        ("jose_hs256_client7_as_client9", "signature_invalid", None),
        // Named secrets only: a kid that names none of them.
        ("jose_hs256_unknown_kid", "no_matching_key", None),
        ("jose_hs256_kid_hs256", "no_matching_key", None),
    ] {
        assert_eq!(
            run(&v, &f, name),
            (expect.into(), kid.map(str::to_owned)),
            "{name}"
        );
    }
}

#[test]
fn keys_named_by_the_kid_come_first_and_alone() {
    let f = fixture();
    let thumbprint = unnamed(&f).kid;
    let v = verifier(vec![rsa(&f), unnamed(&f), named(&f, "client-7", "client7")]);
    for (name, expect, kid) in [
        ("jose_hs256_client7", "valid", Some("client-7")),
        ("jose_hs256_kid_hs256", "valid", thumbprint.as_deref()),
        ("jose_hs256_no_kid", "valid", thumbprint.as_deref()),
        // The unnamed secret is not tried for a kid that names another key.
        ("jose_hs256_unnamed_as_client7", "signature_invalid", None),
        ("jose_hs256_client7_wrong_secret", "signature_invalid", None),
        // An HS256 token naming the RSA key: the kid decides, the key refuses HS256.
        ("jose_hs256_kid_rsa", "key_mismatch", None),
        // An unknown kid goes to the unnamed secret, which did not sign it.
        ("jose_hs256_unknown_kid", "signature_invalid", None),
    ] {
        assert_eq!(
            run(&v, &f, name),
            (expect.into(), kid.map(str::to_owned)),
            "{name}"
        );
    }
}

#[test]
fn an_unnamed_secret_never_verifies_other_algorithms_and_candidates_stay_bounded() {
    let f = fixture();
    // Only HS256 allowed: HS384/HS512 tokens are refused before any key.
    let mut set = JwkSet::new();
    set.push(unnamed(&f));
    let v = Verifier::new(
        set,
        VerifyOptions {
            algorithms: vec![Algorithm::Hs256],
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(run(&v, &f, "jose_hs384_kid_hs384").0, "alg_not_allowed");
    // More unnamed secrets than max_candidates (4): refused without trying them.
    let many: Vec<Jwk> = (0..5u8)
        .map(|i| Jwk::unnamed_hmac_secret(vec![i; 32]).unwrap())
        .collect();
    assert_eq!(
        run(&verifier(many), &f, "jose_hs256_kid_hs256").0,
        "no_matching_key"
    );
}

#[test]
fn a_local_jwks_imports_oct_keys_by_exact_kid_and_a_remote_one_does_not() {
    let f = fixture();
    let now = f["now"].as_i64().unwrap();
    let jwks = json!({ "keys": [
        { "kty": "oct", "kid": "client-7", "k": f["secrets"]["client7"] },
        f["rsa_jwk"],
    ]});
    // npm `jwks` option: the user's own set.
    let config = VerifyConfig::from_json(&json!({ "jwks": jwks }).to_string()).unwrap();
    let local = config.build().unwrap();
    // HS* are in the default allow-list because the set has a shared secret.
    assert!(local.options().algorithms.contains(&Algorithm::Hs256));
    let t = local.verify(&token(&f, "jose_hs256_client7"), now).unwrap();
    assert_eq!(t.key_id.as_deref(), Some("client-7"));
    assert_eq!(
        code(local.verify(&token(&f, "jose_hs256_client7_wrong_secret"), now)),
        "signature_invalid"
    );
    // A JWKS oct key is named: an issuer label that is not its kid finds nothing.
    assert_eq!(
        code(local.verify(&token(&f, "jose_hs256_unknown_kid"), now)),
        "no_matching_key"
    );
    assert_eq!(
        code(local.verify(&token(&f, "jose_hs256_kid_rsa"), now)),
        "key_mismatch"
    );
    // npm RemoteJwks: the same document fetched from an issuer keeps skipping oct, so
    // without a configured secret HS256 is not even allowed (no key could verify it)…
    assert_eq!(
        VerifyConfig::from_json(r#"{"algorithms":["HS256","RS256"]}"#)
            .unwrap()
            .build_with_remote_jwks(jwks.to_string().as_bytes())
            .unwrap_err(),
        Error::config_invalid("algorithms")
    );
    // …and with one, the fetched set's oct key is still not used.
    let remote = VerifyConfig::from_json(
        r#"{"algorithms":["HS256","RS256"],"secret":"c2VjcmV0LW5vdC11c2VkLWhlcmUtMzItYnl0ZXMtbG9uZw"}"#,
    )
    .unwrap()
    .build_with_remote_jwks(jwks.to_string().as_bytes())
    .unwrap();
    // Only the configured (unnamed) secret is tried, and it is not client-7's.
    assert_eq!(
        code(remote.verify(&token(&f, "jose_hs256_client7"), now)),
        "signature_invalid"
    );
    assert_eq!(
        JwkSet::parse(jwks.to_string().as_bytes(), &JwksOptions::default())
            .unwrap()
            .skipped()[0]
            .reason,
        KeyRejection::OctNotAllowed
    );
    // A remote set cannot come with `jwks` as well.
    assert_eq!(
        config
            .build_with_remote_jwks(jwks.to_string().as_bytes())
            .unwrap_err(),
        Error::config_invalid("jwks")
    );
}

#[test]
fn npm_options_secret_and_secrets() {
    let f = fixture();
    let now = f["now"].as_i64().unwrap();
    let options = json!({
        "secret": f["secrets"]["unnamed"],
        "secrets": { "client-7": f["secrets"]["client7"], "client-9": f["secrets"]["client9"] },
    });
    let v = VerifyConfig::from_json(&options.to_string())
        .unwrap()
        .build()
        .unwrap();
    for (name, expect) in [
        ("jose_hs256_kid_hs256", "ok"),
        ("pyjwt_hs256_kid_hs256", "ok"),
        ("jose_hs256_no_kid", "ok"),
        ("jose_hs256_client7", "ok"),
        ("jose_hs256_client9", "ok"),
        ("jose_hs256_client7_wrong_secret", "signature_invalid"),
        ("jose_hs256_unnamed_as_client7", "signature_invalid"),
    ] {
        assert_eq!(code(v.verify(&token(&f, name), now)), expect, "{name}");
    }
    // Named secrets alone also turn HS* on by default.
    let only_named = json!({ "secrets": { "client-7": f["secrets"]["client7"] } });
    let v = VerifyConfig::from_json(&only_named.to_string())
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(code(v.verify(&token(&f, "jose_hs256_client7"), now)), "ok");
    assert_eq!(
        code(v.verify(&token(&f, "jose_hs256_kid_hs256"), now)),
        "no_matching_key"
    );
    for bad in [
        json!({ "secrets": { "": f["secrets"]["client7"] } }),
        json!({ "secrets": { "x".repeat(257): f["secrets"]["client7"] } }),
        json!({ "secrets": { "client-7": "c2hvcnQ" } }),
        json!({ "secrets": { "client-7": "<your key>" } }),
    ] {
        assert_eq!(
            VerifyConfig::from_json(&bad.to_string())
                .unwrap()
                .build()
                .unwrap_err(),
            Error::config_invalid("secrets")
        );
    }
    // serde names no field for a wrong type (as for every option).
    assert!(VerifyConfig::from_json(r#"{"secrets":"x"}"#).is_err());
}

#[test]
fn worker_config_hmac_secrets() {
    let c = EdgeConfig::from_json(
        r#"{"issuers":[{"issuer":"a","hmac_secrets":{"client-7":"CLIENT_7","client-9":"CLIENT_9"}}]}"#,
    )
    .unwrap();
    let issuer = &c.issuers[0];
    assert_eq!(issuer.hmac_secrets.len(), 2);
    // HS* by default, as with hmac_secret; no jwks_uri needed.
    assert_eq!(
        c.verify_options(issuer).unwrap().algorithms,
        vec![Algorithm::Hs256, Algorithm::Hs384, Algorithm::Hs512]
    );
    let long_kid = "k".repeat(257);
    for bad in [
        r#"{"issuers":[{"issuer":"a","hmac_secrets":{"client-7":"not a name"}}]}"#.to_owned(),
        r#"{"issuers":[{"issuer":"a","hmac_secrets":{"":"CLIENT"}}]}"#.to_owned(),
        format!(r#"{{"issuers":[{{"issuer":"a","hmac_secrets":{{"{long_kid}":"CLIENT"}}}}]}}"#),
    ] {
        assert_eq!(
            EdgeConfig::from_json(&bad).unwrap_err(),
            Error::config_invalid("issuers.hmac_secrets"),
            "{bad}"
        );
    }
    let too_many: serde_json::Map<String, Value> = (0..101)
        .map(|i| (format!("c{i}"), json!(format!("C{i}"))))
        .collect();
    let doc = json!({ "issuers": [{ "issuer": "a", "hmac_secrets": too_many }] });
    assert_eq!(
        EdgeConfig::from_json(&doc.to_string()).unwrap_err(),
        Error::config_invalid("issuers.hmac_secrets")
    );
    // A kid given twice is refused, not last-wins.
    let twice = r#"{"issuers":[{"issuer":"a","hmac_secrets":{"client-7":"A","client-7":"B"}}]}"#;
    assert_eq!(
        EdgeConfig::from_json(twice).unwrap_err(),
        Error::config_invalid("duplicate member")
    );
    // Without any secret, neither HS* nor a missing jwks_uri is allowed.
    assert_eq!(
        EdgeConfig::from_json(r#"{"issuers":[{"issuer":"a","hmac_secrets":{}}]}"#).unwrap_err(),
        Error::config_invalid("issuers.jwks_uri")
    );
}

#[test]
fn named_secret_kids_are_bounded() {
    assert_eq!(
        Jwk::named_hmac_secret(String::new(), vec![1; 32]).unwrap_err(),
        KeyRejection::InvalidKid
    );
    assert_eq!(
        Jwk::named_hmac_secret("k".repeat(257), vec![1; 32]).unwrap_err(),
        KeyRejection::InvalidKid
    );
    let key = Jwk::named_hmac_secret("client-7".into(), vec![1; 32]).unwrap();
    assert_eq!(key.kid_match(), KidMatch::Exact);
}

/// Item 12: every value in .dev.vars.example is refused by the secret parser every
/// front end uses, so a placeholder left in place can never be a working key.
#[test]
fn dev_vars_example_placeholders_are_refused() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.dev.vars.example")).unwrap();
    let mut values = 0;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once('=').unwrap();
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        values += 1;
        assert!(
            parse_secret_text(value).is_err(),
            "{name} in .dev.vars.example decodes as a key"
        );
    }
    assert!(values >= 1);
    // The placeholder it had before: valid base64url, refused as typed text.
    assert_eq!(
        parse_secret_text("replace-with-a-base64url-key-of-32-bytes-or-more"),
        Err(KeyRejection::TypedText)
    );
}
