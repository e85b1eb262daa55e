//! Route matching cost per request, as a plain timing loop that runs natively and as
//! WebAssembly (the worker runs the core as wasm): path hygiene, the first matching rule
//! of a 100-rule table, the rule's scope and claim checks — against no `routes`.
//!
//! Native: `cargo run --release --example route_cost`
//! wasm:   `cargo build --release --example route_cost --target wasm32-wasip1 &&
//!          node bench/route-cost-wasm.mjs` (Node's WASI runs the same loop)
//!
//! Prints one line per case: the median over 15 rounds of ns per request.

use std::time::Instant;

use jwt_edge::internals::routes::normalise_path;
use jwt_edge::internals::EdgeConfig;
use jwt_edge::Claims;
use serde_json::{json, Value};

const ISS: &str = "https://idp.example.com";
const ROUNDS: usize = 15;
const PER_ROUND: u32 = 20_000;

fn hundred_rules() -> Value {
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

fn config(routes: Option<Value>) -> Option<EdgeConfig> {
    let mut value = json!({"issuers": [{"issuer": ISS, "jwks_uri": "https://idp.example.com/jwks",
                                        "audiences": ["api"]}]});
    if let Some(routes) = routes {
        value.as_object_mut()?.insert("routes".into(), routes);
    }
    EdgeConfig::from_json(&value.to_string()).ok()
}

fn decide(config: &EdgeConfig, method: &str, raw_path: &str, claims: &Claims) -> bool {
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

fn main() {
    let (Some(none), Some(hundred)) = (config(None), config(Some(hundred_rules()))) else {
        eprintln!("configuration refused");
        std::process::exit(1);
    };
    let payload = json!({"iss": ISS, "aud": "api", "sub": "u", "exp": 1_800_000_300,
                         "scope": "items:read items:write",
                         "realm_access": {"roles": ["reader", "writer"]}});
    let Ok(claims) = Claims::from_map(payload.as_object().cloned().unwrap_or_default(), 64) else {
        std::process::exit(1);
    };
    let cases = [
        ("no routes", &none, "POST", "/svc24/items/42"),
        ("100 rules, first rule", &hundred, "GET", "/svc0/health"),
        (
            "100 rules, 99th rule (scope + claim)",
            &hundred,
            "POST",
            "/svc24/items/42",
        ),
        (
            "100 rules, no rule (default)",
            &hundred,
            "GET",
            "/elsewhere/a/b/c",
        ),
        (
            "100 rules, encoded path",
            &hundred,
            "POST",
            "/svc24/%69tems/42",
        ),
    ];
    for (name, config, method, path) in cases {
        let mut rounds = Vec::with_capacity(ROUNDS);
        let mut kept = 0u32;
        for _ in 0..ROUNDS {
            let t0 = Instant::now();
            for _ in 0..PER_ROUND {
                kept += u32::from(decide(config, method, std::hint::black_box(path), &claims));
            }
            rounds.push(t0.elapsed().as_nanos() as f64 / f64::from(PER_ROUND));
        }
        rounds.sort_by(f64::total_cmp);
        let median = rounds[ROUNDS / 2];
        println!("{name}\t{median:.0} ns\t(decisions kept: {kept})");
    }
}
