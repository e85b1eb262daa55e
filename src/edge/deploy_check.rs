//! The deploy-time check of a worker's `wrangler.toml`: key material named by the
//! configuration must never sit in `[vars]`.
//!
//! At run time a Worker cannot tell a secret (`wrangler secret put`, `.dev.vars`) from
//! a `[vars]` entry: both are the same string binding. So "HMAC and assertion keys never
//! come from `wrangler.toml`" is kept here, before the worker is built or deployed:
//! every `JWT_EDGE_CONFIG` found in the file (top level and each `[env.*]`) names the
//! bindings it reads keys from (`hmac_secret`, the values of `hmac_secrets`,
//! `assertion.key_secret`), and no `[vars]` table of the file may hold one of those
//! names. A Cloudflare Secrets Store binding (`[[secrets_store_secrets]]`) is a key
//! source too, and is accepted.
//!
//! Pure: the caller parses the TOML (the CLI's `check-config`) and hands over the
//! document as a JSON value; the answer is the list of violations.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::edge::config::EdgeConfig;

/// The variable holding the worker's configuration.
pub const CONFIG_VAR: &str = "JWT_EDGE_CONFIG";

/// One reason the file must not be deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployViolation {
    /// `[vars]` of `environment` holds `binding`, which a configuration uses as a key
    /// source (`field`): the key would be plain text in the file.
    KeyInVars {
        /// `"top level"` or `"env.NAME"`: where the `[vars]` entry is.
        environment: String,
        /// The variable's name.
        binding: String,
        /// The configuration field naming it: `issuers.hmac_secret`,
        /// `issuers.hmac_secrets` or `assertion.key_secret`.
        field: &'static str,
        /// Where the configuration naming it is.
        config_environment: String,
    },
    /// A `JWT_EDGE_CONFIG` in `[vars]` the worker would refuse (`config_invalid`):
    /// `field` is what the worker would name.
    ConfigInvalid {
        /// Where the configuration is.
        environment: String,
        /// The field the worker names in its `config_invalid`.
        field: String,
    },
}

impl std::fmt::Display for DeployViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeployViolation::KeyInVars {
                environment,
                binding,
                field,
                config_environment,
            } => write!(
                f,
                "{environment}: [vars] holds {binding}, which JWT_EDGE_CONFIG ({config_environment}) \
                 uses as `{field}`: a key never goes into wrangler.toml; remove it from [vars] and \
                 use `wrangler secret put {binding}` (locally .dev.vars) or a \
                 [[secrets_store_secrets]] binding named {binding}"
            ),
            DeployViolation::ConfigInvalid { environment, field } => write!(
                f,
                "{environment}: JWT_EDGE_CONFIG is refused by the worker (config_invalid `{field}`)"
            ),
        }
    }
}

/// A key source named by a configuration: the binding and the field naming it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyBinding {
    /// The binding name.
    pub binding: String,
    /// `issuers.hmac_secret`, `issuers.hmac_secrets` or `assertion.key_secret`.
    pub field: &'static str,
}

/// The bindings a `JWT_EDGE_CONFIG` reads keys from. Read from the JSON as written, so
/// a configuration the worker would refuse for another reason is checked too.
pub fn key_bindings(config: &Value) -> Vec<KeyBinding> {
    let mut out = Vec::new();
    let mut push = |binding: &Value, field: &'static str| {
        if let Some(name) = binding.as_str() {
            out.push(KeyBinding {
                binding: name.to_owned(),
                field,
            });
        }
    };
    if let Some(issuers) = config.get("issuers").and_then(Value::as_array) {
        for issuer in issuers {
            if let Some(name) = issuer.get("hmac_secret") {
                push(name, "issuers.hmac_secret");
            }
            if let Some(named) = issuer.get("hmac_secrets").and_then(Value::as_object) {
                for name in named.values() {
                    push(name, "issuers.hmac_secrets");
                }
            }
        }
    }
    if let Some(name) = config.get("assertion").and_then(|a| a.get("key_secret")) {
        push(name, "assertion.key_secret");
    }
    out.sort();
    out.dedup();
    out
}

/// The `[vars]` tables of a parsed `wrangler.toml`: the top level's, then each
/// `[env.NAME]`'s (environments do not inherit `[vars]`).
fn vars_tables(wrangler: &Value) -> Vec<(String, &serde_json::Map<String, Value>)> {
    let mut out = Vec::new();
    if let Some(vars) = wrangler.get("vars").and_then(Value::as_object) {
        out.push(("top level".to_owned(), vars));
    }
    if let Some(envs) = wrangler.get("env").and_then(Value::as_object) {
        for (name, env) in envs {
            if let Some(vars) = env.get("vars").and_then(Value::as_object) {
                out.push((format!("env.{name}"), vars));
            }
        }
    }
    out
}

/// Checks a parsed `wrangler.toml` (the TOML document as a JSON value): every
/// violation: the configurations' problems, then keys in `[vars]` (top level first,
/// then environments by name). Empty: nothing found against it.
///
/// Only what the file says is checked. A `JWT_EDGE_CONFIG` set elsewhere (a secret, the
/// dashboard, `wrangler deploy --var`) and plain-text variables added in the dashboard
/// are out of its sight.
pub fn check_wrangler(wrangler: &Value) -> Vec<DeployViolation> {
    let tables = vars_tables(wrangler);
    let mut violations = Vec::new();
    // Binding name → (field, environment of the configuration naming it).
    let mut named: BTreeMap<String, (&'static str, String)> = BTreeMap::new();
    for (environment, vars) in &tables {
        let Some(config) = vars.get(CONFIG_VAR) else {
            continue;
        };
        let Some(text) = config.as_str() else {
            violations.push(DeployViolation::ConfigInvalid {
                environment: environment.clone(),
                field: CONFIG_VAR.into(),
            });
            continue;
        };
        if let Err(err) = EdgeConfig::from_json(text) {
            violations.push(DeployViolation::ConfigInvalid {
                environment: environment.clone(),
                field: match err {
                    crate::error::Error::ConfigInvalid(field) => field.into_owned(),
                    _ => CONFIG_VAR.into(),
                },
            });
        }
        // Names are collected even from a refused configuration: fixing its other
        // problem must not be what lets a key into [vars].
        if let Ok(json) = serde_json::from_str::<Value>(text) {
            for key in key_bindings(&json) {
                named
                    .entry(key.binding)
                    .or_insert((key.field, environment.clone()));
            }
        }
    }
    for (environment, vars) in &tables {
        for binding in vars.keys() {
            if let Some((field, config_environment)) = named.get(binding) {
                violations.push(DeployViolation::KeyInVars {
                    environment: environment.clone(),
                    binding: binding.clone(),
                    field,
                    config_environment: config_environment.clone(),
                });
            }
        }
    }
    violations
}

/// The `[[secrets_store_secrets]]` binding names of a parsed `wrangler.toml`, top level
/// and each environment's: key sources the worker reads with the binding's `get()`.
pub fn secrets_store_bindings(wrangler: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut collect = |table: &Value| {
        if let Some(list) = table.get("secrets_store_secrets").and_then(Value::as_array) {
            out.extend(
                list.iter()
                    .filter_map(|b| b.get("binding").and_then(Value::as_str))
                    .map(str::to_owned),
            );
        }
    };
    collect(wrangler);
    if let Some(envs) = wrangler.get("env").and_then(Value::as_object) {
        envs.values().for_each(&mut collect);
    }
    out
}
