//! The route table and the per-request decision that `benches/routes.rs` (criterion,
//! native) and `examples/route_cost.rs` (a timing loop, native and wasm32-wasip1) both
//! time, written once.

use jwt_edge::internals::routes::normalise_path;
use jwt_edge::internals::EdgeConfig;
use jwt_edge::Claims;
use serde_json::{json, Value};

pub const ISS: &str = "https://idp.example.com";

/// 100 rules as a large API writes them: per service a public health check, optional
/// docs, a write rule with a scope and a role, and a host-bound admin rule; a request
/// that matches no rule scans all of them.
pub fn hundred_rules() -> Value {
    let mut rules = Vec::new();
    for i in 0..25 {
        rules.push(
            json!({"name": format!("health-{i}"), "methods": ["GET", "HEAD"],
                          "path": format!("/svc{i}/health"), "auth": "none"}),
        );
        rules.push(
            json!({"name": format!("docs-{i}"), "path": format!("/svc{i}/docs/**"),
                          "auth": "optional"}),
        );
        rules.push(
            json!({"name": format!("write-{i}"), "methods": ["POST", "PUT", "PATCH", "DELETE"],
                          "path": format!("/svc{i}/items/*"), "scopes": ["items:write"],
                          "claims": {"realm_access.roles": {"contains": "writer"}}}),
        );
        rules.push(
            json!({"name": format!("admin-{i}"), "host": format!("svc{i}.example.com"),
                          "path": format!("/svc{i}/admin/**"), "scopes": ["admin"]}),
        );
    }
    Value::Array(rules)
}

/// The worker's configuration with `routes` (or without).
pub fn config(routes: Option<Value>) -> Option<EdgeConfig> {
    let mut value = json!({"issuers": [{"issuer": ISS, "jwks_uri": "https://idp.example.com/jwks",
                                        "audiences": ["api"]}]});
    if let Some(routes) = routes {
        value.as_object_mut()?.insert("routes".into(), routes);
    }
    EdgeConfig::from_json(&value.to_string()).ok()
}

/// Verified claims with the scope and role the write rules ask for.
pub fn claims() -> Option<Claims> {
    let payload = json!({"iss": ISS, "aud": "api", "sub": "u", "exp": 1_800_000_300,
                         "scope": "items:read items:write",
                         "realm_access": {"roles": ["reader", "writer"]}});
    Claims::from_map(payload.as_object()?.clone(), 64).ok()
}

/// One request's route decision as the worker makes it: path hygiene (with rules), the
/// first matching rule, its issuers and requirements.
pub fn decide(config: &EdgeConfig, method: &str, raw_path: &str, claims: &Claims) -> bool {
    let normal;
    let path = if config.routes.has_rules() {
        match normalise_path(raw_path) {
            Ok(p) => {
                normal = p;
                normal.as_str()
            }
            Err(_) => return false,
        }
    } else {
        raw_path
    };
    let route = config.routes.select(method, Some("api.example.com"), path);
    route.accepts_issuer(0) && route.requirements.check(claims).is_ok()
}

/// The cases both time: (name, with 100 rules?, method, path).
pub const CASES: [(&str, bool, &str, &str); 5] = [
    ("no routes", false, "POST", "/svc24/items/42"),
    ("100 rules, first rule", true, "GET", "/svc0/health"),
    (
        "100 rules, 99th rule (scope + claim)",
        true,
        "POST",
        "/svc24/items/42",
    ),
    (
        "100 rules, no rule (default)",
        true,
        "GET",
        "/elsewhere/a/b/c",
    ),
    ("100 rules, encoded path", true, "POST", "/svc24/%69tems/42"),
];
