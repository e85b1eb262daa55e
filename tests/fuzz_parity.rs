//! Hostile inputs from the fuzzers, with the native core's verdict on each
//! (tests/fixtures/fuzz/parity.json, made by `scripts/fuzz-parity.sh`). This test holds
//! the native core to the recorded verdicts; tests/npm/fuzz-parity.test.mjs holds the
//! npm package's wasm to the same ones. Together: on about 1,900 coverage-distinct
//! fuzzer inputs, the two front ends decide alike, and neither traps.
//!
//! Each verdict goes through the same path as the npm package: options as JSON text →
//! `VerifyConfig` → `Verifier`, then `verify` at the options' `now`.
//!
//! `JWT_EDGE_BLESS=1 cargo test --test fuzz_parity` rewrites the verdicts instead of
//! checking them (after a deliberate change of behaviour, to be reviewed in the diff).

use std::path::PathBuf;

use jwt_edge::{VerifiedToken, VerifyConfig};
use serde_json::{json, Value};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/parity.json")
}

/// "ok ALG KID" or the error code.
fn verdict(result: Result<VerifiedToken, jwt_edge::Error>) -> String {
    match result {
        Ok(v) => format!(
            "ok {} {}",
            v.algorithm.name(),
            v.key_id.as_deref().unwrap_or("-")
        ),
        Err(e) => e.code().to_owned(),
    }
}

/// `verify(token, options)` of the npm package.
fn verify_with(options: &Value, token: &str) -> String {
    let config = VerifyConfig::from_json(&options.to_string()).expect("the recorded options parse");
    let verifier = config.build().expect("the recorded options build");
    verdict(verifier.verify(token, config.now.expect("options.now")))
}

/// `new Verifier({...options, jwks: input})` of the npm package, then each token.
fn build_with(options: &Value, jwks: &str, tokens: &[String]) -> Value {
    let mut options = options.clone();
    options["jwks"] = Value::String(jwks.to_owned());
    let built =
        VerifyConfig::from_json(&options.to_string()).and_then(|c| c.build().map(|v| (c, v)));
    match built {
        Err(e) => json!({ "build": e.code() }),
        Ok((config, verifier)) => {
            let now = config.now.expect("options.now");
            let codes: Vec<String> = tokens
                .iter()
                .map(|t| verdict(verifier.verify(t, now)))
                .collect();
            json!({ "build": "ok", "tokens": codes })
        }
    }
}

#[test]
fn native_verdicts_on_fuzzer_inputs_are_the_recorded_ones() {
    let path = fixture_path();
    let text = std::fs::read_to_string(&path).expect("tests/fixtures/fuzz/parity.json");
    let mut fixture: Value = serde_json::from_str(&text).expect("parity.json is JSON");
    let bless = std::env::var_os("JWT_EDGE_BLESS").is_some();

    let verify_options = fixture["verify_options"].clone();
    let jwks_options = fixture["jwks_options"].clone();
    let tokens: Vec<String> = fixture["jwks_tokens"]
        .as_array()
        .expect("jwks_tokens")
        .iter()
        .map(|t| t.as_str().expect("token").to_owned())
        .collect();

    let mut mismatches = Vec::new();
    let mut accepted = 0;
    let verify_cases = fixture["verify"].as_array_mut().expect("verify cases");
    assert!(
        verify_cases.len() >= 500,
        "only {} verify inputs",
        verify_cases.len()
    );
    for (i, case) in verify_cases.iter_mut().enumerate() {
        let input = case["input"].as_str().expect("input").to_owned();
        let got = verify_with(&verify_options, &input);
        accepted += usize::from(got.starts_with("ok "));
        if bless {
            case["verdict"] = Value::String(got);
        } else if case["verdict"] != got.as_str() {
            mismatches.push(format!(
                "verify[{i}]: recorded {}, now {got}",
                case["verdict"]
            ));
        }
    }
    // The corpus holds the fixture's valid tokens among the mutants: some must pass.
    assert!(accepted >= 5, "only {accepted} accepted verify inputs");

    let mut built = 0;
    let jwks_cases = fixture["jwks"].as_array_mut().expect("jwks cases");
    assert!(
        jwks_cases.len() >= 500,
        "only {} jwks inputs",
        jwks_cases.len()
    );
    for (i, case) in jwks_cases.iter_mut().enumerate() {
        let input = case["input"].as_str().expect("input").to_owned();
        let got = build_with(&jwks_options, &input, &tokens);
        built += usize::from(got["build"] == "ok");
        if bless {
            case["verdict"] = got;
        } else if case["verdict"] != got {
            mismatches.push(format!(
                "jwks[{i}]: recorded {}, now {got}",
                case["verdict"]
            ));
        }
    }
    assert!(built >= 50, "only {built} key sets imported");

    if bless {
        std::fs::write(&path, layout(&fixture)).expect("write parity.json");
        return;
    }
    assert!(
        mismatches.is_empty(),
        "{} verdicts differ from tests/fixtures/fuzz/parity.json (JWT_EDGE_BLESS=1 rewrites them):\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// The file's layout: the options indented, one input per line (a reviewable diff when
/// verdicts are blessed, and half the size of pretty-printing everything).
fn layout(fixture: &Value) -> String {
    let object = fixture.as_object().expect("an object");
    let members: Vec<String> = object
        .iter()
        .map(|(name, value)| {
            let body = match value {
                Value::Array(cases) if name == "verify" || name == "jwks" => {
                    let lines: Vec<String> = cases.iter().map(|c| format!("    {c}")).collect();
                    format!("[\n{}\n  ]", lines.join(",\n"))
                }
                other => serde_json::to_string_pretty(other)
                    .expect("serialize")
                    .replace('\n', "\n  "),
            };
            format!("  {}: {body}", Value::String(name.clone()))
        })
        .collect();
    format!("{{\n{}\n}}\n", members.join(",\n"))
}
