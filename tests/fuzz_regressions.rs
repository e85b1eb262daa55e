//! Replays every saved fuzz input through the fuzz harness (fuzz/harness.rs): the
//! crashes `scripts/fuzz.sh` found (fuzz/regressions/<target>/, kept with their fix)
//! and the hand-written seeds (fuzz/seeds/<target>/). A panic or a wrong acceptance
//! fails the test, as it failed the fuzzer.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

fn inputs(dir: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("readable input"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn saved_fuzz_inputs_pass_the_harness() {
    let mut count = 0;
    for target in harness::TARGETS {
        for dir in ["fuzz/regressions", "fuzz/seeds"] {
            for (name, data) in inputs(dir, target) {
                let outcome = std::panic::catch_unwind(|| harness::run(target, &data));
                assert!(outcome.is_ok(), "{dir}/{target}/{name} fails the harness");
                count += 1;
            }
        }
    }
    assert!(
        count >= 8,
        "only {count} saved inputs: fuzz/seeds went missing?"
    );
}

/// The verify oracle has teeth: the fixture's valid tokens pass its verifier, the
/// others do not, and every fixture token goes through each harness without a panic.
#[test]
fn the_harness_accepts_exactly_the_valid_fixture_tokens() {
    let (verifier, now) = harness::fixture_verifier();
    let cases = harness::fixture_tokens();
    assert!(cases.iter().filter(|c| c.valid).count() >= 6);
    for case in cases {
        assert_eq!(
            verifier.verify(&case.token, *now).is_ok(),
            case.valid,
            "{}",
            case.token.len()
        );
        for target in harness::TARGETS {
            harness::run(target, case.token.as_bytes());
        }
    }
}

/// The seed configurations are real: each parses as the configuration it stands for.
#[test]
fn config_seeds_parse() {
    for (name, data) in inputs("fuzz/seeds", "config") {
        let text = String::from_utf8(data).unwrap();
        let parsed = if name.starts_with("paths-") {
            // Request paths and patterns, one per line: not a configuration.
            Ok(())
        } else if name.starts_with("edge-") {
            jwt_edge::internals::EdgeConfig::from_json(&text).map(drop)
        } else {
            jwt_edge::VerifyConfig::from_json(&text).map(drop)
        };
        assert!(parsed.is_ok(), "fuzz/seeds/config/{name}: {parsed:?}");
    }
}

/// The assertion oracle has teeth: the harness's assertion verifies, and is the seed
/// `fuzz/seeds/assertion/assertion.jwt` (`JWT_EDGE_BLESS=1` rewrites the seed); a copy
/// with one claim changed, or bound to another path, is refused.
#[test]
fn the_assertion_seed_is_the_harness_assertion() {
    let fixture = harness::assertion_fixture();
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/assertion/assertion.jwt");
    if std::env::var_os("JWT_EDGE_BLESS").is_some() {
        std::fs::write(&seed, &fixture.assertion).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&seed).unwrap(), fixture.assertion);
    let request = jwt_edge::RequestBinding {
        method: "POST",
        path: "/api/items?x=1",
    };
    assert!(fixture
        .verifier
        .verify(&fixture.assertion, request, fixture.now)
        .is_ok());
    let other = jwt_edge::RequestBinding {
        path: "/api/items?x=2",
        ..request
    };
    assert_eq!(
        fixture
            .verifier
            .verify(&fixture.assertion, other, fixture.now)
            .unwrap_err()
            .code(),
        "assertion_mismatch"
    );
}
