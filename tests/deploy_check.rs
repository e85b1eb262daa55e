//! The deploy check of `wrangler.toml` (issue 15 §7): a name the configuration reads a
//! key from must not be a `[vars]` entry, in any environment; Secrets Store bindings
//! are a key source like Worker secrets.

mod common;

use jwt_edge::internals::{check_wrangler, key_bindings, secrets_store_bindings, DeployViolation};
use serde_json::{json, Value};

fn config(issuer: Value) -> String {
    json!({"issuers": [issuer]}).to_string()
}

fn hmac_issuer(binding: &str) -> Value {
    json!({"issuer": "https://internal.example", "hmac_secret": binding, "algorithms": ["HS256"]})
}

fn bindings(violations: &[DeployViolation]) -> Vec<(String, String, &'static str)> {
    violations
        .iter()
        .filter_map(|v| match v {
            DeployViolation::KeyInVars {
                environment,
                binding,
                field,
                ..
            } => Some((environment.clone(), binding.clone(), *field)),
            DeployViolation::ConfigInvalid { .. } => None,
        })
        .collect()
}

/// A case: its name, the parsed wrangler.toml, the (environment, binding, field) refused.
type Case = (
    &'static str,
    Value,
    Vec<(&'static str, &'static str, &'static str)>,
);

#[test]
fn a_secret_name_in_vars_is_refused_in_every_environment() {
    let hmac = config(hmac_issuer("HMAC_KEY"));
    let cases: Vec<Case> = vec![
        (
            "top level",
            json!({"vars": {"JWT_EDGE_CONFIG": hmac, "HMAC_KEY": "c2VjcmV0"}}),
            vec![("top level", "HMAC_KEY", "issuers.hmac_secret")],
        ),
        (
            "an environment's own vars",
            json!({"env": {"staging": {"vars": {"JWT_EDGE_CONFIG": hmac, "HMAC_KEY": "x"}}}}),
            vec![("env.staging", "HMAC_KEY", "issuers.hmac_secret")],
        ),
        (
            "named in one environment, set in another",
            json!({"vars": {"JWT_EDGE_CONFIG": hmac},
                   "env": {"dev": {"vars": {"HMAC_KEY": "x"}}}}),
            vec![("env.dev", "HMAC_KEY", "issuers.hmac_secret")],
        ),
        (
            "hmac_secrets values",
            json!({"vars": {"JWT_EDGE_CONFIG": config(json!({"issuer": "https://i.example",
                     "hmac_secrets": {"client-7": "CLIENT_7"}})), "CLIENT_7": "x"}}),
            vec![("top level", "CLIENT_7", "issuers.hmac_secrets")],
        ),
        (
            "assertion.key_secret",
            json!({"vars": {"JWT_EDGE_CONFIG": json!({
                "issuers": [{"issuer": "https://i.example", "jwks_uri": "https://i.example/jwks"}],
                "assertion": {"key_secret": "ASSERTION_KEY", "audience": "origin"}}).to_string(),
                "ASSERTION_KEY": "{}"}}),
            vec![("top level", "ASSERTION_KEY", "assertion.key_secret")],
        ),
        (
            "a secret, not a var: accepted",
            json!({"vars": {"JWT_EDGE_CONFIG": hmac}}),
            vec![],
        ),
        (
            "a Secrets Store binding: accepted",
            json!({"vars": {"JWT_EDGE_CONFIG": hmac},
                   "secrets_store_secrets": [{"binding": "HMAC_KEY", "store_id": "s", "secret_name": "k"}]}),
            vec![],
        ),
        (
            "an unrelated var: accepted",
            json!({"vars": {"JWT_EDGE_CONFIG": hmac, "HMAC_KEY_ID": "x"}}),
            vec![],
        ),
        (
            "no configuration in the file: nothing to check",
            json!({"vars": {"HMAC_KEY": "x"}}),
            vec![],
        ),
    ];
    for (name, wrangler, expected) in cases {
        let got = check_wrangler(&wrangler);
        let want: Vec<(String, String, &str)> = expected
            .into_iter()
            .map(|(e, b, f)| (e.to_owned(), b.to_owned(), f))
            .collect();
        assert_eq!(bindings(&got), want, "{name}");
        assert!(
            got.iter()
                .all(|v| matches!(v, DeployViolation::KeyInVars { .. })),
            "{name}: {got:?}"
        );
    }
}

#[test]
fn a_refused_configuration_is_reported_and_still_checked() {
    // Refused by the worker (HS256 with no secret is fine here, but no jwks_uri and no
    // secret is not): its secret names are checked anyway.
    let bad = json!({"issuers": [{"issuer": "https://i.example", "hmac_secrets": {"k": "KEY"},
                                  "replay_memory": 999_999_999}]})
    .to_string();
    let got = check_wrangler(&json!({"vars": {"JWT_EDGE_CONFIG": bad, "KEY": "x"}}));
    assert_eq!(
        got,
        vec![
            DeployViolation::ConfigInvalid {
                environment: "top level".into(),
                field: "issuers.replay_memory".into()
            },
            DeployViolation::KeyInVars {
                environment: "top level".into(),
                binding: "KEY".into(),
                field: "issuers.hmac_secrets",
                config_environment: "top level".into()
            }
        ]
    );
    let not_a_string = check_wrangler(&json!({"vars": {"JWT_EDGE_CONFIG": {"issuers": []}}}));
    assert_eq!(
        not_a_string,
        vec![DeployViolation::ConfigInvalid {
            environment: "top level".into(),
            field: "JWT_EDGE_CONFIG".into()
        }]
    );
    let message = got[1].to_string();
    assert!(
        message.contains("KEY") && message.contains("wrangler secret put KEY"),
        "{message}"
    );
}

#[test]
fn key_bindings_lists_every_field_once() {
    let config = json!({
        "issuers": [
            {"issuer": "a", "hmac_secret": "A", "hmac_secrets": {"1": "B", "2": "A"}},
            {"issuer": "b", "hmac_secret": "A"}
        ],
        "assertion": {"key_secret": "C"}
    });
    let got: Vec<(String, &str)> = key_bindings(&config)
        .into_iter()
        .map(|k| (k.binding, k.field))
        .collect();
    assert_eq!(
        got,
        vec![
            ("A".into(), "issuers.hmac_secret"),
            ("A".into(), "issuers.hmac_secrets"),
            ("B".into(), "issuers.hmac_secrets"),
            ("C".into(), "assertion.key_secret"),
        ]
    );
}

#[test]
fn secrets_store_bindings_are_listed_from_every_environment() {
    let wrangler = json!({
        "secrets_store_secrets": [{"binding": "TOP", "store_id": "s", "secret_name": "a"}],
        "env": {"dev": {"secrets_store_secrets": [{"binding": "DEV", "store_id": "s", "secret_name": "b"}]}}
    });
    assert_eq!(secrets_store_bindings(&wrangler), vec!["TOP", "DEV"]);
}

/// `jwt-edge check-config` (what scripts/build-worker.sh runs): the committed
/// wrangler.toml passes; a key in an environment's [vars] fails with status 1, and so
/// does a file that is not TOML.
#[cfg(feature = "cli")]
#[test]
fn check_config_reads_wrangler_toml() {
    use common::cli::run;
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/wrangler.toml");
    let r = run(&["check-config", committed]).ok();
    assert!(r.stdout.contains("no key in [vars]"), "{r:?}");

    let dir = common::TempDir::new("check-config");
    let bad = dir.file(
        "wrangler.toml",
        br#"name = "x"
[vars]
JWT_EDGE_CONFIG = '{"issuers":[{"issuer":"https://i.example","hmac_secret":"HMAC_KEY"}]}'

[[secrets_store_secrets]]
binding = "OTHER"
store_id = "s"
secret_name = "o"

[env.dev.vars]
HMAC_KEY = "c2VjcmV0"
"#,
    );
    let r = run(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("env.dev: [vars] holds HMAC_KEY")
            && r.stderr.contains("`issuers.hmac_secret`")
            && r.stderr.contains("1 problem found"),
        "{r:?}"
    );
    let not_toml = dir.file("not.toml", b"not = [toml");
    let r = run(&["check-config", not_toml.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("is not TOML"), "{r:?}");
}
