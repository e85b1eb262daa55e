//! The route table as a decision table: configuration in, the route of each request out.

use serde_json::json;

use super::*;

const ISSUERS: [&str; 2] = ["https://idp.example.com", "https://partner.example.com"];

fn table() -> RouteTable {
    RouteTable::from_config(
        &json!([
            {"name": "health", "methods": ["GET", "HEAD"], "path": "/health", "auth": "none"},
            {"name": "docs", "path": "/docs/**", "auth": "optional"},
            {"name": "admin", "path": "/admin/**", "issuers": ["https://idp.example.com"],
             "scopes": ["admin"], "claims": {"realm_access.roles": {"contains": "admin"}}},
            {"name": "write", "methods": ["POST", "PUT", "PATCH", "DELETE"],
             "path": "/api/items/*", "scopes": ["items:write"], "replay": "strict"},
            {"name": "read", "methods": ["GET"], "path": "/api/items/*"},
            {"name": "beta", "path": "/beta/**", "enforce": false},
            {"name": "tenant", "host": "tenant.example.com", "path": "/**", "audiences": ["api://tenant"]}
        ]),
        &ISSUERS,
        true,
    )
    .unwrap()
}

#[test]
fn first_matching_rule_decides() {
    let t = table();
    for (method, host, path, route) in [
        ("GET", None, "/health", "health"),
        ("HEAD", None, "/health", "health"),
        ("POST", None, "/health", "default"),
        ("GET", None, "/health/", "health"),
        ("GET", None, "/healthz", "default"),
        ("GET", None, "/docs", "docs"),
        ("GET", None, "/docs/", "docs"),
        ("DELETE", None, "/docs/a/b", "docs"),
        ("GET", None, "/admin", "admin"),
        ("GET", None, "/admin/", "admin"),
        ("GET", None, "/admin/users/1", "admin"),
        ("GET", None, "/Admin", "default"),
        ("GET", None, "/administrator", "default"),
        ("POST", None, "/api/items/1", "write"),
        ("patch", None, "/api/items/1", "write"),
        ("Delete", None, "/api/items/1/", "write"),
        ("GET", None, "/api/items/1", "read"),
        ("HEAD", None, "/api/items/1", "read"),
        ("OPTIONS", None, "/api/items/1", "default"),
        ("POST", None, "/api/items", "default"),
        ("POST", None, "/api/items/1/2", "default"),
        ("GET", None, "/beta", "beta"),
        ("GET", Some("tenant.example.com"), "/x", "tenant"),
        ("GET", Some("TENANT.example.com"), "/x", "tenant"),
        ("GET", Some("other.example.com"), "/x", "default"),
        ("GET", Some("tenant.example.com"), "/health", "health"),
    ] {
        assert_eq!(
            t.select(method, host, path).name,
            route,
            "{method} {host:?} {path}"
        );
    }
}

#[test]
fn rules_carry_their_decisions() {
    let t = table();
    let admin = t.select("GET", None, "/admin");
    assert_eq!(admin.auth, Auth::Required);
    assert!(admin.accepts_issuer(0) && !admin.accepts_issuer(1));
    assert_eq!(admin.scope_challenge().as_deref(), Some("admin"));
    let write = t.select("PUT", None, "/api/items/9");
    assert_eq!(write.replay, Some(ReplayMode::Strict));
    assert!(write.accepts_issuer(1));
    assert_eq!(t.select("GET", None, "/docs").auth, Auth::Optional);
    assert_eq!(t.select("GET", None, "/health").auth, Auth::None);
    assert!(!t.select("GET", None, "/beta/x").enforce);
    let default = t.select("GET", None, "/anything");
    assert!(
        default.enforce && default.auth == Auth::Required && default.scope_challenge().is_none()
    );
    // Top-level shadow mode: the default and every rule without its own `enforce`.
    let shadow = RouteTable::from_config(
        &json!([{"path": "/a"}, {"path": "/b", "enforce": true}]),
        &ISSUERS,
        false,
    )
    .unwrap();
    assert!(!shadow.select("GET", None, "/a").enforce);
    assert!(shadow.select("GET", None, "/b").enforce);
    assert!(!shadow.select("GET", None, "/c").enforce);
    assert_eq!(shadow.select("GET", None, "/a").name, "routes[0]");
}

#[test]
fn configuration_errors_name_their_field() {
    for (routes, field) in [
        (json!({}), "routes"),
        (json!([]), "routes"),
        (json!([1]), "routes[0]"),
        (json!([{"name": "a"}]), "routes[0].path"),
        (json!([{"path": "/a"}, {"path": "/**/x"}]), "routes[1].path"),
        (json!([{"path": "/a//b"}]), "routes[0].path"),
        (json!([{"path": "/a/"}]), "routes[0].path"),
        (json!([{"path": "a"}]), "routes[0].path"),
        (
            json!([{"path": "/a", "unknown": 1}]),
            "routes[0].unknown field",
        ),
        (
            json!([{"path": "/a", "issuers": ["https://nobody"]}]),
            "routes[0].issuers",
        ),
        (json!([{"path": "/a", "issuers": []}]), "routes[0].issuers"),
        (json!([{"path": "/a", "scopes": []}]), "routes[0].scopes"),
        (
            json!([{"path": "/a", "scopes": ["a b"]}]),
            "routes[0].scopes",
        ),
        (
            json!([{"path": "/a", "scopes": ["a\"b"]}]),
            "routes[0].scopes",
        ),
        (
            json!([{"path": "/a", "audiences": []}]),
            "routes[0].audiences",
        ),
        (
            json!([{"path": "/a", "auth": "sometimes"}]),
            "routes[0].auth",
        ),
        (
            json!([{"path": "/a", "auth": "none", "scopes": ["x"]}]),
            "routes[0].scopes",
        ),
        (
            json!([{"path": "/a", "auth": "none", "enforce": false}]),
            "routes[0].enforce",
        ),
        (json!([{"path": "/a", "methods": []}]), "routes[0].methods"),
        (
            json!([{"path": "/a", "methods": ["GET", "get"]}]),
            "routes[0].methods",
        ),
        (
            json!([{"path": "/a", "methods": ["GE T"]}]),
            "routes[0].methods",
        ),
        (
            json!([{"path": "/a", "host": "API.example.com"}]),
            "routes[0].host",
        ),
        (
            json!([{"path": "/a", "host": "api.example.com:443"}]),
            "routes[0].host",
        ),
        (
            json!([{"path": "/a", "replay": "sometimes"}]),
            "routes[0].replay",
        ),
        (
            json!([{"path": "/a", "enforce": "no"}]),
            "routes[0].enforce",
        ),
        (json!([{"path": "/a", "claims": {}}]), "routes[0].claims"),
        (
            json!([{"path": "/a", "claims": {"x": {"matches": ".*"}}}]),
            "routes[0].claims",
        ),
        (
            json!([{"path": "/a", "claims": {"x": {"equals": 1, "present": true}}}]),
            "routes[0].claims",
        ),
        (
            json!([{"path": "/a", "claims": {"x": {"present": false}}}]),
            "routes[0].claims",
        ),
        (
            json!([{"path": "/a", "claims": {"x": {"one_of": []}}}]),
            "routes[0].claims",
        ),
        (
            json!([{"path": "/a", "claims": {"a..b": {"present": true}}}]),
            "routes[0].claims",
        ),
        (
            json!([{"path": "/a", "name": "x"}, {"path": "/b", "name": "x"}]),
            "routes[1].name",
        ),
        (json!([{"path": "/a", "name": "default"}]), "routes[0].name"),
        (json!([{"path": "/a", "name": "a b"}]), "routes[0].name"),
        // Rules an earlier one covers entirely can never match.
        (
            json!([{"path": "/admin/**"}, {"path": "/admin/users"}]),
            "routes[1].path",
        ),
        (
            json!([{"path": "/**"}, {"path": "/x", "methods": ["GET"]}]),
            "routes[1].path",
        ),
        (
            json!([{"path": "/a/*", "methods": ["GET"]}, {"path": "/a/b", "methods": ["HEAD"]}]),
            "routes[1].path",
        ),
        (
            json!([{"path": "/a", "host": "a.example"}, {"path": "/a", "host": "a.example"}]),
            "routes[1].path",
        ),
    ] {
        assert_eq!(
            RouteTable::from_config(&routes, &ISSUERS, true).unwrap_err(),
            Error::ConfigInvalid(field.to_owned().into()),
            "{routes}"
        );
    }
    // Narrower first, wider after, is fine; so is a host-bound rule before a hostless one.
    for routes in [
        json!([{"path": "/admin/users"}, {"path": "/admin/**"}]),
        json!([{"path": "/x", "methods": ["GET"]}, {"path": "/**"}]),
        json!([{"path": "/a", "host": "a.example"}, {"path": "/a"}]),
        json!([{"path": "/a", "methods": ["POST"]}, {"path": "/a", "methods": ["GET"]}]),
    ] {
        assert!(
            RouteTable::from_config(&routes, &ISSUERS, true).is_ok(),
            "{routes}"
        );
    }
}
