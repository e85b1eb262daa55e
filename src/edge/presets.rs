//! Identity-provider presets: an issuer entry written as `{"preset": NAME, …}` is
//! expanded into the plain entry it stands for before anything else reads the
//! configuration, so a preset can do nothing a written-out entry cannot. Every member
//! given next to the preset overrides the expansion's, field by field; what was
//! expanded and what was overridden is returned for the worker to log.
//!
//! `cloudflare-access` (Cloudflare Zero Trust Access, "Validate JWTs"):
//! `{"preset": "cloudflare-access", "team_domain": "myteam.cloudflareaccess.com",
//! "audience": "<application AUD tag>"}` is the issuer `https://myteam.cloudflareaccess.com`,
//! its keys at `https://myteam.cloudflareaccess.com/cdn-cgi/access/certs`, RS256 only, the
//! audience required (without it, a token Access issued for one application is accepted
//! by every other application of the team), and the token read from the
//! `Cf-Access-Jwt-Assertion` header unless top-level `sources` says otherwise.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::token::extract::TokenSource;

/// The header Cloudflare Access sets on every request it lets through.
pub const ACCESS_HEADER: &str = "Cf-Access-Jwt-Assertion";

/// What one preset expanded to, as logged (`preset_expanded`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expansion {
    /// The preset's name.
    pub preset: &'static str,
    /// The issuer entry after expansion and overrides (the members the preset sets).
    pub issuer: String,
    /// The key set URI.
    pub jwks_uri: Option<String>,
    /// The algorithms allowed.
    pub algorithms: Value,
    /// The audiences required.
    pub audiences: Value,
    /// The token source the preset asks for (used when top-level `sources` is absent;
    /// the log line shows the sources in effect instead).
    #[serde(skip)]
    pub source: TokenSource,
    /// Members given next to the preset that replaced the expansion's.
    pub overridden: Vec<String>,
}

/// Expands every preset entry of `issuers` in place (the parsed `JWT_EDGE_CONFIG`
/// object). Returns the expansions in order. An unknown preset, or a preset's own field
/// missing or malformed, is refused naming the field.
pub fn expand(config: &mut Map<String, Value>) -> Result<Vec<Expansion>, Error> {
    let mut expansions = Vec::new();
    let Some(Value::Array(issuers)) = config.get_mut("issuers") else {
        return Ok(expansions);
    };
    for entry in issuers.iter_mut() {
        let Some(object) = entry.as_object_mut() else {
            continue;
        };
        let Some(preset) = object.remove("preset") else {
            continue;
        };
        match preset.as_str() {
            Some("cloudflare-access") => expansions.push(cloudflare_access(object)?),
            _ => return Err(Error::config_invalid("issuers.preset")),
        }
    }
    Ok(expansions)
}

fn cloudflare_access(entry: &mut Map<String, Value>) -> Result<Expansion, Error> {
    let team = entry
        .remove("team_domain")
        .and_then(|v| v.as_str().map(str::to_owned))
        .filter(|team| is_host_name(team))
        .ok_or(Error::config_invalid("issuers.team_domain"))?;
    let audience = match entry.remove("audience") {
        None => None,
        Some(Value::String(aud)) if !aud.is_empty() => Some(Value::Array(vec![aud.into()])),
        Some(Value::Array(list))
            if !list.is_empty()
                && list
                    .iter()
                    .all(|a| a.as_str().is_some_and(|a| !a.is_empty())) =>
        {
            Some(Value::Array(list))
        }
        Some(_) => return Err(Error::config_invalid("issuers.audience")),
    };
    // The audience is the one thing the preset cannot know; `audiences` given next to
    // it serves, nothing else does.
    if audience.is_none() && !entry.contains_key("audiences") {
        return Err(Error::config_invalid("issuers.audience"));
    }
    let issuer = format!("https://{team}");
    let defaults = [
        ("issuer", Value::String(issuer.clone())),
        (
            "jwks_uri",
            Value::String(format!("{issuer}/cdn-cgi/access/certs")),
        ),
        ("algorithms", Value::Array(vec!["RS256".into()])),
        ("audiences", audience.unwrap_or(Value::Null)),
    ];
    let mut overridden = Vec::new();
    for (name, value) in defaults {
        if entry.contains_key(name) {
            overridden.push(name.to_owned());
        } else if !value.is_null() {
            entry.insert(name.to_owned(), value);
        }
    }
    let text = |name: &str| entry.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(Expansion {
        preset: "cloudflare-access",
        issuer: text("issuer").unwrap_or_default(),
        jwks_uri: text("jwks_uri"),
        algorithms: entry.get("algorithms").cloned().unwrap_or(Value::Null),
        audiences: entry.get("audiences").cloned().unwrap_or(Value::Null),
        source: TokenSource::Header {
            name: ACCESS_HEADER.to_owned(),
            prefix: None,
        },
        overridden,
    })
}

/// A DNS host name as Access team domains are: dot-separated labels of ASCII letters,
/// digits and `-`, at most 253 bytes; no scheme, port, path or userinfo.
fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expanded(entry: Value) -> Result<(Value, Vec<Expansion>), Error> {
        let mut config = json!({ "issuers": [entry] });
        let object = config.as_object_mut().unwrap();
        let expansions = expand(object)?;
        Ok((config["issuers"][0].clone(), expansions))
    }

    #[test]
    fn access_expands_and_overrides_field_by_field() {
        let (entry, exp) = expanded(json!({
            "preset": "cloudflare-access", "team_domain": "myteam.cloudflareaccess.com",
            "audience": "aud-tag"
        }))
        .unwrap();
        assert_eq!(
            entry,
            json!({
                "issuer": "https://myteam.cloudflareaccess.com",
                "jwks_uri": "https://myteam.cloudflareaccess.com/cdn-cgi/access/certs",
                "algorithms": ["RS256"], "audiences": ["aud-tag"]
            })
        );
        assert_eq!(exp[0].overridden, Vec::<String>::new());
        let (entry, exp) = expanded(json!({
            "preset": "cloudflare-access", "team_domain": "t.cloudflareaccess.com",
            "audiences": ["a", "b"], "algorithms": ["RS256", "ES256"], "replay": "best-effort"
        }))
        .unwrap();
        assert_eq!(entry["algorithms"], json!(["RS256", "ES256"]));
        assert_eq!(entry["audiences"], json!(["a", "b"]));
        assert_eq!(entry["replay"], json!("best-effort"));
        assert_eq!(exp[0].overridden, ["algorithms", "audiences"]);
    }

    #[test]
    fn access_refusals_name_the_field() {
        for (entry, field) in [
            (
                json!({"preset": "cloudflare-access", "team_domain": "t.example"}),
                "issuers.audience",
            ),
            (
                json!({"preset": "cloudflare-access", "team_domain": "t.example", "audience": ""}),
                "issuers.audience",
            ),
            (
                json!({"preset": "cloudflare-access", "team_domain": "t.example", "audience": [1]}),
                "issuers.audience",
            ),
            (
                json!({"preset": "cloudflare-access", "audience": "a"}),
                "issuers.team_domain",
            ),
            (
                json!({"preset": "cloudflare-access", "team_domain": "https://t.example", "audience": "a"}),
                "issuers.team_domain",
            ),
            (
                json!({"preset": "cloudflare-access", "team_domain": "t.example/x", "audience": "a"}),
                "issuers.team_domain",
            ),
            (
                json!({"preset": "cloudflare-access", "team_domain": "u@t.example", "audience": "a"}),
                "issuers.team_domain",
            ),
            (
                json!({"preset": "auth0", "team_domain": "t.example", "audience": "a"}),
                "issuers.preset",
            ),
            (json!({"preset": 1}), "issuers.preset"),
        ] {
            assert_eq!(
                expanded(entry.clone()).unwrap_err(),
                Error::config_invalid(field),
                "{entry}"
            );
        }
    }
}
