//! Route matching per request (issue 16): path hygiene, then the first matching rule of
//! a 100-rule table, then what the rule requires of verified claims — side by side with
//! no `routes` at all (the worker then neither normalises nor scans). The table is built
//! once, as the worker builds it once per isolate. A benchmark, not a test:
//! `cargo bench --bench routes`.

use criterion::{criterion_group, criterion_main, Criterion};
use jwt_edge::internals::routes::normalise_path;
use jwt_edge::internals::EdgeConfig;
use jwt_edge::Claims;
use serde_json::{json, Value};

const ISS: &str = "https://idp.example.com";

/// 100 rules as a large API writes them: per service a public health check, optional
/// docs, a write rule with a scope and a role, and catch-alls; the request below that
/// matches no rule scans all of them.
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

fn config(routes: Option<Value>) -> EdgeConfig {
    let mut value = json!({"issuers": [{"issuer": ISS, "jwks_uri": "https://idp.example.com/jwks",
                                        "audiences": ["api"]}]});
    if let (Some(routes), Some(object)) = (routes, value.as_object_mut()) {
        object.insert("routes".into(), routes);
    }
    EdgeConfig::from_json(&value.to_string()).expect("configuration")
}

fn claims() -> Claims {
    let payload = json!({"iss": ISS, "aud": "api", "sub": "u", "exp": 1_800_000_300,
                         "scope": "items:read items:write",
                         "realm_access": {"roles": ["reader", "writer"]}});
    Claims::from_map(payload.as_object().cloned().unwrap_or_default(), 64).expect("claims")
}

/// One request's route decision as the worker makes it.
fn decide(config: &EdgeConfig, method: &str, host: &str, raw_path: &str, claims: &Claims) -> bool {
    let normal;
    let path = if config.routes.has_rules() {
        normal = normalise_path(raw_path).expect("path");
        normal.as_str()
    } else {
        raw_path
    };
    let route = config.routes.select(method, Some(host), path);
    route.accepts_issuer(0) && route.requirements.check(claims).is_ok()
}

fn bench(c: &mut Criterion) {
    let none = config(None);
    let hundred = config(Some(hundred_rules()));
    let claims = claims();
    let mut group = c.benchmark_group("route");
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
        group.bench_function(name, |b| {
            b.iter(|| {
                decide(
                    config,
                    method,
                    "api.example.com",
                    std::hint::black_box(path),
                    &claims,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
