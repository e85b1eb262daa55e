//! The main job at this stage: verify sample tokens minted by `jose` against their
//! JWKS, and show the answer an edge front end would give for each.
//!
//! `cargo run --example demo [FIXTURE.json]` (default: tests/fixtures/jose/tokens.json).

use std::process::ExitCode;

use jwt_edge::{ClaimsPolicy, JwkSet, JwksOptions, Verifier, VerifyOptions};
use serde_json::Value;

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/jose/tokens.json"
        )
        .to_owned()
    });
    let fixture: Value = match std::fs::read_to_string(&path).map(|t| serde_json::from_str(&t)) {
        Ok(Ok(v)) => v,
        _ => {
            eprintln!("cannot read a fixture from {path}");
            return ExitCode::FAILURE;
        }
    };
    let jwks = serde_json::to_vec(&fixture["jwks"]).unwrap_or_default();
    let keys = match JwkSet::parse(&jwks, &JwksOptions::default()) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("JWKS refused: {} ({e})", e.code());
            return ExitCode::FAILURE;
        }
    };
    let policy = &fixture["policy"];
    let options = VerifyOptions {
        claims: ClaimsPolicy {
            issuers: policy["issuer"]
                .as_str()
                .map(str::to_owned)
                .into_iter()
                .collect(),
            audiences: policy["audience"]
                .as_str()
                .map(str::to_owned)
                .into_iter()
                .collect(),
            ..ClaimsPolicy::default()
        },
        ..VerifyOptions::default()
    };
    let verifier = match Verifier::new(keys, options) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}: {e}", e.code());
            return ExitCode::FAILURE;
        }
    };
    // The fixture records the moment its tokens were minted; time is an input.
    let now = fixture["now"].as_i64().unwrap_or_default();
    println!("JWKS: {} keys from {path}", verifier.keys().keys().len());
    let cases = fixture["cases"].as_array().cloned().unwrap_or_default();
    let mut all_as_expected = true;
    for name in [
        "valid_ES256",
        "valid_RS256",
        "valid_EdDSA",
        "ES256_tampered_payload",
        "ES256_expired",
        "alg_none",
        "alg_confusion_HS256_jwk_json",
    ] {
        let Some(case) = cases.iter().find(|c| c["name"] == name) else {
            continue;
        };
        let token = case["token"].as_str().unwrap_or_default();
        let verdict = verifier.verify(token, now);
        let got = match &verdict {
            Ok(t) => {
                println!(
                    "  {name:32} 200 ok  alg={} kid={} sub={}",
                    t.algorithm,
                    t.key_id.as_deref().unwrap_or("-"),
                    t.claims.subject.as_deref().unwrap_or("-")
                );
                "ok"
            }
            Err(e) => {
                let http = e.http();
                let header = http.www_authenticate("jwt-edge", e).unwrap_or_default();
                println!(
                    "  {name:32} {} {}  WWW-Authenticate: {header}",
                    http.status,
                    e.code()
                );
                e.code()
            }
        };
        // The fixture's expectations assume HMAC allowed; here only acceptance must agree.
        all_as_expected &= (got == "ok") == (case["expect"] == "ok");
    }
    if all_as_expected {
        println!("accepted and refused exactly as expected");
        ExitCode::SUCCESS
    } else {
        println!("a verdict differs from the fixture's expectation");
        ExitCode::FAILURE
    }
}
