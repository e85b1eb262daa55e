//! The native side of the differential test (tests/differential/): the core itself,
//! with no front end, deciding every (policy, token) pair the test generated, under
//! both profiles. The test runs the same pairs through the npm package, the worker
//! and the CLI and requires the same verdict from each.
//!
//! `cargo run --example differential -- --table` prints the core's option name table
//! (the test maps policies onto each front end's names with it, rather than a copy).
//! Without arguments it reads `{"now", "cases": [{"policy", "tokens"}]}` on stdin,
//! where `policy` uses the core's names plus `keys: {jwks, secret, secrets}`, and
//! prints `{"library": [[verdict…]…], "gateway": [[verdict…]…]}`.

use std::io::Read;

use jwt_edge::{
    Error, FrontEnd, Jwk, JwkSet, JwksOptions, KeyKind, KeyKinds, PolicyOptions, Profile, Verifier,
    OPTIONS,
};
use serde_json::{json, Map, Value};

fn main() {
    if std::env::args().any(|a| a == "--table") {
        let rows: Vec<Value> = OPTIONS
            .iter()
            .map(|row| {
                json!({
                    "field": format!("{:?}", row.field),
                    "core": row.core, "edge": row.edge, "npm": row.npm, "cli": row.cli,
                    "doc": row.doc,
                })
            })
            .collect();
        println!("{}", Value::Array(rows));
        return;
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .expect("stdin is UTF-8");
    let input: Value = serde_json::from_str(&input).expect("stdin is JSON");
    let now = input["now"].as_i64().expect("now");
    let cases = input["cases"].as_array().expect("cases");
    let mut out = Map::new();
    for profile in [Profile::Library, Profile::Gateway] {
        let verdicts: Vec<Value> = cases
            .iter()
            .map(|case| {
                let tokens = case["tokens"].as_array().expect("tokens");
                match build(&case["policy"], profile) {
                    Ok(verifier) => Value::Array(
                        tokens
                            .iter()
                            .map(|t| verdict(&verifier, t.as_str().unwrap_or(""), now))
                            .collect(),
                    ),
                    Err(err) => Value::Array(tokens.iter().map(|_| refusal(&err)).collect()),
                }
            })
            .collect();
        out.insert(profile.name().to_owned(), Value::Array(verdicts));
    }
    println!("{}", Value::Object(out));
}

fn build(policy: &Value, profile: Profile) -> Result<Verifier, Error> {
    let mut object = policy.as_object().cloned().unwrap_or_default();
    let keys = object.remove("keys").unwrap_or(Value::Null);
    let options = PolicyOptions::take_from(FrontEnd::Core, &mut object)?;
    assert!(object.is_empty(), "unknown policy members: {object:?}");
    let mut set = match &keys["jwks"] {
        Value::Null => None,
        doc => Some(JwkSet::parse(
            doc.to_string().as_bytes(),
            &JwksOptions::default(),
        )?),
    };
    let mut secrets = Vec::new();
    if let Some(secret) = keys["secret"].as_str() {
        secrets.push(
            jwt_edge::parse_secret_text(secret)
                .and_then(Jwk::unnamed_hmac_secret)
                .map_err(|_| Error::config_invalid("secret"))?,
        );
    }
    for (kid, secret) in keys["secrets"].as_object().into_iter().flatten() {
        let bytes = jwt_edge::parse_secret_text(secret.as_str().unwrap_or(""))
            .map_err(|_| Error::config_invalid("secrets"))?;
        secrets.push(
            Jwk::named_hmac_secret(kid.clone(), bytes)
                .map_err(|_| Error::config_invalid("secrets"))?,
        );
    }
    let kinds = KeyKinds {
        public_keys: set.is_some(),
        shared_secret: secrets.iter().any(|k| k.kind() == KeyKind::Oct),
    };
    let resolved = options.resolve(FrontEnd::Core, profile, kinds)?;
    let mut all = set.take().unwrap_or_default();
    for secret in secrets {
        all.push(secret);
    }
    Verifier::new(all, resolved)
}

fn verdict(verifier: &Verifier, token: &str, now: i64) -> Value {
    match verifier.verify(token, now) {
        Ok(v) => json!({"valid": true, "alg": v.algorithm.name(), "kid": v.key_id}),
        Err(err) => refusal(&err),
    }
}

fn refusal(err: &Error) -> Value {
    let field = match err {
        Error::ConfigInvalid(field) => Value::String(field.to_string()),
        _ => Value::Null,
    };
    json!({"valid": false, "code": err.code(), "field": field})
}
