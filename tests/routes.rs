//! Route rules, decided natively with a fixed clock: the worker's configuration with
//! the rule table, HS256 tokens verified by the core at [`common::NOW`], then the
//! route's outcome ([`Route::outcome`]) — the same sequence the worker runs, without I/O:
//! path hygiene, the first matching rule, the token check (issuer, policy, the route's
//! audiences, scopes and claims), the outcome for the route's `auth` and `enforce`.

mod common;

use common::{claims, hs256, hs_verifier, NOW};
use jwt_edge::internals::routes::{normalise_path, Outcome};
use jwt_edge::internals::EdgeConfig;
use jwt_edge::{ClaimsPolicy, Error};
use serde_json::{json, Value};

const ISS: &str = "https://issuer.example";
const PARTNER: &str = "https://partner.example";

fn config() -> EdgeConfig {
    let config = json!({
        "issuers": [
            {"issuer": ISS, "hmac_secret": "HS", "audiences": ["api://jwt-edge"]},
            {"issuer": PARTNER, "hmac_secret": "HS2", "audiences": ["api://jwt-edge"]}
        ],
        "routes": [
            {"name": "health", "methods": ["GET", "HEAD"], "path": "/health", "auth": "none"},
            {"name": "docs", "path": "/docs/**", "auth": "optional"},
            {"name": "admin", "path": "/admin/**", "issuers": [ISS], "scopes": ["admin"],
             "claims": {"realm_access.roles": {"contains": "admin"}}},
            {"name": "write", "methods": ["POST", "PUT", "PATCH", "DELETE"], "path": "/api/items/*",
             "scopes": ["items:write"], "replay": "strict"},
            {"name": "tenant", "path": "/tenants/*/**", "audiences": ["api://tenants"],
             "claims": {"org.id": {"one_of": ["acme", "globex"]}, "email_verified": {"equals": true},
                        "amr": {"present": true}}},
            {"name": "beta", "path": "/beta/**", "enforce": false}
        ]
    });
    EdgeConfig::from_json(&config.to_string()).expect("configuration")
}

/// The worker's sequence for one request, natively: `token` is the bearer token or none.
fn decide(
    config: &EdgeConfig,
    method: &str,
    raw_path: &str,
    token: Option<&str>,
) -> (String, Outcome) {
    let path = match normalise_path(raw_path) {
        Ok(path) => path,
        Err(err) => return ("-".into(), Outcome::Refuse(err)),
    };
    let route = config.routes.select(method, Some("api.example.com"), &path);
    let checked = if route.checks_tokens() {
        check(config, route, token)
    } else {
        Err(Error::TokenMissing)
    };
    (route.name.clone(), route.outcome(checked))
}

fn check(
    config: &EdgeConfig,
    route: &jwt_edge::internals::routes::Route,
    token: Option<&str>,
) -> Result<(), Error> {
    let token = token.ok_or(Error::TokenMissing)?;
    let iss = common::payload_of(token)["iss"].as_str().map(str::to_owned);
    let index = config.route(iss.as_deref()).ok_or(Error::IssuerMismatch)?;
    if !route.accepts_issuer(index) {
        return Err(Error::IssuerMismatch);
    }
    let issuer = &config.issuers[index];
    let verifier = hs_verifier(ClaimsPolicy {
        issuers: vec![issuer.issuer.clone()],
        ..ClaimsPolicy::default()
    });
    let verified = verifier.verify(token, NOW)?;
    route.requirements.check(&verified.claims)
}

fn token(extra: Value) -> String {
    let mut payload = claims();
    for (k, v) in extra.as_object().unwrap() {
        payload[k] = v.clone();
    }
    hs256(&json!({"alg": "HS256", "kid": "hs"}), &payload)
}

#[test]
fn decision_table() {
    let config = config();
    let plain = token(json!({}));
    let admin = token(json!({"scope": "admin", "realm_access": {"roles": ["admin"]}}));
    let admin_no_role = token(json!({"scope": "admin", "realm_access": {"roles": ["user"]}}));
    let admin_roles_string = token(json!({"scope": "admin", "realm_access": {"roles": "admin"}}));
    let partner_admin =
        token(json!({"iss": PARTNER, "scope": "admin", "realm_access": {"roles": ["admin"]}}));
    let writer = token(json!({"scp": ["items:read", "items:write"]}));
    let writer_string = token(json!({"scp": "items:write"}));
    let reader = token(json!({"scope": "items:read"}));
    let expired = token(json!({"exp": NOW - 120}));
    // The same token with another signature (its first character changed).
    let (signed, signature) = plain.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let forged = format!("{signed}.{flipped}{}", &signature[1..]);
    let tenant_ok = token(
        json!({"aud": ["api://jwt-edge", "api://tenants"], "org": {"id": "acme"},
                                 "email_verified": true, "amr": ["pwd"]}),
    );
    let tenant_wrong_aud =
        token(json!({"org": {"id": "acme"}, "email_verified": true, "amr": ["pwd"]}));
    let tenant_wrong_org = token(
        json!({"aud": ["api://jwt-edge", "api://tenants"], "org": {"id": "initech"},
                                        "email_verified": true, "amr": ["pwd"]}),
    );
    let tenant_org_type = token(
        json!({"aud": ["api://jwt-edge", "api://tenants"], "org": "acme",
                                       "email_verified": true, "amr": ["pwd"]}),
    );
    let tenant_verified_string = token(
        json!({"aud": ["api://jwt-edge", "api://tenants"], "org": {"id": "acme"},
                                              "email_verified": "true", "amr": ["pwd"]}),
    );
    let tenant_amr_null = token(
        json!({"aud": ["api://jwt-edge", "api://tenants"], "org": {"id": "acme"},
                                       "email_verified": true, "amr": null}),
    );
    use Outcome::*;
    let refuse = |e: Error| Refuse(e);
    let table: Vec<(&str, &str, Option<&str>, &str, Outcome)> = vec![
        // auth none: never verified, whatever is sent.
        ("GET", "/health", None, "health", Public),
        ("HEAD", "/health", Some(&forged), "health", Public),
        (
            "POST",
            "/health",
            None,
            "default",
            refuse(Error::TokenMissing),
        ),
        // auth optional: no token is anonymous; a token present must be valid.
        ("GET", "/docs/intro", None, "docs", Anonymous),
        ("GET", "/docs", Some(&plain), "docs", Accept),
        (
            "GET",
            "/docs/",
            Some(&expired),
            "docs",
            refuse(Error::TokenExpired),
        ),
        (
            "GET",
            "/docs/a",
            Some(&forged),
            "docs",
            refuse(Error::SignatureInvalid),
        ),
        // required, with issuers, scopes and a claim rule.
        ("GET", "/admin", None, "admin", refuse(Error::TokenMissing)),
        (
            "GET",
            "/admin/users",
            Some(&plain),
            "admin",
            refuse(Error::InsufficientScope),
        ),
        (
            "GET",
            "/admin/users",
            Some(&admin_no_role),
            "admin",
            refuse(Error::ClaimMismatch),
        ),
        (
            "GET",
            "/admin/users",
            Some(&admin_roles_string),
            "admin",
            Accept,
        ),
        ("GET", "/admin/users", Some(&admin), "admin", Accept),
        ("GET", "/admin/", Some(&admin), "admin", Accept),
        (
            "GET",
            "/admin/users",
            Some(&partner_admin),
            "admin",
            refuse(Error::IssuerMismatch),
        ),
        // scopes as `scp` array and string; `scope` without the one needed.
        ("POST", "/api/items/1", Some(&writer), "write", Accept),
        (
            "patch",
            "/api/items/1",
            Some(&writer_string),
            "write",
            Accept,
        ),
        (
            "DELETE",
            "/api/items/1",
            Some(&reader),
            "write",
            refuse(Error::InsufficientScope),
        ),
        ("GET", "/api/items/1", Some(&reader), "default", Accept),
        // per-route audiences and claim matchers: one_of on a nested path, equals, present.
        ("GET", "/tenants/acme/x", Some(&tenant_ok), "tenant", Accept),
        (
            "GET",
            "/tenants/acme/x",
            Some(&tenant_wrong_aud),
            "tenant",
            refuse(Error::AudienceMismatch),
        ),
        (
            "GET",
            "/tenants/acme/x",
            Some(&tenant_wrong_org),
            "tenant",
            refuse(Error::ClaimMismatch),
        ),
        (
            "GET",
            "/tenants/acme",
            Some(&tenant_org_type),
            "tenant",
            refuse(Error::ClaimMismatch),
        ),
        (
            "GET",
            "/tenants/acme",
            Some(&tenant_verified_string),
            "tenant",
            refuse(Error::ClaimMismatch),
        ),
        (
            "GET",
            "/tenants/acme",
            Some(&tenant_amr_null),
            "tenant",
            refuse(Error::ClaimMismatch),
        ),
        // shadow mode: failures become the code they would have given.
        ("GET", "/beta/x", None, "beta", Shadowed("token_missing")),
        (
            "GET",
            "/beta/x",
            Some(&expired),
            "beta",
            Shadowed("token_expired"),
        ),
        (
            "GET",
            "/beta/x",
            Some(&forged),
            "beta",
            Shadowed("signature_invalid"),
        ),
        ("GET", "/beta/x", Some(&plain), "beta", Accept),
        // path hygiene: one reading, or 400 before any rule.
        (
            "GET",
            "/public/../admin",
            Some(&plain),
            "admin",
            refuse(Error::InsufficientScope),
        ),
        (
            "GET",
            "/%61dmin",
            None,
            "admin",
            refuse(Error::TokenMissing),
        ),
        (
            "GET",
            "/health/../admin",
            None,
            "admin",
            refuse(Error::TokenMissing),
        ),
        ("GET", "/Admin", Some(&plain), "default", Accept),
        (
            "GET",
            "/Admin",
            None,
            "default",
            refuse(Error::TokenMissing),
        ),
        (
            "GET",
            "/admin%2F..%2Fhealth",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
        (
            "GET",
            "/health%2F..%2Fadmin",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
        (
            "GET",
            "//admin",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
        (
            "GET",
            "/health;/../admin",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
        (
            "GET",
            "/health;x",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
        (
            "GET",
            "/health/%2e%2e/admin",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
        (
            "GET",
            "/health\\..\\admin",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
        (
            "GET",
            "/a%00b",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
        (
            "GET",
            "/a%zz",
            None,
            "-",
            refuse(Error::RequestMalformed("path")),
        ),
    ];
    for (method, path, token, route, outcome) in table {
        assert_eq!(
            decide(&config, method, path, token),
            (route.to_owned(), outcome),
            "{method} {path} token={}",
            token.is_some()
        );
    }
}

#[test]
fn no_route_reaches_a_protected_rule_unauthenticated() {
    // Every spelling of a path under /admin either is refused or lands on a route that
    // requires a token: none is forwarded without one.
    let config = config();
    let spellings = [
        "/admin",
        "/admin/",
        "/%61dmin",
        "/%61%64%6d%69%6e/x",
        "/public/../admin",
        "/health/../admin",
        "/docs/../admin",
        "/docs/..%2Fadmin",
        "/docs%2F..%2Fadmin",
        "/docs/%2E%2E/admin",
        "//admin",
        "/./admin",
        "/admin;",
        "/docs;/../admin",
        "/Admin",
        "/ADMIN/x",
        "/admin%00",
        "/admin%2f",
        "/docs/.%2e/admin",
        "/docs\\admin",
        "/health/..",
        "/docs/../../admin",
    ];
    for path in spellings {
        for method in ["GET", "HEAD", "POST", "get", "OPTIONS"] {
            let (route, outcome) = decide(&config, method, path, None);
            assert!(
                !outcome.forwards() || !["admin"].contains(&route.as_str()) && route != "default",
                "{method} {path} reached {route} as {outcome:?}"
            );
            if outcome.forwards() {
                assert!(
                    ["health", "docs"].contains(&route.as_str()),
                    "{method} {path}: {route}"
                );
            }
        }
    }
}

#[test]
fn top_level_shadow_mode_and_no_routes() {
    let shadow = json!({
        "issuers": [{"issuer": ISS, "hmac_secret": "HS"}],
        "enforce": false
    });
    let config = EdgeConfig::from_json(&shadow.to_string()).unwrap();
    assert!(!config.routes.has_rules());
    let route = config.routes.select("GET", None, "//any;thing");
    assert_eq!(route.name, "default");
    assert_eq!(
        route.outcome(Err(Error::JwksUnavailable)),
        Outcome::Shadowed("jwks_unavailable")
    );
    let enforced = EdgeConfig::from_json(
        &json!({"issuers": [{"issuer": ISS, "hmac_secret": "HS"}]}).to_string(),
    )
    .unwrap();
    let route = enforced.routes.select("GET", None, "/x");
    assert_eq!(
        route.outcome(Err(Error::JwksUnavailable)),
        Outcome::Refuse(Error::JwksUnavailable)
    );
    assert_eq!(route.outcome(Ok(())), Outcome::Accept);
}

#[test]
fn configuration_errors_name_the_rule() {
    for (extra, field) in [
        (
            json!({"routes": [{"path": "/a"}, {"path": "/a/**/b"}]}),
            "routes[1].path",
        ),
        (
            json!({"routes": [{"path": "/a", "issuers": ["https://nobody.example"]}]}),
            "routes[0].issuers",
        ),
        (
            json!({"routes": [{"path": "/a"}, {"path": "/b"}, {"path": "/c", "scopes": []}]}),
            "routes[2].scopes",
        ),
        (
            json!({"routes": [{"path": "/a", "rolse": ["x"]}]}),
            "routes[0].unknown field",
        ),
        (
            json!({"routes": [{"path": "/a/**"}, {"path": "/a/b"}]}),
            "routes[1].path",
        ),
        (json!({"routes": "/a"}), "routes"),
        (
            json!({"routes": [{"path": "/a", "enforce": "no"}]}),
            "routes[0].enforce",
        ),
        (
            json!({"resource_metadata": {"resource": "http://api.example.com"}}),
            "resource_metadata.resource",
        ),
    ] {
        let mut config = json!({"issuers": [{"issuer": ISS, "hmac_secret": "HS"}]});
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        let err = EdgeConfig::from_json(&config.to_string()).unwrap_err();
        assert_eq!(
            err,
            Error::ConfigInvalid(field.to_owned().into()),
            "{extra}"
        );
        assert_eq!(err.to_string(), format!("invalid configuration: `{field}`"));
    }
}
