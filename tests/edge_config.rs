//! The edge configuration: defaults, routing by issuer, and refusals that name the field.

use jwt_edge::internals::{EdgeConfig, Mode, ReplayMode};
use jwt_edge::{Algorithm, Error};

const MINIMAL: &str = r#"{"issuers":[{"issuer":"https://issuer.example","jwks_uri":"https://issuer.example/jwks.json"}]}"#;

#[test]
fn defaults() {
    let c = EdgeConfig::from_json(MINIMAL).unwrap();
    assert_eq!(c.mode, Mode::Proxy);
    assert_eq!(c.realm, "jwt-edge");
    assert!(c.strip_credential);
    assert_eq!(c.claims_header.as_deref(), Some("X-Jwt-Claims"));
    assert_eq!(c.fetch_timeout_ms, 5000);
    assert_eq!(c.cache.default_max_age, 600);
    assert_eq!(c.cache.unknown_kid_cooldown, 30);
    assert_eq!(c.cache.max_staleness, 86_400);
    let issuer = &c.issuers[0];
    assert_eq!(issuer.replay, ReplayMode::Off);
    assert_eq!(issuer.replay_memory, 100_000);
    let options = c.verify_options(issuer).unwrap();
    assert_eq!(options.algorithms, Algorithm::ASYMMETRIC.to_vec());
    assert_eq!(
        options.claims.issuers,
        vec!["https://issuer.example".to_owned()]
    );
    assert_eq!(options.claims.max_lifetime, Some(86_400));
    assert!(options.claims.require_exp);
}

#[test]
fn routing_by_issuer() {
    let c = EdgeConfig::from_json(
        r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"},{"issuer":"https://b","jwks_uri":"https://b/j","replay":"best-effort"}]}"#,
    )
    .unwrap();
    assert_eq!(c.route(Some("https://a")), Some(0));
    assert_eq!(c.route(Some("https://b")), Some(1));
    assert_eq!(c.route(Some("https://c")), None);
    assert_eq!(c.route(None), None);
    assert_eq!(c.issuers[1].replay, ReplayMode::BestEffort);
    let strict = EdgeConfig::from_json(
        r#"{"issuers":[{"issuer":"a","jwks_uri":"https://a/j","replay":"strict"}]}"#,
    )
    .unwrap();
    assert_eq!(
        (strict.issuers[0].replay, strict.issuers[0].replay_shards),
        (ReplayMode::Strict, 16)
    );
    // With one issuer every token goes to it; its policy still requires that iss.
    let one = EdgeConfig::from_json(MINIMAL).unwrap();
    assert_eq!(one.route(Some("https://evil")), Some(0));
}

#[test]
fn invalid_configurations_name_the_field() {
    for (json, field) in [
        ("not json", "JWT_EDGE_CONFIG"),
        (r#"{"issuers":[]}"#, "issuers"),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"http://a/j"}]}"#,
            "issuers.jwks_uri",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"http://127.0.0.1:1/j"}]}"#,
            "issuers.jwks_uri",
        ),
        (
            // Without a jwks_uri the issuer is discovered: it must be an https URL.
            r#"{"issuers":[{"issuer":"a"}]}"#,
            "issuers.jwks_uri",
        ),
        (
            r#"{"issuers":[{"issuer":"http://a.example"}]}"#,
            "issuers.jwks_uri",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","discovery":false}]}"#,
            "issuers.jwks_uri",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j","discovery":true}]}"#,
            "issuers.discovery",
        ),
        (
            r#"{"issuers":[{"issuer":"accounts.google.com","discovery":true}]}"#,
            "issuers.discovery",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a?x=1","discovery":true}]}"#,
            "issuers.discovery",
        ),
        (
            r#"{"issuers":[{"preset":"cloudflare-access","team_domain":"t.cloudflareaccess.com"}]}"#,
            "issuers.audience",
        ),
        (
            r#"{"issuers":[{"preset":"okta","team_domain":"t.example","audience":"a"}]}"#,
            "issuers.preset",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"sources":[{"type":"query"}]}"#,
            "sources",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"sources":[{"type":"header","name":"X-A","prefix":""}]}"#,
            "sources",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"claim_headers":{"":"X-Empty"}}"#,
            "claim_headers",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"},{"issuer":"https://a","jwks_uri":"https://a/j"}]}"#,
            "issuers.issuer",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j","algorithms":["none"]}]}"#,
            "issuers.algorithms",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j","algorithms":["HS256"]}]}"#,
            "issuers.algorithms",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j","algorithms":[]}]}"#,
            "issuers.algorithms",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","hmac_secret":"a-b"}]}"#,
            "issuers.hmac_secret",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j","replay":"exclusive"}]}"#,
            "replay",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j","replay_memory":500001}]}"#,
            "issuers.replay_memory",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j","audience":"x"}]}"#,
            "unknown field",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"claim_headers":{"sub":"Authorization"}}"#,
            "claim_headers",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"claim_headers":{"sub":"X Sub"}}"#,
            "claim_headers",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"sources":[]}"#,
            "sources",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"mode":"open"}"#,
            "mode",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"fetch_timeout_ms":0}"#,
            "fetch_timeout_ms",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"cache":{"max_age":1}}"#,
            "unknown field",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"assertion":{}}"#,
            "key_secret",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"assertion":{"key_secret":"A-B"}}"#,
            "assertion.key_secret",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"assertion":{"key_secret":"K","lifetime":301}}"#,
            "assertion.lifetime",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"assertion":{"key_secret":"K","lifetime":0}}"#,
            "assertion.lifetime",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"assertion":{"key_secret":"K","header":"Cookie"}}"#,
            "assertion.header",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"assertion":{"key_secret":"K","audience":""}}"#,
            "assertion.audience",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"assertion":{"key_secret":"K","claims":[""]}}"#,
            "assertion.claims",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"assertion":{"key_secret":"K","key":"{}"}}"#,
            "unknown field",
        ),
        (
            r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"mode":"verdict","assertion":{"key_secret":"K"}}"#,
            "assertion",
        ),
    ] {
        assert_eq!(
            EdgeConfig::from_json(json).unwrap_err(),
            Error::config_invalid(field),
            "{json}"
        );
    }
    // http on loopback only with the dev flag; an HMAC-only issuer needs no JWKS.
    assert!(EdgeConfig::from_json(r#"{"dev_allow_http_loopback":true,"issuers":[{"issuer":"a","jwks_uri":"http://127.0.0.1:8788/.well-known/jwks.json"}]}"#).is_ok());
    assert!(EdgeConfig::from_json(r#"{"dev_allow_http_loopback":true,"issuers":[{"issuer":"a","jwks_uri":"http://example.com/j"}]}"#).is_err());
    let hs =
        EdgeConfig::from_json(r#"{"issuers":[{"issuer":"a","hmac_secret":"API_KEY_SECRET"}]}"#)
            .unwrap();
    assert!(hs
        .verify_options(&hs.issuers[0])
        .unwrap()
        .algorithms
        .iter()
        .all(|a| a.is_symmetric()));
}

/// Issue 14 finding 9: a JWKS URI is parsed, never prefix-matched. Userinfo is refused
/// everywhere; plain http only to exactly 127.0.0.1, [::1] or localhost, and only when
/// the development flag allows it.
#[test]
fn jwks_uris_are_parsed_not_prefix_matched() {
    use jwt_edge::internals::jwks_uri_allowed;
    // (uri, allowed without the dev flag, allowed with it)
    let table: &[(&str, bool, bool)] = &[
        ("https://issuer.example/jwks.json", true, true),
        ("HTTPS://issuer.example/jwks.json", true, true),
        ("https://issuer.example:8443/jwks.json?v=1", true, true),
        ("https://issuer.example", true, true),
        ("https://[2001:db8::1]/jwks.json", true, true),
        ("http://127.0.0.1/jwks.json", false, true),
        ("http://127.0.0.1:8788/jwks.json", false, true),
        ("http://localhost:8788/jwks.json", false, true),
        ("http://LOCALHOST/jwks.json", false, true),
        ("http://[::1]:8788/jwks.json", false, true),
        ("http://127.0.0.1?x", false, true),
        // Userinfo: the host is evil.example, whatever the URI starts with.
        ("http://127.0.0.1:1@evil.example/jwks.json", false, false),
        ("http://localhost@evil.example/jwks.json", false, false),
        ("http://localhost:80@evil.example/", false, false),
        ("https://user:pass@issuer.example/jwks.json", false, false),
        ("https://@issuer.example/jwks.json", false, false),
        // Not loopback, or not exactly.
        ("http://issuer.example/jwks.json", false, false),
        ("http://127.0.0.1.evil.example/jwks.json", false, false),
        ("http://localhost.evil.example/jwks.json", false, false),
        ("http://127.1/jwks.json", false, false),
        ("http://[::ffff:127.0.0.1]/jwks.json", false, false),
        ("http://0x7f.0.0.1/jwks.json", false, false),
        // What a WHATWG parser would read differently, or a malformed authority.
        ("http://localhost\\@evil.example/", false, false),
        ("https://issuer.example\\@x/", false, false),
        ("http://local%68ost/jwks.json", false, false),
        ("http://127.0.0.1:/jwks.json", false, false),
        ("http://127.0.0.1:99999/jwks.json", false, false),
        ("http://127.0.0.1:8a/jwks.json", false, false),
        ("http://[::1/jwks.json", false, false),
        ("http://[::1]x/jwks.json", false, false),
        ("http://[fe80::1%25eth0]/jwks.json", false, false),
        ("https:///jwks.json", false, false),
        ("https://", false, false),
        ("https://issuer.example/jwks.json#frag", false, false),
        ("https://issuer .example/", false, false),
        ("https://issuer.example/\njwks", false, false),
        ("https://issuér.example/", false, false),
        ("ftp://issuer.example/jwks.json", false, false),
        ("//issuer.example/jwks.json", false, false),
        ("file:///etc/passwd", false, false),
        ("", false, false),
    ];
    for &(uri, plain, dev) in table {
        assert_eq!(
            jwks_uri_allowed(uri, false),
            plain,
            "{uri} without the dev flag"
        );
        assert_eq!(jwks_uri_allowed(uri, true), dev, "{uri} with the dev flag");
    }
    let long = format!("https://issuer.example/{}", "a".repeat(3000));
    assert!(!jwks_uri_allowed(&long, false));

    // The worker's configuration uses the same rule.
    let config = |uri: &str| {
        EdgeConfig::from_json(&format!(
            r#"{{"issuers":[{{"issuer":"https://a","jwks_uri":"{uri}"}}],"dev_allow_http_loopback":true}}"#
        ))
    };
    assert!(config("http://127.0.0.1:1/j").is_ok());
    assert_eq!(
        config("http://127.0.0.1:1@evil.example/jwks.json")
            .unwrap_err()
            .to_string(),
        "invalid configuration: `issuers.jwks_uri`"
    );
}

/// Issue 14 findings 6 and 7: the published set's KV key can never be a snapshot's.
#[test]
fn publish_kv_key_cannot_be_a_snapshot_key() {
    for key in ["jwks:v2:abc", "jwks:v1:abc", "jwks:", "jwks:anything"] {
        let json = format!(
            r#"{{"issuers":[{{"issuer":"https://a","jwks_uri":"https://a/j"}}],"publish_jwks":{{"kv_key":"{key}"}}}}"#
        );
        assert_eq!(
            EdgeConfig::from_json(&json).unwrap_err().to_string(),
            "invalid configuration: `publish_jwks.kv_key`",
            "{key}"
        );
    }
    let ok = r#"{"issuers":[{"issuer":"https://a","jwks_uri":"https://a/j"}],"publish_jwks":{"kv_key":"published-jwks"}}"#;
    assert!(EdgeConfig::from_json(ok).is_ok());
}

/// The proxy's `origin` is parsed by the same strict rule as a JWKS URI (without the
/// loopback restriction): no userinfo, so the host the config names is the one fetched.
#[test]
fn origin_is_parsed_not_prefix_matched() {
    let with = |origin: &str| {
        EdgeConfig::from_json(&format!(
            r#"{{"issuers":[{{"issuer":"https://a","jwks_uri":"https://a/j"}}],"origin":{}}}"#,
            serde_json::Value::String(origin.to_owned())
        ))
    };
    for ok in [
        "https://origin.internal.example",
        "http://10.0.0.7:8080",
        "https://origin.example/base",
        "http://127.0.0.1:9000/",
    ] {
        assert!(with(ok).is_ok(), "{ok}");
    }
    for bad in [
        "https://origin.example@evil.example",
        "http://127.0.0.1:1@evil.example/",
        "https://origin.example/?x=1",
        "https://origin.example/#f",
        "https://origin.example\\@evil.example",
        "ftp://origin.example",
        "https://",
        "origin.example",
    ] {
        assert_eq!(
            with(bad).unwrap_err(),
            Error::config_invalid("origin"),
            "{bad}"
        );
    }
}

#[test]
fn discovery_and_presets_resolve() {
    let config = EdgeConfig::from_json(
        r#"{"issuers":[
            {"issuer":"https://tenant.us.auth0.com/"},
            {"issuer":"https://b.example","hmac_secret":"B"},
            {"issuer":"https://c.example","hmac_secret":"C","discovery":true},
            {"issuer":"https://d.example","jwks_uri":"https://d.example/k"},
            {"issuer":"http://127.0.0.1:8080/realms/a","audiences":["x"]}
        ],"dev_allow_http_loopback":true}"#,
    )
    .unwrap();
    let discovers: Vec<bool> = config.issuers.iter().map(|i| i.discovers).collect();
    assert_eq!(discovers, [true, false, true, false, true]);
    // A preset: expanded, its source used when `sources` is absent, its fields overridable.
    let config = EdgeConfig::from_json(
        r#"{"issuers":[{"preset":"cloudflare-access","team_domain":"myteam.cloudflareaccess.com","audience":"aud-1","algorithms":["RS256","ES256"]}]}"#,
    )
    .unwrap();
    let issuer = &config.issuers[0];
    assert_eq!(issuer.issuer, "https://myteam.cloudflareaccess.com");
    assert_eq!(
        issuer.jwks_uri.as_deref(),
        Some("https://myteam.cloudflareaccess.com/cdn-cgi/access/certs")
    );
    assert!(!issuer.discovers);
    assert_eq!(issuer.options.claims.audiences, ["aud-1"]);
    assert_eq!(issuer.options.algorithms.len(), 2);
    assert_eq!(
        serde_json::to_value(&config.sources).unwrap(),
        serde_json::json!([{"type": "header", "name": "Cf-Access-Jwt-Assertion"}])
    );
    assert_eq!(config.presets[0].overridden, ["algorithms"]);
    let config = EdgeConfig::from_json(
        r#"{"issuers":[{"preset":"cloudflare-access","team_domain":"t.cloudflareaccess.com","audience":"a"}],"sources":[{"type":"cookie","name":"CF_Authorization"}]}"#,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&config.sources).unwrap(),
        serde_json::json!([{"type": "cookie", "name": "CF_Authorization"}])
    );
}
